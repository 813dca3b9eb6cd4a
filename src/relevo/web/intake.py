"""Ingest a list of received items: dead-letter the invalid ones, apply the valid ones.

Shared by ``POST /v1/events`` and ``relevo ingest`` so both answer the same way: one result
per item, in input order, each invalid item rejected with its precise reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


def ingest(
    hub: Hub, items: Sequence[Any | Unreadable], now: Callable[[], datetime]
) -> list[IngestResult]:
    """Validate every item, dead-letter the bad ones via ``hub.reject``, ingest the good ones.

    Returns one result per item in input order; ``index`` is the item's position in ``items``.
    """
    results: list[IngestResult | None] = [None] * len(items)
    valid: list[Inbound] = []
    positions: list[int] = []
    rejects: list[tuple[dict[str, Any] | str, str, str | None, str | None, str | None]] = []
    for index, item in enumerate(items):
        if isinstance(item, Unreadable):
            results[index] = IngestResult(
                index, None, None, Outcome.REJECTED, None, item.reason, "malformed_json"
            )
            rejects.append((item.text, item.reason, None, None, None))
            continue
        parsed = parse_event(item, now)
        if isinstance(parsed, Invalid):
            source, id_ = parsed.attribute("source"), parsed.attribute("id")
            results[index] = IngestResult(
                index, source, id_, Outcome.REJECTED, None, parsed.reason, "invalid_cloudevent"
            )
            payload = item if isinstance(item, dict) else {"value": item}
            rejects.append((payload, parsed.reason, source, id_, parsed.attribute("type")))
            continue
        valid.append(parsed)
        positions.append(index)
    if valid:
        for position, result in zip(positions, hub.ingest(valid), strict=True):
            result.index = position
            results[position] = result
    if rejects:
        hub.reject(rejects)
    return [result for result in results if result is not None]


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
