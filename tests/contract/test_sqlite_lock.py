"""Taking SQLite's write lock in turn (``adapters.db.sqlite_lock``): a waiting writer gets
the lock as soon as it is free, gives up after its wait, and leaves the connection's busy
timeout as it was asked."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from relevo.adapters.db.sqlite_lock import LONGEST_PAUSE_S, begin_immediate


def connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


def busy_timeout(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA busy_timeout").fetchone()[0])


def test_a_waiting_writer_gets_the_lock_once_the_holder_commits(tmp_path: Path) -> None:
    holder, waiter = connect(tmp_path / "db"), connect(tmp_path / "db")
    holder.execute("BEGIN IMMEDIATE")
    released = threading.Event()

    def release() -> None:
        released.wait()
        holder.execute("COMMIT")

    thread = threading.Thread(target=release)
    thread.start()
    tries: list[float] = []

    def sleep(seconds: float) -> None:
        tries.append(seconds)
        if len(tries) == 3:
            released.set()
            thread.join()

    begin_immediate(waiter, 5000, sleep=sleep)
    waiter.execute("COMMIT")
    assert len(tries) == 3
    assert busy_timeout(waiter) == 5000


def test_a_writer_gives_up_after_its_wait_with_database_is_locked(tmp_path: Path) -> None:
    holder, waiter = connect(tmp_path / "db"), connect(tmp_path / "db")
    holder.execute("BEGIN IMMEDIATE")
    now = [0.0]

    def sleep(seconds: float) -> None:
        assert seconds <= LONGEST_PAUSE_S  # never one of SQLite's long naps
        now[0] += seconds

    with pytest.raises(sqlite3.OperationalError, match="locked"):
        begin_immediate(waiter, 200, sleep=sleep, monotonic=lambda: now[0])
    assert 0.19 < now[0] <= 0.2
    assert busy_timeout(waiter) == 200
    assert not waiter.in_transaction


def test_other_errors_are_raised_at_once(tmp_path: Path) -> None:
    writer = connect(tmp_path / "db")
    writer.execute("BEGIN")

    def sleep(seconds: float) -> None:
        raise AssertionError("not a wait for the lock")

    with pytest.raises(sqlite3.OperationalError, match="within a transaction"):
        begin_immediate(writer, 5000, sleep=sleep)
