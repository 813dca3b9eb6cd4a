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

import orjson

from relevo.domain.model import JSON, Outcome
from relevo.services import limits, reserved
from relevo.services.cloudevents import Invalid, parse_event
from relevo.services.inbound import Inbound, InboundBatch, IngestResult
from relevo.services.ingest import Ingestor
from relevo.services.limits import KEPT_BYTES, Limits, kept_form, text_problem
from relevo.services.records import DeadLetterRow

_DEFAULT_LIMITS = Limits()


@dataclass
class Unreadable:
    """An item that could not even be decoded (e.g. a JSONL line that is not JSON)."""

    text: str
    reason: str


@dataclass(frozen=True)
class Line:
    """Where an item was read from a file: its dead letter, should it be refused, keeps
    ``{"file", "line", "text"}`` so that the bad line can be found and fixed."""

    file: str
    number: int
    text: bytes

    def kept(self) -> JSON:
        """The dead letter payload of this line (its text cut to ``KEPT_BYTES``)."""
        text = self.text[:KEPT_BYTES].decode("utf-8", errors="replace").rstrip("\r\n")
        return {"file": self.file, "line": self.number, "text": text}


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


def screen(
    items: Sequence[Any],
    now: Callable[[], datetime],
    policy: Limits = _DEFAULT_LIMITS,
    lines: Sequence[Line] | None = None,
) -> Screened:
    """Validate every item (decoded JSON, or ``Unreadable``) as a CloudEvent within
    ``policy``; nothing is written.

    ``lines``, when the items come from a file, says where each was read (its text also
    spares encoding the item again to measure it).
    """
    screened = Screened(len(items))
    for index, item in enumerate(items):
        line = lines[index] if lines is not None else None
        if isinstance(item, Unreadable):
            screened.refused[index] = IngestResult(
                index, None, None, Outcome.REJECTED, None, item.reason, "malformed_json"
            )
            kept = line.kept() if line is not None else {"raw": item.text}
            screened.dead_letters.append(_dead_letter(kept, item.reason))
            continue
        encoded = line.text if line is not None else _encoded(item)
        too_large = None if encoded is None else policy.too_large(encoded)
        if too_large is not None:
            _refuse(screened, index, item, line, encoded, policy, too_large, "event_too_large")
            continue
        parsed = parse_event(item, now, policy, encoded)
        if isinstance(parsed, Invalid):
            _refuse(screened, index, item, line, encoded, policy, parsed.reason)
            continue
        if _refused_as_reserved(screened, index, item, parsed):
            continue
        screened.valid.append(parsed)
        screened.positions.append(index)
    return screened


def _refuse(
    screened: Screened,
    index: int,
    item: Any,
    line: Line | None,
    encoded: bytes | None,
    policy: Limits,
    reason: str,
    code: str = "invalid_cloudevent",
) -> None:
    """Record ``item`` as refused at ``index``: its result, and its dead letter."""
    invalid = Invalid([], item)
    source, id_ = invalid.attribute("source"), invalid.attribute("id")
    screened.refused[index] = IngestResult(index, source, id_, Outcome.REJECTED, None, reason, code)
    payload = line.kept() if line is not None else kept_form(item, encoded, policy.json_depth)
    screened.dead_letters.append(
        _dead_letter(payload, reason, source, id_, invalid.attribute("type"))
    )


def _encoded(item: Any) -> bytes | None:
    try:
        return orjson.dumps(item)
    except TypeError:
        return None


def ingest(
    ingestor: Ingestor,
    items: Sequence[Any],
    now: Callable[[], datetime],
    policy: Limits = _DEFAULT_LIMITS,
) -> list[IngestResult]:
    """Validate every item within ``policy`` and ingest the batch: the valid events are
    applied and the invalid ones kept as dead letters, in one transaction.

    Returns one result per item in input order; ``index`` is the item's position in ``items``.
    """
    screened = screen(items, now, policy)
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
    # A refused item's attributes may be what was wrong with it: a column keeps only
    # what it can hold (the payload keeps everything).
    return DeadLetterRow(
        source=_fitting(source, limits.SOURCE) or "unknown",
        message_id=_fitting(message_id, limits.MESSAGE_ID),
        type=_fitting(type_, limits.EVENT_TYPE),
        payload=payload,
        reason=reason,
    )


def _fitting(value: str | None, longest: int) -> str | None:
    if value is None or text_problem("", value, longest) is not None:
        return None
    return value
