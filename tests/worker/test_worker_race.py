"""Workers side by side: two racing deliver each message once; a worker killed with
``kill -9`` in the middle of a batch loses nothing (its lease runs out, the work is taken
over)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import build_hub, build_worker
from relevo.config import Settings
from relevo.services import outbox_admin, subscriptions
from relevo.services.hub import Hub
from relevo.services.records import OutboxRow, WriteBatch

from .receiver import running_receiver

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def hub(db_url: str, store: SqlStore) -> Iterator[Hub]:
    hub = build_hub(Settings(database_url=db_url))
    yield hub
    hub.store.engine.dispose()  # type: ignore[attr-defined]


def write(hub: Hub, count: int) -> None:
    at = datetime.now(UTC).isoformat()
    rows = [OutboxRow(f"prc_{i}", "t", {"i": i}, f"m-{i}", at) for i in range(count)]
    with hub.store.unit_of_work() as uow:
        uow.save(WriteBatch(outbox=rows, at=at))
        uow.commit()


def pending(hub: Hub) -> int:
    return len(outbox_admin.entries(hub.store, "pending", limit=10_000))


def test_two_racing_workers_deliver_each_message_once(hub: Hub) -> None:
    write(hub, 120)
    with running_receiver([]) as receiver:
        _, secret = subscriptions.create(hub.store, receiver.url, ["*"], hub.clock)
        receiver.secrets.append(secret)
        workers = [build_worker(hub, Settings(), batch_size=10) for _ in range(2)]
        delivered: Counter[str] = Counter()

        def drain(index: int) -> None:
            while (report := workers[index].run_once()).claimed:
                delivered[workers[index].name] += report.delivered

        threads = [threading.Thread(target=drain, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    counts = Counter(receiver.ids())
    assert len(counts) == 120 and set(counts.values()) == {1}
    assert receiver.bad_signatures == 0
    assert pending(hub) == 0
    assert sum(delivered.values()) == 120


def test_a_worker_killed_mid_batch_loses_nothing(hub: Hub, db_url: str) -> None:
    write(hub, 40)
    with running_receiver([]) as receiver:
        _, secret = subscriptions.create(hub.store, receiver.url, ["*"], hub.clock)
        receiver.secrets.append(secret)
        slow = receiver.take

        def take_slowly(headers: dict[str, str], body: bytes) -> int:
            time.sleep(0.05)
            return slow(headers, body)

        receiver.take = take_slowly  # type: ignore[method-assign]
        env = {
            **os.environ,
            "PYTHONPATH": str(SRC),
            "RELEVO_DATABASE_URL": db_url,
            "RELEVO_WORKER_LEASE_SECONDS": "2",
            "RELEVO_LINK_SECRET": "a-test-secret-for-the-worker",
        }
        child = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from relevo.cli import main; main()",
                "worker",
                "--batch",
                "40",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while len(receiver.ids()) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        got_before = len(receiver.ids())
        assert 5 <= got_before < 40  # killed in the middle of its batch

        time.sleep(2.1)  # the dead worker's lease runs out
        taker = build_worker(hub, Settings(), batch_size=40)
        while taker.run_once().claimed:
            pass

    assert set(receiver.ids()) == {f"m-{i}" for i in range(40)}  # nothing lost
    assert pending(hub) == 0
    assert receiver.bad_signatures == 0
