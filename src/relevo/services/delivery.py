"""What the worker needs from whoever sends one outbox message: the delivery port.

The worker claims outbox messages, hands each to the ``Deliverer`` registered for its topic
(``notification.requested`` → the notifier; integration topics → signed webhooks; milestone
summaries → the CRM) and records the ``Delivery`` it gets back as one attempt. A deliverer
never writes the outbox itself: it sends, or says why it did not. One that can read ahead
for a whole claimed batch (``BatchDeliverer``) is told the batch first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from relevo.domain.model import JSON
from relevo.services.delivery_records import SendRecord


class DeliveryOutcome(StrEnum):
    """What became of one attempt to deliver one outbox message."""

    #: Handed over to the channel (SMTP server, SMS provider, webhook receiver answered 2xx).
    SENT = "sent"
    #: Not now (quiet hours, daily cap): try again at ``Delivery.retry_at``; not a failure.
    DEFERRED = "deferred"
    #: A later state made it wrong or useless (date moved, process ended, problem fixed):
    #: never sent, and never retried.
    SUPERSEDED = "superseded"
    #: Failed in a way that may pass (timeout, 5xx, connection refused): retried with backoff.
    FAILED_TRANSIENT = "failed_transient"
    #: Failed in a way a retry cannot fix (4xx, invalid address): dead at once.
    FAILED_PERMANENT = "failed_permanent"


@dataclass(frozen=True, slots=True)
class Envelope:
    """One outbox message as the worker hands it to a deliverer.

    ``message_id`` is stable across attempts (receivers deduplicate by it); ``attempt``
    counts from 1.
    """

    outbox_id: int
    message_id: str
    process_id: str
    topic: str
    payload: JSON
    created_at: datetime
    attempt: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """The result of one attempt: its outcome, a short reason a person can read, when to
    try again (deferred only), what was sent (channel, recipient masked, …) and the business
    keys it was sent under, which the worker records in the attempt's transaction."""

    outcome: DeliveryOutcome
    detail: str = ""
    retry_at: datetime | None = None
    facts: JSON | None = None
    sends: tuple[SendRecord, ...] = ()


class Deliverer(Protocol):
    """Sends the messages of the topics it is registered for."""

    def deliver(self, envelope: Envelope, now: datetime) -> Delivery:
        """Try to deliver ``envelope`` now; never raises for a delivery failure (it is an
        outcome), only for a defect."""
        ...


@runtime_checkable
class BatchDeliverer(Deliverer, Protocol):
    """A deliverer that reads what a claimed batch needs at once, before its messages are
    delivered one by one (the notifier: the processes' states, what was already sent)."""

    def prepare(self, envelopes: Sequence[Envelope], now: datetime) -> None:
        """Read ahead for ``envelopes``, about to be delivered in this order; what was read
        serves the following ``deliver`` calls until the next ``prepare``."""
        ...
