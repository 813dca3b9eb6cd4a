"""A real hub, in-process: what ``populate`` and in-process runs drive.

Starts and actions go through the hub's process service, back-end events through
``Hub.receive`` (``relevo.services.intake``) — the exact path of ``relevo ingest`` and
``POST /v1/events`` — and due timers through ``Hub.fire_timers``, the trusted path of
relevo's worker (the edge refuses timers). The hub's clock is pinned to
simulated time before each operation, so everything it records is dated in the simulation.

Integration messages are read back from the hub's outbox (``Hub.outbox``), in the order
relevo wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby

from relevo.domain.errors import ActionRefused, InvalidStart, UnknownControl
from relevo.domain.model import ProcessState
from relevo.services.hub import DueTimer, Hub, IngestResult, KeyInUse, NotFound, UnknownKind
from relevo.simulate.clock import SettableClock
from relevo.simulate.ports.base import (
    NOTIFICATION_TOPIC,
    ActOp,
    Delivered,
    EventOp,
    Feedback,
    StartOp,
    TimerOp,
)


class HubPort:
    """Drives ``hub``, whose clock must be settable (a ``SimClock``)."""

    def __init__(self, hub: Hub) -> None:
        clock = hub.clock
        if not isinstance(clock, SettableClock):
            raise TypeError(
                "the simulator moves the hub's clock: build the Hub with relevo.simulate.SimClock()"
            )
        self.hub = hub
        self.clock: SettableClock = clock
        self._case_of: dict[str, int] = {}
        self._touched: set[str] = set()
        self._feedback = Feedback()
        self._cursor = hub.last_outbox_id()

    def _set(self, now: datetime) -> None:
        # The world's clock only moves forward; the hub's follows it exactly.
        self.clock.set(now)

    def start(self, op: StartOp, now: datetime) -> str | None:
        self._set(now)
        try:
            state = self.hub.processes.start(op.request)
        except KeyInUse:
            return "key_in_use"
        except (InvalidStart, UnknownKind) as error:
            return f"invalid_start: {error}"
        op.case.process_id = state.id
        self._case_of[state.id] = op.case.index
        self._feedback.states[op.case.index] = state
        return None

    def deliver(self, ops: Sequence[EventOp | TimerOp], now: datetime) -> list[Delivered]:
        self._set(now)
        results: list[IngestResult] = []
        # Consecutive events go through the edge, consecutive timers through the trusted
        # path; in order, so each process sees them as one batch would give them.
        for is_timer, run in groupby(ops, key=lambda op: isinstance(op, TimerOp)):
            if is_timer:
                timers = [_due(op) for op in run if isinstance(op, TimerOp)]
                results.extend(self.hub.fire_timers(timers).results)
            else:
                results.extend(
                    self.hub.receive([op.envelope for op in run if isinstance(op, EventOp)])
                )
        for result in results:
            if result.process_id is not None:
                self._touched.add(result.process_id)
        return [Delivered(r.outcome.value, r.reason_code) for r in results]

    def act(self, op: ActOp, now: datetime) -> str | None:
        self._set(now)
        pid = op.case.process_id
        if pid is None:
            return "not_found"
        try:
            state = self.hub.processes.act(pid, op.action)
        except ActionRefused as refused:
            return refused.code
        except UnknownControl:
            return "unknown_control"
        except NotFound:
            return "not_found"
        self._feedback.states[op.case.index] = state
        return None

    def collect(self) -> Feedback:
        touched = [pid for pid in self._touched if pid in self._case_of]
        self._touched.clear()
        for pid, state in self.hub.states(touched).items():
            self._feedback.states[self._case_of[pid]] = state
        for message in self.hub.outbox(self._cursor, except_topic=NOTIFICATION_TOPIC):
            self._cursor = max(self._cursor, message.id)
            index = self._case_of.get(message.process_id)
            if index is not None:
                self._feedback.messages.append((index, message.topic, message.payload))
        feedback, self._feedback = self._feedback, Feedback()
        return feedback

    def final_states(self) -> dict[int, ProcessState]:
        found = self.hub.states(list(self._case_of))
        return {self._case_of[pid]: state for pid, state in found.items()}

    def close(self) -> None:
        return None


def _due(op: TimerOp) -> DueTimer:
    pid = op.case.process_id
    assert pid is not None, "a timer fires only on a started process"
    return DueTimer(pid, op.name, op.due)
