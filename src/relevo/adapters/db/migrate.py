"""Schema migrations, run from code: no ``alembic.ini`` is needed at runtime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from relevo.adapters.db.engine import create_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration pointing at the packaged migrations (and at ``url``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # ConfigParser interpolation would choke on "%" in passwords.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(target: sa.Engine | str, revision: str = "head") -> None:
    """Migrate the database behind an engine or URL up to ``revision`` (default: latest)."""
    _run(target, lambda config: command.upgrade(config, revision))


def downgrade(target: sa.Engine | str, revision: str) -> None:
    """Migrate the database behind an engine or URL down to ``revision`` (``"base"``: empty)."""
    _run(target, lambda config: command.downgrade(config, revision))


def head_revision() -> str | None:
    """The newest revision the code ships."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(target: sa.Engine | str) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    engine, owned = _engine(target)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        if owned:
            engine.dispose()


def _engine(target: sa.Engine | str) -> tuple[sa.Engine, bool]:
    if isinstance(target, sa.Engine):
        return target, False
    return create_engine(target), True


def _run(target: sa.Engine | str, step: Callable[[Config], None]) -> None:
    engine, owned = _engine(target)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            step(config)
    finally:
        if owned:
            engine.dispose()
