"""The work-item parts of an event's effects: incidents opened and resolved, requirements,
back-office tasks and their checklists.

Each function reads the state and the definition's declared ``spec`` and adds its keys to
the ``effects`` being built (and its lines to the history ``entries``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from relevo.domain.compiled import Compiled, resolve_path
from relevo.domain.definitions import Effects
from relevo.domain.errors import EffectError
from relevo.domain.model import JSON, ProcessState, iso
from relevo.domain.shapes import (
    EventEffects,
    HistoryEntry,
    RequirementChange,
    TaskCode,
    TaskOpened,
    Tick,
)


def add_incidents(
    c: Compiled,
    state: ProcessState,
    spec: Effects,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    attributes: JSON,
    effects: EventEffects,
    entries: list[HistoryEntry],
    when: str,
) -> None:
    """Resolve and open the incidents ``spec`` names (its paths read ``data``, ``params``
    and ``attributes``); an incident that needs requirements marks them missing."""
    if spec.resolve_incidents:
        open_now = set(state.open_incidents())
        resolved = sorted(
            open_now
            if spec.resolve_incidents == "all"
            else (open_now & set(spec.resolve_incidents))
        )
        if resolved:
            effects["incidents_resolved"] = resolved
            entries.extend(
                {"at": when, "kind": "incident_resolved", "ref": ref} for ref in resolved
            )
    code = spec.open_incident
    if spec.open_incident_from:
        raw = resolve_path(spec.open_incident_from, data, params, attributes)
        if raw is None:
            raise EffectError(f"{spec.open_incident_from} is missing: it names the incident code")
        code = str(raw)
    if code is None:
        return
    definition = c.definition
    if code not in definition.incidents:
        known = ", ".join(sorted(definition.incidents))
        raise EffectError(
            f"incident code {code!r} is not known to {definition.ref}; known: {known}"
        )
    detail = {k: v for k, v in data.items() if isinstance(v, str | int | float | bool)}
    effects["incidents_opened"] = {code: {"detail": detail}}
    entries.append({"at": when, "kind": "incident", "ref": code})
    needed = definition.incidents[code].requires
    if needed:
        reqs = effects.setdefault("requirements", {})
        for requirement in needed:
            reqs[requirement] = {"state": "missing", "reason": None}


def add_requirements(state: ProcessState, spec: Effects, effects: EventEffects) -> None:
    """Ask again for the requirements ``spec`` requires and set the states it gives."""
    changes: dict[str, RequirementChange] = effects.get("requirements", {})
    for requirement in spec.require:
        current = state.requirements.get(requirement)
        if current is None or current["state"] in ("rejected", "accepted"):
            changes[requirement] = {"state": "missing", "reason": None}
    for requirement, new_state in spec.requirements.items():
        changes[requirement] = {"state": new_state, "reason": None}
    if changes:
        effects["requirements"] = changes


def add_tasks(
    c: Compiled, state: ProcessState, spec: Effects, effects: EventEffects, occurred_at: datetime
) -> None:
    """Open the tasks ``spec`` opens (not already open) and close those it closes."""
    opened: dict[str, TaskOpened] = {}
    for task_id in spec.open_tasks:
        current = state.tasks.get(task_id)
        if current is not None and current["status"] == "open":
            continue
        task = c.definition.tasks[task_id]
        due = iso(c.duration(task.due).add_to(occurred_at, c.calendar)) if task.due else None
        opened[task_id] = {"team": task.team, "due_at": due}
    if opened:
        effects["tasks_opened"] = opened
    closed = [t for t in spec.close_tasks if _is_open(state, t)]
    if closed:
        effects["tasks_closed"] = closed


def _is_open(state: ProcessState, task_id: str) -> bool:
    task = state.tasks.get(task_id)
    return task is not None and task["status"] == "open"


def add_ticks(
    c: Compiled,
    state: ProcessState,
    spec: Effects,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    attributes: JSON,
    effects: EventEffects,
    actor: str,
    when: str,
) -> None:
    """Tick the checklist items ``spec`` names, by ``actor``; a task whose items are then all
    ticked closes. Raises EffectError on an unknown item or a task that is not open."""
    wanted: dict[str, list[str]] = {task: list(items) for task, items in spec.tick.items()}
    for task_id, path in spec.tick_from.items():
        item = resolve_path(path, data, params, attributes)
        if item is None:
            raise EffectError(f"{path} is missing: it names the checklist item to tick")
        wanted.setdefault(task_id, []).append(str(item))
    if not wanted:
        return
    ticked: dict[str, dict[str, Tick]] = {}
    closing: list[str] = []
    for task_id, items in wanted.items():
        known = [entry.id for entry in c.definition.tasks[task_id].checklist]
        for item in items:
            if item not in known:
                raise EffectError(
                    f"{item!r} is not an item of checklist {task_id!r}; items: {', '.join(known)}"
                )
        current = state.tasks.get(task_id)
        if current is None and task_id not in effects.get("tasks_opened", {}):
            raise EffectError(f"task {task_id!r} is not open, so its items cannot be ticked")
        already = set(current["checked"]) if current else set()
        new_items: dict[str, Tick] = {
            item: {"by": actor, "at": when} for item in items if item not in already
        }
        if new_items:
            ticked[task_id] = new_items
        if already | set(new_items) >= set(known) and task_id not in spec.close_tasks:
            closing.append(task_id)
    if ticked:
        effects["checklist"] = ticked
    if closing:
        effects["tasks_closed"] = sorted({*effects.get("tasks_closed", []), *closing})


def add_task_codes(
    c: Compiled,
    state: ProcessState,
    spec: Effects,
    values: tuple[Mapping[str, Any], Mapping[str, Any], JSON],
    effects: EventEffects,
    actor: str,
    when: str,
) -> None:
    """Record on each task ``spec.code_task`` names the code its value path gives (``values``
    are the message data, the control's params and the attributes), by ``actor``. Raises
    EffectError on a missing value, a code outside the task's closed list or a task that is
    not open."""
    codes: dict[str, TaskCode] = {}
    for task_id, path in spec.code_task.items():
        value = resolve_path(path, *values)
        if value is None:
            raise EffectError(f"{path} is missing: it names the code of task {task_id!r}")
        known = c.definition.tasks[task_id].codes
        if str(value) not in known:
            raise EffectError(
                f"{value!r} is not a code of task {task_id!r}; codes: {', '.join(known)}"
            )
        opening = task_id in effects.get("tasks_opened", {})
        if not opening and not _is_open(state, task_id):
            raise EffectError(f"task {task_id!r} is not open, so it cannot take a code")
        codes[task_id] = {"code": str(value), "by": actor, "at": when}
    if codes:
        effects["task_codes"] = codes
