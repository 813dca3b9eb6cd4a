"""Pipelined ingest decides batch N+1 while N is written: same results as one by one."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.migrate import upgrade
from relevo.adapters.db.store import SqlStore, UnitOfWork
from relevo.adapters.db.writer_protocol import COMMIT_DELAY_VARIABLE, WriteJob
from relevo.adapters.db.writes import RenderedBatch
from relevo.services import pipeline
from relevo.services.catalog import Catalog
from relevo.services.correlation import Correlation, Correlator
from relevo.services.hub import Hub, Inbound, StartRequest
from relevo.services.records import ConcurrencyConflict

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WINDOW = "2026-12-02T02:00:00+01:00"
PROCESSES = 24
BATCH = 5


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture
def other_store(empty_db_url: str) -> Iterator[SqlStore]:
    engine = create_engine(empty_db_url)
    upgrade(engine)
    yield SqlStore(engine)
    engine.dispose()


def msisdn(i: int) -> str:
    return f"6120000{i:02d}"


def start_all(hub: Hub) -> None:
    for i in range(PROCESSES):
        hub.start_process(
            StartRequest(
                kind="mobile_port_in",
                customer_id=f"cus_{i}",
                subject=msisdn(i),
                keys={"crm_order_id": f"O-{i}"},
                attributes={"modality": "postpaid"},
                channel="web",
                actor=f"customer:cus_{i}",
            )
        )


def stream() -> list[Inbound]:
    """Each process's messages land in consecutive batches, so a key added by one batch
    (the central node's reference) correlates messages of the next; with redeliveries,
    an unknown key and a message for a finished process."""
    lives: list[list[tuple[str, dict[str, Any]]]] = []
    for i in range(PROCESSES):
        reference = f"R{i:03d}"
        lives.append(
            [
                ("nc.accepted", {"msisdn": msisdn(i), "reference": reference, "window": WINDOW}),
                ("donor.confirmed", {"nc_reference": reference}),
                ("sim.activated", {"msisdn": msisdn(i)}),
                ("port.executed", {"nc_reference": reference}),
                ("sim.activated", {"msisdn": msisdn(i)}),  # after the end: ignored
            ]
        )
    # Five processes at a time, one step per batch: step n+1 comes right behind step n.
    ordered = [
        (i, step)
        for group in range(0, PROCESSES, BATCH)
        for step in range(5)
        for i in range(group, min(group + BATCH, PROCESSES))
    ]
    items = [Inbound("nc-gateway", f"m-{i}-{step}", *lives[i][step], MONDAY) for i, step in ordered]
    items.insert(17, items[3])  # a redelivery a few batches later
    items.insert(
        40, Inbound("nc-gateway", "lost", "donor.confirmed", {"nc_reference": "X"}, MONDAY)
    )
    return items


def batches() -> list[list[Inbound]]:
    items = stream()
    return [items[i : i + BATCH] for i in range(0, len(items), BATCH)]


def summary(store: SqlStore, results: list[list[Any]]) -> tuple[list[Any], dict[str, Any]]:
    """Outcomes per message, and each process's state without its random id and hashes."""
    outcomes = [(r.id, r.outcome.value, r.reason_code) for batch in results for r in batch]
    with store.unit_of_work(read_only=True) as uow:
        states = uow.find_processes(kind="mobile_port_in", limit=1000)
    shapes = {
        s.subject: (s.stage, s.status, s.version, s.attributes, s.timers, s.ignored, s.keys)
        for s in states
    }
    return outcomes, shapes


def run_both(
    store: SqlStore,
    other: SqlStore,
    catalog: Catalog,
    writer: pipeline.WriterKind,
    arm: Callable[[], None] = lambda: None,
) -> pipeline.StreamReport:
    """Feed ``batches()`` through a stream on ``store`` and one by one on ``other``; both
    must end alike. The stream's report says which paths it took."""
    streamed = Hub(store, catalog, lambda: MONDAY, stream_writer=writer)
    sequential = Hub(other, catalog, lambda: MONDAY)
    start_all(streamed)
    start_all(sequential)
    arm()
    report = pipeline.StreamReport()
    got = list(pipeline.ingest_stream(streamed.ingestor, batches(), writer, report))
    want = [sequential.ingest(batch) for batch in batches()]
    assert [len(b) for b in got] == [len(b) for b in batches()]
    assert summary(store, got) == summary(other, want)
    for hub in (streamed, sequential):
        with hub.store.unit_of_work(read_only=True) as uow:
            ids = [s.id for s in uow.find_processes(kind="mobile_port_in", limit=1000)]
        assert all(hub.timeline(pid)["chain_valid"] for pid in ids)
    return report


def on_writer_thread() -> bool:
    return threading.current_thread().name.startswith("relevo-writer")


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_a_stream_ends_exactly_as_batches_fed_one_by_one(
    store: SqlStore,
    other_store: SqlStore,
    catalog: Catalog,
    monkeypatch: pytest.MonkeyPatch,
    writer: pipeline.WriterKind,
) -> None:
    # Every writer, the child process too, holds each commit back: the next batch is
    # planned on a snapshot taken before the batch it depends on is committed.
    monkeypatch.setenv(COMMIT_DELAY_VARIABLE, "0.05")
    report = run_both(store, other_store, catalog, writer)
    # The race happened: batches were planned on snapshots that lacked a batch still
    # uncommitted, its new versions and the keys it gave laid over them...
    assert report.overlaid > len(batches()) // 2
    assert report.keys_overlaid > 0
    # ...and every batch of this stream, though each depends on the one before, was
    # written as planned.
    assert report.launched == len(batches())
    assert (report.waited, report.refused) == (0, 0)


def test_a_batch_that_clashes_in_flight_is_decided_again(
    store: SqlStore, other_store: SqlStore, catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    save = UnitOfWork.save
    calls = 0
    armed = False

    def clashing_now_and_then(self: UnitOfWork, batch: Any) -> None:
        nonlocal calls
        if armed and on_writer_thread():
            calls += 1
            if calls % 3 == 0:
                raise ConcurrencyConflict("another writer got there first")
        save(self, batch)

    def arm() -> None:
        nonlocal armed
        armed = True

    monkeypatch.setenv(COMMIT_DELAY_VARIABLE, "0.02")
    monkeypatch.setattr(UnitOfWork, "save", clashing_now_and_then)
    report = run_both(store, other_store, catalog, "thread", arm)
    assert calls > 6
    # Batches in flight were refused and decided again from the store.
    assert report.refused >= calls // 3
    assert report.overlaid > 0


@pytest.mark.parametrize("second_write_fails", [False, True], ids=["lands", "clashes"])
def test_a_stream_cut_short_lets_the_batch_in_flight_settle(
    store: SqlStore, catalog: Catalog, monkeypatch: pytest.MonkeyPatch, second_write_fails: bool
) -> None:
    hub = Hub(store, catalog, lambda: MONDAY, stream_writer="thread")
    start_all(hub)
    save = UnitOfWork.save
    writes = 0

    def save_maybe_clashing(self: UnitOfWork, batch: Any) -> None:
        nonlocal writes
        if on_writer_thread():
            writes += 1
            if writes == 2 and second_write_fails:
                raise ConcurrencyConflict("another writer got there first")
        save(self, batch)

    monkeypatch.setattr(UnitOfWork, "save", save_maybe_clashing)
    # Two batches that do not depend on each other: the second is written as planned.
    accepted = {item.id: item for item in stream() if item.type == "nc.accepted"}
    first = [accepted[f"m-{i}-0"] for i in range(5)]
    second = [accepted[f"m-{i}-0"] for i in range(5, 10)]

    def source_that_breaks() -> Iterator[list[Inbound]]:
        yield first
        yield second
        raise OSError("the file went away")

    received = []
    with pytest.raises(OSError, match="went away"):
        for results in hub.ingest_stream(source_that_breaks()):
            received.append(results)
    assert received == []  # both batches were in flight when the source broke
    with store.unit_of_work(read_only=True) as uow:
        stored = {s.id: s for s in uow.find_processes(kind="mobile_port_in", limit=1000)}
        applied_first = uow.inbox_seen((item.source, item.id) for item in first)
        applied = uow.inbox_seen((item.source, item.id) for item in second)
    assert len(applied_first) == len(first)
    assert bool(applied) is not second_write_fails
    # Whatever the cache kept is exactly what the store holds.
    for pid, state in stored.items():
        cached = hub.ingestor.states.peek(pid)
        assert cached is None or cached.to_json() == state.to_json()


# -- keys given or released by batches in flight -----------------------------------------------

KIND = "mobile_port_in"


def in_flight(keys: list[tuple[str, str, str, str, bool]], released: list[str]) -> Any:
    """A batch still being written that added ``keys`` and released ``released``."""
    rendered = RenderedBatch(keys=list(keys), released=list(released))
    return pipeline._Planned([], [], WriteJob(rendered, [], {}), {})


def by_key(
    catalog: Catalog, correlation: Correlation, items: list[Inbound], missed: list[Any]
) -> Any:
    ingestor = SimpleNamespace(correlator=Correlator(catalog))
    return pipeline._with_missed_keys(ingestor, items, correlation, missed)  # type: ignore[arg-type]


def confirmed(reference: str) -> Inbound:
    return Inbound(
        "nc-gateway", f"c-{reference}", "donor.confirmed", {"nc_reference": reference}, MONDAY
    )


def test_a_key_given_in_flight_names_its_process_for_the_next_batch(catalog: Catalog) -> None:
    items = [confirmed("R1"), confirmed("R2")]
    read = Correlation(
        [None, "prc_b"],
        [("nc_reference", "R1"), ("nc_reference", "R2")],
        {
            ("nc_reference", "R2"): [(KIND, "prc_b")],
        },
    )
    missed = [in_flight([(KIND, "nc_reference", "R1", "prc_a", True)], [])]

    now = by_key(catalog, read, items, missed)

    assert now.targets == ["prc_a", "prc_b"]
    assert now.holders[("nc_reference", "R1")] == [(KIND, "prc_a")]
    assert now.pairs == read.pairs


def test_a_key_released_in_flight_leaves_the_holders_still_active(catalog: Catalog) -> None:
    items = [confirmed("R1")]
    pair = ("nc_reference", "R1")
    read = Correlation(["prc_a"], [pair], {pair: [(KIND, "prc_a"), ("fixed_port_in", "prc_x")]})

    now = by_key(catalog, read, items, [in_flight([], ["prc_a"])])

    assert now.holders[pair] == [("fixed_port_in", "prc_x")]
    # With no active holder left the store lists the past ones: the snapshot's, unless
    # the key changed hands before (the writer checks that again).
    alone = Correlation(["prc_a"], [pair], {pair: [(KIND, "prc_a")]})
    assert by_key(catalog, alone, items, [in_flight([], ["prc_a"])]) is alone


def test_a_holder_added_in_flight_beside_another_cannot_be_told_from_the_snapshot(
    catalog: Catalog,
) -> None:
    pair = ("nc_reference", "R1")
    read = Correlation(["prc_old"], [pair], {pair: [(KIND, "prc_old")]})
    missed = [in_flight([(KIND, "nc_reference", "R1", "prc_new", True)], [])]

    assert by_key(catalog, read, [confirmed("R1")], missed) is None


def test_a_key_given_and_released_in_flight_still_routes_to_its_process(catalog: Catalog) -> None:
    pair = ("nc_reference", "R1")
    read = Correlation([None], [pair], {})
    missed = [
        in_flight([(KIND, "nc_reference", "R1", "prc_a", True)], []),
        in_flight([], ["prc_a"]),
    ]

    now = by_key(catalog, read, [confirmed("R1")], missed)

    assert now.targets == ["prc_a"]
    assert now.holders[pair] == [(KIND, "prc_a")]


def test_a_key_given_in_flight_that_the_read_already_shows_changes_nothing(
    catalog: Catalog,
) -> None:
    pair = ("nc_reference", "R1")
    read = Correlation(["prc_a"], [pair], {pair: [(KIND, "prc_a")]})
    missed = [in_flight([(KIND, "nc_reference", "R1", "prc_a", True)], [])]

    assert by_key(catalog, read, [confirmed("R1")], missed) is read
