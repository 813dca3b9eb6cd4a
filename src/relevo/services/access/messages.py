"""The messages the access services ask the notifier to send — a new link, a one-time code —
written to the outbox as ``notification.requested`` entries marked ``access``, and where
they go: the contact on file, never an address someone typed.

The outbox never holds a secret: a link is signed when the message is sent, and a code is
derived then from the code's id (``codes.code_for``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from relevo.domain.contact import contact_email, contact_phone
from relevo.domain.model import ProcessState, iso
from relevo.domain.outbox import NOTIFICATION_TOPIC
from relevo.services.access.ports import CodeRecord
from relevo.services.records import OutboxRow

#: ``payload["access"]`` of a new link.
LINK = "link"
#: ``payload["access"]`` of a one-time code.
CODE = "code"
#: Channels in the order they are preferred for access messages (an SMS arrives where the
#: customer is looking; e-mail when there is no mobile).
PREFERRED = ("sms", "email")


def reach(attributes: Mapping[str, Any], channel: str | None = None) -> tuple[str, str] | None:
    """``(channel, address)`` on file to reach a customer: ``channel`` if given and on
    file; else SMS before e-mail, among the channels the customer accepts when any of them
    is on file; ``None`` when there is no contact at all."""
    on_file = {
        "sms": contact_phone(attributes.get("contact_phone")),
        "email": contact_email(attributes.get("contact_email")),
    }
    if channel is not None:
        address = on_file.get(channel)
        return (channel, address) if address else None
    accepted = attributes.get("notify_channels")
    usable = [ch for ch in PREFERRED if on_file[ch]]
    if isinstance(accepted, list):
        usable = [ch for ch in usable if ch in accepted] or usable
    return (usable[0], str(on_file[usable[0]])) if usable else None


def link_message(state: ProcessState, request_id: str, now: datetime) -> OutboxRow:
    """The outbox entry asking for a new link to ``state``'s page, in the customer's
    language, to the contact on file."""
    payload = {
        "access": LINK,
        "process_id": state.id,
        "customer_id": state.customer_id,
        "language": state.language,
    }
    return _row(state.id, payload, f"{state.id}:access:link:{request_id}", now)


def code_message(code: CodeRecord, lang: str, now: datetime) -> OutboxRow:
    """The outbox entry asking for ``code`` to be sent on its channel in ``lang``."""
    payload = {
        "access": CODE,
        "process_id": code.process_id,
        "customer_id": code.customer_id,
        "code_id": code.id,
        "channel": code.channel,
        "language": lang,
        "expires_at": code.expires_at,
    }
    return _row(code.process_id, payload, f"{code.process_id}:access:code:{code.id}", now)


def _row(process_id: str, payload: dict[str, Any], key: str, now: datetime) -> OutboxRow:
    return OutboxRow(process_id, NOTIFICATION_TOPIC, payload, key, iso(now))
