"""API keys: create them, verify a presented key, revoke them.

A key reads ``rlv_<prefix>_<secret>``. The prefix is public and finds the stored row; only
the SHA-256 of the secret is stored, and the comparison is constant-time. The plaintext is
returned once, at creation, and cannot be recovered afterwards.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from relevo.domain.model import iso
from relevo.services.records import ApiKeyRow
from relevo.services.unit_of_work import Store

INGEST = "ingest"
CHANNEL = "channel"
ADMIN = "admin"
#: Every scope a key may carry; ``admin`` implies the others.
SCOPES = (INGEST, CHANNEL, ADMIN)

_MARK = "rlv"
_SHAPE = re.compile(r"\brlv_[0-9a-f]{8}_\S")


class InvalidScope(ValueError):
    """A scope name that does not exist; ``str()`` lists the valid ones."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A verified key: who presented it and what it may do."""

    id: str
    name: str
    prefix: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        """True when this key carries ``scope`` or ``admin``."""
        return scope in self.scopes or ADMIN in self.scopes


def check_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes as a set; raises InvalidScope for an unknown or empty list."""
    wanted = frozenset(scopes)
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise InvalidScope(
            f"unknown scope(s) {', '.join(unknown)}; valid scopes are {', '.join(SCOPES)}"
        )
    if not wanted:
        raise InvalidScope(f"a key needs at least one scope: {', '.join(SCOPES)}")
    return wanted


def looks_like_key(text: str) -> bool:
    """True when ``text`` holds something shaped like an API key (``rlv_<prefix>_…``)."""
    return _SHAPE.search(text) is not None


def create_key(
    store: Store, name: str, scopes: Iterable[str], *, now: datetime | None = None
) -> tuple[str, str]:
    """Store a new key and return ``(id, plaintext)``; the plaintext is shown only once.

    Raises InvalidScope for unknown scopes and ValueError for an empty name.
    """
    if not name.strip():
        raise ValueError("a key needs a name that says who uses it")
    wanted = check_scopes(scopes)
    # Hex keeps "_" out of the prefix, so the key splits unambiguously.
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key_id = f"key_{secrets.token_hex(8)}"
    with store.unit_of_work() as uow:
        uow.add_api_key(
            id=key_id,
            name=name.strip(),
            prefix=prefix,
            secret_hash=_digest(secret),
            scopes=wanted,
            created_at=iso(now or datetime.now(UTC)),
        )
        uow.commit()
    return key_id, f"{_MARK}_{prefix}_{secret}"


def verify_key(store: Store, presented: str) -> ApiKey | None:
    """The key ``presented`` stands for, or ``None`` if it is malformed, unknown or revoked."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != _MARK or not parts[1] or not parts[2]:
        return None
    _, prefix, secret = parts
    with store.unit_of_work(read_only=True) as uow:
        row = uow.find_api_key_by_prefix(prefix)
    if row is None or not row.active:
        return None
    if not hmac.compare_digest(_digest(secret), row.secret_hash):
        return None
    return _key(row)


def revoke_key(store: Store, key_id: str, *, now: datetime | None = None) -> None:
    """Revoke a key from now on; raises LookupError for an unknown id."""
    with store.unit_of_work() as uow:
        uow.revoke_api_key(key_id, iso(now or datetime.now(UTC)))
        uow.commit()


def list_keys(store: Store) -> list[ApiKeyRow]:
    """Every stored key (hashes only), oldest first."""
    with store.unit_of_work(read_only=True) as uow:
        return uow.api_keys()


class KeyCache:
    """Remembers verifications for ``ttl`` seconds so that a busy client does not cost a
    database lookup per request.

    A key revoked elsewhere (another process, ``relevo keys revoke``) keeps working here
    until its cached verification expires: at most ``ttl`` (1 s by default,
    ``RELEVO_KEY_CACHE_SECONDS``). ``ttl`` 0 checks every request.
    """

    def __init__(
        self,
        store: Store,
        *,
        ttl: float = 1.0,
        max_entries: int = 10_000,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl
        self._max = max_entries
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, ApiKey | None]] = {}

    def remembered(self, presented: str) -> tuple[bool, ApiKey | None]:
        """``(True, answer)`` when a fresh answer for ``presented`` is in memory, else
        ``(False, None)``; never touches the store, so it may run on an event loop."""
        # Cache by digest so plaintext keys are not held in memory longer than a request.
        hit = self._seen.get(_digest(presented))
        if hit is not None and hit[0] > self._monotonic():
            return True, hit[1]
        return False, None

    def verify(self, presented: str) -> ApiKey | None:
        """Like ``verify_key``, answered from memory while a recent answer is fresh."""
        known, answer = self.remembered(presented)
        if known:
            return answer
        token = _digest(presented)
        now = self._monotonic()
        key = verify_key(self._store, presented)
        with self._lock:
            if len(self._seen) >= self._max:
                self._seen.clear()
            self._seen[token] = (now + self._ttl, key)
        return key

    def forget(self) -> None:
        """Drop every cached answer (after revoking a key, for instance)."""
        with self._lock:
            self._seen.clear()


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _key(row: ApiKeyRow) -> ApiKey:
    return ApiKey(id=row.id, name=row.name, prefix=row.prefix, scopes=row.scopes)
