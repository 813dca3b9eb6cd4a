"""``relevo db``: schema migrations."""

from __future__ import annotations

import typer

from relevo.adapters.db.migrate import current_revision, head_revision, upgrade
from relevo.cli.common import failures, out
from relevo.config import Settings

app = typer.Typer(help="Database schema.", no_args_is_help=True, rich_markup_mode="markdown")


@app.command("upgrade")
def upgrade_command() -> None:
    """Migrate the database in RELEVO_DATABASE_URL to the latest schema."""
    with failures():
        url = Settings.from_env().database_url
        before = current_revision(url)
        upgrade(url)
        head = head_revision()
    if before == head:
        out.print(f"The database is already at the latest schema ({head}).")
    else:
        out.print(f"Migrated the database from {before or 'empty'} to {head}.")


@app.command("current")
def current_command() -> None:
    """Show the schema revision of the database and the one the code needs."""
    with failures():
        revision = current_revision(Settings.from_env().database_url)
        head = head_revision()
    state = "up to date" if revision == head else "run 'relevo db upgrade'"
    out.print(f"database: {revision or 'empty'}  code: {head}  ({state})")
