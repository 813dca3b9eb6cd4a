"""Contact attributes checked at start; notification settings; building the notifier."""

from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from relevo.adapters.sms import HttpSmsSender, LogSmsSender
from relevo.bootstrap import build_notifier, demo_link_secret, memory_hub
from relevo.config import Settings
from relevo.domain.errors import InvalidStart
from relevo.notify_config import NotifySettings
from relevo.services.notifications.send_log import StoreSendLog
from scenarios.helpers import madrid
from scenarios.test_energy_switch import requested


def test_contact_attributes_are_accepted_by_any_process() -> None:
    run = requested(
        attributes={
            "contact_email": "ana@example.com",
            "contact_phone": "612 345 678",
            "notify_channels": ["email"],
            "quiet_hours": "22:00-08:00",
        },
        at=madrid(2026, 10, 5, 10, 0),
    )
    assert run.state.attributes["contact_email"] == "ana@example.com"


@pytest.mark.parametrize(
    ("attributes", "problem"),
    [
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"contact_phone": 612345678}, "contact_phone"),
        ({"notify_channels": ["pigeon"]}, "notify_channels"),
        ({"notify_channels": "sms"}, "notify_channels"),
        ({"quiet_hours": "late"}, "quiet_hours"),
        ({"quiet_hours": "09:00-09:00"}, "quiet_hours"),
    ],
)
def test_malformed_contact_attributes_are_refused(
    attributes: dict[str, object], problem: str
) -> None:
    with pytest.raises(InvalidStart, match=problem):
        requested(attributes=attributes)


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEVO_SMTP_SECURITY", "tls")
    monkeypatch.setenv("RELEVO_SMS_PROVIDER", "http")
    monkeypatch.setenv("RELEVO_SMS_URL", "https://sms.example.com/v1/messages")
    monkeypatch.setenv("RELEVO_QUIET_HOURS", "22:30-07:15")
    monkeypatch.setenv("RELEVO_PUBLIC_BASE_URL", "https://example.com/")
    notify = Settings.from_env().notify
    assert (notify.smtp_security, notify.smtp_port) == ("tls", 465)
    assert notify.quiet_hours == (time(22, 30), time(7, 15))
    assert notify.public_base_url == "https://example.com"
    assert NotifySettings().quiet_hours == (time(21), time(9))


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RELEVO_SMTP_SECURITY", "ssl", "RELEVO_SMTP_SECURITY"),
        ("RELEVO_SMTP_PORT", "-1", "RELEVO_SMTP_PORT"),
        ("RELEVO_SMS_PROVIDER", "http", "RELEVO_SMS_URL"),
        ("RELEVO_QUIET_HOURS", "night", "21:00-09:00"),
    ],
)
def test_bad_settings_are_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=message):
        NotifySettings.from_env()


def test_the_notifier_refuses_to_start_without_a_link_secret() -> None:
    hub = memory_hub()
    with pytest.raises(ValueError, match="RELEVO_LINK_SECRET"):
        build_notifier(Settings(), hub)
    notifier = build_notifier(Settings(notify=NotifySettings(link_secret="x")), hub)
    assert isinstance(notifier.log, StoreSendLog) and isinstance(notifier.sms, LogSmsSender)
    http = NotifySettings(link_secret="x", sms_provider="http", sms_url="http://127.0.0.1:1")
    assert isinstance(build_notifier(Settings(notify=http), hub).sms, HttpSmsSender)


def test_the_demo_makes_and_keeps_a_link_secret(tmp_path: Path) -> None:
    path = tmp_path / "var" / "relevo-link-secret"
    secret = demo_link_secret(path)
    assert len(secret) >= 40 and demo_link_secret(path) == secret
    assert path.stat().st_mode & 0o777 == 0o600
