"""Signed, expiring links to the customer's own page.

A token is ``<payload>.<signature>``, both base64url without padding: the payload is
``process_id``, ``customer_id`` and the expiry (Unix seconds) joined by newlines; the
signature is HMAC-SHA256 of the payload under the configured secret. Whoever holds the
link sees that process until it expires; nobody can forge or alter one without the secret.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime


class InvalidLink(Exception):
    """A token that is malformed, altered, expired or used up; ``reason`` says which.
    ``claims`` are the genuine claims of an expired or used-up token (``None`` otherwise):
    who to send a new link to."""

    def __init__(self, reason: str, claims: LinkClaims | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.claims = claims


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """What a valid token grants: one process of one customer, until ``expires_at``."""

    process_id: str
    customer_id: str
    expires_at: datetime


def sign_token(secret: str, process_id: str, customer_id: str, expires_at: datetime) -> str:
    """A token for ``process_id`` of ``customer_id`` valid until ``expires_at``."""
    if not secret:
        raise ValueError("a link secret is needed to sign customer links")
    body = f"{process_id}\n{customer_id}\n{int(expires_at.timestamp())}".encode()
    return f"{b64_encode(body)}.{b64_encode(_mac(secret, body))}"


def verify_token(secret: str, token: str, now: datetime) -> LinkClaims:
    """The claims of ``token`` if it was signed with ``secret`` and has not expired at
    ``now``; raises InvalidLink (``malformed``, ``tampered`` or ``expired``)."""
    body_text, dot, signature_text = token.partition(".")
    try:
        if not dot:
            raise ValueError
        body, signature = b64_decode(body_text), b64_decode(signature_text)
    except ValueError:
        raise InvalidLink("malformed") from None
    if not hmac.compare_digest(signature, _mac(secret, body)):
        raise InvalidLink("tampered")
    try:
        process_id, customer_id, expiry = body.decode().split("\n")
        expires_at = datetime.fromtimestamp(int(expiry), UTC)
    except ValueError:
        raise InvalidLink("malformed") from None
    claims = LinkClaims(process_id, customer_id, expires_at)
    if now >= expires_at:
        raise InvalidLink("expired", claims)
    return claims


def page_link(base_url: str, token: str) -> str:
    """The customer's page for ``token`` under the public ``base_url``."""
    return f"{base_url.rstrip('/')}/p/{token}"


def _mac(secret: str, body: bytes) -> bytes:
    return hmac.new(secret.encode(), body, hashlib.sha256).digest()


def b64_encode(data: bytes) -> str:
    """``data`` as base64url without padding (the form tokens use)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64_decode(text: str) -> bytes:
    """The bytes of unpadded base64url ``text``; raises ValueError when it is not."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, UnicodeEncodeError):
        raise ValueError(text) from None
