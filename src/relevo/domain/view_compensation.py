"""What the customer is owed when a deadline is missed: the compensation rows of the view."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from babel.numbers import format_currency

from relevo.domain.compiled import Compiled
from relevo.domain.definitions import Compensation
from relevo.domain.model import JSON, ProcessState, parse_iso
from relevo.domain.operator_terms import CompensationRight
from relevo.domain.rendering import render
from relevo.domain.texts import COMPENSATION_ABOVE_MINIMUM, COMPENSATION_BASIS


def compensation_rows(c: Compiled, state: ProcessState, now: datetime, lang: str) -> list[JSON]:
    """Every compensation ``state`` has earned by ``now``, in ``lang``: a date-based one
    counts only the time after its date spent in its ``while_in`` stages. Amounts come from
    the operator's terms (``c.terms``); a rule whose right they lack is not shown (the
    catalog refuses to load such a definition)."""
    rows = []
    for comp_id, rule in c.definition.compensation.items():
        right = c.terms.compensation.get(rule.right)
        if right is None:
            continue
        if rule.on_incident is not None:
            # Counted on the incident itself: the history kept in state is bounded.
            incident = state.incidents.get(rule.on_incident)
            occurrences = incident.get("occurrences", 0) if incident is not None else 0
            if occurrences:
                rows.append(_owed(c, state, lang, comp_id, rule, right, occurrences))
            continue
        start = state.dates.get(rule.after or "")
        visits = [visit for visit in state.stage_history if visit["stage"] in rule.while_in]
        if start is None or not visits:
            # Owed only for time spent in its stages: a process that never got there
            # (still "requested", say) is owed nothing, whatever its dates say.
            continue
        begin = max(parse_iso(start["at"]), parse_iso(visits[0]["entered_at"]))
        end = now if state.active else parse_iso(state.updated_at)
        left = _left_stages_at(state, rule.while_in)
        if left is not None:
            end = min(end, left)
        if end <= begin:
            continue
        if rule.per == "once":
            units = 1
        elif rule.per == "day":
            units = (end - begin).days
        else:
            units = _working_days_between(c, begin, end)
        if units > 0:
            rows.append(_owed(c, state, lang, comp_id, rule, right, units))
    return rows


def _owed(
    c: Compiled,
    state: ProcessState,
    lang: str,
    comp_id: str,
    rule: Compensation,
    right: CompensationRight,
    units: int,
) -> JSON:
    amount = right.amount * units
    if right.cap is not None:
        amount = min(amount, right.cap)
    explanation = render(rule.explanation, c, state, lang)
    return {
        "id": comp_id,
        "title": rule.title.get(lang),
        "explanation": f"{explanation} {_basis_text(right, lang)}",
        "amount": str(amount.quantize(Decimal("0.01"))),
        "currency": right.currency,
        "units": units,
        "right": rule.right,
        "basis": right.basis,
        "regulatory_minimum": (
            None if right.regulatory_minimum is None else str(right.regulatory_minimum)
        ),
        "verify": "; ".join(note for note in (right.verify, rule.verify) if note) or None,
    }


def _basis_text(right: CompensationRight, lang: str) -> str:
    """Says whether the amount is set by regulation or is our own commitment."""
    if right.basis == "commitment" and right.regulatory_minimum is not None:
        minimum = format_currency(
            right.regulatory_minimum, right.currency, locale="en" if lang == "en" else "es"
        )
        return COMPENSATION_ABOVE_MINIMUM.get(lang).replace("{minimum}", minimum)
    return COMPENSATION_BASIS[right.basis].get(lang)


def _left_stages_at(state: ProcessState, stages: list[str]) -> datetime | None:
    if state.stage in stages and state.active:
        return None
    last_left: str | None = None
    for visit in state.stage_history:
        if visit["stage"] in stages:
            last_left = visit.get("left_at") or state.updated_at
    return parse_iso(last_left) if last_left else None


def _working_days_between(c: Compiled, begin: datetime, end: datetime) -> int:
    count = 0
    moment = c.calendar.add_working_days(begin, 1)
    while moment <= end and count < 366:
        count += 1
        moment = c.calendar.add_working_days(moment, 1)
    return count
