"""Reading numbers for guards: what counts as a number in a message, an action's inputs
or an attribute, and how two of them compare.

Back-ends send amounts as JSON numbers (``48.3``) or as decimal text (``"48.30"``); both
are numbers here. Anything else (missing, empty, ``"48,30"``, ``"12 €"``, ``true``, a list,
``NaN``) is not, and a comparison on it fails with a reason instead of raising.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

#: Decimal text: an optional sign, digits, and optionally a point and more digits.
_DECIMAL = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")

#: The numeric comparisons a guard may make, each with the comparison it stands for.
NUMERIC_TESTS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "less_than": operator.lt,
    "at_most": operator.le,
    "more_than": operator.gt,
    "at_least": operator.ge,
}


def read_number(value: Any) -> Decimal | None:
    """``value`` as an exact decimal when it is a finite JSON number or decimal text with a
    point (``"48.30"``); ``None`` for anything else (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        # Through its shortest text, so 48.3 compares equal to "48.30".
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return Decimal(value)
    return None


def compares(test: str, left: Decimal, right: Decimal) -> bool:
    """``left <test> right`` for ``test`` one of ``NUMERIC_TESTS``."""
    return NUMERIC_TESTS[test](left, right)


def not_a_number(path: str, value: Any) -> str:
    """Why ``value`` read from ``path`` cannot be compared: it is missing or not a number."""
    if value is None or value == "":
        return f"{path} is missing"
    return f"{path} is not a number ({value!r})"
