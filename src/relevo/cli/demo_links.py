"""The demo's customer links: one signed link per demo customer (see ``demo_customers``), as
a table of situation → link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from rich.box import SIMPLE
from rich.table import Table

from relevo.cli.demo_customers import Situation
from relevo.services.hub import Hub
from relevo.services.notifications.links import page_link, sign_token

#: How long the printed links stay valid.
DEMO_LINK_LIFETIME = timedelta(days=7)


@dataclass(frozen=True)
class CustomerLink:
    """What a demo link shows and the link itself."""

    situation: str
    customer_id: str
    link: str


def customer_links(
    hub: Hub, secret: str, base_url: str, built: list[tuple[Situation, str]]
) -> list[CustomerLink]:
    """A signed link to the page of each demo customer's process, valid a week."""
    expires = hub.clock() + DEMO_LINK_LIFETIME
    rows: list[CustomerLink] = []
    for situation, process_id in built:
        token = sign_token(secret, process_id, situation.customer_id, expires)
        rows.append(
            CustomerLink(situation.label, situation.customer_id, page_link(base_url, token))
        )
    return rows


def links_table(rows: list[CustomerLink]) -> tuple[Table, int]:
    """The table of situation → link, and the width it needs to print each link whole
    (a wrapped or shortened link would not open)."""
    table = Table(box=SIMPLE, show_header=True, header_style="bold", pad_edge=False)
    table.add_column("situation", no_wrap=True)
    table.add_column("customer", no_wrap=True)
    table.add_column("link", no_wrap=True)
    for row in rows:
        table.add_row(row.situation, row.customer_id, row.link)
    widest = [
        max((len(getattr(row, name)) for row in rows), default=0)
        for name in ("situation", "customer_id", "link")
    ]
    return table, sum(widest) + 8
