"""A real HTTP webhook receiver on 127.0.0.1 that verifies every signature it gets."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Receiver:
    """What the receiver got, and what it answers (``status``)."""

    url: str
    secrets: list[str]
    status: int = 204
    received: list[dict[str, Any]] = field(default_factory=list)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ids(self) -> list[str]:
        """The ``webhook-id`` of every verified delivery, in arrival order."""
        with self.lock:
            return [r["id"] for r in self.received]

    def take(self, headers: dict[str, str], body: bytes) -> int:
        """Verify and keep one delivery; the status to answer."""
        for secret in self.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            with self.lock:
                self.received.append(
                    {"id": headers["webhook-id"], "headers": headers, "body": orjson.loads(body)}
                )
            return self.status
        with self.lock:
            self.bad_signatures += 1
        return 401


@contextmanager
def running_receiver(secrets: list[str], status: int = 204, port: int = 0) -> Iterator[Receiver]:
    """A receiver listening on a free port of 127.0.0.1 while the block runs."""
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            self.send_response(holder["r"].take(headers, body))
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    holder["r"] = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", secrets, status)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield holder["r"]
    finally:
        server.shutdown()
        server.server_close()
