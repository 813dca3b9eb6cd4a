"""Signed, expiring links to the customer's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from relevo.services.notifications.links import (
    InvalidLink,
    page_link,
    sign_token,
    verify_token,
)

NOW = datetime(2026, 10, 5, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def test_a_valid_token_gives_back_its_claims() -> None:
    token = sign_token("s3cret", "prc_abc", "cust-1", LATER)
    claims = verify_token("s3cret", token, NOW)
    assert claims.process_id == "prc_abc"
    assert (claims.customer_id, claims.expires_at) == ("cust-1", LATER)
    assert page_link("http://127.0.0.1:8000/", token) == f"http://127.0.0.1:8000/p/{token}"
    assert "/" not in token and "+" not in token and "=" not in token


def test_an_expired_token_is_refused() -> None:
    token = sign_token("s3cret", "prc_abc", "cust-1", LATER)
    with pytest.raises(InvalidLink) as refused:
        verify_token("s3cret", token, LATER)
    assert refused.value.reason == "expired"


@pytest.mark.parametrize("where", ["body", "signature"])
def test_a_tampered_token_is_refused(where: str) -> None:
    token = sign_token("s3cret", "prc_abc", "cust-1", LATER)
    body, _, signature = token.partition(".")
    forged = sign_token("s3cret", "prc_xyz", "cust-1", LATER).partition(".")[0]
    tampered = f"{forged}.{signature}" if where == "body" else f"{body}.{signature[:-2]}AA"
    with pytest.raises(InvalidLink) as refused:
        verify_token("s3cret", tampered, NOW)
    assert refused.value.reason == "tampered"


def test_another_secret_does_not_verify() -> None:
    token = sign_token("s3cret", "prc_abc", "cust-1", LATER)
    with pytest.raises(InvalidLink, match="tampered"):
        verify_token("other", token, NOW)


@pytest.mark.parametrize("token", ["", "nodot", "a.b.c", "%%%.%%%", "."])
def test_a_malformed_token_is_refused(token: str) -> None:
    with pytest.raises(InvalidLink):
        verify_token("s3cret", token, NOW)


def test_signing_needs_a_secret() -> None:
    with pytest.raises(ValueError, match="secret"):
        sign_token("", "prc_abc", "cust-1", LATER)
