"""Signed webhooks from the outbox to a real HTTP receiver, through the SQL store (SQLite,
and PostgreSQL when configured)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import build_hub, build_worker
from relevo.config import Settings
from relevo.services import outbox_admin, subscriptions
from relevo.services.delivery_records import DEAD, PENDING, SENT
from relevo.services.hub import Hub
from relevo.services.records import OutboxRow, WriteBatch

from .receiver import running_receiver

NOW = datetime.now(UTC)


@pytest.fixture
def hub(db_url: str, store: SqlStore) -> Iterator[Hub]:
    hub = build_hub(Settings(database_url=db_url))
    yield hub
    hub.store.engine.dispose()  # type: ignore[attr-defined]


def write(hub: Hub, *topics: str) -> None:
    at = NOW.isoformat()
    rows = [
        OutboxRow("prc_1", t, {"process_id": "prc_1", "n": i}, f"prc_1:{i}:{t}", at)
        for i, t in enumerate(topics)
    ]
    with hub.store.unit_of_work() as uow:
        uow.save(WriteBatch(outbox=rows, at=at))
        uow.commit()


def statuses(hub: Hub) -> list[str]:
    return [e["status"] for e in outbox_admin.entries(hub.store, None)]


def test_every_webhook_arrives_signed_once_per_message(hub: Hub) -> None:
    with running_receiver([]) as receiver:
        _, secret = subscriptions.create(
            hub.store, receiver.url, ["switch.*", "port.done"], hub.clock
        )
        receiver.secrets.append(secret)
        # A wildcard only matches as '*': 'switch.*' is a name like any other.
        write(hub, "port.done", "port.done", "other.topic")
        report = build_worker(hub, Settings()).run_once()

    assert report.delivered == 3
    assert statuses(hub) == [SENT, SENT, SENT]
    assert receiver.bad_signatures == 0
    assert receiver.ids() == ["prc_1:0:port.done", "prc_1:1:port.done"]
    first = receiver.received[0]
    assert first["body"]["type"] == "port.done"
    assert first["body"]["data"] == {"process_id": "prc_1", "n": 0}
    assert first["headers"]["webhook-signature"].startswith("v1,")
    nobody = outbox_admin.attempts_of(hub.store, "prc_1")[-1]
    assert nobody["detail"] == "no active subscription takes other.topic"


def test_during_a_rotation_both_secrets_sign(hub: Hub) -> None:
    with running_receiver([]) as old_only, running_receiver([]) as new_only:
        sub, old = subscriptions.create(hub.store, old_only.url, ["*"], hub.clock)
        old_only.secrets.append(old)
        rotated, new = subscriptions.rotate(hub.store, sub.id, hub.clock, timedelta(hours=1))
        new_only.secrets.append(new)
        second, _ = subscriptions.create(hub.store, new_only.url, ["*"], hub.clock)
        # The second subscription verifies with the first one's new secret: give it that.
        with hub.store.unit_of_work() as uow:
            uow.update_subscription(replace(second, secret=new))
            uow.commit()
        write(hub, "a")
        build_worker(hub, Settings()).run_once()

    assert old != new and rotated.previous_until is not None
    assert old_only.ids() == ["prc_1:0:a"] and new_only.ids() == ["prc_1:0:a"]
    signatures = old_only.received[0]["headers"]["webhook-signature"].split(" ")
    assert len(signatures) == 2


def test_a_receiver_down_then_back_gets_the_message(hub: Hub) -> None:
    with running_receiver([]) as receiver:
        url, port = receiver.url, int(receiver.url.split(":")[2].split("/")[0])
    _, secret = subscriptions.create(hub.store, url, ["*"], hub.clock)
    write(hub, "a")
    worker = build_worker(hub, Settings())
    worker.retry = type(worker.retry)(max_attempts=5, base_seconds=0.01, cap_seconds=0.01)

    worker.run_once()  # connection refused
    assert statuses(hub) == [PENDING]
    (failed,) = outbox_admin.attempts_of(hub.store, "prc_1")
    assert failed["outcome"] == "failed_transient"
    assert "ConnectError" in failed["detail"]

    with running_receiver([secret], port=port) as back:
        time.sleep(0.02)  # past the backoff
        worker.run_once()
    assert statuses(hub) == [SENT]
    assert back.ids() == ["prc_1:0:a"]


def test_a_permanent_failure_is_dead_until_replayed(hub: Hub) -> None:
    with running_receiver([], status=410) as receiver:
        _, secret = subscriptions.create(hub.store, receiver.url, ["*"], hub.clock)
        receiver.secrets.append(secret)
        write(hub, "a")
        worker = build_worker(hub, Settings())
        worker.run_once()
        assert statuses(hub) == [DEAD]
        (entry,) = outbox_admin.entries(hub.store, DEAD)
        assert "410" in entry["last_error"]

        receiver.status = 200
        outbox_admin.replay(hub.store, entry["id"], hub.clock)
        worker.run_once()

    assert statuses(hub) == [SENT]
    assert receiver.ids() == ["prc_1:0:a", "prc_1:0:a"]  # the same id both times
    outcomes = [a["outcome"] for a in outbox_admin.attempts_of(hub.store, "prc_1")]
    assert outcomes == ["failed_permanent", "sent"]
