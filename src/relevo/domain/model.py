"""The values the engine works on: inbound messages, recorded events and process state.

Everything here is plain data that round-trips through JSON unchanged, so that a state
rebuilt from the log compares equal to the stored projection. Timestamps inside state and
effects are ISO 8601 strings in UTC; the engine converts at the edges of its arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from relevo.domain.shapes import (
    JSON,
    DateEntry,
    EventEffects,
    HistoryEntry,
    IncidentEntry,
    KeyValue,
    ParkedMessage,
    RequirementEntry,
    StageVisit,
    TaskEntry,
)

__all__ = [
    "EXPIRED",
    "HISTORY_LIMIT",
    "IGNORED",
    "JSON",
    "PARKED",
    "STARTED",
    "TERMINAL_STATUSES",
    "TIMER_FIRED",
    "Action",
    "Event",
    "EventEffects",
    "Message",
    "Outcome",
    "ProcessState",
    "Status",
    "iso",
    "parse_iso",
]

#: How many customer-visible history entries a state keeps. The full log stays in the store;
#: the bound keeps per-event cost independent of how long a process has lived.
HISTORY_LIMIT = 60


class Status(StrEnum):
    """Lifecycle status of a process instance."""

    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


TERMINAL_STATUSES = frozenset({Status.COMPLETED, Status.CANCELLED, Status.FAILED})

#: Event types the engine records by itself. A timer falling due arrives as a
#: ``timer.fired`` message (``data.name`` says which timer); a message the definition does
#: not allow now is recorded as ``message.ignored``; every log begins with ``process.started``.
#: A message that arrived before the stage that accepts it is ``message.parked`` until it
#: applies, or ``message.expired`` (kept as a dead letter) when it no longer can.
TIMER_FIRED = "timer.fired"
IGNORED = "message.ignored"
PARKED = "message.parked"
EXPIRED = "message.expired"
STARTED = "process.started"

# Enum member access goes through a descriptor; the hot paths compare with the plain value.
_ACTIVE = Status.ACTIVE.value


class Outcome(StrEnum):
    """What happened to one inbound message."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    REJECTED = "rejected"


