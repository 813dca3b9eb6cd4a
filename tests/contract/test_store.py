"""Contract of the SQL store's write path, run on every configured backend."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from relevo.adapters.db import tables
from relevo.adapters.db.store import SqlStore, UnitOfWork
from relevo.domain.model import parse_iso
from relevo.services.records import ConcurrencyConflict, KeyConflict, WriteBatch
from relevo.services.unit_of_work import Store

from .builders import digest, event_entry, make_event, make_state, moment, start_batch


def _rows(uow: UnitOfWork, table: sa.Table) -> list[sa.Row[object]]:
    return list(uow.connection.execute(sa.select(table).order_by(*table.primary_key.columns)))


def _save(store: Store, batch: WriteBatch) -> None:
    with store.unit_of_work() as uow:
        uow.save(batch)
        uow.commit()


def _advance(store: Store, process_id: str, **changes: object) -> None:
    """Append one event to a process and save its new state (a committed step)."""
    with store.unit_of_work() as uow:
        state = uow.load_states([process_id])[process_id]
        new = replace(state, version=state.version + 1, **changes)
        entry = event_entry(process_id, new.version)
        uow.save(WriteBatch(events=[entry], changed_states=[new]))
        uow.commit()


# -- round trips ------------------------------------------------------------------------


def test_it_round_trips_states_and_events(any_store: Store) -> None:
    first = make_event("process.started", 0, msisdn="+34600111222", nested={"a": [1, 2.5, None]})
    second = make_event("nc.accepted", 5, reference="NC-2025-0001", window="2025-03-05")
    state = make_state("p-1", version=2, stage="donor_check")
    batch = WriteBatch(
        events=[event_entry("p-1", 1, first), event_entry("p-1", 2, second)],
        new_states=[state],
        at=moment(),
    )
    _save(any_store, batch)

    with any_store.unit_of_work() as uow:
        assert uow.load_states(["p-1", "unknown"]) == {"p-1": state}
        assert uow.get_state("p-1") == state
        assert uow.get_state("unknown") is None
        stored = uow.events_of("p-1")

    assert [s.version for s in stored] == [1, 2]
    assert [s.event for s in stored] == [first, second]
    assert stored[0].position < stored[1].position
    assert stored[1].hash == digest("p-1", 2)
    assert stored[1].prev_hash == digest("p-1", 1)
    assert {s.process_id for s in stored} == {"p-1"}


def test_changed_states_replace_the_projection(any_store: Store) -> None:
    _save(any_store, start_batch("p-1"))
    _save(any_store, start_batch("p-2"))

    _advance(any_store, "p-1", stage="scheduled", status="completed", updated_at=moment(90))

    with any_store.unit_of_work() as uow:
        states = uow.load_states(["p-1", "p-2"])
        assert (states["p-1"].stage, states["p-1"].status, states["p-1"].version) == (
            "scheduled",
            "completed",
            2,
        )
        assert states["p-2"] == make_state("p-2")
        # The indexed columns follow the JSON state.
        assert uow.find_processes(status="completed") == [states["p-1"]]


def test_leaving_without_commit_rolls_back(any_store: Store) -> None:
    with any_store.unit_of_work() as uow:
        uow.save(start_batch("p-1"))
        assert uow.get_state("p-1") is not None

    with any_store.unit_of_work() as uow:
        assert uow.get_state("p-1") is None
        assert uow.events_of("p-1") == []


def test_an_exception_inside_the_block_rolls_back(any_store: Store) -> None:
    with pytest.raises(RuntimeError), any_store.unit_of_work() as uow:
        uow.save(start_batch("p-1"))
        raise RuntimeError("boom")

    with any_store.unit_of_work() as uow:
        assert uow.count_processes() == 0


def test_work_continues_in_a_new_transaction_after_commit(any_store: Store) -> None:
    with any_store.unit_of_work() as uow:
        uow.save(start_batch("p-1"))
        uow.commit()
        uow.save(start_batch("p-2"))
        # p-2 is not committed: it disappears when the block ends.

    with any_store.unit_of_work() as uow:
        assert sorted(uow.iter_process_ids()) == ["p-1"]


def test_a_unit_of_work_is_only_usable_inside_its_block(any_store: Store) -> None:
    uow = any_store.unit_of_work()
    with pytest.raises(RuntimeError):
        uow.get_state("p-1")


def test_without_a_time_the_batch_is_stamped_with_the_wall_clock(store: SqlStore) -> None:
    before = datetime.now(UTC)
    _save(store, WriteBatch(inbox=[("gateway", "m-1", None, "rejected", None)]))
    with store.unit_of_work() as uow:
        (row,) = _rows(uow, tables.inbox)
    assert before <= parse_iso(row.received_at) <= datetime.now(UTC)


def test_an_empty_batch_writes_nothing(any_store: Store) -> None:
    with any_store.unit_of_work() as uow:
        uow.save(WriteBatch())
        uow.commit()
        assert uow.count_processes() == 0


# -- optimistic concurrency -------------------------------------------------------------


def test_a_stored_version_raises_concurrency_conflict_and_the_batch_leaves_no_trace(
    store: SqlStore,
) -> None:
    _save(store, start_batch("p-1", keys={"msisdn": "+34600111222"}))
    _save(store, start_batch("p-2"))

    clash = WriteBatch(
        events=[event_entry("p-2", 2), event_entry("p-1", 1)],
        new_states=[make_state("p-3")],
        changed_states=[make_state("p-2", version=2, stage="scheduled")],
        keys_added=[("mobile_port_in", "nc_reference", "NC-1", "p-2")],
        keys_released=["p-1"],
        inbox=[("gateway", "m-1", "p-2", "accepted", None)],
        outbox=[("p-2", "notification", {"template": "x"}, "idem-1", moment())],
        dead_letters=[("gateway", "m-2", "donor.rejected", {"id": "m-2"}, "unknown key")],
        at=moment(),
    )
    with store.unit_of_work() as uow:
        with pytest.raises(ConcurrencyConflict):
            uow.save(clash)
        # Nothing of the batch is visible, even inside the same transaction...
        assert [s.version for s in uow.events_of("p-2")] == [1]
        assert uow.get_state("p-2") == make_state("p-2")
        assert uow.get_state("p-3") is None
        assert uow.lookup_keys([("msisdn", "+34600111222")]) == {
            ("msisdn", "+34600111222"): [("mobile_port_in", "p-1")]
        }
        assert uow.inbox_seen([("gateway", "m-1")]) == set()
        assert uow.dead_letters() == []
        for table in (tables.outbox, tables.correlation_keys):
            assert len(_rows(uow, table)) == (1 if table is tables.correlation_keys else 0)
        # ...and the unit of work stays usable.
        uow.save(WriteBatch(events=[event_entry("p-2", 2)]))
        uow.commit()

    with store.unit_of_work() as uow:
        assert [s.version for s in uow.events_of("p-2")] == [1, 2]


def test_a_process_changed_twice_in_a_batch_keeps_the_last_state(any_store: Store) -> None:
    _save(any_store, start_batch("p-1"))
    first = make_state("p-1", version=2, stage="donor_check")
    last = make_state("p-1", version=3, stage="scheduled")
    _save(any_store, WriteBatch(changed_states=[first, last]))
    with any_store.unit_of_work() as uow:
        assert uow.get_state("p-1") == last


def test_starting_an_existing_process_is_a_conflict(any_store: Store) -> None:
    _save(any_store, start_batch("p-1"))
    again = WriteBatch(new_states=[make_state("p-1")])
    with any_store.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
        uow.save(again)


def test_changing_a_missing_process_is_a_conflict(any_store: Store) -> None:
    with any_store.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
        uow.save(WriteBatch(changed_states=[make_state("gone", version=2)]))


def test_concurrent_writers_never_lose_an_event(any_store: Store) -> None:
    _save(any_store, start_batch("p-1"))
    steps, writers = 15, 3
    conflicts: list[int] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(steps):
                while True:
                    try:
                        _advance(any_store, "p-1")
                        break
                    except ConcurrencyConflict:
                        conflicts.append(1)
        except BaseException as error:  # surfaced by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with any_store.unit_of_work() as uow:
        versions = [s.version for s in uow.events_of("p-1")]
        state = uow.get_state("p-1")
    assert versions == list(range(1, steps * writers + 2))
    assert state is not None
    assert state.version == steps * writers + 1


# -- inbox ------------------------------------------------------------------------------


def test_inbox_reports_messages_already_received(store: SqlStore) -> None:
    received = [("gateway", f"m-{n}") for n in range(0, 1200, 2)]
    batch = WriteBatch(
        inbox=[(source, mid, "p-1", "accepted", None) for source, mid in received], at=moment()
    )
    _save(store, batch)

    asked = [("gateway", f"m-{n}") for n in range(1200)] + [("other", "m-0"), ("gateway", "m-0")]
    with store.unit_of_work() as uow:
        assert uow.inbox_seen(asked) == set(received)
        assert uow.inbox_seen([]) == set()
        row = _rows(uow, tables.inbox)[0]
    assert (row.process_id, row.outcome, row.received_at) == ("p-1", "accepted", moment())


def test_a_message_received_twice_is_a_conflict(any_store: Store) -> None:
    _save(any_store, WriteBatch(inbox=[("gateway", "m-1", None, "rejected", None)]))
    with any_store.unit_of_work() as uow, pytest.raises(ConcurrencyConflict):
        uow.save(WriteBatch(inbox=[("gateway", "m-1", "p-1", "accepted", None)]))


# -- correlation keys -------------------------------------------------------------------


def test_lookup_finds_only_active_keys(any_store: Store) -> None:
    _save(any_store, start_batch("p-1", keys={"msisdn": "+34600111222", "crm_order_id": "O-1"}))
    _save(any_store, start_batch("p-2", keys={"msisdn": "+34600111222"}, kind="fixed_port_in"))
    _save(any_store, start_batch("p-3", keys={"nc_reference": "NC-3"}))
    _save(any_store, WriteBatch(keys_released=["p-3"]))

    with any_store.unit_of_work() as uow:
        found = uow.lookup_keys(
            [("msisdn", "+34600111222"), ("nc_reference", "NC-3"), ("crm_order_id", "O-1")]
        )
    assert sorted(found[("msisdn", "+34600111222")]) == [
        ("fixed_port_in", "p-2"),
        ("mobile_port_in", "p-1"),
    ]
    assert found[("crm_order_id", "O-1")] == [("mobile_port_in", "p-1")]
    assert ("nc_reference", "NC-3") not in found


def test_lookup_can_include_released_keys_newest_holder_first(any_store: Store) -> None:
    _save(any_store, start_batch("p-old", keys={"msisdn": "+34600111222"}))
    _save(any_store, WriteBatch(keys_released=["p-old"]))
    _save(any_store, start_batch("p-new", keys={"msisdn": "+34600111222"}))
    _save(any_store, WriteBatch(keys_released=["p-new"]))
    _save(any_store, start_batch("p-other", keys={"msisdn": "+34600999999"}))

    with any_store.unit_of_work() as uow:
        pairs = [("msisdn", "+34600111222"), ("msisdn", "+34600999999")]
        assert uow.lookup_keys(pairs) == {
            ("msisdn", "+34600999999"): [("mobile_port_in", "p-other")]
        }
        assert uow.lookup_keys(pairs, include_inactive=True) == {
            ("msisdn", "+34600111222"): [("mobile_port_in", "p-new"), ("mobile_port_in", "p-old")],
            ("msisdn", "+34600999999"): [("mobile_port_in", "p-other")],
        }


def test_lookup_handles_more_pairs_than_one_query_takes(any_store: Store) -> None:
    keys = [("mobile_port_in", "msisdn", f"+3460{n:07d}", f"p-{n}") for n in range(1100)]
    _save(any_store, WriteBatch(keys_added=keys))
    with any_store.unit_of_work() as uow:
        found = uow.lookup_keys((name, value) for _kind, name, value, _pid in keys)
    assert len(found) == 1100
    assert found[("msisdn", "+34600001099")] == [("mobile_port_in", "p-1099")]


def test_a_taken_key_raises_key_conflict_and_the_batch_leaves_no_trace(any_store: Store) -> None:
    _save(any_store, start_batch("p-1", keys={"msisdn": "+34600111222"}))

    with any_store.unit_of_work() as uow:
        with pytest.raises(KeyConflict) as raised:
            uow.save(start_batch("p-2", keys={"crm_order_id": "O-2", "msisdn": "+34600111222"}))
        assert raised.value.key == ("mobile_port_in", "msisdn", "+34600111222")
        assert raised.value.holder == "p-1"
        assert uow.get_state("p-2") is None
        assert uow.events_of("p-2") == []
        assert uow.lookup_keys([("crm_order_id", "O-2")]) == {}


def test_two_processes_claiming_one_key_in_a_batch_conflict(any_store: Store) -> None:
    batch = WriteBatch(
        keys_added=[
            ("mobile_port_in", "msisdn", "+34600111222", "p-1"),
            ("mobile_port_in", "msisdn", "+34600111222", "p-2"),
        ]
    )
    with any_store.unit_of_work() as uow, pytest.raises(KeyConflict) as raised:
        uow.save(batch)
    assert raised.value.key == ("mobile_port_in", "msisdn", "+34600111222")


def test_released_keys_can_be_taken_again(store: SqlStore) -> None:
    _save(store, start_batch("p-1", keys={"msisdn": "+34600111222"}))
    # One batch: p-1 finishes and p-2 takes its key.
    _save(
        store,
        WriteBatch(
            keys_released=["p-1"],
            keys_added=[("mobile_port_in", "msisdn", "+34600111222", "p-2")],
        ),
    )
    _save(store, WriteBatch(keys_released=["p-2"]))
    _save(store, start_batch("p-3", keys={"msisdn": "+34600111222"}))

    with store.unit_of_work() as uow:
        assert uow.lookup_keys([("msisdn", "+34600111222")]) == {
            ("msisdn", "+34600111222"): [("mobile_port_in", "p-3")]
        }
        assert len(_rows(uow, tables.correlation_keys)) == 3


def test_a_key_added_by_a_process_released_in_the_same_batch_is_inactive(
    any_store: Store,
) -> None:
    _save(
        any_store,
        WriteBatch(
            keys_added=[("mobile_port_in", "nc_reference", "NC-9", "p-1")],
            keys_released=["p-1"],
        ),
    )
    _save(any_store, WriteBatch(keys_added=[("mobile_port_in", "nc_reference", "NC-9", "p-2")]))
    with any_store.unit_of_work() as uow:
        assert uow.lookup_keys([("nc_reference", "NC-9")]) == {
            ("nc_reference", "NC-9"): [("mobile_port_in", "p-2")]
        }


# -- outbox and timers ------------------------------------------------------------------


def test_outbox_rows_wait_as_pending_in_the_order_written(store: SqlStore) -> None:
    first = ("p-1", "notification", {"template": "port_scheduled", "lang": "es"}, "k-1", moment(5))
    _save(store, WriteBatch(outbox=[first], at=moment(1)))
    _save(
        store,
        WriteBatch(
            outbox=[("p-1", "webhook", {"type": "port.reschedule_requested"}, "k-2", moment(9))],
            at=moment(2),
        ),
    )
    with store.unit_of_work() as uow:
        rows = _rows(uow, tables.outbox)
    assert [(r.idempotency_key, r.topic, r.status, r.attempts) for r in rows] == [
        ("k-1", "notification", "pending", 0),
        ("k-2", "webhook", "pending", 0),
    ]
    assert rows[0].payload == '{"template":"port_scheduled","lang":"es"}'
    assert (rows[0].created_at, rows[0].available_at) == (moment(1), moment(5))
    assert rows[0].id < rows[1].id


def test_the_earliest_armed_timer_is_the_workers_work_list(store: SqlStore) -> None:
    armed = make_state("p-1")
    armed.timers = {"sla": moment(60), "reminder": moment(30)}
    idle = make_state("p-2")
    idle.timers = {}
    _save(store, WriteBatch(new_states=[armed, idle]))
    with store.unit_of_work() as uow:
        assert uow.due_timers(moment(29)) == []
        assert uow.due_timers(moment(30)) == [("p-1", moment(30))]
    # The reminder fired: the next due time follows the state.
    armed.timers = {"sla": moment(60)}
    armed.version = 2
    _save(store, WriteBatch(changed_states=[armed]))
    with store.unit_of_work() as uow:
        assert uow.due_timers(moment(59)) == []
        assert uow.due_timers(moment(90)) == [("p-1", moment(60))]
    # A process whose timers are all cancelled leaves the list.
    armed.timers = {}
    _save(store, WriteBatch(changed_states=[armed]))
    with store.unit_of_work() as uow:
        assert uow.due_timers(moment(10_000)) == []
        query = sa.select(tables.processes.c.id, tables.processes.c.next_timer_at)
        assert sorted(uow.connection.execute(query)) == [("p-1", None), ("p-2", None)]


def test_outbox_messages_are_read_back_in_the_order_written(any_store: Store) -> None:
    rows = [
        ("p-1", "notification", {"template": "port_scheduled"}, "k-1", moment(5)),
        ("p-1", "webhook", {"type": "port.scheduled"}, "k-2", moment(5)),
        ("p-2", "webhook", {"type": "port.cancelled"}, "k-3", moment(6)),
    ]
    with any_store.unit_of_work(read_only=True) as uow:
        assert uow.last_outbox_id() == 0
    _save(any_store, WriteBatch(outbox=rows, at=moment(1)))
    with any_store.unit_of_work(read_only=True) as uow:
        every = uow.outbox_messages()
        assert [(m.process_id, m.topic, m.payload) for m in every] == [r[:3] for r in rows]
        assert uow.last_outbox_id() == every[-1].id
        later = uow.outbox_messages(every[0].id, except_topic="notification")
        assert [m.topic for m in later] == ["webhook", "webhook"]
        assert uow.outbox_messages(every[-1].id) == []


# -- dead letters -----------------------------------------------------------------------


def test_dead_letters_are_listed_and_resolved(any_store: Store) -> None:
    message = {"specversion": "1.0", "id": "m-1", "type": "donor.rejected", "data": {"c": "Ñ"}}
    _save(
        any_store,
        WriteBatch(
            dead_letters=[
                ("gateway", "m-1", "donor.rejected", message, "no process for msisdn"),
                ("crm", None, None, {"raw": "not json"}, "malformed"),
            ],
            at=moment(3),
        ),
    )
    with any_store.unit_of_work() as uow:
        first, second = uow.dead_letters()
        assert (first.source, first.message_id, first.type, first.payload) == (
            "gateway",
            "m-1",
            "donor.rejected",
            message,
        )
        assert (first.status, first.received_at, first.reason) == (
            "open",
            moment(3),
            "no process for msisdn",
        )
        assert (second.message_id, second.type) == (None, None)

        uow.resolve_dead_letter(first.id, "replayed", "process p-9 registered", moment(10))
        uow.commit()

        assert [d.id for d in uow.dead_letters()] == [second.id]
        assert [d.id for d in uow.dead_letters("replayed")] == [first.id]
        assert len(uow.dead_letters(None)) == 2
        assert len(uow.dead_letters(None, limit=1)) == 1
        resolved = uow.get_dead_letter(first.id)
        assert resolved is not None
        assert (resolved.status, resolved.resolution, resolved.resolved_at) == (
            "replayed",
            "process p-9 registered",
            moment(10),
        )
        assert uow.get_dead_letter(first.id + second.id + 1000) is None

        with pytest.raises(LookupError):
            uow.resolve_dead_letter(first.id, "discarded", "twice", moment(11))
        with pytest.raises(ValueError, match="replayed or discarded"):
            uow.resolve_dead_letter(second.id, "open", "?", moment(11))


# -- API keys ---------------------------------------------------------------------------


def test_api_keys_are_stored_found_and_revoked(any_store: Store) -> None:
    with any_store.unit_of_work() as uow:
        uow.add_api_key(
            id="key-1",
            name="Portability gateway",
            prefix="rlv_4f2a9c1d",
            secret_hash=digest("secret"),
            scopes=["events:write", "processes:read", "events:write"],
            created_at=moment(),
        )
        uow.commit()

        found = uow.find_api_key_by_prefix("rlv_4f2a9c1d")
        assert found is not None
        assert (found.id, found.name, found.secret_hash) == (
            "key-1",
            "Portability gateway",
            digest("secret"),
        )
        assert found.scopes == frozenset({"events:write", "processes:read"})
        assert found.active
        assert uow.find_api_key_by_prefix("rlv_00000000") is None

        uow.revoke_api_key("key-1", moment(5))
        uow.revoke_api_key("key-1", moment(9))
        uow.commit()
        revoked = uow.find_api_key_by_prefix("rlv_4f2a9c1d")
        assert revoked is not None
        assert (revoked.active, revoked.revoked_at) == (False, moment(5))
        assert [k.id for k in uow.api_keys()] == ["key-1"]

        with pytest.raises(LookupError):
            uow.revoke_api_key("nope", moment(5))


def test_the_same_dead_letter_content_is_kept_once_while_open(any_store: Store) -> None:
    line = {"file": "events.jsonl", "line": 7, "text": '{"id": '}
    again = ("cli", None, None, line, "line 7 is not valid JSON (at 12:03)")
    _save(any_store, WriteBatch(dead_letters=[again, again], at=moment(3)))
    _save(any_store, WriteBatch(dead_letters=[(*again[:4], "a later reason")], at=moment(4)))
    with any_store.unit_of_work() as uow:
        [letter] = uow.dead_letters()
        uow.resolve_dead_letter(letter.id, "discarded", "fixed at the source", moment(5))
        uow.commit()

    # Once the dead letter is resolved, the same content refused again is kept anew.
    _save(any_store, WriteBatch(dead_letters=[again], at=moment(6)))

    with any_store.unit_of_work(read_only=True) as uow:
        assert [d.status for d in uow.dead_letters(None)] == ["discarded", "open"]
