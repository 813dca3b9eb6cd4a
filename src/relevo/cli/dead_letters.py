"""``relevo dead-letters``: inspect and replay messages that could not be processed."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.padding import Padding
from rich.text import Text

from relevo.cli.common import failures, minute, open_hub, out
from relevo.domain.model import JSON, Outcome

app = typer.Typer(
    help="Messages kept because they could not be processed.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

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
    # One block per letter rather than a table: reasons are sentences, and ids, sources
    # and message ids must never be cut short to fit a column.
    for letter in letters:
        received = minute(letter["received_at"])
        out.print(f"#{letter['id']}  {letter['status']}  received {received} UTC", markup=False)
        out.print(Padding(Text(_origin(letter), style="dim"), (0, 0, 0, 4), expand=False))
        out.print(Padding(Text(letter["reason"]), (0, 0, 0, 4), expand=False))
        if letter["resolved_at"]:
            resolution = f"{letter['status']} at {minute(letter['resolved_at'])} UTC"
            if letter["resolution"]:
                resolution += f": {letter['resolution']}"
            out.print(Padding(Text(resolution, style="dim"), (0, 0, 0, 4), expand=False))
    out.print(f"{len(letters)} dead letter(s) with status {status}.")
    if status == "open" and letters:
        out.print("Replay one with 'relevo dead-letters replay ID' once its cause is fixed.")


def _origin(letter: JSON) -> str:
    """``from SOURCE · message ID · type TYPE``, leaving out what the message lacked."""
    parts = [f"from {letter['source']}"]
    if letter["message_id"]:
        parts.append(f"message {letter['message_id']}")
    if letter["type"]:
        parts.append(f"type {letter['type']}")
    return " · ".join(parts)


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
