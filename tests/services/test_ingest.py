"""Ingest and process services against the real store, on SQLite and PostgreSQL, and (where
they do not look at SQL) against the in-memory store."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from relevo.adapters.db import tables
from relevo.adapters.db.store import SqlStore
from relevo.domain.errors import ActionRefused
from relevo.domain.model import Action, ProcessState
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub, Inbound, KeyInUse, StartRequest
from relevo.services.unit_of_work import Store

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WINDOW = "2026-12-02T02:00:00+01:00"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def hub(store: SqlStore, catalog: Catalog, clock: Clock) -> Hub:
    return Hub(store, catalog, clock)


@pytest.fixture
def any_hub(any_store: Store, catalog: Catalog, clock: Clock) -> Hub:
    """A hub over every store in turn: the SQL one, then one in memory (no database)."""
    return Hub(any_store, catalog, clock)


def start(hub: Hub, msisdn: str = "612345678", order: str = "O-1") -> str:
    view = hub.start_process(
        StartRequest(
            kind="mobile_port_in",
            customer_id="cus_1",
            subject=msisdn,
            keys={"crm_order_id": order},
            attributes={"modality": "postpaid"},
            channel="web",
            actor="customer:cus_1",
        )
    )
    return str(view["id"])


def msg(message_id: str, type_: str, **data: object) -> Inbound:
    return Inbound("nc-gateway", message_id, type_, dict(data), MONDAY)


def count(store: SqlStore, table: sa.Table, **where: object) -> int:
    with store.engine.connect() as conn:
        query = sa.select(sa.func.count()).select_from(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return int(conn.execute(query).scalar_one())


def test_batch_mixing_good_and_bad_applies_the_good_and_reports_each_bad(
    hub: Hub, store: SqlStore
) -> None:
    pid = start(hub)
    batch = [
        msg("m1", "nc.accepted", msisdn="612345678", reference="R1", window=WINDOW),
        msg("m2", "donor.confirmed", nc_reference="R1"),
        msg("m3", "no.such.type", nc_reference="R1"),
        msg("m4", "donor.confirmed", nc_reference="UNKNOWN"),
        msg("m5", "donor.rejected", nc_reference="R1"),
        msg("m6", "nc.accepted", nc_reference="R1", reference="R1", window=WINDOW),
    ]
    outcomes = [(r.outcome.value, r.reason_code) for r in hub.ingest(batch)]
    assert outcomes == [
        ("accepted", None),
        ("accepted", None),
        ("rejected", "unknown_type"),
        ("rejected", "unknown_process"),
        ("rejected", "missing_data"),
        ("ignored", "out_of_order"),
    ]
    assert hub.view(pid, "en")["stage"]["id"] == "scheduled"
    assert count(store, tables.dead_letters) == 3
    events_before = count(store, tables.events, process_id=pid)

    again = hub.ingest(batch)
    assert [r.outcome.value for r in again] == [
        "duplicate",
        "duplicate",
        "rejected",
        "rejected",
        "rejected",
        "duplicate",
    ]
    assert count(store, tables.events, process_id=pid) == events_before


def test_a_key_added_earlier_in_a_batch_correlates_the_later_messages(any_hub: Hub) -> None:
    pid = start(any_hub)
    results = any_hub.ingest(
        [
            msg("a", "nc.accepted", msisdn="612345678", reference="R9", window=WINDOW),
            msg("b", "donor.confirmed", nc_reference="R9"),
        ]
    )
    assert [r.process_id for r in results] == [pid, pid]
    assert any_hub.view(pid, "es")["stage"]["id"] == "scheduled"


def test_a_key_taken_by_another_active_process_rejects_only_that_message(any_hub: Hub) -> None:
    first = start(any_hub, "612345678", "O-1")
    second = start(any_hub, "698765432", "O-2")
    any_hub.ingest([msg("x1", "nc.accepted", msisdn="612345678", reference="SAME", window=WINDOW)])
    results = any_hub.ingest(
        [
            msg("x2", "nc.accepted", msisdn="698765432", reference="SAME", window=WINDOW),
            msg("x3", "donor.confirmed", nc_reference="SAME"),
        ]
    )
    assert results[0].outcome.value == "rejected"
    assert results[0].reason_code == "key_in_use"
    assert first in (results[0].reason or "")
    assert results[1].process_id == first
    assert any_hub.view(second, "es")["stage"]["id"] == "requested"


def test_a_late_message_for_a_finished_process_is_recorded_as_ignored(any_hub: Hub) -> None:
    pid = start(any_hub)
    any_hub.ingest(
        [
            msg("f1", "nc.accepted", msisdn="612345678", reference="R2", window=WINDOW),
            msg("f2", "donor.confirmed", nc_reference="R2"),
            # mobile_port_in v2 stays open after the port for the withdrawal period; a
            # failed port ends it at once.
            msg("f3", "port.failed", nc_reference="R2", reason="donor_did_not_release"),
        ]
    )
    assert any_hub.view(pid, "es")["status"] == "failed"
    late = any_hub.ingest([msg("f4", "nc.cancelled", nc_reference="R2", cause="CANC_ABONA")])[0]
    assert (late.outcome.value, late.reason_code, late.process_id) == (
        "ignored",
        "process_finished",
        pid,
    )
    assert any_hub.timeline(pid)["events"][-1]["type"] == "message.ignored"


def test_starting_with_a_key_already_in_use_says_which_process_holds_it(any_hub: Hub) -> None:
    pid = start(any_hub, "612345678", "O-1")
    with pytest.raises(KeyInUse, match=pid):
        start(any_hub, "612345678", "O-2")


def test_a_key_is_free_again_once_its_process_ends(any_hub: Hub) -> None:
    pid = start(any_hub)
    any_hub.act(pid, Action("cancel", {}, "customer:cus_1", "web"), "es")
    assert start(any_hub) != pid


def test_actions_with_the_same_request_id_apply_once(hub: Hub, store: SqlStore) -> None:
    pid = start(hub)
    action = Action(
        "postpone", {"new_date": "2026-12-10"}, "customer:cus_1", "app", request_id="req-1"
    )
    hub.act(pid, action, "es")
    hub.act(pid, action, "es")
    assert count(store, tables.events, process_id=pid) == 2
    assert count(store, tables.outbox, process_id=pid, topic="port.reschedule_requested") == 1


def test_a_refused_action_writes_nothing(hub: Hub, store: SqlStore, clock: Clock) -> None:
    pid = start(hub)
    clock.now = MONDAY + timedelta(days=3)
    with pytest.raises(ActionRefused) as refusal:
        hub.act(pid, Action("cancel", {}, "customer:cus_1", "web"), "es")
    assert refusal.value.code == "cutoff_passed"
    assert count(store, tables.events, process_id=pid) == 1


def test_timers_follow_the_state_and_are_cancelled_when_it_ends(hub: Hub, store: SqlStore) -> None:
    def next_timer() -> str | None:
        with store.unit_of_work(read_only=True) as uow:
            query = sa.select(tables.processes.c.next_timer_at)
            return uow.connection.execute(query.where(tables.processes.c.id == pid)).scalar()

    def state() -> ProcessState:
        with store.unit_of_work(read_only=True) as uow:
            found = uow.get_state(pid)
        assert found is not None
        return found

    pid = start(hub)
    requested = state()
    assert list(requested.timers) == ["sla:requested"]
    assert next_timer() == requested.timers["sla:requested"]
    hub.ingest([msg("t1", "nc.accepted", msisdn="612345678", reference="R3", window=WINDOW)])
    accepted = state()
    assert "sla:requested" not in accepted.timers
    assert "sla:donor_check" in accepted.timers
    assert next_timer() == min(accepted.timers.values())
    with store.unit_of_work(read_only=True) as uow:
        assert uow.due_timers(next_timer() or "") == [(pid, min(accepted.timers.values()))]
        assert uow.due_timers("2000-01-01T00:00:00+00:00") == []
    hub.act(pid, Action("cancel", {}, "customer:cus_1", "web"), "es")
    assert state().timers == {}
    assert next_timer() is None


def test_concurrent_writers_to_one_process_keep_one_gapless_chain(any_hub: Hub) -> None:
    pid = start(any_hub)
    any_hub.ingest([msg("c0", "nc.accepted", msisdn="612345678", reference="R4", window=WINDOW)])

    def send(prefix: str) -> None:
        for n in range(15):
            any_hub.ingest([msg(f"{prefix}{n}", "sim.activated", nc_reference="R4")])

    threads = [threading.Thread(target=send, args=(p,)) for p in ("ta", "tb", "tc")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    timeline = any_hub.timeline(pid)
    assert timeline["chain_valid"] is True
    assert [e["version"] for e in timeline["events"]] == list(range(1, 48))


def test_rebuild_finds_no_difference_then_repairs_a_tampered_projection(
    hub: Hub, store: SqlStore
) -> None:
    pid = start(hub)
    hub.ingest(
        [
            msg("r1", "nc.accepted", msisdn="612345678", reference="R5", window=WINDOW),
            msg("r2", "donor.rejected", nc_reference="R5", cause="RECH_IDENT"),
        ]
    )
    hub.act(pid, Action("send_id_document", {"document": "doc-1"}, "customer:cus_1", "web"), "es")
    assert hub.rebuild()["differences"] == []
    with store.engine.begin() as conn:
        conn.execute(tables.processes.update().values(status="completed"))
        conn.execute(
            tables.processes.update().values(
                state=sa.func.replace(
                    tables.processes.c.state, '"status":"active"', '"status":"completed"'
                )
            )
        )
    assert hub.view(pid, "es")["status"] == "completed"
    report = hub.rebuild()
    assert report["differences"] == [{"process_id": pid, "fields": ["status", "column:status"]}]
    assert hub.view(pid, "es")["status"] == "active"
    assert hub.rebuild()["differences"] == []
    # The timer worker's column is checked against the state too.
    with store.engine.begin() as conn:
        conn.execute(tables.processes.update().values(next_timer_at=None))
    report = hub.rebuild()
    assert report["differences"] == [{"process_id": pid, "fields": ["column:next_timer_at"]}]
    with store.unit_of_work(read_only=True) as uow:
        state = uow.get_state(pid)
        assert state is not None and state.timers
        assert uow.projection_columns([pid])[pid][-1] == min(state.timers.values())
    assert hub.rebuild()["differences"] == []


def test_tampering_with_a_logged_event_breaks_the_chain_at_that_version(
    hub: Hub, store: SqlStore
) -> None:
    pid = start(hub)
    hub.ingest([msg("h1", "nc.accepted", msisdn="612345678", reference="R6", window=WINDOW)])
    hub.ingest([msg("h2", "donor.confirmed", nc_reference="R6")])
    assert hub.timeline(pid)["chain_valid"] is True
    with store.engine.begin() as conn:
        conn.execute(
            tables.events.update()
            .where(tables.events.c.process_id == pid, tables.events.c.version == 2)
            .values(data='{"reference":"FORGED","window":"2026-12-02T02:00:00+01:00"}')
        )
    timeline = hub.timeline(pid)
    assert (timeline["chain_valid"], timeline["broken_at_version"]) == (False, 2)


def test_a_dead_letter_replays_once_its_process_exists(any_hub: Hub) -> None:
    early = any_hub.ingest(
        [msg("d1", "nc.accepted", msisdn="611111111", reference="R7", window=WINDOW)]
    )[0]
    assert early.reason_code == "unknown_process"
    letter = any_hub.dead_letters()[0]
    pid = start(any_hub, "611111111", "O-7")
    replayed = any_hub.replay_dead_letter(letter["id"])
    assert (replayed.outcome.value, replayed.process_id) == ("accepted", pid)
    assert any_hub.dead_letters() == []
    assert any_hub.dead_letters(status="replayed")[0]["id"] == letter["id"]
