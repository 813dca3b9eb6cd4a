"""How a customer is reached: contact attributes any process may start with, checked.

``contact_email`` and ``contact_phone`` are where notifications go; ``notify_channels``
(a list of ``sms`` / ``email``) limits the channels; ``quiet_hours`` (``"21:00-09:00"``
in the customer's time zone) holds non-critical messages. Definitions need not declare them.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any

CONTACT_ATTRIBUTES = frozenset({"contact_email", "contact_phone", "notify_channels", "quiet_hours"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def contact_email(value: Any) -> str | None:
    """``value`` as an e-mail address, or ``None`` if it is not one."""
    if isinstance(value, str) and _EMAIL.match(value.strip()):
        return value.strip()
    return None


def contact_phone(value: Any) -> str | None:
    """``value`` as an E.164 phone number (spaces, dashes, dots and brackets dropped; a
    9-digit Spanish number without country code gets +34), or ``None`` if it is not one."""
    if not isinstance(value, str):
        return None
    text = re.sub(r"[\s\-().]", "", value)
    if not _PHONE.match(text):
        return None
    if not text.startswith("+"):
        text = "+34" + text if len(text) == 9 else "+" + text
    return text


def parse_quiet_hours(text: str) -> tuple[time, time] | None:
    """``"21:00-09:00"`` as (start, end) wall-clock times; ``None`` for an empty text.

    A window may cross midnight; start equal to end is refused (always or never?)."""
    text = text.strip()
    if not text:
        return None
    start_text, sep, end_text = text.partition("-")
    try:
        if not sep:
            raise ValueError
        start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
    except ValueError:
        raise ValueError(f"quiet hours must look like 21:00-09:00, not {text!r}") from None
    if start == end:
        raise ValueError(f"quiet hours {text!r} start and end at the same time")
    return start, end


def contact_problems(attributes: dict[str, Any]) -> list[str]:
    """What is wrong with the contact attributes among ``attributes`` (none: [])."""
    problems = []
    if "contact_email" in attributes and contact_email(attributes["contact_email"]) is None:
        problems.append("attribute 'contact_email' must be an e-mail address")
    if "contact_phone" in attributes and contact_phone(attributes["contact_phone"]) is None:
        problems.append("attribute 'contact_phone' must be a phone number like +34612345678")
    channels = attributes.get("notify_channels", [])
    if not isinstance(channels, list) or not set(channels) <= {"sms", "email"}:
        problems.append("attribute 'notify_channels' must be a list of 'sms' and 'email'")
    quiet = attributes.get("quiet_hours", "")
    try:
        if not isinstance(quiet, str):
            raise ValueError("quiet hours must look like 21:00-09:00")
        parse_quiet_hours(quiet)
    except ValueError as error:
        problems.append(f"attribute 'quiet_hours': {error}")
    return problems
