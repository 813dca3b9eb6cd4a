"""CRM milestone summaries: one short record per milestone a process reaches (started,
stage reached, incident opened or resolved, completed, cancelled, failed), derived from the
event log by the worker and delivered as webhooks of type ``crm.milestone``.

The reader follows the log with a cursor moved in the same transaction as the outbox rows
it writes, so a milestone is written once even with several workers. It reads only events
recorded ``settle`` seconds ago or earlier: on PostgreSQL a log position is given at
insert, so a transaction still open may yet commit a position below one already visible.
It writes rows only while some active subscription takes ``crm.milestone`` (the cursor
moves on regardless): the CRM gets the milestones from when it subscribed, not a replay
of history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import takewhile

from relevo.domain.model import JSON, TERMINAL_STATUSES, iso
from relevo.services.outbox_admin import CRM_TOPIC
from relevo.services.records import OutboxRow, StoredEvent, WriteBatch
from relevo.services.unit_of_work import Store
from relevo.services.webhooks import SubscriptionCache

CURSOR = "crm.milestones"


def milestones(stored: StoredEvent) -> list[tuple[str, str | None]]:
    """The ``(milestone, what it names)`` pairs one event reaches, in a fixed order."""
    effects = stored.event.effects
    found: list[tuple[str, str | None]] = []
    if stored.version == 1:
        found.append(("started", None))
    if "stage" in effects:
        found.append(("stage_reached", effects["stage"]))
    found.extend(("incident_opened", code) for code in effects.get("incidents_opened", {}))
    found.extend(("incident_resolved", code) for code in effects.get("incidents_resolved", ()))
    status = effects.get("status")
    if status in TERMINAL_STATUSES:
        found.append((str(status), None))
    return found


def milestone_rows(stored: StoredEvent, at: str) -> list[OutboxRow]:
    """The outbox rows (topic ``crm.milestone``) of one event's milestones."""
    rows = []
    for milestone, ref in milestones(stored):
        payload: JSON = {
            "process_id": stored.process_id,
            "milestone": milestone,
            "ref": ref,
            "at": stored.event.occurred_at,
            "event_type": stored.event.type,
            "version": stored.version,
        }
        key = f"{stored.process_id}:{stored.version}:crm:{milestone}" + (f":{ref}" if ref else "")
        rows.append(OutboxRow(stored.process_id, CRM_TOPIC, payload, key, at))
    return rows


class MilestoneReader:
    """A worker step: read the next events of the log and write their milestones."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime],
        subscriptions: SubscriptionCache,
        *,
        batch: int = 1000,
        settle: float = 5.0,
    ) -> None:
        self.store = store
        self.clock = clock
        self.subscriptions = subscriptions
        self.batch = batch
        self.settle = timedelta(seconds=settle)

    def __call__(self) -> int:
        """Write the milestones of up to ``batch`` new events; how many were written.

        While no subscription takes milestones the cursor moves on over the settled events
        without reading them (a subscription gets the milestones from its creation on)."""
        wanted = any(s.wants(CRM_TOPIC) for s in self.subscriptions.active())
        with self.store.unit_of_work() as uow:
            cursor = uow.log_cursor(CURSOR)
            now = self.clock()
            settled = iso(now - self.settle)
            if not wanted:
                moments = uow.event_moments(after=cursor, limit=self.batch)
                passed = [p for p, _ in takewhile(lambda m: m[1] <= settled, moments)]
                if passed and uow.move_log_cursor(CURSOR, cursor, passed[-1]):
                    uow.commit()
                return 0
            events = list(
                takewhile(
                    lambda e: e.event.recorded_at <= settled,
                    uow.read_events(after=cursor, limit=self.batch),
                )
            )
            if not events:
                return 0
            at = iso(now)
            rows = [row for e in events for row in milestone_rows(e, at)]
            if rows:
                uow.save(WriteBatch(outbox=rows, at=at))
            if not uow.move_log_cursor(CURSOR, cursor, events[-1].position):
                return 0  # another worker wrote these; leaving the block rolls back
            uow.commit()
        return len(rows)
