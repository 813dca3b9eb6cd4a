"""Writers racing over the same processes: two batches touching the same processes in
opposite orders must never fail (no deadlock surfaces), on SQLite and PostgreSQL; direct
ingest and streamed ingest alike."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime

import pytest

from relevo.adapters.db.store import SqlStore
from relevo.services import pipeline
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub, Inbound, StartRequest

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PROCESSES = 200
ROUNDS = 20
STREAM_ROUNDS = 10


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def msisdn(i: int) -> str:
    return f"61{i:07d}"


def start_processes(hub: Hub, count: int = PROCESSES) -> list[str]:
    """Start ``count`` mobile port-ins, one per msisdn; their ids."""
    ids = []
    for i in range(count):
        view = hub.start_process(
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
        ids.append(str(view["id"]))
    return ids


def delivered(tag: str, order: Sequence[int]) -> list[Inbound]:
    """One ``sim.delivered`` per process, in ``order``: every message changes its process."""
    return [
        Inbound("logistics", f"{tag}-{i}", "sim.delivered", {"msisdn": msisdn(i)}, MONDAY)
        for i in order
    ]


def race(*senders: Callable[[int], None], rounds: int = ROUNDS) -> list[BaseException]:
    """Run each sender once per round, all of a round released together; what they raised."""
    failures: list[BaseException] = []
    gate = threading.Barrier(len(senders))

    def run(send: Callable[[int], None]) -> None:
        for n in range(rounds):
            gate.wait()
            try:
                send(n)
            except BaseException as error:
                failures.append(error)

    threads = [threading.Thread(target=run, args=(send,)) for send in senders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def versions(store: SqlStore) -> set[int]:
    with store.unit_of_work(read_only=True) as uow:
        return {s.version for s in uow.find_processes(kind="mobile_port_in", limit=1000)}


def test_batches_over_the_same_processes_in_opposite_orders_all_apply(
    store: SqlStore, catalog: Catalog
) -> None:
    hub = Hub(store, catalog, lambda: MONDAY)
    start_processes(hub)
    forward = list(range(PROCESSES))
    backward = forward[::-1]
    outcomes: list[str] = []

    def sender(tag: str, order: list[int]) -> Callable[[int], None]:
        def send(n: int) -> None:
            results = hub.ingest(delivered(f"{tag}{n}", order))
            outcomes.extend(r.outcome.value for r in results)

        return send

    failures = race(sender("fwd", forward), sender("bwd", backward))

    assert failures == []
    assert set(outcomes) == {"accepted"}
    assert len(outcomes) == 2 * ROUNDS * PROCESSES
    # Every message landed exactly once on every process.
    assert versions(store) == {2 * ROUNDS + 1}


@pytest.mark.parametrize("writer", ["process", "thread"])
def test_streams_over_the_same_processes_in_opposite_orders_all_apply(
    store: SqlStore, catalog: Catalog, writer: pipeline.WriterKind
) -> None:
    # Two `relevo ingest` runs: each its own hub (state cache) and batch writer.
    first, second = (Hub(store, catalog, lambda: MONDAY, stream_writer=writer) for _ in "ab")
    start_processes(first)
    forward = list(range(PROCESSES))
    outcomes: list[str] = []
    gate = threading.Barrier(2)

    def batches(tag: str, order: list[int]) -> Iterator[list[Inbound]]:
        for n in range(STREAM_ROUNDS):
            with contextlib.suppress(threading.BrokenBarrierError):
                gate.wait(timeout=10)  # both streams hand their next batch over together
            yield delivered(f"{tag}{n}", order)

    def stream(hub: Hub, tag: str, order: list[int]) -> Callable[[int], None]:
        def send(_: int) -> None:
            for results in hub.ingest_stream(batches(tag, order)):
                outcomes.extend(r.outcome.value for r in results)

        return send

    failures = race(stream(first, "fwd", forward), stream(second, "bwd", forward[::-1]), rounds=1)

    assert failures == []
    assert set(outcomes) == {"accepted"}
    assert len(outcomes) == 2 * STREAM_ROUNDS * PROCESSES
    assert versions(store) == {2 * STREAM_ROUNDS + 1}
