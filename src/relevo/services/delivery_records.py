"""The records of outbound delivery the worker and the admin views read and write through a
unit of work: outbox entries with their delivery state, the attempts made on them, webhook
subscriptions and the backlog figures behind ``/metrics`` and ``/readyz``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from relevo.domain.model import JSON

#: An outbox entry waiting to be delivered (or to be tried again).
PENDING = "pending"
#: Handed over to its channel (or to nobody: no subscription wanted it).
SENT = "sent"
#: Made wrong by a later state: never sent.
SUPERSEDED = "superseded"
#: Failed permanently, or too often: waits for a person to replay it.
DEAD = "dead"
OUTBOX_STATUSES = (PENDING, SENT, SUPERSEDED, DEAD)


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """An outbox message with its delivery state.

    A ``pending`` entry is claimed by a worker when ``claimed_until`` is in the future;
    ``available_at`` is when it may be (re)tried; ``attempts`` counts the tries that were not
    deferred.
    """

    id: int
    process_id: str
    topic: str
    payload: JSON
    idempotency_key: str
    created_at: str
    available_at: str
    attempts: int
    status: str
    claimed_by: str | None
    claimed_until: str | None
    sent_at: str | None
    last_error: str | None


class SendRecord(NamedTuple):
    """A message handed to a channel under a business key: recorded with the attempt that
    sent it, in the same transaction, so a key is taken exactly when its attempt is."""

    business_key: str
    recipient: str
    channel: str
    at: str


class AttemptRow(NamedTuple):
    """One delivery attempt to record, and the entry's state after it."""

    outbox_id: int
    process_id: str
    topic: str
    attempt: int
    at: str
    outcome: str
    detail: str
    facts: JSON | None
    #: The entry's new status, attempts count and next ``available_at``.
    status: str
    attempts: int
    available_at: str
    #: What the attempt sent under a business key (a notification's channels).
    sends: tuple[SendRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class DeliveryAttempt:
    """A recorded attempt, as read back (newest last)."""

    id: int
    outbox_id: int
    process_id: str
    topic: str
    attempt: int
    at: str
    outcome: str
    detail: str
    facts: JSON | None


@dataclass(frozen=True, slots=True)
class Subscription:
    """A webhook receiver: where to post which event types, signed with which secret.

    While ``previous_until`` is in the future, ``previous_secret`` signs beside ``secret``
    (a rotation's overlap).
    """

    id: str
    url: str
    event_types: tuple[str, ...]
    secret: str
    previous_secret: str | None
    previous_until: str | None
    active: bool
    created_at: str

    def wants(self, topic: str) -> bool:
        """True when this active subscription receives ``topic`` (``*`` takes every one)."""
        return self.active and ("*" in self.event_types or topic in self.event_types)

    def signing_secrets(self, now: str) -> list[str]:
        """The secrets that sign a message sent at ``now``: the current one, and the
        previous one during a rotation's overlap."""
        if self.previous_secret and self.previous_until and now < self.previous_until:
            return [self.secret, self.previous_secret]
        return [self.secret]


class BacklogCount(NamedTuple):
    """How many outbox entries of one topic are in one status."""

    topic: str
    status: str
    entries: int


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """The outbox at a glance: entries per topic and status, attempts per outcome, and the
    ``available_at`` of the oldest pending entry that is due (``None``: none is)."""

    backlog: list[BacklogCount]
    attempts: dict[str, int]
    oldest_due: str | None
