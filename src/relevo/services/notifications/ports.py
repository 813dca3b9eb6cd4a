"""What the notifier needs from the channels: an e-mail sender, an SMS sender and a log of
what was sent (for deduplication and the daily cap)."""

from __future__ import annotations

from collections.abc import Iterable
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
    """What was sent to whom, by business key (one key is sent once). Sends are written
    by the worker with the attempts that made them, not through this port."""

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        """The business keys among ``keys`` already sent."""
        ...

    def count_since(self, recipient: str, since: datetime) -> int:
        """How many messages were sent to ``recipient`` from ``since`` on."""
        ...
