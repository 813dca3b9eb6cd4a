"""The status view: what a person reads about one process, in Spanish or English.

Built from state + definition + clock + language, and nothing else, so the API, the customer
page and the agent console's "as the customer sees it" panel show the same truth.
"""

from __future__ import annotations

from datetime import datetime

from relevo.domain import controls
from relevo.domain.compiled import Compiled
from relevo.domain.definitions import Task
from relevo.domain.formatting import moment_text
from relevo.domain.model import JSON, ProcessState, Status, parse_iso
from relevo.domain.rendering import placeholder, render
from relevo.domain.shapes import TaskEntry, Tick
from relevo.domain.texts import (
    ACTORS,
    HISTORY_LINES,
    REQUIREMENT_STATES,
    STAGE_STATES,
    STATUSES,
    WAITING_MESSAGE,
)
from relevo.domain.view_compensation import compensation_rows
from relevo.domain.view_late import (
    announced,
    awaited_dates,
    dates_in,
    entered_at,
    late_text,
    passed,
    sla_due,
)

__all__ = ["build_view", "render"]


def build_view(
    c: Compiled, state: ProcessState, now: datetime, lang: str, role: str = "customer"
) -> JSON:
    """The full status view of ``state`` at ``now`` in ``lang`` (``es`` or ``en``)."""
    lang = "en" if lang == "en" else "es"
    definition = c.definition
    stage = c.stages.get(state.stage)
    owed = compensation_rows(c, state, now, lang)
    headline, headline_date, headline_late = _headline(c, state, now, lang, owed)
    return {
        "id": state.id,
        "kind": state.kind,
        "definition_version": state.definition_version,
        "language": lang,
        "title": definition.title.get(lang),
        "subject": {"label": definition.subject.label.get(lang), "value": state.subject},
        "customer_id": state.customer_id,
        "status": state.status,
        "status_label": STATUSES[state.status].get(lang),
        "headline": headline,
        "headline_date": headline_date,
        "headline_late": headline_late,
        "outcome": _outcome(c, state, lang),
        "stage": None
        if stage is None
        else {
            "id": stage.id,
            "title": stage.title.get(lang),
            "description": stage.description.get(lang),
            "actor": stage.actor,
            "actor_label": ACTORS[stage.actor].get(lang),
        },
        "stages": _stages(c, state, now, lang),
        "next": _next(c, state, now, lang, owed),
        "needed": _needed(c, state, lang),
        "incidents": _incidents(c, state, lang),
        "controls": _controls(c, state, now, lang, role),
        "dates": _dates(c, state, now, lang),
        "tasks": _tasks(c, state, lang, role),
        "compensation": owed,
        "history": _waiting(state, lang, role) + _history(c, state, lang),
        "keys": dict(state.keys),
        "created_at": state.created_at,
        "updated_at": state.updated_at,
        "version": state.version,
    }


def _headline(
    c: Compiled, state: ProcessState, now: datetime, lang: str, owed: list[JSON]
) -> tuple[str, str | None, bool]:
    """The headline, the date it announces, and whether that date passed without the step
    happening (then the headline says so instead of announcing it)."""
    if state.status != Status.ACTIVE.value:
        outcome = c.definition.outcomes[state.status]  # type: ignore[index]
        return render(outcome.headline, c, state, lang), None, False
    stage = c.stages[state.stage]
    headline = stage.headline
    since = entered_at(state)
    for code in state.open_incidents():
        override = c.definition.incidents[code].headline
        if override is not None:
            headline, since = override, state.incidents[code]["opened_at"]
            break
    text = headline.get(lang)
    for name in announced(text, state, since):
        entry = state.dates[name]
        if passed(entry, now):
            style = "date" if entry.get("end") else "datetime"
            late = late_text(
                state, stage, parse_iso(entry["at"]), style, owed, lang, c.calendar.timezone
            )
            return late, entry["at"], True
    date_name = next(iter(dates_in(text, state)), None)
    headline_date = state.dates[date_name]["at"] if date_name else None
    return render(headline, c, state, lang), headline_date, False


def _outcome(c: Compiled, state: ProcessState, lang: str) -> str | None:
    if state.status == Status.ACTIVE.value:
        return None
    outcome = c.definition.outcomes[state.status]  # type: ignore[index]
    return render(outcome.description, c, state, lang)


