"""The other ways to run the world: a JSONL file replayed, a server over HTTP, the live
trickle, and the command line."""

from __future__ import annotations

import threading
import time
import warnings
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from relevo.cli import app
from relevo.services.catalog import Catalog
from relevo.services.keys import create_key
from relevo.simulate import (
    SimClock,
    SimulationOptions,
    drive_http,
    generate,
    play_file,
    trickle,
)
from relevo.web.app import create_app

from .conftest import HubFactory
from .support import NOW

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from fastapi.testclient import TestClient


def test_a_jsonl_file_ingests_cleanly_through_relevo_s_intake(
    tmp_path: Path, catalog: Catalog, new_hub: HubFactory
) -> None:
    path = tmp_path / "world.jsonl"
    with path.open("wb") as stream:
        written = generate(
            stream, SimulationOptions(processes=300, seed=21, now=NOW, catalog=catalog)
        )
    hub = new_hub()

    report = play_file(hub, path)

    # The only rejected lines are the documented strays: events about unknown numbers.
    assert len(report.rejected) == written.strays == 3
    assert {reason for _, reason in report.rejected} == {"unknown_process"}
    assert report.start_failures == []
    assert report.outcomes["started"] == 300
    assert report.outcomes["duplicate"] == written.outcomes["duplicate"]
    assert report.timers > 0
    # Replayed, the file leads relevo to the states the model predicted when writing it.
    replayed: Counter[tuple[str, str]] = Counter()
    for kind in catalog.kinds():  # all() lists every version: each kind is counted once
        for row in hub.find(kind=kind, limit=1000):
            replayed[(kind, str(row["status"]))] += 1
    predicted = Counter(
        {
            (kind, status): n
            for kind, counts in written.by_kind.items()
            for status, n in counts.items()
        }
    )
    assert sum(abs(replayed[k] - predicted[k]) for k in predicted | replayed) <= 3


def test_drives_a_server_over_http(catalog: Catalog, new_hub: HubFactory) -> None:
    hub = new_hub()
    assert isinstance(hub.clock, SimClock)
    hub.clock.set(NOW)  # the server's clock: the run starts when the server thinks it is
    _, key = create_key(hub.store, "simulator", ["ingest", "channel"])
    headers = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(hub), headers=headers) as client:
        summary = drive_http(
            client, SimulationOptions(processes=40, seed=2, now=NOW, days=3, catalog=catalog)
        )

    server = summary.extra["server"]
    assert server["start:created"] == summary.processes == 40
    # The server agrees with the model the world runs on.
    assert server["event:accepted"] == summary.outcomes["accepted"] > 50
    assert server.get("event:rejected", 0) == 0
    assert server["action:200"] == sum(summary.actions.values()) > 0
    assert len(hub.find(limit=100)) == 40


def test_trickle_keeps_starting_and_moving_processes_until_stopped(
    catalog: Catalog, new_hub: HubFactory
) -> None:
    hub = new_hub()
    assert isinstance(hub.clock, SimClock)
    hub.clock.set(NOW)
    stop = threading.Event()
    result = []
    worker = threading.Thread(
        target=lambda: result.append(
            trickle(hub, stop, SimulationOptions(speed=86_400, seed=3, processes_per_hour=30))
        )
    )
    worker.start()
    # Wait for the world to move rather than for a fixed time: the machine may be busy.
    deadline = time.monotonic() + 30
    while len(hub.find(limit=100)) <= 10 and time.monotonic() < deadline:
        stop.wait(0.2)
    stop.set()
    worker.join(timeout=30)

    assert not worker.is_alive()
    summary = result[0]
    assert summary.processes > 10
    assert summary.events > 0
    assert hub.clock() > NOW  # the hub's clock followed simulated time
    assert len(hub.find(limit=1000)) == summary.processes


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("RELEVO_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.delenv("RELEVO_CATALOG_DIR", raising=False)
    return CliRunner()


def test_command_line_writes_a_file_and_replays_it(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "run.jsonl"
    summary = tmp_path / "summary.json"
    moment = NOW.isoformat()

    written = cli.invoke(
        app,
        [
            "simulate",
            "-n",
            "60",
            "--seed",
            "4",
            "--now",
            moment,
            "--out",
            str(out),
            "--summary-json",
            str(summary),
        ],
    )
    assert written.exit_code == 0, written.output
    assert "mobile_port_in" in written.output
    assert out.stat().st_size > 0 and summary.stat().st_size > 0

    assert cli.invoke(app, ["db", "upgrade"]).exit_code == 0
    replayed = cli.invoke(app, ["simulate", "--replay", str(out)])
    assert replayed.exit_code == 0, replayed.output
    assert "started" in replayed.output

    shown = cli.invoke(app, ["simulate", "--print-config"])
    assert shown.exit_code == 0 and "[kinds.mobile_port_in]" in shown.output
