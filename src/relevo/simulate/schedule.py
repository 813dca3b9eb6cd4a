"""What the world schedules and what it counts: the queue's items, the result a
continuation receives, and the run's counters.

Items of one process keep their order within a window by *phase* (``PHASE``): its start,
then its back-end events and due timers, then its actions, then world logic.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from relevo.domain.model import JSON
from relevo.simulate.case import Case

Recorder = Callable[[JSON], None]


@dataclass
class Result:
    """What became of a scheduled operation, handed to its continuation."""

    ok: bool
    outcome: str
    code: str | None
    at: datetime


Then = Callable[[Case, Result], None]


@dataclass
class Start:
    """A process start."""

    case: Case


@dataclass
class Send:
    """A back-end event (``case`` is None for a stray), with its continuation."""

    case: Case | None
    envelope: JSON
    then: Then | None


@dataclass
class Act:
    """A customer action (``agent`` overrides who acts), with its continuation."""

    case: Case
    control: str
    params: JSON
    then: Then | None
    agent: bool | None


@dataclass
class Fire:
    """A relevo timer that falls due (``name`` armed for ``due``)."""

    case: Case
    name: str
    due: str


@dataclass
class Call:
    """World logic run at its moment."""

    case: Case
    fn: Callable[[Case], None]


@dataclass
class Tick:
    """Live arrivals for the coming simulated hour."""

    case: None = None


Item = Start | Send | Act | Fire | Call | Tick
PHASE: dict[type, int] = {Start: 0, Send: 1, Fire: 1, Act: 2, Call: 3}


@dataclass
class Stats:
    """Counters of one run, by process kind where it matters."""

    started: Counter[str] = field(default_factory=Counter)
    start_failures: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    ignored: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    rejected: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    actions: Counter[tuple[str, str]] = field(default_factory=Counter)
    refused: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    timers: Counter[tuple[str, str]] = field(default_factory=Counter)
    answered: Counter[tuple[str, str]] = field(default_factory=Counter)
    unanswered: Counter[tuple[str, str]] = field(default_factory=Counter)
    batches: int = 0
    strays: int = 0
    duplicates: int = 0
