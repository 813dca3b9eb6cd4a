"""What goes into ingest and what comes out: inbound messages, batches of them, and the
result for each."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

import orjson

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


_DIGEST_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def content_digest(item: Inbound) -> str:
    """A digest of what ``item`` says — type, subject, time, data, actor, channel — and
    not of how it travelled (id, source, specversion, content type): two sendings of one
    message agree on it, a different payload under the same id does not.

    A CloudEvent without a ``time`` (timed on arrival) counts as having none.
    """
    raw = item.raw
    moment = item.occurred_at.timestamp() if not raw or "time" in raw else None
    content = (item.type, item.subject, moment, item.data, item.actor, item.channel)
    return hashlib.blake2b(
        orjson.dumps(content, option=_DIGEST_OPTIONS), digest_size=16
    ).hexdigest()


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


#: The ``reason_code`` of a message re-sent under a received id with another content.
CONFLICTING_DUPLICATE = "conflicting_duplicate"


def duplicate(index: int, item: Inbound, received: str | None) -> IngestResult:
    """The answer to ``item``, already received with the digest ``received``: a duplicate,
    or a conflicting one when its content differs (an unknown digest counts as the same)."""
    said = f"message {item.id!r} from {item.source!r} was already received"
    if received is None or received == content_digest(item):
        return IngestResult(
            index, item.source, item.id, Outcome.DUPLICATE, reason=said, reason_code="duplicate"
        )
    return IngestResult(
        index,
        item.source,
        item.id,
        Outcome.DUPLICATE,
        reason=f"{said} with a different content: the content received first was kept; "
        "this one was not applied and is kept as a dead letter for inspection (send a new "
        "fact under a new id)",
        reason_code=CONFLICTING_DUPLICATE,
    )
