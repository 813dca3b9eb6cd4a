"""The outbound side of the store: claiming outbox entries under a lease, recording
delivery attempts, the admin reads and webhook subscriptions. Mixed into ``UnitOfWork``,
so everything runs in its transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import sqlalchemy as sa

from relevo.adapters.db import bulk
from relevo.adapters.db import tables as t
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

_o = t.outbox
_a = t.delivery_attempts
_s = t.webhook_subscriptions
_n = t.notification_sends
_SEND_COLUMNS = ("business_key", "recipient", "channel", "sent_at")  # ``SendRecord`` order
_SEND_KEY = ("business_key",)
_MOVE_COLUMNS = (
    "status",
    "attempts",
    "available_at",
    "sent_at",
    "last_error",
    "claimed_by",
    "claimed_until",
)
#: A literal, not a parameter: SQLite uses the partial index on pending entries only when
#: the query names its condition word for word.
_IS_PENDING = _o.c.status == sa.literal_column(f"'{PENDING}'")


def _entry(row: sa.Row[Any]) -> OutboxEntry:
    m = row._mapping
    return OutboxEntry(
        id=int(m["id"]),
        process_id=m["process_id"],
        topic=m["topic"],
        payload=orjson.loads(m["payload"]),
        idempotency_key=m["idempotency_key"],
        created_at=m["created_at"],
        available_at=m["available_at"],
        attempts=int(m["attempts"]),
        status=m["status"],
        claimed_by=m["claimed_by"],
        claimed_until=m["claimed_until"],
        sent_at=m["sent_at"],
        last_error=m["last_error"],
    )


def _subscription(row: sa.Row[Any]) -> Subscription:
    m = row._mapping
    return Subscription(
        id=m["id"],
        url=m["url"],
        event_types=tuple(orjson.loads(m["event_types"])),
        secret=m["secret"],
        previous_secret=m["previous_secret"],
        previous_until=m["previous_until"],
        active=bool(m["active"]),
        created_at=m["created_at"],
    )


def _subscription_values(subscription: Subscription) -> dict[str, Any]:
    return {
        "url": subscription.url,
        "event_types": orjson.dumps(list(subscription.event_types)).decode(),
        "secret": subscription.secret,
        "previous_secret": subscription.previous_secret,
        "previous_until": subscription.previous_until,
        "active": subscription.active,
        "created_at": subscription.created_at,
    }


class OutboxQueries:
    """Outbox leases, delivery attempts and subscriptions over ``connection``."""

    @property
    def connection(self) -> sa.Connection:
        """The connection the queries run on."""
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
        """Lease due pending entries nobody holds to ``worker``, oldest due first.

        The pick names the rows first (on PostgreSQL locking them and skipping rows
        another claim has locked, so concurrent workers take different rows instead of
        waiting on each other); a conditional UPDATE then leases the ones still free.
        Picked apart from the UPDATE because PostgreSQL may run an ``IN (… LIMIT n)``
        subquery more than once and so claim more than ``n`` rows.
        """
        free = sa.or_(_o.c.claimed_until.is_(None), _o.c.claimed_until < now)
        due = [_IS_PENDING, _o.c.available_at <= now, free]
        if skip_topics:
            due.append(_o.c.topic.not_in(list(skip_topics)))
        pick = sa.select(_o.c.id).where(*due).order_by(_o.c.available_at, _o.c.id).limit(limit)
        ids = list(
            self.connection.execute(bulk.lock_skipping_taken(self.connection, pick)).scalars()
        )
        if not ids:
            return []
        claim = (
            sa.update(_o)
            .where(_o.c.id.in_(ids), *due)
            .values(claimed_by=worker, claimed_until=lease_until)
            .returning(*_o.c)
        )
        entries = [_entry(row) for row in self.connection.execute(claim)]
        entries.sort(key=lambda entry: (entry.available_at, entry.id))
        return entries

    def record_attempts(self, worker: str, attempts: Sequence[AttemptRow]) -> int:
        """Record every attempt and what it sent; move the entries ``worker`` still holds
        and free them. A handful of set-wise statements whatever the batch's size."""
        if not attempts:
            return 0
        self.connection.execute(
            _a.insert(),
            [
                {
                    "outbox_id": a.outbox_id,
                    "process_id": a.process_id,
                    "topic": a.topic,
                    "attempt": a.attempt,
                    "at": a.at,
                    "outcome": a.outcome,
                    "detail": a.detail,
                    "facts": None if a.facts is None else orjson.dumps(a.facts).decode(),
                }
                for a in attempts
            ],
        )
        sends = [tuple(send) for a in attempts for send in a.sends]
        if sends:
            bulk.bulk_insert(self.connection, _n, _SEND_COLUMNS, sends, conflict=_SEND_KEY)
        moves = [
            (
                a.outbox_id,
                a.status,
                a.attempts,
                a.available_at,
                a.at if a.status == SENT else None,
                a.detail if a.status in (PENDING, DEAD) else None,
                None,
                None,
            )
            for a in attempts
        ]
        return bulk.bulk_update(
            self.connection, _o, ("id",), _MOVE_COLUMNS, moves, only_if={"claimed_by": worker}
        )

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        """The business keys among ``keys`` that a recorded attempt sent (one statement)."""
        wanted = [(key,) for key in set(keys)]
        if not wanted:
            return set()
        found = bulk.select_by_keys(
            self.connection, _n, ("business_key",), ("business_key",), wanted
        )
        return {key for (key,) in found}

    def count_sends(self, recipient: str, since: str) -> int:
        """How many recorded sends went to ``recipient`` at or after ``since``."""
        query = (
            sa.select(sa.func.count())
            .select_from(_n)
            .where(_n.c.recipient == recipient, _n.c.sent_at >= since)
        )
        return int(self.connection.execute(query).scalar_one())

    def outbox_entries(
        self, status: str | None = None, *, after: int = 0, limit: int = 100
    ) -> list[OutboxEntry]:
        """Entries with an id greater than ``after``, of one status, in the order written."""
        query = sa.select(_o).where(_o.c.id > after)
        if status is not None:
            query = query.where(_o.c.status == status)
        query = query.order_by(_o.c.id).limit(limit)
        return [_entry(row) for row in self.connection.execute(query)]

    def get_outbox_entry(self, id: int) -> OutboxEntry | None:
        """One outbox entry by id, or ``None``."""
        row = self.connection.execute(sa.select(_o).where(_o.c.id == id)).first()
        return None if row is None else _entry(row)

    def replay_outbox(self, id: int, now: str) -> OutboxEntry:
        """Make a finished entry pending again from ``now``, its attempts count reset."""
        entry = self.get_outbox_entry(id)
        if entry is None:
            raise LookupError(f"no outbox message {id}")
        if entry.status == PENDING:
            raise ValueError(f"outbox message {id} is still pending")
        self.connection.execute(
            sa.update(_o)
            .where(_o.c.id == id)
            .values(
                status=PENDING,
                attempts=0,
                available_at=now,
                claimed_by=None,
                claimed_until=None,
                last_error=None,
            )
        )
        replayed = self.get_outbox_entry(id)
        assert replayed is not None
        return replayed

    def delivery_attempts(
        self, *, process_id: str | None = None, outbox_id: int | None = None, limit: int = 1000
    ) -> list[DeliveryAttempt]:
        """Recorded attempts of one process's or one entry's messages, oldest first."""
        query = sa.select(_a)
        if process_id is not None:
            query = query.where(_a.c.process_id == process_id)
        if outbox_id is not None:
            query = query.where(_a.c.outbox_id == outbox_id)
        query = query.order_by(_a.c.id).limit(limit)
        return [
            DeliveryAttempt(
                id=int(m["id"]),
                outbox_id=int(m["outbox_id"]),
                process_id=m["process_id"],
                topic=m["topic"],
                attempt=int(m["attempt"]),
                at=m["at"],
                outcome=m["outcome"],
                detail=m["detail"],
                facts=None if m["facts"] is None else orjson.loads(m["facts"]),
            )
            for m in (row._mapping for row in self.connection.execute(query))
        ]

    def outbox_stats(self, now: str) -> OutboxStats:
        """Entries per topic and status, attempts per outcome, the oldest due entry."""
        conn = self.connection
        backlog = conn.execute(
            sa.select(_o.c.topic, _o.c.status, sa.func.count()).group_by(_o.c.topic, _o.c.status)
        )
        outcomes = conn.execute(sa.select(_a.c.outcome, sa.func.count()).group_by(_a.c.outcome))
        return OutboxStats(
            backlog=[BacklogCount(topic, status, int(n)) for topic, status, n in backlog],
            attempts={outcome: int(n) for outcome, n in outcomes},
            oldest_due=self.oldest_due_outbox(now),
        )

    def purge_attempts(self, before: str, limit: int) -> tuple[int, int]:
        """Delete the attempts of up to ``limit`` finished entries (sent or superseded)
        whose last attempt was before ``before``; how many entries and attempts. The pick
        walks the attempts' outbox-id index in order and stops at ``limit`` entries."""
        pick = (
            sa.select(_a.c.outbox_id)
            .join(_o, _o.c.id == _a.c.outbox_id)
            .where(_o.c.status.in_([SENT, SUPERSEDED]))
            .group_by(_a.c.outbox_id)
            .having(sa.func.max(_a.c.at) < before)
            .order_by(_a.c.outbox_id)
            .limit(limit)
        )
        ids = list(self.connection.execute(pick).scalars())
        if not ids:
            return 0, 0
        deleted = self.connection.execute(sa.delete(_a).where(_a.c.outbox_id.in_(ids)))
        return len(ids), deleted.rowcount

    def oldest_due_outbox(self, now: str) -> str | None:
        """The oldest due pending entry's ``available_at``: one probe of the partial index."""
        query = sa.select(sa.func.min(_o.c.available_at)).where(
            _IS_PENDING, _o.c.available_at <= now
        )
        oldest: str | None = self.connection.execute(query).scalar()
        return oldest

    def log_cursor(self, name: str) -> int:
        """Where the event-log reader ``name`` got to (0: the start)."""
        query = sa.select(t.log_cursors.c.position).where(t.log_cursors.c.name == name)
        return int(self.connection.execute(query).scalar() or 0)

    def move_log_cursor(self, name: str, expected: int, position: int) -> bool:
        """Move reader ``name`` from ``expected`` to ``position`` unless another moved it."""
        c = t.log_cursors
        moved = self.connection.execute(
            sa.update(c).where(c.c.name == name, c.c.position == expected).values(position=position)
        ).rowcount
        if moved or expected != 0:
            return bool(moved)
        try:
            with self.connection.begin_nested():
                self.connection.execute(c.insert().values(name=name, position=position))
        except sa.exc.IntegrityError:
            return False
        return True

    # -- webhook subscriptions --------------------------------------------------------

    def add_subscription(self, subscription: Subscription) -> None:
        """Store a new subscription."""
        values = _subscription_values(subscription)
        self.connection.execute(_s.insert().values(id=subscription.id, **values))

    def subscriptions(self) -> list[Subscription]:
        """Every subscription, oldest first."""
        query = sa.select(_s).order_by(_s.c.created_at, _s.c.id)
        return [_subscription(row) for row in self.connection.execute(query)]

    def update_subscription(self, subscription: Subscription) -> None:
        """Replace the stored subscription of the same id; ``LookupError`` if unknown."""
        values = _subscription_values(subscription)
        changed = self.connection.execute(
            sa.update(_s).where(_s.c.id == subscription.id).values(**values)
        ).rowcount
        if not changed:
            raise LookupError(f"no subscription {subscription.id}")
