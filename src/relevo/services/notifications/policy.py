"""When and where a customer may be reached: contact data, preferences, quiet hours, the
daily cap, and which messages are critical enough to ignore the last two.

Preferences live on the process (its language and time zone, and the attributes
``contact_email``, ``contact_phone``, ``notify_channels``, ``quiet_hours``), over the
defaults of ``NotifySettings``.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from relevo.domain.compiled import Compiled
from relevo.domain.contact import contact_email, contact_phone, parse_quiet_hours
from relevo.domain.formatting import zone
from relevo.domain.model import ProcessState, parse_iso
from relevo.notify_config import NotifySettings

#: A cut-off this close makes a message about it critical (it cannot wait for the morning).
CRITICAL_CUTOFF = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Preferences:
    """How one process's customer wants to be reached."""

    email: str | None
    phone: str | None
    #: The channels the customer accepts; ``None``: those the notification declares.
    channels: frozenset[str] | None
    language: str
    timezone: ZoneInfo
    quiet_hours: tuple[time, time] | None
    daily_cap: int

    def recipient(self, channel: str) -> str | None:
        """The address for ``channel`` (``None``: the customer gave none)."""
        return {"email": self.email, "sms": self.phone}.get(channel)


def preferences_for(state: ProcessState, defaults: NotifySettings) -> Preferences:
    """The customer's preferences for ``state``: its attributes over the defaults. A
    malformed preference falls back to the default rather than silencing the customer."""
    attributes = state.attributes
    channels = attributes.get("notify_channels")
    quiet = defaults.quiet_hours
    if isinstance(attributes.get("quiet_hours"), str):
        with suppress(ValueError):
            quiet = parse_quiet_hours(attributes["quiet_hours"])
    return Preferences(
        email=contact_email(attributes.get("contact_email")),
        phone=contact_phone(attributes.get("contact_phone")),
        channels=frozenset(channels) if isinstance(channels, list) else None,
        language="en" if state.language == "en" else "es",
        timezone=zone(state.timezone),
        quiet_hours=quiet,
        daily_cap=defaults.daily_cap,
    )


def quiet_until(now: datetime, prefs: Preferences) -> datetime | None:
    """The end of the quiet window ``now`` falls in, in the customer's time zone, or
    ``None`` when ``now`` is outside it (or the customer has none)."""
    if prefs.quiet_hours is None:
        return None
    start, end = prefs.quiet_hours
    local = now.astimezone(prefs.timezone)
    moment, day = local.time(), local.date()
    if start < end:
        inside = start <= moment < end
    else:
        inside = moment >= start or moment < end
        if moment >= start:
            day += timedelta(days=1)
    if not inside:
        return None
    return datetime.combine(day, end, tzinfo=prefs.timezone)


def day_start(now: datetime, prefs: Preferences) -> datetime:
    """Midnight of ``now``'s day in the customer's time zone (the daily cap's day)."""
    local = now.astimezone(prefs.timezone)
    return datetime.combine(local.date(), time(), tzinfo=prefs.timezone)


def next_day(now: datetime, prefs: Preferences) -> datetime:
    """When a message held by the daily cap may go: the next local day, once its quiet
    hours (if any) are over."""
    midnight = day_start(now, prefs) + timedelta(days=1)
    return quiet_until(midnight, prefs) or midnight


def is_critical(
    c: Compiled, payload: Mapping[str, Any], state: ProcessState, now: datetime
) -> bool:
    """Whether the message goes at once, through quiet hours and over the daily cap: its
    notification is declared critical, it reports a problem only the customer can solve
    (an incident they own, still open), or it names a cut-off (a control's ``until``)
    within the next 24 hours."""
    notification = c.notification_by_template.get(str(payload.get("template")))
    if notification is not None and notification.critical:
        return True
    incidents = c.definition.incidents
    open_now = state.open_incidents()
    for code in payload.get("incidents") or ():
        if code in open_now and code in incidents and incidents[code].owner == "customer":
            return True
    cutoffs = {control.until for control in c.definition.controls.values() if control.until}
    for name, at in dict(payload.get("dates") or {}).items():
        if name in cutoffs and now < parse_iso(at) <= now + CRITICAL_CUTOFF:
            return True
    return False


def mask(address: str) -> str:
    """``address`` with most of it hidden, for records people read (``a***@example.com``,
    ``+34******678``)."""
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return address[:3] + "*" * max(len(address) - 6, 0) + address[-3:]
