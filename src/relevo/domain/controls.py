"""Whether a control may be used now, and whether its inputs are within bounds.

``check`` is the single source of truth: the status view shows exactly what ``check`` says,
and ``engine.decide_action`` refuses exactly when ``check`` says no, so a page can never
offer an action that would then be refused for a reason it did not show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from relevo.domain.compiled import Compiled
from relevo.domain.definitions import Control, Localized, Param
from relevo.domain.errors import ActionRefused, FieldProblem, UnknownControl
from relevo.domain.formatting import fill_moment
from relevo.domain.guards import guard_holds
from relevo.domain.model import JSON, ProcessState, iso, parse_iso
from relevo.domain.moments import within_span
from relevo.domain.rendering import rendered
from relevo.domain.texts import PARAM_PROBLEMS, REFUSALS


@dataclass
class ControlCheck:
    """The answer for one control: allowed or not, why, and until when."""

    control: str
    allowed: bool
    code: str | None
    reason: Localized | None
    until: str | None
    instead: Localized | None


def require(c: Compiled, control_id: str) -> Control:
    """The control called ``control_id``; raises UnknownControl listing the known ones."""
    control = c.definition.controls.get(control_id)
    if control is None:
        known = ", ".join(sorted(c.definition.controls)) or "none"
        raise UnknownControl(
            f"process kind {c.kind} has no control {control_id!r}; its controls are: {known}"
        )
    return control


def cutoff(c: Compiled, state: ProcessState, control: Control) -> datetime | None:
    """The moment after which ``control`` closes, if it has one and it is known yet."""
    if control.until is None:
        return None
    entry = state.dates.get(control.until)
    return parse_iso(entry["at"]) if entry else None


def check(
    c: Compiled, state: ProcessState, control_id: str, role: str, now: datetime
) -> ControlCheck:
    """Whether ``role`` may use ``control_id`` on ``state`` at ``now``, and why not."""
    control = require(c, control_id)
    limit = cutoff(c, state, control)
    until = iso(limit) if limit else None

    def no(code: str, reason: Localized | None = None) -> ControlCheck:
        return ControlCheck(
            control_id, False, code, reason or REFUSALS[code], until, _instead(c, state, control)
        )

    if not state.active:
        # What to do instead is advice for a running process: an ended one has none.
        return ControlCheck(control_id, False, "finished", REFUSALS["finished"], until, None)
    if role not in control.actors:
        return no("not_for_role")
    if state.stage not in control.allowed_in and "*" not in control.allowed_in:
        return no("not_in_stage")
    if control.when_incident and not set(control.when_incident) & set(state.open_incidents()):
        return no("other_incident" if state.open_incidents() else "no_incident")
    if not guard_holds(c, control.when, state, now):
        return no("not_applicable")
    if limit is not None and now >= limit:
        reason = fill_moment(
            REFUSALS["cutoff_passed"], "until", limit, state.timezone, day_zone=c.calendar.timezone
        )
        return no("cutoff_passed", reason)
    return ControlCheck(control_id, True, None, None, until, None)


def _instead(c: Compiled, state: ProcessState, control: Control) -> Localized | None:
    """What to do instead of ``control``, with the operator's commitments and the process's
    dates it names written out."""
    return rendered(control.instead, c, state) if control.instead else None


def still_possible(c: Compiled, state: ProcessState, control_id: str, role: str) -> bool:
    """Whether ``role`` may ever use the control on ``state`` from now on: the process is
    running, the role is one of the control's actors, and the control is allowed in the
    current stage or in one the process can still reach. Guards, incidents and cut-offs are
    not looked at: they can change while the process runs (``check`` says about now)."""
    control = require(c, control_id)
    if not state.active or role not in control.actors:
        return False
    if "*" in control.allowed_in:
        return True
    return not c.reachable_from(state.stage).isdisjoint(control.allowed_in)


def is_guidance(c: Compiled, state: ProcessState, control_id: str) -> bool:
    """Whether the control is guidance on ``state``: never allowed (``allowed_in: []``),
    with an ``instead`` text that tells the customer where to go, on a running process."""
    control = require(c, control_id)
    return state.active and not control.allowed_in and control.instead is not None


def refuse_unless_allowed(
    c: Compiled, state: ProcessState, control_id: str, role: str, now: datetime
) -> None:
    """Raise ActionRefused with the reason ``check`` gives, if it says no."""
    verdict = check(c, state, control_id, role, now)
    if not verdict.allowed:
        assert verdict.code is not None and verdict.reason is not None
        raise ActionRefused(verdict.code, verdict.reason, verdict.instead, verdict.until)


def validate_params(
    c: Compiled, state: ProcessState, control: Control, params: JSON, now: datetime
) -> JSON:
    """The action's inputs, normalised; raises ActionRefused listing every problem."""
    problems: list[FieldProblem] = []
    clean: JSON = {}
    for name in sorted(set(params) - set(control.params)):
        problems.append(FieldProblem(name, "unknown_param", PARAM_PROBLEMS["unknown_param"]))
    anchors = c.anchors(state, now)
    for name, declared in control.params.items():
        param = param_for(c, state, declared, now, params)
        value = params.get(name)
        if value in (None, ""):
            if param.required:
                problems.append(FieldProblem(name, "required", PARAM_PROBLEMS["required"]))
            continue
        problem, normalised = _check_param(c, state, param, value, anchors)
        if problem is not None:
            problems.append(FieldProblem(name, problem[0], problem[1]))
        else:
            clean[name] = normalised
    if problems:
        instead = _instead(c, state, control)
        raise ActionRefused(
            "invalid_params", REFUSALS["invalid_params"], instead, problems=problems
        )
    return clean


