"""``relevo subscriptions``: the webhook receivers of integration messages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from relevo.cli.common import failures, open_hub, out
from relevo.services import subscriptions

app = typer.Typer(
    help="Webhook subscriptions (URL, event types, signing secret).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command("create")
def create(
    url: Annotated[str, typer.Argument(help="Where to post (http:// or https://).")],
    event: Annotated[
        list[str], typer.Option("--event", "-e", help="An event type to receive ('*': all).")
    ],
) -> None:
    """Subscribe URL to event types; prints the signing secret, shown this once."""
    with failures(), open_hub() as hub:
        created, secret = subscriptions.create(hub.store, url, event, hub.clock)
    out.print(f"subscription {created.id} -> {created.url}", markup=False)
    out.print(f"signing secret (shown once, keep it now): {secret}", markup=False, soft_wrap=True)


@app.command("list")
def list_command() -> None:
    """List every subscription (secrets are never shown again)."""
    with failures(), open_hub() as hub:
        found = subscriptions.listing(hub.store)
    # One line per subscription rather than a table: ids and URLs must never be cut short.
    for s in found:
        state = "active" if s.active else "inactive"
        line = f"{s.id}  {state}  {s.url}  types: {', '.join(s.event_types)}"
        if s.previous_until:
            line += f"  (previous secret signs until {s.previous_until})"
        out.print(line, markup=False, soft_wrap=True)
    out.print(f"{len(found)} subscription(s).")


@app.command("rotate")
def rotate(
    subscription_id: Annotated[str, typer.Argument(help="The subscription's id.")],
    overlap_hours: Annotated[
        float, typer.Option(min=0, help="Hours the old secret keeps signing beside the new.")
    ] = 24.0,
) -> None:
    """Give a subscription a new secret (shown this once); the old one signs too for the
    overlap, so the receiver can switch without missing a message."""
    with failures(), open_hub() as hub:
        rotated, secret = subscriptions.rotate(
            hub.store, subscription_id, hub.clock, timedelta(hours=overlap_hours)
        )
    out.print(
        f"new signing secret of {rotated.id} (shown once): {secret}", markup=False, soft_wrap=True
    )
    if rotated.previous_until:
        out.print(f"the previous secret signs too until {rotated.previous_until}", markup=False)


@app.command("deactivate")
def deactivate(subscription_id: Annotated[str, typer.Argument(help="The id.")]) -> None:
    """Stop delivering to a subscription."""
    with failures(), open_hub() as hub:
        stopped = subscriptions.deactivate(hub.store, subscription_id)
    out.print(f"subscription {stopped.id} is inactive", markup=False)
