"""Customer-facing text with its placeholders filled from a process.

``{date}`` is the long date, ``{date.time}`` / ``{date.end_time}`` the times,
``{date.datetime}`` both (only the date for a date given as a day), ``{attributes.x}`` an
attribute (``{attributes.x.money}`` as an amount in euros), ``{subject}`` the subject,
``{commitments.x}`` the length of the operator's commitment ``x`` ("15 días laborables"), so
a text stays true to the operator's terms.
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import format_currency

from relevo.domain.compiled import Compiled
from relevo.domain.definitions import Localized
from relevo.domain.definitions.base import PLACEHOLDER
from relevo.domain.formatting import duration_text, moment_text
from relevo.domain.model import ProcessState, parse_iso


def render(text: Localized, c: Compiled, state: ProcessState, lang: str) -> str:
    """``text`` in ``lang`` with its placeholders filled from the process.

    ``{date}`` is the long date, ``{date.time}`` / ``{date.end_time}`` the times,
    ``{date.datetime}`` both, ``{attributes.x}`` an attribute, ``{subject}`` the subject,
    ``{commitments.x}`` the length of the operator's commitment. A placeholder whose value
    is not known yet renders as "—" rather than failing.
    """

    def fill(match: re.Match[str]) -> str:
        return placeholder(match.group(1), c, state, lang)

    return PLACEHOLDER.sub(fill, text.get(lang))


def rendered(text: Localized, c: Compiled, state: ProcessState) -> Localized:
    """``text`` with its placeholders filled in both languages (``text`` itself when it
    has none), for a text that travels on before its language is known."""
    if "{" not in text.es and "{" not in text.en:
        return text
    return Localized(es=render(text, c, state, "es"), en=render(text, c, state, "en"))


def placeholder(name: str, c: Compiled, state: ProcessState, lang: str) -> str:
    """The value of placeholder ``name`` (without braces) for ``state``, "—" when unknown."""
    if name == "subject":
        return state.subject
    head, _, part = name.partition(".")
    if head == "commitments":
        length = c.commitments.get(part)
        return "—" if length is None else duration_text(length.amount, length.unit, lang)
    if head == "attributes":
        name, _, style = part.partition(".")
        value = state.attributes.get(name)
        if value is None:
            return "—"
        if style == "money":
            try:
                return format_currency(Decimal(str(value)), "EUR", locale=lang)
            except ArithmeticError:
                return str(value)
        return str(value)
    entry = state.dates.get(head)
    if entry is None:
        return "—"
    if part == "end_time":
        if not entry.get("end"):
            return "—"
        return moment_text(parse_iso(entry["end"]), lang, "time", state.timezone)
    style = {"": "date", "time": "time", "datetime": "datetime"}.get(part, "date")
    # A date given as a day reads as that day in every channel, never "at 00:00".
    return moment_text(parse_iso(entry["at"]), lang, style, state.timezone, c.calendar.timezone)
