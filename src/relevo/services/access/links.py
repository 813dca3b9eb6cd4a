"""Opening a customer link and asking for a new one.

**Uses.** A link is exchanged for a session at most ``LINK_USES`` times, all within
``LINK_GRACE`` of its first use. One use is the point; the grace lets a double click, a
mail or messaging app that opens the link to scan or preview it, or opening it on the phone
and then the laptop right away still work, while a link found in a mailbox later does
not. (A browser that still holds a session of the same customer is let in by the page
without using the link up again.) A used-up, expired or altered link gets a page that
offers a new one.

**New links.** Anyone may ask for a new link by typing a process reference (or with the
expired or used-up link, which names its process). The answer never says whether the
reference exists: the link goes only to the contact on file, never to an address typed in
a form, and the same words are shown either way. Requests are limited per client address
and per reference typed (both counted whether or not the reference exists, so a refusal
gives nothing away), and per customer, where the excess is dropped silently. A known and an
unknown reference also cost the store the same work (see ``request_link``), so the time the
answer takes does not tell them apart either.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from relevo.domain.model import ProcessState, iso
from relevo.services.access.limits import RateLimit, take
from relevo.services.access.messages import link_message
from relevo.services.access.ports import AccessStore
from relevo.services.notifications.links import InvalidLink, LinkClaims, verify_token

#: How many times one link may be exchanged for a session.
LINK_USES = 3
#: How long after its first use a link may still be exchanged (up to ``LINK_USES``).
LINK_GRACE = timedelta(minutes=10)
#: New-link requests from one client address.
PER_ADDRESS = RateLimit("link:address", 10, timedelta(hours=1))
#: New-link requests naming one reference.
PER_REFERENCE = RateLimit("link:reference", 3, timedelta(hours=1))
#: New links sent to one customer (the excess is not sent, and not said).
PER_CUSTOMER = RateLimit("link:customer", 5, timedelta(hours=1))
#: What the customer-limit key of an unknown reference starts with (customer ids are the
#: CRM's and never start with it).
UNKNOWN_CUSTOMER = "\x00unknown:"
#: The longest reference looked up; anything longer cannot exist.
MAX_REFERENCE = 200

StateReader = Callable[[Iterable[str]], Mapping[str, ProcessState]]


def exchange(store: AccessStore, secret: str, token: str, now: datetime) -> LinkClaims:
    """The claims of ``token`` when it may be exchanged for a session now (the use is
    counted); raises InvalidLink: ``malformed``, ``tampered``, ``expired`` or ``used``."""
    claims = verify_token(secret, token, now)
    digest = hashlib.sha256(token.encode()).hexdigest()
    allowed = store.use_link(
        digest,
        claims.process_id,
        iso(claims.expires_at),
        iso(now),
        since=iso(now - LINK_GRACE),
        most=LINK_USES,
    )
    if not allowed:
        raise InvalidLink("used", claims)
    return claims


def request_link(
    store: AccessStore, states: StateReader, reference: str, client: str, now: datetime
) -> None:
    """Send a new link to the contact on file of process ``reference``, if it exists and
    its customer has not had too many; raises RateLimited for too many requests from
    ``client`` or for ``reference`` (see the module doc). Says nothing else, on purpose."""
    reference = reference.strip()
    take(store, [(PER_ADDRESS, client), (PER_REFERENCE, reference)], now)
    state = None
    if reference and len(reference) <= MAX_REFERENCE and reference.isprintable():
        state = states([reference]).get(reference)
    # Known or not, the same store work follows: one count in the customer's limit (for an
    # unknown reference, a count of its own that no customer shares) and, in the same
    # transaction, the message when there is one. The answer's timing then tells as little
    # as its words; over the limit, nothing is sent and nothing is said.
    key = state.customer_id if state is not None else UNKNOWN_CUSTOMER + reference
    message = link_message(state, secrets.token_hex(8), now) if state is not None else None
    window = PER_CUSTOMER.window_start(now)
    store.hit_and_enqueue(
        PER_CUSTOMER.bucket(key), iso(window), PER_CUSTOMER.limit, message, iso(now)
    )
