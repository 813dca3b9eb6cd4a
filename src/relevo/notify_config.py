"""Notification settings (``RELEVO_SMTP_*``, ``RELEVO_SMS_*``, links, quiet hours), read once
from the environment; part of ``relevo.config.Settings`` as ``Settings.notify``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import time
from typing import Literal

from relevo.domain.contact import parse_quiet_hours

SmtpSecurity = Literal["starttls", "tls", "none"]
SmsProvider = Literal["log", "http"]
EmailProvider = Literal["smtp", "log"]

DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_QUIET_HOURS = "21:00-09:00"
DEFAULT_DAILY_CAP = 5
DEFAULT_LINK_DAYS = 30


@dataclass(frozen=True)
class NotifySettings:
    """How relevo reaches customers.

    E-mail goes through ``RELEVO_EMAIL_PROVIDER`` = ``smtp`` (default) or ``log`` (written
    to the log, for the demo). Over SMTP it goes to ``RELEVO_SMTP_HOST`` (default
    ``127.0.0.1``) port
    ``RELEVO_SMTP_PORT`` (default 587 with ``starttls``, 465 with ``tls``, 25 with ``none``),
    ``RELEVO_SMTP_SECURITY`` = ``starttls`` (default) | ``tls`` (implicit TLS) | ``none``,
    logging in with ``RELEVO_SMTP_USERNAME`` / ``RELEVO_SMTP_PASSWORD`` when a user is set,
    from ``RELEVO_MAIL_FROM`` (default ``relevo@localhost``).
    SMS go through ``RELEVO_SMS_PROVIDER`` = ``log`` (default: written to the log, for the
    demo) or ``http``: ``POST RELEVO_SMS_URL`` with JSON ``{to, from, text}`` and
    ``Authorization: Bearer RELEVO_SMS_TOKEN``, sender ``RELEVO_SMS_FROM`` (default
    ``Relevo``).
    Every message links to the customer's page ``RELEVO_PUBLIC_BASE_URL/p/<token>`` (default
    ``http://127.0.0.1:8000``), the token signed with ``RELEVO_LINK_SECRET`` (required
    outside the demo and the tests) and valid ``RELEVO_LINK_DAYS`` days (default 30).
    Customers who set nothing get quiet hours ``RELEVO_QUIET_HOURS`` (default
    ``21:00-09:00`` in their own time zone; empty: none) and at most
    ``RELEVO_DAILY_CAP`` non-critical messages a day per address (default 5; 0: no cap).
    """

    email_provider: EmailProvider = "smtp"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 587
    smtp_security: SmtpSecurity = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = 10.0
    mail_from: str = "relevo@localhost"
    sms_provider: SmsProvider = "log"
    sms_url: str = ""
    sms_token: str = ""
    sms_from: str = "Relevo"
    sms_timeout: float = 10.0
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    link_secret: str = ""
    link_days: int = DEFAULT_LINK_DAYS
    quiet_hours: tuple[time, time] | None = (time(21), time(9))
    daily_cap: int = DEFAULT_DAILY_CAP

    @classmethod
    def from_env(cls) -> NotifySettings:
        """Notification settings from ``RELEVO_*`` variables; ValueError naming a bad one."""
        security = _choice("RELEVO_SMTP_SECURITY", ("starttls", "tls", "none"))
        provider = _choice("RELEVO_SMS_PROVIDER", ("log", "http"))
        email = _choice("RELEVO_EMAIL_PROVIDER", ("smtp", "log"))
        default_port = {"starttls": 587, "tls": 465, "none": 25}[security]
        settings = cls(
            email_provider=email,  # type: ignore[arg-type]
            smtp_host=_text("RELEVO_SMTP_HOST", "127.0.0.1"),
            smtp_port=_whole("RELEVO_SMTP_PORT", default_port),
            smtp_security=security,  # type: ignore[arg-type]
            smtp_username=_text("RELEVO_SMTP_USERNAME", ""),
            smtp_password=os.environ.get("RELEVO_SMTP_PASSWORD", ""),
            mail_from=_text("RELEVO_MAIL_FROM", "relevo@localhost"),
            sms_provider=provider,  # type: ignore[arg-type]
            sms_url=_text("RELEVO_SMS_URL", ""),
            sms_token=os.environ.get("RELEVO_SMS_TOKEN", "").strip(),
            sms_from=_text("RELEVO_SMS_FROM", "Relevo"),
            public_base_url=_text("RELEVO_PUBLIC_BASE_URL", DEFAULT_PUBLIC_BASE_URL).rstrip("/"),
            link_secret=os.environ.get("RELEVO_LINK_SECRET", "").strip(),
            link_days=_whole("RELEVO_LINK_DAYS", DEFAULT_LINK_DAYS),
            quiet_hours=parse_quiet_hours(
                os.environ.get("RELEVO_QUIET_HOURS", DEFAULT_QUIET_HOURS)
            ),
            daily_cap=_whole("RELEVO_DAILY_CAP", DEFAULT_DAILY_CAP),
        )
        if settings.sms_provider == "http" and not settings.sms_url:
            raise ValueError("RELEVO_SMS_PROVIDER=http needs RELEVO_SMS_URL (the provider's URL)")
        return settings


def _text(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _choice(name: str, choices: tuple[str, ...]) -> str:
    text = os.environ.get(name, "").strip().lower() or choices[0]
    if text not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {text!r}")
    return text


def _whole(name: str, default: int) -> int:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise ValueError(f"{name} must be a whole number of 0 or more, not {text!r}")
    return int(text)
