"""Notification delivery latency while the hub ingests at full speed: for each customer
notification, the time from the commit of the event that asked for it to its sending by
``relevo worker`` (target: p99 ≤ 2 s).

    .venv/bin/python bench/latency.py                  # 5,000 port-ins (~31,000 events)
    .venv/bin/python bench/latency.py --quick          # 1,000
    .venv/bin/python bench/latency.py --processes 2000 --json bench/results/latency.json

How: ``--processes`` mobile port-ins with an e-mail address and a phone number are started
set-wise on a SQLite file. A worker (``--workers`` of them) runs in a process of its own, as
``relevo worker`` does
(``bootstrap.build_worker`` with ``bootstrap.build_notifier``, batches of 50, resting
``--idle`` seconds after an idle pass), its e-mail and SMS going to the log providers (the
log itself is not configured, so nothing is written) and no quiet hours nor daily cap
(``RELEVO_QUIET_HOURS`` empty, ``RELEVO_DAILY_CAP=0``): every notification is due now. This
process then ingests the realistic port-in stream of ``bench/ingest.py`` (each process's
``nc.accepted``, donor answers, logistics, activation and execution, with redeliveries) in
batches of 500 through ``Hub.ingest``, one after the other, as fast as it goes. Entering
``donor_check`` or ``scheduled``, a rejection, the execution: each asks for a notification
(``notification.requested`` in the outbox, written in the event's transaction).

The hub's clock stands still at the start of each batch (on a whole millisecond), so an
outbox row's ``created_at`` names the batch that wrote it; the moment ``Hub.ingest``
returns is that batch's commit. The worker wraps the notifier and notes, for each
notification it sends, the wall-clock moment the notifier returned. Latency = that moment −
the commit of the batch. A notification a later event made wrong before the worker reached
it is superseded, not sent, and has no latency. After the stream, the worker gets up to
``--drain-seconds`` to send what is still pending; what it did not send counts as late.

The outbox is taken oldest first, so when ingest asks for notifications faster than the
workers get through them, the wait grows with the length of the run: the figures say both
rates (``requested_per_s``, ``attempts_per_s``).
"""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa

from _benchlib import (
    add_json_option,
    bench_hub,
    console,
    create_processes,
    percentile,
    port_in,
    postgres_server_url,
    print_machine,
    scratch_postgres,
    sqlite_url,
    write_figures,
)
from ingest import batches, port_in_stream
from relevo.adapters.db.tables import outbox
from relevo.bootstrap import build_hub, build_notifier, build_worker
from relevo.config import Settings
from relevo.domain.outbox import NOTIFICATION_TOPIC
from relevo.notify_config import NotifySettings
from relevo.services.delivery import Delivery, Envelope
from relevo.services.notifications.notifier import Notifier
from relevo.services.worker import DEFAULT_BATCH, DEFAULT_IDLE_SECONDS

KIND = "mobile_port_in"
TARGET_S = 2.0


# -- the worker (a process of its own) --------------------------------------------------------


class Recorder:
    """A deliverer around the notifier noting when each notification left: the moment the
    notifier returned, the batch that wrote it (its ``created_at``) and the outcome."""

    def __init__(self, inner: Notifier) -> None:
        self.inner = inner
        self.records: list[tuple[float, float, str]] = []

    def prepare(self, envelopes: Sequence[Envelope], now: datetime) -> None:
        """Let the notifier read ahead for the batch, as it does without the recorder."""
        self.inner.prepare(envelopes, now)

    def deliver(self, envelope: Envelope, now: datetime) -> Delivery:
        """Deliver through the notifier; note the outcome and when it came."""
        delivery = self.inner.deliver(envelope, now)
        left = time.time()
        self.records.append((envelope.created_at.timestamp(), left, delivery.outcome.value))
        return delivery


def bench_settings(url: str) -> Settings:
    """The worker's settings: the log providers, no quiet hours, no daily cap."""
    notify = NotifySettings(
        email_provider="log",
        sms_provider="log",
        link_secret="bench-link-secret-not-for-production",
        quiet_hours=None,
        daily_cap=0,
    )
    return Settings(database_url=url, notify=notify)


def worker_child(url: str, out: Path, idle: float, batch: int) -> None:
    """Run a worker on ``url`` until SIGTERM, then write what it noted to ``out``."""
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    settings = bench_settings(url)
    hub = build_hub(settings)
    recorder = Recorder(build_notifier(settings, hub))
    worker = build_worker(hub, settings, notifier=recorder, batch_size=batch)
    print("ready", flush=True)
    cpu = time.process_time()
    worker.run(stop, idle_seconds=idle)
    cpu = time.process_time() - cpu
    out.write_text(json.dumps({"records": recorder.records, "cpu_s": cpu}))


