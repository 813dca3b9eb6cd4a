"""Contention and storage faults through HTTP: racing batches never answer 5xx, a dropped
database connection is replaced, and a store that cannot write answers 503 with
``Retry-After`` (never 500) while ``/readyz`` says so."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.migrate import upgrade
from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import app_for, build_hub
from relevo.config import Settings
from relevo.services.keys import create_key
from relevo.services.records import ConcurrencyConflict

from .builders import START, Api, Clock, TestClient, assert_problem, event

PROCESSES = 200
ROUNDS = 20
BATCH = {"Content-Type": "application/cloudevents-batch+json"}


def delivered(tag: str, order: list[int]) -> list[dict[str, Any]]:
    return [event("sim.delivered", {"msisdn": f"61{i:07d}"}, id=f"{tag}-{i}") for i in order]


def test_opposite_order_batches_over_the_same_processes_never_answer_5xx(
    api: Api, store: SqlStore
) -> None:
    for i in range(PROCESSES):
        api.start(subject=f"61{i:07d}", keys={"crm_order_id": f"ORD-{i}"}, customer_id=f"c{i}")
    forward = list(range(PROCESSES))
    statuses: list[int] = []
    gate = threading.Barrier(2)

    def send(tag: str, order: list[int]) -> None:
        for n in range(ROUNDS):
            gate.wait()
            response = api.client.post(
                "/v1/events",
                json=delivered(f"{tag}{n}", order),
                headers={**api.headers("ingest"), **BATCH},
            )
            statuses.append(response.status_code)

    threads = [
        threading.Thread(target=send, args=("fwd", forward)),
        threading.Thread(target=send, args=("bwd", forward[::-1])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * (2 * ROUNDS)
    with store.unit_of_work(read_only=True) as uow:
        stored = uow.find_processes(kind="mobile_port_in", limit=1000)
    assert {state.version for state in stored} == {1 + 2 * ROUNDS}


def test_a_dropped_database_connection_does_not_fail_the_next_request(
    api: Api, store: SqlStore
) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no server to drop a connection")
    view = api.start()
    admin = create_engine(store.engine.url.render_as_string(hide_password=False))
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        admin.dispose()
    api.client.app.state.keys.forget()  # type: ignore[attr-defined]

    assert api.view(view["id"])["id"] == view["id"]


def test_writers_that_keep_conflicting_answer_503_with_retry_after(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always_conflicts(*_: object, **__: object) -> None:
        raise ConcurrencyConflict("ingest kept conflicting with concurrent writers; retry")

    monkeypatch.setattr(api.hub.ingestor, "ingest", always_conflicts)

    response = api.send(event("sim.delivered", {"msisdn": "612345678"}))

    body = assert_problem(response, 503, "write-conflict")
    assert response.headers["Retry-After"] == "1"
    assert "Send it again" in body["detail"]


def test_a_database_that_does_not_answer_is_503_not_500() -> None:
    # Nothing listens on port 1: every connection is refused at once.
    settings = Settings(database_url="postgresql://relevo@127.0.0.1:1/relevo")
    hub = build_hub(settings, clock=Clock(START))
    with TestClient(app_for(hub, settings)) as client:
        response = client.get("/v1/processes", headers={"Authorization": "Bearer rlv_ab_cd"})
        ready = client.get("/readyz")
    hub.close()

    body = assert_problem(response, 503, "store-unavailable")
    assert response.headers["Retry-After"] == str(settings.retry_after_seconds)
    assert "refused" in body["detail"]
    assert_problem(ready, 503, "not-ready")


@pytest.fixture
def read_only_api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An API over a SQLite file opened read-only (every write fails, even as root), with
    the keys made while it was writable."""
    path = tmp_path / "relevo.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    writable = SqlStore(engine)
    keys = {scope: create_key(writable, scope, [scope])[1] for scope in ("ingest", "channel")}
    writable.close()
    settings = Settings(
        database_url=f"sqlite:///file:{path}?mode=ro&uri=true", retry_after_seconds=7
    )
    hub = build_hub(settings, clock=Clock(START))
    with TestClient(app_for(hub, settings)) as client:
        yield client, keys
    hub.close()


def test_a_database_that_cannot_write_answers_503_and_is_not_ready(
    read_only_api: tuple[TestClient, dict[str, str]],
) -> None:
    client, keys = read_only_api
    ingest = {"Authorization": f"Bearer {keys['ingest']}"}

    sent = client.post("/v1/events", json=event("sim.delivered", {"msisdn": "6"}), headers=ingest)
    started = client.post(
        "/v1/processes",
        json={
            "kind": "mobile_port_in",
            "customer_id": "cust-1",
            "subject": "612345678",
            "keys": {"crm_order_id": "ORD-1"},
            "attributes": {"modality": "postpaid"},
        },
        headers={"Authorization": f"Bearer {keys['channel']}"},
    )
    ready = client.get("/readyz")

    for response in (sent, started):
        body = assert_problem(response, 503, "store-unavailable")
        assert response.headers["Retry-After"] == "7"
        assert "readonly" in body["detail"]
    assert_problem(ready, 503, "not-ready")
    assert "cannot take writes" in ready.json()["detail"]
