"""Engine set-up: URL handling and the SQLite connection settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from relevo.adapters.db.dialect import resolve_url
from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.migrate import upgrade
from relevo.adapters.db.store import SqlStore


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:p%40ss@db:5432/relevo", "postgres://u:p%40ss@db/relevo",
     "postgresql+psycopg://u:p%40ss@db/relevo"],
)  # fmt: skip
def test_postgresql_urls_use_psycopg_3(url: str) -> None:
    resolved = resolve_url(url)
    assert resolved.drivername == "postgresql+psycopg"
    assert resolved.password == "p@ss"
    engine = create_engine(url)  # no connection is made yet
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


@pytest.mark.parametrize(
    "url", ["mysql://u@db/relevo", "postgresql+psycopg2://u@db/relevo", "oracle://u@db"]
)
def test_other_databases_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        create_engine(url)


def test_sqlite_files_get_their_folder_and_settings(tmp_path: Path) -> None:
    path = tmp_path / "var" / "data" / "relevo.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            settings = {
                pragma: conn.exec_driver_sql(f"PRAGMA {pragma}").scalar()
                for pragma in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
        assert path.parent.is_dir()
        assert settings == {
            "journal_mode": "wal",
            "synchronous": 1,  # NORMAL
            "busy_timeout": 5000,
            "foreign_keys": 1,
        }
    finally:
        engine.dispose()


def test_sqlite_writers_take_the_write_lock_when_they_begin(tmp_path: Path) -> None:
    path = tmp_path / "relevo.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    store = SqlStore(engine)
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with store.unit_of_work(read_only=True):
            other.execute("BEGIN IMMEDIATE")  # a reader leaves the write lock free
            other.execute("ROLLBACK")
        # Nothing written yet, but the transaction already holds the lock.
        with store.unit_of_work(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


def test_sqlite_savepoints_belong_to_the_transaction(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'relevo.db'}")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.commit()
            with conn.begin_nested():
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
            conn.rollback()
            assert conn.execute(sa.text("SELECT count(*) FROM t")).scalar_one() == 0
    finally:
        engine.dispose()


def test_sqlite_files_keep_a_connection_for_every_concurrent_reader(tmp_path: Path) -> None:
    # SQLAlchemy's default pool kept 5 connections and closed every other one when given
    # back: serving 32 concurrent requests, up to a quarter of the reads opened a new
    # connection (its PRAGMAs, the schema, a cold page cache) - issue #14.
    engine = create_engine(f"sqlite:///{tmp_path / 'relevo.db'}")
    opened: list[object] = []
    sa.event.listen(engine, "connect", lambda connection, _record: opened.append(connection))
    try:
        for _ in range(3):
            held = [engine.connect() for _ in range(32)]  # each checks one out of the pool
            for connection in held:
                connection.close()
        assert len(opened) == 32
        # The most recently given back comes first: a quiet server reads through warm ones.
        with engine.connect() as first:
            again = first.connection.dbapi_connection
        with engine.connect() as second:
            assert second.connection.dbapi_connection is again
    finally:
        engine.dispose()


def test_in_memory_sqlite_keeps_its_single_connection_pool() -> None:
    engine = create_engine("sqlite://")
    try:
        assert not isinstance(engine.pool, sa.pool.QueuePool)
    finally:
        engine.dispose()
