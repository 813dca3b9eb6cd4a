"""What goes into ingest and what comes out: inbound messages, batches of them, and the
result for each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

from relevo.domain.model import JSON, Outcome
from relevo.services.records import DeadLetterRow


@dataclass
class Inbound:
    """One inbound message (a CloudEvent already validated at the edge)."""

    source: str
    id: str
    type: str
    data: JSON
    occurred_at: datetime
    subject: str | None = None
    actor: str = "system"
    channel: str = "backend"
    raw: JSON = field(default_factory=dict)


@dataclass
class IngestResult:
    """What became of one inbound message."""

    index: int
    source: str | None
    id: str | None
    outcome: Outcome
    process_id: str | None = None
    reason: str | None = None
    reason_code: str | None = None

    def as_json(self) -> JSON:
        """The result as a JSON-ready mapping."""
        return {
            "index": self.index,
            "id": self.id,
            "source": self.source,
            "outcome": self.outcome.value,
            "process_id": self.process_id,
            "reason": self.reason,
            "reason_code": self.reason_code,
        }


class InboundBatch(Sequence[Inbound]):
    """The valid messages of a batch (it reads as their sequence) with the dead letters of
    the items refused at the edge: the ingestor writes those in the same transaction as
    the batch, so what a sender is told and what is stored always agree."""

    __slots__ = ("items", "refused")

    def __init__(self, items: Sequence[Inbound], refused: Sequence[DeadLetterRow] = ()) -> None:
        self.items = items
        self.refused = refused

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Inbound]:
        return iter(self.items)

    @overload
    def __getitem__(self, index: int) -> Inbound: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Inbound]: ...

    def __getitem__(self, index: int | slice) -> Inbound | Sequence[Inbound]:
        return self.items[index]
