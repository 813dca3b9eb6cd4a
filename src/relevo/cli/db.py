"""``relevo db``: schema migrations."""

from __future__ import annotations

import typer

from relevo.bootstrap import migrate, schema_revisions
from relevo.cli.common import failures, out
from relevo.config import Settings

app = typer.Typer(help="Database schema.", no_args_is_help=True, rich_markup_mode="markdown")


@app.command("upgrade")
def upgrade_command() -> None:
    """Migrate the database in RELEVO_DATABASE_URL to the latest schema."""
    with failures():
        settings = Settings.from_env()
        before = migrate(settings)
        _, head = schema_revisions(settings)
    if before == head:
        out.print(f"The database is already at the latest schema ({head}).")
    else:
        out.print(f"Migrated the database from {before or 'empty'} to {head}.")


@app.command("current")
def current_command() -> None:
    """Show the schema revision of the database and the one the code needs."""
    with failures():
        revision, head = schema_revisions(Settings.from_env())
    state = "up to date" if revision == head else "run 'relevo db upgrade'"
    out.print(f"database: {revision or 'empty'}  code: {head}  ({state})")
