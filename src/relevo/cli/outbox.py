"""``relevo outbox``: see what the worker delivers and replay what failed."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from relevo.cli.common import failures, minute, open_hub, out
from relevo.services import outbox_admin
from relevo.services.delivery_records import OUTBOX_STATUSES

app = typer.Typer(
    help="Outbound messages: webhooks, notifications, CRM summaries.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command("list")
def list_command(
    status: Annotated[str, typer.Option(help="pending, sent, superseded, dead or all.")] = "dead",
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 100,
    after: Annotated[int, typer.Option(min=0, help="Only ids greater than this.")] = 0,
) -> None:
    """List outbox messages of one status, oldest first."""
    if status not in (*OUTBOX_STATUSES, "all"):
        choices = ", ".join((*OUTBOX_STATUSES, "all"))
        raise typer.BadParameter(f"use one of {choices}", param_hint="--status")
    with failures(), open_hub() as hub:
        wanted = None if status == "all" else status
        entries = outbox_admin.entries(hub.store, wanted, after=after, limit=limit)
    for e in entries:
        out.print(
            f"#{e['id']}  {e['status']}  {e['topic']}  process {e['process_id']}  "
            f"{e['attempts']} attempt(s)  written {minute(e['created_at'])} UTC",
            markup=False,
        )
        if e["last_error"]:
            out.print(f"    {e['last_error']}", markup=False)
    out.print(f"{len(entries)} message(s) with status {status}.")
    if entries and status == "dead":
        out.print("Replay one with 'relevo outbox replay ID' once its receiver is fixed.")


@app.command("replay")
def replay(outbox_id: Annotated[int, typer.Argument(help="The message's id.")]) -> None:
    """Make a dead (or sent, or superseded) message pending again: the worker delivers it
    once more, under the same message id."""
    with failures(), open_hub() as hub:
        entry = outbox_admin.replay(hub.store, outbox_id, hub.clock)
    out.print(f"outbox message {entry['id']} ({entry['topic']}) is pending again", markup=False)


@app.command("purge")
def purge(
    older_than: Annotated[
        int,
        typer.Option(
            "--older-than",
            min=1,
            metavar="DAYS",
            help="Keep the attempts of messages finished within this many days.",
        ),
    ],
) -> None:
    """Delete the delivery attempts of messages sent or superseded more than DAYS days
    ago (retention). Pending and dead messages keep theirs; the messages themselves and
    the send log stay."""
    with failures(), open_hub() as hub:
        purged = outbox_admin.purge_attempts(hub.store, hub.clock, timedelta(days=older_than))
    out.print(
        f"deleted {purged['attempts']} attempt(s) of {purged['messages']} message(s) "
        f"finished before {minute(purged['before'])} UTC",
        markup=False,
    )
