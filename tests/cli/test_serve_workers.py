"""``relevo serve --workers N``: several worker processes behind one port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import relevo
from relevo.bootstrap import migrate
from relevo.cli.serve import worker_count
from relevo.config import Settings

#: The source folder of the relevo under test, so the server imports this very code.
SOURCE = str(Path(relevo.__file__).resolve().parents[1])


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _workers_of(pid: int) -> list[int]:
    """The ids of the worker processes uvicorn spawned under ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid and b"spawn_main" in command:
            found.append(int(entry.name))
    return found


def test_zero_workers_means_one_per_cpu_core() -> None:
    assert worker_count(0) == (os.cpu_count() or 1)
    assert worker_count(1) == 1
    assert worker_count(3) == 3


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_two_workers_start_and_answer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'relevo.db'}"
    migrate(Settings(database_url=url))
    port = _free_port()
    env = {**os.environ, "RELEVO_DATABASE_URL": url, "PYTHONPATH": SOURCE}
    command = "from relevo.cli import app; app()"
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-c", command, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        # Generous: on a loaded machine three interpreters start and build the app.
        deadline = time.monotonic() + 180
        workers: list[int] = []
        answered = False
        while time.monotonic() < deadline and not (answered and len(workers) == 2):
            assert server.poll() is None, log.read_text()
            try:
                answered = httpx.get(f"{base}/healthz", timeout=5).status_code == 200
            except httpx.TransportError:
                answered = False
            workers = _workers_of(server.pid)
            time.sleep(0.2)
        assert answered, log.read_text()
        assert len(workers) == 2, log.read_text()
        with httpx.Client(base_url=base, timeout=5) as client:
            statuses = {client.get("/healthz").status_code for _ in range(20)}
            assert statuses == {200}
            # The API of each worker checks keys against the same database.
            assert client.get("/v1/processes/prc_x").status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
