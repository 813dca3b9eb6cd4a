"""Alembic environment, configured from code by ``relevo.adapters.db.migrate``.

``migrate`` passes an open connection in ``config.attributes["connection"]``; the plain
``alembic`` command line may give ``sqlalchemy.url`` instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.tables import metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    # Batch mode lets later migrations alter SQLite tables (it copies the table); on
    # PostgreSQL it emits plain ALTER statements.
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _run_offline()
elif (given := config.attributes.get("connection")) is not None:
    _run(given)
else:
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url given to the migrations")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()
