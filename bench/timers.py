"""Due timers fired on SQLite: ``Hub.fire_due_timers`` passes until none is due, beside
ingesting the same ``timer.fired`` messages through the trusted ingest path (target: firing
at ≥ 0.8× the ingest rate).

    .venv/bin/python bench/timers.py                        # 100,000 due timers
    .venv/bin/python bench/timers.py --quick                # 10,000
    .venv/bin/python bench/timers.py --processes 50000 --json bench/results/timers.json

How: ``--processes`` mobile port-ins are started set-wise (``_benchlib.create_processes``,
the engine's own ``process.started``, projection, keys and timers) at a fixed moment; each
has its ``requested`` stage's SLA timer armed for one working day later. The database is
copied twice. On one copy a hub whose clock stands three days later fires the timers
(``Hub.fire_due_timers(limit=...)``, as the worker does: read the due processes, take their
armed timers, ingest the messages in batches of 500) until a pass fires none. On the other,
the same messages (``relevo.services.timer_messages.timer_message``, built before the clock
starts) are given to ``Ingestor.ingest(batch, trusted=True)`` in batches of the same size:
the rate of ingesting them as events. The ingest side runs first; both start with a fresh
hub on a freshly copied file.
"""

from __future__ import annotations

import argparse
import gc
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from _benchlib import (
    add_json_option,
    bench_hub,
    console,
    create_processes,
    port_in,
    print_machine,
    sqlite_url,
    utc,
    write_figures,
)
from relevo.domain.model import iso
from relevo.services.chunking import chunks
from relevo.services.inbound import Inbound
from relevo.services.timer_messages import timer_message
from relevo.services.timers import BATCH, due_now

KIND = "mobile_port_in"
STARTED = utc(2026, 11, 23, 9, 0)  # a Monday: the SLA of one working day is due Tuesday
#: When the timers are fired: every process's SLA timer is past due.
LATER = STARTED + timedelta(days=3)
TARGET = 0.8


@dataclass
class Side:
    """One side's figures: timers fired (or messages ingested), wall and CPU seconds."""

    label: str
    events: int
    seconds: float
    cpu: float
    outcomes: Counter[str]
    calls: int

    @property
    def rate(self) -> float:
        """Events per second of wall time."""
        return self.events / self.seconds if self.seconds else float("nan")

    @property
    def cpu_rate(self) -> float:
        """Events per CPU-second of this process."""
        return self.events / self.cpu if self.cpu else float("nan")

    def figures(self) -> dict[str, Any]:
        """The side as JSON figures."""
        return {
            "events": self.events,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu,
            "rate": self.rate,
            "cpu_rate": self.cpu_rate,
            "calls": self.calls,
            "outcomes": dict(sorted(self.outcomes.items())),
        }


def build(path: Path, processes: int) -> float:
    """The database at ``path`` with ``processes`` started port-ins; seconds taken. The file
    is checkpointed so that a plain copy of it is the whole database."""
    started = time.perf_counter()
    hub, store = bench_hub(sqlite_url(path), lambda: STARTED)
    try:
        create_processes(store, port_in(hub.catalog), processes, STARTED)
    finally:
        store.engine.dispose()
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    return time.perf_counter() - started


def timed(label: str, work: Callable[[], tuple[int, Counter[str], int]]) -> Side:
    """Run ``work`` (answering events, outcomes and calls) under the clocks."""
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    events, outcomes, calls = work()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return Side(label, events, seconds, cpu, outcomes, calls)


def due_messages(url: str, now: datetime) -> list[Inbound]:
    """The ``timer.fired`` messages of every timer due at ``now`` in ``url``, as
    ``relevo.services.timers`` builds them, earliest process first."""
    _hub, store = bench_hub(url, lambda: now)
    try:
        with store.unit_of_work(read_only=True) as uow:
            due = uow.due_timers(iso(now), 10**9)
            states = uow.load_states([pid for pid, _ in due])
    finally:
        store.engine.dispose()
    return [timer_message(*timer) for pid, _ in due for timer in due_now(states.get(pid), iso(now))]


def ingest_side(url: str, messages: list[Inbound]) -> Side:
    """Ingest ``messages`` through the trusted path in batches of ``BATCH``."""
    hub, store = bench_hub(url, lambda: LATER)

    def work() -> tuple[int, Counter[str], int]:
        outcomes: Counter[str] = Counter()
        calls = 0
        for batch in chunks(messages, BATCH):
            outcomes.update(r.outcome.value for r in hub.ingestor.ingest(batch, trusted=True))
            calls += 1
        return len(messages), outcomes, calls

    try:
        return timed("ingest the timer.fired messages (trusted)", work)
    finally:
        store.engine.dispose()


def fire_side(url: str, limit: int) -> Side:
    """``Hub.fire_due_timers(limit=limit)`` until a pass fires nothing."""
    hub, store = bench_hub(url, lambda: LATER)

    def work() -> tuple[int, Counter[str], int]:
        outcomes: Counter[str] = Counter()
        fired = passes = 0
        while True:
            done = hub.fire_due_timers(limit=limit)
            passes += 1
            outcomes.update(result.outcome.value for result in done.results)
            fired += done.fired
            if not done.fired:
                return fired, outcomes, passes

    try:
        return timed(f"Hub.fire_due_timers(limit={limit})", work)
    finally:
        store.engine.dispose()


def main() -> None:
    """Build, copy, run both sides and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=None, help="due timers (100,000)")
    parser.add_argument("--quick", action="store_true", help="10,000 due timers")
    parser.add_argument("--limit", type=int, default=1000, help="processes per timer pass")
    add_json_option(parser)
    args = parser.parse_args()
    processes = args.processes or (10_000 if args.quick else 100_000)
    print_machine("relevo due-timer benchmark (SQLite)")
    with tempfile.TemporaryDirectory(prefix="relevo-timers-") as scratch:
        base = Path(scratch) / "base.db"
        built = build(base, processes)
        console.print(f"  {processes:,} port-ins with a due SLA timer built in {built:.1f} s")
        copies = {name: Path(scratch) / f"{name}.db" for name in ("ingest", "fire")}
        for copy in copies.values():
            shutil.copyfile(base, copy)
        messages = due_messages(sqlite_url(copies["ingest"]), LATER)
        ingest = ingest_side(sqlite_url(copies["ingest"]), messages)
        fire = fire_side(sqlite_url(copies["fire"]), args.limit)
    ratio, cpu_ratio = fire.rate / ingest.rate, fire.cpu_rate / ingest.cpu_rate
    for side in (ingest, fire):
        console.print(
            f"  {side.label:<44} {side.events:>9,} events in {side.seconds:6.1f} s: "
            f"{side.rate:8,.0f}/s ({side.cpu_rate:,.0f} per CPU-s; {side.calls:,} calls) "
            f"{dict(side.outcomes)}"
        )
    met = "met" if ratio >= TARGET else "NOT met"
    console.print(
        f"  firing at [bold]{ratio:.2f}×[/] the ingest rate (CPU {cpu_ratio:.2f}×); "
        f"target ≥ {TARGET}×: {met}"
    )
    write_figures(
        args.json,
        {
            "processes": processes,
            "limit": args.limit,
            "batch": BATCH,
            "built_s": built,
            "ingest": ingest.figures(),
            "fire": fire.figures(),
            "ratio": ratio,
            "cpu_ratio": cpu_ratio,
            "target": TARGET,
            "same_outcomes": ingest.outcomes == fire.outcomes,
        },
    )


if __name__ == "__main__":
    main()
