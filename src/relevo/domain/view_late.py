"""Planned dates that have passed: the status view never announces a past date as the future.

When the moment a step was planned for (a date of the process, the end of its window when
it has one, or the stage's SLA) is before the clock and the event that should have followed
has not come, the view says the step is late, what we are doing about it and what the
customer is owed so far, instead of the stage's own future-tense wording.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from babel.numbers import format_currency

from relevo.domain.compiled import Compiled
from relevo.domain.definitions import Stage
from relevo.domain.definitions.base import PLACEHOLDER
from relevo.domain.formatting import moment_text, zone
from relevo.domain.model import JSON, ProcessState, parse_iso
from relevo.domain.shapes import DateEntry
from relevo.domain.texts import CHASED, CHASING, LATE_STEP, OWED, WAITING_FOR_YOU, WORKING_ON_IT


def deadline(entry: DateEntry) -> datetime:
    """The moment by which a planned date has happened: the end of its window, if it has one."""
    return parse_iso(entry.get("end") or entry["at"])


def passed(entry: DateEntry, now: datetime) -> bool:
    """Whether the planned date ``entry`` (its whole window) is before ``now``."""
    return deadline(entry) < now


def dates_in(text: str, state: ProcessState) -> list[str]:
    """The process dates a definition text names (``{switch_window.time}`` names
    ``switch_window``), in order, those the process has."""
    names = [match.group(1).split(".")[0] for match in PLACEHOLDER.finditer(text)]
    return [name for name in dict.fromkeys(names) if name in state.dates]


def announced(text: str, state: ProcessState, since: str) -> list[str]:
    """The dates ``text`` announces: those it names that were still ahead when it started
    to apply (``since``). A date already past then ("supplied since Monday") is a fact the
    text reports, never a plan that can be late."""
    start = parse_iso(since)
    return [name for name in dates_in(text, state) if deadline(state.dates[name]) > start]


def entered_at(state: ProcessState) -> str:
    """When the process entered its current stage (this stay)."""
    return state.stage_history[-1]["entered_at"] if state.stage_history else state.created_at


def awaited_dates(c: Compiled, state: ProcessState, lang: str) -> set[str]:
    """The dates the current stage is waiting for: its planned date and those its headline
    announces (none once the process has ended)."""
    stage = c.stages.get(state.stage)
    if not state.active or stage is None:
        return set()
    names = set(announced(stage.headline.get(lang), state, entered_at(state)))
    if stage.next_date:
        names.add(stage.next_date)
    return names


def sla_due(state: ProcessState, stage: Stage) -> str | None:
    """By when ``stage`` should have moved on by its SLA: the armed timer, or the due of a
    breach already recorded during the current stay in the stage."""
    due = state.timers.get(f"sla:{stage.id}")
    if due:
        return due
    breached = state.attributes.get(f"sla_breached_{stage.id}")
    if isinstance(breached, str) and breached >= entered_at(state):
        return breached
    return None


def late_text(
    state: ProcessState,
    stage: Stage,
    since: datetime,
    style: str,
    owed: list[JSON],
    lang: str,
    day_zone: str,
) -> str:
    """Says the step of ``stage`` planned for ``since`` is late, what we do about it, and
    what the customer is owed so far (``owed``: the view's compensation rows); a step
    planned for a day (in the calendar's zone ``day_zone``) names only that day."""
    local = since.astimezone(zone(day_zone))
    if (local.hour, local.minute) == (23, 59):
        style = "date"  # the end of a whole day: "was due on Monday", not "at 23:59"
    date = moment_text(since, lang, style, state.timezone, day_zone)
    parts = [LATE_STEP.get(lang).replace("{date}", date), _what_we_do(stage.actor, lang)]
    amount = _owed_amount(owed, lang)
    if amount is not None:
        parts.append(OWED.get(lang).replace("{amount}", amount))
    return " ".join(parts)


def _what_we_do(actor: str, lang: str) -> str:
    if actor in CHASED:
        return CHASING.get(lang).replace("{who}", CHASED[actor].get(lang))
    if actor == "customer":
        return WAITING_FOR_YOU.get(lang)
    return WORKING_ON_IT.get(lang)


def _owed_amount(owed: list[JSON], lang: str) -> str | None:
    """The compensation owed so far, written as an amount (``None`` when nothing is owed)."""
    if not owed:
        return None
    currency = owed[0]["currency"]
    total = sum((Decimal(row["amount"]) for row in owed if row["currency"] == currency), Decimal())
    return format_currency(total, currency, locale="en" if lang == "en" else "es")
