"""API keys: missing, wrong, revoked, or without the scope a route needs."""

from __future__ import annotations

import pytest

from relevo.config import Settings
from relevo.services.keys import KeyCache, create_key, revoke_key

from .builders import Api, accepted_by_nc, assert_problem


def test_a_missing_key_says_how_to_send_one(api: Api) -> None:
    response = api.client.post("/v1/events", json=accepted_by_nc())

    body = assert_problem(response, 401, "missing-api-key")
    assert "Authorization: Bearer" in body["detail"]
    assert "X-API-Key" in body["detail"]
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_a_wrong_key_is_refused(api: Api) -> None:
    wrong = api.keys["ingest"][:-4] + "XXXX"

    for presented in (wrong, "rlv_nope_nope", "not-a-key"):
        response = api.client.get(
            "/v1/definitions", headers={"Authorization": f"Bearer {presented}"}
        )
        body = assert_problem(response, 401, "invalid-api-key")
        assert "rlv_<prefix>_<secret>" in body["detail"]


def test_a_key_without_the_scope_gets_403_naming_it(api: Api) -> None:
    response = api.client.post("/v1/events", json=accepted_by_nc(), headers=api.headers("channel"))

    body = assert_problem(response, 403, "missing-scope")
    assert body["required_scope"] == "ingest"
    assert "'ingest' scope" in body["detail"]
    assert "channel-key" in body["detail"]
    for path in ("/v1/dead-letters", "/v1/processes"):
        forbidden = api.client.get(path, headers=api.headers("ingest"))
        assert forbidden.status_code == 403


def test_admin_implies_every_scope_and_x_api_key_works(api: Api) -> None:
    admin = {"X-API-Key": api.keys["admin"]}

    assert api.client.get("/v1/processes", headers=admin).status_code == 200
    assert api.client.get("/v1/dead-letters", headers=admin).status_code == 200
    assert api.client.post("/v1/events", json=accepted_by_nc(), headers=admin).status_code == 422


def test_definitions_need_any_valid_key(api: Api) -> None:
    response = api.client.get("/v1/definitions", headers=api.headers("ingest"))

    assert response.status_code == 200
    kinds = {item["kind"] for item in response.json()["items"]}
    assert "mobile_port_in" in kinds
    assert api.client.get("/v1/definitions").status_code == 401


def test_a_revoked_key_fails_once_the_cache_expires(api: Api) -> None:
    key_id, plaintext = create_key(api.hub.store, "short-lived", ["channel"])
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert api.client.get("/v1/processes", headers=headers).status_code == 200

    revoke_key(api.hub.store, key_id)
    api.client.app.state.keys.forget()  # type: ignore[attr-defined]

    assert_problem(api.client.get("/v1/processes", headers=headers), 401, "invalid-api-key")


def test_health_needs_no_key_and_readiness_checks_the_database(api: Api) -> None:
    assert api.client.get("/healthz").json()["status"] == "ok"
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"]["database"] == "ok"


@pytest.mark.parametrize("parameter", ["api_key", "apikey", "access_token", "key"])
def test_a_key_in_the_query_string_is_refused_even_with_a_good_header(
    api: Api, parameter: str
) -> None:
    plaintext = api.keys["channel"]

    response = api.client.get(
        "/v1/processes", params={parameter: plaintext}, headers=api.headers("channel")
    )

    body = assert_problem(response, 400, "api-key-in-url")
    assert body["parameter"] == parameter
    assert "Authorization" in body["detail"]
    assert plaintext not in response.text  # the answer never echoes the key


def test_a_correlation_key_filter_is_not_mistaken_for_an_api_key(api: Api) -> None:
    response = api.client.get(
        "/v1/processes", params={"key": "msisdn:612345678"}, headers=api.headers("channel")
    )

    assert response.status_code == 200


def test_a_revoked_key_is_refused_within_the_configured_cache_time(api: Api) -> None:
    key_id, plaintext = create_key(api.hub.store, "short-lived", ["channel"])
    now = [0.0]
    cache = KeyCache(api.hub.store, ttl=Settings().key_cache_seconds, monotonic=lambda: now[0])
    api.client.app.state.keys = cache  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert api.client.get("/v1/processes", headers=headers).status_code == 200

    revoke_key(api.hub.store, key_id)
    now[0] += 1.01

    assert_problem(api.client.get("/v1/processes", headers=headers), 401, "invalid-api-key")
