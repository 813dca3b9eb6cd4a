"""Taking SQLite's write lock in turn.

SQLite's own busy handler sleeps longer and longer between its tries while it waits (up to
100 ms), so a writer waiting behind a busy one tries rarely, and a writer that releases the
lock and takes it again at once (ingest, batch after batch) wins nearly every time: the
waiter starves (the worker's claim waited seconds behind full-speed ingest). Here
``BEGIN IMMEDIATE`` is tried without SQLite's wait and retried every few hundred
microseconds up to the same limit, so a waiting writer finds the first gap between the
holder's transactions.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

#: The first pause between two tries and the longest one: short enough to catch the gap
#: between two of ingest's batches, long enough that a waiting writer costs next to no CPU.
FIRST_PAUSE_S = 0.0002
LONGEST_PAUSE_S = 0.002


def begin_immediate(
    driver: sqlite3.Connection,
    wait_ms: int,
    *,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> None:
    """Open a write transaction (``BEGIN IMMEDIATE``) on ``driver``, waiting at most
    ``wait_ms`` for the write lock; then leave the connection's busy timeout at
    ``wait_ms`` for the statements that follow. Raises ``sqlite3.OperationalError``
    (``SQLITE_BUSY``, "database is locked") when the lock did not come free in time, and
    any other error of the ``BEGIN`` at once."""
    driver.execute("PRAGMA busy_timeout=0")
    try:
        deadline = monotonic() + wait_ms / 1000
        pause = FIRST_PAUSE_S
        while True:
            try:
                driver.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _busy(error) or monotonic() + pause > deadline:
                    raise
            sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)
    finally:
        driver.execute(f"PRAGMA busy_timeout={wait_ms}")


def _busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorname", "").startswith("SQLITE_BUSY")
