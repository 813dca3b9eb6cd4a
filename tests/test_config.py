"""Settings read from the environment."""

from __future__ import annotations

import pytest

from relevo.config import Settings
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
