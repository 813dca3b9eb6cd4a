"""Simulated time: a clock a hub can run on, and the pace of accelerated real time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol, runtime_checkable


@runtime_checkable
class SettableClock(Protocol):
    """A hub clock the simulator can pin."""

    def __call__(self) -> datetime: ...

    def set(self, moment: datetime) -> None: ...


class SimClock:
    """A clock that follows the system clock until ``set`` pins it to a moment.

    Build a hub with it (``Hub(store, catalog, SimClock())``) so that the simulator can replay
    weeks of history in seconds: the engine then dates everything it records in simulated
    time. ``release`` makes it follow the system clock again.
    """

    def __init__(self, moment: datetime | None = None) -> None:
        self._moment: datetime | None = None
        if moment is not None:
            self.set(moment)

    def __call__(self) -> datetime:
        """The pinned moment, or the system time (aware, UTC)."""
        return self._moment if self._moment is not None else datetime.now(UTC)

    @property
    def pinned(self) -> datetime | None:
        """The moment the clock is pinned to, or None while it follows the system clock."""
        return self._moment

    def set(self, moment: datetime) -> None:
        """Pin the clock to ``moment`` (timezone-aware)."""
        if moment.tzinfo is None:
            raise ValueError("SimClock needs a timezone-aware moment")
        self._moment = moment.astimezone(UTC)

    def release(self) -> None:
        """Follow the system clock again."""
        self._moment = None


class Pace:
    """Simulated time running ``speed`` times faster than the wall clock from ``start``.

    ``speed`` 600 is ten simulated minutes per wall second. ``wall`` is injectable so tests
    can drive it without sleeping.
    """

    def __init__(
        self, start: datetime, speed: float, wall: Callable[[], float] = time.monotonic
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.start = start
        self.speed = speed
        self._wall = wall
        self._origin = wall()

    def now(self) -> datetime:
        """The simulated moment that corresponds to the wall clock now."""
        return self.start + timedelta(seconds=(self._wall() - self._origin) * self.speed)

    def wall_seconds_until(self, moment: datetime) -> float:
        """How long to wait on the wall clock until ``moment`` is reached (0 if past)."""
        return max(0.0, (moment - self.now()).total_seconds() / self.speed)