def _stages(c: Compiled, state: ProcessState, now: datetime, lang: str) -> list[JSON]:
    entered: dict[str, str] = {}
    for visit in state.stage_history:
        entered[visit["stage"]] = visit["entered_at"]
    current_index = c.stage_order.get(state.stage, 0)
    finished = state.status == Status.COMPLETED.value
    stopped = state.status in (Status.CANCELLED.value, Status.FAILED.value)
    rows: list[JSON] = []
    for index, stage in enumerate(c.definition.stages):
        if finished or index < current_index:
            status = "done" if stage.id in entered or finished else "skipped"
        elif index == current_index:
            status = "stopped" if stopped else "current"
        else:
            status = "not_reached" if stopped else "pending"
        # A pending stage shows only a planned date, never that of an earlier visit.
        date_value: str | None = None if status == "pending" else entered.get(stage.id)
        date_kind = "actual" if date_value else None
        late = False
        if status == "pending" and stage.next_date and stage.next_date in state.dates:
            planned = state.dates[stage.next_date]
            date_value = planned["at"]
            date_kind = "confirmed" if planned["confirmed"] else "estimated"
            late = passed(planned, now)
        rows.append(
            {
                "id": stage.id,
                "title": stage.title.get(lang),
                "description": stage.description.get(lang),
                "actor": stage.actor,
                "actor_label": ACTORS[stage.actor].get(lang),
                "state": status,
                "state_label": STAGE_STATES[status].get(lang),
                "date": date_value,
                "date_kind": date_kind,
                "late": late,
            }
        )
    return rows


def _next(
    c: Compiled, state: ProcessState, now: datetime, lang: str, owed: list[JSON]
) -> JSON | None:
    """Who acts next, what they do and by when; a step whose moment has passed says it is
    late and what we do about it instead."""
    if state.status != Status.ACTIVE.value:
        return None
    for code in state.open_incidents():
        incident = c.definition.incidents[code]
        if incident.owner == "customer":
            return {
                "who": "customer",
                "who_label": ACTORS["customer"].get(lang),
                "what": render(incident.what_you_can_do, c, state, lang),
                "when": None,
                "confirmed": None,
                "late": False,
            }
    stage = c.stages[state.stage]
    when: str | None = None
    confirmed: bool | None = None
    late = False
    if stage.next_date:
        planned = state.dates.get(stage.next_date)
        if planned is not None:
            when, confirmed, late = planned["at"], planned["confirmed"], passed(planned, now)
    else:
        # Without a date of its own, the stage's SLA says by when it should move on.
        when = sla_due(state, stage)
        if when:
            confirmed, late = False, parse_iso(when) < now
    if late and when is not None:
        what = late_text(state, stage, parse_iso(when), "datetime", owed, lang, c.calendar.timezone)
    else:
        what = render(stage.next_step or stage.description, c, state, lang)
    return {
        "who": stage.actor,
        "who_label": ACTORS[stage.actor].get(lang),
        "what": what,
        "when": when,
        "confirmed": confirmed,
        "late": late,
    }


def _needed(c: Compiled, state: ProcessState, lang: str) -> list[JSON]:
    rows = []
    for requirement_id, entry in state.requirements.items():
        requirement = c.definition.requirements[requirement_id]
        rows.append(
            {
                "id": requirement_id,
                "title": requirement.title.get(lang),
                "description": requirement.description.get(lang),
                "kind": requirement.kind,
                "state": entry["state"],
                "state_label": REQUIREMENT_STATES[entry["state"]].get(lang),
                "reason": entry.get("reason"),
                "updated_at": entry.get("updated_at"),
                "action_needed": entry["state"] in ("missing", "rejected"),
            }
        )
    return rows


def _incidents(c: Compiled, state: ProcessState, lang: str) -> list[JSON]:
    rows = []
    for code, entry in state.incidents.items():
        incident = c.definition.incidents[code]
        rows.append(
            {
                "code": code,
                "status": entry["status"],
                "title": render(incident.title, c, state, lang),
                "what_happened": render(incident.what_happened, c, state, lang),
                "what_we_do": render(incident.what_we_do, c, state, lang),
                "what_you_can_do": render(incident.what_you_can_do, c, state, lang),
                "owner": incident.owner,
                "owner_label": ACTORS[incident.owner].get(lang),
                "options": list(incident.options),
                "opened_at": entry["opened_at"],
                "resolved_at": entry.get("resolved_at"),
            }
        )
    rows.sort(key=lambda row: (row["status"] != "open", row["opened_at"]))
    return rows


def _controls(c: Compiled, state: ProcessState, now: datetime, lang: str, role: str) -> list[JSON]:
    rows = []
    for control_id, control in c.definition.controls.items():
        if role not in control.actors and role != "agent":
            continue
        verdict = controls.check(c, state, control_id, role, now)
        rows.append(
            {
                "id": control_id,
                "title": control.title.get(lang),
                "description": render(control.description, c, state, lang),
                "allowed": verdict.allowed,
                # False: never usable by this role on this process again (an ended process,
                # or allowed in no stage it can still reach); pages do not list it, unless
                # it is guidance (below).
                "possible": verdict.allowed or controls.still_possible(c, state, control_id, role),
                # A control never allowed that a definition declares to tell the customer
                # where to go instead (a port-out's cancel is the new provider's): listed
                # with its advice while the process runs.
                "guidance": controls.is_guidance(c, state, control_id),
                "reason_code": verdict.code,
                "reason": verdict.reason.get(lang) if verdict.reason else None,
                "until": verdict.until,
                "instead": verdict.instead.get(lang) if verdict.instead else None,
                "irreversible": control.irreversible,
                "params": {
                    name: {
                        "type": param.type,
                        "title": param.title.get(lang),
                        "required": controls.param_for(c, state, param, now).required,
                        "choices": {k: v.get(lang) for k, v in param.choices.items()},
                    }
                    for name, param in control.params.items()
                },
            }
        )
    return rows


