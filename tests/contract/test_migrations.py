"""The migrations build exactly the schema that ``tables.metadata`` describes."""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from relevo.adapters.db import tables
from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.migrate import current_revision, downgrade, head_revision, upgrade


def _differences(engine: sa.Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, tables.metadata))


def _condition(text: object) -> str:
    """A partial index condition without table names, casts, brackets and spacing."""
    return re.sub(r"\w+\.|::\w+|[()\s]", "", str(text)).lower()


def test_upgrading_an_empty_database_matches_the_metadata(empty_db_url: str) -> None:
    engine = create_engine(empty_db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_partial_indexes_keep_their_conditions(db_engine: sa.Engine) -> None:
    option = f"{db_engine.dialect.name}_where"
    inspector = sa.inspect(db_engine)
    checked = 0
    for table in tables.metadata.sorted_tables:
        reflected = {ix["name"]: ix for ix in inspector.get_indexes(table.name)}
        for index in table.indexes:
            wanted = index.dialect_options[db_engine.dialect.name]["where"]
            if wanted is None:
                continue
            found = reflected[index.name].get("dialect_options", {}).get(option)
            expected = wanted.compile(db_engine, compile_kwargs={"literal_binds": True})
            assert _condition(found) == _condition(expected), index.name
            checked += 1
    assert checked == 3  # outbox pending, active keys, armed timers


def test_downgrading_to_base_and_back_works(empty_db_url: str) -> None:
    upgrade(empty_db_url)
    downgrade(empty_db_url, "base")
    engine = create_engine(empty_db_url)
    try:
        assert set(sa.inspect(engine).get_table_names()) == {"alembic_version"}
        upgrade(engine)
        assert _differences(engine) == []
    finally:
        engine.dispose()


def test_pending_timers_move_onto_the_process_row_and_back(empty_db_url: str) -> None:
    upgrade(empty_db_url, "0001")
    engine = create_engine(empty_db_url)
    state = (
        '{"timers": {"sla": "2026-12-01T09:00:00+00:00", "reminder": "2026-11-30T08:00:00+00:00"}}'
    )
    process = {
        "kind": "mobile_port_in",
        "definition_version": 1,
        "customer_id": "cus_1",
        "subject": "600000000",
        "status": "active",
        "stage": "requested",
        "version": 1,
        "created_at": "2026-11-25T09:00:00+00:00",
        "updated_at": "2026-11-25T09:00:00+00:00",
        "state": state,
    }
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO processes (id, kind, definition_version, customer_id, subject,"
                    " status, stage, version, created_at, updated_at, state) VALUES"
                    " (:id, :kind, :definition_version, :customer_id, :subject, :status,"
                    " :stage, :version, :created_at, :updated_at, :state)"
                ),
                [{"id": "p-1", **process}, {"id": "p-2", **process, "state": '{"timers": {}}'}],
            )
            conn.execute(
                sa.text(
                    "INSERT INTO timers (process_id, name, due_at, status) VALUES"
                    " ('p-1', 'sla', '2026-12-01T09:00:00+00:00', 'pending'),"
                    " ('p-1', 'reminder', '2026-11-30T08:00:00+00:00', 'pending'),"
                    " ('p-1', 'old', '2026-11-26T08:00:00+00:00', 'cancelled')"
                )
            )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, next_timer_at FROM processes ORDER BY id"))
            assert list(rows) == [("p-1", "2026-11-30T08:00:00+00:00"), ("p-2", None)]
        downgrade(engine, "0001")
        with engine.connect() as conn:
            query = "SELECT process_id, name, due_at, status FROM timers ORDER BY name"
            assert list(conn.execute(sa.text(query))) == [
                ("p-1", "reminder", "2026-11-30T08:00:00+00:00", "pending"),
                ("p-1", "sla", "2026-12-01T09:00:00+00:00", "pending"),
            ]
    finally:
        engine.dispose()