Problem = tuple[str, Localized]

#: The longest text a history line keeps of what someone typed.
SAID_LIMIT = 200


def said(control: Control, params: JSON) -> dict[str, str]:
    """What a person told us through ``control``'s choices and texts (e.g. why they
    postpone), for the history; dates and documents show elsewhere."""
    return {
        name: str(params[name])[:SAID_LIMIT]
        for name, param in control.params.items()
        if param.type in ("choice", "text") and params.get(name) not in (None, "")
    }


def said_line(control: Control, said: dict[str, str], lang: str) -> str:
    """A control's history line with what the person told us: "Change the date — Reason:
    I am travelling · Tell us more: back on the 20th"."""
    parts: list[str] = []
    for name, value in said.items():
        param = control.params.get(name)
        if param is None:
            continue
        shown = param.choices[value].get(lang) if value in param.choices else value
        parts.append(f"{param.title.get(lang)}: {shown}")
    title = control.title.get(lang)
    return f"{title} — {' · '.join(parts)}" if parts else title


def param_for(
    c: Compiled, state: ProcessState, param: Param, now: datetime, params: JSON | None = None
) -> Param:
    """``param`` with the bounds of its first case whose ``when`` holds for ``state`` at
    ``now`` and the action's ``params`` (``param`` itself when none does)."""
    for case in param.cases:
        if guard_holds(c, case.when, state, now, params=params or {}):
            changes = {
                name: getattr(case, name) for name in case.model_fields_set if name != "when"
            }
            return param.model_copy(update=changes)
    return param


def _check_param(
    c: Compiled, state: ProcessState, param: Param, value: Any, anchors: dict[str, datetime | None]
) -> tuple[Problem | None, Any]:
    if param.type in ("choice", "bool", "text", "document"):
        return _check_plain(param, value)
    moment = _parse_moment(param, value, c.calendar.tz)
    if moment is None or not within_span(moment):
        code = "invalid_date" if param.type == "date" else "invalid_datetime"
        return (code, PARAM_PROBLEMS[code]), None
    problem = _calendar_problem(c, param, moment) or _bound_problem(
        c, state, param, moment, anchors
    )
    if problem is not None:
        return problem, None
    return None, iso(moment)


