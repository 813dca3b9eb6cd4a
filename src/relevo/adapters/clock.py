"""The system clock: the one place relevo reads the time of day."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The current moment, timezone-aware, in UTC."""
    return datetime.now(UTC)
