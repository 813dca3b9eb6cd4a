"""Replay a simulator JSONL file into a hub: starts and actions through the process
service, back-end events through ``Hub.receive`` (the path of ``relevo ingest``
and ``POST /v1/events``), and the timers that fall due in between fired as the worker will.

The hub's clock must be settable (a ``SimClock``): it follows the time of each
line, so cut-offs and deadlines are judged as they were when the file was written.

Processes are found for actions by ``(kind, subject key)`` as written by the start line.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from relevo.domain.model import JSON, Action, parse_iso
from relevo.services.hub import Hub
from relevo.services.processes import StartRequest
from relevo.simulate.case import Case, Customer
from relevo.simulate.envelopes import ACT_TYPE, START_TYPE
from relevo.simulate.ports.base import ActOp, EventOp, StartOp, TimerOp
from relevo.simulate.ports.hub import HubPort

#: Events gathered into one ingest call at most.
BATCH = 500
#: Events at most this far apart (their ``time``) share one ingest call, as in a run.
GATHER = timedelta(minutes=15)


@dataclass
class PlayReport:
    """What replaying a file did: line outcomes, refusals, timers fired."""

    lines: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)
    start_failures: list[tuple[int, str]] = field(default_factory=list)
    timers: int = 0

    def as_json(self) -> JSON:
        """The report as JSON-ready data."""
        return {
            "lines": self.lines,
            "outcomes": dict(sorted(self.outcomes.items())),
            "rejected": [{"line": n, "reason": r} for n, r in self.rejected],
            "refused": dict(sorted(self.refused.items())),
            "start_failures": [{"line": n, "reason": r} for n, r in self.start_failures],
            "timers": self.timers,
        }


def read_lines(path: Path) -> Iterator[tuple[int, Any]]:
    """``(line number, decoded JSON)`` for every non-blank line of ``path``."""
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, start=1):
            if raw.strip():
                yield number, orjson.loads(raw)


class Player:
    """Feeds lines into ``hub`` in order (see the module docstring)."""

    def __init__(self, hub: Hub) -> None:
        self.port = HubPort(hub)
        self.report = PlayReport()
        self._cases: dict[tuple[str, str, str], Case] = {}
        self._by_index: dict[int, Case] = {}
        #: Gathered for the next ingest call: ``(line number, event)``, or ``(0, due timer)``.
        self._pending: list[tuple[int, EventOp | TimerOp]] = []
        self._timers: list[tuple[datetime, int, int, str, str]] = []
        self._armed: set[tuple[int, str, str]] = set()
        self._armed_now: dict[int, dict[str, str]] = {}
        self._seq = 0
        self._now: datetime | None = None

    def play(self, lines: Iterable[tuple[int, Any]]) -> PlayReport:
        """Apply every line; returns the report."""
        for number, line in lines:
            self.report.lines += 1
            kind = line.get("type") if isinstance(line, dict) else None
            at = line_time(line)
            if at is not None:
                self._fire_until(at)
            if kind == START_TYPE:
                self._before_start()
                self._start(number, line, at)
                self._absorb()
            elif kind == ACT_TYPE:
                self._before_act(line)
                self._act(line, at)
                self._absorb()
            else:
                self._gather(number, EventOp(None, at or self._clock(), line))
        self._flush()
        return self.report

    def _before_start(self) -> None:
        """Send the gathered events before a start, to keep the file's order."""
        self._flush()

    def _before_act(self, _line: JSON) -> None:
        """Send the gathered events before an action, to keep the file's order."""
        self._flush()

    def _gather(self, number: int, op: EventOp) -> None:
        """Hold ``op`` for the next ingest call (close in time, at most ``BATCH``)."""
        if self._pending and op.at - self._pending[0][1].at > GATHER:
            self._flush()
        self._pending.append((number, op))
        if len(self._pending) >= BATCH:
            self._flush()

    def _clock(self) -> datetime:
        return self.port.clock()

    def _tick(self, at: datetime | None) -> datetime:
        moment = at or self._clock()
        if self._now is None or moment > self._now:
            self._now = moment
        return self._now

    def _start(self, number: int, line: JSON, at: datetime | None) -> None:
        data = line.get("data", {})
        request = StartRequest(
            **{k: v for k, v in data.items() if k in StartRequest.__dataclass_fields__}
        )
        index = len(self._by_index)
        case = _case(index, request)
        error = self.port.start(StartOp(case, self._tick(at), request, line), self._tick(at))
        if error is not None:
            self.report.start_failures.append((number, error))
            return
        key_name = self.port.hub.catalog.latest(request.kind).definition.subject.key
        self._cases[(request.kind, key_name, request.subject)] = case
        self._by_index[index] = case
        self.report.outcomes["started"] += 1

    def _act(self, line: JSON, at: datetime | None) -> None:
        data = line.get("data", {})
        ((name, value),) = data.get("key", {}).items()
        case = self._cases.get((data.get("kind"), name, value))
        if case is None:
            self.report.refused["no_process"] += 1
            return
        action = Action(
            control=data["control"],
            params=data.get("params", {}),
            actor=data.get("actor", "simulator"),
            channel=data.get("channel", "api"),
            role=data.get("role", "customer"),
            request_id=data.get("request_id"),
        )
        refusal = self.port.act(ActOp(case, self._tick(at), action, line), self._tick(at))
        if refusal is None:
            self.report.outcomes["acted"] += 1
        else:
            self.report.refused[refusal] += 1

    def _flush(self) -> None:
        if not self._pending:
            return
        numbers = [n for n, _ in self._pending]
        ops = [op for _, op in self._pending]
        self._pending = []
        results = self.port.deliver(ops, self._tick(max(op.at for op in ops)))
        for number, op, result in zip(numbers, ops, results, strict=True):
            if isinstance(op, TimerOp):
                self.report.timers += result.outcome == "accepted"
                continue
            self.report.outcomes[result.outcome] += 1
            if result.outcome == "rejected":
                self.report.rejected.append((number, result.reason_code or "rejected"))
        self._absorb()

    def _absorb(self) -> None:
        feedback = self.port.collect()
        for index in sorted(feedback.states):
            state = feedback.states[index]
            if not state.active:
                self._armed_now.pop(index, None)
                continue
            self._armed_now[index] = dict(state.timers)
            for name, due in state.timers.items():
                key = (index, name, due)
                if key not in self._armed:
                    self._armed.add(key)
                    self._seq += 1
                    heapq.heappush(self._timers, (parse_iso(due), self._seq, index, name, due))

    def _fire_until(self, at: datetime) -> None:
        """Fire (as one batch per moment) every still-armed timer due by ``at``."""
        while self._timers and self._timers[0][0] <= at:
            self._flush()
            due_at = self._timers[0][0]
            ops: list[EventOp | TimerOp] = []
            while self._timers and self._timers[0][0] <= due_at:
                _, _, index, name, due = heapq.heappop(self._timers)
                if self._armed_now.get(index, {}).get(name) == due:
                    ops.append(TimerOp(self._by_index[index], due_at, name, due))
            if ops:
                results = self.port.deliver(ops, self._tick(due_at))
                self.report.timers += sum(1 for r in results if r.outcome == "accepted")
                self._absorb()


def play_file(hub: Hub, path: Path) -> PlayReport:
    """Replay the JSONL file at ``path`` into ``hub``."""
    return Player(hub).play(read_lines(path))


def line_time(line: Any) -> datetime | None:
    """The ``time`` of a JSONL line, or ``None`` when it has none that parses."""
    if not isinstance(line, dict) or not isinstance(line.get("time"), str):
        return None
    try:
        return datetime.fromisoformat(line["time"])
    except ValueError:
        return None


def _case(index: int, request: StartRequest) -> Case:
    customer = Customer(
        id=request.customer_id,
        name="",
        id_number="",
        language=request.language,
        timezone=request.timezone,
        channel=request.channel,
        agent="",
        city="",
        postcode="",
        address="",
        phone="",
        iban="",
    )
    return Case(
        index, request.kind, random.Random(index), customer, "", request.subject, datetime.min
    )
