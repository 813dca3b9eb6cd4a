"""Where a definition's steps can take a process: the stages each transition, timer and
control moves it to, and the stages a process in one stage can still reach. The loader
uses it to find stages no path reaches; ``Compiled`` to know which controls and events a
running process may still see."""

from __future__ import annotations

from collections.abc import Mapping

from relevo.domain.definitions import Definition


def stage_moves(d: Definition) -> dict[str, frozenset[str]]:
    """For each stage of ``d``, the stages one step (a transition, a timer or a control)
    moves a process to from it. A step from or to a stage ``d`` does not declare is left
    out (the loader reports those names on their own)."""
    known = [stage.id for stage in d.stages]
    moves: dict[str, set[str]] = {stage: set() for stage in known}
    steps = [(t.from_, t.to) for t in d.transitions]
    steps += [(t.active_in, t.then.to) for t in d.timers]
    steps += [(control.allowed_in, control.to) for control in d.controls.values()]
    for sources, target in steps:
        if target is None or target not in moves:
            continue
        for source in known if "*" in sources else sources:
            if source in moves:
                moves[source].add(target)
    return {stage: frozenset(targets) for stage, targets in moves.items()}


def reachable(moves: Mapping[str, frozenset[str]], start: str) -> frozenset[str]:
    """``start`` and every stage a path of ``moves`` leads to from it."""
    seen = {start}
    todo = list(moves.get(start, ()))
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(moves.get(current, ()))
    return frozenset(seen)
