"""Rate limits counted in the store, so they hold however many server workers answer.

A limit allows ``limit`` requests per fixed window (aligned on the Unix epoch) for each
key — a client address, a customer, a typed reference. Keys are stored as a digest (the
store never keeps a client's address or what a stranger typed). A request refused by a
limit is not counted; one refused by a later limit of the same request still counts in the
earlier ones (they were asked).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from relevo.domain.model import iso
from relevo.services.access.ports import AccessStore

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class RateLimited(Exception):
    """Too many requests of one kind; ``retry_at`` says when the next may succeed."""

    def __init__(self, limit: RateLimit, retry_at: datetime) -> None:
        super().__init__(f"{limit.name}: more than {limit.limit} per {limit.window}")
        self.limit = limit
        self.retry_at = retry_at


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``limit`` requests per ``window`` for each key of the kind ``name``."""

    name: str
    limit: int
    window: timedelta

    def window_start(self, now: datetime) -> datetime:
        """The start of the window ``now`` falls in."""
        return now - (now - _EPOCH) % self.window

    def bucket(self, key: str) -> str:
        """The stored name of ``key``'s count (a digest: no address or typed text kept)."""
        return f"{self.name}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"


def take(store: AccessStore, asked: Iterable[tuple[RateLimit, str]], now: datetime) -> None:
    """Count one request against each ``(limit, key)`` in turn; raises RateLimited at the
    first limit reached (when its window ends, the next request may pass)."""
    for limit, key in asked:
        start = limit.window_start(now)
        if not store.hit(limit.bucket(key), iso(start), limit.limit):
            raise RateLimited(limit, start + limit.window)
