"""The records the services write and read through a unit of work, and the conflicts a
store reports. Every store (SQL, in memory) takes and returns exactly these.

The rows of a ``WriteBatch`` are NamedTuples: as cheap to build as plain tuples on the
ingest path, yet every field has a name.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

from relevo.domain.model import JSON, Event, ProcessState

#: Who holds each correlation key: ``(name, value)`` → ``[(kind, process_id), …]``,
#: newest holder first.
Holders = dict[tuple[str, str], list[tuple[str, str]]]


class ConcurrencyConflict(Exception):
    """Another writer got there first: a ``(process_id, version)`` or an inbound message
    ``(source, message_id)`` is already stored, a changed process no longer exists, or
    the database broke a deadlock (or a lock wait) between two writers by aborting this one.

    Reloading the states and deciding again resolves it.
    """


#: Seconds a caller is told to wait before trying again when the store cannot serve it
#: (``StoreUnavailable.retry_after``; ``RELEVO_RETRY_AFTER_SECONDS`` sets it).
DEFAULT_RETRY_AFTER = 2


class StoreUnavailable(Exception):
    """The store cannot serve this now: the database is unreachable, its connection was
    lost, it cannot write (read-only, full, failing disk) or stayed locked past its wait.

    Nothing was written, unless the connection broke while committing, when nobody can
    tell. Trying again after ``retry_after`` seconds may succeed; ``reason`` says what the
    database reported.
    """

    def __init__(self, reason: str, retry_after: int = DEFAULT_RETRY_AFTER) -> None:
        super().__init__(f"the database cannot serve this now: {reason}")
        self.reason = reason
        self.retry_after = retry_after


class KeyConflict(Exception):
    """An active correlation key is held by another process.

    ``key`` is ``(kind, name, value)``; ``holder`` the process holding it when known.
    """

    def __init__(self, key: tuple[str, str, str], holder: str | None = None) -> None:
        kind, name, value = key
        super().__init__(f"correlation key {name}={value!r} of {kind} is taken by {holder}")
        self.key = key
        self.holder = holder


class EventRow(NamedTuple):
    """One event appended to a process's log, with its place in the hash chain."""

    process_id: str
    version: int
    event: Event
    hash: str
    prev_hash: str


class KeyRow(NamedTuple):
    """A correlation key given to a process."""

    kind: str
    name: str
    value: str
    process_id: str


class InboxRow(NamedTuple):
    """An inbound message recorded as received, and what became of it; ``digest`` is its
    content's (``relevo.services.inbound.content_digest``), to tell a re-sent message from
    a different one under the same id (``None`` for an action's request id)."""

    source: str
    message_id: str
    process_id: str | None
    outcome: str
    digest: str | None = None


class OutboxRow(NamedTuple):
    """An integration message to publish once ``available_at`` (ISO 8601 UTC) is reached."""

    process_id: str
    topic: str
    payload: JSON
    idempotency_key: str
    available_at: str


class DeadLetterRow(NamedTuple):
    """An inbound message kept for inspection and replay, with why it was refused.

    A store keeps one open dead letter per content (``dead_letter_digest``): the same
    refused message received again while its dead letter is open adds nothing.
    """

    source: str
    message_id: str | None
    type: str | None
    payload: JSON
    reason: str


def dead_letter_digest(
    source: str, message_id: str | None, type_: str | None, payload_json: bytes
) -> str:
    """What identifies the content of a dead letter (``payload_json``: its payload as the
    store serialises it): the same source, id, type and payload give the same digest,
    whatever the reason given (a reason may mention the moment it was refused)."""
    head = "\x1f".join((source, message_id or "", type_ or "")).encode()
    return hashlib.sha256(head + b"\x1e" + payload_json).hexdigest()


@dataclass(slots=True)
class WriteBatch:
    """Everything one ingest step writes, saved set-wise in one transaction.

    ``at`` is the moment the batch is recorded (ISO 8601 UTC), used for the rows that carry
    a reception time (inbox, outbox ``created_at``, dead letters); when ``None`` the store
    reads the wall clock.

    Within one batch, keys are released before new ones are added (so a key can move from
    a finished process to a new one), and a key added to a process listed in
    ``keys_released`` is stored inactive. A process listed twice in ``changed_states``
    keeps its last entry. A process's timers travel in its state; the row keeps the
    earliest due time for the timer worker.
    """

    events: list[EventRow] = field(default_factory=list)
    new_states: list[ProcessState] = field(default_factory=list)
    changed_states: list[ProcessState] = field(default_factory=list)
    keys_added: list[KeyRow] = field(default_factory=list)
    #: ids of processes whose keys all become inactive
    keys_released: list[str] = field(default_factory=list)
    inbox: list[InboxRow] = field(default_factory=list)
    outbox: list[OutboxRow] = field(default_factory=list)
    dead_letters: list[DeadLetterRow] = field(default_factory=list)
    at: str | None = None


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as read back from the log, with its place in it."""

    position: int
    process_id: str
    version: int
    hash: str
    prev_hash: str
    event: Event


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """An inbound message that could not be processed, kept for inspection and replay."""

    id: int
    received_at: str
    source: str
    message_id: str | None
    type: str | None
    payload: JSON
    reason: str
    status: str
    resolved_at: str | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    """A stored API key: only the hash of its secret is kept."""

    id: str
    name: str
    prefix: str
    secret_hash: str
    scopes: frozenset[str]
    created_at: str
    revoked_at: str | None

    @property
    def active(self) -> bool:
        """True until the key is revoked."""
        return self.revoked_at is None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """An integration message as read back from the outbox, in the order written."""

    id: int
    process_id: str
    topic: str
    payload: JSON


@dataclass(frozen=True, slots=True)
class Readiness:
    """What a store says about its health: whether the database answered (``problem``
    names the error when not), whether it can write now (``problem`` says why not), and
    its schema revision beside the one the code needs."""

    reachable: bool
    revision: str | None = None
    head: str | None = None
    problem: str | None = None
    writable: bool = True


#: How a dead letter may be closed.
DEAD_LETTER_RESOLUTIONS = frozenset({"replayed", "discarded"})
