"""The in-memory store's data: immutable rows in containers that a transaction copies
before it changes them, and how a ``WriteBatch`` lands in them.

Rows hold serialised JSON (as the SQL store does) so that nothing a caller keeps or
changes afterwards reaches the stored data.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from relevo.domain.model import JSON, Event, ProcessState
from relevo.services.delivery_records import (
    PENDING,
    DeliveryAttempt,
    OutboxEntry,
    Subscription,
)
from relevo.services.records import (
    ApiKeyRow,
    ConcurrencyConflict,
    DeadLetter,
    KeyConflict,
    OutboxMessage,
    StoredEvent,
    WriteBatch,
    dead_letter_digest,
)


class ProcessRow(NamedTuple):
    """A stored process: its state document and the values searches filter on."""

    state: bytes
    kind: str
    customer_id: str
    subject: str
    status: str
    stage: str
    version: int
    updated_at: str
    next_timer_at: str | None

    def load(self) -> ProcessState:
        """A fresh copy of the stored state."""
        return ProcessState.from_json(orjson.loads(self.state))


class KeyEntry(NamedTuple):
    """A correlation key; ``id`` grows with every key added (newest holder last)."""

    id: int
    kind: str
    name: str
    value: str
    process_id: str
    active: bool


class EventEntry(NamedTuple):
    """An event in the log; ``record`` is the event as stored (``Event.as_record``)."""

    position: int
    process_id: str
    version: int
    hash: str
    prev_hash: str
    record: bytes

    def load(self) -> StoredEvent:
        """The event as read back from the log."""
        event = Event(**orjson.loads(self.record))
        return StoredEvent(
            self.position, self.process_id, self.version, self.hash, self.prev_hash, event
        )


class InboxEntry(NamedTuple):
    """What became of an inbound message, and the digest of its content."""

    process_id: str | None
    outcome: str
    received_at: str
    digest: str | None


@dataclass
class Tables:
    """Everything the store holds. A transaction works on ``copy()`` and the store keeps
    the copy on commit; the rows themselves are never changed in place."""

    processes: dict[str, ProcessRow] = field(default_factory=dict)
    keys: list[KeyEntry] = field(default_factory=list)
    events: list[EventEntry] = field(default_factory=list)
    versions: set[tuple[str, int]] = field(default_factory=set)
    inbox: dict[tuple[str, str], InboxEntry] = field(default_factory=dict)
    outbox: list[OutboxMessage] = field(default_factory=list)
    dead_letters: dict[int, DeadLetter] = field(default_factory=dict)
    #: The open dead letter holding each content digest (``dead_letter_digest``).
    open_digests: dict[str, int] = field(default_factory=dict)
    api_keys: dict[str, ApiKeyRow] = field(default_factory=dict)
    #: Each outbox message's delivery state, by outbox id.
    deliveries: dict[int, OutboxEntry] = field(default_factory=dict)
    attempts: list[DeliveryAttempt] = field(default_factory=list)
    #: What recorded attempts sent, by business key: ``(recipient, channel, sent_at)``.
    sends: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    #: The last id handed out per sequence (event positions, keys, outbox, dead letters).
    sequences: dict[str, int] = field(default_factory=dict)

    def copy(self) -> Tables:
        """A copy whose containers may change without touching this one."""
        copied: dict[str, Any] = {
            f.name: getattr(self, f.name).copy() for f in dataclasses.fields(self)
        }
        return Tables(**copied)

    def next_id(self, sequence: str) -> int:
        """The next id of ``sequence`` (1, 2, …)."""
        self.sequences[sequence] = self.sequences.get(sequence, 0) + 1
        return self.sequences[sequence]


def dumps(value: Any) -> bytes:
    """A JSON value, serialised (stored rows never share objects with callers)."""
    return orjson.dumps(value)


def copy_json(value: JSON) -> JSON:
    """A deep copy of a JSON-ready mapping, as a round trip through storage gives it."""
    copied: JSON = orjson.loads(orjson.dumps(value))
    return copied


def process_row(state: ProcessState) -> ProcessRow:
    """The row that stores ``state``."""
    return ProcessRow(
        state=dumps(state.to_json()),
        kind=state.kind,
        customer_id=state.customer_id,
        subject=state.subject,
        status=state.status,
        stage=state.stage,
        version=state.version,
        updated_at=state.updated_at,
        next_timer_at=state.next_timer_at,
    )


def apply(tables: Tables, batch: WriteBatch, at: str) -> None:
    """Write ``batch`` into ``tables`` (a copy: on a conflict the caller drops it).

    Raises ``ConcurrencyConflict`` for a stored event version, an existing new process, a
    missing changed process or a message already received, and ``KeyConflict`` for an
    active key another process holds.
    """
    for process_id, version, event, hash_, prev_hash in batch.events:
        if (process_id, version) in tables.versions:
            raise ConcurrencyConflict("an event version is already stored")
        tables.versions.add((process_id, version))
        position = tables.next_id("events")
        record = dumps(event.as_record())
        tables.events.append(EventEntry(position, process_id, version, hash_, prev_hash, record))
    for state in batch.new_states:
        if state.id in tables.processes:
            raise ConcurrencyConflict("a new process already exists")
        tables.processes[state.id] = process_row(state)
    for state in {state.id: state for state in batch.changed_states}.values():
        stored = tables.processes.get(state.id)
        if stored is None:
            raise ConcurrencyConflict("a changed process is no longer stored")
        # What is fixed at start stays as stored; the rest follows the state.
        changed = process_row(state)
        tables.processes[state.id] = changed._replace(
            kind=stored.kind, customer_id=stored.customer_id, subject=stored.subject
        )
    _add_keys(tables, batch)
    _receive(tables, batch, at)
    for process_id, topic, payload, key, available_at in batch.outbox:
        outbox_id = tables.next_id("outbox")
        tables.outbox.append(OutboxMessage(outbox_id, process_id, topic, copy_json(payload)))
        tables.deliveries[outbox_id] = OutboxEntry(
            outbox_id,
            process_id,
            topic,
            copy_json(payload),
            key,
            at,
            available_at,
            0,
            PENDING,
            None,
            None,
            None,
            None,
        )
    for source, message_id, type_, payload, reason in batch.dead_letters:
        digest = dead_letter_digest(source, message_id, type_, dumps(payload))
        if digest in tables.open_digests:
            continue  # the same content is already kept, open
        letter_id = tables.next_id("dead_letters")
        tables.open_digests[digest] = letter_id
        tables.dead_letters[letter_id] = DeadLetter(
            letter_id, at, source, message_id, type_, copy_json(payload), reason, "open", None, None
        )


def _add_keys(tables: Tables, batch: WriteBatch) -> None:
    released = set(batch.keys_released)
    if released:
        tables.keys = [
            key._replace(active=False) if key.process_id in released else key for key in tables.keys
        ]
    active = {(k.kind, k.name, k.value): k.process_id for k in tables.keys if k.active}
    for kind, name, value, process_id in batch.keys_added:
        is_active = process_id not in released
        if is_active:
            # One active holder per key and kind, as the SQL store's unique index has it.
            key = (kind, name, value)
            if key in active:
                raise KeyConflict(key, active[key])
            active[key] = process_id
        key_id = tables.next_id("keys")
        tables.keys.append(KeyEntry(key_id, kind, name, value, process_id, is_active))


def _receive(tables: Tables, batch: WriteBatch, at: str) -> None:
    for source, message_id, process_id, outcome, digest in batch.inbox:
        if (source, message_id) in tables.inbox:
            raise ConcurrencyConflict("an inbound message was already received")
        tables.inbox[(source, message_id)] = InboxEntry(process_id, outcome, at, digest)
