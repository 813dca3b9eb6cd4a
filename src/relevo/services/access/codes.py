"""One-time codes before an irreversible action (cancel, withdraw).

The signed-in customer asks for a code on the page that states the consequences; a
6-digit code goes to the contact on file (SMS preferred, else e-mail) through the
notifier. The code is derived from its random id under a key of the link secret when the
message is sent, so neither the outbox nor the store ever holds it: the store keeps only a
keyed hash. A code expires after ``CODE_LIFETIME``, takes ``CODE_ATTEMPTS`` tries, works
once, and a newer code for the same action replaces it. Requests are rate limited per
customer and process, and per client address.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from relevo.domain.model import ProcessState, iso, parse_iso
from relevo.services.access.limits import RateLimit, take
from relevo.services.access.messages import code_message, reach
from relevo.services.access.ports import OPEN, USED, AccessStore, CodeRecord

#: How long a code can be used after it was asked for.
CODE_LIFETIME = timedelta(minutes=10)
#: How many tries one code takes.
CODE_ATTEMPTS = 5
#: Digits in a code.
CODE_DIGITS = 6
#: Codes asked for one process of one customer.
PER_CUSTOMER = RateLimit("code:customer", 5, timedelta(hours=1))
#: Codes asked for from one client address.
PER_ADDRESS = RateLimit("code:address", 20, timedelta(hours=1))
#: What a pasted or typed code may carry besides its digits.
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—·.]")


class NoContact(Exception):
    """The customer has no mobile number or e-mail address on file to send a code to."""


class Check(StrEnum):
    """What a typed code turned out to be."""

    OK = "ok"
    WRONG = "wrong"
    MALFORMED = "malformed"
    EXPIRED = "expired"
    TOO_MANY = "too_many"
    USED = "used"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Checked:
    """The outcome of checking a code, and the tries left after a wrong one."""

    outcome: Check
    tries_left: int = 0


def code_for(secret: str, code_id: str) -> str:
    """The code whose id is ``code_id`` (what the notifier sends)."""
    mac = hmac.new(_key(secret, b"relevo one-time code"), code_id.encode(), hashlib.sha256)
    return str(int.from_bytes(mac.digest()[:8], "big") % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def code_hash(secret: str, code_id: str, code: str) -> str:
    """The keyed hash stored for ``code`` (a bare hash of 6 digits is guessed at once)."""
    key = _key(secret, b"relevo one-time code check")
    return hmac.new(key, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def normalise(typed: str) -> str | None:
    """The digits of a typed or pasted code (spaces, dashes and dots dropped, full-width
    digits read as digits), or ``None`` when it cannot be a code."""
    if len(typed) > 64:
        return None
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", typed))
    if len(text) != CODE_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return text


def request_code(
    store: AccessStore,
    secret: str,
    state: ProcessState,
    control_id: str,
    *,
    client: str,
    lang: str,
    now: datetime,
) -> CodeRecord:
    """Ask for a new code for ``control_id`` of ``state``, sent to its customer's contact
    on file; raises NoContact when there is none, RateLimited for too many requests."""
    where = reach(state.attributes)
    if where is None:
        raise NoContact(state.id)
    take(store, [(PER_ADDRESS, client), (PER_CUSTOMER, f"{state.customer_id}:{state.id}")], now)
    code_id = "otc_" + secrets.token_hex(12)
    code = CodeRecord(
        id=code_id,
        process_id=state.id,
        customer_id=state.customer_id,
        control_id=control_id,
        code_hash=code_hash(secret, code_id, code_for(secret, code_id)),
        channel=where[0],
        created_at=iso(now),
        expires_at=iso(now + CODE_LIFETIME),
        attempts=0,
        status=OPEN,
    )
    store.add_code(code, code_message(code, lang, now))
    return code


def pending_code(
    store: AccessStore, state: ProcessState, control_id: str, now: datetime
) -> CodeRecord | None:
    """The code the customer may type now for ``control_id``, if any."""
    code = store.latest_code(state.id, state.customer_id, control_id)
    usable = (
        code is not None
        and code.status == OPEN
        and parse_iso(code.expires_at) > now
        and code.attempts < CODE_ATTEMPTS
    )
    return code if usable else None


def check_code(
    store: AccessStore,
    secret: str,
    state: ProcessState,
    control_id: str,
    typed: str,
    now: datetime,
) -> Checked:
    """Check ``typed`` against the newest code for ``control_id`` of ``state``; ``OK``
    uses the code up. A malformed entry is not counted as a try."""
    code = store.latest_code(state.id, state.customer_id, control_id)
    if code is None:
        return Checked(Check.NONE)
    if code.status == USED:
        return Checked(Check.USED)
    if parse_iso(code.expires_at) <= now:
        return Checked(Check.EXPIRED)
    if code.attempts >= CODE_ATTEMPTS:
        return Checked(Check.TOO_MANY)
    digits = normalise(typed)
    if digits is None:
        return Checked(Check.MALFORMED, CODE_ATTEMPTS - code.attempts)
    attempts = store.try_code(code.id, CODE_ATTEMPTS)
    if attempts is None:
        return Checked(Check.TOO_MANY)
    if hmac.compare_digest(code_hash(secret, code.id, digits), code.code_hash):
        return Checked(Check.OK) if store.use_code(code.id) else Checked(Check.USED)
    left = CODE_ATTEMPTS - attempts
    return Checked(Check.WRONG, left) if left else Checked(Check.TOO_MANY)


def _key(secret: str, purpose: bytes) -> bytes:
    return hmac.new(secret.encode(), purpose, hashlib.sha256).digest()
