"""Whether a value path that a numeric guard compares (``less_than``, ``at_most``, …) can
hold a number where the guard reads it: a data field the message declares, a parameter
that takes numbers, an attribute that is not only ever a word. The loader's cross-reference
checks (``crossrefs``) report the paths that cannot."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from relevo.domain.definitions import Definition, EffectFields, Effects, Param
from relevo.domain.numbers import read_number


@dataclass(frozen=True)
class Scope:
    """What a guard may read besides the process: the message's data fields (``None`` where
    no message is at hand) and the action's parameters (``None`` where there is no action)."""

    fields: set[str] | None = None
    params: Mapping[str, Param] | None = None


NO_INPUT = Scope()


def numeric_problem(
    path: str, scope: Scope, attribute_values: Mapping[str, list[Any]]
) -> str | None:
    """Why ``path`` can never hold a number where a guard in ``scope`` reads it, or
    ``None`` if it can (``attribute_values``: as ``attribute_values`` gives them)."""
    root, _, name = path.partition(".")
    name = name.split(".")[0]
    if root == "data":
        if scope.fields is None:
            return f"{path}: there is no message here, only in a transition's guards"
        if name not in scope.fields:
            return (
                f"{path}: unknown data field {name!r}; the event declares "
                f"{sorted(scope.fields)} (list a field it may carry under 'optional')"
            )
        return None
    if root == "params":
        if scope.params is None:
            return f"{path}: there are no parameters here, only in a control's effects or cases"
        if name not in scope.params:
            return f"{path}: unknown parameter {name!r}; the control has {sorted(scope.params)}"
        param = scope.params[name]
        numeric_choices = param.choices and all(read_number(c) for c in param.choices)
        if param.type != "text" and not (param.type == "choice" and numeric_choices):
            return f"{path}: a {param.type} parameter is not a number"
        return None
    values = attribute_values.get(name)
    if values is None:
        return (
            f"{path}: unknown attribute {name!r}; declare it under attributes or "
            "record it from a message"
        )
    if values and all(read_number(value) is None for value in values):
        shown = ", ".join(sorted({repr(value) for value in values}))
        return f"{path}: attribute {name!r} only ever holds {shown}, not a number"
    return None


#: Marks an attribute recorded from a value path: it may hold anything, a number too.
_FROM_PATH = object()


def attribute_values(d: Definition) -> dict[str, list[Any]]:
    """Every attribute a process of ``d`` can hold, with the literals it can hold (its
    choices and default, and its ``set`` values); one given freely at start or recorded
    from a value path has none (it can hold anything)."""
    found: dict[str, list[Any]] = {}
    for name, attribute in d.attributes.items():
        # Given at start: one of its choices, or anything when it has none.
        found[name] = [*attribute.choices, attribute.default] if attribute.choices else [_FROM_PATH]
    for spec in _every_effects(d):
        for name in spec.record:
            found.setdefault(name, []).append(_FROM_PATH)
        for name, value in spec.set.items():
            found.setdefault(name, []).append(value)
    return {
        name: [] if _FROM_PATH in values else [v for v in values if v is not None]
        for name, values in found.items()
    }


def _every_effects(d: Definition) -> Iterator[EffectFields]:
    """The effects of every step of ``d`` and of their conditional blocks."""
    steps: list[Effects] = [d.start, *d.transitions, *d.controls.values()]
    steps += [timer.then for timer in d.timers]
    for step in steps:
        yield step
        yield from step.also
