"""The simulator's realistic mix for ``bench/ingest.py``: every kind in the catalog.

``relevo simulate`` writes a world (process starts, customer actions and back-end events,
in time order) as JSONL; ``relevo.simulate.player`` replays such a file into a hub. Here
the replay is a benchmark:

* back-end events and the timers falling due between them (sent through ingest, as the
  worker will send them) are gathered into ingest calls of up to ``BATCH`` items, and only
  those calls are timed;
* starts and customer actions go through the process service, untimed. A start never
  waits for gathered events (its process cannot be named by them yet); an action waits,
  that is the batch gathered so far is sent first, only when a gathered event names its
  process (by id, subject or one of its correlation keys), so that it acts on the process
  as the file has it.

The player answers nothing: the file already holds what the back-ends answered.
"""

from __future__ import annotations

import heapq
import io
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from relevo.domain.model import JSON
from relevo.services.hub import Hub
from relevo.simulate.envelopes import ACT_TYPE, START_TYPE
from relevo.simulate.options import SimulationOptions
from relevo.simulate.player import Player
from relevo.simulate.ports.base import EventOp, TimerOp
from relevo.simulate.runner import generate

BATCH = 500


@dataclass
class SimulatedWorld:
    """A simulated world as the lines of its JSONL file."""

    lines: list[JSON]
    processes: int
    starts: int
    actions: int
    events: int


def simulated_world(processes: int, seed: int, now: datetime, days: float) -> SimulatedWorld:
    """The simulator's world of ``processes`` processes of every kind, started over the
    ``days`` before ``now`` (a history run: deterministic for a seed)."""
    buffer = io.BytesIO()
    generate(buffer, SimulationOptions(processes=processes, seed=seed, now=now, days=days))
    lines = [orjson.loads(raw) for raw in buffer.getvalue().splitlines() if raw.strip()]
    starts = sum(1 for line in lines if line.get("type") == START_TYPE)
    actions = sum(1 for line in lines if line.get("type") == ACT_TYPE)
    return SimulatedWorld(lines, processes, starts, actions, len(lines) - starts - actions)


@dataclass
class Timing:
    """The timed ingest calls of one replay."""

    latencies: list[float] = field(default_factory=list)
    cpu: float = 0.0
    sizes: list[int] = field(default_factory=list)


class BatchingPlayer(Player):
    """A ``Player`` that sends events and due timers in batches of up to ``BATCH``, timing
    each ingest call (see the module docstring)."""

    def __init__(self, hub: Hub) -> None:
        super().__init__(hub)
        self.timing = Timing()
        #: What the gathered events and timers name.
        self._named: set[str] = set()
        #: What names each process: its id, subject and correlation key values.
        self._names: dict[int, set[str]] = {}
        self.port = _Watching(self.port, self._names, self.timing)  # type: ignore[assignment]

    def _fire_until(self, at: datetime) -> None:
        # Due timers join the gathered events instead of going in calls of their own.
        while self._timers and self._timers[0][0] <= at:
            due_at, _, index, name, due = heapq.heappop(self._timers)
            if self._armed_now.get(index, {}).get(name) == due:
                case = self._by_index[index]
                if case.process_id:
                    self._named.add(case.process_id)
                self._hold(0, TimerOp(case, due_at, name, due))

    def _before_start(self) -> None:
        pass  # the gathered events cannot name a process that does not exist yet

    def _before_act(self, line: JSON) -> None:
        if self._waits_for_gathered(line):
            self._flush()

    def _gather(self, number: int, op: EventOp) -> None:
        self._named |= _names_in(op.envelope)
        self._hold(number, op)

    def _hold(self, number: int, op: EventOp | TimerOp) -> None:
        self._pending.append((number, op))
        if len(self._pending) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        self._named = set()
        super()._flush()

    def _waits_for_gathered(self, line: JSON) -> bool:
        data = line.get("data", {})
        ((name, value),) = data.get("key", {}).items()
        case = self._cases.get((data.get("kind"), name, value))
        if case is None:
            return False
        names = self._names.get(case.index, set()) | {str(value)}
        if case.process_id:
            names.add(case.process_id)
        return not names.isdisjoint(self._named)


class _Watching:
    """The player's port, timing each ingest call and noting what names each process as
    its states come back."""

    def __init__(self, port: Any, names: dict[int, set[str]], timing: Timing) -> None:
        self._port = port
        self._names = names
        self._timing = timing

    def __getattr__(self, name: str) -> Any:
        return getattr(self._port, name)

    def deliver(self, ops: list[EventOp | TimerOp], now: datetime) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        results = self._port.deliver(ops, now)
        self._timing.latencies.append(time.perf_counter() - started)
        self._timing.cpu += time.process_time() - cpu
        self._timing.sizes.append(len(ops))
        return results

    def collect(self) -> Any:
        feedback = self._port.collect()
        for index, state in feedback.states.items():
            self._names[index] = {state.id, state.subject, *map(str, state.keys.values())}
        return feedback


def _names_in(envelope: JSON) -> set[str]:
    names = {str(envelope["subject"])} if envelope.get("subject") else set()
    data = envelope.get("data")
    if isinstance(data, dict):
        names.update(str(v) for v in data.values() if isinstance(v, str | int))
    return names
