"""The pure process engine: ``decide`` what a message means, ``apply`` it to the state.

Both are functions of their arguments only: no clock reads, no I/O. A message the definition
does not allow right now is never an exception that loses it: ``decide`` turns it into a
recorded ``message.ignored`` fact with the reason. A message that cannot be understood at all
(unknown type, missing data) is *rejected*: it is not recorded on the process and the caller
keeps it as a dead letter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relevo.domain import controls
from relevo.domain.compiled import Compiled, guard_holds
from relevo.domain.definitions import Effects
from relevo.domain.effects import EffectError, build, notification_message
from relevo.domain.errors import InvalidStart
from relevo.domain.model import (
    HISTORY_LIMIT,
    JSON,
    Action,
    Event,
    Message,
    Outcome,
    ProcessState,
    Status,
    iso,
)

#: Event type of a timer falling due; ``data.name`` says which timer.
TIMER_FIRED = "timer.fired"
IGNORED = "message.ignored"
STARTED = "process.started"
#: Enum member access goes through a descriptor; ``apply`` compares with the plain value.
_ACTIVE = Status.ACTIVE.value


@dataclass
class Decision:
    """What a message leads to: the events to record, and how to report the message."""

    outcome: Outcome
    events: list[Event] = field(default_factory=list)
    reason: str | None = None
    reason_code: str | None = None


def start(
    c: Compiled,
    *,
    process_id: str,
    customer_id: str,
    subject: str,
    language: str,
    channel: str,
    actor: str,
    attributes: JSON,
    keys: dict[str, str],
    now: datetime,
    timezone: str | None = None,
) -> tuple[ProcessState, Event]:
    """A new process and its ``process.started`` event, already applied.

    Raises InvalidStart naming every input that is wrong.
    """
    definition = c.definition
    problems: list[str] = []
    if language not in ("es", "en"):
        problems.append(f"language {language!r} is not supported: use 'es' or 'en'")
    pattern = definition.subject.pattern
    if pattern:
        import re

        if not re.fullmatch(pattern, subject):
            problems.append(
                f"subject {subject!r} is not a valid {definition.subject.label.en.lower()} "
                f"(expected pattern {pattern})"
            )
    unknown_keys = sorted(set(keys) - set(definition.correlation_keys))
    if unknown_keys:
        problems.append(
            f"unknown correlation keys {unknown_keys}; {definition.kind} accepts "
            f"{definition.correlation_keys}"
        )
    values: JSON = {}
    for name, spec in definition.attributes.items():
        value = attributes.get(name, spec.default)
        if value is None:
            if spec.required:
                problems.append(f"attribute {name!r} is required ({spec.title.en})")
            continue
        if spec.choices is not None and value not in spec.choices:
            problems.append(f"attribute {name!r} must be one of {spec.choices}, not {value!r}")
        values[name] = value
    unknown_attributes = sorted(set(attributes) - set(definition.attributes))
    if unknown_attributes:
        problems.append(
            f"unknown attributes {unknown_attributes}; {definition.kind} accepts "
            f"{sorted(definition.attributes)}"
        )
    if problems:
        raise InvalidStart("; ".join(problems))
    stamp = iso(now)
    state = ProcessState(
        id=process_id,
        kind=definition.kind,
        definition_version=definition.version,
        customer_id=customer_id,
        subject=subject,
        language=language,
        timezone=timezone or definition.timezone,
        channel=channel,
        created_at=stamp,
        updated_at=stamp,
        attributes=values,
    )
    all_keys = {definition.subject.key: subject, **keys}
    try:
        effects = build(
            c,
            state,
            definition.start,
            now=now,
            occurred_at=now,
            data={},
            params={},
            version=1,
            event_type=STARTED,
            label_ref="s",
        )
    except EffectError as error:  # e.g. a date attribute that is not a date
        raise InvalidStart(str(error)) from None
    effects.setdefault("keys", {}).update(all_keys)
    event = Event(
        type=STARTED,
        occurred_at=stamp,
        recorded_at=stamp,
        actor=actor,
        channel=channel,
        data={
            "kind": definition.kind,
            "definition_version": definition.version,
            "customer_id": customer_id,
            "subject": subject,
            "language": language,
            "timezone": state.timezone,
            "attributes": values,
            "keys": all_keys,
        },
        effects=effects,
    )
    return apply(state, event), event


def decide(c: Compiled, state: ProcessState, message: Message, now: datetime) -> Decision:
    """What ``message`` means for ``state`` at ``now``. Never modifies ``state``."""
    if message.type == TIMER_FIRED:
        return _decide_timer(c, state, message, now)
    definition = c.definition
    spec = definition.events.get(message.type)
    if spec is None:
        return Decision(
            Outcome.REJECTED,
            reason=f"event type {message.type!r} is not part of process {definition.ref}; "
            f"it understands: {', '.join(sorted(definition.events))}",
            reason_code="unknown_type",
        )
    missing = [name for name in spec.requires if message.data.get(name) in (None, "")]
    if missing:
        return Decision(
            Outcome.REJECTED,
            reason=f"{message.type} needs data field(s) {', '.join(missing)}",
            reason_code="missing_data",
        )
    if not state.active:
        return _ignored(
            state,
            message,
            now,
            "process_finished",
            f"process {state.id} already ended ({state.status}); {message.type} changes nothing",
        )
    candidates = c.transitions.get(message.type, [])
    for index, transition in candidates:
        if state.stage not in transition.from_ and "*" not in transition.from_:
            continue
        if not guard_holds(transition.when, message.data, {}, state.attributes):
            continue
        try:
            event = _event(c, state, transition, message, now, f"t:{index}")
        except EffectError as error:
            return Decision(Outcome.REJECTED, reason=str(error), reason_code="invalid_data")
        return Decision(Outcome.ACCEPTED, [event])
    expected = sorted({s for _, t in candidates for s in t.from_})
    if not candidates:
        detail = f"{message.type} has no effect on {definition.kind}"
    elif state.stage in expected or "*" in expected:
        detail = f"{message.type} does not match any rule in stage {state.stage!r} with this data"
    else:
        detail = (
            f"{message.type} is not expected in stage {state.stage!r} "
            f"(expected in: {', '.join(expected)})"
        )
    return _ignored(state, message, now, "out_of_order", detail)


def decide_action(c: Compiled, state: ProcessState, action: Action, now: datetime) -> Event:
    """The event recording ``action``. Raises ActionRefused (why, until when, what instead)
    or UnknownControl."""
    control = controls.require(c, action.control)
    controls.refuse_unless_allowed(c, state, action.control, action.role, now)
    params = controls.validate_params(c, state, control, action.params, now)
    stamp = iso(now)
    entry = {"at": stamp, "kind": "control", "ref": action.control, "role": action.role}
    effects = build(
        c,
        state,
        control,
        now=now,
        occurred_at=now,
        data={},
        params=params,
        version=state.version + 1,
        event_type=f"action.{action.control}",
        history=[entry],
        actor=action.actor,
        label_ref=f"c:{action.control}",
    )
    return Event(
        type=f"action.{action.control}",
        occurred_at=stamp,
        recorded_at=stamp,
        actor=action.actor,
        channel=action.channel,
        data={"params": params, "role": action.role, "request_id": action.request_id},
        effects=effects,
    )


def _event(
    c: Compiled, state: ProcessState, spec: Effects, message: Message, now: datetime, ref: str
) -> Event:
    effects = build(
        c,
        state,
        spec,
        now=now,
        occurred_at=message.occurred_at,
        data=message.data,
        params={},
        version=state.version + 1,
        event_type=message.type,
        actor=message.actor,
        label_ref=ref,
    )
    return Event(
        type=message.type,
        occurred_at=iso(message.occurred_at),
        recorded_at=iso(now),
        actor=message.actor,
        channel=message.channel,
        data=dict(message.data),
        effects=effects,
        source=message.source,
        message_id=message.id,
    )


def _ignored(
    state: ProcessState, message: Message, now: datetime, code: str, reason: str
) -> Decision:
    event = Event(
        type=IGNORED,
        occurred_at=iso(message.occurred_at),
        recorded_at=iso(now),
        actor=message.actor,
        channel=message.channel,
        data={
            "type": message.type,
            "reason_code": code,
            "reason": reason,
            "data": dict(message.data),
        },
        effects={},
        source=message.source,
        message_id=message.id,
    )
    return Decision(Outcome.IGNORED, [event], reason=reason, reason_code=code)


def _decide_timer(c: Compiled, state: ProcessState, message: Message, now: datetime) -> Decision:
    name = message.data.get("name")
    due = message.data.get("due")
    if not isinstance(name, str) or not name or not isinstance(due, str) or not due:
        # Without both, an unarmed timer would match (None == None) and fire for nothing.
        return Decision(
            Outcome.REJECTED,
            reason=f"{TIMER_FIRED} needs data fields name and due (as armed in the process)",
            reason_code="missing_data",
        )
    if not state.active or state.timers.get(name) != due:
        return _ignored(
            state,
            message,
            now,
            "stale_timer",
            f"timer {name!r} is no longer armed for this process",
        )
    kind, _, ref = name.partition(":")
    version = state.version + 1
    stamp = iso(now)
    effects: JSON
    event_type: str
    if kind == "sla":
        event_type = "sla.breached"
        effects = {
            "attributes": {f"sla_breached_{ref}": due},
            "outbox": [
                {
                    "topic": "sla.breached",
                    "key": f"{state.id}:{version}:sla:{ref}",
                    "payload": {
                        "process_id": state.id,
                        "kind": state.kind,
                        "stage": ref,
                        "due": due,
                    },
                }
            ],
            "timers": {"cancel": [name]},
        }
    elif kind == "notify":
        event_type = "reminder.due"
        effects = {
            "outbox": [notification_message(c, state, ref, version)],
            "timers": {"cancel": [name]},
        }
    else:
        timer = next(t for t in c.definition.timers if t.id == ref)
        event_type = f"deadline.{ref}"
        try:
            effects = build(
                c,
                state,
                timer.then,
                now=now,
                occurred_at=now,
                data={},
                params={},
                label_ref=f"x:{ref}",
                version=version,
                event_type=event_type,
            )
        except EffectError as error:
            return Decision(Outcome.REJECTED, reason=str(error), reason_code="invalid_data")
        armed = effects.setdefault("timers", {})
        if name not in armed.get("set", {}):
            cancel = armed.setdefault("cancel", [])
            if name not in cancel:
                cancel.append(name)
    event = Event(
        type=event_type,
        occurred_at=stamp,
        recorded_at=stamp,
        actor="system",
        channel="timer",
        data={"timer": name, "due": due},
        effects=effects,
        source=message.source,
        message_id=message.id,
    )
    return Decision(Outcome.ACCEPTED, [event])


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
    if "tasks_opened" in effects or "tasks_closed" in effects or "checklist" in effects:
        _apply_tasks(state, effects, event.occurred_at)
    timers = effects.get("timers")
    if timers:
        for name in timers.get("cancel", ()):
            state.timers.pop(name, None)
        state.timers.update(timers.get("set", {}))
    if status is not None and status != _ACTIVE:
        state.timers.clear()
    history = effects.get("history")
    if history:
        state.history.extend(history)
        if len(state.history) > HISTORY_LIMIT:
            del state.history[: len(state.history) - HISTORY_LIMIT]
    return state


def _apply_incidents(state: ProcessState, effects: JSON, at: str) -> None:
    for code in effects.get("incidents_resolved", ()):
        state.incidents[code] = {
            **state.incidents[code],
            "status": "resolved",
            "resolved_at": at,
        }
    for code, opened in effects.get("incidents_opened", {}).items():
        state.incidents[code] = {
            "status": "open",
            "opened_at": at,
            "resolved_at": None,
            "detail": opened.get("detail", {}),
            "occurrences": state.incidents.get(code, {}).get("occurrences", 0) + 1,
        }


def _apply_tasks(state: ProcessState, effects: JSON, at: str) -> None:
    for task_id, opened in effects.get("tasks_opened", {}).items():
        state.tasks[task_id] = {
            "status": "open",
            "opened_at": at,
            "closed_at": None,
            "checked": {},
            **opened,
        }
    for task_id in effects.get("tasks_closed", ()):
        state.tasks[task_id] = {
            **state.tasks[task_id],
            "status": "done",
            "closed_at": at,
        }
    for task_id, items in effects.get("checklist", {}).items():
        state.tasks[task_id]["checked"] = {**state.tasks[task_id]["checked"], **items}


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
