"""The worker: one pass fires the due timers, runs the log readers (CRM milestones) and
delivers a leased batch of outbox messages, recording every attempt.

Delivery is at least once: a message is sent, then its attempt recorded (with the claim of
the next batch, in a running worker); a worker that dies between the two leaves a lease
that runs out, and the message is sent again by whoever claims it next (receivers
deduplicate by its idempotency key). A lease lasts
``lease_seconds``; a worker stops taking messages from a batch once half of it is spent,
so a slow receiver cannot make two workers hold one message at once.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from relevo.domain.model import iso
from relevo.services.delivery import (
    BatchDeliverer,
    Deliverer,
    Delivery,
    DeliveryOutcome,
    Envelope,
)
from relevo.services.delivery_records import (
    DEAD,
    PENDING,
    SENT,
    SUPERSEDED,
    AttemptRow,
    OutboxEntry,
)
from relevo.services.records import StoreUnavailable
from relevo.services.unit_of_work import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: How many messages a worker claims at once: enough that the claim and the record, each a
#: write transaction (on SQLite queued behind ingest's), are shared by many messages.
DEFAULT_BATCH = 200
#: The most a worker claims at once while it is behind (see ``PASS_SECONDS``).
MAX_BATCH = 2000
#: While its claims come back full, a worker claims as many messages as its last batch's
#: pace gets through in this time (never fewer than its batch size): quick messages
#: (notifications, which are rendered and handed over locally) then share one claim among
#: more of them, so waiting for the write lock behind a busy ingest stops taking half of a
#: worker's time; slow ones (a webhook receiver taking a second) keep small claims, far from
#: their lease.
PASS_SECONDS = 0.25
#: How long a worker rests after a pass that found nothing: the wait a message written
#: into an idle outbox may have before it is picked up.
DEFAULT_IDLE_SECONDS = 0.2
#: How often a running worker runs its log readers (the CRM milestones).
DEFAULT_READERS_SECONDS = 1.0


@runtime_checkable
class TimerFiring(Protocol):
    """Fires due timers as events through ingest (``Hub.fire_due_timers``); the answer
    has a ``fired`` count (or list)."""

    def fire_due_timers(self, *, limit: int = 1000) -> object:
        """Fire up to ``limit`` due timers."""
        ...


class LogReader(Protocol):
    """A step that reads the event log and writes outbox messages of its own (the CRM
    milestones); returns how many messages it wrote."""

    def __call__(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: the n-th failure waits between half and all of
    ``base_seconds × 2ⁿ⁻¹`` (at most ``cap_seconds``); after ``max_attempts`` failed
    attempts a message is dead."""

    max_attempts: int = 8
    base_seconds: float = 5.0
    cap_seconds: float = 3600.0

    def delay(self, failures: int, rng: random.Random) -> timedelta:
        """How long to wait after the ``failures``-th failure."""
        full = min(self.cap_seconds, self.base_seconds * 2 ** max(failures - 1, 0))
        return timedelta(seconds=rng.uniform(full / 2, full))


@dataclass(slots=True)
class PassReport:
    """What one pass did."""

    timers_fired: int = 0
    milestones: int = 0
    claimed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    dead: int = 0

    @property
    def delivered(self) -> int:
        """How many messages got an attempt in this pass."""
        return sum(self.outcomes.values())

    @property
    def busy(self) -> bool:
        """True when the pass found work (the next one should follow at once)."""
        return bool(self.timers_fired or self.milestones or self.claimed)


