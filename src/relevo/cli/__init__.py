"""The ``relevo`` command line: serve the API, ingest files, run maintenance."""

from __future__ import annotations

import typer
from rich.markup import escape

from relevo.cli import access, db, dead_letters, definitions, keys, outbox, subscriptions
from relevo.cli.common import err
from relevo.cli.demo import demo
from relevo.cli.ingest import ingest_command
from relevo.cli.rebuild import rebuild_command
from relevo.cli.serve import serve
from relevo.cli.simulate import simulate_command
from relevo.cli.worker import worker_command

app = typer.Typer(
    name="relevo",
    help="relevo: one live, trusted process per customer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Docstrings are wrapped at 100 columns in the source; markdown joins their lines again.
    rich_markup_mode="markdown",
)
app.command("serve")(serve)
app.command("demo")(demo)
app.command("ingest")(ingest_command)
app.command("rebuild")(rebuild_command)
app.command("simulate")(simulate_command)
app.command("worker")(worker_command)
app.add_typer(db.app, name="db")
app.add_typer(definitions.app, name="definitions")
app.add_typer(keys.app, name="keys")
app.add_typer(dead_letters.app, name="dead-letters")
app.add_typer(outbox.app, name="outbox")
app.add_typer(access.app, name="access")
app.add_typer(subscriptions.app, name="subscriptions")


def main() -> None:
    """Run the command line; an error escaping a command prints one line and exits 1."""
    try:
        app()
    except Exception as error:
        message = escape(f"{type(error).__name__}: {error}")
        err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
        raise SystemExit(1) from None


__all__ = ["app", "main"]
