"""How relevo connects to SQLite and PostgreSQL: URL rewriting, engine options, the
per-connection settings and how transactions begin.

This module and ``bulk`` (the set-wise statements of the ingest path) are the only ones that
look at the dialect name; everything else writes portable SQLAlchemy Core.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from relevo.adapters.db.sqlite_lock import begin_immediate

SQLITE = "sqlite"
POSTGRESQL = "postgresql"

#: Execution option that opens a deferred (shared) SQLite transaction instead of an
#: IMMEDIATE one; PostgreSQL ignores it.
READ_ONLY = "relevo_read_only"

#: How long a SQLite writer waits for the write lock before giving up ("database is locked").
BUSY_TIMEOUT_MS = 5000
#: Key of a pooled SQLite connection's ``info``: how long its next write transaction waits
#: for the write lock, in ms, when not ``BUSY_TIMEOUT_MS`` (the readiness probe's short wait).
WRITE_WAIT_MS = "relevo_write_wait_ms"

_SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    # Ingest batches touch thousands of index pages: a 32 MiB page cache keeps them hot, and
    # checkpointing every ~40 MiB of WAL instead of every 4 MiB stops a checkpoint (with
    # its fsync) from landing on nearly every commit.
    "PRAGMA cache_size=-32768",
    "PRAGMA wal_autocheckpoint=10000",
    "PRAGMA temp_store=MEMORY",
)


#: Pooled connections to a SQLite file: as many as threads may read at once (the
#: thread pool of the web server, anyio's default of 40, runs FastAPI's synchronous routes).
SQLITE_POOL_SIZE = 40


def resolve_url(url: str) -> sa.URL:
    """Parse a database URL, selecting psycopg 3 for PostgreSQL.

    Accepts ``sqlite://…``, ``postgresql://…``, ``postgres://…`` and
    ``postgresql+psycopg://…``; raises ``ValueError`` for any other backend or driver.
    """
    parsed = sa.make_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if backend in ("postgres", POSTGRESQL):
        if driver not in ("", "psycopg"):
            raise ValueError(f"unsupported PostgreSQL driver {driver!r}: use postgresql+psycopg")
        return parsed.set(drivername="postgresql+psycopg")
    if backend == SQLITE:
        return parsed
    raise ValueError(f"unsupported database {backend!r}: relevo runs on SQLite or PostgreSQL")


def engine_options(url: sa.URL) -> dict[str, Any]:
    """Extra ``create_engine`` arguments for the database behind ``url``."""
    if url.get_backend_name() == POSTGRESQL:
        return {
            # No server-side prepared statements: a generic plan made while a table was
            # small (seq scan) outlives its growth, and poolers in transaction mode cannot
            # keep them.
            "connect_args": {"prepare_threshold": None},
            # A pooled connection the server dropped (restart, failover, idle timeout) is
            # found by a ping when checked out and replaced, instead of failing the request.
            "pool_pre_ping": True,
        }
    if is_in_memory(url):
        return {}
    return {
        # A SQLite file's pool keeps a connection for every thread that may read at once
        # (SQLAlchemy's default keeps 5): a connection beyond the pool's size is closed when
        # given back, and the next one opened again costs its PRAGMAs, reading the schema
        # and a cold page cache, about 0.4 ms more than a pooled read. Serving 32 concurrent
        # connections, a quarter of the reads opened one (issue #14, bench/README.md). The
        # most recently used connection is handed out first, so a quiet server keeps
        # reading through a few connections whose caches are warm. Each pooled connection
        # holds up to ``cache_size`` of cached pages (``_SQLITE_PRAGMAS``: 32 MiB).
        "pool_size": SQLITE_POOL_SIZE,
        "pool_use_lifo": True,
    }


def is_in_memory(url: sa.URL) -> bool:
    """True for an in-memory SQLite database."""
    if url.get_backend_name() != SQLITE:
        return False
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in database


def prepare_storage(url: sa.URL) -> None:
    """Create the folder of a SQLite database file; nothing to do for servers or memory."""
    if url.get_backend_name() == SQLITE and url.database and url.database != ":memory:":
        if url.database.startswith("file:"):
            return  # URI filenames are the caller's business
        Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def configure(engine: sa.Engine) -> None:
    """Install the per-connection settings and transaction hooks the dialect needs.

    On SQLite: WAL, ``synchronous=NORMAL``, a 5 s busy timeout, foreign keys, and
    transactions opened by SQLAlchemy with ``BEGIN IMMEDIATE``, waiting for the write lock
    in turn (``sqlite_lock``), or ``BEGIN DEFERRED`` for connections carrying the
    ``READ_ONLY`` execution option.
    """
    if engine.dialect.name != SQLITE:
        return

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the sqlite3 module (its legacy mode issues a
        # deferred BEGIN lazily and only before DML), as the SQLAlchemy docs recommend.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in _SQLITE_PRAGMAS:
                cursor.execute(pragma)
        finally:
            cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # IMMEDIATE takes the write lock up front: two writers that read then write would
        # otherwise deadlock on lock upgrade and one would fail with SQLITE_BUSY.
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        pooled = connection.connection
        driver = pooled.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        wait_ms = int(pooled.info.get(WRITE_WAIT_MS, BUSY_TIMEOUT_MS))
        try:
            begin_immediate(driver, wait_ms)
        except sqlite3.Error as error:
            # Wrapped as SQLAlchemy wraps every other database error.
            raise sa.exc.OperationalError("BEGIN IMMEDIATE", None, error) from error