def _tasks(c: Compiled, state: ProcessState, lang: str, role: str) -> list[JSON]:
    """Back-office tasks for agents; customers see only the checklists meant for them."""
    rows = []
    for task_id, entry in state.tasks.items():
        task = c.definition.tasks[task_id]
        if role == "customer" and not task.customer:
            continue
        rows.append(
            {
                "id": task_id,
                "title": task.title.get(lang),
                "team": task.team,
                "status": entry["status"],
                "due_at": entry.get("due_at"),
                "opened_at": entry["opened_at"],
                "closed_at": entry.get("closed_at"),
                "checklist": _checklist(task, entry.get("checked", {}), lang, role),
                "code": _task_code(task, entry, lang, role),
            }
        )
    return rows


def _task_code(task: Task, entry: TaskEntry, lang: str, role: str) -> JSON | None:
    """The code recorded on the task (e.g. a root cause); who recorded it only for agents."""
    code = entry.get("code")
    by = code["by"] if code is not None and role != "customer" else None
    return code and {"id": code["code"], "title": task.codes[code["code"]].get(lang), "by": by}


def _checklist(task: Task, checked: dict[str, Tick], lang: str, role: str) -> list[JSON]:
    """The task's checklist items; customers do not see who ticked them."""
    rows: list[JSON] = []
    for item in task.checklist:
        tick = checked.get(item.id)
        rows.append(
            {
                "id": item.id,
                "title": item.title.get(lang),
                "done": tick is not None,
                "by": tick["by"] if tick is not None and role != "customer" else None,
                "at": tick["at"] if tick is not None else None,
            }
        )
    return rows


def _dates(c: Compiled, state: ProcessState, now: datetime, lang: str) -> list[JSON]:
    """The visible dates; ``late`` marks one the current step waits for that has passed."""
    awaited = awaited_dates(c, state, lang)
    rows: list[JSON] = []
    for name, date_def in c.definition.dates.items():
        entry = state.dates.get(name)
        if entry is None or not date_def.visible:
            continue
        rows.append(
            {
                "id": name,
                "title": date_def.title.get(lang),
                "at": entry["at"],
                "end": entry.get("end"),
                "confirmed": entry["confirmed"],
                "text": placeholder(name + ".datetime", c, state, lang),
                "late": name in awaited and passed(entry, now),
            }
        )
    rows.sort(key=lambda row: row["at"])
    return rows


def _waiting(state: ProcessState, lang: str, role: str) -> list[JSON]:
    """For agents, the messages waiting for a later stage, newest first (customers do not
    see message types)."""
    if role == "customer" or not state.parked:
        return []
    rows: list[JSON] = []
    for entry in reversed(state.parked):
        until = moment_text(parse_iso(entry["expires_at"]), lang, "datetime", state.timezone)
        text = WAITING_MESSAGE.get(lang).replace("{type}", entry["type"])
        rows.append(
            {
                "at": entry["received_at"],
                "kind": "waiting",
                "ref": entry["type"],
                "text": text.replace("{until}", until),
                "by": None,
            }
        )
    return rows


def _history(c: Compiled, state: ProcessState, lang: str) -> list[JSON]:
    """What happened, newest first: stages entered, incidents opened and resolved, controls
    used and the definition's labelled steps."""
    rows: list[JSON] = []
    definition = c.definition
    entered: set[str] = set()
    for entry in state.history:
        kind, ref = entry["kind"], entry["ref"]
        text: str
        if kind == "stage" and ref in c.stages:
            text = c.stages[ref].title.get(lang)
            if ref in entered:
                text = HISTORY_LINES["back_to"].get(lang).replace("{title}", text)
            entered.add(ref)
        elif kind == "incident" and ref in definition.incidents:
            text = render(definition.incidents[ref].title, c, state, lang)
        elif kind == "incident_resolved" and ref in definition.incidents:
            title = render(definition.incidents[ref].title, c, state, lang)
            text = HISTORY_LINES["resolved"].get(lang).replace("{title}", title)
        elif kind == "control" and ref in definition.controls:
            text = controls.said_line(definition.controls[ref], entry.get("said", {}), lang)
        elif kind == "step" and (label := c.label_of(ref)) is not None:
            text = label.get(lang)
        else:
            continue
        rows.append(
            {"at": entry["at"], "kind": kind, "ref": ref, "text": text, "by": entry.get("role")}
        )
    rows.reverse()
    return rows
