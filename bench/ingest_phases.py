"""Where ingest time goes: the phases of ``Hub.ingest`` and the cost of each table write,
per event, in wall and CPU time, on SQLite. Prints figures; asserts nothing.

    .venv/bin/python bench/ingest_phases.py                      # 20,000 processes
    .venv/bin/python bench/ingest_phases.py --processes 4000
    .venv/bin/python bench/ingest_phases.py --pragma cache_size=-65536 \\
        --pragma wal_autocheckpoint=100000                       # try connection settings
    .venv/bin/python bench/ingest_phases.py --json bench/results/ingest_phases.json

The stream and the pre-created processes are those of ``bench/ingest.py``. The phases are
measured by wrapping the store's and the engine's functions with timers (a few hundred
nanoseconds each), so the figures add up to the run's total within a few percent; the rest
is the ingest loop itself (messages, results, bookkeeping).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from _benchlib import (
    add_json_option,
    bench_hub,
    console,
    create_processes,
    port_in,
    print_machine,
    sqlite_url,
    write_figures,
)
from ingest import NOW, batches, fixed_clock, port_in_stream
from relevo.adapters.db import bulk
from relevo.adapters.db.store import UnitOfWork
from relevo.bootstrap import tune_runtime
from relevo.domain import engine as engine_module
from relevo.services import ingest as ingest_module
from relevo.services.correlation import Correlator

#: label -> [wall seconds, CPU seconds, calls or rows]
Totals = dict[str, list[float]]


def timed(totals: Totals, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` adding its wall and CPU time to ``totals[label]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            entry = totals[label]
            entry[0] += time.perf_counter() - wall
            entry[1] += time.process_time() - cpu
            entry[2] += 1

    return wrapper


def main() -> None:
    tune_runtime()  # the same process settings as `relevo serve`
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=20_000)
    parser.add_argument(
        "--pragma",
        action="append",
        default=[],
        help="extra SQLite setting per connection, e.g. cache_size=-65536",
    )
    add_json_option(parser)
    args = parser.parse_args()
    print_machine("relevo ingest phases")
    phases: Totals = defaultdict(lambda: [0.0, 0.0, 0])
    tables: Totals = defaultdict(lambda: [0.0, 0.0, 0])
    with tempfile.TemporaryDirectory(prefix="relevo-phases-") as tmp:
        hub, store = bench_hub(sqlite_url(Path(tmp) / "phases.db"), fixed_clock(NOW))
        eng = store.engine
        if args.pragma:

            @sa.event.listens_for(eng, "connect")
            def _settings(dbapi_connection: Any, _record: Any) -> None:
                for pragma in args.pragma:
                    dbapi_connection.execute(f"PRAGMA {pragma}")

        lines = create_processes(store, port_in(hub.catalog), args.processes, NOW)
        stream = port_in_stream(lines, NOW)
        for owner, name, label in (
            (UnitOfWork, "inbox_received", "store: inbox_received (dedupe)"),
            (Correlator, "resolve", "correlator: resolve (key lookups)"),
            (UnitOfWork, "load_states", "store: load_states"),
            (UnitOfWork, "process_versions", "store: process_versions (cache check)"),
            (engine_module, "decide", "engine: decide"),
            (ingest_module, "record_events", "ingest: record_events (hash, apply)"),
            (UnitOfWork, "save", "store: save (every insert/update)"),
            (UnitOfWork, "commit", "store: commit"),
        ):
            setattr(owner, name, timed(phases, label, getattr(owner, name)))
        run = bulk._run

        def run_timed(conn: Any, sql: str, columns: Any, rows: Any) -> int:
            wall, cpu = time.perf_counter(), time.process_time()
            try:
                return run(conn, sql, columns, rows)
            finally:
                entry = tables[" ".join(sql.split()[:3])]
                entry[0] += time.perf_counter() - wall
                entry[1] += time.process_time() - cpu
                entry[2] += len(rows)

        bulk._run = run_timed
        wall, cpu = time.perf_counter(), time.process_time()
        for chunk in batches(stream):
            hub.ingest(chunk)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        eng.dispose()
    n = len(stream)
    console.print(
        f"{n:,} events into {args.processes:,} processes, batches of 500"
        + (f", PRAGMA {', '.join(args.pragma)}" if args.pragma else "")
        + f": {n / wall:,.0f} events/s ({n / cpu:,.0f} per CPU-second); "
        f"{1e6 * wall / n:.0f} µs per event ({1e6 * cpu / n:.0f} µs CPU)"
    )
    figures: dict[str, Any] = {
        "events": n,
        "processes": args.processes,
        "pragmas": args.pragma,
        "rate": n / wall,
        "cpu_rate": n / cpu,
        "us": 1e6 * wall / n,
        "cpu_us": 1e6 * cpu / n,
        "phases": [],
        "tables": [],
    }
    console.print("[bold]Phases[/] (µs per event)")
    accounted = 0.0
    for label, (w, c, calls) in sorted(phases.items(), key=lambda kv: -kv[1][0]):
        accounted += w
        console.print(
            f"  {label:38} wall {1e6 * w / n:7.1f}   CPU {1e6 * c / n:7.1f}   "
            f"({int(calls):,} calls)"
        )
        figures["phases"].append(
            {"label": label, "wall_us": 1e6 * w / n, "cpu_us": 1e6 * c / n, "calls": int(calls)}
        )
    rest = 1e6 * (wall - accounted) / n
    console.print(f"  {'rest (the ingest loop itself)':38} wall {rest:7.1f}")
    figures["rest_us"] = rest
    console.print("[bold]Table writes inside save[/] (µs per event)")
    for label, (w, c, rows) in sorted(tables.items(), key=lambda kv: -kv[1][0]):
        console.print(
            f"  {label:38} wall {1e6 * w / n:7.1f}   CPU {1e6 * c / n:7.1f}   "
            f"({rows / n:.2f} rows per event)"
        )
        figures["tables"].append(
            {
                "label": label,
                "wall_us": 1e6 * w / n,
                "cpu_us": 1e6 * c / n,
                "rows_per_event": rows / n,
            }
        )
    write_figures(args.json, figures)


if __name__ == "__main__":
    main()
