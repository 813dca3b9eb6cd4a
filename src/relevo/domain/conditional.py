"""Conditional effects: a step's ``also`` blocks, added when their ``when`` holds.

``effective`` gives the effects a step has for one event: its own, with every block whose
guard holds on the process as it was before the event merged in, in order. Mappings
(``record``, ``set``, ``keys``, ``dates``, ``requirements``, ``tick``, ``tick_from``) take
the block's entry for a name both give; lists (``notify``, ``emit``, ``open_tasks``, …)
gain the block's items; an incident the block opens replaces the step's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from relevo.domain.compiled import Compiled
from relevo.domain.definitions import ConditionalEffects, Effects
from relevo.domain.guards import guard_holds
from relevo.domain.model import ProcessState

_MAPPINGS = ("record", "set", "keys", "dates", "requirements", "tick", "tick_from")
_LISTS = ("confirm", "clear_dates", "require", "open_tasks", "close_tasks", "emit", "notify")


def effective(
    c: Compiled,
    spec: Effects,
    state: ProcessState,
    now: datetime,
    data: Mapping[str, Any],
    params: Mapping[str, Any],
) -> Effects:
    """``spec`` with the ``also`` blocks that hold for ``state`` at ``now`` merged in (the
    same object when it has none or none holds)."""
    if not spec.also:
        return spec
    holding = tuple(
        index
        for index, block in enumerate(spec.also)
        if guard_holds(c, block.when, state, now, data, params)
    )
    if not holding:
        return spec
    # The steps belong to ``c``'s definition, which outlives its cache: ids stay unique.
    key = (id(spec), holding)
    merged = c.merged_effects.get(key)
    if merged is None:
        merged = c.merged_effects[key] = _merge(spec, [spec.also[index] for index in holding])
    return merged


def _merge(spec: Effects, blocks: list[ConditionalEffects]) -> Effects:
    """``spec`` with ``blocks`` added, in order (see the module docstring)."""
    update: dict[str, Any] = {}
    for block in blocks:
        for name in block.model_fields_set - {"when"}:
            mine = update.get(name, getattr(spec, name))
            theirs = getattr(block, name)
            if name in _MAPPINGS:
                update[name] = {**mine, **theirs}
            elif name in _LISTS:
                update[name] = [*mine, *(item for item in theirs if item not in mine)]
            elif name == "resolve_incidents":
                both = "all" in (mine, theirs)
                update[name] = "all" if both else [*mine, *(c for c in theirs if c not in mine)]
            elif name in ("open_incident", "open_incident_from"):
                update["open_incident"] = update["open_incident_from"] = None
                update[name] = theirs
    return spec.model_copy(update=update)
