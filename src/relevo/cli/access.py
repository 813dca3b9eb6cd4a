"""``relevo access``: the records behind the customer's links, codes and rate limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from relevo.bootstrap import build_access
from relevo.cli.common import failures, minute, open_hub, out
from relevo.services.access.retention import purge_expired

app = typer.Typer(
    help="The customer's access records: link uses, one-time codes, rate-limit counts.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)


@app.command("purge")
def purge(
    older_than: Annotated[
        int,
        typer.Option(
            "--older-than",
            min=1,
            metavar="HOURS",
            help="Keep what expired (or whose window ended) within this many hours.",
        ),
    ],
) -> None:
    """Delete the link uses and one-time codes that expired more than HOURS hours ago and
    the rate-limit counts of windows that ended more than HOURS hours ago (retention).
    A link's uses stay while the link is valid, so a used-up link never works again."""
    with failures(), open_hub() as hub:
        purged = purge_expired(build_access(hub.store), hub.clock, timedelta(hours=older_than))
    out.print(
        f"deleted {purged['link_uses']} link use(s), {purged['codes']} code(s) and "
        f"{purged['rate_limits']} rate-limit count(s) that ended before "
        f"{minute(purged['before'])} UTC",
        markup=False,
    )
