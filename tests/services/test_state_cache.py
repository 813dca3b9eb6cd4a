"""The states ingest keeps between batches: bounded, version-checked, never shared."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relevo.adapters.db.store import SqlStore, UnitOfWork
from relevo.domain.model import Action, ProcessState
from relevo.services import ingest as ingest_module
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub, Inbound, StartRequest
from relevo.services.records import ConcurrencyConflict
from relevo.services.state_cache import StateCache

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WINDOW = "2026-12-02T02:00:00+01:00"


def state(pid: str, version: int) -> ProcessState:
    return ProcessState(
        id=pid,
        kind="mobile_port_in",
        definition_version=1,
        customer_id="cus_1",
        subject="600000000",
        language="es",
        timezone="Europe/Madrid",
        channel="web",
        created_at="2026-11-30T09:00:00+00:00",
        updated_at="2026-11-30T09:00:00+00:00",
        version=version,
    )


# -- the cache on its own ---------------------------------------------------------------


def test_an_entry_is_handed_out_only_at_the_stored_version() -> None:
    cache = StateCache(10)
    cache.give_back([state("p-1", 3), state("p-2", 5)])
    found = cache.take({"p-1": 3, "p-2": 6, "p-3": 1})
    assert list(found) == ["p-1"]
    assert (cache.hits, cache.misses) == (1, 2)
    # Checked out, and the stale p-2 dropped: nothing is left to share.
    assert len(cache) == 0
    assert cache.take({"p-1": 3}) == {}


def test_the_least_recently_returned_entries_go_first() -> None:
    cache = StateCache(2)
    cache.give_back([state("p-1", 1), state("p-2", 1)])
    cache.give_back([state("p-1", 2)])
    cache.give_back([state("p-3", 1)])
    assert cache.peek("p-2") is None
    assert [cache.peek(pid) is not None for pid in ("p-1", "p-3")] == [True, True]


def test_an_older_state_never_replaces_a_newer_one() -> None:
    cache = StateCache(10)
    cache.give_back([state("p-1", 4)])
    cache.give_back([state("p-1", 3)])
    held = cache.peek("p-1")
    assert held is not None and held.version == 4


def test_capacity_zero_turns_the_cache_off_and_negative_is_refused() -> None:
    off = StateCache(0)
    off.give_back([state("p-1", 1)])
    assert not off.enabled and len(off) == 0
    with pytest.raises(ValueError, match="cannot be negative"):
        StateCache(-1)


# -- states in flight (a streamed batch written but not yet committed) ---------------------


def test_a_state_in_flight_goes_only_to_the_batches_planned_on_top_of_it() -> None:
    cache = StateCache(10)
    cache.give_back([state("p-1", 3)])
    uncommitted = state("p-1", 4)
    cache.hold_in_flight([uncommitted])
    # Not a stored state: a plain take misses it, even at its version, and leaves it.
    assert cache.take({"p-1": 4}) == {}
    cache.give_back([state("p-1", 4)])  # say, another writer committed version 4
    assert cache.peek("p-1") is uncommitted
    assert cache.take_in_flight({"p-1": 4}) == {"p-1": uncommitted}
    assert len(cache) == 0


def test_taking_states_in_flight_is_all_or_nothing() -> None:
    cache = StateCache(10)
    cache.hold_in_flight([state("p-1", 4), state("p-2", 2)])
    assert cache.take_in_flight({"p-1": 4, "p-2": 3}) is None
    assert cache.take_in_flight({"p-1": 4, "p-3": 1}) is None
    assert len(cache) == 2


def test_once_its_batch_commits_a_state_in_flight_is_a_stored_one() -> None:
    cache = StateCache(10)
    cache.hold_in_flight([state("p-1", 4)])
    # The next batch advances it in place and launches before the first one lands.
    [(_, taken)] = cache.take_in_flight({"p-1": 4}).items()  # type: ignore[union-attr]
    taken.version = 5
    cache.hold_in_flight([taken])
    cache.committed({"p-1": 4})
    assert cache.take({"p-1": 5}) == {}  # still the second batch's, in flight
    cache.committed({"p-1": 5})
    assert cache.take({"p-1": 5}) == {"p-1": taken}


def test_a_batch_not_written_leaves_nothing_in_flight_behind() -> None:
    cache = StateCache(10)
    cache.hold_in_flight([state("p-1", 4), state("p-2", 2)])
    cache.not_written(["p-1", "p-2"])
    assert len(cache) == 0
    cache.give_back([state("p-1", 3)])
    assert cache.take({"p-1": 3}) != {}


# -- the cache inside ingest, against the real store -------------------------------------


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def hub_on(store: SqlStore, catalog: Catalog) -> Hub:
    return Hub(store, catalog, lambda: MONDAY)


def start(hub: Hub) -> str:
    request = StartRequest(
        kind="mobile_port_in",
        customer_id="cus_1",
        subject="612345678",
        keys={"crm_order_id": "O-1"},
        attributes={"modality": "postpaid"},
        channel="web",
        actor="customer:cus_1",
    )
    return str(hub.start_process(request)["id"])


def msg(message_id: str, type_: str, **data: object) -> Inbound:
    return Inbound("nc-gateway", message_id, type_, dict(data), MONDAY)


def stored(store: SqlStore, pid: str) -> ProcessState:
    with store.unit_of_work(read_only=True) as uow:
        found = uow.get_state(pid)
    assert found is not None
    return found


def test_a_cached_state_is_exactly_the_stored_one(store: SqlStore, catalog: Catalog) -> None:
    hub = hub_on(store, catalog)
    pid = start(hub)
    hub.ingest([msg("m1", "nc.accepted", msisdn="612345678", reference="R1", window=WINDOW)])
    cached = hub.ingestor.states.peek(pid)
    assert cached is not None
    assert cached.to_json() == stored(store, pid).to_json()


def test_writes_from_elsewhere_make_the_entry_miss(store: SqlStore, catalog: Catalog) -> None:
    first, second = hub_on(store, catalog), hub_on(store, catalog)
    pid = start(first)
    first.ingest([msg("m1", "nc.accepted", msisdn="612345678", reference="R1", window=WINDOW)])
    # Another server process moves the process on, and a customer acts through a channel.
    second.ingest([msg("m2", "donor.confirmed", nc_reference="R1")])
    first.act(pid, Action("postpone", {"new_date": "2026-12-09"}, "customer:cus_1", "web"), "en")
    misses = first.ingestor.states.misses
    [result] = first.ingest([msg("m3", "sim.activated", msisdn="612345678")])
    assert result.outcome.value == "accepted"
    assert first.ingestor.states.misses == misses + 1
    after = stored(store, pid)
    assert after.version == 5  # started, accepted, confirmed, postponed, activated
    assert [entry["stage"] for entry in after.stage_history][-1] == "scheduled"
    timeline = first.timeline(pid)
    assert timeline["chain_valid"] is True
    assert [event["version"] for event in timeline["events"]] == [1, 2, 3, 4, 5]


def test_a_failed_attempt_returns_nothing_to_the_cache(
    store: SqlStore, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = hub_on(store, catalog)
    pid = start(hub)
    hub.ingest([msg("m1", "nc.accepted", msisdn="612345678", reference="R1", window=WINDOW)])
    save = UnitOfWork.save
    calls = 0

    def save_failing_once(self: UnitOfWork, batch: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConcurrencyConflict("another writer got there first")
        save(self, batch)  # type: ignore[arg-type]

    monkeypatch.setattr(UnitOfWork, "save", save_failing_once)
    [result] = hub.ingest([msg("m2", "donor.confirmed", nc_reference="R1")])
    assert (result.outcome.value, calls) == ("accepted", 2)
    # The first attempt had already applied the event to its copy; the retry started over.
    after = stored(store, pid)
    assert after.version == 3
    cached = hub.ingestor.states.peek(pid)
    assert cached is not None and cached.to_json() == after.to_json()


def test_a_batch_that_never_commits_leaves_its_states_out_of_the_cache(
    store: SqlStore, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = hub_on(store, catalog)
    pid = start(hub)
    hub.ingest([msg("m1", "nc.accepted", msisdn="612345678", reference="R1", window=WINDOW)])
    assert hub.ingestor.states.peek(pid) is not None

    def always_conflicting(self: UnitOfWork, batch: object) -> None:
        raise ConcurrencyConflict("another writer got there first")

    monkeypatch.setattr(UnitOfWork, "save", always_conflicting)
    monkeypatch.setattr(ingest_module, "backoff", lambda attempt: None)
    with pytest.raises(ConcurrencyConflict):
        hub.ingest([msg("m2", "donor.confirmed", nc_reference="R1")])
    assert hub.ingestor.states.peek(pid) is None
    assert stored(store, pid).version == 2
