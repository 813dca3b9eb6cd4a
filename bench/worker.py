"""Outbox delivery to a local HTTP receiver: relevo's worker (claim, sign, send, record) with
two workers on PostgreSQL, beside a bare httpx loop posting the same payloads to the same
receiver.

    .venv/bin/python bench/worker.py --messages 2000 --json bench/results/worker.json

The receiver runs in a process of its own (HTTP/1.1 keep-alive, answers 204). Without a
PostgreSQL server (``RELEVO_BENCH_POSTGRES_URL`` / ``RELEVO_TEST_POSTGRES_URL``) the
workers run on a SQLite file instead, and the JSON says so.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
from rich.console import Console

from _benchlib import (
    add_json_option,
    bench_hub,
    postgres_server_url,
    print_machine,
    scratch_postgres,
    sqlite_url,
    write_figures,
)
from relevo.adapters.clock import system_clock
from relevo.bootstrap import build_worker
from relevo.config import Settings
from relevo.services import subscriptions
from relevo.services.hub import Hub
from relevo.services.records import OutboxRow, WriteBatch

console = Console(highlight=False)

RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def receiver() -> Iterator[str]:
    """The URL of a receiver running in a child process while the block runs."""
    child = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        child.kill()
        child.wait()


def payload(i: int) -> dict[str, object]:
    """A payload the size of a definition's integration message."""
    return {
        "process_id": f"prc_{i:08d}",
        "kind": "mobile_port_in",
        "subject": f"6{i:08d}",
        "keys": {"crm_order_id": f"ORD-{i}", "msisdn": f"+346{i:08d}"},
        "params": {"reason": "customer asked"},
        "event_type": "port.cancel_requested",
    }


def bare_loop(url: str, messages: int) -> float:
    """Messages per second posted by one httpx client, one after the other."""
    bodies = [orjson.dumps({"type": "t", "data": payload(i)}) for i in range(messages)]
    with httpx.Client() as client:
        started = time.perf_counter()
        for body in bodies:
            client.post(url, content=body, headers={"content-type": "application/json"})
        return messages / (time.perf_counter() - started)


def relevo_workers(hub: Hub, url: str, messages: int, workers: int) -> float:
    """Messages per second delivered by ``workers`` relevo workers draining the outbox."""
    at = datetime.now(UTC).isoformat()
    rows = [OutboxRow(f"prc_{i:08d}", "t", payload(i), f"m-{i}", at) for i in range(messages)]
    with hub.store.unit_of_work() as uow:
        uow.save(WriteBatch(outbox=rows, at=at))
        uow.commit()
    subscriptions.create(hub.store, url, ["*"], hub.clock)
    team = [build_worker(hub, Settings(), batch_size=100) for _ in range(workers)]

    def drain(index: int) -> None:
        while team[index].run_once().claimed:
            pass

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(workers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return messages / (time.perf_counter() - started)


def main() -> None:
    """Run both sides on the same receiver and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    add_json_option(parser)
    args = parser.parse_args()
    print_machine("relevo outbox delivery benchmark")
    server = postgres_server_url()
    with tempfile.TemporaryDirectory() as scratch, receiver() as url:
        database = (
            scratch_postgres(server)
            if server
            else nullcontext(sqlite_url(Path(scratch) / "worker.db"))
        )
        with database as db_url:
            hub, store = bench_hub(db_url, system_clock)
            bare = bare_loop(url, args.messages)
            relevo = relevo_workers(hub, url, args.messages, args.workers)
            store.engine.dispose()
    ratio = relevo / bare
    console.print(f"bare httpx loop:          {bare:10,.0f} messages/s")
    console.print(
        f"relevo, {args.workers} workers ({'PostgreSQL' if server else 'SQLite'}): "
        f"{relevo:10,.0f} messages/s  ({ratio:.2f}× the bare loop; target ≥ 0.5×)"
    )
    write_figures(
        args.json,
        {
            "worker": {
                "messages": args.messages,
                "workers": args.workers,
                "database": "postgresql" if server else "sqlite",
                "bare_httpx_per_s": bare,
                "relevo_per_s": relevo,
                "ratio": ratio,
            }
        },
    )


if __name__ == "__main__":
    main()
