"""Read queries of the store, plus the small administrative writes on dead letters and
API keys. Mixed into ``UnitOfWork``, so they run in its transaction."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import orjson
import sqlalchemy as sa

from relevo.adapters.db import tables as t
from relevo.adapters.db.support import load_state
from relevo.domain.model import Event, ProcessState
from relevo.services.records import (
    DEAD_LETTER_RESOLUTIONS,
    ApiKeyRow,
    DeadLetter,
    OutboxMessage,
    StoredEvent,
)


class Queries:
    """Reads over ``connection`` (provided by the unit of work)."""

    @property
    def connection(self) -> sa.Connection:
        """The connection the queries run on."""
        raise NotImplementedError

    # -- processes --------------------------------------------------------------------

    def get_state(self, process_id: str) -> ProcessState | None:
        """The stored state of one process, or ``None``."""
        query = sa.select(t.processes.c.state).where(t.processes.c.id == process_id)
        text = self.connection.execute(query).scalar_one_or_none()
        return None if text is None else load_state(text)

    def find_processes(
        self,
        *,
        customer_id: str | None = None,
        key: tuple[str, str] | None = None,
        subject: str | None = None,
        kind: str | None = None,
        status: str | None = None,
        limit: int = 50,
    ) -> list[ProcessState]:
        """Processes matching every given filter, most recently updated first.

        ``key`` is a correlation key ``(name, value)``; released keys match too, so a
        finished process is still found by the phone number it was about.
        """
        p, k = t.processes, t.correlation_keys
        query = sa.select(p.c.state)
        for column, wanted in (
            (p.c.customer_id, customer_id),
            (p.c.subject, subject),
            (p.c.kind, kind),
            (p.c.status, status),
        ):
            if wanted is not None:
                query = query.where(column == wanted)
        if key is not None:
            holders = sa.select(k.c.process_id).where(k.c.name == key[0], k.c.value == key[1])
            query = query.where(p.c.id.in_(holders))
        query = query.order_by(p.c.updated_at.desc(), p.c.id).limit(limit)
        return [load_state(text) for text in self.connection.execute(query).scalars()]

    def count_processes(self, *, kind: str | None = None, status: str | None = None) -> int:
        """How many processes are stored, optionally of one kind and/or status."""
        p = t.processes
        query = sa.select(sa.func.count()).select_from(p)
        if kind is not None:
            query = query.where(p.c.kind == kind)
        if status is not None:
            query = query.where(p.c.status == status)
        return int(self.connection.execute(query).scalar_one())

    def projection_columns(self, ids: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """For each given process id: its projection's copies of state values
        ``(status, stage, version, updated_at, next_timer_at)``; unknown ids are absent."""
        p = t.processes
        query = sa.select(
            p.c.id, p.c.status, p.c.stage, p.c.version, p.c.updated_at, p.c.next_timer_at
        ).where(p.c.id.in_(list(ids)))
        return {row[0]: tuple(row[1:]) for row in self.connection.execute(query)}

    def iter_process_ids(self) -> Iterator[str]:
        """Every process id in id order, streamed (for rebuilds and exports)."""
        query = sa.select(t.processes.c.id).order_by(t.processes.c.id)
        yield from self.connection.execute(query.execution_options(yield_per=1000)).scalars()

    def due_timers(self, now: str, limit: int = 100) -> list[tuple[str, str]]:
        """``(process_id, due_at)`` of processes with a timer due at or before ``now``
        (ISO 8601 UTC), earliest first: the timer worker's work list.

        ``due_at`` is the earliest armed timer of the process; the state says which timers
        that covers.
        """
        p = t.processes
        query = (
            sa.select(p.c.id, p.c.next_timer_at)
            .where(p.c.next_timer_at.is_not(None), p.c.next_timer_at <= now)
            .order_by(p.c.next_timer_at, p.c.id)
            .limit(limit)
        )
        return [(pid, due) for pid, due in self.connection.execute(query)]

    # -- the event log ----------------------------------------------------------------

    def events_of(self, process_id: str) -> list[StoredEvent]:
        """The log of one process, by version."""
        e = t.events
        query = sa.select(e).where(e.c.process_id == process_id).order_by(e.c.version)
        return [_stored_event(row) for row in self.connection.execute(query)]

    def read_events(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events of all processes with a position greater than ``after``, in log order."""
        e = t.events
        query = sa.select(e).where(e.c.position > after).order_by(e.c.position).limit(limit)
        return [_stored_event(row) for row in self.connection.execute(query)]

    def event_moments(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
        """``(position, recorded_at)`` of the events after ``after``, in log order."""
        e = t.events
        query = (
            sa.select(e.c.position, e.c.recorded_at)
            .where(e.c.position > after)
            .order_by(e.c.position)
            .limit(limit)
        )
        return [(position, recorded_at) for position, recorded_at in self.connection.execute(query)]

    # -- the outbox -------------------------------------------------------------------

    def outbox_messages(
        self, after: int = 0, *, except_topic: str | None = None
    ) -> list[OutboxMessage]:
        """Outbox messages with an id greater than ``after``, in the order written
        (``except_topic`` leaves one topic out)."""
        o = t.outbox
        query = sa.select(o.c.id, o.c.process_id, o.c.topic, o.c.payload).where(o.c.id > after)
        if except_topic is not None:
            query = query.where(o.c.topic != except_topic)
        return [
            OutboxMessage(int(row_id), pid, topic, orjson.loads(payload))
            for row_id, pid, topic, payload in self.connection.execute(query.order_by(o.c.id))
        ]

    def last_outbox_id(self) -> int:
        """The id of the newest outbox message (0 when there is none)."""
        last = self.connection.execute(sa.select(sa.func.max(t.outbox.c.id))).scalar()
        return int(last or 0)

    # -- dead letters -----------------------------------------------------------------

    def dead_letters(self, status: str | None = "open", limit: int = 100) -> list[DeadLetter]:
        """Dead letters in arrival order, of one status (``None``: all)."""
        d = t.dead_letters
        query = sa.select(d).order_by(d.c.id).limit(limit)
        if status is not None:
            query = query.where(d.c.status == status)
        return [_dead_letter(row) for row in self.connection.execute(query)]

    def get_dead_letter(self, id: int) -> DeadLetter | None:
        """One dead letter by id, or ``None``."""
        query = sa.select(t.dead_letters).where(t.dead_letters.c.id == id)
        row = self.connection.execute(query).first()
        return None if row is None else _dead_letter(row)

    def resolve_dead_letter(self, id: int, status: str, resolution: str, at: str) -> None:
        """Close an open dead letter as ``replayed`` or ``discarded``.

        Raises ``ValueError`` for another status and ``LookupError`` when no open dead
        letter has this id (so two people cannot both replay it).
        """
        if status not in DEAD_LETTER_RESOLUTIONS:
            raise ValueError(f"a dead letter is resolved as replayed or discarded, not {status!r}")
        d = t.dead_letters
        statement = (
            d.update()
            .where(d.c.id == id, d.c.status == "open")
            .values(status=status, resolution=resolution, resolved_at=at, digest=None)
        )
        if self.connection.execute(statement).rowcount != 1:
            raise LookupError(f"no open dead letter {id}")

    # -- API keys ---------------------------------------------------------------------

    def add_api_key(
        self,
        *,
        id: str,
        name: str,
        prefix: str,
        secret_hash: str,
        scopes: Iterable[str],
        created_at: str,
    ) -> None:
        """Store a new API key (the secret's hash only; scopes are kept space-separated)."""
        row = {
            "id": id,
            "name": name,
            "prefix": prefix,
            "secret_hash": secret_hash,
            "scopes": " ".join(sorted(set(scopes))),
            "created_at": created_at,
            "revoked_at": None,
        }
        self.connection.execute(t.api_keys.insert(), row)

    def find_api_key_by_prefix(self, prefix: str) -> ApiKeyRow | None:
        """The newest key with this public prefix, revoked or not (check ``active``)."""
        a = t.api_keys
        query = sa.select(a).where(a.c.prefix == prefix).order_by(a.c.created_at.desc())
        row = self.connection.execute(query.limit(1)).first()
        return None if row is None else _api_key(row)

    def api_keys(self) -> list[ApiKeyRow]:
        """Every API key, oldest first."""
        query = sa.select(t.api_keys).order_by(t.api_keys.c.created_at, t.api_keys.c.id)
        return [_api_key(row) for row in self.connection.execute(query)]

    def revoke_api_key(self, id: str, at: str) -> None:
        """Revoke a key from ``at`` on; revoking twice keeps the first time.

        Raises ``LookupError`` for an unknown id.
        """
        a = t.api_keys
        revoked_at = sa.func.coalesce(a.c.revoked_at, at)
        statement = a.update().where(a.c.id == id).values(revoked_at=revoked_at)
        if self.connection.execute(statement).rowcount != 1:
            raise LookupError(f"no API key {id}")


def _stored_event(row: sa.Row[Any]) -> StoredEvent:
    event = Event(
        type=row.type,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        actor=row.actor,
        channel=row.channel,
        data=orjson.loads(row.data),
        effects=orjson.loads(row.effects),
        source=row.source,
        message_id=row.message_id,
    )
    return StoredEvent(row.position, row.process_id, row.version, row.hash, row.prev_hash, event)


def _dead_letter(row: sa.Row[Any]) -> DeadLetter:
    return DeadLetter(
        id=row.id,
        received_at=row.received_at,
        source=row.source,
        message_id=row.message_id,
        type=row.type,
        payload=orjson.loads(row.payload),
        reason=row.reason,
        status=row.status,
        resolved_at=row.resolved_at,
        resolution=row.resolution,
    )


def _api_key(row: sa.Row[Any]) -> ApiKeyRow:
    return ApiKeyRow(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        secret_hash=row.secret_hash,
        scopes=frozenset(row.scopes.split()),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