def _check_plain(param: Param, value: Any) -> tuple[Problem | None, Any]:
    """A choice, a yes/no or a text: the value as kept, or why it is refused."""
    if param.type == "choice":
        if not isinstance(value, str) or value not in param.choices:
            return ("invalid_choice", PARAM_PROBLEMS["invalid_choice"]), None
        return None, value
    if param.type == "bool":
        if not isinstance(value, bool):
            return ("invalid_format", PARAM_PROBLEMS["invalid_format"]), None
        return None, value
    text = str(value).strip()
    if param.pattern and not re.fullmatch(param.pattern, text):
        return ("invalid_format", PARAM_PROBLEMS["invalid_format"]), None
    return None, text


def _parse_moment(param: Param, value: Any, tz: tzinfo) -> datetime | None:
    """A date (at the parameter's time of day) or a datetime, in the calendar's zone when
    it names none; ``None`` when it does not parse."""
    try:
        if param.type == "date":
            day = date.fromisoformat(str(value))
            clock = time.fromisoformat(param.at) if param.at else time(0, 0)
            return datetime.combine(day, clock, tzinfo=tz)
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def _calendar_problem(c: Compiled, param: Param, moment: datetime) -> Problem | None:
    """Outside the allowed hours, on a weekend or on a holiday the parameter excludes."""
    calendar = c.calendar
    local_day = calendar.local(moment).date()
    if param.type == "datetime" and param.between is not None:
        clock = calendar.local(moment).time().replace(tzinfo=None)
        opens, closes = (time.fromisoformat(bound) for bound in param.between)
        if not opens <= clock <= closes:
            template = PARAM_PROBLEMS["outside_hours"]
            start, end = param.between
            hours = Localized(
                es=template.es.replace("{from}", start).replace("{to}", end),
                en=template.en.replace("{from}", start).replace("{to}", end),
            )
            return "outside_hours", hours
    if "weekends" in param.not_on and local_day.weekday() >= 5:
        return "weekend", PARAM_PROBLEMS["weekend"]
    if "holidays" in param.not_on and calendar.is_holiday(local_day):
        template = PARAM_PROBLEMS["holiday"]
        named = Localized(
            es=template.es.replace("{name}", calendar.holiday_name(local_day, "es") or ""),
            en=template.en.replace("{name}", calendar.holiday_name(local_day, "en") or ""),
        )
        return "holiday", named
    return None


def _bound_problem(
    c: Compiled,
    state: ProcessState,
    param: Param,
    moment: datetime,
    anchors: dict[str, datetime | None],
) -> Problem | None:
    """Before the parameter's ``min`` or after its ``max`` (by day for dates)."""
    calendar = c.calendar
    local_day = calendar.local(moment).date()
    for bound, code in ((param.min, "too_early"), (param.max, "too_late")):
        if bound is None:
            continue
        limit = c.rule(bound).evaluate(anchors, calendar)
        if limit is None:
            continue
        if param.type == "date":
            limit_day = calendar.local(limit).date()
            outside = local_day < limit_day if code == "too_early" else local_day > limit_day
        else:
            outside = moment < limit if code == "too_early" else moment > limit
        if outside:
            style = "datetime" if param.type == "datetime" else "date"
            message = fill_moment(PARAM_PROBLEMS[code], "bound", limit, state.timezone, style=style)
            return code, message
    return None


def date_bounds(
    c: Compiled, state: ProcessState, param: Param, now: datetime
) -> tuple[date | None, date | None]:
    """The first and last local day a ``date`` or ``datetime`` parameter accepts at ``now``
    (``None`` where it has no bound or the bound is not known yet), so a form can offer
    only those days; ``validate_params`` still decides."""
    anchors = c.anchors(state, now)
    days: list[date | None] = []
    for bound in (param.min, param.max):
        limit = c.rule(bound).evaluate(anchors, c.calendar) if bound else None
        days.append(c.calendar.local(limit).date() if limit is not None else None)
    return days[0], days[1]
