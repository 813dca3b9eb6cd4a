"""Integration messages delivered as signed webhooks to the subscriptions that want them.

The body follows the Standard Webhooks shape (``type``, ``timestamp``, ``data``); the
message's idempotency key is its ``webhook-id``, the same on every attempt, so receivers
deduplicate by it. Signing and posting belong to the ``WebhookSender`` adapter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple, Protocol

import orjson

from relevo.domain.model import JSON, iso
from relevo.services.delivery import Delivery, DeliveryOutcome, Envelope
from relevo.services.delivery_records import Subscription
from relevo.services.unit_of_work import Store

#: Answers that may pass on a retry (timeout, too early, too many requests); every other
#: 4xx — and a redirect, which webhooks do not follow — is permanent.
_TRANSIENT_STATUSES = frozenset({408, 425, 429})


class WebhookPost(NamedTuple):
    """What a receiver answered: its HTTP status, or ``None`` and why nothing came back."""

    status: int | None
    error: str = ""


class WebhookSender(Protocol):
    """Signs and posts one webhook (the httpx adapter)."""

    def send(
        self,
        url: str,
        secrets: Sequence[str],
        message_id: str,
        at: datetime,
        body: bytes,
    ) -> WebhookPost:
        """Post ``body`` to ``url`` with the ``webhook-id``/``-timestamp``/``-signature``
        headers, one signature per secret; never raises for a network failure."""
        ...


def webhook_body(envelope: Envelope) -> bytes:
    """The body posted for ``envelope``: its topic as ``type``, when it was written, and
    its payload as ``data``."""
    document: JSON = {
        "type": envelope.topic,
        "timestamp": iso(envelope.created_at),
        "data": envelope.payload,
    }
    return orjson.dumps(document)


def classify(post: WebhookPost) -> DeliveryOutcome:
    """2xx sent; no answer, 5xx, 408, 425 or 429 transient; anything else permanent."""
    if post.status is None or post.status >= 500 or post.status in _TRANSIENT_STATUSES:
        return DeliveryOutcome.FAILED_TRANSIENT
    if 200 <= post.status < 300:
        return DeliveryOutcome.SENT
    return DeliveryOutcome.FAILED_PERMANENT


class SubscriptionCache:
    """The active subscriptions, read again once ``ttl`` seconds have passed (a new or
    deactivated subscription takes effect within that time)."""

    def __init__(self, store: Store, ttl: float = 1.0) -> None:
        self.store = store
        self.ttl = ttl
        self._lock = threading.Lock()
        self._read_at = -float("inf")
        self._active: list[Subscription] = []

    def active(self) -> list[Subscription]:
        """The active subscriptions, at most ``ttl`` seconds old."""
        with self._lock:
            if time.monotonic() - self._read_at >= self.ttl:
                with self.store.unit_of_work(read_only=True) as uow:
                    self._active = [s for s in uow.subscriptions() if s.active]
                self._read_at = time.monotonic()
            return self._active


class WebhookDeliverer:
    """A ``Deliverer`` posting each message to every active subscription of its topic.

    The outcome is the worst of the posts (transient before permanent before sent): a
    retry posts to every subscription again, under the same ``webhook-id``.
    """

    def __init__(self, subscriptions: SubscriptionCache, sender: WebhookSender) -> None:
        self.subscriptions = subscriptions
        self.sender = sender

    def deliver(self, envelope: Envelope, now: datetime) -> Delivery:
        """Post ``envelope`` to its subscriptions; sent to nobody when none wants it."""
        wanted = [s for s in self.subscriptions.active() if s.wants(envelope.topic)]
        if not wanted:
            detail = f"no active subscription takes {envelope.topic}"
            return Delivery(DeliveryOutcome.SENT, detail, facts={"subscriptions": []})
        body = webhook_body(envelope)
        results: list[JSON] = []
        outcomes: list[DeliveryOutcome] = []
        for subscription in wanted:
            signing = subscription.signing_secrets(iso(now))
            post = self.sender.send(subscription.url, signing, envelope.message_id, now, body)
            outcomes.append(classify(post))
            results.append(_facts(subscription, post))
        outcome = _worst(outcomes)
        failed = [r for r in results if not (200 <= (r["status"] or 0) < 300)]
        detail = "; ".join(f"{r['subscription']}: {r['error'] or r['status']}" for r in failed)
        return Delivery(
            outcome,
            detail or f"{len(results)} subscription(s) answered 2xx",
            facts={"subscriptions": results},
        )


def _facts(subscription: Subscription, post: WebhookPost) -> JSON:
    return {
        "subscription": subscription.id,
        "url": subscription.url,
        "status": post.status,
        "error": post.error,
    }


def _worst(outcomes: Sequence[DeliveryOutcome]) -> DeliveryOutcome:
    for outcome in (DeliveryOutcome.FAILED_TRANSIENT, DeliveryOutcome.FAILED_PERMANENT):
        if outcome in outcomes:
            return outcome
    return DeliveryOutcome.SENT
