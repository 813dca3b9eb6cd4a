"""Durations and date rules: the small, safe language definitions use for time.

A *duration* is ``"<n> <unit>"`` with units ``minute(s)``, ``hour(s)``, ``working_hour(s)``,
``day(s)``, ``working_day(s)`` and ``week(s)``.

A *date rule* starts at an anchor (a named date of the process, or ``started``, ``entered``
for the current stage's entry, or ``now``), adds or subtracts durations, and may end with
``at HH:MM`` to set the local time of day in the calendar's zone::

    switch_window - 1 working_day at 14:00
    requested + 2 working_days at 02:00
    cancel_until - 5 hours

``earliest(a, b, …)`` and ``latest(a, b, …)`` name the earlier or later of several such
rules (each operand any date rule, or another ``earliest``/``latest``)::

    earliest(switch_window - 1 working_day at 14:00, contract_end)
    latest(now + 1 working_day, requested + 2 days)

Where the length is the operator's own commitment rather than a regulation's, a duration
names it instead of writing a number: ``commitments.correction working_days`` is the
operator's ``[commitments.correction]`` (``relevo.domain.operator_terms``), counted in the
unit written after it, which the operator's value must use. Parsed without the operator's
terms, such a duration only has its shape checked; the compiled definition resolves it.

Parsing happens when a definition is loaded, so a typo is reported with its file and line
rather than discovered while a customer waits.
"""

from __future__ import annotations

import calendar as calendar_module
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cached_property, lru_cache
from typing import ClassVar, Literal

from relevo.domain.calendars import WorkCalendar

UNITS = {
    "minute": "minute",
    "minutes": "minute",
    "hour": "hour",
    "hours": "hour",
    "working_hour": "working_hour",
    "working_hours": "working_hour",
    "day": "day",
    "days": "day",
    "working_day": "working_day",
    "working_days": "working_day",
    "week": "week",
    "weeks": "week",
    "month": "month",
    "months": "month",
}

#: Anchors every rule may use besides the definition's named dates.
BUILTIN_ANCHORS = frozenset({"started", "entered", "now"})

#: A duration's amount in the operator's terms: ``commitments.<name>`` in a number's place.
COMMITMENT_PREFIX = "commitments."
_AMOUNT = r"(\d+(?:\.\d+)?|commitments\.[a-z][a-z0-9_]*)"
_DURATION = re.compile(rf"^\s*{_AMOUNT}\s+([a-z_]+)\s*$")
_TERM = re.compile(rf"([+-])\s*{_AMOUNT}\s+([a-z_]+)")
_AT = re.compile(r"\s+at\s+(\d{1,2}):(\d{2})\s*$")
_ANCHOR = re.compile(r"^\s*([a-z][a-z0-9_]*)")
_CHOICE = re.compile(r"^\s*(earliest|latest)\s*\((.*)\)\s*$", re.DOTALL)


class RuleError(ValueError):
    """A duration or date rule that cannot be parsed; the message says what is expected."""


#: The operator's commitments by name, each the duration it gives (see ``Duration``).
Commitments = Mapping[str, "Duration"]


