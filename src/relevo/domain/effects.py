"""Turning a definition's declared effects into the concrete ``effects`` of one event.

``build`` is where the definition is interpreted: paths are resolved, dates computed on the
process's calendar, incidents and requirements opened, notifications and integration
messages queued and timers re-planned. The result is plain JSON that ``engine.apply`` folds
without needing the definition again.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from relevo.domain.compiled import Compiled, guard_holds, resolve_path
from relevo.domain.definitions import Effects
from relevo.domain.model import JSON, ProcessState, iso
from relevo.domain.timers import drop_due_reminders, plan_timers

#: Every field of a state in constructor order. ``_preview`` copies through it, which keeps
#: up with new fields and costs a fraction of ``dataclasses.replace``.
_STATE_FIELDS = operator.attrgetter(*(f.name for f in dataclasses.fields(ProcessState)))


class EffectError(ValueError):
    """An inbound value the effects need is missing or malformed; the message names it."""


def to_moment(value: Any, c: Compiled, at: str | None, where: str) -> datetime:
    """Read a date value from a message or an action as an aware moment.

    Accepts an ISO 8601 date-time with offset, or a plain ``YYYY-MM-DD`` date read in the
    calendar's zone at local time ``at`` (midnight when absent).
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            if len(value) == 10:
                clock = time.fromisoformat(at) if at else time(0, 0)
                return datetime.combine(date.fromisoformat(value), clock, tzinfo=c.calendar.tz)
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise EffectError(
                f"{where} is {value!r}, not an ISO 8601 date (YYYY-MM-DD) or date-time"
            ) from None
    else:
        raise EffectError(f"{where} is missing or not a date")
    if moment.tzinfo is None:
        raise EffectError(f"{where} is {value!r}: give the UTC offset (e.g. +01:00 or Z)")
    if at:
        moment = c.calendar.at_time(moment, time.fromisoformat(at))
    return moment


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
    history: list[JSON] | None = None,
    actor: str = "system",
    label_ref: str = "",
) -> JSON:
    """The concrete effects of applying ``spec`` to ``state`` (which is not modified).

    ``label_ref`` names ``spec`` for the history (see ``compiled.label_of``).

    Raises EffectError when a value the spec needs is missing or malformed.
    """
    attributes = state.attributes
    effects: JSON = {}
    when = iso(occurred_at)
    entries: list[JSON] = list(history or [])

    if spec.to and spec.to != state.stage:
        effects["stage"] = spec.to
        entries.append({"at": when, "kind": "stage", "ref": spec.to})
    if spec.status:
        effects["status"] = spec.status

    new_attributes: JSON = {}
    for name, path in spec.record.items():
        value = resolve_path(path, data, params, attributes)
        if value is not None and attributes.get(name) != value:
            new_attributes[name] = value
    for name, value in spec.set.items():
        if attributes.get(name) != value:
            new_attributes[name] = value
    if new_attributes:
        effects["attributes"] = new_attributes
    # Only read from here on, so the state's own mapping serves when nothing changed.
    merged_attributes = {**attributes, **new_attributes} if new_attributes else attributes

    new_keys = {}
    for name, path in spec.keys.items():
        value = resolve_path(path, data, params, merged_attributes)
        if value is not None and state.keys.get(name) != str(value):
            new_keys[name] = str(value)
    if new_keys:
        effects["keys"] = new_keys

    # Derived dates are a function of their anchors: recompute only when one may have moved.
    if (
        state.version == 0
        or spec.dates
        or spec.confirm
        or spec.clear_dates
        or "now" in c.derived_anchors
        or ("stage" in effects and "entered" in c.derived_anchors)
    ):
        dates = _dates(c, state, spec, now, data, params, merged_attributes)
        if dates:
            effects["dates"] = dates

    _incidents(c, state, spec, data, params, merged_attributes, effects, entries, when)
    _requirements(state, spec, effects)
    _tasks(c, state, spec, effects, occurred_at)
    _ticks(c, state, spec, effects, data, params, merged_attributes, actor, when)

    if spec.label is not None:
        # The text stays in the definition (the process is pinned to its version): the
        # entry only says which step wrote it, which keeps stored states small.
        entries.append({"at": when, "kind": "step", "ref": label_ref})
    if entries:
        effects["history"] = entries

    replan = (
        state.version == 0
        or "stage" in effects
        or "status" in effects
        or "dates" in effects
        or "now" in c.timer_anchors
        or not c.timer_attributes.isdisjoint(new_attributes)
    )
    preview = _preview(state, effects, when) if replan else state
    outbox = _outbox(c, state, preview, spec, effects, event_type, version, params)
    if outbox:
        effects["outbox"] = outbox
    timers = plan_timers(c, state, preview, now) if replan else drop_due_reminders(state, now)
    if timers:
        effects["timers"] = timers
    return effects


