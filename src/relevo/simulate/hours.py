"""When people and shops are around: sales moments per channel and the next moment someone
can act, on the Spanish calendars (public holidays from ``relevo.domain.calendars``).

Hours are local wall-clock hours of the calendar's zone, as ``[open, close)`` pairs of
numbers (``9.5`` is 09:30). A channel without hours on a day is closed that day.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from relevo.domain.calendars import WorkCalendar
from relevo.simulate.config import ConfigError, SimConfig

DAYS = ("weekday", "saturday", "sunday")


@dataclass(frozen=True)
class Opening:
    """Opening hours of one channel (or party): per day type, ``(open, close)`` or None."""

    weekday: tuple[float, float] | None
    saturday: tuple[float, float] | None
    sunday: tuple[float, float] | None
    holidays: bool

    @classmethod
    def parse(cls, table: SimConfig) -> Opening:
        """Hours from a table ``{weekday = [9, 21], saturday = [10, 14], holidays = false}``."""
        spans: dict[str, tuple[float, float] | None] = {}
        for day in DAYS:
            value = table.raw.get(day)
            if value is None or value == []:
                spans[day] = None
                continue
            if (
                not isinstance(value, Sequence)
                or len(value) != 2
                or not all(isinstance(v, int | float) for v in value)
                or not 0 <= value[0] < value[1] <= 24
            ):
                raise ConfigError(f"hours {day} must be [open, close] between 0 and 24")
            spans[day] = (float(value[0]), float(value[1]))
        return cls(
            spans["weekday"], spans["saturday"], spans["sunday"], bool(table.raw.get("holidays"))
        )

    def span(self, day: date, calendar: WorkCalendar) -> tuple[float, float] | None:
        """The hours on ``day``, or None when closed."""
        if calendar.is_holiday(day) and not self.holidays:
            return None
        if day.weekday() == 6 or calendar.is_holiday(day):
            return self.sunday
        if day.weekday() == 5:
            return self.saturday
        return self.weekday

    def is_open(self, moment: datetime, calendar: WorkCalendar) -> bool:
        """True when ``moment`` falls inside the hours."""
        local = calendar.local(moment)
        span = self.span(local.date(), calendar)
        hour = local.hour + local.minute / 60
        return span is not None and span[0] <= hour < span[1]

    def next_open(
        self, moment: datetime, calendar: WorkCalendar, rng: random.Random, spread: float = 1.0
    ) -> datetime:
        """``moment`` if open then, else a moment within ``spread`` hours of the next opening."""
        if self.is_open(moment, calendar):
            return moment
        local = calendar.local(moment)
        day = local.date()
        hour = local.hour + local.minute / 60
        for offset in range(15):
            current = day + timedelta(days=offset)
            span = self.span(current, calendar)
            if span is None or (offset == 0 and hour >= span[1]):
                continue
            opens = max(span[0], hour) if offset == 0 else span[0]
            later = min(opens + rng.uniform(0, spread), span[1] - 1 / 60)
            return at_hour(current, later, calendar)
        raise ConfigError("no opening in the next two weeks: check the configured hours")


def at_hour(day: date, hour: float, calendar: WorkCalendar) -> datetime:
    """The UTC moment of local ``hour`` (fractional) on ``day``."""
    minutes = min(round(hour * 60), 24 * 60 - 1)
    clock = time(minutes // 60, minutes % 60)
    return datetime.combine(day, clock, tzinfo=calendar.tz).astimezone(UTC)


class Hours:
    """Opening hours of every channel and party, and the hourly shape of sales."""

    def __init__(self, config: SimConfig) -> None:
        section = config.section("hours")
        self.openings = {
            name: Opening.parse(section.section("open", name))
            for name in section.section("open").raw
        }
        weights = section.weights("sales_by_hour")
        self.hour_weights = {int(hour): weight for hour, weight in weights.items()}

    def opening(self, name: str) -> Opening:
        """The hours called ``name`` (a channel, or a party such as ``courier``)."""
        try:
            return self.openings[name]
        except KeyError:
            known = ", ".join(sorted(self.openings))
            raise ConfigError(f"no hours.open.{name} (known: {known})") from None

    def sales_moment(
        self,
        rng: random.Random,
        channel: str,
        calendar: WorkCalendar,
        earliest: datetime,
        latest: datetime,
    ) -> datetime | None:
        """A moment in ``[earliest, latest)`` when ``channel`` is open, shaped by the hourly
        sales weights; None if the channel never opens in that span."""
        opening = self.opening(channel)
        first = calendar.local(earliest).date()
        days = max(1, (calendar.local(latest).date() - first).days + 1)
        hours = list(self.hour_weights)
        weights = list(self.hour_weights.values())
        for _ in range(400):
            day = first + timedelta(days=rng.randrange(days))
            hour = rng.choices(hours, weights)[0] + rng.random()
            moment = at_hour(day, hour, calendar)
            if earliest <= moment < latest and opening.is_open(moment, calendar):
                return moment
        return None


def shares_of(table: Mapping[str, float], allowed: Sequence[str]) -> dict[str, float]:
    """The weights of ``table`` restricted to ``allowed`` names (a definition's choices)."""
    return {name: weight for name, weight in table.items() if name in allowed}
