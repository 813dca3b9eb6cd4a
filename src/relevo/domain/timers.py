"""Which timers a process wants armed: SLA breaches, deadlines and reminders.

Timers are a function of the state (stage, status, dates, the attributes their guards read)
and of the clock; ``plan_timers`` turns the difference between two states into the timers to
arm and to cancel, so a reminder never outlives what it reminds about and a deadline that
has fired is not armed again.
"""

from __future__ import annotations

from datetime import datetime

from relevo.domain.calendars import get_calendar
from relevo.domain.compiled import Compiled
from relevo.domain.guards import guard_holds
from relevo.domain.model import ProcessState, iso, parse_iso
from relevo.domain.shapes import TimerPlan


def plan_timers(c: Compiled, before: ProcessState, after: ProcessState, now: datetime) -> TimerPlan:
    """Which timers to arm or re-arm and which to cancel, for the process as ``after``.

    Timers are a function of state: the current stage's SLA, the definition's deadlines
    active in that stage, and reminders still in the future. Anything armed before that is
    no longer wanted is cancelled, so a reminder never outlives what it reminds about.
    A timer that ``before`` already wanted at the same due but no longer has armed has fired:
    it is not armed again, so an SLA breach or a deadline happens once.
    """
    wanted = _wanted_timers(c, after, now)
    spent: dict[str, str] | None = None
    armed: dict[str, str] = {}
    for name, due in wanted.items():
        if before.timers.get(name) == due:
            continue
        if name not in before.timers and _could_be_wanted(c, before, name):
            if spent is None:
                spent = _wanted_timers(c, before, now)
            if spent.get(name) == due:
                continue
        armed[name] = due
    # A parked message's expiry is no function of the definition: it stays until it fires
    # or the message leaves (see ``parking``).
    cancelled = sorted(
        name for name in before.timers if name not in wanted and not name.startswith("park:")
    )
    plan: TimerPlan = {}
    if armed:
        plan["set"] = armed
    if cancelled:
        plan["cancel"] = cancelled
    return plan


def _could_be_wanted(c: Compiled, before: ProcessState, name: str) -> bool:
    """Whether ``before`` could have wanted timer ``name`` at all (cheap pre-check before
    recomputing its timers): an SLA belongs to its own stage, a deadline or reminder to the
    stages it is active in."""
    return before.active and name in c.timer_names(before.stage)


def _wanted_timers(c: Compiled, after: ProcessState, now: datetime) -> dict[str, str]:
    """Every timer the process wants armed in ``after`` at ``now``, with its due moment."""
    wanted: dict[str, str] = {}
    if after.active:
        anchors = c.anchors(after, now)
        stage = c.stages.get(after.stage)
        entered = anchors.get("entered")
        if stage is not None and entered is not None:
            for sla in stage.sla:
                if guard_holds(c, sla.when, after, now):
                    calendar = get_calendar(sla.calendar) if sla.calendar else c.calendar
                    wanted[f"sla:{stage.id}"] = iso(
                        c.duration(sla.within).add_to(entered, calendar)
                    )
                    break
        for timer, rule in c.timers_in(after.stage):
            if guard_holds(c, timer.when, after, now):
                due = rule.evaluate(anchors, c.calendar)
                if due is not None:
                    wanted[f"timer:{timer.id}"] = iso(due)
        for notification, rule in c.reminders_in(after.stage):
            if not guard_holds(c, notification.when, after, now):
                continue
            due = rule.evaluate(anchors, c.calendar)
            if due is not None and due > now:
                wanted[f"notify:{notification.template}"] = iso(due)
    return wanted


def drop_due_reminders(state: ProcessState, now: datetime) -> TimerPlan:
    """Timers are a function of stage, status, dates and guarded attributes: when none of
    those changed they stay as armed, except reminders whose moment has passed (a late
    reminder must not go out). Same result as ``plan_timers``, without recomputing."""
    due = [
        name
        for name, moment in state.timers.items()
        if name.startswith("notify:") and parse_iso(moment) <= now
    ]
    return {"cancel": sorted(due)} if due else {}
