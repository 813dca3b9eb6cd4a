"""Shared fixtures: a migrated database per backend and a clean store per test, and every
store implementation (SQL and in memory) for the tests of the store Protocol.

``pytest`` alone runs the database tests on SQLite. With ``RELEVO_TEST_POSTGRES_URL`` set
they also run on PostgreSQL, in a database created for the session and dropped after it;
if that server cannot be reached the tests fail rather than skip.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from relevo.adapters.db import tables
from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.migrate import upgrade
from relevo.adapters.db.store import SqlStore
from relevo.adapters.memory import MemoryStore
from relevo.services.unit_of_work import Store

POSTGRES_ENV = "RELEVO_TEST_POSTGRES_URL"


def _backends() -> list[str]:
    return ["sqlite", "postgresql"] if os.environ.get(POSTGRES_ENV) else ["sqlite"]


@pytest.fixture(scope="session", params=_backends())
def db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """URL of an empty database: a temporary SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'relevo.db'}"
    else:
        yield from _scratch_postgres_database(os.environ[POSTGRES_ENV])


def _scratch_postgres_database(server_url: str) -> Iterator[str]:
    admin = create_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"relevo_test_{os.getpid()}_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as error:
        admin.engine.dispose()
        pytest.fail(f"{POSTGRES_ENV}={server_url} is set but PostgreSQL is unreachable: {error}")
    try:
        yield admin.engine.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.engine.dispose()


@pytest.fixture
def empty_db_url(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Another empty database on the same backend as ``db_url``, for this test only."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path_factory.mktemp('empty') / 'relevo.db'}"
    else:
        yield from _scratch_postgres_database(os.environ[POSTGRES_ENV])


@pytest.fixture(scope="session")
def db_engine(db_url: str) -> Iterator[sa.Engine]:
    """An engine on ``db_url``, migrated to the latest revision once per session."""
    engine = create_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sql_store(db_engine: sa.Engine) -> SqlStore:
    """A store on the migrated database, emptied before the test."""
    with db_engine.begin() as conn:
        for table in reversed(tables.metadata.sorted_tables):
            conn.execute(table.delete())
    return SqlStore(db_engine)


@pytest.fixture
def store(sql_store: SqlStore) -> SqlStore:
    """The SQL store (``sql_store``), under the name most tests use."""
    return sql_store


@pytest.fixture(params=["sql", "memory"])
def any_store(request: pytest.FixtureRequest, db_engine: sa.Engine) -> Store:
    """Every store implementation in turn: the SQL one (as ``store``), then an empty
    in-memory one; for the tests of the ``Store`` Protocol. (With PostgreSQL configured
    the in-memory runs come twice, once beside each backend.)"""
    if request.param == "memory":
        return MemoryStore()
    sql: SqlStore = request.getfixturevalue("sql_store")
    return sql
