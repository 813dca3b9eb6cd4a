"""Database faults become the services' exceptions: writers aborted by the database
(deadlock, lock, serialization) are a ``ConcurrencyConflict``, storage faults a
``StoreUnavailable``; a lost connection is replaced before use; readiness tells a store
that cannot write."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from relevo.adapters.db.batch_writer import BatchWriter, ProcessWriter, ThreadWriter
from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.faults import translate
from relevo.adapters.db.migrate import upgrade
from relevo.adapters.db.store import SqlStore, render
from relevo.services.batch_writing import WriteJob
from relevo.services.records import ConcurrencyConflict, StoreUnavailable, WriteBatch
from relevo.services.unit_of_work import Store

from .builders import event_entry, make_state, moment, start_batch


def sqlite_error(message: str, name: str) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError(message)
    error.sqlite_errorname = name
    return error


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.errors.LockNotAvailable("could not obtain lock on row"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_writers_aborted_by_the_database_are_a_conflict(error: Exception) -> None:
    wrapped = sa.exc.OperationalError("UPDATE …", None, error)
    assert isinstance(translate(error), ConcurrencyConflict)
    assert isinstance(translate(wrapped), ConcurrencyConflict)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.DiskFull("could not extend file: No space left on device"),
        psycopg.errors.ReadOnlySqlTransaction("cannot execute INSERT in a read-only transaction"),
        psycopg.errors.CannotConnectNow("the database system is starting up"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.InterfaceError("the connection is closed"),
        sqlite_error("attempt to write a readonly database", "SQLITE_READONLY"),
        sqlite_error("database is locked", "SQLITE_BUSY"),
        sqlite_error("disk I/O error", "SQLITE_IOERR_WRITE"),
        sqlite_error("database or disk is full", "SQLITE_FULL"),
        sa.exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    ],
    ids=lambda error: f"{type(error).__name__}-{str(error)[:20]}",
)
def test_storage_faults_are_unavailable_with_a_hint(error: Exception) -> None:
    mapped = translate(error, retry_after=7)
    assert isinstance(mapped, StoreUnavailable)
    assert mapped.retry_after == 7
    assert mapped.reason == str(error).splitlines()[0]


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.UniqueViolation("duplicate key value"),
        psycopg.errors.UndefinedTable('relation "nope" does not exist'),
        sqlite_error("no such table: nope", "SQLITE_ERROR"),
        ValueError("not a database error"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_other_errors_are_left_alone(error: Exception) -> None:
    assert translate(error) is None


# -- on the real databases ------------------------------------------------------------------


@pytest.fixture(params=["process", "thread"])
def writer(request: pytest.FixtureRequest, store: SqlStore) -> Iterator[BatchWriter]:
    made: BatchWriter = ProcessWriter(store) if request.param == "process" else ThreadWriter(store)
    yield made
    made.close()


def second_events(*ids: str) -> WriteBatch:
    return WriteBatch(
        events=[event_entry(pid, 2) for pid in ids],
        changed_states=[make_state(pid, version=2, stage="donor_check") for pid in ids],
        at=moment(5),
    )


def wait_for_a_lock_wait(store: SqlStore) -> None:
    """Return once some connection of this database waits for a lock."""
    query = (
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    with store.engine.connect() as conn:
        for _ in range(300):
            if conn.exec_driver_sql(query).scalar():
                return
            conn.rollback()  # a new snapshot of the activity
            time.sleep(0.01)
    raise AssertionError("nobody waited for a lock")


def test_a_deadlock_with_the_batch_writer_is_a_conflict_on_either_side(
    store: SqlStore, writer: BatchWriter
) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: it cannot deadlock")
    for pid in ("p-a", "p-b"):
        writer.launch(WriteJob(render(start_batch(pid)), [], {}))
        writer.land()
    lock = "UPDATE processes SET version = version WHERE id = %s"
    raised: dict[str, Exception | None] = {"writer": None, "other": None}

    def land() -> None:
        try:
            writer.land()
        except Exception as error:
            raised["writer"] = error

    landing = threading.Thread(target=land)
    with store.unit_of_work() as other:
        other.connection.exec_driver_sql(lock, ("p-b",))
        # The writer locks p-a (processes go in id order), then waits for p-b …
        writer.launch(WriteJob(render(second_events("p-b", "p-a")), [], {}))
        landing.start()
        wait_for_a_lock_wait(store)
        # … which ``other`` holds while it waits for p-a: the database aborts one of them.
        try:
            other.connection.exec_driver_sql(lock, ("p-a",))
        except sa.exc.DBAPIError as error:
            raised["other"] = translate(error)
    landing.join(timeout=30)
    aborted = [error for error in raised.values() if error is not None]
    assert len(aborted) == 1, raised
    assert isinstance(aborted[0], ConcurrencyConflict), raised


def test_a_connection_the_server_dropped_is_replaced_before_use(store: SqlStore) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    with store.unit_of_work() as uow:
        uow.save(start_batch("p-1"))
        uow.commit()
    admin = create_engine(store.engine.url.render_as_string(hide_password=False))
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        admin.dispose()
    with store.unit_of_work(read_only=True) as uow:
        assert uow.process_versions(["p-1"]) == {"p-1": 1}


def read_only_store(path: Path) -> SqlStore:
    """A store over a SQLite file opened read-only: every write fails, even as root."""
    writable = create_engine(f"sqlite:///{path}")
    upgrade(writable)
    writable.dispose()
    return SqlStore(create_engine(f"sqlite:///file:{path}?mode=ro&uri=true"), retry_after=5)


def test_a_read_only_database_is_unavailable_not_an_error(tmp_path: Path) -> None:
    store = read_only_store(tmp_path / "relevo.db")
    try:
        with (
            pytest.raises(StoreUnavailable, match="readonly") as raised,
            store.unit_of_work() as uow,
        ):
            uow.save(start_batch("p-1"))
            uow.commit()
        assert raised.value.retry_after == 5
        with store.unit_of_work(read_only=True) as uow:
            assert uow.process_versions(["p-1"]) == {}
    finally:
        store.close()


def test_every_store_says_it_takes_writes(any_store: Store) -> None:
    ready = any_store.readiness()
    assert (ready.reachable, ready.writable, ready.problem) == (True, True, None)


def test_readiness_says_when_the_store_cannot_write(tmp_path: Path) -> None:
    read_only = read_only_store(tmp_path / "relevo.db")
    try:
        ready = read_only.readiness()
    finally:
        read_only.close()
    assert ready.reachable and ready.revision == ready.head
    assert not ready.writable
    assert "readonly" in (ready.problem or "")


def test_a_sqlite_file_locked_by_another_writer_still_counts_as_writable(
    tmp_path: Path,
) -> None:
    store = SqlStore(create_engine(f"sqlite:///{tmp_path / 'relevo.db'}"))
    upgrade(store.engine)
    try:
        with store.unit_of_work():  # holds the write lock (BEGIN IMMEDIATE)
            ready = store.readiness()
    finally:
        store.close()
    assert ready.writable, ready.problem
