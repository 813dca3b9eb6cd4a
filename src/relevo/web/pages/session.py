"""The customer's session: a signed cookie naming the customer and until when it is valid.

A link's token is exchanged once for this cookie, so the token leaves the address bar. The
cookie is ``<payload>.<signature>`` (base64url): the payload is the customer id and the
expiry (Unix seconds); the signature is HMAC-SHA256 under a key derived from the link
secret, so a link token can never pass for a session nor the reverse. The CSRF token of
every form is derived from the cookie, so it is per session and needs no storage. A form
shown to someone not signed in gets its token from a random cookie of its own instead.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from relevo.services.notifications.links import b64_decode, b64_encode

#: The cookie's name.
COOKIE = "relevo_session"
#: The cookie that ties a form shown to someone not signed in (asking for a new link) to
#: its CSRF token: a random value, and the token is its HMAC (a signed double submit).
FORM_COOKIE = "relevo_form"
#: How long a session lasts after the link was opened.
SESSION_LIFETIME = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class CustomerSession:
    """Who is signed in, until when, and the cookie value that says so."""

    customer_id: str
    expires_at: datetime
    cookie: str


class SessionKeys:
    """Signs and checks session cookies and CSRF tokens with keys derived from ``secret``."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the customer pages need RELEVO_LINK_SECRET")
        self.link_secret = secret
        self._session_key = _derive(secret, b"relevo customer session")
        self._csrf_key = _derive(secret, b"relevo customer csrf")
        self._form_key = _derive(secret, b"relevo signed-out form csrf")

    def open(self, customer_id: str, now: datetime) -> CustomerSession:
        """A new session for ``customer_id`` starting at ``now``."""
        expires_at = now + SESSION_LIFETIME
        body = f"{customer_id}\n{int(expires_at.timestamp())}".encode()
        signature = hmac.new(self._session_key, body, hashlib.sha256).digest()
        return CustomerSession(
            customer_id, expires_at, f"{b64_encode(body)}.{b64_encode(signature)}"
        )

    def read(self, cookie: str | None, now: datetime) -> CustomerSession | None:
        """The session ``cookie`` carries if it is genuine and not expired; else ``None``."""
        if not cookie or len(cookie) > 2048:
            return None
        body_text, _, signature_text = cookie.partition(".")
        try:
            body, signature = b64_decode(body_text), b64_decode(signature_text)
            expected = hmac.new(self._session_key, body, hashlib.sha256).digest()
            if not hmac.compare_digest(signature, expected):
                return None
            customer_id, expiry = body.decode().split("\n")
            expires_at = datetime.fromtimestamp(int(expiry), UTC)
        except (ValueError, UnicodeDecodeError, OverflowError):
            return None
        if now >= expires_at:
            return None
        return CustomerSession(customer_id, expires_at, cookie)

    def csrf_token(self, session: CustomerSession) -> str:
        """The token every form of ``session`` must send back."""
        return hmac.new(self._csrf_key, session.cookie.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session: CustomerSession, token: object) -> bool:
        """Whether ``token`` is the CSRF token of ``session``."""
        return isinstance(token, str) and hmac.compare_digest(
            token.encode(), self.csrf_token(session).encode()
        )

    def form_csrf_token(self, nonce: str) -> str:
        """The CSRF token of a signed-out form whose cookie holds ``nonce``."""
        return hmac.new(self._form_key, nonce.encode(), hashlib.sha256).hexdigest()

    def form_csrf_ok(self, nonce: str | None, token: object) -> bool:
        """Whether ``token`` is the CSRF token of a signed-out form for cookie ``nonce``."""
        if not nonce or len(nonce) > 100 or not isinstance(token, str):
            return False
        return hmac.compare_digest(token.encode(), self.form_csrf_token(nonce).encode())


def _derive(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()
