"""The JSON shapes of an event's effects and of the parts of a process state.

They are ``TypedDict``s: at run time plain dicts (no construction cost, stored JSON
unchanged), to the type checker a declared set of keys, so the engine that writes them and
the services and views that read them agree on every key.

An event's ``EventEffects`` is decided once by ``effects.build`` (or ``engine``'s timer
branch) and folded by ``engine.apply`` into the state parts below.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired, TypedDict

JSON = dict[str, Any]

#: The value of a correlation key: one value, or several (a process reached by two numbers).
KeyValue = str | list[str]


def key_values(value: KeyValue | None) -> list[str]:
    """The values a correlation key holds, as a list (empty for ``None``)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def new_key_pairs(
    before: dict[str, KeyValue], changes: dict[str, KeyValue]
) -> list[tuple[str, str]]:
    """The ``(name, value)`` correlation keys ``changes`` gives that ``before`` did not
    hold: the rows to add to the store."""
    pairs: list[tuple[str, str]] = []
    for name, value in changes.items():
        held = key_values(before.get(name))
        pairs += [(name, each) for each in key_values(value) if each not in held]
    return pairs


# -- parts of a process state (what ``apply`` writes, what views read) ---------------------


class StageVisit(TypedDict):
    """One stay in a stage (``ProcessState.stage_history``); ``left_at`` once it is left."""

    stage: str
    entered_at: str
    left_at: NotRequired[str]


class DateEntry(TypedDict):
    """A process date: its moment, the end of its window if it has a duration, and whether it
    is confirmed; ``source`` says whether an event set it or a rule derived it."""

    at: str
    end: str | None
    confirmed: bool
    source: Literal["event", "rule"]


class HistoryEntry(TypedDict):
    """One customer-visible history line: what happened (``kind``) and what it names
    (``ref``: a stage, an incident code, a control or a step of the definition)."""

    at: str
    kind: str
    ref: str
    #: Only on controls: which role used it.
    role: NotRequired[str]
    #: Only on controls: what the person told us (choice keys and texts, by param name).
    said: NotRequired[dict[str, str]]


class IncidentEntry(TypedDict):
    """An incident of a process, open or resolved, and how often it has been opened."""

    status: Literal["open", "resolved"]
    opened_at: str
    resolved_at: str | None
    detail: JSON
    occurrences: int


class RequirementChange(TypedDict):
    """The new state of a requirement, as an event sets it."""

    state: str
    reason: str | None


class RequirementEntry(RequirementChange):
    """A requirement of a process: its state and when that last changed."""

    updated_at: str


class Tick(TypedDict):
    """Who ticked a checklist item, and when."""

    by: str
    at: str


class TaskOpened(TypedDict):
    """A task as an event opens it: the owning team and when it is due."""

    team: str
    due_at: str | None


class TaskCode(TypedDict):
    """The code recorded on a task (one of its ``codes``), by whom and when."""

    code: str
    by: str
    at: str


class TaskEntry(TaskOpened):
    """A back-office task of a process, with its ticked checklist items and its code."""

    status: Literal["open", "done"]
    opened_at: str
    closed_at: str | None
    checked: dict[str, Tick]
    code: NotRequired[TaskCode]


# -- the effects of one event --------------------------------------------------------------


class IncidentOpened(TypedDict):
    """An incident as an event opens it: the scalar data of the message that opened it."""

    detail: JSON


class OutboxMessage(TypedDict):
    """An integration message or notification request an event queues for delivery.

    ``key`` is unique per process, version and topic (receivers deduplicate on it).
    """

    topic: str
    key: str
    payload: JSON


class ParkedMessage(TypedDict):
    """A message that arrived before the stage that accepts it (``ProcessState.parked``),
    kept until it applies or expires. ``key`` names its expiry timer (``park:<key>``)."""

    key: str
    type: str
    data: JSON
    occurred_at: str
    received_at: str
    expires_at: str
    source: str | None
    message_id: str | None
    actor: str
    channel: str


class ParkedChange(TypedDict, total=False):
    """A message an event parks (``add``) and the parked messages it releases (``remove``)."""

    add: ParkedMessage
    remove: list[str]


class DeadLetterRequest(TypedDict):
    """A message the process lets go of without applying it, for ingest to keep as a dead
    letter: the CloudEvent it came as (``payload``) and why."""

    source: str
    message_id: str | None
    type: str
    payload: JSON
    reason: str


class TimerPlan(TypedDict, total=False):
    """Timers an event arms (name to due moment) and cancels (names)."""

    set: dict[str, str]
    cancel: list[str]


class EventEffects(TypedDict, total=False):
    """Exactly what applying one event changes; absent keys change nothing.

    ``dates`` maps a date to its new entry, or to ``None`` when the date is cleared.
    """

    stage: str
    status: str
    attributes: JSON
    keys: dict[str, KeyValue]
    dates: dict[str, DateEntry | None]
    incidents_opened: dict[str, IncidentOpened]
    incidents_resolved: list[str]
    requirements: dict[str, RequirementChange]
    tasks_opened: dict[str, TaskOpened]
    tasks_closed: list[str]
    checklist: dict[str, dict[str, Tick]]
    task_codes: dict[str, TaskCode]
    history: list[HistoryEntry]
    outbox: list[OutboxMessage]
    timers: TimerPlan
    parked: ParkedChange
    dead_letter: DeadLetterRequest