@dataclass(frozen=True)
class Duration:
    """An amount of calendar, clock or working time; ``commitment`` names the operator's
    commitment it comes from, and ``resolved`` is false while that amount is not known yet
    (parsed without the operator's terms: only its shape was checked)."""

    amount: float
    unit: str
    commitment: str | None = None
    resolved: bool = True

    @classmethod
    def parse(cls, text: str, commitments: Commitments | None = None) -> Duration:
        """Parse ``"<n> <unit>"`` or ``"commitments.<name> <unit>"``; raises RuleError with
        the accepted units otherwise. A commitment takes its amount from ``commitments``
        (RuleError if it is not there or counts another unit); without ``commitments`` it
        stays unresolved."""
        match = _DURATION.match(text)
        if not match or match.group(2) not in UNITS:
            raise RuleError(
                f"invalid duration {text!r}: write '<number> <unit>' (or "
                "'commitments.<name> <unit>') with a unit among "
                + ", ".join(sorted(set(UNITS.values())))
            )
        unit = UNITS[match.group(2)]
        if match.group(1).startswith(COMMITMENT_PREFIX):
            name = match.group(1).removeprefix(COMMITMENT_PREFIX)
            return cls._commitment(name, unit, commitments)
        amount = float(match.group(1))
        if unit in ("working_day", "month") and amount != int(amount):
            what = "working days" if unit == "working_day" else "months"
            raise RuleError(f"invalid duration {text!r}: {what} must be whole")
        return cls(amount, unit)

    @classmethod
    def _commitment(cls, name: str, unit: str, commitments: Commitments | None) -> Duration:
        if commitments is None:
            return cls(0, unit, name, resolved=False)
        given = commitments.get(name)
        if given is None:
            known = ", ".join(sorted(commitments)) or "none"
            raise RuleError(
                f"commitment {name!r} is not in the operator's terms (operator.toml); "
                f"known commitments: {known}"
            )
        if given.unit != unit:
            raise RuleError(
                f"commitment {name!r} is {given} in the operator's terms, but this definition "
                f"counts it in {unit}s: write the operator's value in {unit}s"
            )
        return cls(given.amount, unit, name)

    def add_to(self, moment: datetime, calendar: WorkCalendar, sign: int = 1) -> datetime:
        """``moment`` moved by this duration (backwards when ``sign`` is -1)."""
        if not self.resolved:
            raise RuleError(
                f"commitment {self.commitment!r} has no value: compile the definition with "
                "the operator's terms"
            )
        if self.unit == "working_day":
            return calendar.add_working_days(moment, sign * int(self.amount))
        if self.unit == "working_hour":
            if sign < 0:
                raise RuleError("working hours can only be added, not subtracted")
            return calendar.add_working_hours(moment, self.amount)
        if self.unit == "month":
            return _add_months(calendar.local(moment), sign * int(self.amount))
        if self.unit in ("day", "week"):
            days = self.amount * (7 if self.unit == "week" else 1)
            local = calendar.local(moment)
            # Calendar days keep the local wall-clock time across daylight-saving changes.
            moved = local.replace(tzinfo=None) + sign * timedelta(days=days)
            return moved.replace(tzinfo=calendar.tz)
        seconds = self.amount * (60 if self.unit == "minute" else 3600)
        # Clock time is elapsed time: add it in UTC, or an aware local moment would move by
        # wall-clock time and be an hour off across a daylight-saving change.
        return moment.astimezone(UTC) + sign * timedelta(seconds=seconds)

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        return f"{amount} {self.unit}s" if amount != 1 else f"{amount} {self.unit}"


def _add_months(local: datetime, months: int) -> datetime:
    """The same local time ``months`` calendar months later; the day is clamped to the
    month's last (31 January + 1 month = 28 or 29 February), as legal "one month" periods run."""
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar_module.monthrange(year, month + 1)[1]
    return local.replace(year=year, month=month + 1, day=min(local.day, last))


