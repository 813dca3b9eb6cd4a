"""What the notifier needs from the channels: an e-mail sender, an SMS sender and a log of
what was sent (for deduplication and the daily cap)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class SendFailed(Exception):
    """A channel refused or could not take a message; ``permanent`` when a retry cannot
    help (invalid address, 4xx), otherwise it may pass (timeout, 5xx, connection refused)."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One e-mail ready to send: both parts, and the message id receivers deduplicate on."""

    to: str
    subject: str
    text: str
    html: str
    message_id: str
    language: str


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One SMS ready to send, with the stable id a provider deduplicates on."""

    to: str
    text: str
    message_id: str


class EmailSender(Protocol):
    """Hands e-mails to a mail server."""

    def send_email(self, email: OutgoingEmail) -> str:
        """Send ``email``; returns a short receipt (server answer); raises SendFailed."""
        ...


class SmsSender(Protocol):
    """Hands SMS to a provider."""

    def send_sms(self, sms: OutgoingSms) -> str:
        """Send ``sms``; returns the provider's id for it (or ""); raises SendFailed."""
        ...


class SendLog(Protocol):
    """What was sent to whom, by business key (one key is sent once)."""

    def was_sent(self, business_key: str) -> bool:
        """True once a message with ``business_key`` was sent."""
        ...

    def count_since(self, recipient: str, since: datetime) -> int:
        """How many messages were sent to ``recipient`` from ``since`` on."""
        ...

    def record(self, business_key: str, recipient: str, channel: str, at: datetime) -> None:
        """Remember that ``business_key`` went to ``recipient`` over ``channel`` at ``at``
        (recording a key again changes nothing)."""
        ...
