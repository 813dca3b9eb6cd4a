"""The write path: how a ``WriteBatch`` becomes one set-wise statement per table."""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlalchemy as sa

from relevo.adapters.db import bulk
from relevo.adapters.db import tables as t
from relevo.adapters.db.support import dump_json
from relevo.domain.model import ProcessState
from relevo.services.records import ConcurrencyConflict, WriteBatch, dead_letter_digest

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
INBOX_COLUMNS = ("source", "message_id", "process_id", "outcome", "digest", "received_at")
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
    "digest",
)


class KeyInsertFailed(Exception):
    """The key insert broke the unique index on active keys; the caller names the key
    once the batch is rolled back."""


@dataclass(slots=True)
class RenderedBatch:
    """A ``WriteBatch`` turned into rows of plain values (JSON already serialised), so the
    state and event objects it came from may change while it is being written, and so it
    can be handed to another thread or pickled to another process."""

    events: list[_Row] = field(default_factory=list)
    new_processes: list[_Row] = field(default_factory=list)
    changed_processes: list[_Row] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    keys: list[_Row] = field(default_factory=list)
    inbox: list[_Row] = field(default_factory=list)
    outbox: list[_Row] = field(default_factory=list)
    dead_letters: list[_Row] = field(default_factory=list)


def render(batch: WriteBatch, at: str) -> RenderedBatch:
    """The rows ``batch`` writes, with ``at`` as the reception time."""
    released = list(dict.fromkeys(batch.keys_released))
    gone = set(released)
    return RenderedBatch(
        events=_event_rows(batch),
        new_processes=[(s.id, *_process_values(s)) for s in batch.new_states],
        changed_processes=[
            (
                s.id,
                s.status,
                s.stage,
                s.version,
                s.updated_at,
                dump_json(s.to_json()),
                s.next_timer_at,
            )
            for s in _last_by(batch.changed_states, lambda s: s.id)
        ],
        released=released,
        keys=[(*key, key[3] not in gone) for key in batch.keys_added],
        inbox=[(*entry, at) for entry in batch.inbox],
        outbox=_outbox_rows(batch, at),
        dead_letters=_dead_letter_rows(batch, at),
    )


def write(conn: sa.Connection, batch: RenderedBatch) -> None:
    """Write every part of ``batch`` with one statement per table.

    Raises ``ConcurrencyConflict`` when an event version, a new process or an inbound
    message is already stored or a changed process is missing, and ``KeyInsertFailed``
    when an active correlation key is taken. The caller owns the transaction.

    Rows are locked in one order whatever order the batch names them in, so that two
    batches over the same processes queue behind each other instead of deadlocking: the
    changed processes first, by id (a batch that appends to a process always changes it,
    so any two batches sharing a process meet there before either inserts an event), then
    the keys and inbound messages, each sorted by their unique columns. Events and outbox
    messages keep the order decided: their ids are the log's order.
    """
    if batch.changed_processes:
        rows = sorted(batch.changed_processes, key=_first)
        if bulk.bulk_update(conn, t.processes, ("id",), CHANGING_COLUMNS, rows) != len(rows):
            raise ConcurrencyConflict("a changed process is no longer stored")
    if batch.events:
        with _conflict_on_clash("an event version is already stored"):
            bulk.bulk_insert(conn, t.events, EVENT_COLUMNS, batch.events)
    if batch.new_processes:
        columns = ("id", *PROCESS_COLUMNS)
        with _conflict_on_clash("a new process already exists"):
            bulk.bulk_insert(conn, t.processes, columns, batch.new_processes)
    bulk.clear_flag(conn, t.correlation_keys, "active", "process_id", sorted(batch.released))
    if batch.keys:
        # Stable: keys of one name and value keep their order, which says who held it last.
        keys = sorted(batch.keys, key=_name_and_value)
        try:
            bulk.bulk_insert(conn, t.correlation_keys, KEY_COLUMNS, keys)
        except sa.exc.IntegrityError as error:
            raise KeyInsertFailed from error
    if batch.inbox:
        with _conflict_on_clash("an inbound message was already received"):
            bulk.bulk_insert(conn, t.inbox, INBOX_COLUMNS, sorted(batch.inbox, key=_source_id))
    if batch.outbox:
        bulk.bulk_insert(conn, t.outbox, OUTBOX_COLUMNS, batch.outbox)
    if batch.dead_letters:
        # The same content again while its dead letter is open adds nothing.
        bulk.bulk_insert(
            conn, t.dead_letters, DEAD_LETTER_COLUMNS, batch.dead_letters, conflict=("digest",)
        )


_first = operator.itemgetter(0)
_name_and_value = operator.itemgetter(1, 2)
_source_id = operator.itemgetter(0, 1)


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
    rows: dict[str, _Row] = {}
    for source, message_id, type_, payload, reason in batch.dead_letters:
        text = dump_json(payload)
        digest = dead_letter_digest(source, message_id, type_, text.encode())
        rows.setdefault(digest, (at, source, message_id, type_, text, reason, "open", digest))
    return list(rows.values())