def _dates(
    c: Compiled,
    state: ProcessState,
    spec: Effects,
    now: datetime,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    attributes: JSON,
) -> JSON:
    changes: JSON = {}
    current: dict[str, JSON] = dict(state.dates)
    anchors = c.anchors(state, now)
    for name, setter in spec.dates.items():
        if setter.from_ is not None:
            raw = resolve_path(setter.from_, data, params, attributes)
            moment = to_moment(raw, c, setter.at, setter.from_)
        else:
            evaluated = c.rule(setter.rule or "").evaluate(anchors, c.calendar)
            if evaluated is None:
                continue
            moment = evaluated
        entry = _date_entry(c, name, moment, setter.confirmed, "event")
        changes[name] = current[name] = entry
        anchors[name] = moment
    for name in spec.confirm:
        if name in current and not current[name]["confirmed"]:
            changes[name] = current[name] = {**current[name], "confirmed": True}
    for name in spec.clear_dates:
        if name in current:
            changes[name] = None
            current.pop(name)
            anchors.pop(name, None)
    # Rule-derived dates follow the dates they depend on, unless an event has set them.
    for name in c.derived_order:
        existing = current.get(name)
        if existing is not None and existing.get("source") == "event":
            continue
        rule = c.date_rules[name]
        moment_or_none = rule.evaluate(anchors, c.calendar)
        if moment_or_none is None:
            if existing is not None:
                changes[name] = None
                current.pop(name)
                anchors.pop(name, None)
            continue
        anchors[name] = moment_or_none
        dependency = current.get(rule.anchor)
        confirmed = dependency["confirmed"] if dependency else rule.anchor == "started"
        entry = _date_entry(c, name, moment_or_none, confirmed, "rule")
        if existing != entry:
            changes[name] = current[name] = entry
    return changes


def _date_entry(c: Compiled, name: str, moment: datetime, confirmed: bool, source: str) -> JSON:
    duration = c.date_durations.get(name)
    end = iso(duration.add_to(moment, c.calendar)) if duration else None
    return {"at": iso(moment), "end": end, "confirmed": confirmed, "source": source}


def _incidents(
    c: Compiled,
    state: ProcessState,
    spec: Effects,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    attributes: JSON,
    effects: JSON,
    entries: list[JSON],
    when: str,
) -> None:
    definition = c.definition
    resolved: set[str] = set()
    if spec.resolve_incidents:
        open_now = set(state.open_incidents())
        resolved = (
            open_now
            if spec.resolve_incidents == "all"
            else (open_now & set(spec.resolve_incidents))
        )
    if resolved:
        effects["incidents_resolved"] = sorted(resolved)
        entries.extend(
            {"at": when, "kind": "incident_resolved", "ref": code} for code in sorted(resolved)
        )
    code = spec.open_incident
    if spec.open_incident_from:
        raw = resolve_path(spec.open_incident_from, data, params, attributes)
        if raw is None:
            raise EffectError(f"{spec.open_incident_from} is missing: it names the incident code")
        code = str(raw)
    if code is None:
        return
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


def _requirements(state: ProcessState, spec: Effects, effects: JSON) -> None:
    changes: JSON = effects.get("requirements", {})
    for requirement in spec.require:
        current = state.requirements.get(requirement)
        if current is None or current["state"] in ("rejected", "accepted"):
            changes[requirement] = {"state": "missing", "reason": None}
    for requirement, new_state in spec.requirements.items():
        changes[requirement] = {"state": new_state, "reason": None}
    if changes:
        effects["requirements"] = changes


