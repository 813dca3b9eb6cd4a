"""Turning a definition's declared effects into the concrete ``effects`` of one event.

``build`` is where the definition is interpreted: paths are resolved, dates computed on the
process's calendar, incidents and requirements opened, notifications and integration
messages queued and timers re-planned. The result is an ``EventEffects`` (plain JSON) that
``engine.apply`` folds without needing the definition again.

The parts live beside this module: ``effect_dates`` (dates), ``effect_items`` (incidents,
requirements, tasks, checklists), ``outbox`` (messages) and ``timers`` (timer plans).
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from relevo.domain.compiled import Compiled, resolve_path
from relevo.domain.conditional import effective
from relevo.domain.definitions import Effects
from relevo.domain.effect_dates import date_changes, to_moment
from relevo.domain.effect_items import (
    add_incidents,
    add_requirements,
    add_task_codes,
    add_tasks,
    add_ticks,
)
from relevo.domain.errors import EffectError
from relevo.domain.fold import apply_items
from relevo.domain.model import JSON, ProcessState, iso
from relevo.domain.outbox import notification_message, outbox_messages
from relevo.domain.shapes import (
    EventEffects,
    HistoryEntry,
    IncidentEntry,
    KeyValue,
    TaskEntry,
    key_values,
)
from relevo.domain.timers import drop_due_reminders, plan_timers

__all__ = ["EffectError", "build", "notification_message", "to_moment"]

#: Every field of a state in constructor order. ``_preview`` copies through it, which keeps
#: up with new fields and costs a fraction of ``dataclasses.replace``.
_STATE_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(ProcessState)))


def build(
    c: Compiled,
    state: ProcessState,
    spec: Effects,
    *,
    now: datetime,
    occurred_at: datetime,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    version: int,
    event_type: str,
    history: list[HistoryEntry] | None = None,
    actor: str = "system",
    label_ref: str = "",
) -> EventEffects:
    """The concrete effects of applying ``spec`` to ``state`` (which is not modified).

    ``label_ref`` names ``spec`` for the history (see ``compiled.label_of``).

    Raises EffectError when a value the spec needs is missing or malformed.
    """
    if spec.also:
        spec = effective(c, spec, state, now, data, params)
    effects: EventEffects = {}
    when = iso(occurred_at)
    entries: list[HistoryEntry] = list(history or [])

    if spec.to and spec.to != state.stage:
        effects["stage"] = spec.to
        entries.append({"at": when, "kind": "stage", "ref": spec.to})
    if spec.status:
        effects["status"] = spec.status
    # Most steps record nothing: skip the calls (this runs for every event).
    new_attributes = _attributes(state, spec, data, params) if spec.record or spec.set else {}
    if new_attributes:
        effects["attributes"] = new_attributes
    # Only read from here on, so the state's own mapping serves when nothing changed.
    attributes = {**state.attributes, **new_attributes} if new_attributes else state.attributes
    new_keys = _keys(state, spec, data, params, attributes) if spec.keys else None
    if new_keys:
        effects["keys"] = new_keys

    if _dates_may_move(c, state, spec, effects):
        dates = date_changes(c, state, spec, now, data, params, attributes)
        if dates:
            effects["dates"] = dates

    add_incidents(c, state, spec, data, params, attributes, effects, entries, when)
    add_requirements(state, spec, effects)
    add_tasks(c, state, spec, effects, occurred_at)
    add_ticks(c, state, spec, data, params, attributes, effects, actor, when)
    add_task_codes(c, state, spec, (data, params, attributes), effects, actor, when)

    if spec.label is not None:
        # The text stays in the definition (the process is pinned to its version): the
        # entry only says which step wrote it, which keeps stored states small.
        entries.append({"at": when, "kind": "step", "ref": label_ref})
    if entries:
        effects["history"] = entries
    _messages_and_timers(
        c, state, spec, effects, new_attributes, now, when, event_type, version, params
    )
    return effects


def _dates_may_move(c: Compiled, state: ProcessState, spec: Effects, effects: EventEffects) -> bool:
    """Derived dates are a function of their anchors: recompute only when one may have moved."""
    return bool(
        state.version == 0
        or spec.dates
        or spec.confirm
        or spec.clear_dates
        or "now" in c.derived_anchors
        or ("stage" in effects and "entered" in c.derived_anchors)
    )


def _attributes(
    state: ProcessState, spec: Effects, data: Mapping[str, Any], params: Mapping[str, Any]
) -> JSON:
    """The attributes ``spec`` records or sets that differ from the state's."""
    attributes = state.attributes
    changed: JSON = {}
    for name, path in spec.record.items():
        value = resolve_path(path, data, params, attributes)
        if value is not None and attributes.get(name) != value:
            changed[name] = value
    for name, value in spec.set.items():
        if attributes.get(name) != value:
            changed[name] = value
    return changed


