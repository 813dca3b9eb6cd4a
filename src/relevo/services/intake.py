"""Intake: screen received items as CloudEvents, ingest the valid ones and keep the refused
ones as dead letters, all in the batch's one transaction.

Shared by ``POST /v1/events``, ``relevo ingest`` and the simulator so all answer the same
way: one result per item, in input order, each invalid item rejected with its precise
reason. What the sender is told and what the store holds never disagree: a batch that
fails to commit leaves neither its events nor its dead letters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relevo.domain.model import JSON, Outcome
from relevo.services import reserved
from relevo.services.cloudevents import Invalid, parse_event
from relevo.services.inbound import Inbound, InboundBatch, IngestResult
from relevo.services.ingest import Ingestor
from relevo.services.records import DeadLetterRow


@dataclass
class Unreadable:
    """An item that could not even be decoded (e.g. a JSONL line that is not JSON)."""

    text: str
    reason: str


@dataclass
class Screened:
    """A batch checked at the edge: the valid events, and a result and a dead letter for
    each refused item."""

    size: int
    valid: list[Inbound] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)
    refused: dict[int, IngestResult] = field(default_factory=dict)
    dead_letters: list[DeadLetterRow] = field(default_factory=list)

    @property
    def batch(self) -> InboundBatch:
        """What to ingest: the valid events, carrying the refused ones' dead letters."""
        return InboundBatch(self.valid, self.dead_letters)

    def complete(self, ingested: Sequence[IngestResult]) -> list[IngestResult]:
        """Merge every result into input order (``ingested``: the results for ``batch``)."""
        results = dict(self.refused)
        for position, result in zip(self.positions, ingested, strict=True):
            result.index = position
            results[position] = result
        return [results[index] for index in range(self.size)]


def screen(items: Sequence[Any], now: Callable[[], datetime]) -> Screened:
    """Validate every item (decoded JSON, or ``Unreadable``) as a CloudEvent; nothing is
    written."""
    screened = Screened(len(items))
    for index, item in enumerate(items):
        if isinstance(item, Unreadable):
            screened.refused[index] = IngestResult(
                index, None, None, Outcome.REJECTED, None, item.reason, "malformed_json"
            )
            screened.dead_letters.append(_dead_letter({"raw": item.text}, item.reason))
            continue
        parsed = parse_event(item, now)
        if isinstance(parsed, Invalid):
            source, id_ = parsed.attribute("source"), parsed.attribute("id")
            screened.refused[index] = IngestResult(
                index, source, id_, Outcome.REJECTED, None, parsed.reason, "invalid_cloudevent"
            )
            payload = item if isinstance(item, dict) else {"value": item}
            screened.dead_letters.append(
                _dead_letter(payload, parsed.reason, source, id_, parsed.attribute("type"))
            )
            continue
        if _refused_as_reserved(screened, index, item, parsed):
            continue
        screened.valid.append(parsed)
        screened.positions.append(index)
    return screened


def ingest(
    ingestor: Ingestor, items: Sequence[Any], now: Callable[[], datetime]
) -> list[IngestResult]:
    """Validate every item and ingest the batch: the valid events are applied and the
    invalid ones kept as dead letters, in one transaction.

    Returns one result per item in input order; ``index`` is the item's position in ``items``.
    """
    screened = screen(items, now)
    if not screened.valid and not screened.dead_letters:
        return []
    return screened.complete(ingestor.ingest(screened.batch))


def refuse(ingestor: Ingestor, payload: JSON, reason: str) -> None:
    """Keep what was refused before it could be read as items (a whole request body) as
    a dead letter."""
    ingestor.ingest(InboundBatch([], [_dead_letter(payload, reason)]))


def counts(results: Sequence[IngestResult]) -> dict[str, int]:
    """How many results had each outcome (every outcome present, zero included)."""
    tally = {outcome.value: 0 for outcome in Outcome}
    for result in results:
        tally[result.outcome.value] += 1
    return tally


def answer(results: Sequence[IngestResult]) -> dict[str, Any]:
    """The JSON body reporting ``results``: ``{"results": [...], "counts": {...}}``."""
    return {"results": [result.as_json() for result in results], "counts": counts(results)}


def _refused_as_reserved(screened: Screened, index: int, item: Any, parsed: Inbound) -> bool:
    """Refuse ``parsed`` when it uses relevo's own namespace (a timer, an action's source):
    ``True`` when it was."""
    refusal = reserved.refusal(parsed.source, parsed.type)
    if refusal is None:
        return False
    screened.refused[index] = IngestResult(
        index, parsed.source, parsed.id, Outcome.REJECTED, None, refusal, reserved.REASON_CODE
    )
    screened.dead_letters.append(_dead_letter(item, refusal, parsed.source, parsed.id, parsed.type))
    return True


def _dead_letter(
    payload: JSON,
    reason: str,
    source: str | None = None,
    message_id: str | None = None,
    type_: str | None = None,
) -> DeadLetterRow:
    return DeadLetterRow(
        source=source or "unknown",
        message_id=message_id,
        type=type_,
        payload=payload,
        reason=reason,
    )
