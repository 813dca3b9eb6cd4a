"""The pure process engine: ``decide`` what a message means, ``apply`` it to the state.

Both are functions of their arguments only: no clock reads, no I/O. A message the definition
does not allow right now is never an exception that loses it: ``decide`` turns it into a
recorded ``message.ignored`` fact with the reason, or, when a later stage accepts it, parks
it until the process gets there (``parking``). A message that cannot be understood at all
(unknown type, missing data) is *rejected*: it is not recorded on the process and the caller
keeps it as a dead letter.

Folding lives in ``fold`` (``apply``, ``replay``) and timers in ``timer_decisions``; this
module is the engine's one entry point and re-exports them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from relevo.domain import controls, parking
from relevo.domain.compiled import Compiled
from relevo.domain.contact import CONTACT_ATTRIBUTES, contact_problems
from relevo.domain.decision import Decision, ignored, rejected
from relevo.domain.definitions import Definition, Effects, Transition
from relevo.domain.effects import build
from relevo.domain.errors import EffectError, InvalidStart
from relevo.domain.fold import apply, replay
from relevo.domain.guards import guard_holds, unreadable_numbers
from relevo.domain.model import (
    EXPIRED,
    IGNORED,
    JSON,
    PARKED,
    STARTED,
    TIMER_FIRED,
    Action,
    Event,
    Message,
    Outcome,
    ProcessState,
    iso,
)
from relevo.domain.shapes import HistoryEntry, KeyValue
from relevo.domain.timer_decisions import decide_timer

__all__ = [
    "EXPIRED",
    "IGNORED",
    "PARKED",
    "STARTED",
    "TIMER_FIRED",
    "Decision",
    "apply",
    "decide",
    "decide_action",
    "replay",
    "settle",
    "start",
]


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
    keys: Mapping[str, KeyValue],
    now: datetime,
    timezone: str | None = None,
) -> tuple[ProcessState, Event]:
    """A new process and its ``process.started`` event, already applied.

    Raises InvalidStart naming every input that is wrong.
    """
    definition = c.definition
    values, attribute_problems = _start_attributes(definition, attributes)
    problems = _start_problems(definition, language, subject, keys) + attribute_problems
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
    event = _started_event(c, state, actor, _all_keys(definition.subject.key, subject, keys), now)
    return apply(state, event), event


def _started_event(
    c: Compiled, state: ProcessState, actor: str, keys: dict[str, KeyValue], now: datetime
) -> Event:
    """The ``process.started`` event of the new ``state``, carrying everything ``replay``
    needs to rebuild it; ``keys`` are all its correlation keys (the subject's included)."""
    definition = c.definition
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
    effects.setdefault("keys", {}).update(keys)
    data: JSON = {
        "kind": definition.kind,
        "definition_version": definition.version,
        "customer_id": state.customer_id,
        "subject": state.subject,
        "language": state.language,
        "timezone": state.timezone,
        "attributes": state.attributes,
        "keys": keys,
    }
    return Event(
        type=STARTED,
        occurred_at=state.created_at,
        recorded_at=state.created_at,
        actor=actor,
        channel=state.channel,
        data=data,
        effects=effects,
    )


def _all_keys(name: str, subject: str, keys: Mapping[str, KeyValue]) -> dict[str, KeyValue]:
    """The correlation keys of a new process: ``keys`` (lists without repeats) and the
    subject under its key name, first among that key's values when the key has several."""
    found: dict[str, KeyValue] = {name: subject}
    for key, value in keys.items():
        found[key] = value if isinstance(value, str) else list(dict.fromkeys(value))
    given = found[name]
    if isinstance(given, list) and subject not in given:
        found[name] = [subject, *given]
    return found


def _start_problems(
    definition: Definition, language: str, subject: str, keys: Mapping[str, KeyValue]
) -> list[str]:
    """What is wrong with the language, subject and correlation keys of a new process."""
    problems: list[str] = []
    if language not in ("es", "en"):
        problems.append(f"language {language!r} is not supported: use 'es' or 'en'")
    pattern = definition.subject.pattern
    if pattern and not re.fullmatch(pattern, subject):
        problems.append(
            f"subject {subject!r} is not a valid {definition.subject.label.en.lower()} "
            f"(expected pattern {pattern})"
        )
    for name, value in keys.items():
        several = isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        if not isinstance(value, str) and not several:
            problems.append(f"correlation key {name!r} must be a text or a list of texts")
    unknown_keys = sorted(set(keys) - set(definition.correlation_keys))
    if unknown_keys:
        problems.append(
            f"unknown correlation keys {unknown_keys}; {definition.kind} accepts "
            f"{definition.correlation_keys}"
        )
    return problems


def _start_attributes(definition: Definition, attributes: JSON) -> tuple[JSON, list[str]]:
    """The attributes a new process starts with (defaults filled in), and what is wrong
    with the ones given."""
    problems: list[str] = []
    values: JSON = {}
    for name, spec in definition.attributes.items():
        value = attributes.get(name, spec.default)
        if value is None:
            if spec.required:
                problems.append(f"attribute {name!r} is required ({spec.title.en})")
            continue
        if spec.choices is not None and value not in spec.choices:
            problems.append(f"attribute {name!r} must be one of {spec.choices}, not {value!r}")
        if spec.pattern is not None and not re.fullmatch(spec.pattern, str(value)):
            problems.append(
                f"attribute {name!r} is {value!r}, not a valid {spec.title.en.lower()} "
                f"(expected pattern {spec.pattern})"
            )
        values[name] = value
    # Every process may carry how its customer is reached, unless its definition says.
    contact = {
        n: v
        for n, v in attributes.items()
        if n in CONTACT_ATTRIBUTES and n not in definition.attributes
    }
    if contact:
        problems.extend(contact_problems(contact))
        values.update(contact)
    unknown_attributes = sorted(set(attributes) - set(definition.attributes) - set(contact))
    if unknown_attributes:
        problems.append(
            f"unknown attributes {unknown_attributes}; {definition.kind} accepts "
            f"{sorted(definition.attributes)}"
        )
    return values, problems


def decide(
    c: Compiled,
    state: ProcessState,
    message: Message,
    now: datetime,
    park_ttl: timedelta = parking.DEFAULT_PARK_TTL,
) -> Decision:
    """What ``message`` means for ``state`` at ``now``. Never modifies ``state``.

    A message a later stage accepts is parked for ``park_ttl``; the decision's events end
    with those of the parked messages that apply (or can no longer apply) once its own are
    applied.
    """
    decision = _decide(c, state, message, now, park_ttl)
    if state.parked and decision.events:
        decision.events.extend(parking.settle(c, state, decision.events, now, _decide))
    return decision


def settle(c: Compiled, state: ProcessState, events: list[Event], now: datetime) -> list[Event]:
    """The events of the parked messages that apply (or expire) once ``events`` (decided
    outside ``decide``: an action's) are applied to ``state``, which is only read."""
    return parking.settle(c, state, events, now, _decide)


def _decide(
    c: Compiled,
    state: ProcessState,
    message: Message,
    now: datetime,
    park_ttl: timedelta | None = None,
) -> Decision:
    """``decide`` without settling parked messages; parks only when ``park_ttl`` is given."""
    if message.type == TIMER_FIRED:
        return decide_timer(c, state, message, now)
    definition = c.definition
    spec = definition.events.get(message.type)
    if spec is None:
        return rejected(
            f"event type {message.type!r} is not part of process {definition.ref}; "
            f"it understands: {', '.join(sorted(definition.events))}",
            "unknown_type",
        )
    missing = [name for name in spec.requires if message.data.get(name) in (None, "")]
    if missing:
        return rejected(f"{message.type} needs data field(s) {', '.join(missing)}", "missing_data")
    outside = _outside_closed_lists(spec.values, message.data)
    if outside:
        return rejected(f"{message.type}: {outside}", "invalid_data")
    if not state.active:
        return ignored(
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
        if not guard_holds(c, transition.when, state, now, message.data):
            continue
        try:
            event = _event(c, state, transition, message, now, f"t:{index}")
        except EffectError as error:
            return rejected(str(error), "invalid_data")
        return Decision(Outcome.ACCEPTED, [event])
    expected = sorted({s for _, t in candidates for s in t.from_})
    if not candidates:
        detail = f"{message.type} has no effect on {definition.kind}"
    elif state.stage in expected or "*" in expected:
        detail = f"{message.type} does not match any rule in stage {state.stage!r} with this data"
        unreadable = _unreadable_numbers(c, state, candidates, message, now)
        if unreadable:
            detail += f" ({'; '.join(unreadable)})"
    else:
        detail = (
            f"{message.type} is not expected in stage {state.stage!r} "
            f"(expected in: {', '.join(expected)})"
        )
        if park_ttl is not None and message.type in c.awaited_in(state.stage):
            return parking.park(state, message, now, park_ttl, detail)
    return ignored(state, message, now, "out_of_order", detail)


def _unreadable_numbers(
    c: Compiled,
    state: ProcessState,
    candidates: list[tuple[int, Transition]],
    message: Message,
    now: datetime,
) -> list[str]:
    """The sides of numeric comparisons that could not be read, in the guards of the
    transitions from the current stage: why a message with a malformed amount changed
    nothing."""
    reasons: list[str] = []
    for _, transition in candidates:
        if state.stage in transition.from_ or "*" in transition.from_:
            for reason in unreadable_numbers(c, transition.when, state, now, message.data):
                if reason not in reasons:
                    reasons.append(reason)
    return reasons


def decide_action(c: Compiled, state: ProcessState, action: Action, now: datetime) -> Event:
    """The event recording ``action``. Raises ActionRefused (why, until when, what instead)
    or UnknownControl."""
    control = controls.require(c, action.control)
    controls.refuse_unless_allowed(c, state, action.control, action.role, now)
    params = controls.validate_params(c, state, control, action.params, now)
    stamp = iso(now)
    entry: HistoryEntry = {
        "at": stamp,
        "kind": "control",
        "ref": action.control,
        "role": action.role,
    }
    said = controls.said(control, params)
    if said:
        entry["said"] = said
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


def _outside_closed_lists(values: dict[str, list[str]], data: JSON) -> str | None:
    """Why ``data`` breaks one of the event type's closed lists, or ``None``."""
    for name, allowed in values.items():
        value = data.get(name)
        if value is not None and value not in allowed:
            return f"{name} is {value!r}, not one of {', '.join(allowed)}"
    return None
