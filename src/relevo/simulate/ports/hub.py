"""A real hub, in-process: what ``populate`` and in-process runs drive.

Starts and actions go through the hub's process service, back-end events (and due timers,
as the worker will send them) through ``relevo.web.intake.ingest`` — the exact path of
``relevo ingest`` and ``POST /v1/events``. The hub's clock is pinned to simulated time
before each operation, so everything it records is dated in the simulation.

Integration messages are read back from the store's outbox table (read-only SQL, the one
place the simulator touches a table directly), in the order relevo wrote them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa

from relevo.adapters.db import tables
from relevo.domain import engine
from relevo.domain.errors import ActionRefused, InvalidStart, UnknownControl
from relevo.domain.model import JSON, ProcessState
from relevo.services.hub import Hub, KeyInUse, NotFound, UnknownKind
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
from relevo.simulate.ports.model import TIMER_SOURCE
from relevo.web.intake import ingest


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
        with hub.store.unit_of_work(read_only=True) as uow:
            last = uow.connection.execute(sa.select(sa.func.max(tables.outbox.c.id))).scalar()
        self._cursor = int(last or 0)

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
        items: list[Any] = []
        for op in ops:
            if isinstance(op, TimerOp):
                pid = op.case.process_id
                items.append(
                    {
                        "specversion": "1.0",
                        "id": f"{pid}:{op.name}:{op.due}",
                        "source": TIMER_SOURCE,
                        "type": engine.TIMER_FIRED,
                        "subject": pid,
                        "time": op.due,
                        "data": {"name": op.name, "due": op.due},
                        "relevoactor": "system",
                        "relevochannel": "timer",
                    }
                )
            else:
                items.append(op.envelope)
        results = ingest(self.hub, items, self.clock)
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
        outbox = tables.outbox
        with self.hub.store.unit_of_work(read_only=True) as uow:
            for pid, state in uow.load_states(touched).items():
                self._feedback.states[self._case_of[pid]] = state
            rows = uow.connection.execute(
                sa.select(outbox.c.id, outbox.c.process_id, outbox.c.topic, outbox.c.payload)
                .where(outbox.c.id > self._cursor, outbox.c.topic != NOTIFICATION_TOPIC)
                .order_by(outbox.c.id)
            ).all()
        for row_id, pid, topic, payload in rows:
            self._cursor = max(self._cursor, int(row_id))
            index = self._case_of.get(pid)
            if index is not None:
                message: JSON = orjson.loads(payload)
                self._feedback.messages.append((index, topic, message))
        feedback, self._feedback = self._feedback, Feedback()
        return feedback

    def final_states(self) -> dict[int, ProcessState]:
        states: dict[int, ProcessState] = {}
        with self.hub.store.unit_of_work(read_only=True) as uow:
            for pid, state in uow.load_states(list(self._case_of)).items():
                states[self._case_of[pid]] = state
        return states

    def close(self) -> None:
        return None
