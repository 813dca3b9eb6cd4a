"""Writing moments out the way a person reads them, in Spanish or English.

Dates are shown in the customer's own time zone (``Europe/Madrid``, ``Atlantic/Canary``…)
with Babel's locale data: "jueves 3 de diciembre", "Thursday 3 December".
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_datetime

from relevo.domain.definitions import Localized

_PATTERNS = {
    ("es", "date"): "EEEE d 'de' MMMM",
    ("en", "date"): "EEEE d MMMM",
    ("es", "time"): "HH:mm",
    ("en", "time"): "HH:mm",
    ("es", "datetime"): "EEEE d 'de' MMMM 'a las' HH:mm",
    ("en", "datetime"): "EEEE d MMMM 'at' HH:mm",
    ("es", "short"): "d MMM yyyy, HH:mm",
    ("en", "short"): "d MMM yyyy, HH:mm",
}


#: Parsed once: given a name, Babel parses the locale again for every field it writes.
_LOCALES = {"es": Locale.parse("es"), "en": Locale.parse("en")}

#: Where a process whose stored zone is unknown is shown (Spain's peninsular time).
FALLBACK_ZONE = "Europe/Madrid"


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The time zone called ``name`` (cached); ``FALLBACK_ZONE`` for a name that is not a
    zone. Starts refuse unknown zones, but a process stored before they did must still be
    readable."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_ZONE)


#: The styles in which a day is written as its date alone ("time" asks for the clock on
#: purpose; "short" is for moments, such as the history's).
_DAY_STYLES = frozenset({"date", "datetime"})


def day_of(moment: datetime, day_zone: str) -> date | None:
    """The day ``moment`` stands for when it was given as a day, ``None`` for a moment.

    A plain ``YYYY-MM-DD`` (and a date derived from one by whole days) is stored as the
    start of that day, 00:00 in the calendar's zone ``day_zone`` where it was read; any
    other time of day makes it a moment. (A definition that puts a day at 23:59, "until the
    end of it", chose that time on purpose: "before Monday at 23:59" is not "before
    Monday", so it stays a moment.)
    """
    local = moment.astimezone(zone(day_zone))
    if local.hour or local.minute or local.second or local.microsecond:
        return None
    return local.date()


@lru_cache(maxsize=4096)
def moment_text(
    moment: datetime, lang: str, style: str, timezone: str, day_zone: str | None = None
) -> str:
    """``moment`` written in ``lang`` with ``style`` (date, time, datetime or short), in
    ``timezone``. With ``day_zone`` (the process calendar's zone), a value given as a day
    (see ``day_of``) is written as that day's date in the date and datetime styles, never
    "at 00:00", and is the same day wherever the customer lives. Remembered: the processes
    of one day share their windows and deadlines, and Babel takes tens of microseconds per
    date."""
    locale = "en" if lang == "en" else "es"
    if day_zone is not None and style in _DAY_STYLES:
        day = day_of(moment, day_zone)
        if day is not None:
            return format_date(day, _PATTERNS[(locale, "date")], locale=_LOCALES[locale])
    return format_datetime(
        moment, _PATTERNS[(locale, style)], tzinfo=zone(timezone), locale=_LOCALES[locale]
    )


def fill_moment(
    text: Localized,
    placeholder: str,
    moment: datetime,
    timezone: str,
    *,
    style: str = "datetime",
    day_zone: str | None = None,
) -> Localized:
    """``text`` with ``{placeholder}`` replaced by ``moment`` written in each language (a
    day as its date when ``day_zone`` is given: see ``moment_text``)."""
    es = moment_text(moment, "es", style, timezone, day_zone)
    en = moment_text(moment, "en", style, timezone, day_zone)
    return Localized(
        es=text.es.replace("{" + placeholder + "}", es),
        en=text.en.replace("{" + placeholder + "}", en),
    )


#: Unit names for a length told to a customer: (singular, plural) by language.
_UNIT_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "es": {
        "minute": ("minuto", "minutos"),
        "hour": ("hora", "horas"),
        "working_hour": ("hora laborable", "horas laborables"),
        "day": ("día", "días"),
        "working_day": ("día laborable", "días laborables"),
        "week": ("semana", "semanas"),
        "month": ("mes", "meses"),
    },
    "en": {
        "minute": ("minute", "minutes"),
        "hour": ("hour", "hours"),
        "working_hour": ("working hour", "working hours"),
        "day": ("day", "days"),
        "working_day": ("working day", "working days"),
        "week": ("week", "weeks"),
        "month": ("month", "months"),
    },
}


def duration_text(amount: float, unit: str, lang: str) -> str:
    """A length as a person reads it: "15 días laborables", "1 working day" (Spanish for any
    language but English)."""
    names = _UNIT_NAMES["en" if lang == "en" else "es"][unit]
    number = f"{amount:g}" if lang == "en" else f"{amount:g}".replace(".", ",")
    return f"{number} {names[0] if amount == 1 else names[1]}"
