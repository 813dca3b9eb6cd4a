"""The operator's own terms that definitions refer to by name: what each compensation right is
worth, and on what basis; and how long each of the operator's own commitments gives it.

A definition never writes an amount. Its compensation rule names a *right*
(``right: missed_appointment``) and the operator's terms (``catalog/operator.toml``, or an
``operator.toml`` in ``RELEVO_CATALOG_DIR`` that replaces it) give that right its one value,
the regulatory minimum where one exists, and the source of each. So the same missed visit is
worth the same in every process, and the customer is told whether an amount is set by
regulation or is the operator's own commitment.

Likewise a definition never writes the length of a promise no regulation sets (how soon we
correct a bill, say): it names a *commitment* where it would write a duration
(``now + commitments.correction working_days at 23:59``) and the terms give its one value, with
the regulatory limit it must not exceed where one exists (issue 15: a fact that cannot be
sourced from the rules or a regulation is operator configuration). Reading the file is the
caller's job: this module only sees text.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from relevo.domain.definitions import Definition
from relevo.domain.definitions.base import PLACEHOLDER, Model
from relevo.domain.errors import DefinitionError, Problem
from relevo.domain.timerules import COMMITMENT_PREFIX, Duration, RuleError, parse_date_expr

Basis = Literal["regulation", "commitment"]


class CompensationRight(Model):
    """One compensation right: its single amount, and whether regulation sets it."""

    #: What the right is for, in the operator's words (documentation, not shown).
    title: str = Field(min_length=1)
    per: Literal["day", "working_day", "once"]
    amount: Decimal = Field(gt=0)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    cap: Decimal | None = Field(default=None, gt=0)
    #: The amount a Spanish regulation sets for this right, where one exists.
    regulatory_minimum: Decimal | None = Field(default=None, gt=0)
    #: The regulation (article) or the operator's contract clause the amount comes from.
    source: str = Field(min_length=1)
    verify: str | None = None

    @model_validator(mode="after")
    def _not_below_the_law(self) -> CompensationRight:
        if self.regulatory_minimum is not None and self.amount < self.regulatory_minimum:
            raise ValueError("amount is below the regulatory_minimum")
        return self

    @property
    def basis(self) -> Basis:
        """``regulation`` when the amount is exactly what regulation sets, else
        ``commitment`` (the operator's own, at or above any regulatory minimum)."""
        if self.regulatory_minimum is not None and self.amount == self.regulatory_minimum:
            return "regulation"
        return "commitment"


class OperatorContact(Model):
    """How customers reach a person at the operator, shown at the foot of every page."""

    #: The number customers call, as they dial it ("1004", "+34 900 000 000").
    phone: str = Field(default="1004", pattern=r"^\+?[0-9][0-9 ]{1,18}[0-9]$")
    #: An address customers may write to, if the operator has one.
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

    @property
    def phone_uri(self) -> str:
        """The phone number as a ``tel:`` link (RFC 3966: no spaces)."""
        return "tel:" + self.phone.replace(" ", "")


class Commitment(Model):
    """One of the operator's own commitments: how long it gives itself for something the
    customer is told (a date, a deadline), and whether a regulation caps it."""

    #: What the commitment is for, in the operator's words (documentation, not shown).
    title: str = Field(min_length=1)
    #: Its one value, as definitions write durations ("10 working_days").
    duration: str
    #: The longest a Spanish regulation allows, where one sets a maximum (same unit).
    regulatory_limit: str | None = None
    #: The operator's contract clause (or the regulation) the value comes from.
    source: str = Field(min_length=1)
    verify: str | None = None

    @field_validator("duration", "regulatory_limit")
    @classmethod
    def _a_duration(cls, value: str | None) -> str | None:
        if value is not None:
            if COMMITMENT_PREFIX in value:
                raise ValueError("write a number and a unit; a commitment cannot name another")
            Duration.parse(value)
        return value

    @model_validator(mode="after")
    def _not_over_the_law(self) -> Commitment:
        if self.regulatory_limit is None:
            return self
        limit = Duration.parse(self.regulatory_limit)
        if limit.unit != self.length.unit:
            raise ValueError(
                f"regulatory_limit {limit} and duration {self.length} use different units: "
                "write both in the same unit"
            )
        if self.length.amount > limit.amount:
            raise ValueError(
                f"duration {self.length} is longer than the regulatory_limit {limit}: a "
                "commitment may not promise less than the regulation requires"
            )
        return self

    @property
    def length(self) -> Duration:
        """The commitment's duration, parsed."""
        return Duration.parse(self.duration)


class OperatorTerms(Model):
    """The operator's terms that definitions name (compensation rights and commitments by
    name), and how customers reach the operator (``contact``; defaults when the file has
    none)."""

    compensation: dict[str, CompensationRight] = Field(default_factory=dict)
    commitments: dict[str, Commitment] = Field(default_factory=dict)
    contact: OperatorContact = Field(default_factory=OperatorContact)

    def durations(self) -> dict[str, Duration]:
        """Every commitment's duration by name (how compiled definitions resolve them)."""
        return {name: commitment.length for name, commitment in self.commitments.items()}


def parse_terms(text: str, filename: str) -> OperatorTerms:
    """The terms written in TOML ``text``; raises DefinitionError naming the file, line and
    field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DefinitionError([Problem(filename, None, "", f"not valid TOML: {error}")]) from None
    try:
        return OperatorTerms.model_validate(raw)
    except ValidationError as error:
        raise DefinitionError(
            [
                Problem(
                    filename,
                    toml_line(text, item["loc"]),
                    ".".join(str(p) for p in item["loc"]),
                    item["msg"].replace("Value error, ", ""),
                )
                for item in error.errors()
            ]
        ) from None


def toml_line(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of ``loc`` (``("commitments", "correction", "duration")``) in the
    terms' TOML ``text``: the field's line inside its ``[table.name]``, else the table's."""
    if len(loc) < 2:
        return None
    header = re.compile(rf"^\s*\[\s*{re.escape(str(loc[0]))}\.{re.escape(str(loc[1]))}\s*\]")
    lines = text.splitlines()
    start = next((n for n, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        return None
    if len(loc) > 2:
        field = re.compile(rf"^\s*{re.escape(str(loc[2]))}\s*=")
        for number in range(start + 1, len(lines)):
            if lines[number].lstrip().startswith("["):
                break
            if field.match(lines[number]):
                return number + 1
    return start + 1


def missing_rights(definition: Definition, terms: OperatorTerms) -> dict[str, str]:
    """``{compensation rule: problem}`` for every rule whose right the terms do not give, or
    give counted another way (a right per day used as a one-off, say)."""
    problems: dict[str, str] = {}
    for name, rule in definition.compensation.items():
        right = terms.compensation.get(rule.right)
        if right is None:
            known = ", ".join(sorted(terms.compensation)) or "none"
            problems[name] = (
                f"right {rule.right!r} is not in the operator's terms (operator.toml); "
                f"known rights: {known}"
            )
        elif right.per != rule.per:
            problems[name] = (
                f"right {rule.right!r} is owed per {right.per} in the operator's terms, "
                f"not per {rule.per}"
            )
    return problems


#: The fields of a definition that hold a duration or a date rule, where a commitment may be
#: named: stage SLAs (``within``), task deadlines (``due``), date windows (``duration``),
#: date rules, timers and reminders (``rule``, ``at``), parameter bounds (``min``, ``max``)
#: and guard comparisons (``before``, ``after``).
_TIMED = frozenset({"within", "due", "duration", "rule", "at", "min", "max", "before", "after"})
_DURATIONS = frozenset({"within", "due", "duration"})


def commitment_problems(
    definition: Definition, terms: OperatorTerms
) -> dict[tuple[str | int, ...], str]:
    """``{path in the definition: problem}`` for every duration, date rule or text
    placeholder (``{commitments.x}``) naming a commitment the terms do not give, or (not a
    placeholder) give in another unit."""
    durations = terms.durations()
    problems: dict[tuple[str | int, ...], str] = {}
    for path, text in _timed_texts(definition.model_dump(by_alias=True, exclude_defaults=True)):
        if COMMITMENT_PREFIX not in text:
            continue
        if path[-1] in ("es", "en"):
            named = [name.partition(".") for name in PLACEHOLDER.findall(text)]
            unknown = [n for head, _, n in named if head == "commitments" and n not in durations]
            if unknown:
                known = ", ".join(sorted(durations)) or "none"
                problems[path] = (
                    f"placeholder {{commitments.{unknown[0]}}} names a commitment that is not "
                    f"in the operator's terms (operator.toml); known commitments: {known}"
                )
            continue
        try:
            if path[-1] in _DURATIONS:
                Duration.parse(text, durations)
            else:
                parse_date_expr(text, durations)
        except RuleError as error:
            problems[path] = str(error)
    return problems


def _timed_texts(
    node: Any, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string under a ``_TIMED`` key of a dumped definition, and every customer text
    (``es``, ``en``), with its path."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, str) and (key in _TIMED or key in ("es", "en")):
                yield (*path, key), value
            else:
                yield from _timed_texts(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _timed_texts(value, (*path, index))