def iso(moment: datetime) -> str:
    """Render an aware datetime as a UTC ISO 8601 string (the only form stored in state)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: relevo only handles timezone-aware moments")
    # Moments sharing one tzinfo compare equal whatever their fold, yet in a repeated local
    # hour they are different instants: the fold is part of the cache key.
    return _utc_text(moment, moment.fold)


@lru_cache(maxsize=8192, typed=True)
def _utc_text(moment: datetime, _fold: int) -> str:
    # The same anchors and dues recur across events and processes; rendering is a pure
    # function of the instant, so equal moments (with their fold) share one result.
    return moment.astimezone(UTC).isoformat()


@lru_cache(maxsize=8192)
def parse_iso(text: str) -> datetime:
    """Parse a stored ISO 8601 timestamp back into an aware datetime.

    The result is shared between calls with the same text (datetimes are immutable).
    """
    return datetime.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class Message:
    """An inbound fact from a back-end (or a timer), addressed to one process.

    ``source`` and ``id`` identify it for deduplication; ``actor`` and ``channel`` say who
    caused it and through which channel.
    """

    type: str
    data: JSON
    occurred_at: datetime
    source: str
    id: str
    actor: str = "system"
    channel: str = "backend"


@dataclass(frozen=True, slots=True)
class Action:
    """A customer's or agent's request to use one control of a process."""

    control: str
    params: JSON
    actor: str
    channel: str
    #: "customer", "agent" or "system": which role the actor acts in.
    role: str = "customer"
    #: Optional idempotency key supplied by the caller.
    request_id: str | None = None


@dataclass(slots=True)
class Event:
    """A fact in a process's append-only log.

    ``effects`` says exactly what applying the event changes (see ``engine.apply``); it is
    decided once, from the definition version the process is pinned to, so replaying the log
    never depends on how definitions change later.
    """

    type: str
    occurred_at: str
    recorded_at: str
    actor: str
    channel: str
    data: JSON
    effects: EventEffects
    source: str | None = None
    message_id: str | None = None

    def as_record(self) -> JSON:
        """The event as the JSON-ready mapping that is hashed and stored."""
        return {
            "type": self.type,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "actor": self.actor,
            "channel": self.channel,
            "data": self.data,
            "effects": self.effects,
            "source": self.source,
            "message_id": self.message_id,
        }


@dataclass(slots=True)
class ProcessState:
    """The fold of a process's events: what the projection stores and views read.

    Ownership (the one place this is written down):

    - A state is a *mutable* value. ``engine.apply`` folds an event into it **in place**
      (and returns the same object); ``engine.start`` and ``engine.replay`` create one.
      ``engine.decide`` / ``decide_action`` only read it: they never modify the state,
      and the effects they build share no mutable part with it, so applying them later
      changes the state alone.
    - While messages for a process are being decided and applied, its state is owned by
      exactly one unit of work: nothing else reads or writes it until that unit of work has
      stored (or dropped) it. Whoever keeps states between units of work (a cache) must
      hand each out to one owner at a time, or hand out copies (``from_json(to_json())``).
    - The nested parts (``dates``, ``incidents``, ``tasks``, …) are owned by the state:
      ``apply`` replaces or updates them, so a reader that must keep one beyond the current
      unit of work copies it.
    """

    id: str
    kind: str
    definition_version: int
    customer_id: str
    subject: str
    language: str
    timezone: str
    channel: str
    created_at: str
    updated_at: str
    status: str = Status.ACTIVE.value
    stage: str = ""
    #: Number of events applied so far; the next event gets ``version + 1``.
    version: int = 0
    last_hash: str = ""
    stage_history: list[StageVisit] = field(default_factory=list)
    dates: dict[str, DateEntry] = field(default_factory=dict)
    attributes: JSON = field(default_factory=dict)
    #: Correlation keys: a name to its value, or to its values when it holds several.
    keys: dict[str, KeyValue] = field(default_factory=dict)
    incidents: dict[str, IncidentEntry] = field(default_factory=dict)
    requirements: dict[str, RequirementEntry] = field(default_factory=dict)
    tasks: dict[str, TaskEntry] = field(default_factory=dict)
    #: Armed timers: name (``sla:<stage>``, ``timer:<id>``, ``notify:<template>``) to due.
    timers: dict[str, str] = field(default_factory=dict)
    history: list[HistoryEntry] = field(default_factory=list)
    ignored: int = 0
    #: Messages waiting for a later stage, in arrival order (see ``domain.parking``).
    parked: list[ParkedMessage] = field(default_factory=list)

    @property
    def active(self) -> bool:
        """True while the process has not reached a terminal status."""
        return self.status == _ACTIVE

    @property
    def next_timer_at(self) -> str | None:
        """The earliest due time (ISO 8601 UTC) among the armed timers, or ``None``."""
        return min(self.timers.values()) if self.timers else None

    def to_json(self) -> JSON:
        """The state as a JSON-ready mapping (the projection's ``state`` column)."""
        return {
            "id": self.id,
            "kind": self.kind,
            "definition_version": self.definition_version,
            "customer_id": self.customer_id,
            "subject": self.subject,
            "language": self.language,
            "timezone": self.timezone,
            "channel": self.channel,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "status": self.status,
            "stage": self.stage,
            "version": self.version,
            "last_hash": self.last_hash,
            "stage_history": self.stage_history,
            "dates": self.dates,
            "attributes": self.attributes,
            "keys": self.keys,
            "incidents": self.incidents,
            "requirements": self.requirements,
            "tasks": self.tasks,
            "timers": self.timers,
            "history": self.history,
            "ignored": self.ignored,
            "parked": self.parked,
        }

    @classmethod
    def from_json(cls, data: JSON) -> ProcessState:
        """Rebuild a state from the mapping produced by ``to_json``."""
        return cls(**data)

    def open_incidents(self) -> list[str]:
        """Codes of the incidents that are open now, oldest first."""
        return [code for code, inc in self.incidents.items() if inc["status"] == "open"]
