"""Writing moments out the way a person reads them, in Spanish or English.

Dates are shown in the customer's own time zone (``Europe/Madrid``, ``Atlantic/Canary``…)
with Babel's locale data: "jueves 3 de diciembre", "Thursday 3 December".
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime

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


@lru_cache(maxsize=4096)
def moment_text(moment: datetime, lang: str, style: str, timezone: str) -> str:
    """``moment`` written in ``lang`` with ``style`` (date, time, datetime or short).
    Remembered: the processes of one day share their windows and deadlines, and Babel
    takes tens of microseconds per date (a page writes about a dozen)."""
    locale = "en" if lang == "en" else "es"
    return format_datetime(
        moment, _PATTERNS[(locale, style)], tzinfo=zone(timezone), locale=_LOCALES[locale]
    )


def fill_moment(
    text: Localized, placeholder: str, moment: datetime, timezone: str, *, style: str = "datetime"
) -> Localized:
    """``text`` with ``{placeholder}`` replaced by ``moment`` written in each language."""
    return Localized(
        es=text.es.replace("{" + placeholder + "}", moment_text(moment, "es", style, timezone)),
        en=text.en.replace("{" + placeholder + "}", moment_text(moment, "en", style, timezone)),
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
