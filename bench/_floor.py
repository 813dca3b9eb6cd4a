"""Recording the SQL that relevo's store sends, and replaying it bare with ``sqlite3``.

Shared by ``bench/sqlite_floor.py`` and ``bench/peer_spiffworkflow.py``: the replay runs the
same statements with the same parameters and connection settings, one transaction per
recorded commit, with nothing else in the loop, which measures how fast the database alone
does what a run asked of it.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from relevo.adapters.db import dialect

#: One statement as the store sent it: SQL, parameters, and whether it was an executemany.
Statement = tuple[str, Any, bool]


@dataclass
class Recording:
    """The statements of each committed transaction, in order."""

    transactions: list[list[Statement]] = field(default_factory=list)
    _current: list[Statement] = field(default_factory=list)

    def statements(self) -> int:
        """How many statements were recorded in committed transactions."""
        return sum(len(t) for t in self.transactions)


@contextmanager
def recording(engine: sa.Engine) -> Iterator[Recording]:
    """Record every statement ``engine`` runs while the block lasts, grouped by commit.

    Transaction control (``BEGIN``) is left out: the replay opens its own transactions.
    Statements of a rolled-back transaction are dropped with it.
    """
    record = Recording()

    def on_execute(
        _conn: Any, _cursor: Any, sql: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        # The parameters are kept as given (the store builds a new list per statement):
        # copying them would slow the run being recorded.
        if not sql.lstrip().upper().startswith("BEGIN"):
            record._current.append((sql, parameters, many))

    def on_commit(_conn: Any) -> None:
        record.transactions.append(record._current)
        record._current = []

    def on_rollback(_conn: Any) -> None:
        record._current = []

    sa.event.listen(engine, "before_cursor_execute", on_execute)
    sa.event.listen(engine, "commit", on_commit)
    sa.event.listen(engine, "rollback", on_rollback)
    try:
        yield record
    finally:
        sa.event.remove(engine, "before_cursor_execute", on_execute)
        sa.event.remove(engine, "commit", on_commit)
        sa.event.remove(engine, "rollback", on_rollback)


def is_write(statement: Statement) -> bool:
    """True for the statements that change the database."""
    return statement[0].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))


def is_projection_update(statement: Statement) -> bool:
    """True for the update of the process projection (one row per process per batch)."""
    return statement[0].lstrip().upper().startswith("UPDATE PROCESSES")


@dataclass
class Replay:
    """What one bare replay took."""

    wall_s: float
    cpu_s: float
    commit_s: float


def replay(
    database: Path,
    transactions: Sequence[Sequence[Statement]],
    keep: Callable[[Statement], bool] = lambda _s: True,
) -> Replay:
    """Run the kept statements of ``transactions`` on ``database`` with the plain sqlite3
    module, relevo's connection settings and one ``BEGIN IMMEDIATE`` … ``COMMIT`` each.

    Reads are fetched whole, as the store does. The statements are filtered before the
    clock starts.
    """
    work = [[s for s in transaction if keep(s)] for transaction in transactions]
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        for pragma in dialect._SQLITE_PRAGMAS:
            conn.execute(pragma)
        commit_s = 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        for statements in work:
            conn.execute("BEGIN IMMEDIATE")
            for sql, parameters, many in statements:
                if many:
                    conn.executemany(sql, parameters)
                else:
                    conn.execute(sql, parameters).fetchall()
            started = time.perf_counter()
            conn.execute("COMMIT")
            commit_s += time.perf_counter() - started
        return Replay(time.perf_counter() - wall, time.process_time() - cpu, commit_s)
    finally:
        conn.close()


def checkpointed_copy(source: Path, target: Path) -> Path:
    """A copy of the SQLite database ``source`` (WAL folded in first) at ``target``."""
    conn = sqlite3.connect(source)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return target


#: The tables an ingest writes, compared after a replay.
INGEST_TABLES = ("events", "processes", "correlation_keys", "inbox", "outbox", "dead_letters")


def content_digest(database: Path, tables: Sequence[str] = INGEST_TABLES) -> dict[str, str]:
    """Per table of ``database``: its row count and a SHA-256 of its rows in insertion
    order, as ``"count:digest"``. Equal digests mean a replay wrote what the run wrote."""
    conn = sqlite3.connect(database)
    try:
        out = {}
        for table in tables:
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                digest.update(repr(row).encode())
                count += 1
            out[table] = f"{count}:{digest.hexdigest()}"
        return out
    finally:
        conn.close()
