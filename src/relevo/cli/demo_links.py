"""The demo's customer links: one signed link per situation worth showing on the customer's
page (switch scheduled, ID rejected, document missing, postponed, completed, cancelled, a
customer with several processes), read from the simulated database."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta

from relevo.domain.model import ProcessState
from relevo.services.hub import Hub
from relevo.services.notifications.links import page_link, sign_token

#: How long the printed links stay valid.
DEMO_LINK_LIFETIME = timedelta(days=7)
#: How many recent processes of each kind are looked through for each situation.
SCANNED = 500

Situation = tuple[str, Callable[[ProcessState], bool]]

SITUATIONS: tuple[Situation, ...] = (
    ("switch scheduled", lambda s: s.active and s.stage == "scheduled"),
    ("donor rejected the ID", lambda s: "RECH_IDENT" in s.open_incidents()),
    (
        "document missing",
        lambda s: s.active and any(r["state"] == "missing" for r in s.requirements.values()),
    ),
    ("postponed", lambda s: any(h.get("ref") == "postpone" for h in s.history)),
    ("completed", lambda s: s.status == "completed"),
    ("cancelled", lambda s: s.status == "cancelled"),
)


def customer_links(hub: Hub, secret: str, base_url: str) -> list[tuple[str, str]]:
    """``(situation, link)`` for each situation found among recent processes (mobile number
    ports first, then any kind), plus a customer with several processes."""
    states = _recent_states(hub)
    expires = hub.clock() + DEMO_LINK_LIFETIME

    def link(state: ProcessState) -> str:
        token = sign_token(secret, state.id, state.customer_id, expires)
        return page_link(base_url, token)

    rows: list[tuple[str, str]] = []
    for label, fits in SITUATIONS:
        found = next((state for state in states if fits(state)), None)
        if found is not None:
            rows.append((f"{label} ({found.kind})", link(found)))
    several = _with_several(states)
    if several is not None:
        rows.append(("a customer with several processes (see /my)", link(several)))
    return rows


def _recent_states(hub: Hub) -> list[ProcessState]:
    """Recent processes, mobile number ports first."""
    kinds = sorted(hub.catalog.kinds(), key=lambda kind: kind != "mobile_port_in")
    ids: list[str] = []
    for kind in kinds:
        ids += [row["id"] for row in hub.find(kind=kind, limit=SCANNED)]
    loaded = hub.states(ids)
    return [loaded[i] for i in ids if i in loaded]


def _with_several(states: Iterable[ProcessState]) -> ProcessState | None:
    """A process of the first customer seen with more than one process."""
    seen: dict[str, ProcessState] = {}
    for state in states:
        if state.customer_id in seen:
            return seen[state.customer_id]
        seen[state.customer_id] = state
    return None
