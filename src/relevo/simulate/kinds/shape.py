"""The declarative shape of a process kind's flow, read from ``simulate/shapes.toml``.

What every kind repeats — the fate values a coverage case starts from, the coverage fates,
the integration topics its parties answer or take in, who starts it — is data; a flow's
module keeps only the story that is its own.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from relevo.simulate.config import SimConfig

SHAPES_FILE = "shapes.toml"


@dataclass(frozen=True)
class KindShape:
    """One kind's shape (see the header of ``shapes.toml`` for each field)."""

    kind: str
    plain: Mapping[str, Any]
    consumed: frozenset[str]
    topics: Mapping[str, str]
    coverage: tuple[Mapping[str, Any], ...]
    start_channel: str | None = None
    start_actor: str | None = None

    def fates(self, cfg: SimConfig) -> list[dict[str, Any]]:
        """The coverage fates, each ``each`` entry expanded over the share table it names
        (``cfg`` is the kind's ``kinds.<kind>`` section)."""
        fates: list[dict[str, Any]] = []
        for entry in self.coverage:
            table = entry.get("each")
            if table is None:
                fates.append(dict(entry))
                continue
            rest = {k: v for k, v in entry.items() if k not in ("each", "as")}
            fates += [{**rest, entry["as"]: value} for value in cfg.weights(table)]
        return fates


@cache
def shape_of(kind: str) -> KindShape:
    """The shape of ``kind`` as ``shapes.toml`` describes it."""
    table = _shapes().get(kind)
    if table is None:
        raise KeyError(f"{SHAPES_FILE} has no [{kind}]")
    plain = dict(table.get("plain", {}))
    plain.update(dict.fromkeys(table.get("plain_unset", [])))
    start = table.get("start", {})
    return KindShape(
        kind=kind,
        plain=plain,
        consumed=frozenset(table.get("consumed", [])),
        topics=dict(table.get("topics", {})),
        coverage=tuple(table.get("coverage", [])),
        start_channel=start.get("channel"),
        start_actor=start.get("actor"),
    )


@cache
def _shapes() -> dict[str, Any]:
    text = resources.files("relevo.simulate").joinpath(SHAPES_FILE).read_text(encoding="utf-8")
    return tomllib.loads(text)


__all__ = ["KindShape", "shape_of"]
