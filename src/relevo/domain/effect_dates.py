"""The dates part of an event's effects: dates set by the event, confirmed, cleared, and the
rule-derived dates that follow them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Literal

from relevo.domain.compiled import Compiled, resolve_path
from relevo.domain.definitions import Effects
from relevo.domain.errors import EffectError
from relevo.domain.model import JSON, ProcessState, iso
from relevo.domain.moments import SPAN, within_span
from relevo.domain.shapes import DateEntry


def to_moment(value: Any, c: Compiled, at: str | None, where: str) -> datetime:
    """Read a date value from a message or an action as an aware moment.

    Accepts an ISO 8601 date-time with offset, or a plain ``YYYY-MM-DD`` date read in the
    calendar's zone at local time ``at`` (midnight when absent).
    """
    local_date = False
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            if len(value) == 10:
                clock = time.fromisoformat(at) if at else time(0, 0)
                moment = datetime.combine(date.fromisoformat(value), clock, tzinfo=c.calendar.tz)
                local_date = True
            else:
                moment = datetime.fromisoformat(value)
        except ValueError:
            raise EffectError(
                f"{where} is {value!r}, not an ISO 8601 date (YYYY-MM-DD) or date-time"
            ) from None
    else:
        raise EffectError(f"{where} is missing or not a date")
    if moment.tzinfo is None:
        raise EffectError(f"{where} is {value!r}: give the UTC offset (e.g. +01:00 or Z)")
    if not within_span(moment):
        raise EffectError(f"{where} is {value!r}: relevo handles dates {SPAN}")
    if at and not local_date:
        moment = c.calendar.at_time(moment, time.fromisoformat(at))
    return moment


def date_changes(
    c: Compiled,
    state: ProcessState,
    spec: Effects,
    now: datetime,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    attributes: JSON,
) -> dict[str, DateEntry | None]:
    """The dates ``spec`` sets, confirms or clears, then every rule-derived date that moves
    with them (``None`` clears a date). Raises EffectError on a malformed date value."""
    changes: dict[str, DateEntry | None] = {}
    current: dict[str, DateEntry] = dict(state.dates)
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
    _derive(c, current, anchors, changes)
    return changes


def _derive(
    c: Compiled,
    current: dict[str, DateEntry],
    anchors: dict[str, datetime | None],
    changes: dict[str, DateEntry | None],
) -> None:
    # Rule-derived dates follow the dates they depend on, unless an event has set them.
    for name in c.derived_order:
        existing = current.get(name)
        if existing is not None and existing.get("source") == "event":
            continue
        rule = c.date_rules[name]
        moment = rule.evaluate(anchors, c.calendar)
        if moment is None:
            if existing is not None:
                changes[name] = None
                current.pop(name)
                anchors.pop(name, None)
            continue
        anchors[name] = moment
        anchor = rule.anchor
        if anchor is not None:  # one anchor: the common case, on every event moving a date
            dependency = current.get(anchor)
            confirmed = dependency["confirmed"] if dependency else anchor == "started"
        else:
            confirmed = all(_confirmed(current, anchor) for anchor in rule.anchors)
        entry = _date_entry(c, name, moment, confirmed, "rule")
        if existing != entry:
            changes[name] = current[name] = entry


def _confirmed(current: Mapping[str, DateEntry], anchor: str) -> bool:
    """Whether the date ``anchor`` names is confirmed (``started`` always is)."""
    dependency = current.get(anchor)
    return dependency["confirmed"] if dependency else anchor == "started"


def _date_entry(
    c: Compiled, name: str, moment: datetime, confirmed: bool, source: Literal["event", "rule"]
) -> DateEntry:
    duration = c.date_durations.get(name)
    end = iso(duration.add_to(moment, c.calendar)) if duration else None
    return {"at": iso(moment), "end": end, "confirmed": confirmed, "source": source}