@dataclass(frozen=True)
class DateRule:
    """An anchor date, moved by durations, optionally set to a local time of day."""

    text: str
    anchor: str
    terms: tuple[tuple[int, Duration], ...]
    at: time | None

    @classmethod
    def parse(cls, text: str, commitments: Commitments | None = None) -> DateRule:
        """Parse a rule such as ``"switch_window - 1 working_day at 14:00"``; a term naming
        an operator's commitment takes its amount from ``commitments`` (see ``Duration``)."""
        rest = text
        at: time | None = None
        at_match = _AT.search(rest)
        if at_match:
            hour, minute = int(at_match.group(1)), int(at_match.group(2))
            if hour > 23 or minute > 59:
                raise RuleError(f"invalid time of day in rule {text!r}")
            at = time(hour, minute)
            rest = rest[: at_match.start()]
        anchor_match = _ANCHOR.match(rest)
        if not anchor_match:
            raise RuleError(
                f"invalid date rule {text!r}: start with a date name, 'started', 'entered' "
                "or 'now', e.g. 'switch_window - 1 working_day at 14:00', or write "
                "'earliest(a, b)' / 'latest(a, b)'"
            )
        anchor = anchor_match.group(1)
        rest = rest[anchor_match.end() :]
        if anchor in ("earliest", "latest") and rest.lstrip().startswith("("):
            raise RuleError(
                f"invalid date expression {text!r}: {anchor}(…) must be the whole expression; "
                f"move the terms into its operands, e.g. '{anchor}(a + 1 day, b + 1 day)'"
            )
        terms: list[tuple[int, Duration]] = []
        position = 0
        for term in _TERM.finditer(rest):
            if rest[position : term.start()].strip():
                break
            sign = 1 if term.group(1) == "+" else -1
            duration = Duration.parse(f"{term.group(2)} {term.group(3)}", commitments)
            if sign < 0 and duration.unit == "working_hour":
                raise RuleError(
                    f"invalid date rule {text!r}: working hours can only be added, not "
                    "subtracted; use hours or working days"
                )
            terms.append((sign, duration))
            position = term.end()
        if rest[position:].strip():
            raise RuleError(
                f"invalid date rule {text!r}: could not read {rest[position:].strip()!r}; "
                "terms look like '+ 1 working_day' or '- 5 hours'"
            )
        return cls(text, anchor, tuple(terms), at)

    @cached_property
    def anchors(self) -> frozenset[str]:
        """The dates this rule starts from: its anchor."""
        return frozenset((self.anchor,))

    def evaluate(
        self, anchors: Mapping[str, datetime | None], calendar: WorkCalendar
    ) -> datetime | None:
        """The moment this rule names, or None while its anchor date is not known yet."""
        moment = anchors.get(self.anchor)
        if moment is None:
            return None
        if not self.terms and self.at is None:
            return moment
        # Moments sharing one tzinfo compare equal whatever their fold, yet in a repeated
        # local hour they are different instants: the fold is part of the cache key.
        return _moved(self, moment, moment.fold, calendar)

    def __hash__(self) -> int:
        # Equal rules have equal texts; hashing the text alone keeps cache lookups cheap.
        return hash(self.text)

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class DateChoice:
    """The earlier (``earliest``) or later (``latest``) of several date expressions."""

    text: str
    pick: Literal["earliest", "latest"]
    options: tuple[DateExpr, ...]
    #: A choice has no single anchor (see ``anchors``); a ``DateRule`` has one.
    anchor: ClassVar[None] = None

    @cached_property
    def anchors(self) -> frozenset[str]:
        """Every date the options start from."""
        return frozenset(name for option in self.options for name in option.anchors)

    def evaluate(
        self, anchors: Mapping[str, datetime | None], calendar: WorkCalendar
    ) -> datetime | None:
        """The earliest or latest of the options that are known; None while none is."""
        known = [
            moment
            for option in self.options
            if (moment := option.evaluate(anchors, calendar)) is not None
        ]
        if not known:
            return None
        return min(known) if self.pick == "earliest" else max(known)

    def __str__(self) -> str:
        return self.text


#: A date expression: a rule, or the earliest/latest of several.
DateExpr = DateRule | DateChoice


def parse_date_expr(text: str, commitments: Commitments | None = None) -> DateExpr:
    """Parse a date rule or an ``earliest(…)``/``latest(…)`` of date expressions; raises
    RuleError saying what is expected. ``commitments`` resolves the operator's commitments
    the rule names (see ``Duration``)."""
    choice = _CHOICE.match(text)
    if choice is None:
        return DateRule.parse(text, commitments)
    pick: Literal["earliest", "latest"] = "earliest" if choice.group(1) == "earliest" else "latest"
    parts = _split_operands(choice.group(2), text)
    if len(parts) < 2:
        raise RuleError(
            f"invalid date expression {text!r}: {pick}(…) takes two or more dates "
            "separated by commas, e.g. 'earliest(switch_window - 1 day, contract_end)'"
        )
    return DateChoice(text, pick, tuple(parse_date_expr(part, commitments) for part in parts))


def _split_operands(inner: str, text: str) -> list[str]:
    """The comma-separated operands of ``inner``, commas inside nested parentheses kept."""
    parts: list[str] = []
    depth = 0
    current = ""
    for char in inner:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            break
        current += char
    if depth != 0:
        raise RuleError(f"invalid date expression {text!r}: parentheses do not match")
    parts.append(current)
    if any(not part.strip() for part in parts):
        raise RuleError(f"invalid date expression {text!r}: an operand is empty")
    return [part.strip() for part in parts]


@lru_cache(maxsize=4096)
def _moved(rule: DateRule, moment: datetime, _fold: int, calendar: WorkCalendar) -> datetime:
    # Rules are evaluated over and over on the same anchors (every event re-plans the timers
    # of its process, and processes share windows). The result is a function of the anchor's
    # instant only: every step below converts to UTC or to the calendar's zone first.
    for sign, duration in rule.terms:
        moment = duration.add_to(moment, calendar, sign)
    if rule.at is not None:
        moment = calendar.at_time(moment, rule.at)
    return moment