def _tasks(
    c: Compiled, state: ProcessState, spec: Effects, effects: JSON, occurred_at: datetime
) -> None:
    opened: JSON = {}
    for task_id in spec.open_tasks:
        if state.tasks.get(task_id, {}).get("status") == "open":
            continue
        task = c.definition.tasks[task_id]
        due = iso(c.duration(task.due).add_to(occurred_at, c.calendar)) if task.due else None
        opened[task_id] = {"team": task.team, "due_at": due}
    if opened:
        effects["tasks_opened"] = opened
    closed = [t for t in spec.close_tasks if state.tasks.get(t, {}).get("status") == "open"]
    if closed:
        effects["tasks_closed"] = closed


def _ticks(
    c: Compiled,
    state: ProcessState,
    spec: Effects,
    effects: JSON,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    attributes: JSON,
    actor: str,
    when: str,
) -> None:
    wanted: dict[str, list[str]] = {task: list(items) for task, items in spec.tick.items()}
    for task_id, path in spec.tick_from.items():
        item = resolve_path(path, data, params, attributes)
        if item is None:
            raise EffectError(f"{path} is missing: it names the checklist item to tick")
        wanted.setdefault(task_id, []).append(str(item))
    if not wanted:
        return
    ticked: JSON = {}
    closing: list[str] = []
    for task_id, items in wanted.items():
        task = c.definition.tasks[task_id]
        known = [entry.id for entry in task.checklist]
        for item in items:
            if item not in known:
                raise EffectError(
                    f"{item!r} is not an item of checklist {task_id!r}; items: {', '.join(known)}"
                )
        current = state.tasks.get(task_id)
        if current is None and task_id not in effects.get("tasks_opened", {}):
            raise EffectError(f"task {task_id!r} is not open, so its items cannot be ticked")
        already = set(current["checked"]) if current else set()
        new_items = {item: {"by": actor, "at": when} for item in items if item not in already}
        if new_items:
            ticked[task_id] = new_items
        if already | set(new_items) >= set(known) and task_id not in spec.close_tasks:
            closing.append(task_id)
    if ticked:
        effects["checklist"] = ticked
    if closing:
        effects["tasks_closed"] = sorted({*effects.get("tasks_closed", []), *closing})


def _preview(state: ProcessState, effects: JSON, when: str) -> ProcessState:
    """A shallow copy of ``state`` with the stage, status, dates and attributes the effects set."""
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
    return preview


def _outbox(
    c: Compiled,
    state: ProcessState,
    preview: ProcessState,
    spec: Effects,
    effects: JSON,
    event_type: str,
    version: int,
    params: Mapping[str, Any],
) -> list[JSON]:
    messages: list[JSON] = []
    for topic in spec.emit:
        messages.append(
            {
                "topic": topic,
                "key": f"{state.id}:{version}:{topic}",
                "payload": {
                    "process_id": state.id,
                    "kind": state.kind,
                    "subject": state.subject,
                    "keys": {**state.keys, **effects.get("keys", {})},
                    "params": dict(params),
                    "event_type": event_type,
                },
            }
        )
    templates = [*spec.notify, *c.triggered_templates(effects.get("stage"), event_type)]
    guards = c.template_guards
    templates = [
        t
        for t in templates
        if t not in guards or guard_holds(guards[t], {}, {}, preview.attributes)
    ]
    for template in dict.fromkeys(templates):
        messages.append(notification_message(c, preview, template, version))
    return messages


def notification_message(c: Compiled, state: ProcessState, template: str, version: int) -> JSON:
    """The outbox entry that asks the notifier to send ``template`` for ``state``."""
    declared = c.template_channels.get(template)
    channels = list(declared) if declared is not None else ["sms", "email"]
    return {
        "topic": "notification.requested",
        "key": f"{state.id}:{version}:notify:{template}",
        "payload": {
            "process_id": state.id,
            "kind": state.kind,
            "customer_id": state.customer_id,
            "template": template,
            "channels": channels,
            "language": state.language,
        },
    }
