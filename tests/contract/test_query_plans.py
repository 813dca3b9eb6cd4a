"""The ingest path's statements reach rows through indexes, whatever the planner's statistics.

Each batch looks up ~500 keys and updates ~500 rows. Joined naively against a parameter
(a JSON document, a staging table), PostgreSQL guesses the row count, and while a table is
small or freshly grown it prefers reading the whole table into a hash: a cost per batch
that grows with the table. These tests capture every statement of the lookups and of a save,
ask the database for its plan, and fail on a full scan of a stored table.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from relevo.adapters.db import bulk, dialect
from relevo.adapters.db import tables as t
from relevo.adapters.db.store import SqlStore
from relevo.adapters.db.writes import KEY_COLUMNS, PROCESS_COLUMNS
from relevo.services.records import WriteBatch

from .builders import event_entry, make_state, moment

STORED = 3000
STORED_TABLES = ("processes", "correlation_keys", "inbox", "events")


def _fill(store: SqlStore) -> None:
    """``STORED`` processes, two keys each (one released), and as many inbox rows."""
    state = make_state("template")
    state_text = '{"padding": "' + "x" * 1500 + '"}'
    processes, keys, inbox = [], [], []
    for n in range(STORED):
        pid = f"p-{n:05d}"
        start = (pid, state.kind, 1, f"c-{n}", f"+346{n:08d}", "active", "requested", 1)
        processes.append((*start, moment(), moment(), state_text, None))
        keys.append((state.kind, "msisdn", f"+346{n:08d}", pid, True))
        keys.append((state.kind, "request_id", f"r-{n}", pid, n % 2 == 0))
        inbox.append(("gateway", f"m-{n}", pid, "accepted", moment()))
    with store.unit_of_work() as uow:
        conn = uow.connection
        bulk.bulk_insert(conn, t.processes, ("id", *PROCESS_COLUMNS), processes)
        bulk.bulk_insert(conn, t.correlation_keys, KEY_COLUMNS, keys)
        bulk.bulk_insert(
            conn, t.inbox, ("source", "message_id", "process_id", "outcome", "received_at"), inbox
        )
        uow.commit()
    if store.engine.dialect.name == dialect.POSTGRESQL:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


@contextmanager
def _captured(conn: sa.Connection) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if sql.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "INSERT")):
            statements.append((sql, params))

    sa.event.listen(conn, "before_cursor_execute", capture)
    try:
        yield statements
    finally:
        sa.event.remove(conn, "before_cursor_execute", capture)


def _full_scans(conn: sa.Connection, sql: str, params: Any) -> list[str]:
    """The stored tables ``sql`` would read whole, per the database's plan."""
    if conn.dialect.name == dialect.POSTGRESQL:
        plan = [row[0] for row in conn.exec_driver_sql("EXPLAIN " + sql, params)]
        return [
            line.strip() for line in plan if any(f"Seq Scan on {n} " in line for n in STORED_TABLES)
        ]
    if isinstance(params, list):  # executemany: one row is enough to plan
        params = params[0]
    plan = [row[3] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)]
    return [
        line
        for line in plan
        if any(line.startswith(f"SCAN {n}") and "INDEX" not in line for n in STORED_TABLES)
    ]


def test_ingest_lookups_use_indexes(store: SqlStore) -> None:
    _fill(store)
    ids = [f"p-{n:05d}" for n in range(0, STORED, 6)]
    with store.unit_of_work(read_only=True) as uow, _captured(uow.connection) as statements:
        assert len(uow.inbox_seen(("gateway", f"m-{n}") for n in range(0, STORED, 6))) == 500
        pairs = [("msisdn", f"+346{n:08d}") for n in range(0, STORED, 6)]
        assert len(uow.lookup_keys(pairs)) == 500
        released = [("request_id", f"r-{n}") for n in range(1, STORED, 6)]
        assert len(uow.lookup_keys(released, include_inactive=True)) == 500
        assert len(uow.process_versions(ids)) == 500
        assert statements
        scans = {sql: _full_scans(uow.connection, sql, p) for sql, p in statements}
    assert {sql: s for sql, s in scans.items() if s} == {}


def test_ingest_writes_use_indexes(store: SqlStore) -> None:
    _fill(store)
    changed = [
        make_state(f"p-{n:05d}", version=2, stage="donor_check", timers={})
        for n in range(0, STORED, 6)
    ]
    batch = WriteBatch(
        events=[event_entry(state.id, 2) for state in changed],
        changed_states=changed,
        keys_released=[state.id for state in changed],
        at=moment(),
    )
    with store.unit_of_work() as uow, _captured(uow.connection) as statements:
        uow.save(batch)
        assert any(sql.startswith("UPDATE") for sql, _ in statements)
        # Planned inside the transaction: the staging rows are still there.
        scans = {sql: _full_scans(uow.connection, sql, p) for sql, p in statements}
        uow.rollback()
    assert {sql: s for sql, s in scans.items() if s} == {}