def _keys(
    state: ProcessState,
    spec: Effects,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    attributes: JSON,
) -> dict[str, KeyValue]:
    """The correlation keys ``spec`` records that differ from the state's. A key given
    several paths, or a value that is a list, adds its values to those the key holds."""
    changed: dict[str, KeyValue] = {}
    for name, paths in spec.keys.items():
        if isinstance(paths, str):
            value = resolve_path(paths, data, params, attributes)
            if value is None:
                continue
            if not isinstance(value, list):
                if state.keys.get(name) != str(value):
                    changed[name] = str(value)
                continue
            found = value
        else:
            found = [resolve_path(path, data, params, attributes) for path in paths]
        held = key_values(state.keys.get(name))
        values = [*held]
        for item in found:
            for each in item if isinstance(item, list) else [item]:
                if each is not None and str(each) not in values:
                    values.append(str(each))
        if values != held:
            changed[name] = values
    return changed


def _messages_and_timers(
    c: Compiled,
    state: ProcessState,
    spec: Effects,
    effects: EventEffects,
    new_attributes: JSON,
    now: datetime,
    when: str,
    event_type: str,
    version: int,
    params: Mapping[str, Any],
) -> None:
    """Add the outbox and the timer plan, both read from the state as the effects leave it."""
    replan = (
        state.version == 0
        or "stage" in effects
        or "status" in effects
        or "dates" in effects
        or "now" in c.timer_anchors
        or not c.timer_attributes.isdisjoint(new_attributes)
        or (c.timer_items and _items_change(effects))
    )
    preview = _preview(state, effects, when, c.timer_items) if replan else state
    outbox = outbox_messages(c, state, preview, spec, effects, event_type, version, params, now)
    if outbox:
        effects["outbox"] = outbox
    timers = plan_timers(c, state, preview, now) if replan else drop_due_reminders(state, now)
    if timers:
        effects["timers"] = timers


def _items_change(effects: EventEffects) -> bool:
    """Whether ``effects`` open or close incidents or tasks."""
    return bool(
        "incidents_opened" in effects
        or "incidents_resolved" in effects
        or "tasks_opened" in effects
        or "tasks_closed" in effects
    )


def _preview(
    state: ProcessState, effects: EventEffects, when: str, items: bool = False
) -> ProcessState:
    """A shallow copy of ``state`` with the stage, status, dates and attributes the effects
    set, and with ``items`` their incidents and tasks too."""
    dates = dict(state.dates)
    for name, entry in effects.get("dates", {}).items():
        if entry is None:
            dates.pop(name, None)
        else:
            dates[name] = entry
    stage_history = state.stage_history
    if "stage" in effects:
        stage_history = [*state.stage_history, {"stage": effects["stage"], "entered_at": when}]
    preview = ProcessState(*_STATE_FIELDS(state))
    preview.stage = effects.get("stage", state.stage)
    preview.status = effects.get("status", state.status)
    preview.stage_history = stage_history
    preview.dates = dates
    preview.attributes = {**state.attributes, **effects.get("attributes", {})}
    if items and _items_change(effects):
        preview.incidents, preview.tasks = _preview_items(state, effects, when)
    return preview


def _preview_items(
    state: ProcessState, effects: EventEffects, when: str
) -> tuple[dict[str, IncidentEntry], dict[str, TaskEntry]]:
    """The incidents and tasks as ``effects`` leave them (their status is what guards read),
    folded into copies so that ``state`` is not touched."""
    copy = ProcessState(*_STATE_FIELDS(state))
    copy.incidents = dict(state.incidents)
    copy.tasks = dict(state.tasks)
    apply_items(copy, effects, when)
    return copy.incidents, copy.tasks
