"""``relevo dead-letters``: inspect and replay messages that could not be processed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from relevo.cli.common import failures, open_hub, out
from relevo.domain.model import Outcome

app = typer.Typer(help="Messages kept because they could not be processed.", no_args_is_help=True)

STATUSES = ("open", "replayed", "discarded", "all")


@app.command("list")
def list_command(
    status: Annotated[str, typer.Option(help="open, replayed, discarded or all.")] = "open",
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
) -> None:
    """List dead letters in arrival order."""
    if status not in STATUSES:
        raise typer.BadParameter(f"use one of {', '.join(STATUSES)}", param_hint="--status")
    with failures(), open_hub() as hub:
        letters = hub.dead_letters(None if status == "all" else status, limit)
    table = Table("id", "received", "source", "message id", "type", "status", "reason")
    for letter in letters:
        table.add_row(
            str(letter["id"]),
            letter["received_at"],
            letter["source"],
            letter["message_id"] or "",
            letter["type"] or "",
            letter["status"],
            letter["reason"],
        )
    out.print(table)
    out.print(f"{len(letters)} dead letter(s) with status {status}.")


@app.command("replay")
def replay(dead_letter_id: Annotated[int, typer.Argument(help="The dead letter's id.")]) -> None:
    """Send a dead letter through ingest again; exits 1 if it is rejected again."""
    with failures(), open_hub() as hub:
        result = hub.replay_dead_letter(dead_letter_id)
    where = f" -> process {result.process_id}" if result.process_id else ""
    out.print(f"dead letter {dead_letter_id}: {result.outcome.value}{where}")
    if result.reason:
        out.print(f"reason: {result.reason}", markup=False)
    if result.outcome is Outcome.REJECTED:
        raise typer.Exit(1)
