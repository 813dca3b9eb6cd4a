"""The notification send log in memory (tests, the in-memory hub)."""

from __future__ import annotations

from datetime import datetime


class MemorySendLog:
    """What was sent, by business key; nothing survives the object."""

    def __init__(self) -> None:
        self.sends: dict[str, tuple[str, str, datetime]] = {}

    def was_sent(self, business_key: str) -> bool:
        """True once ``business_key`` was recorded."""
        return business_key in self.sends

    def count_since(self, recipient: str, since: datetime) -> int:
        """How many sends to ``recipient`` are recorded from ``since`` on."""
        return sum(1 for to, _, at in self.sends.values() if to == recipient and at >= since)

    def record(self, business_key: str, recipient: str, channel: str, at: datetime) -> None:
        """Record a send (a key recorded before is kept as it was)."""
        self.sends.setdefault(business_key, (recipient, channel, at))
