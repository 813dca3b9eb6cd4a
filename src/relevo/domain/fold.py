"""Folding events into a process state: ``apply`` one event, ``replay`` a whole log.

Folding needs no definition: an event's effects say exactly what changes. ``apply`` mutates
the state it is given (see ``ProcessState`` for who may own a state while it does).
"""

from __future__ import annotations

from typing import Any

from relevo.domain.model import (
    HISTORY_LIMIT,
    IGNORED,
    STARTED,
    Event,
    EventEffects,
    ProcessState,
    Status,
)
from relevo.domain.shapes import ParkedChange

#: Enum member access goes through a descriptor; ``apply`` compares with the plain value.
_ACTIVE = Status.ACTIVE.value


def apply(state: ProcessState, event: Event) -> ProcessState:
    """Fold ``event`` into ``state`` (in place) and return it. Needs no definition."""
    effects = event.effects
    state.version += 1
    state.updated_at = event.recorded_at
    if event.type == IGNORED:
        state.ignored += 1
        return state
    if not effects:
        return state
    new_stage = effects.get("stage")
    if new_stage is not None:
        if state.stage_history:
            state.stage_history[-1]["left_at"] = event.occurred_at
        state.stage_history.append({"stage": new_stage, "entered_at": event.occurred_at})
        state.stage = new_stage
    status = effects.get("status")
    if status is not None:
        state.status = status
    _merge(state.attributes, effects.get("attributes"))
    _merge(state.keys, effects.get("keys"))
    # Most events touch few parts of the state: look a part up only when it is there.
    if "dates" in effects:
        for name, entry in effects["dates"].items():
            if entry is None:
                state.dates.pop(name, None)
            else:
                state.dates[name] = entry
    if "incidents_resolved" in effects or "incidents_opened" in effects:
        _apply_incidents(state, effects, event.occurred_at)
    if "requirements" in effects:
        for requirement, change in effects["requirements"].items():
            state.requirements[requirement] = {**change, "updated_at": event.occurred_at}
    if any(k in effects for k in ("tasks_opened", "tasks_closed", "checklist", "task_codes")):
        _apply_tasks(state, effects, event.occurred_at)
    timers = effects.get("timers")
    if timers:
        for name in timers.get("cancel", ()):
            state.timers.pop(name, None)
        state.timers.update(timers.get("set", {}))
    if status is not None and status != _ACTIVE:
        state.timers.clear()
    if "parked" in effects:
        _apply_parked(state, effects["parked"])
    history = effects.get("history")
    if history:
        state.history.extend(history)
        if len(state.history) > HISTORY_LIMIT:
            del state.history[: len(state.history) - HISTORY_LIMIT]
    return state


def _apply_incidents(state: ProcessState, effects: EventEffects, at: str) -> None:
    for code in effects.get("incidents_resolved", ()):
        state.incidents[code] = {
            **state.incidents[code],
            "status": "resolved",
            "resolved_at": at,
        }
    for code, opened in effects.get("incidents_opened", {}).items():
        previous = state.incidents.get(code)
        state.incidents[code] = {
            "status": "open",
            "opened_at": at,
            "resolved_at": None,
            "detail": opened.get("detail", {}),
            "occurrences": (previous.get("occurrences", 0) if previous else 0) + 1,
        }


def apply_items(state: ProcessState, effects: EventEffects, at: str) -> None:
    """Fold the incidents ``effects`` open and resolve and the tasks they open and close
    into ``state`` (checklists aside). Replaces entries rather than changing them, so a
    copy of the state's ``incidents`` and ``tasks`` mappings keeps the original intact."""
    _apply_incidents(state, effects, at)
    _open_and_close_tasks(state, effects, at)


def _apply_tasks(state: ProcessState, effects: EventEffects, at: str) -> None:
    _open_and_close_tasks(state, effects, at)
    for task_id, items in effects.get("checklist", {}).items():
        state.tasks[task_id]["checked"] = {**state.tasks[task_id]["checked"], **items}
    for task_id, code in effects.get("task_codes", {}).items():
        state.tasks[task_id]["code"] = code


def _open_and_close_tasks(state: ProcessState, effects: EventEffects, at: str) -> None:
    for task_id, opened in effects.get("tasks_opened", {}).items():
        state.tasks[task_id] = {
            "status": "open",
            "opened_at": at,
            "closed_at": None,
            "checked": {},
            "team": opened["team"],
            "due_at": opened["due_at"],
        }
    for task_id in effects.get("tasks_closed", ()):
        state.tasks[task_id] = {
            **state.tasks[task_id],
            "status": "done",
            "closed_at": at,
        }


def _apply_parked(state: ProcessState, change: ParkedChange) -> None:
    removed = change.get("remove")
    if removed:
        state.parked = [entry for entry in state.parked if entry["key"] not in removed]
    added = change.get("add")
    if added is not None:
        state.parked = [*state.parked, added]


def _merge(target: dict[str, Any], changes: dict[str, Any] | None) -> None:
    if changes:
        target.update(changes)


def replay(process_id: str, events: list[Event]) -> ProcessState:
    """The state obtained by folding ``events`` (the whole log, oldest first) from nothing.

    The first event must be ``process.started``; it carries everything the empty state needs.
    """
    if not events or events[0].type != STARTED:
        raise ValueError(f"the log of {process_id} does not begin with {STARTED}")
    first = events[0]
    data = first.data
    state = ProcessState(
        id=process_id,
        kind=data["kind"],
        definition_version=data["definition_version"],
        customer_id=data["customer_id"],
        subject=data["subject"],
        language=data["language"],
        timezone=data["timezone"],
        channel=first.channel,
        created_at=first.occurred_at,
        updated_at=first.recorded_at,
        attributes=dict(data["attributes"]),
    )
    for event in events:
        apply(state, event)
    return state
