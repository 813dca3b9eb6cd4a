"""How database errors become the services' exceptions.

Two writers that lock the same rows may be told apart by the database: a deadlock broken by
aborting one, a lock not granted, a serialization failure. Those are a
``ConcurrencyConflict``: the services' retry loops decide again on fresh state. A fault of
the storage itself (the connection refused or lost, a read-only database, a full or
failing disk, a lock held past the busy timeout) is ``StoreUnavailable``: the request
cannot be served now and may be later. Any other error is a bug and goes on unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import sqlalchemy as sa

from relevo.adapters.db import dialect
from relevo.services.records import DEFAULT_RETRY_AFTER, ConcurrencyConflict, StoreUnavailable

#: PostgreSQL: deadlock detected, serialization failure, lock not available.
CONFLICT_STATES = frozenset({"40P01", "40001", "55P03"})
#: PostgreSQL classes of storage faults: connection exception, insufficient resources
#: (disk full, out of memory, too many connections), operator intervention (shutdown,
#: cancelled statement), system error (I/O).
UNAVAILABLE_CLASSES = frozenset({"08", "53", "57", "58"})
#: PostgreSQL: a write in a read-only transaction (a standby, or a read-only default).
READ_ONLY_STATE = "25006"
#: How long the readiness probe waits for SQLite's write lock before calling it busy.
PROBE_BUSY_TIMEOUT_MS = 200
#: SQLite result codes (extended codes start with these) of storage faults.
SQLITE_FAULTS = (
    "SQLITE_BUSY",  # locked past the busy timeout
    "SQLITE_LOCKED",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_CANTOPEN",
    "SQLITE_NOTADB",
    "SQLITE_CORRUPT",
    "SQLITE_PROTOCOL",
)


def translate(error: BaseException, retry_after: int = DEFAULT_RETRY_AFTER) -> Exception | None:
    """The services' exception for a database ``error`` (SQLAlchemy's or the driver's),
    or ``None`` when it is neither a conflict between writers nor a storage fault."""
    if isinstance(error, sa.exc.TimeoutError):  # no pooled connection came free in time
        return StoreUnavailable(_first_line(error), retry_after)
    invalidated = isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated
    cause = error.orig if isinstance(error, sa.exc.DBAPIError) else error
    if isinstance(cause, psycopg.Error):
        state = cause.sqlstate or ""
        if state in CONFLICT_STATES:
            return ConcurrencyConflict(f"the database aborted a write: {_first_line(cause)}")
        lost = not state and isinstance(cause, psycopg.OperationalError | psycopg.InterfaceError)
        if lost or state[:2] in UNAVAILABLE_CLASSES or state == READ_ONLY_STATE:
            return StoreUnavailable(_first_line(cause), retry_after)
    elif isinstance(cause, sqlite3.Error):
        name = getattr(cause, "sqlite_errorname", "")
        if name.startswith(SQLITE_FAULTS):
            return StoreUnavailable(_first_line(cause), retry_after)
    if invalidated:
        return StoreUnavailable(_first_line(cause or error), retry_after)
    return None


@contextmanager
def translated(retry_after: int = DEFAULT_RETRY_AFTER) -> Iterator[None]:
    """Raise the services' exception (``translate``) in place of a database error."""
    try:
        yield
    except Exception as error:
        mapped = translate(error, retry_after)
        if mapped is None:
            raise
        raise mapped from error


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def write_refusal(engine: sa.Engine) -> str | None:
    """Why the database behind ``engine`` cannot take a write now, or ``None`` when it can.

    SQLite: a write (the header's ``user_version``, set to itself) in a transaction rolled
    back, which a read-only, full or failing file refuses; a lock held by another writer
    counts as writable. PostgreSQL: not a standby in recovery, transactions not read-only.
    """
    try:
        with engine.connect() as conn:
            if conn.dialect.name == dialect.SQLITE:
                return _sqlite_refusal(conn)
            if conn.exec_driver_sql("SELECT pg_is_in_recovery()").scalar():
                return "the server is a standby in recovery, which takes no writes"
            if conn.exec_driver_sql("SHOW transaction_read_only").scalar() == "on":
                return "the server makes transactions read-only (default_transaction_read_only)"
    except sa.exc.SQLAlchemyError as error:
        mapped = translate(error)
        return mapped.reason if isinstance(mapped, StoreUnavailable) else _first_line(error)
    return None


def _sqlite_refusal(conn: sa.Connection) -> str | None:
    driver = conn.connection.driver_connection
    assert driver is not None
    conn.connection.info[dialect.WRITE_WAIT_MS] = PROBE_BUSY_TIMEOUT_MS
    try:
        conn.begin()  # BEGIN IMMEDIATE (see dialect.configure)
        version = int(conn.exec_driver_sql("PRAGMA user_version").scalar() or 0)
        conn.exec_driver_sql(f"PRAGMA user_version={version}")
    except sa.exc.OperationalError as error:
        if getattr(error.orig, "sqlite_errorname", "").startswith("SQLITE_BUSY"):
            return None  # another writer holds the lock: writes are going on
        raise
    finally:
        conn.rollback()
        del conn.connection.info[dialect.WRITE_WAIT_MS]
        # Straight to the driver: through SQLAlchemy the pragma would open a transaction.
        driver.execute(f"PRAGMA busy_timeout={dialect.BUSY_TIMEOUT_MS}")
    return None