def start_worker(url: str, out: Path, idle: float, batch: int) -> subprocess.Popen[str]:
    """The worker process, once it is ready to take messages."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--worker", url, str(out), str(idle), str(batch)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        child.kill()
        raise SystemExit("the worker did not start")
    return child


# -- the ingesting side (this process) --------------------------------------------------------


def ingest_stream(url: str, processes: int) -> tuple[dict[int, float], dict[str, Any]]:
    """Start ``processes`` port-ins, then ingest their stream at full speed; answer the
    commit moment of each batch, keyed by the batch's clock in milliseconds, and figures."""
    moment = [datetime.now(UTC)]
    hub, store = bench_hub(url, lambda: moment[0])
    lines = create_processes(
        store, port_in(hub.catalog), processes, datetime.now(UTC), contact=True
    )
    stream = port_in_stream(lines, datetime.now(UTC))
    commits: dict[int, float] = {}
    outcomes: Counter[str] = Counter()
    started, cpu = time.perf_counter(), time.process_time()
    for chunk in batches(stream):
        now = datetime.now(UTC)
        moment[0] = now.replace(microsecond=now.microsecond // 1000 * 1000)
        outcomes.update(result.outcome.value for result in hub.ingest(chunk))
        commits[round(moment[0].timestamp() * 1000)] = time.time()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    store.engine.dispose()
    return commits, {
        "events": len(stream),
        "seconds": seconds,
        "rate": len(stream) / seconds,
        "cpu_us": cpu / len(stream) * 1e6,
        "outcomes": dict(sorted(outcomes.items())),
    }


def pending_notifications(eng: sa.Engine) -> int:
    """Notifications not yet sent nor given up."""
    query = sa.select(sa.func.count()).where(
        outbox.c.topic == NOTIFICATION_TOPIC, outbox.c.status == "pending"
    )
    with eng.connect() as conn:
        return int(conn.execute(query).scalar_one())


def requested_notifications(eng: sa.Engine) -> int:
    """Every notification the stream asked for."""
    query = sa.select(sa.func.count()).where(outbox.c.topic == NOTIFICATION_TOPIC)
    with eng.connect() as conn:
        return int(conn.execute(query).scalar_one())


def drain(eng: sa.Engine, seconds: float) -> float:
    """Wait until no notification is pending, at most ``seconds``; answer the wait."""
    started = time.perf_counter()
    while time.perf_counter() - started < seconds and pending_notifications(eng):
        time.sleep(0.1)
    return time.perf_counter() - started


def latencies(
    records: list[tuple[float, float, str]], commits: dict[int, float]
) -> tuple[list[float], Counter[str]]:
    """Sent time − commit time of each sent notification of the stream, and the outcome
    count of every attempt."""
    outcomes: Counter[str] = Counter(outcome for _, _, outcome in records)
    waits = [
        left - commits[key]
        for created, left, outcome in records
        if outcome == "sent" and (key := round(created * 1000)) in commits
    ]
    return waits, outcomes


@contextmanager
def scratch_database(database: str, scratch: Path) -> Iterator[str]:
    """The URL of an empty, migrated database: a SQLite file in ``scratch`` or a scratch
    PostgreSQL database (dropped afterwards)."""
    if database == "sqlite":
        url = sqlite_url(scratch / "latency.db")
        bench_hub(url, lambda: datetime.now(UTC))[1].engine.dispose()  # migrated
        yield url
        return
    server = postgres_server_url()
    if server is None:
        raise SystemExit(
            "--database postgresql needs RELEVO_BENCH_POSTGRES_URL or RELEVO_TEST_POSTGRES_URL"
        )
    with scratch_postgres(server) as url:
        bench_hub(url, lambda: datetime.now(UTC))[1].engine.dispose()  # migrated
        yield url


def run(
    processes: int, workers: int, idle: float, batch: int, drain_s: float, database: str
) -> dict[str, Any]:
    """The whole benchmark on a scratch database; its figures."""
    with (
        tempfile.TemporaryDirectory(prefix="relevo-latency-") as scratch,
        scratch_database(database, Path(scratch)) as url,
    ):
        outs = [Path(scratch) / f"sent-{n}.json" for n in range(workers)]
        children = [start_worker(url, out, idle, batch) for out in outs]
        try:
            commits, ingest = ingest_stream(url, processes)
            eng = sa.create_engine(url)
            waited = drain(eng, drain_s)
            pending, requested = pending_notifications(eng), requested_notifications(eng)
            eng.dispose()
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=60)
        noted = [json.loads(out.read_text()) for out in outs if out.exists()]
    records = [row for one in noted for row in one["records"]]
    worker_cpu = sum(one["cpu_s"] for one in noted)
    waits, outcomes = latencies(records, commits)
    within = sum(1 for wait in waits if wait <= TARGET_S)
    moments = [left for _, left, _ in records]
    busy = max(moments) - min(moments) if len(moments) > 1 else float("nan")
    cpu_us = worker_cpu / len(records) * 1e6 if records else float("nan")
    return {
        "processes": processes,
        "database": database,
        "ingest": ingest,
        "worker": {"workers": workers, "idle_s": idle, "batch": batch, "cpu_us": cpu_us},
        # The worker's CPU per event ingested over ingest's own: below 1, one worker on a
        # core of its own keeps up with ingest on another.
        "cpu_ratio": cpu_us * requested / ingest["events"] / ingest["cpu_us"],
        "notifications": requested,
        # What full-speed ingest asks for, and what the workers got through while busy.
        "requested_per_s": requested / ingest["seconds"],
        "attempts_per_s": len(records) / busy if busy else float("nan"),
        "attempts": dict(sorted(outcomes.items())),
        "sent": len(waits),
        "pending_at_end": pending,
        "drain_s": waited,
        "latency_s": {q: percentile(waits, n) for q, n in (("p50", 50), ("p95", 95), ("p99", 99))}
        | {"max": max(waits) if waits else float("nan")},
        "within_target": within,
        "target_s": TARGET_S,
    }


