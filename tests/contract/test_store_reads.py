"""Contract of the stores' read side, run on every configured backend and in memory."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from relevo.adapters.db.store import SqlStore
from relevo.domain.model import ProcessState
from relevo.services.records import WriteBatch
from relevo.services.unit_of_work import Store

from .builders import event_entry, make_state, moment, start_batch


@pytest.fixture
def store(any_store: Store) -> Store:
    """Every store: the reads are the Protocol's, not SQL's."""
    return any_store


@pytest.fixture
def populated(store: Store) -> Store:
    """Four processes of two customers, two kinds and two statuses."""
    specs = [
        ("p-1", "cust-1", "+34600000001", "mobile_port_in", "active", 10, {"msisdn": "+346001"}),
        ("p-2", "cust-1", "ES0021000000000001AB", "power_switch", "active", 30, {"cups": "ES01"}),
        ("p-3", "cust-2", "+34600000003", "mobile_port_in", "completed", 20, {"msisdn": "X"}),
        ("p-4", "cust-2", "+34600000001", "mobile_port_in", "cancelled", 5, {}),
    ]
    with store.unit_of_work() as uow:
        for pid, customer, subject, kind, status, minutes, keys in specs:
            uow.save(
                start_batch(
                    pid,
                    keys=keys,
                    customer_id=customer,
                    subject=subject,
                    kind=kind,
                    status=status,
                    updated_at=moment(minutes),
                )
            )
        uow.save(WriteBatch(keys_released=["p-3"]))
        uow.commit()
    return store


def _ids(states: list[ProcessState]) -> list[str]:
    return [s.id for s in states]


def test_find_processes_filters_and_orders_by_last_update(populated: Store) -> None:
    with populated.unit_of_work(read_only=True) as uow:
        assert _ids(uow.find_processes()) == ["p-2", "p-3", "p-1", "p-4"]
        assert _ids(uow.find_processes(customer_id="cust-1")) == ["p-2", "p-1"]
        assert _ids(uow.find_processes(subject="+34600000001")) == ["p-1", "p-4"]
        assert _ids(uow.find_processes(kind="mobile_port_in")) == ["p-3", "p-1", "p-4"]
        assert _ids(uow.find_processes(status="active")) == ["p-2", "p-1"]
        assert _ids(uow.find_processes(kind="mobile_port_in", status="active")) == ["p-1"]
        assert _ids(uow.find_processes(customer_id="cust-2", status="active")) == []
        assert _ids(uow.find_processes(limit=2)) == ["p-2", "p-3"]


def test_find_processes_by_key_includes_released_keys(populated: Store) -> None:
    with populated.unit_of_work(read_only=True) as uow:
        assert _ids(uow.find_processes(key=("msisdn", "+346001"))) == ["p-1"]
        assert _ids(uow.find_processes(key=("msisdn", "X"))) == ["p-3"]
        assert _ids(uow.find_processes(key=("cups", "ES01"), customer_id="cust-2")) == []
        assert uow.find_processes(key=("msisdn", "nobody")) == []
        assert uow.find_processes(key=("msisdn", "+346001"))[0] == uow.get_state("p-1")


def test_counts_and_iterates_processes(populated: Store) -> None:
    with populated.unit_of_work(read_only=True) as uow:
        assert uow.count_processes() == 4
        assert uow.count_processes(kind="mobile_port_in") == 3
        assert uow.count_processes(kind="mobile_port_in", status="active") == 1
        assert uow.count_processes(status="failed") == 0
        assert list(uow.iter_process_ids()) == ["p-1", "p-2", "p-3", "p-4"]


def test_iter_process_ids_streams_many(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.save(WriteBatch(new_states=[make_state(f"p-{n:05d}") for n in range(2500)]))
        uow.commit()
        ids = list(uow.iter_process_ids())
    assert len(ids) == 2500
    assert ids == sorted(ids)


def test_read_events_follows_the_global_order(store: Store) -> None:
    with store.unit_of_work() as uow:
        uow.save(WriteBatch(events=[event_entry("p-1", 1), event_entry("p-2", 1)]))
        uow.save(WriteBatch(events=[event_entry("p-1", 2)]))
        uow.commit()
        everything = uow.read_events()
        assert [(s.process_id, s.version) for s in everything] == [
            ("p-1", 1),
            ("p-2", 1),
            ("p-1", 2),
        ]
        later = uow.read_events(after=everything[0].position, limit=1)
        assert [(s.process_id, s.version) for s in later] == [("p-2", 1)]
        assert uow.read_events(after=everything[-1].position) == []
        moments = uow.event_moments()
        assert moments == [(s.position, s.event.recorded_at) for s in everything]
        assert uow.event_moments(after=everything[0].position, limit=1) == [moments[1]]


def test_a_reader_is_not_blocked_by_an_open_writer(store: Store) -> None:
    with store.unit_of_work() as setup:
        setup.save(start_batch("p-1"))
        setup.commit()

    with store.unit_of_work() as writer:
        writer.save(start_batch("p-2"))
        with store.unit_of_work(read_only=True) as reader:
            assert reader.get_state("p-1") == make_state("p-1")
            assert reader.get_state("p-2") is None  # not committed yet
        writer.commit()


def test_reads_see_the_writes_of_their_own_transaction(sql_store: SqlStore) -> None:
    with sql_store.unit_of_work() as uow:
        uow.save(start_batch("p-1"))
        assert uow.count_processes() == 1
        assert uow.connection.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_read_state_answers_one_process_as_a_unit_of_work_reads_it(populated: Store) -> None:
    with populated.unit_of_work(read_only=True) as uow:
        expected = uow.get_state("p-2")
    assert expected is not None
    assert populated.read_state("p-2") == expected
    assert populated.read_state("p-404") is None


def test_read_state_leaves_no_transaction_behind(populated: Store) -> None:
    """The read on its own ends with its statement: a writer that needs the whole
    database right after it (a checkpoint, a schema change) is not held up by it."""
    populated.read_state("p-1")
    with populated.unit_of_work() as uow:
        uow.save(WriteBatch(keys_released=["p-1"]))
        uow.commit()
    if isinstance(populated, SqlStore) and populated.engine.dialect.name == "sqlite":
        pooled = populated.engine.raw_connection()  # outside a transaction, as the read
        try:
            driver = pooled.driver_connection
            assert driver is not None
            busy, _, _ = driver.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            pooled.close()
        assert busy == 0  # no reader holds an old snapshot
