"""Named working-day calendars and the arithmetic on them.

A calendar answers "is this a working day?" and moves moments by working days or working
hours in its own time zone. Holidays come from the ``holidays`` package (national plus the
regional subdivision); municipal holidays that the package does not know are listed here.
Computing a holiday list is pure (no I/O), so it belongs in the domain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holidays_lib


@dataclass(frozen=True)
class WorkCalendar:
    """Working days and hours of one named calendar.

    ``local_holidays`` are fixed (month, day) pairs added on top of the national and
    regional ones — e.g. the city of Madrid's own holidays for portability.
    """

    name: str
    timezone: str
    subdivision: str | None
    work_start: time = time(8, 0)
    work_end: time = time(20, 0)
    local_holidays: tuple[tuple[int, int], ...] = ()
    description: str = ""
    _tz: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tz", ZoneInfo(self.timezone))

    @property
    def tz(self) -> ZoneInfo:
        """The calendar's time zone."""
        return self._tz

    def is_holiday(self, day: date) -> bool:
        """True when ``day`` is a public holiday in this calendar."""
        return day in _holiday_set(self.subdivision, day.year, self.local_holidays)

    def holiday_name(self, day: date, lang: str = "es") -> str | None:
        """The name of the holiday on ``day`` in ``lang`` (``es`` or ``en``), if any."""
        names = _holiday_names(self.subdivision, day.year, "en_US" if lang == "en" else "es")
        if day in names:
            return names[day]
        if (day.month, day.day) in self.local_holidays:
            return "Local holiday" if lang == "en" else "Fiesta local"
        return None

    def is_working_day(self, day: date) -> bool:
        """True for Monday to Friday that is not a holiday."""
        return day.weekday() < 5 and not self.is_holiday(day)

    def local(self, moment: datetime) -> datetime:
        """``moment`` expressed in the calendar's time zone."""
        return moment.astimezone(self._tz)

    def add_working_days(self, moment: datetime, count: int) -> datetime:
        """Move ``count`` working days forward (or back if negative), keeping the local time.

        Each step lands on the next (previous) working day, so Saturday + 1 is Monday and
        Monday - 1 is the Friday before, skipping holidays.
        """
        # Moments sharing one tzinfo compare equal whatever their fold, yet in a repeated
        # local hour they are different instants: the fold is part of the cache key.
        return _add_working_days(self, moment, moment.fold, count)

    def add_working_hours(self, moment: datetime, hours: float) -> datetime:
        """Move forward by ``hours`` of working time (working days, between start and end)."""
        remaining = timedelta(hours=hours)
        local = self.local(moment)
        day = local.date()
        current = local.time().replace(tzinfo=None)
        while True:
            if self.is_working_day(day):
                start = max(current, self.work_start)
                if start < self.work_end:
                    available = _minus(self.work_end, start)
                    if remaining <= available:
                        begin = self._at(day, start)
                        return begin + remaining
                    remaining -= available
            day += timedelta(days=1)
            current = time(0, 0)

    def at_time(self, moment: datetime, clock: time) -> datetime:
        """The same local calendar day as ``moment``, at local time ``clock``."""
        return self._at(self.local(moment).date(), clock)

    def _at(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self._tz)

    def __hash__(self) -> int:
        # Equal calendars have equal names; hashing the name alone keeps cache lookups cheap.
        return hash(self.name)


@lru_cache(maxsize=4096)
def _add_working_days(calendar: WorkCalendar, moment: datetime, _fold: int, count: int) -> datetime:
    # Engines move the same anchors by the same counts over and over; the result is a
    # function of the moment's instant only (it is read in the calendar's zone first).
    local = calendar.local(moment)
    day = local.date()
    step = 1 if count >= 0 else -1
    for _ in range(abs(count)):
        day += timedelta(days=step)
        while not calendar.is_working_day(day):
            day += timedelta(days=step)
    return calendar._at(day, local.timetz().replace(tzinfo=None))


def _minus(later: time, earlier: time) -> timedelta:
    return datetime.combine(date.min, later) - datetime.combine(date.min, earlier)


@lru_cache(maxsize=512)
def _holiday_names(subdivision: str | None, year: int, language: str = "es") -> dict[date, str]:
    table = holidays_lib.country_holidays("ES", subdiv=subdivision, years=year, language=language)
    return dict(table.items())


@lru_cache(maxsize=512)
def _holiday_set(
    subdivision: str | None, year: int, local: tuple[tuple[int, int], ...]
) -> frozenset[date]:
    days = set(_holiday_names(subdivision, year))
    days.update(date(year, month, day) for month, day in local)
    return frozenset(days)


# Madrid city's own holidays: San Isidro (15 May) and Nuestra Señora de la Almudena (9 Nov).
# ⚠ verify each year: the city may move a local holiday when it falls on a Sunday.
_MADRID_CITY = ((5, 15), (11, 9))

CALENDARS: dict[str, WorkCalendar] = {
    calendar.name: calendar
    for calendar in (
        WorkCalendar(
            "es-portability",
            "Europe/Madrid",
            "MD",
            local_holidays=_MADRID_CITY,
            description=(
                "Spanish number portability: Monday-Friday 08:00-20:00, national, Community "
                "of Madrid and city of Madrid holidays, wherever the customer lives."
            ),
        ),
        WorkCalendar("es-national", "Europe/Madrid", None, description="Spain, national holidays"),
        WorkCalendar("es-md", "Europe/Madrid", "MD", description="Community of Madrid"),
        WorkCalendar("es-ct", "Europe/Madrid", "CT", description="Catalonia"),
        WorkCalendar("es-an", "Europe/Madrid", "AN", description="Andalusia"),
        WorkCalendar("es-vc", "Europe/Madrid", "VC", description="Valencian Community"),
        WorkCalendar("es-pv", "Europe/Madrid", "PV", description="Basque Country"),
        WorkCalendar("es-ga", "Europe/Madrid", "GA", description="Galicia"),
        WorkCalendar("es-cn", "Atlantic/Canary", "CN", description="Canary Islands"),
    )
}


def get_calendar(name: str) -> WorkCalendar:
    """The calendar called ``name``; raises KeyError naming the known ones otherwise."""
    try:
        return CALENDARS[name]
    except KeyError:
        known = ", ".join(sorted(CALENDARS))
        raise KeyError(f"unknown calendar {name!r}; known calendars: {known}") from None
