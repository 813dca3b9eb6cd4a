"""The in-memory store's outbound side: outbox leases, delivery attempts and webhook
subscriptions, with the SQL store's behaviour (see ``relevo.adapters.db.outbox_queries``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from relevo.adapters.memory.tables import Tables, copy_json
from relevo.services.delivery_records import (
    DEAD,
    PENDING,
    SENT,
    SUPERSEDED,
    AttemptRow,
    BacklogCount,
    DeliveryAttempt,
    OutboxEntry,
    OutboxStats,
    Subscription,
)


class OutboxTables:
    """Mixed into the in-memory unit of work, which provides the three hooks below."""

    @property
    def _tables(self) -> Tables:
        raise NotImplementedError

    def _change(self) -> Tables:
        raise NotImplementedError

    def _keep(self, changed: Tables) -> None:
        raise NotImplementedError

    def claim_outbox(
        self,
        worker: str,
        now: str,
        lease_until: str,
        limit: int,
        *,
        skip_topics: Sequence[str] = (),
    ) -> list[OutboxEntry]:
        """Lease due pending entries nobody holds to ``worker``, oldest due first."""
        skipped = set(skip_topics)
        due = sorted(
            (
                entry
                for entry in self._tables.deliveries.values()
                if entry.status == PENDING
                and entry.available_at <= now
                and (entry.claimed_until is None or entry.claimed_until < now)
                and entry.topic not in skipped
            ),
            key=lambda entry: (entry.available_at, entry.id),
        )[:limit]
        if not due:
            return []
        changed = self._change()
        claimed = [replace(e, claimed_by=worker, claimed_until=lease_until) for e in due]
        changed.deliveries.update((entry.id, entry) for entry in claimed)
        self._keep(changed)
        return claimed

    def record_attempts(self, worker: str, attempts: Sequence[AttemptRow]) -> int:
        """Record every attempt; move the entries ``worker`` still holds and free them."""
        if not attempts:
            return 0
        changed = self._change()
        moved = 0
        for a in attempts:
            for send in a.sends:
                changed.sends.setdefault(send.business_key, (send.recipient, send.channel, send.at))
            attempt_id = changed.next_id("delivery_attempts")
            facts = None if a.facts is None else copy_json(a.facts)
            changed.attempts.append(
                DeliveryAttempt(
                    attempt_id,
                    a.outbox_id,
                    a.process_id,
                    a.topic,
                    a.attempt,
                    a.at,
                    a.outcome,
                    a.detail,
                    facts,
                )
            )
            entry = changed.deliveries.get(a.outbox_id)
            if entry is None or entry.claimed_by != worker:
                continue
            changed.deliveries[a.outbox_id] = replace(
                entry,
                status=a.status,
                attempts=a.attempts,
                available_at=a.available_at,
                sent_at=a.at if a.status == SENT else None,
                last_error=a.detail if a.status in (PENDING, DEAD) else None,
                claimed_by=None,
                claimed_until=None,
            )
            moved += 1
        self._keep(changed)
        return moved

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        """The business keys among ``keys`` that a recorded attempt sent."""
        return {key for key in keys if key in self._tables.sends}

    def count_sends(self, recipient: str, since: str) -> int:
        """How many recorded sends went to ``recipient`` at or after ``since``."""
        sends = self._tables.sends.values()
        return sum(1 for to, _, at in sends if to == recipient and at >= since)

    def outbox_entries(
        self, status: str | None = None, *, after: int = 0, limit: int = 100
    ) -> list[OutboxEntry]:
        """Entries with an id greater than ``after``, of one status, in the order written."""
        entries = sorted(self._tables.deliveries.values(), key=lambda entry: entry.id)
        return [e for e in entries if e.id > after and status in (None, e.status)][:limit]

    def get_outbox_entry(self, id: int) -> OutboxEntry | None:
        """One outbox entry by id, or ``None``."""
        return self._tables.deliveries.get(id)

    def replay_outbox(self, id: int, now: str) -> OutboxEntry:
        """Make a finished entry pending again from ``now``, its attempts count reset."""
        entry = self._tables.deliveries.get(id)
        if entry is None:
            raise LookupError(f"no outbox message {id}")
        if entry.status == PENDING:
            raise ValueError(f"outbox message {id} is still pending")
        changed = self._change()
        replayed = replace(
            entry,
            status=PENDING,
            attempts=0,
            available_at=now,
            claimed_by=None,
            claimed_until=None,
            last_error=None,
        )
        changed.deliveries[id] = replayed
        self._keep(changed)
        return replayed

    def delivery_attempts(
        self, *, process_id: str | None = None, outbox_id: int | None = None, limit: int = 1000
    ) -> list[DeliveryAttempt]:
        """Recorded attempts of one process's or one entry's messages, oldest first."""
        return [
            a
            for a in self._tables.attempts
            if process_id in (None, a.process_id) and outbox_id in (None, a.outbox_id)
        ][:limit]

    def outbox_stats(self, now: str) -> OutboxStats:
        """Entries per topic and status, attempts per outcome, the oldest due entry."""
        entries = self._tables.deliveries.values()
        backlog = Counter((e.topic, e.status) for e in entries)
        return OutboxStats(
            backlog=[BacklogCount(topic, status, n) for (topic, status), n in backlog.items()],
            attempts=dict(Counter(a.outcome for a in self._tables.attempts)),
            oldest_due=self.oldest_due_outbox(now),
        )

    def purge_attempts(self, before: str, limit: int) -> tuple[int, int]:
        """Delete the attempts of up to ``limit`` finished entries whose last attempt was
        before ``before``; how many entries and attempts."""
        last: dict[int, str] = {}
        for a in self._tables.attempts:
            last[a.outbox_id] = max(a.at, last.get(a.outbox_id, a.at))
        deliveries = self._tables.deliveries
        finished = sorted(
            id
            for id, at in last.items()
            if at < before and id in deliveries and deliveries[id].status in (SENT, SUPERSEDED)
        )[:limit]
        if not finished:
            return 0, 0
        changed = self._change()
        purged = set(finished)
        before_purge = len(changed.attempts)
        changed.attempts = [a for a in changed.attempts if a.outbox_id not in purged]
        self._keep(changed)
        return len(finished), before_purge - len(changed.attempts)

    def oldest_due_outbox(self, now: str) -> str | None:
        """The ``available_at`` of the oldest pending entry due by ``now``."""
        entries = self._tables.deliveries.values()
        due = [e.available_at for e in entries if e.status == PENDING and e.available_at <= now]
        return min(due, default=None)

    def log_cursor(self, name: str) -> int:
        """Where the event-log reader ``name`` got to (0: the start)."""
        return self._tables.cursors.get(name, 0)

    def move_log_cursor(self, name: str, expected: int, position: int) -> bool:
        """Move reader ``name`` from ``expected`` to ``position`` unless another moved it."""
        if self._tables.cursors.get(name, 0) != expected:
            return False
        changed = self._change()
        changed.cursors[name] = position
        self._keep(changed)
        return True

    # -- webhook subscriptions --------------------------------------------------------

    def add_subscription(self, subscription: Subscription) -> None:
        """Store a new subscription."""
        changed = self._change()
        changed.subscriptions[subscription.id] = subscription
        self._keep(changed)

    def subscriptions(self) -> list[Subscription]:
        """Every subscription, oldest first."""
        found = self._tables.subscriptions.values()
        return sorted(found, key=lambda s: (s.created_at, s.id))

    def update_subscription(self, subscription: Subscription) -> None:
        """Replace the stored subscription of the same id; ``LookupError`` if unknown."""
        if subscription.id not in self._tables.subscriptions:
            raise LookupError(f"no subscription {subscription.id}")
        changed = self._change()
        changed.subscriptions[subscription.id] = subscription
        self._keep(changed)
