"""The operator's own terms that definitions refer to by name: what each compensation right is
worth, and on what basis.

A definition never writes an amount. Its compensation rule names a *right*
(``right: missed_appointment``) and the operator's terms (``catalog/operator.toml``, or an
``operator.toml`` in ``RELEVO_CATALOG_DIR`` that replaces it) give that right its one value,
the regulatory minimum where one exists, and the source of each. So the same missed visit is
worth the same in every process, and the customer is told whether an amount is set by
regulation or is the operator's own commitment. Reading the file is the caller's job: this
module only sees text.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from typing import Literal

from pydantic import Field, ValidationError, model_validator

from relevo.domain.definitions import Definition
from relevo.domain.definitions.base import Model
from relevo.domain.errors import DefinitionError, Problem

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


class OperatorTerms(Model):
    """The operator's terms that definitions name (compensation rights by name), and how
    customers reach the operator (``contact``; defaults when the file has none)."""

    compensation: dict[str, CompensationRight] = Field(default_factory=dict)
    contact: OperatorContact = Field(default_factory=OperatorContact)


def parse_terms(text: str, filename: str) -> OperatorTerms:
    """The terms written in TOML ``text``; raises DefinitionError naming the file and field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise DefinitionError([Problem(filename, None, "", f"not valid TOML: {error}")]) from None
    try:
        return OperatorTerms.model_validate(raw)
    except ValidationError as error:
        raise DefinitionError(
            [
                Problem(filename, None, ".".join(str(p) for p in item["loc"]), item["msg"])
                for item in error.errors()
            ]
        ) from None


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
