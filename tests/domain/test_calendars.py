"""Working-day calendars: which days count, and moving moments by working days and hours."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from relevo.domain.calendars import CALENDARS, get_calendar

MADRID = ZoneInfo("Europe/Madrid")
CANARY = ZoneInfo("Atlantic/Canary")
PORTABILITY = get_calendar("es-portability")


def madrid(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MADRID)


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2026, 1, 1), "Año Nuevo"),
        (date(2026, 1, 6), "Epifanía"),
        (date(2026, 12, 8), "Inmaculada Concepción"),
        (date(2026, 12, 25), "Natividad"),
        (date(2025, 5, 2), "Comunidad de Madrid"),
        (date(2026, 5, 15), "San Isidro (city of Madrid)"),
        (date(2026, 11, 9), "Almudena (city of Madrid)"),
    ],
)
def test_portability_calendar_knows_national_regional_and_city_holidays(
    day: date, reason: str
) -> None:
    assert PORTABILITY.is_holiday(day), reason
    assert not PORTABILITY.is_working_day(day), reason
    assert PORTABILITY.holiday_name(day)


def test_holiday_names_come_from_the_package_or_say_local() -> None:
    assert PORTABILITY.holiday_name(date(2026, 12, 8)) == "Inmaculada Concepción"
    assert PORTABILITY.holiday_name(date(2026, 5, 15)) == "Fiesta local"
    assert PORTABILITY.holiday_name(date(2026, 12, 9)) is None


def test_weekends_are_not_working_days_but_are_not_holidays() -> None:
    saturday, sunday, monday = date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)
    assert not PORTABILITY.is_working_day(saturday)
    assert not PORTABILITY.is_working_day(sunday)
    assert not PORTABILITY.is_holiday(saturday)
    assert PORTABILITY.is_working_day(monday)


def test_city_holidays_belong_only_to_the_portability_calendar() -> None:
    # San Isidro is Madrid city's own holiday: the Community of Madrid works that day.
    assert PORTABILITY.is_holiday(date(2026, 5, 15))
    assert not get_calendar("es-md").is_holiday(date(2026, 5, 15))
    # The Community of Madrid's day is not a national holiday.
    assert get_calendar("es-md").is_holiday(date(2025, 5, 2))
    assert not get_calendar("es-national").is_holiday(date(2025, 5, 2))


def test_regional_holidays_differ_between_calendars() -> None:
    canary_day = date(2025, 5, 30)  # Día de Canarias, a Friday
    assert get_calendar("es-cn").is_holiday(canary_day)
    assert not PORTABILITY.is_holiday(canary_day)
    assert PORTABILITY.is_working_day(canary_day)
    assert not get_calendar("es-cn").is_holiday(date(2025, 5, 2))


def test_add_working_days_skips_the_weekend() -> None:
    friday = madrid(2026, 11, 27, 10, 30)
    assert PORTABILITY.add_working_days(friday, 1) == madrid(2026, 11, 30, 10, 30)
    assert PORTABILITY.add_working_days(friday, 2) == madrid(2026, 12, 1, 10, 30)


def test_add_working_days_skips_the_december_bridge_holidays() -> None:
    # 2026: Sunday 6 Dec (Constitution) moves to Monday 7 Dec in Madrid, then 8 Dec.
    friday = madrid(2026, 12, 4, 9, 0)
    assert PORTABILITY.add_working_days(friday, 1) == madrid(2026, 12, 9, 9, 0)
    thursday = madrid(2026, 12, 3, 2, 0)
    assert PORTABILITY.add_working_days(thursday, 2) == madrid(2026, 12, 9, 2, 0)


def test_add_working_days_back_lands_on_the_previous_working_day() -> None:
    wednesday_after_holidays = madrid(2026, 12, 9, 2, 0)
    assert PORTABILITY.add_working_days(wednesday_after_holidays, -1) == madrid(2026, 12, 4, 2, 0)
    monday = madrid(2026, 11, 30, 14, 0)
    assert PORTABILITY.add_working_days(monday, -1) == madrid(2026, 11, 27, 14, 0)
    after_christmas = madrid(2026, 12, 28, 14, 0)  # Monday; Friday 25 is Christmas
    assert PORTABILITY.add_working_days(after_christmas, -1) == madrid(2026, 12, 24, 14, 0)


def test_add_working_days_from_a_weekend_counts_the_next_working_day_as_one() -> None:
    saturday = madrid(2026, 11, 28, 12, 0)
    assert PORTABILITY.add_working_days(saturday, 1) == madrid(2026, 11, 30, 12, 0)
    sunday = madrid(2026, 11, 29, 12, 0)
    assert PORTABILITY.add_working_days(sunday, -1) == madrid(2026, 11, 27, 12, 0)


def test_add_working_days_keeps_the_local_time_across_daylight_saving() -> None:
    friday = madrid(2026, 3, 27, 14, 0)  # clocks go forward on Sunday 29 March
    moved = PORTABILITY.add_working_days(friday, 1)
    assert moved == madrid(2026, 3, 30, 14, 0)
    assert moved.utcoffset() != friday.utcoffset()


def test_add_working_days_reads_the_day_in_the_calendar_zone() -> None:
    # 23:30 UTC on Friday is already Saturday in Madrid: one working day later is Tuesday.
    late_friday_utc = datetime(2026, 11, 27, 23, 30, tzinfo=ZoneInfo("UTC"))
    moved = PORTABILITY.add_working_days(late_friday_utc, 1)
    assert moved == madrid(2026, 11, 30, 0, 30)


def test_add_working_hours_within_the_day() -> None:
    assert PORTABILITY.add_working_hours(madrid(2026, 11, 30, 10, 0), 4) == madrid(
        2026, 11, 30, 14, 0
    )


def test_add_working_hours_carries_over_the_20_00_end_to_08_00() -> None:
    monday_evening = madrid(2026, 11, 30, 19, 0)
    assert PORTABILITY.add_working_hours(monday_evening, 2) == madrid(2026, 12, 1, 9, 0)


def test_add_working_hours_outside_working_time_starts_at_the_next_opening() -> None:
    assert PORTABILITY.add_working_hours(madrid(2026, 11, 30, 6, 0), 1) == madrid(
        2026, 11, 30, 9, 0
    )
    assert PORTABILITY.add_working_hours(madrid(2026, 11, 30, 20, 0), 0.5) == madrid(
        2026, 12, 1, 8, 30
    )


def test_add_working_hours_skips_weekends_and_holidays() -> None:
    friday_evening = madrid(2026, 12, 4, 19, 0)  # then Sat, Sun, 7 Dec and 8 Dec are off
    assert PORTABILITY.add_working_hours(friday_evening, 2) == madrid(2026, 12, 9, 9, 0)
    saturday = madrid(2026, 11, 28, 10, 0)
    assert PORTABILITY.add_working_hours(saturday, 12) == madrid(2026, 11, 30, 20, 0)
    assert PORTABILITY.add_working_hours(saturday, 13) == madrid(2026, 12, 1, 9, 0)


def test_canary_calendar_works_in_canary_time() -> None:
    canary = get_calendar("es-cn")
    assert canary.tz == CANARY
    # 08:30 in Madrid is 07:30 in the Canaries: before opening there.
    moment = madrid(2026, 11, 30, 8, 30)
    assert canary.add_working_hours(moment, 1) == datetime(2026, 11, 30, 9, 0, tzinfo=CANARY)
    assert PORTABILITY.add_working_hours(moment, 1) == madrid(2026, 11, 30, 9, 30)
    # Local time is kept in the Canary zone, which is one hour behind Madrid.
    moved = canary.add_working_days(moment, 1)
    assert moved == datetime(2026, 12, 1, 7, 30, tzinfo=CANARY)
    assert moved == madrid(2026, 12, 1, 8, 30)


def test_at_time_sets_the_local_clock_on_the_same_local_day() -> None:
    utc_evening = datetime(2026, 12, 1, 23, 30, tzinfo=ZoneInfo("UTC"))  # 00:30 on 2 Dec
    assert PORTABILITY.at_time(utc_evening, time(2, 0)) == madrid(2026, 12, 2, 2, 0)
    assert get_calendar("es-cn").at_time(utc_evening, time(2, 0)) == datetime(
        2026, 12, 1, 2, 0, tzinfo=CANARY
    )


def test_unknown_calendar_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="es-portability"):
        get_calendar("es-xx")
    assert {"es-portability", "es-national", "es-cn"} <= set(CALENDARS)
