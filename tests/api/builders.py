"""Builders for API tests: a hand-moved clock, the client wrapper, CloudEvents."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx

with warnings.catch_warnings():
    # Starlette asks for httpx2 instead of httpx; the client works the same either way.
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient

from relevo.config import DEFAULT_PROBLEM_BASE_URL
from relevo.services.hub import Hub

#: Monday 3 March 2025, 10:00 in Madrid.
START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SOURCE = "/bss/portability-gateway"


class Clock:
    """A clock that only moves when the test says so."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward by ``timedelta(**delta)``."""
        self.now += timedelta(**delta)


@dataclass
class Api:
    """The client plus what tests need around it: the hub, the clock, and one key per scope."""

    client: TestClient
    hub: Hub
    clock: Clock
    keys: dict[str, str]

    def headers(self, scope: str) -> dict[str, str]:
        """Authorization headers with a key of ``scope``."""
        return {"Authorization": f"Bearer {self.keys[scope]}"}

    def send(self, *events: dict[str, Any], batch: bool = False) -> httpx.Response:
        """POST events (one as structured mode, several or ``batch`` as a batch)."""
        if batch or len(events) != 1:
            return self.client.post(
                "/v1/events",
                json=list(events),
                headers={
                    **self.headers("ingest"),
                    "Content-Type": "application/cloudevents-batch+json",
                },
            )
        return self.client.post(
            "/v1/events",
            json=events[0],
            headers={**self.headers("ingest"), "Content-Type": "application/cloudevents+json"},
        )

    def start(self, **overrides: Any) -> dict[str, Any]:
        """Start a mobile port-in and return its status view."""
        body = start_body(**overrides)
        response = self.client.post("/v1/processes", json=body, headers=self.headers("channel"))
        assert response.status_code == 201, response.text
        view: dict[str, Any] = response.json()
        return view

    def view(self, process_id: str, lang: str = "es") -> dict[str, Any]:
        """The status view of a process in ``lang``."""
        response = self.client.get(
            f"/v1/processes/{process_id}", params={"lang": lang}, headers=self.headers("channel")
        )
        assert response.status_code == 200, response.text
        view: dict[str, Any] = response.json()
        return view

    def act(self, process_id: str, control: str, lang: str = "es", **body: Any) -> httpx.Response:
        """POST an action on a process with a channel key."""
        return self.client.post(
            f"/v1/processes/{process_id}/actions/{control}",
            params={"lang": lang},
            json=body,
            headers=self.headers("channel"),
        )

    def dead_letters(self) -> list[dict[str, Any]]:
        """The open dead letters, read through the API with the admin key."""
        response = self.client.get("/v1/dead-letters", headers=self.headers("admin"))
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items


def start_body(**overrides: Any) -> dict[str, Any]:
    """The body starting a mobile port-in, with ``overrides`` applied."""
    body: dict[str, Any] = {
        "kind": "mobile_port_in",
        "customer_id": "cust-1",
        "subject": "612345678",
        "keys": {"crm_order_id": "ORD-1"},
        "attributes": {"modality": "postpaid"},
        "language": "es",
        "channel": "web",
    }
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    """Check that ``response`` is an RFC 9457 problem of ``status`` and ``slug``; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["type"] == DEFAULT_PROBLEM_BASE_URL + slug, body
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["instance"] == response.request.url.path
    return body


_ids = count(1)


def event(event_type: str, data: dict[str, Any] | None = None, **attributes: Any) -> dict[str, Any]:
    """A valid CloudEvent with a fresh id; ``attributes`` add or replace attributes."""
    raw: dict[str, Any] = {
        "specversion": "1.0",
        "id": f"evt-{next(_ids)}",
        "source": SOURCE,
        "type": event_type,
        "time": "2025-03-03T09:30:00Z",
        "data": data if data is not None else {},
    }
    raw.update(attributes)
    return raw


def accepted_by_nc(msisdn: str = "612345678", reference: str = "NC-0001") -> dict[str, Any]:
    """The central node accepted the port with a window on Wednesday night."""
    return event(
        "nc.accepted",
        {"msisdn": msisdn, "reference": reference, "window": "2025-03-05T02:00:00+01:00"},
    )
