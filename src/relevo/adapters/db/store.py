"""The SQL store: the unit of work through which the services read and write.

The SQL lives in this package only: the ingest lookups and the transaction here, the
set-wise write path in ``writes``, the reads in ``queries``, and what differs between
SQLite and PostgreSQL in ``dialect`` (connections) and ``bulk`` (set-wise statements). A
batch costs one statement per table whatever its size, so the cost per event stays flat.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import sqlalchemy as sa

from relevo.adapters.db import bulk, dialect, writes
from relevo.adapters.db import tables as t
from relevo.adapters.db.faults import translate, translated, write_refusal
from relevo.adapters.db.outbox_queries import OutboxQueries
from relevo.adapters.db.queries import Queries
from relevo.adapters.db.support import CHUNK, load_state
from relevo.adapters.db.writes import RenderedBatch
from relevo.domain.model import ProcessState, iso
from relevo.services.batch_writing import BatchWriter, WriterKind
from relevo.services.chunking import chunks
from relevo.services.records import (
    DEFAULT_RETRY_AFTER,
    Holders,
    KeyConflict,
    Readiness,
    StoreUnavailable,
    WriteBatch,
)

__all__ = ["RenderedBatch", "SqlStore", "UnitOfWork", "render"]

_INBOX_KEY = ("source", "message_id")
_INBOX_RECEIVED = (*_INBOX_KEY, "digest")


def render(batch: WriteBatch) -> RenderedBatch:
    """Serialise the rows of ``batch`` now: the states and events it refers to may change
    afterwards without changing what ``UnitOfWork.save`` writes."""
    return writes.render(batch, batch.at or iso(datetime.now(UTC)))


#: ``read_state``'s statement on SQLite (the driver's own placeholders).
_STATE_BY_ID = f"SELECT state FROM {t.processes.name} WHERE id = ?"


class SqlStore:
    """Hands out units of work over one engine (SQLite or PostgreSQL).

    A unit of work raises ``ConcurrencyConflict`` when the database aborts it to break a
    deadlock between writers, and ``StoreUnavailable`` (telling callers to wait
    ``retry_after`` seconds) for a storage fault; see ``relevo.adapters.db.faults``.
    """

    def __init__(self, engine: sa.Engine, *, retry_after: int = DEFAULT_RETRY_AFTER) -> None:
        self.engine = engine
        self.retry_after = retry_after
        #: ``read_state`` goes straight to the driver (a SQLite file; see there).
        self._direct_reads = engine.dialect.name == dialect.SQLITE and not dialect.is_in_memory(
            engine.url
        )

    @property
    def reads_wait_on_a_server(self) -> bool:
        """True when a query mostly waits for a server (PostgreSQL), so that a thread
        reading ahead leaves this process's Python free; SQLite reads run in-process."""
        return self.engine.dialect.name != dialect.SQLITE

    @property
    def single_connection(self) -> bool:
        """True when every unit of work shares one connection (in-memory SQLite), so a
        reader cannot run beside a writer."""
        return dialect.is_in_memory(self.engine.url)

    def read_state(self, process_id: str) -> ProcessState | None:
        """The stored state of one process, or ``None``, read by one statement on its own.

        On a SQLite file the statement goes straight to the driver, outside any transaction:
        SQLite reads one consistent snapshot per statement, so the ``BEGIN``, the
        ``ROLLBACK`` and SQLAlchemy's execution path of a unit of work add nothing but cost
        (each call into SQLite also hands Python's lock to another thread of a busy server).
        Elsewhere (PostgreSQL, an in-memory database whose one connection units of work
        share) it is a read-only unit of work."""
        if not self._direct_reads:
            with self.unit_of_work(read_only=True) as uow:
                return uow.get_state(process_id)
        with translated(self.retry_after):
            pooled = self.engine.raw_connection()
            try:
                driver = pooled.driver_connection
                assert driver is not None
                # fetchall: the statement runs to its end, so its read snapshot is released.
                rows = driver.execute(_STATE_BY_ID, (process_id,)).fetchall()
            finally:
                pooled.close()
        return load_state(rows[0][0]) if rows else None

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work to use in a ``with`` block.

        ``read_only`` lets SQLite readers run beside a writer instead of queueing for the
        write lock; such a unit of work must not write.
        """
        return UnitOfWork(self.engine, read_only=read_only, retry_after=self.retry_after)

    def render(self, batch: WriteBatch) -> RenderedBatch:
        """The rows of ``batch`` as ``render`` gives them."""
        return render(batch)

    def batch_writer(self, kind: WriterKind) -> BatchWriter:
        """A writer of rendered batches in a child process (``process``) or on a thread."""
        # The writers build stores of their own (the child process): imported on use.
        from relevo.adapters.db.batch_writer import ProcessWriter, ThreadWriter

        if kind == "process":
            return ProcessWriter(self)
        if kind == "thread":
            return ThreadWriter(self)
        raise ValueError(f"unknown ingest writer {kind!r}: use process or thread")

    def readiness(self) -> Readiness:
        """Whether the database answers, whether it can take a write now (see
        ``faults.write_refusal``; ``problem`` says why not), and its schema revision beside
        the code's."""
        # Alembic is imported on demand: ingest and reads never need it.
        from relevo.adapters.db import migrate

        head = migrate.head_revision()
        try:
            with self.engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
            revision = migrate.current_revision(self.engine)
        except sa.exc.SQLAlchemyError as error:
            return Readiness(reachable=False, head=head, problem=type(error).__name__)
        refusal = write_refusal(self.engine)
        return Readiness(
            reachable=True, revision=revision, head=head, problem=refusal, writable=not refusal
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


class UnitOfWork(Queries, OutboxQueries):
    """One transaction: entering opens it, ``commit()`` commits it, leaving the ``with``
    block without committing rolls it back. After ``commit()`` the next statement opens a
    new transaction."""

    def __init__(
        self, engine: sa.Engine, *, read_only: bool = False, retry_after: int = DEFAULT_RETRY_AFTER
    ) -> None:
        self._engine = engine
        self._read_only = read_only
        self._retry_after = retry_after
        self._conn: sa.Connection | None = None

    def __enter__(self) -> Self:
        with translated(self._retry_after):
            conn = self._engine.connect()
            try:
                if self._read_only:
                    conn.execution_options(**{dialect.READ_ONLY: True})
                conn.begin()
            except BaseException:
                conn.close()
                raise
        self._conn = conn
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            with translated(self._retry_after):
                try:
                    conn.rollback()
                finally:
                    conn.close()
        except StoreUnavailable:
            if exc is None:
                raise
            # The block's own error (the connection broke, most likely) says more.
        mapped = translate(exc, self._retry_after) if isinstance(exc, Exception) else None
        if mapped is not None:
            raise mapped from exc

    @property
    def connection(self) -> sa.Connection:
        """The open connection; for adapters that add their own queries (workers)."""
        if self._conn is None:
            raise RuntimeError("unit of work used outside its 'with' block")
        return self._conn

    def commit(self) -> None:
        """Commit everything written since the transaction began."""
        with translated(self._retry_after):
            self.connection.commit()

    def rollback(self) -> None:
        """Discard everything written since the transaction began."""
        self.connection.rollback()

    # -- ingest lookups: one query per chunk of 500 -----------------------------------

    def inbox_seen(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """The ``(source, message_id)`` pairs among ``keys`` already in the inbox."""
        seen: set[tuple[str, str]] = set()
        for chunk in chunks(list(dict.fromkeys(keys)), CHUNK):
            rows = bulk.select_by_keys(self.connection, t.inbox, _INBOX_KEY, _INBOX_KEY, chunk)
            seen.update((source, message_id) for source, message_id in rows)
        return seen

    def inbox_received(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """The pairs among ``keys`` already in the inbox, with their content digests."""
        received: dict[tuple[str, str], str | None] = {}
        for chunk in chunks(list(dict.fromkeys(keys)), CHUNK):
            rows = bulk.select_by_keys(self.connection, t.inbox, _INBOX_RECEIVED, _INBOX_KEY, chunk)
            received.update(((source, message_id), digest) for source, message_id, digest in rows)
        return received

    def lookup_keys(
        self, pairs: Iterable[tuple[str, str]], *, include_inactive: bool = False
    ) -> Holders:
        """For each ``(name, value)`` held by active keys: ``[(kind, process_id), …]``,
        newest holder first.

        Pairs without a key are absent from the result. ``include_inactive`` also returns
        released keys (to route late messages to finished processes).
        """
        only_if = None if include_inactive else {"active": True}
        found: Holders = {}
        for chunk in chunks(list(dict.fromkeys(pairs)), CHUNK):
            rows = bulk.select_by_keys(
                self.connection,
                t.correlation_keys,
                ("name", "value", "kind", "process_id"),
                ("name", "value"),
                chunk,
                only_if=only_if,
                # A released key may have belonged to several processes over time.
                newest_first="id",
            )
            for name, value, kind, process_id in rows:
                found.setdefault((name, value), []).append((kind, process_id))
        return found

    def key_holders(self, pairs: Sequence[tuple[str, str]]) -> Holders:
        """Who holds each ``(name, value)``: the active holders, and for a pair no active
        process holds, the processes that held it before (late messages still reach a
        finished process, which records them as ignored). Pairs nobody ever held are absent.
        """
        found = self.lookup_keys(pairs) if pairs else {}
        missing = [pair for pair in pairs if pair not in found]
        if missing:
            found.update(self.lookup_keys(missing, include_inactive=True))
        return found

    def process_versions(self, ids: Iterable[str]) -> dict[str, int]:
        """The stored version of each given process id; unknown ids are absent.

        Reads the projection's columns only, never the state document.
        """
        versions: dict[str, int] = {}
        for chunk in chunks([(pid,) for pid in dict.fromkeys(ids)], CHUNK):
            rows = bulk.select_by_keys(
                self.connection, t.processes, ("id", "version"), ("id",), chunk
            )
            versions.update((pid, version) for pid, version in rows)
        return versions

    def load_states(self, ids: Iterable[str]) -> dict[str, ProcessState]:
        """The stored states of the given process ids; unknown ids are absent."""
        states: dict[str, ProcessState] = {}
        for chunk in chunks([(pid,) for pid in dict.fromkeys(ids)], CHUNK):
            for (text,) in bulk.select_by_keys(
                self.connection, t.processes, ("state",), ("id",), chunk
            ):
                state = load_state(text)
                states[state.id] = state
        return states

    # -- the write path ---------------------------------------------------------------

    def save(self, batch: WriteBatch | RenderedBatch) -> None:
        """Write a batch set-wise: one statement per table that has rows.

        The batch is atomic: on ``ConcurrencyConflict`` or ``KeyConflict`` nothing of it is
        written and the unit of work stays usable (the caller may reload and retry); after
        a deadlock (a ``ConcurrencyConflict`` too) retry in a new unit of work, as this one
        still holds its locks.
        """
        rendered = batch if isinstance(batch, RenderedBatch) else render(batch)
        try:
            with translated(self._retry_after), self.connection.begin_nested():
                writes.write(self.connection, rendered)
        except writes.KeyInsertFailed as failure:
            raise self._key_conflict(rendered) from failure.__cause__

    def _key_conflict(self, rendered: RenderedBatch) -> KeyConflict:
        """Name the key that made the insert fail: a clash inside the batch or a key that
        another process holds."""
        claimed: dict[tuple[str, str, str], str] = {}
        for kind, name, value, pid, active in rendered.keys:
            if not active:  # added to a process this batch also finishes
                continue
            key = (kind, name, value)
            if claimed.setdefault(key, pid) != pid:
                return KeyConflict(key, claimed[key])
        held = self.lookup_keys((name, value) for _kind, name, value in claimed)
        for kind, name, value in claimed:
            for held_kind, holder in held.get((name, value), []):
                if held_kind == kind:
                    return KeyConflict((kind, name, value), holder)
        # The holder let go meanwhile; report the first key, a retry will settle it.
        return KeyConflict(next(iter(claimed)))
