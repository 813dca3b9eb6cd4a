"""The worker service over the in-memory store: outcomes, retries with backoff, dead
messages and replays, deferrals, timers, stops."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from relevo.adapters.memory import MemoryStore
from relevo.services import outbox_admin
from relevo.services.delivery import Delivery, DeliveryOutcome, Envelope
from relevo.services.delivery_records import DEAD, PENDING, SENT, SUPERSEDED
from relevo.services.records import OutboxRow, StoreUnavailable, WriteBatch
from relevo.services.unit_of_work import Store, UnitOfWork
from relevo.services.worker import PassReport, RetryPolicy, Worker

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Scripted:
    """A deliverer answering what ``answer`` says for each envelope, and keeping them."""

    def __init__(self, answer: Callable[[Envelope], Delivery]) -> None:
        self.answer = answer
        self.seen: list[Envelope] = []

    def deliver(self, envelope: Envelope, now: datetime) -> Delivery:
        self.seen.append(envelope)
        return self.answer(envelope)


def write(store: Store, *topics: str, at: datetime = START) -> None:
    rows = [
        OutboxRow("p-1", t, {"i": i}, f"p-1:{i}:{t}", at.isoformat()) for i, t in enumerate(topics)
    ]
    with store.unit_of_work() as uow:
        uow.save(WriteBatch(outbox=rows, at=at.isoformat()))
        uow.commit()


def statuses(store: Store) -> list[str]:
    with store.unit_of_work(read_only=True) as uow:
        return [e.status for e in uow.outbox_entries()]


def make_worker(store: Store, clock: Clock, deliverer: Scripted, **kw: object) -> Worker:
    options: dict[str, object] = {"rng": random.Random(1), "retry": RetryPolicy(max_attempts=3)}
    options.update(kw)
    return Worker(store, clock, deliverers={}, default=deliverer, **options)  # type: ignore[arg-type]


def test_each_outcome_moves_the_message_and_is_recorded() -> None:
    store, clock = MemoryStore(), Clock()
    answers = {
        "a": DeliveryOutcome.SENT,
        "b": DeliveryOutcome.SUPERSEDED,
        "c": DeliveryOutcome.FAILED_PERMANENT,
    }
    deliverer = Scripted(lambda e: Delivery(answers[e.topic], f"{e.topic} done", facts={"x": 1}))
    write(store, "a", "b", "c")

    report = make_worker(store, clock, deliverer).run_once()

    assert statuses(store) == [SENT, SUPERSEDED, DEAD]
    assert (report.claimed, report.dead, report.delivered) == (3, 1, 3)
    assert [e.message_id for e in deliverer.seen] == ["p-1:0:a", "p-1:1:b", "p-1:2:c"]
    attempts = outbox_admin.attempts_of(store, "p-1")
    assert [(a["outcome"], a["attempt"], a["detail"]) for a in attempts] == [
        ("sent", 1, "a done"),
        ("superseded", 1, "b done"),
        ("failed_permanent", 1, "c done"),
    ]


def test_transient_failures_back_off_then_die_and_a_replay_delivers() -> None:
    store, clock = MemoryStore(), Clock()
    failing = {"on": True}

    def answer(e: Envelope) -> Delivery:
        if failing["on"]:
            return Delivery(DeliveryOutcome.FAILED_TRANSIENT, "503")
        return Delivery(DeliveryOutcome.SENT)

    deliverer = Scripted(answer)
    worker = make_worker(store, clock, deliverer, retry=RetryPolicy(3, base_seconds=10))
    write(store, "a")
    waits = []
    for _ in range(3):
        worker.run_once()
        entry = outbox_admin.entries(store)[0]
        waits.append((datetime.fromisoformat(entry["available_at"]) - clock.now).total_seconds())
        # Not due yet: the next pass claims nothing.
        assert worker.run_once().claimed == 0 or entry["status"] == DEAD
        clock.now += timedelta(hours=1)

    assert statuses(store) == [DEAD]
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20  # exponential, with jitter
    assert [e.attempt for e in deliverer.seen] == [1, 2, 3]

    failing["on"] = False
    outbox_admin.replay(store, 1, clock)
    worker.run_once()
    assert statuses(store) == [SENT]
    assert deliverer.seen[-1].message_id == deliverer.seen[0].message_id  # the same id


def test_a_deferral_waits_without_using_up_an_attempt() -> None:
    store, clock = MemoryStore(), Clock()
    later = START + timedelta(hours=8)
    deliverer = Scripted(lambda e: Delivery(DeliveryOutcome.DEFERRED, "quiet hours", later))
    write(store, "a")
    make_worker(store, clock, deliverer).run_once()
    (entry,) = outbox_admin.entries(store)
    assert (entry["status"], entry["attempts"]) == (PENDING, 0)
    assert entry["available_at"] == later.isoformat()


def test_held_topics_stay_pending_and_topics_go_to_their_deliverer() -> None:
    store, clock = MemoryStore(), Clock()
    webhooks = Scripted(lambda e: Delivery(DeliveryOutcome.SENT))
    crm = Scripted(lambda e: Delivery(DeliveryOutcome.SENT))
    write(store, "notification.requested", "crm.milestone", "switch.done")
    worker = Worker(
        store,
        clock,
        deliverers={"crm.milestone": crm},
        default=webhooks,
        hold=["notification.requested"],
    )
    worker.run_once()
    assert statuses(store) == [PENDING, SENT, SENT]
    assert [e.topic for e in crm.seen] == ["crm.milestone"]
    assert [e.topic for e in webhooks.seen] == ["switch.done"]


def test_a_deliverer_that_raises_is_retried_not_lost() -> None:
    store, clock = MemoryStore(), Clock()

    def boom(e: Envelope) -> Delivery:
        raise RuntimeError("bug")

    write(store, "a")
    make_worker(store, clock, Scripted(boom)).run_once()
    (entry,) = outbox_admin.entries(store)
    assert entry["status"] == PENDING
    assert "RuntimeError: bug" in entry["last_error"]


def test_a_stop_finishes_the_message_in_hand_and_leaves_the_rest_to_expire() -> None:
    store, clock = MemoryStore(), Clock()
    stop = threading.Event()

    def answer(e: Envelope) -> Delivery:
        stop.set()  # the stop arrives while the first message is in hand
        return Delivery(DeliveryOutcome.SENT)

    write(store, "a", "b", "c")
    worker = make_worker(store, clock, Scripted(answer), lease_seconds=60)
    report = worker.run_once(stop)
    assert (report.claimed, report.delivered) == (3, 1)
    assert statuses(store) == [SENT, PENDING, PENDING]
    clock.now += timedelta(seconds=61)  # the lease runs out: another worker takes them
    other = make_worker(store, clock, Scripted(lambda e: Delivery(DeliveryOutcome.SENT)))
    assert other.run_once().delivered == 2


def test_a_pass_fires_due_timers_first() -> None:
    class Timers:
        calls = 0

        def fire_due_timers(self, *, limit: int = 1000) -> object:
            Timers.calls += 1
            return type("TimerPass", (), {"fired": 4})()

    store, clock = MemoryStore(), Clock()
    report = make_worker(
        store, clock, Scripted(lambda e: Delivery(DeliveryOutcome.SENT)), timers=Timers()
    ).run_once()
    assert (Timers.calls, report.timers_fired, report.busy) == (1, 4, True)


class Flaky:
    """A store whose next ``failures`` write transactions cannot start (locked past the
    wait), as SQLite's are while ingest holds its write lock."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.failures = 0

    def unit_of_work(self, *, read_only: bool = False) -> UnitOfWork:
        if not read_only and self.failures:
            self.failures -= 1
            raise StoreUnavailable("database is locked")
        return self.inner.unit_of_work(read_only=read_only)


