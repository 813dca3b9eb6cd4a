"""Evaluating ``when`` guards: on the message's data, an action's parameters, the process's
attributes, and what the process has now (its dates, incidents and tasks).

A guard maps a path to a literal (equality), a list (membership) or a condition
(``equals``, ``not_equals``, ``in``, ``not_in``, ``exists``, ``equals_path``,
``not_equals_path``, for dates ``before``/``after`` a date expression, and for numbers
``less_than``, ``at_most``, ``more_than``, ``at_least`` a number or another value path).
Every entry must hold. See ``definitions.base`` for the paths a guard may read.

A numeric comparison with a side that is missing or not a number (``numbers.read_number``)
does not hold; ``unreadable_numbers`` says why, for the reason a message is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from relevo.domain.compiled import Compiled, resolve_path
from relevo.domain.definitions import Guard
from relevo.domain.model import ProcessState, parse_iso
from relevo.domain.numbers import NUMERIC_TESTS, compares, not_a_number, read_number

_EMPTY: Mapping[str, Any] = {}


def guard_holds(
    c: Compiled,
    guard: Guard | None,
    state: ProcessState,
    now: datetime,
    data: Mapping[str, Any] = _EMPTY,
    params: Mapping[str, Any] = _EMPTY,
) -> bool:
    """True when every test of ``guard`` holds for ``state`` at ``now`` with the given
    message ``data`` and action ``params`` (an absent guard holds). Reads only."""
    if not guard:
        return True
    attributes = state.attributes
    for path, test in guard.items():
        root = path[: path.index(".")]
        if root in ("data", "params", "attributes"):
            value = resolve_path(path, data, params, attributes)
        else:
            value = _state_value(state, root, path[len(root) + 1 :])
        # The tests are written out here, not in a helper: this runs for every event.
        if isinstance(test, dict):
            if "exists" in test and (value is not None) != test["exists"]:
                return False
            if "equals" in test and value != test["equals"]:
                return False
            if "not_equals" in test and value == test["not_equals"]:
                return False
            if "in" in test and value not in test["in"]:
                return False
            if "not_in" in test and value in test["not_in"]:
                return False
            if "equals_path" in test and value != resolve_path(
                test["equals_path"], data, params, attributes
            ):
                return False
            if "not_equals_path" in test and value == resolve_path(
                test["not_equals_path"], data, params, attributes
            ):
                return False
            if ("before" in test or "after" in test) and not _compares(c, test, value, state, now):
                return False
            if not _numbers_hold(path, test, value, data, params, attributes):
                return False
        elif isinstance(test, list):
            if value not in test:
                return False
        elif value != test:
            return False
    return True


def _numbers_hold(
    path: str,
    test: Mapping[str, Any],
    value: Any,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    attributes: Mapping[str, Any],
) -> bool:
    """Every numeric comparison of ``test`` holds; one with a side that is not a number
    does not."""
    for key, operand in _numeric_tests(test):
        left = read_number(value)
        right = read_number(_operand_value(operand, data, params, attributes))
        if left is None or right is None or not compares(key, left, right):
            return False
    return True


def _numeric_tests(test: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [(key, test[key]) for key in NUMERIC_TESTS if test.get(key) is not None]


def _operand_value(
    operand: Any,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
    attributes: Mapping[str, Any],
) -> Any:
    """A numeric test's other side: the literal, or the value its path names."""
    if isinstance(operand, str):
        return resolve_path(operand, data, params, attributes)
    return operand


def unreadable_numbers(
    c: Compiled,
    guard: Guard | None,
    state: ProcessState,
    now: datetime,
    data: Mapping[str, Any] = _EMPTY,
    params: Mapping[str, Any] = _EMPTY,
) -> list[str]:
    """Why ``guard`` fails on its numbers alone: each side of a numeric comparison that is
    missing or not a number, as ``data.amount is not a number ('12 €')``, without repeats.
    Empty when every side is a number, or when the rest of the guard fails anyway (the
    numbers are then not the reason)."""
    if not guard_holds(c, _without_numbers(guard), state, now, data, params):
        return []
    reasons: list[str] = []
    attributes = state.attributes
    for path, test in (guard or {}).items():
        if not isinstance(test, dict):
            continue
        for _, operand in _numeric_tests(test):
            sides = [(path, resolve_path(path, data, params, attributes))]
            if isinstance(operand, str):
                sides.append((operand, resolve_path(operand, data, params, attributes)))
            for name, value in sides:
                reason = not_a_number(name, value)
                if read_number(value) is None and reason not in reasons:
                    reasons.append(reason)
    return reasons


def _without_numbers(guard: Guard | None) -> Guard:
    """``guard`` with its numeric comparisons left out."""
    rest: Guard = {}
    for path, test in (guard or {}).items():
        if isinstance(test, dict):
            test = {key: v for key, v in test.items() if key not in NUMERIC_TESTS}
            if not test:
                continue
        rest[path] = test
    return rest


def _state_value(state: ProcessState, root: str, name: str) -> Any:
    """A date's moment, or an incident's or task's status; ``None`` when it has none."""
    if root == "dates":
        entry = state.dates.get(name)
        return parse_iso(entry["at"]) if entry else None
    if root == "incidents":
        incident = state.incidents.get(name)
        return incident["status"] if incident else None
    task = state.tasks.get(name)
    return task["status"] if task else None


def _compares(
    c: Compiled, test: Mapping[str, Any], value: Any, state: ProcessState, now: datetime
) -> bool:
    """``value`` (a moment) is before and/or after the test's date expressions; an unknown
    moment on either side never holds."""
    if not isinstance(value, datetime):
        return False
    anchors = c.anchors(state, now)
    for key in ("before", "after"):
        text = test.get(key)
        if text is None:
            continue
        bound = c.rule(text).evaluate(anchors, c.calendar)
        if bound is None or (value >= bound if key == "before" else value <= bound):
            return False
    return True
