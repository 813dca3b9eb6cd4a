"""The in-memory store: the services' ``Store`` and ``UnitOfWork`` without a database, for
tests and experiments.

Transactions behave as SQLite's do: a writing unit of work takes the store's write lock
when it begins and keeps it until it ends, so writers queue and never interleave; a
read-only one reads what was committed when it began and never waits. Writes stay
invisible to other units of work until committed and vanish on rollback.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

from relevo.adapters.memory.outbox import OutboxTables
from relevo.adapters.memory.tables import Tables, apply
from relevo.domain.model import ProcessState, iso
from relevo.services.batch_writing import BatchWriter, RenderedRows, WriterKind
from relevo.services.records import (
    DEAD_LETTER_RESOLUTIONS,
    ApiKeyRow,
    DeadLetter,
    Holders,
    OutboxMessage,
    Readiness,
    StoredEvent,
    WriteBatch,
)

#: How long a writer waits for the write lock before giving up (as SQLite's busy timeout).
LOCK_TIMEOUT = 30.0
#: The schema "revision" an in-memory store reports: always the one the code needs.
REVISION = "memory"


class MemoryStore:
    """Hands out units of work over data kept in this process."""

    def __init__(self) -> None:
        self.committed = Tables()
        self.write_lock = threading.Lock()

    @property
    def reads_wait_on_a_server(self) -> bool:
        """False: reads run in this process."""
        return False

    @property
    def single_connection(self) -> bool:
        """True: streams are ingested one batch at a time, with no batch writer."""
        return True

    def read_state(self, process_id: str) -> ProcessState | None:
        """The stored state of one process, or ``None``."""
        with self.unit_of_work(read_only=True) as uow:
            return uow.get_state(process_id)

    def unit_of_work(self, *, read_only: bool = False) -> MemoryUnitOfWork:
        """A unit of work to use in a ``with`` block; a ``read_only`` one must not write."""
        return MemoryUnitOfWork(self, read_only=read_only)

    def render(self, batch: WriteBatch) -> RenderedRows:
        """Not offered: a stream over this store is written one batch at a time."""
        raise NotImplementedError("the in-memory store writes streams one batch at a time")

    def batch_writer(self, kind: WriterKind) -> BatchWriter:
        """Not offered: a stream over this store is written one batch at a time."""
        raise NotImplementedError("the in-memory store writes streams one batch at a time")

    def readiness(self) -> Readiness:
        """Always ready: memory always answers and takes writes."""
        return Readiness(reachable=True, revision=REVISION, head=REVISION, writable=True)

    def close(self) -> None:
        """Nothing to release."""


class MemoryUnitOfWork(OutboxTables):
    """One transaction over a ``MemoryStore`` (see the module docstring)."""

    def __init__(self, store: MemoryStore, *, read_only: bool = False) -> None:
        self._store = store
        self._read_only = read_only
        self._work: Tables | None = None

    def __enter__(self) -> Self:
        if not self._read_only and not self._store.write_lock.acquire(timeout=LOCK_TIMEOUT):
            raise TimeoutError("the in-memory store stayed locked by another writer")
        self._work = self._store.committed
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        entered, self._work = self._work, None
        if entered is not None and not self._read_only:
            self._store.write_lock.release()

    @property
    def _tables(self) -> Tables:
        if self._work is None:
            raise RuntimeError("unit of work used outside its 'with' block")
        return self._work

    def _change(self) -> Tables:
        """A copy of the data to change: kept by ``_keep`` once the change succeeded."""
        if self._read_only:
            raise RuntimeError("a read-only unit of work must not write")
        return self._tables.copy()

    def _keep(self, changed: Tables) -> None:
        self._work = changed

    def commit(self) -> None:
        """Make everything written so far visible to later units of work."""
        tables = self._tables
        if not self._read_only:
            self._store.committed = tables

    def rollback(self) -> None:
        """Discard everything written since the last commit."""
        if self._work is None:
            raise RuntimeError("unit of work used outside its 'with' block")
        self._work = self._store.committed

    # -- ingest lookups ---------------------------------------------------------------

    def inbox_seen(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The ``(source, message_id)`` pairs among ``keys`` already in the inbox."""
        inbox = self._tables.inbox
        return {key for key in keys if key in inbox}

    def inbox_received(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """The pairs among ``keys`` already in the inbox, with their content digests."""
        inbox = self._tables.inbox
        return {key: inbox[key].digest for key in keys if key in inbox}

    def lookup_keys(
        self, pairs: Iterable[tuple[str, str]], *, include_inactive: bool = False
    ) -> Holders:
        """Holders of each pair, newest first: active ones, or any with ``include_inactive``."""
        wanted = set(pairs)
        found: Holders = {}
        for key in reversed(self._tables.keys):
            pair = (key.name, key.value)
            if pair in wanted and (key.active or include_inactive):
                found.setdefault(pair, []).append((key.kind, key.process_id))
        return found

    def key_holders(self, pairs: Sequence[tuple[str, str]]) -> Holders:
        """Active holders of each pair, or its past holders when none is active."""
        every = self.lookup_keys(pairs, include_inactive=True)
        active = self.lookup_keys(pairs)
        return {pair: active.get(pair, holders) for pair, holders in every.items()}

    def process_versions(self, ids: Iterable[str]) -> dict[str, int]:
        """The stored version of each given process id; unknown ids are absent."""
        processes = self._tables.processes
        return {pid: processes[pid].version for pid in ids if pid in processes}

    def load_states(self, ids: Iterable[str]) -> dict[str, ProcessState]:
        """Fresh copies of the stored states of the given ids; unknown ids are absent."""
        processes = self._tables.processes
        return {pid: processes[pid].load() for pid in ids if pid in processes}

    # -- the write path ---------------------------------------------------------------

    def save(self, batch: WriteBatch) -> None:
        """Write ``batch`` atomically; on a conflict nothing of it is written."""
        changed = self._change()
        apply(changed, batch, batch.at or iso(datetime.now(UTC)))
        self._keep(changed)

    # -- processes --------------------------------------------------------------------

    def get_state(self, process_id: str) -> ProcessState | None:
        """The stored state of one process, or ``None``."""
        row = self._tables.processes.get(process_id)
        return None if row is None else row.load()

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
        """Processes matching every given filter, most recently updated first."""
        tables = self._tables
        holders = None
        if key is not None:
            holders = {k.process_id for k in tables.keys if (k.name, k.value) == key}
        wanted = {"customer_id": customer_id, "subject": subject, "kind": kind, "status": status}
        matches = [
            (pid, row)
            for pid, row in tables.processes.items()
            if (holders is None or pid in holders)
            and all(v is None or getattr(row, f) == v for f, v in wanted.items())
        ]
        matches.sort(key=lambda match: match[0])
        matches.sort(key=lambda match: match[1].updated_at, reverse=True)
        return [row.load() for _, row in matches[:limit]]

    def count_processes(self, *, kind: str | None = None, status: str | None = None) -> int:
        """How many processes are stored, optionally of one kind and/or status."""
        return sum(
            1
            for row in self._tables.processes.values()
            if (kind is None or row.kind == kind) and (status is None or row.status == status)
        )

    def projection_columns(self, ids: Iterable[str]) -> dict[str, tuple[Any, ...]]:
        """Per process id: ``(status, stage, version, updated_at, next_timer_at)``."""
        processes = self._tables.processes
        return {
            pid: (row.status, row.stage, row.version, row.updated_at, row.next_timer_at)
            for pid in ids
            if (row := processes.get(pid)) is not None
        }

    def iter_process_ids(self) -> Iterator[str]:
        """Every process id in id order."""
        return iter(sorted(self._tables.processes))

    def due_timers(self, now: str, limit: int = 100) -> list[tuple[str, str]]:
        """``(process_id, due_at)`` of processes with a timer due by ``now``, earliest first."""
        due = [
            (row.next_timer_at, pid)
            for pid, row in self._tables.processes.items()
            if row.next_timer_at is not None and row.next_timer_at <= now
        ]
        return [(pid, at) for at, pid in sorted(due)[:limit]]

    # -- the event log and the outbox -------------------------------------------------

    def events_of(self, process_id: str) -> list[StoredEvent]:
        """The log of one process, by version."""
        entries = [e for e in self._tables.events if e.process_id == process_id]
        return [entry.load() for entry in sorted(entries, key=lambda e: e.version)]

    def read_events(self, after: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events with a position greater than ``after``, in log order."""
        entries = [e for e in self._tables.events if e.position > after]
        return [entry.load() for entry in entries[:limit]]

    def event_moments(self, after: int = 0, limit: int = 1000) -> list[tuple[int, str]]:
        """``(position, recorded_at)`` of the events after ``after``, in log order."""
        return [(e.position, e.event.recorded_at) for e in self.read_events(after, limit)]

    def outbox_messages(
        self, after: int = 0, *, except_topic: str | None = None
    ) -> list[OutboxMessage]:
        """Outbox messages with an id greater than ``after``, in the order written."""
        return [
            message
            for message in self._tables.outbox
            if message.id > after and message.topic != except_topic
        ]

    def last_outbox_id(self) -> int:
        """The id of the newest outbox message (0 when there is none)."""
        outbox = self._tables.outbox
        return outbox[-1].id if outbox else 0

    # -- dead letters -----------------------------------------------------------------

    def dead_letters(self, status: str | None = "open", limit: int = 100) -> list[DeadLetter]:
        """Dead letters in arrival order, of one status (``None``: all)."""
        letters = self._tables.dead_letters.values()
        return [d for d in letters if status is None or d.status == status][:limit]

    def get_dead_letter(self, id: int) -> DeadLetter | None:
        """One dead letter by id, or ``None``."""
        return self._tables.dead_letters.get(id)

    def resolve_dead_letter(self, id: int, status: str, resolution: str, at: str) -> None:
        """Close an open dead letter as ``replayed`` or ``discarded``."""
        if status not in DEAD_LETTER_RESOLUTIONS:
            raise ValueError(f"a dead letter is resolved as replayed or discarded, not {status!r}")
        letter = self._tables.dead_letters.get(id)
        if letter is None or letter.status != "open":
            raise LookupError(f"no open dead letter {id}")
        changed = self._change()
        changed.dead_letters[id] = replace(
            letter, status=status, resolution=resolution, resolved_at=at
        )
        changed.open_digests = {
            digest: held for digest, held in changed.open_digests.items() if held != id
        }
        self._keep(changed)

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
        changed = self._change()
        changed.api_keys[id] = ApiKeyRow(
            id, name, prefix, secret_hash, frozenset(scopes), created_at, None
        )
        self._keep(changed)

    def find_api_key_by_prefix(self, prefix: str) -> ApiKeyRow | None:
        """The newest key with this public prefix, revoked or not."""
        found = [k for k in self._tables.api_keys.values() if k.prefix == prefix]
        return max(found, key=lambda k: k.created_at, default=None)

    def api_keys(self) -> list[ApiKeyRow]:
        """Every API key, oldest first."""
        return sorted(self._tables.api_keys.values(), key=lambda k: (k.created_at, k.id))

    def revoke_api_key(self, id: str, at: str) -> None:
        """Revoke a key from ``at`` on; revoking twice keeps the first time."""
        key = self._tables.api_keys.get(id)
        if key is None:
            raise LookupError(f"no API key {id}")
        changed = self._change()
        changed.api_keys[id] = replace(key, revoked_at=key.revoked_at or at)
        self._keep(changed)