def worker_name() -> str:
    """A name unique to this worker: host, process id and a random tail."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Delivers the outbox through the deliverer of each topic (``default`` for the rest);
    topics in ``hold`` are left pending for a worker that can deliver them."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        deliverers: Mapping[str, Deliverer],
        default: Deliverer,
        hold: Sequence[str] = (),
        timers: TimerFiring | None = None,
        readers: Sequence[LogReader] = (),
        name: str | None = None,
        batch_size: int = DEFAULT_BATCH,
        max_batch: int = MAX_BATCH,
        lease_seconds: float = 120.0,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        pace_clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.clock = clock
        self.deliverers = dict(deliverers)
        self.default = default
        self.hold = tuple(hold)
        self.timers = timers
        self.readers = tuple(readers)
        self.name = name or worker_name()
        self.batch_size = batch_size
        self.max_batch = max(max_batch, batch_size)
        #: How many messages the next claim asks for (``_next_claim``).
        self.claim_size = batch_size
        self.pace_clock = pace_clock
        self.lease = timedelta(seconds=lease_seconds)
        self.retry = retry or RetryPolicy()
        self.rng = rng or random.Random()
        #: The last pass claimed nothing: probe before claiming.
        self._idle = False
        #: Attempts delivered and not yet recorded (see ``deliver_batch``).
        self._held: list[AttemptRow] = []
        #: The deliverers that read ahead for a batch, by identity (checked once: a
        #: runtime protocol check costs tens of microseconds).
        self._ahead: dict[int, BatchDeliverer] = {
            id(d): d for d in (*self.deliverers.values(), default) if isinstance(d, BatchDeliverer)
        }

    def run(
        self,
        stop: threading.Event,
        on_pass: Callable[[PassReport], None] | None = None,
        *,
        idle_seconds: float = DEFAULT_IDLE_SECONDS,
        readers_seconds: float = DEFAULT_READERS_SECONDS,
    ) -> None:
        """Run passes until ``stop`` is set, resting ``idle_seconds`` after a pass that
        found nothing to do; a stop finishes the message in hand, records it and returns.

        A batch's attempts are recorded in the transaction that claims the next batch (one
        write transaction per batch instead of two), or on their own when no batch
        follows. A store that cannot serve (locked past its wait, unreachable) is waited
        for, the unrecorded attempts kept, instead of ending the worker. The log readers
        run at most every ``readers_seconds`` (each run is a write transaction; the
        milestones wait for the log to settle anyway)."""
        readers_due = 0.0
        try:
            while not stop.is_set():
                readers = time.monotonic() >= readers_due
                if readers:
                    readers_due = time.monotonic() + readers_seconds
                try:
                    report = self.run_once(stop, readers=readers, hold=True)
                except StoreUnavailable as unavailable:
                    log.warning("the store cannot serve the worker now: %s", unavailable)
                    stop.wait(idle_seconds)
                    continue
                if on_pass is not None:
                    on_pass(report)
                if not report.busy:
                    self._record_held()
                    stop.wait(idle_seconds)
        finally:
            self._record_held()

    def run_once(
        self, stop: threading.Event | None = None, *, readers: bool = True, hold: bool = False
    ) -> PassReport:
        """One pass: fire due timers, run the log readers (unless ``readers`` is false),
        deliver one leased batch. With ``hold`` its attempts are recorded by the next
        pass's claim (``run`` does that); without, before the pass returns."""
        report = PassReport()
        if self.timers is not None:
            report.timers_fired = _count(getattr(self.timers.fire_due_timers(), "fired", 0))
        for reader in self.readers if readers else ():
            report.milestones += reader()
        self.deliver_batch(report, stop)
        if not hold:
            self._record_held()
        return report

    def deliver_batch(self, report: PassReport, stop: threading.Event | None = None) -> None:
        """Record the attempts held from the last batch and claim a new batch in one
        transaction, then deliver it message by message; its attempts (with what each
        sent) are held for the next claim (``_record_held``). After a pass that claimed
        nothing, a read looks for due work first, so an idle worker does not take the
        write lock."""
        started = self.clock()
        if self._idle and not self._held and not self._work_due(started):
            return
        asked = self.claim_size
        with self.store.unit_of_work() as uow:
            uow.record_attempts(self.name, self._held)
            entries = uow.claim_outbox(
                self.name,
                iso(started),
                iso(started + self.lease),
                asked,
                skip_topics=self.hold,
            )
            uow.commit()
        self._held = []
        report.claimed = len(entries)
        self._idle = not entries
        working = self.pace_clock()
        self._prepare(entries, started)
        for entry in entries:
            if stop is not None and stop.is_set():
                break
            if self.clock() - started > self.lease / 2:
                break  # the rest's lease runs out and another pass takes it over
            attempt = self._attempt(entry)
            self._held.append(attempt)
            report.outcomes[attempt.outcome] += 1
            report.dead += attempt.status == DEAD
        self.claim_size = self._next_claim(
            full=len(entries) == asked,
            done=report.delivered,
            seconds=self.pace_clock() - working,
        )

    def _next_claim(self, *, full: bool, done: int, seconds: float) -> int:
        """The size of the next claim: the batch size once a claim was not full (the
        outbox is caught up); while claims are full, what the pace of ``done`` messages
        in ``seconds`` gets through in ``PASS_SECONDS``, between the batch size and the
        maximum."""
        if not full or done == 0:
            return self.batch_size
        if seconds <= 0:
            return self.max_batch
        fits = int(PASS_SECONDS * done / seconds)
        return max(self.batch_size, min(self.max_batch, fits))

    def _record_held(self) -> None:
        """Record the attempts delivered and not yet recorded, in a transaction of their
        own; on failure they stay held for the next try."""
        if not self._held:
            return
        with self.store.unit_of_work() as uow:
            uow.record_attempts(self.name, self._held)
            uow.commit()
        self._held = []

    def _work_due(self, now: datetime) -> bool:
        """Whether some pending entry is due (one probe of the pending index)."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.oldest_due_outbox(iso(now)) is not None

    def _prepare(self, entries: Sequence[OutboxEntry], now: datetime) -> None:
        """Tell each deliverer that reads ahead the envelopes of the batch it will get.
        A failure there is logged and costs only the read-ahead: each message is then
        read on its own."""
        batches: dict[int, tuple[BatchDeliverer, list[Envelope]]] = {}
        for entry in entries:
            deliverer = self.deliverers.get(entry.topic, self.default)
            if id(deliverer) in self._ahead:
                batches.setdefault(id(deliverer), (self._ahead[id(deliverer)], []))[1].append(
                    _envelope(entry)
                )
        for deliverer, envelopes in batches.values():
            try:
                deliverer.prepare(envelopes, now)
            except Exception:
                log.exception("reading ahead for %s outbox messages failed", len(envelopes))

    def _attempt(self, entry: OutboxEntry) -> AttemptRow:
        """Deliver one entry and say what its attempt and its new state are."""
        envelope = _envelope(entry)
        deliverer = self.deliverers.get(entry.topic, self.default)
        now = self.clock()
        try:
            delivery = deliverer.deliver(envelope, now)
        except Exception as error:  # a defect: retried like a transient failure, and logged
            log.exception("delivering outbox message %s failed", entry.id)
            detail = f"deliverer error: {type(error).__name__}: {error}"
            delivery = Delivery(DeliveryOutcome.FAILED_TRANSIENT, detail[:500])
        return self._after(entry, delivery, now)

    def _after(self, entry: OutboxEntry, delivery: Delivery, now: datetime) -> AttemptRow:
        """The attempt row for ``delivery``, with the entry's status and next try."""
        outcome = delivery.outcome
        attempts = entry.attempts + (outcome is not DeliveryOutcome.DEFERRED)
        status, next_at = PENDING, now
        if outcome is DeliveryOutcome.SENT:
            status = SENT
        elif outcome is DeliveryOutcome.SUPERSEDED:
            status = SUPERSEDED
        elif outcome is DeliveryOutcome.DEFERRED:
            next_at = delivery.retry_at or now + self.retry.delay(1, self.rng)
        elif outcome is DeliveryOutcome.FAILED_PERMANENT or attempts >= self.retry.max_attempts:
            status = DEAD
        else:
            next_at = now + self.retry.delay(attempts, self.rng)
        return AttemptRow(
            outbox_id=entry.id,
            process_id=entry.process_id,
            topic=entry.topic,
            attempt=entry.attempts + 1,
            at=iso(now),
            outcome=outcome.value,
            detail=delivery.detail,
            facts=delivery.facts,
            status=status,
            attempts=attempts,
            available_at=iso(next_at),
            sends=delivery.sends,
        )


def _envelope(entry: OutboxEntry) -> Envelope:
    """The envelope a deliverer gets for ``entry``."""
    return Envelope(
        outbox_id=entry.id,
        message_id=entry.idempotency_key,
        process_id=entry.process_id,
        topic=entry.topic,
        payload=entry.payload,
        created_at=datetime.fromisoformat(entry.created_at),
        attempt=entry.attempts + 1,
    )


def _count(fired: object) -> int:
    if isinstance(fired, int):
        return fired
    if isinstance(fired, Sequence):
        return len(fired)
    return 0
