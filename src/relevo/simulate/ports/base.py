"""What the simulated world asks of relevo, whichever relevo it is.

The world performs four kinds of operation — start a process, deliver back-end events (and
due timers), use a control — through a ``Port``. After each round it ``collect``s what
changed: the processes' new states and the integration messages relevo put in its outbox.
Three ports exist: the pure engine in memory (``ModelPort``, used for JSONL files), a real
hub in-process (``HubPort``) and a running server over HTTP (``HttpPort``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from relevo.domain.model import JSON, Action, ProcessState
from relevo.services.processes import StartRequest
from relevo.simulate.case import Case

#: Topics the parties never answer: notifications go to the customer, not to a back-end.
NOTIFICATION_TOPIC = "notification.requested"


@dataclass
class StartOp:
    """Open a process for ``case``; ``line`` is the command as written to a JSONL file."""

    case: Case
    at: datetime
    request: StartRequest
    line: JSON


@dataclass
class EventOp:
    """Deliver one back-end CloudEvent (``case`` is None for a deliberately stray one)."""

    case: Case | None
    at: datetime
    envelope: JSON


@dataclass
class TimerOp:
    """Fire the timer ``name`` armed for ``due`` on the case's process (as a worker would)."""

    case: Case
    at: datetime
    name: str
    due: str


@dataclass
class ActOp:
    """Use a control of the case's process; ``line`` is the command as written to a file."""

    case: Case
    at: datetime
    action: Action
    line: JSON


@dataclass
class Delivered:
    """What became of one delivered event or timer: an ingest outcome and its reason code."""

    outcome: str
    reason_code: str | None = None


@dataclass
class Feedback:
    """What changed since the last ``collect``: states by case index, and integration
    messages ``(case index, topic, payload)`` in the order relevo wrote them."""

    states: dict[int, ProcessState] = field(default_factory=dict)
    messages: list[tuple[int, str, JSON]] = field(default_factory=list)


class Port(Protocol):
    """A relevo the world can drive. Operations come in simulated-time order; ``now`` is the
    simulated moment each one happens at (the hub's clock is set to it where possible)."""

    def start(self, op: StartOp, now: datetime) -> str | None:
        """Start the process; sets ``op.case.process_id``. Returns None, or why it failed."""
        ...

    def deliver(self, ops: Sequence[EventOp | TimerOp], now: datetime) -> list[Delivered]:
        """Deliver events and timers as one batch; one result per op, in order."""
        ...

    def act(self, op: ActOp, now: datetime) -> str | None:
        """Use the control. Returns None, or the refusal code."""
        ...

    def collect(self) -> Feedback:
        """States and integration messages changed or written since the last call."""
        ...

    def final_states(self) -> dict[int, ProcessState]:
        """The current state of every process started through this port, by case index."""
        ...

    def close(self) -> None:
        """Release what the port holds (connections, files)."""
        ...
