"""Ingest a list of received items: dead-letter the invalid ones, apply the valid ones.

Shared by ``POST /v1/events`` and ``relevo ingest`` so both answer the same way: one result
per item, in input order, each invalid item rejected with its precise reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relevo.domain.model import Outcome
from relevo.services.cloudevents import Invalid, parse_event
from relevo.services.hub import Hub, Inbound, IngestResult


@dataclass
class Unreadable:
    """An item that could not even be decoded (e.g. a JSONL line that is not JSON)."""

    text: str
    reason: str


@dataclass
class Screened:
    """A batch checked at the edge: the valid events, and a result for each refused item."""

    size: int
    valid: list[Inbound] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    refused: dict[int, IngestResult] = field(default_factory=dict)
    rejects: list[tuple[dict[str, Any] | str, str, str | None, str | None, str | None]] = field(
        default_factory=list
    )

    def complete(self, hub: Hub, ingested: Sequence[IngestResult]) -> list[IngestResult]:
        """Keep the refused items as dead letters and merge every result into input order
        (``ingested``: the hub's results for ``valid``)."""
        results = dict(self.refused)
        for position, result in zip(self.positions, ingested, strict=True):
            result.index = position
            results[position] = result
        if self.rejects:
            hub.reject(self.rejects)
        return [results[index] for index in range(self.size)]


def screen(items: Sequence[Any | Unreadable], now: Callable[[], datetime]) -> Screened:
    """Validate every item as a CloudEvent; nothing is written."""
    screened = Screened(len(items))
    for index, item in enumerate(items):
        if isinstance(item, Unreadable):
            screened.refused[index] = IngestResult(
                index, None, None, Outcome.REJECTED, None, item.reason, "malformed_json"
            )
            screened.rejects.append((item.text, item.reason, None, None, None))
            continue
        parsed = parse_event(item, now)
        if isinstance(parsed, Invalid):
            source, id_ = parsed.attribute("source"), parsed.attribute("id")
            screened.refused[index] = IngestResult(
                index, source, id_, Outcome.REJECTED, None, parsed.reason, "invalid_cloudevent"
            )
            payload = item if isinstance(item, dict) else {"value": item}
            screened.rejects.append((payload, parsed.reason, source, id_, parsed.attribute("type")))
            continue
        screened.valid.append(parsed)
        screened.positions.append(index)
    return screened


def ingest(
    hub: Hub, items: Sequence[Any | Unreadable], now: Callable[[], datetime]
) -> list[IngestResult]:
    """Validate every item, dead-letter the bad ones via ``hub.reject``, ingest the good ones.

    Returns one result per item in input order; ``index`` is the item's position in ``items``.
    """
    screened = screen(items, now)
    return screened.complete(hub, hub.ingest(screened.valid) if screened.valid else [])


def counts(results: Sequence[IngestResult]) -> dict[str, int]:
    """How many results had each outcome (every outcome present, zero included)."""
    tally = {outcome.value: 0 for outcome in Outcome}
    for result in results:
        tally[result.outcome.value] += 1
    return tally


def answer(results: Sequence[IngestResult]) -> dict[str, Any]:
    """The JSON body reporting ``results``: ``{"results": [...], "counts": {...}}``."""
    return {
        "results": [_result(result) for result in results],
        "counts": counts(results),
    }


def _result(result: IngestResult) -> dict[str, Any]:
    return {
        "index": result.index,
        "id": result.id,
        "source": result.source,
        "outcome": result.outcome.value,
        "process_id": result.process_id,
        "reason": result.reason,
        "reason_code": result.reason_code,
    }
