"""Settings read from the environment."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relevo.bootstrap import build_hub
from relevo.config import Settings
from relevo.services.records import DEFAULT_RETRY_AFTER
from relevo.services.state_cache import DEFAULT_CAPACITY


def test_the_state_cache_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELEVO_STATE_CACHE", raising=False)
    assert Settings.from_env().state_cache == DEFAULT_CAPACITY
    monkeypatch.setenv("RELEVO_STATE_CACHE", "100_000")
    assert Settings.from_env().state_cache == 100_000
    monkeypatch.setenv("RELEVO_STATE_CACHE", "0")
    assert Settings.from_env().state_cache == 0


@pytest.mark.parametrize("text", ["-5", "lots", "1.5"])
def test_a_bad_state_cache_size_says_what_is_expected(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("RELEVO_STATE_CACHE", text)
    with pytest.raises(ValueError, match="RELEVO_STATE_CACHE must be a whole number of 0 or more"):
        Settings.from_env()


def test_the_ingest_writer_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELEVO_INGEST_WRITER", raising=False)
    assert Settings.from_env().ingest_writer == "process"
    monkeypatch.setenv("RELEVO_INGEST_WRITER", " Thread ")
    assert Settings.from_env().ingest_writer == "thread"


def test_an_unknown_ingest_writer_says_what_is_expected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEVO_INGEST_WRITER", "fork")
    with pytest.raises(ValueError, match="RELEVO_INGEST_WRITER must be 'process' or 'thread'"):
        Settings.from_env()


def test_the_hub_built_from_settings_streams_through_the_configured_writer() -> None:
    settings = Settings(database_url="sqlite://", ingest_writer="thread")
    assert build_hub(settings).stream_writer == "thread"


def test_the_retry_after_of_an_unavailable_store_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RELEVO_RETRY_AFTER_SECONDS", raising=False)
    assert Settings.from_env().retry_after_seconds == DEFAULT_RETRY_AFTER
    monkeypatch.setenv("RELEVO_RETRY_AFTER_SECONDS", "30")
    settings = Settings.from_env()
    assert settings.retry_after_seconds == 30
    hub = build_hub(Settings(database_url="sqlite://", retry_after_seconds=30))
    try:
        assert hub.store.retry_after == 30  # type: ignore[attr-defined]
    finally:
        hub.close()
    monkeypatch.setenv("RELEVO_RETRY_AFTER_SECONDS", "soon")
    with pytest.raises(ValueError, match="RELEVO_RETRY_AFTER_SECONDS must be a whole number"):
        Settings.from_env()


def test_the_park_time_to_live_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RELEVO_PARK_TTL_HOURS", raising=False)
    assert Settings.from_env().park_ttl == timedelta(hours=72)
    monkeypatch.setenv("RELEVO_PARK_TTL_HOURS", "1.5")
    assert Settings.from_env().park_ttl == timedelta(minutes=90)


@pytest.mark.parametrize("text", ["0", "-1", "721", "soon", "nan"])
def test_a_bad_park_time_to_live_says_what_is_expected(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("RELEVO_PARK_TTL_HOURS", text)
    with pytest.raises(ValueError, match="RELEVO_PARK_TTL_HOURS must be a number of hours above 0"):
        Settings.from_env()


def test_the_hub_parks_messages_for_the_configured_time() -> None:
    hub = build_hub(Settings(database_url="sqlite://", park_ttl_hours=2))
    try:
        assert hub.ingestor.park_ttl == timedelta(hours=2)
    finally:
        hub.close()
