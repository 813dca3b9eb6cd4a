"""The write path: how a ``WriteBatch`` becomes one set-wise statement per table."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import Any, TypeVar

import sqlalchemy as sa

from relevo.adapters.db import dialect
from relevo.adapters.db import tables as t
from relevo.adapters.db.records import ConcurrencyConflict, WriteBatch
from relevo.adapters.db.support import chunks, dump_json
from relevo.domain.model import ProcessState

_T = TypeVar("_T")
_Row = tuple[Any, ...]

EVENT_COLUMNS = (
    "process_id",
    "version",
    "type",
    "occurred_at",
    "recorded_at",
    "actor",
    "channel",
    "source",
    "message_id",
    "data",
    "effects",
    "hash",
    "prev_hash",
)
PROCESS_COLUMNS = (
    "kind",
    "definition_version",
    "customer_id",
    "subject",
    "status",
    "stage",
    "version",
    "created_at",
    "updated_at",
    "state",
    "next_timer_at",
)
#: What can change after a process starts (the rest is fixed at start); updating only
#: these keeps the customer/subject/kind indexes out of every ingest write.
CHANGING_COLUMNS = ("status", "stage", "version", "updated_at", "state", "next_timer_at")
KEY_COLUMNS = ("kind", "name", "value", "process_id", "active")
INBOX_COLUMNS = ("source", "message_id", "process_id", "outcome", "received_at")
OUTBOX_COLUMNS = (
    "process_id",
    "topic",
    "payload",
    "idempotency_key",
    "created_at",
    "available_at",
    "attempts",
    "status",
)
DEAD_LETTER_COLUMNS = (
    "received_at",
    "source",
    "message_id",
    "type",
    "payload",
    "reason",
    "status",
)

_RELEASE_KEYS = (
    t.correlation_keys.update()
    .where(
        t.correlation_keys.c.process_id.in_(sa.bindparam("ids", expanding=True)),
        t.correlation_keys.c.active,
    )
    .values(active=False)
)


class KeyInsertFailed(Exception):
    """The key insert broke the unique index on active keys; the caller names the key
    once the batch is rolled back."""


def write(conn: sa.Connection, batch: WriteBatch, at: str) -> None:
    """Write every part of ``batch`` with one statement per table (``at``: reception time).

    Raises ``ConcurrencyConflict`` when an event version, a new process or an inbound
    message is already stored or a changed process is missing, and ``KeyInsertFailed``
    when an active correlation key is taken. The caller owns the transaction.
    """
    if batch.events:
        with _conflict_on_clash("an event version is already stored"):
            dialect.bulk_insert(conn, t.events, EVENT_COLUMNS, _event_rows(batch))
    if batch.new_states:
        rows = [(s.id, *_process_values(s)) for s in batch.new_states]
        with _conflict_on_clash("a new process already exists"):
            dialect.bulk_insert(conn, t.processes, ("id", *PROCESS_COLUMNS), rows)
    if batch.changed_states:
        changed = _last_by(batch.changed_states, lambda s: s.id)
        rows = [
            (
                s.id,
                s.status,
                s.stage,
                s.version,
                s.updated_at,
                dump_json(s.to_json()),
                s.next_timer_at,
            )
            for s in changed
        ]
        if dialect.bulk_update(conn, t.processes, ("id",), CHANGING_COLUMNS, rows) != len(rows):
            raise ConcurrencyConflict("a changed process is no longer stored")
    released = list(dict.fromkeys(batch.keys_released))
    for chunk in chunks(released):
        conn.execute(_RELEASE_KEYS, {"ids": list(chunk)})
    if batch.keys_added:
        gone = set(released)
        rows = [(*key, key[3] not in gone) for key in batch.keys_added]
        try:
            dialect.bulk_insert(conn, t.correlation_keys, KEY_COLUMNS, rows)
        except sa.exc.IntegrityError as error:
            raise KeyInsertFailed from error
    if batch.inbox:
        rows = [(*entry, at) for entry in batch.inbox]
        with _conflict_on_clash("an inbound message was already received"):
            dialect.bulk_insert(conn, t.inbox, INBOX_COLUMNS, rows)
    if batch.outbox:
        dialect.bulk_insert(conn, t.outbox, OUTBOX_COLUMNS, _outbox_rows(batch, at))
    if batch.dead_letters:
        rows = _dead_letter_rows(batch, at)
        dialect.bulk_insert(conn, t.dead_letters, DEAD_LETTER_COLUMNS, rows)


@contextlib.contextmanager
def _conflict_on_clash(what: str) -> Iterator[None]:
    try:
        yield
    except sa.exc.IntegrityError as error:
        raise ConcurrencyConflict(what) from error


def _last_by(items: Iterable[_T], key: Callable[[_T], Hashable]) -> list[_T]:
    # One statement cannot touch a row twice (PostgreSQL refuses): the last word wins.
    return list({key(item): item for item in items}.values())


def _process_values(state: ProcessState) -> _Row:
    return (
        state.kind,
        state.definition_version,
        state.customer_id,
        state.subject,
        state.status,
        state.stage,
        state.version,
        state.created_at,
        state.updated_at,
        dump_json(state.to_json()),
        state.next_timer_at,
    )


def _event_rows(batch: WriteBatch) -> list[_Row]:
    return [
        (
            process_id,
            version,
            event.type,
            event.occurred_at,
            event.recorded_at,
            event.actor,
            event.channel,
            event.source,
            event.message_id,
            dump_json(event.data),
            dump_json(event.effects),
            hash_,
            prev_hash,
        )
        for process_id, version, event, hash_, prev_hash in batch.events
    ]


def _outbox_rows(batch: WriteBatch, at: str) -> list[_Row]:
    return [
        (process_id, topic, dump_json(payload), key, at, available_at, 0, "pending")
        for process_id, topic, payload, key, available_at in batch.outbox
    ]


def _dead_letter_rows(batch: WriteBatch, at: str) -> list[_Row]:
    return [
        (at, source, message_id, type_, dump_json(payload), reason, "open")
        for source, message_id, type_, payload, reason in batch.dead_letters
    ]
