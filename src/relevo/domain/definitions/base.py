"""The building blocks of the definition language: the base model, bilingual texts, value
paths and guards, and the closed vocabularies (actors, statuses, roles, channels)."""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from relevo.domain.numbers import NUMERIC_TESTS, read_number
from relevo.domain.timerules import parse_date_expr

Actor = Literal[
    "customer",
    "us",
    "current_provider",
    "central_node",
    "distributor",
    "technician",
    "courier",
    "billing",
    "back_office",
    "field_service",
    "new_provider",
]
TerminalStatus = Literal["completed", "cancelled", "failed"]
RequirementState = Literal["missing", "submitted", "in_review", "rejected", "accepted"]
Role = Literal["customer", "agent", "system"]
Channel = Literal["sms", "email", "push"]

#: Prefixes a value path may start with: the inbound message's data, the action's
#: parameters, or the process's recorded attributes.
PATH_PREFIXES = ("data.", "params.", "attributes.")


class Model(BaseModel):
    """Base for definition models: unknown fields are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


#: A placeholder in a customer text (``{switch_date.time}``, ``{commitments.x}``): the name
#: between the braces.
PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


class Localized(Model):
    """A customer-facing text in Spanish and English."""

    es: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``es`` or ``en``); Spanish for any other language."""
        return self.en if lang == "en" else self.es


def check_path(path: str) -> str:
    """``path`` if it starts with a known prefix; ValueError naming the prefixes if not."""
    if not path.startswith(PATH_PREFIXES):
        raise ValueError(
            f"{path!r} is not a value path: start it with one of {', '.join(PATH_PREFIXES)}"
        )
    return path


#: Prefixes only a guard may read: the process's dates (``dates.switch_window``, the
#: moment or nothing), incidents (``incidents.NO_SIM``: ``open``, ``resolved`` or nothing)
#: and back-office tasks (``tasks.install``: ``open``, ``done`` or nothing).
STATE_PREFIXES = ("dates.", "incidents.", "tasks.")
GUARD_PREFIXES = PATH_PREFIXES + STATE_PREFIXES


class Condition(Model):
    """A test on one value: equality, membership, presence or a comparison."""

    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    exists: bool | None = None
    #: Compare with another value of the process or message (``attributes.new_iban``).
    equals_path: str | None = None
    not_equals_path: str | None = None
    #: For ``dates.`` paths: strictly before / after a date expression (``now + 2 days``,
    #: another date, ``earliest(a, b)``). An unknown date on either side never holds.
    before: str | None = None
    after: str | None = None
    #: Numeric comparisons (<, <=, >, >=) with a number or another value path
    #: (``{data.amount: {at_most: data.cap}}``). A side that is missing or not a number
    #: makes the comparison fail (see ``numbers.read_number``).
    less_than: Any = None
    at_most: Any = None
    more_than: Any = None
    at_least: Any = None


#: ``when`` guards map a value path to a literal (equality), a list (membership) or a
#: ``Condition``. All entries must hold.
Guard = dict[str, Any]


def check_guard(guard: Guard | None) -> Guard | None:
    """``guard`` if its paths and conditions are well formed; ValueError if not."""
    if guard is None:
        return None
    for path, test in guard.items():
        if not isinstance(path, str) or not path.startswith(GUARD_PREFIXES):
            raise ValueError(
                f"{path!r} is not a guard path: start it with one of {', '.join(GUARD_PREFIXES)}"
            )
        if isinstance(test, dict):
            condition = Condition.model_validate(test)
            compares = condition.before is not None or condition.after is not None
            if compares and not path.startswith("dates."):
                raise ValueError(
                    f"{path}: 'before' and 'after' compare a process date; use them on a "
                    "'dates.' path"
                )
            for bound in (condition.before, condition.after):
                if bound is not None:
                    parse_date_expr(bound)
    return guard


def numeric_test_problem(path: str, key: str, operand: Any) -> str | None:
    """Why the numeric comparison ``{path: {key: operand}}`` is malformed (it must read a
    value path and compare it with a number or another value path), or ``None``."""
    if not path.startswith(PATH_PREFIXES):
        return (
            f"{key} compares numbers; a {path.split('.')[0]}. path is not a number (dates use "
            f"'before'/'after'): compare a path that starts with one of {', '.join(PATH_PREFIXES)}"
        )
    if isinstance(operand, bool) or not isinstance(operand, int | float | str):
        return f"{key} takes a number (12.5) or a value path (data.cap), not {operand!r}"
    if isinstance(operand, float) and not math.isfinite(operand):
        return f"{key} takes a finite number, not {operand!r}"
    if isinstance(operand, str) and not operand.startswith(PATH_PREFIXES):
        hint = (
            f"write {operand.strip()} without quotes"
            if read_number(operand.strip()) is not None
            else f"start it with one of {', '.join(PATH_PREFIXES)}"
        )
        return f"{key} {operand!r} is neither a number nor a value path: {hint}"
    return None


def guard_paths(guard: Guard | None) -> list[str]:
    """The paths ``guard`` reads, in order."""
    return list(guard) if guard else []


def numeric_operands(guard: Guard | None) -> list[tuple[str, str, Any]]:
    """The numeric comparisons of ``guard`` as (path, test, operand) triples, in order; the
    operand is a number or a value path."""
    found: list[tuple[str, str, Any]] = []
    for path, test in (guard or {}).items():
        if isinstance(test, dict):
            found += [(path, key, test[key]) for key in NUMERIC_TESTS if test.get(key) is not None]
    return found


def guard_bounds(guard: Guard | None) -> list[str]:
    """The date expressions of ``guard``'s ``before``/``after`` comparisons."""
    found: list[str] = []
    for test in (guard or {}).values():
        if isinstance(test, dict):
            found += [test[key] for key in ("before", "after") if test.get(key)]
    return found
