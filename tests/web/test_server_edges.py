"""The API behind a real uvicorn server: what only a real connection shows."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from relevo.web import problems
from relevo.web.access_log import redact


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def failing_server() -> Iterator[str]:
    """A server with one route that fails unexpectedly and one that works."""
    app = FastAPI()
    problems.install(app)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a defect in a route")

    @app.get("/fine")
    def fine() -> dict[str, bool]:
        return {"fine": True}

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def test_an_internal_error_keeps_the_connection_open(
    failing_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    opened: list[object] = []

    def count(event_name: str, info: dict[str, object]) -> None:
        if event_name == "connection.connect_tcp.complete":
            opened.append(info)

    with (
        caplog.at_level(logging.ERROR, logger="relevo.web"),
        httpx.Client(base_url=failing_server, timeout=10) as client,
    ):
        failed = client.get("/boom", extensions={"trace": count})
        after = client.get("/fine", extensions={"trace": count})

    assert failed.status_code == 500
    assert failed.headers["content-type"] == problems.MEDIA_TYPE
    assert failed.json()["type"].endswith("internal-error")
    assert failed.headers.get("connection", "").lower() != "close"
    assert after.status_code == 200
    assert len(opened) == 1, "the second request needed a new connection"
    assert "a defect in a route" in caplog.text  # logged, with the traceback


def test_the_access_log_never_shows_an_api_key() -> None:
    line = "GET /v1/processes?api_key=rlv_ab12cd34_s3cr3t-Value_x&lang=en HTTP/1.1"

    shown = redact(line)

    assert "s3cr3t" not in shown
    assert "rlv_ab12cd34_" in shown  # the public prefix still tells which key it was
    assert shown.endswith("&lang=en HTTP/1.1")
