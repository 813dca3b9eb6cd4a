"""The notifier told a claimed batch: one read of states and send log for the batch, read
again once older than its limit, a business key sent once within a batch, and the sends
recorded by the worker with their attempts."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from notifications.support import CATALOG, CONTACT, Recorder, envelopes, settings
from relevo.adapters.memory import MemoryStore
from relevo.domain.model import ProcessState
from relevo.domain.outbox import NOTIFICATION_TOPIC
from relevo.services.delivery import Delivery, DeliveryOutcome, Envelope
from relevo.services.notifications.notifier import Notifier, business_key
from relevo.services.notifications.send_log import StoreSendLog
from relevo.services.records import OutboxRow, WriteBatch
from relevo.services.worker import Worker
from scenarios.helpers import Run, madrid
from scenarios.test_energy_switch import requested

NOW = madrid(2026, 10, 5, 12, 1)


class Reads:
    """A state reader over a run that notes every read; ``gone`` makes the process vanish."""

    def __init__(self, run: Run) -> None:
        self.run = run
        self.asked: list[list[str]] = []
        self.gone = False

    def __call__(self, ids: Iterable[str]) -> dict[str, ProcessState]:
        wanted = sorted(set(ids))
        self.asked.append(wanted)
        state = self.run.state
        return {} if self.gone or state.id not in wanted else {state.id: state}


def notifier(reads: Reads, store: MemoryStore, recorder: Recorder) -> Notifier:
    return Notifier(
        catalog=CATALOG,
        states=reads,
        email=recorder,
        sms=recorder,
        log=StoreSendLog(store),
        settings=settings(),
    )


def requested_twice() -> tuple[Run, Envelope, Envelope]:
    """A run and two requests of the same announcement (one business key per channel)."""
    run = requested(attributes=CONTACT)
    run.send("atr.submitted", {"request_id": "ATR-1"}, at=madrid(2026, 10, 5, 12, 0))
    (first,) = envelopes(run, "switch_requested")
    return run, first, replace(first, outbox_id=first.outbox_id + 1000, message_id="again")


def test_a_batch_is_read_once_and_a_business_key_goes_once_within_it() -> None:
    run, first, twin = requested_twice()
    reads, recorder = Reads(run), Recorder()
    sender = notifier(reads, MemoryStore(), recorder)

    sender.prepare([first, twin], NOW)
    sent = sender.deliver(first, NOW)
    again = sender.deliver(twin, NOW + timedelta(milliseconds=100))

    assert reads.asked == [[run.state.id]]
    assert sent.outcome is DeliveryOutcome.SENT
    assert sorted(s.channel for s in sent.sends) == ["email", "sms"]
    assert again.outcome is DeliveryOutcome.SUPERSEDED and "already sent" in again.detail
    assert again.sends == ()
    assert (len(recorder.emails), len(recorder.sms)) == (1, 1)


def test_what_was_read_ahead_is_read_again_once_older_than_its_limit() -> None:
    run, first, twin = requested_twice()
    other = replace(twin, payload={**twin.payload, "version": 99})  # another business key
    reads = Reads(run)
    sender = notifier(reads, MemoryStore(), Recorder())
    sender.prepare([first, other], NOW)
    assert sender.deliver(first, NOW).outcome is DeliveryOutcome.SENT

    reads.gone = True  # the process is removed after the batch was read
    late = sender.deliver(other, NOW + timedelta(milliseconds=300))

    assert late.outcome is DeliveryOutcome.SUPERSEDED
    assert "no longer exists" in late.detail
    assert len(reads.asked) == 2  # the rest of the batch was read again


def test_the_worker_records_the_sends_with_their_attempts() -> None:
    run, first, twin = requested_twice()
    store = MemoryStore()
    at = first.created_at.isoformat()
    rows = [
        OutboxRow(e.process_id, NOTIFICATION_TOPIC, e.payload, e.message_id, at)
        for e in (first, twin)
    ]
    with store.unit_of_work() as uow:
        uow.save(WriteBatch(outbox=rows, at=at))
        uow.commit()
    recorder = Recorder()
    worker = Worker(
        store,
        lambda: NOW,
        deliverers={NOTIFICATION_TOPIC: notifier(Reads(run), store, recorder)},
        default=Unused(),
        rng=random.Random(1),
    )

    report = worker.run_once()

    assert dict(report.outcomes) == {"sent": 1, "superseded": 1}
    keys = [business_key(first.payload, channel) for channel in ("email", "sms")]
    assert StoreSendLog(store).sent_keys(keys) == set(keys)
    assert (len(recorder.emails), len(recorder.sms)) == (1, 1)


class Unused:
    def deliver(self, envelope: Envelope, now: datetime) -> Delivery:
        raise AssertionError("only notifications are written")