def attempt_outcomes(store: Store) -> list[str]:
    return [a["outcome"] for a in outbox_admin.attempts_of(store, "p-1")]


def test_held_attempts_survive_a_failed_record_and_are_recorded_once() -> None:
    store, clock = MemoryStore(), Clock()
    flaky = Flaky(store)
    deliverer = Scripted(lambda e: Delivery(DeliveryOutcome.SENT))
    write(store, "a", "b")
    worker = make_worker(flaky, clock, deliverer)  # type: ignore[arg-type]

    assert worker.run_once(hold=True).delivered == 2
    assert statuses(store) == [PENDING, PENDING] and attempt_outcomes(store) == []
    flaky.failures = 1  # the next claim, which records them, cannot start
    with pytest.raises(StoreUnavailable):
        worker.run_once(hold=True)
    assert worker.run_once().claimed == 0

    assert statuses(store) == [SENT, SENT]
    assert attempt_outcomes(store) == ["sent", "sent"]
    assert len(deliverer.seen) == 2  # delivered once: kept, not sent again


def test_a_running_worker_waits_for_a_store_that_cannot_serve() -> None:
    store, clock = MemoryStore(), Clock()
    flaky = Flaky(store)
    flaky.failures = 2
    write(store, "a", "b")
    worker = make_worker(flaky, clock, Scripted(lambda e: Delivery(DeliveryOutcome.SENT)))  # type: ignore[arg-type]
    stop = threading.Event()
    reports: list[PassReport] = []

    def on_pass(report: PassReport) -> None:
        reports.append(report)
        stop.set()

    worker.run(stop, on_pass, idle_seconds=0.01)

    assert [r.claimed for r in reports] == [2]  # the two failed passes were waited out
    assert statuses(store) == [SENT, SENT]  # recorded on the way out
    assert attempt_outcomes(store) == ["sent", "sent"]


class Pace:
    """A monotonic clock that each delivery moves by ``per_message`` seconds."""

    def __init__(self, per_message: float) -> None:
        self.per_message = per_message
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def paced(pace: Pace) -> Scripted:
    def answer(e: Envelope) -> Delivery:
        pace.now += pace.per_message
        return Delivery(DeliveryOutcome.SENT)

    return Scripted(answer)


def test_while_claims_come_back_full_quick_messages_are_claimed_in_larger_batches() -> None:
    store, clock, pace = MemoryStore(), Clock(), Pace(per_message=0.001)
    write(store, *[f"t{i}" for i in range(300)])
    worker = make_worker(store, clock, paced(pace), batch_size=10, max_batch=100, pace_clock=pace)

    claims = [worker.run_once().claimed for _ in range(5)]

    # 10 messages in 10 ms: 0.25 s holds 250 of them, capped at 100; the rest, 90, is not
    # a full claim, so the next one asks for the batch size again.
    assert claims == [10, 100, 100, 90, 0]
    assert worker.claim_size == 10
    assert sum(claims) == 300 and set(statuses(store)) == {SENT}


def test_slow_messages_keep_claims_at_the_batch_size() -> None:
    store, clock, pace = MemoryStore(), Clock(), Pace(per_message=0.5)
    write(store, *[f"t{i}" for i in range(30)])
    worker = make_worker(store, clock, paced(pace), batch_size=10, max_batch=100, pace_clock=pace)

    assert [worker.run_once().claimed for _ in range(3)] == [10, 10, 10]