def report(figures: dict[str, Any]) -> None:
    """Print the figures and the verdict."""
    ingest, lat = figures["ingest"], figures["latency_s"]
    console.print(
        f"  ingest: {ingest['events']:,} events in {ingest['seconds']:.1f} s, "
        f"{ingest['rate']:,.0f} events/s {ingest['outcomes']}"
    )
    console.print(
        f"  notifications asked for: {figures['notifications']:,}; attempts "
        f"{figures['attempts']}; still pending after {figures['drain_s']:.1f} s of drain: "
        f"{figures['pending_at_end']:,}"
    )
    console.print(
        f"  asked for at {figures['requested_per_s']:,.0f} notifications/s while ingesting; "
        f"{figures['worker']['workers']} worker(s) got through "
        f"{figures['attempts_per_s']:,.0f} attempts/s"
    )
    console.print(
        f"  CPU: ingest {ingest['cpu_us']:,.0f} µs per event, the worker "
        f"{figures['worker']['cpu_us']:,.0f} µs per attempt: the worker needs "
        f"{figures['cpu_ratio']:.2f}× ingest's CPU to keep up"
    )
    console.print(
        f"  while ingesting at {ingest['rate']:,.0f} events/s ({figures['database']}), "
        f"commit → sent over {figures['sent']:,} notifications: p50 {lat['p50']:.3f} s, "
        f"p95 {lat['p95']:.3f} s, [bold]p99 {lat['p99']:.3f} s[/], max {lat['max']:.3f} s; "
        f"{figures['within_target']:,} within {TARGET_S:.0f} s"
    )
    met = figures["pending_at_end"] == 0 and lat["p99"] <= TARGET_S
    console.print(f"  target p99 ≤ {TARGET_S:.0f} s: {'met' if met else 'NOT met'}")


def main() -> None:
    """Run the benchmark (or, with ``--worker``, be its worker)."""
    if len(sys.argv) == 6 and sys.argv[1] == "--worker":
        _, _, url, out, idle, batch = sys.argv
        worker_child(url, Path(out), float(idle), int(batch))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=None, help="port-ins (5,000)")
    parser.add_argument("--quick", action="store_true", help="1,000 port-ins")
    parser.add_argument("--workers", type=int, default=1, help="worker processes")
    parser.add_argument(
        "--idle", type=float, default=DEFAULT_IDLE_SECONDS, help="worker rest after idle pass"
    )
    parser.add_argument(
        "--batch", type=int, default=DEFAULT_BATCH, help="messages the worker claims"
    )
    parser.add_argument("--drain-seconds", type=float, default=120.0)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    add_json_option(parser)
    args = parser.parse_args()
    processes = args.processes or (1_000 if args.quick else 5_000)
    print_machine(f"relevo notification latency benchmark ({args.database})")
    figures = run(processes, args.workers, args.idle, args.batch, args.drain_seconds, args.database)
    report(figures)
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
