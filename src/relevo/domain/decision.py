"""What the engine answers for one message: a ``Decision``, and the recorded ignored fact."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from relevo.domain.model import IGNORED, Event, Message, Outcome, ProcessState, iso


@dataclass
class Decision:
    """What a message leads to: the events to record, and how to report the message."""

    outcome: Outcome
    events: list[Event] = field(default_factory=list)
    reason: str | None = None
    reason_code: str | None = None


def rejected(reason: str, code: str) -> Decision:
    """A message that cannot be understood: nothing is recorded on the process."""
    return Decision(Outcome.REJECTED, reason=reason, reason_code=code)


def ignored(
    state: ProcessState, message: Message, now: datetime, code: str, reason: str
) -> Decision:
    """A message not allowed now, recorded on ``state``'s log as a ``message.ignored`` fact
    with the reason (``state`` is only read)."""
    event = Event(
        type=IGNORED,
        occurred_at=iso(message.occurred_at),
        recorded_at=iso(now),
        actor=message.actor,
        channel=message.channel,
        data={
            "type": message.type,
            "reason_code": code,
            "reason": reason,
            "data": dict(message.data),
        },
        effects={},
        source=message.source,
        message_id=message.id,
    )
    return Decision(Outcome.IGNORED, [event], reason=reason, reason_code=code)
