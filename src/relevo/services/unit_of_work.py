"""The interfaces the services need from a store: a ``Store`` hands out units of work, a
``UnitOfWork`` is one transaction with the reads and writes the services use.

The SQL store (``relevo.adapters.db``) and the in-memory one (``relevo.adapters.memory``)
implement them; the services only ever name these Protocols.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any, Protocol, Self

from relevo.domain.model import ProcessState
from relevo.services.batch_writing import BatchWriter, RenderedRows, WriterKind
from relevo.services.delivery_records import (
    AttemptRow,
    DeliveryAttempt,
    OutboxEntry,
    OutboxStats,
    Subscription,
)
from relevo.services.records import (
    ApiKeyRow,
    DeadLetter,
    Holders,
    OutboxMessage,
    Readiness,
    StoredEvent,
    WriteBatch,
)


class UnitOfWork(Protocol):
    """One transaction: entering opens it, ``commit()`` commits it, leaving the ``with``
    block without committing rolls it back. After ``commit()`` the unit of work may be used
    again, in a new transaction. Writes are invisible to other units of work until
    committed."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Commit everything written since the transaction began."""
        ...

    def rollback(self) -> None:
        """Discard everything written since the transaction began."""
        ...

    # -- ingest lookups ---------------------------------------------------------------

    def inbox_seen(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The ``(source, message_id)`` pairs among ``keys`` already in the inbox."""
        ...

    def inbox_received(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """The ``(source, message_id)`` pairs among ``keys`` already in the inbox, each with
        the content digest it was received with (``None`` when none was kept)."""
        ...

    def lookup_keys(
        self, pairs: Iterable[tuple[str, str]], *, include_inactive: bool = False
    ) -> Holders:
        """For each ``(name, value)`` held by active keys (``include_inactive``: by any
        key): ``[(kind, process_id), …]``, newest holder first; pairs without one absent."""
        ...

    def key_holders(self, pairs: Sequence[tuple[str, str]]) -> Holders:
        """Who holds each pair: its active holders, or else every past holder, newest
        first; pairs nobody ever held are absent."""
        ...

    def process_versions(self, ids: Iterable[str]) -> dict[str, int]:
        """The stored version of each given process id; unknown ids are absent."""
        ...

    def load_states(self, ids: Iterable[str]) -> dict[str, ProcessState]:
        """The stored states of the given process ids; unknown ids are absent."""
        ...

    # -- the write path ---------------------------------------------------------------

    def save(self, batch: WriteBatch) -> None:
        """Write ``batch`` atomically: on ``ConcurrencyConflict`` or ``KeyConflict``
        nothing of it is written and the unit of work stays usable."""
        ...

    # -- processes --------------------------------------------------------------------

    def get_state(self, process_id: str) -> ProcessState | None:
        """The stored state of one process, or ``None``."""
        ...

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
        """Processes matching every given filter, most recently updated first (``key``
        matches released keys too)."""
        ...

    def count_processes(self, *, kind: str | None = None, status: str | None = None) -> int:
        """How many processes are stored, optionally of one kind and/or status."""
        ...

    def projection_columns(self, ids: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """Per process id: ``(status, stage, version, updated_at, next_timer_at)`` as the
        projection stores them; unknown ids are absent."""
        ...

    def iter_process_ids(self) -> Iterator[str]:
        """Every process id in id order."""
        ...

    def due_timers(self, now: str, limit: int = 100) -> list[tuple[str, str]]:
        """``(process_id, due_at)`` of processes with a timer due at or before ``now``,
        earliest first."""
        ...

    # -- the event log and the outbox -------------------------------------------------

    def events_of(self, process_id: str) -> list[StoredEvent]:
        """The log of one process, by version."""
        ...

    def read_events(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events of all processes with a position greater than ``after``, in log order."""
        ...

    def event_moments(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
        """``(position, recorded_at)`` of the events ``read_events`` would return, without
        reading the events themselves."""
        ...

    def outbox_messages(
        self, after: int = 0, *, except_topic: str | None = None
    ) -> list[OutboxMessage]:
        """Outbox messages with an id greater than ``after``, in the order written
        (``except_topic`` leaves one topic out)."""
        ...

    def last_outbox_id(self) -> int:
        """The id of the newest outbox message (0 when there is none)."""
        ...

    # -- dead letters -----------------------------------------------------------------

    def dead_letters(self, status: str | None = "open", limit: int = 100) -> list[DeadLetter]:
        """Dead letters in arrival order, of one status (``None``: all)."""
        ...

    def get_dead_letter(self, id: int) -> DeadLetter | None:
        """One dead letter by id, or ``None``."""
        ...

    def resolve_dead_letter(self, id: int, status: str, resolution: str, at: str) -> None:
        """Close an open dead letter as ``replayed`` or ``discarded``; ``ValueError`` for
        another status, ``LookupError`` when no open dead letter has this id."""
        ...

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
        """Store a new API key (the secret's hash only)."""
        ...

    def find_api_key_by_prefix(self, prefix: str) -> ApiKeyRow | None:
        """The newest key with this public prefix, revoked or not."""
        ...

    def api_keys(self) -> list[ApiKeyRow]:
        """Every API key, oldest first."""
        ...

    def revoke_api_key(self, id: str, at: str) -> None:
        """Revoke a key from ``at`` on (revoking twice keeps the first time);
        ``LookupError`` for an unknown id."""
        ...

    # -- outbound delivery (the worker, the admin views) ------------------------------

    def claim_outbox(
        self,
        worker: str,
        now: str,
        lease_until: str,
        limit: int,
        *,
        skip_topics: Sequence[str] = (),
    ) -> list[OutboxEntry]:
        """Lease up to ``limit`` pending entries due by ``now`` that no live lease holds
        (``claimed_until`` absent or past) to ``worker`` until ``lease_until``, oldest due
        first; entries of ``skip_topics`` are left alone. Two units of work never claim
        the same entry while its lease lasts."""
        ...

    def record_attempts(self, worker: str, attempts: Sequence[AttemptRow]) -> int:
        """Record each attempt with what it sent under a business key (a key recorded
        before is kept as it was), and move each entry ``worker`` still holds to the
        attempt's status, attempts count and ``available_at``, releasing the lease; returns
        how many entries moved (an entry whose lease another worker took over keeps its
        state)."""
        ...

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        """The business keys among ``keys`` that a recorded attempt sent."""
        ...

    def count_sends(self, recipient: str, since: str) -> int:
        """How many recorded sends went to ``recipient`` at or after ``since``."""
        ...

    def outbox_entries(
        self, status: str | None = None, *, after: int = 0, limit: int = 100
    ) -> list[OutboxEntry]:
        """Outbox entries with an id greater than ``after``, of one status (``None``: all),
        in the order written."""
        ...

    def get_outbox_entry(self, id: int) -> OutboxEntry | None:
        """One outbox entry by id, or ``None``."""
        ...

    def replay_outbox(self, id: int, now: str) -> OutboxEntry:
        """Make a delivered, superseded or dead entry pending again from ``now`` with its
        attempts count reset; ``LookupError`` for an unknown id, ``ValueError`` for an entry
        that is still pending."""
        ...

    def delivery_attempts(
        self, *, process_id: str | None = None, outbox_id: int | None = None, limit: int = 1000
    ) -> list[DeliveryAttempt]:
        """Recorded attempts of one process's or one entry's messages, oldest first."""
        ...

    def outbox_stats(self, now: str) -> OutboxStats:
        """The backlog per topic and status, attempts per outcome and the oldest due entry."""
        ...

    def purge_attempts(self, before: str, limit: int) -> tuple[int, int]:
        """Delete the attempts of up to ``limit`` finished entries (sent or superseded)
        whose last attempt was before ``before``, lowest outbox id first; returns how many
        entries and attempts. Pending and dead entries keep theirs."""
        ...

    def oldest_due_outbox(self, now: str) -> str | None:
        """The ``available_at`` of the oldest pending entry due by ``now`` (``None``: none)."""
        ...

    def log_cursor(self, name: str) -> int:
        """Where the event-log reader ``name`` got to (a log position; 0: the start)."""
        ...

    def move_log_cursor(self, name: str, expected: int, position: int) -> bool:
        """Move reader ``name`` from ``expected`` to ``position``; ``False`` (nothing
        changed) when another reader moved it first."""
        ...

    # -- webhook subscriptions --------------------------------------------------------

    def add_subscription(self, subscription: Subscription) -> None:
        """Store a new subscription."""
        ...

    def subscriptions(self) -> list[Subscription]:
        """Every subscription, oldest first."""
        ...

    def update_subscription(self, subscription: Subscription) -> None:
        """Replace the stored subscription of the same id; ``LookupError`` if unknown."""
        ...


class Store(Protocol):
    """Hands out units of work over one database."""

    @property
    def reads_wait_on_a_server(self) -> bool:
        """True when a read mostly waits on a server, so reading on a thread pays off."""
        ...

    @property
    def single_connection(self) -> bool:
        """True when units of work cannot run side by side (streams then go one batch at
        a time)."""
        ...

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work to use in a ``with`` block; a ``read_only`` one must not write."""
        ...

    def read_state(self, process_id: str) -> ProcessState | None:
        """The stored state of one process, or ``None``: one read on its own, the cheapest
        the store has (the status view reads nothing else)."""
        ...

    def render(self, batch: WriteBatch) -> RenderedRows:
        """The rows ``batch`` writes, serialised now: the states and events it refers to
        may change afterwards without changing what is written (streamed ingest)."""
        ...

    def batch_writer(self, kind: WriterKind) -> BatchWriter:
        """A writer of rendered batches, in a child process or on a thread."""
        ...

    def readiness(self) -> Readiness:
        """Whether the database answers, whether it can write now, and whether its schema
        is the one the code needs."""
        ...

    def close(self) -> None:
        """Release the connections; the store is not used afterwards."""
        ...
