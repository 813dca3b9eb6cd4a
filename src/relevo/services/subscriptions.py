"""Webhook subscriptions: who receives which integration messages, signed with which secret.

A secret is shown once, when it is made (``whsec_`` and 32 random bytes in base64, the
Standard Webhooks form); rotating it keeps the previous one signing beside the new one for
an overlap, so receivers can switch without missing a message.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from relevo.domain.model import iso
from relevo.services.delivery_records import Subscription
from relevo.services.processes import NotFound
from relevo.services.unit_of_work import Store

SECRET_PREFIX = "whsec_"
#: How long a rotated secret keeps signing beside the new one, unless told otherwise.
DEFAULT_OVERLAP = timedelta(hours=24)
#: The longest overlap a rotation may ask for.
MAX_OVERLAP = timedelta(days=30)

Clock = Callable[[], datetime]


class InvalidSubscription(ValueError):
    """A subscription's URL or event types are not usable; the message says what to fix."""


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str) -> str:
    """``url`` when it is an absolute http(s) URL with a host; else ``InvalidSubscription``."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidSubscription(
            f"the URL {url!r} is not an absolute http:// or https:// URL with a host"
        )
    return url.strip()


def check_event_types(event_types: Iterable[str]) -> tuple[str, ...]:
    """The event types, stripped and without repeats; ``*`` takes every type."""
    wanted = tuple(dict.fromkeys(t.strip() for t in event_types if t.strip()))
    if not wanted:
        raise InvalidSubscription("name at least one event type (or '*' for every type)")
    too_long = [t for t in wanted if len(t) > 100]
    if too_long:
        raise InvalidSubscription(f"event type {too_long[0][:40]!r}… is longer than 100 characters")
    return wanted


def create(
    store: Store, url: str, event_types: Iterable[str], clock: Clock
) -> tuple[Subscription, str]:
    """Store an active subscription; returns it and its secret (shown this once)."""
    subscription = Subscription(
        id="sub_" + secrets.token_hex(8),
        url=check_url(url),
        event_types=check_event_types(event_types),
        secret=new_secret(),
        previous_secret=None,
        previous_until=None,
        active=True,
        created_at=iso(clock()),
    )
    with store.unit_of_work() as uow:
        uow.add_subscription(subscription)
        uow.commit()
    return subscription, subscription.secret


def listing(store: Store) -> list[Subscription]:
    """Every subscription, oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.subscriptions()


def rotate(
    store: Store, id: str, clock: Clock, overlap: timedelta = DEFAULT_OVERLAP
) -> tuple[Subscription, str]:
    """Give a subscription a new secret; the old one signs beside it for ``overlap``.
    Returns the subscription and the new secret (shown this once); ``NotFound``."""
    if not timedelta(0) <= overlap <= MAX_OVERLAP:
        raise InvalidSubscription(f"the overlap must be between 0 and {MAX_OVERLAP.days} days")
    with store.unit_of_work() as uow:
        current = _find(uow.subscriptions(), id)
        rotated = replace(
            current,
            secret=new_secret(),
            previous_secret=current.secret if overlap else None,
            previous_until=iso(clock() + overlap) if overlap else None,
        )
        uow.update_subscription(rotated)
        uow.commit()
    return rotated, rotated.secret


def deactivate(store: Store, id: str) -> Subscription:
    """Stop delivering to a subscription (kept for the record); ``NotFound``."""
    with store.unit_of_work() as uow:
        current = _find(uow.subscriptions(), id)
        stopped = replace(current, active=False)
        uow.update_subscription(stopped)
        uow.commit()
    return stopped


def public(subscription: Subscription) -> dict[str, object]:
    """A subscription as shown to an administrator: everything but its secrets."""
    return {
        "id": subscription.id,
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "active": subscription.active,
        "created_at": subscription.created_at,
        "previous_secret_until": subscription.previous_until,
    }


def _find(subscriptions: list[Subscription], id: str) -> Subscription:
    for subscription in subscriptions:
        if subscription.id == id:
            return subscription
    raise NotFound(f"No subscription {id}; 'relevo subscriptions list' shows them.")
