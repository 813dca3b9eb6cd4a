"""The floor of SQLite ingest: the statements ``Hub.ingest`` runs, replayed bare.

    .venv/bin/python bench/sqlite_floor.py                    # 20,000 processes, as ingest.py
    .venv/bin/python bench/sqlite_floor.py --processes 4000 --repeat 3
    .venv/bin/python bench/sqlite_floor.py --json bench/results/sqlite_floor.json

How fast could ingest on SQLite ever be, whatever the Python around it? This script answers
with a measurement instead of an estimate:

1. It runs the mobile port-in stream of ``bench/ingest.py`` through ``Hub.ingest`` in batches
   of 500 (the per-batch run of the ingest benchmark) and records, per transaction, every SQL
   statement the store sends with its parameters.
2. It replays those statements with the plain ``sqlite3`` module on a copy of the database
   as it was before the run, with relevo's connection settings (WAL, ``synchronous=NORMAL``,
   the same cache and checkpoint interval), one ``BEGIN IMMEDIATE`` … ``COMMIT`` per batch,
   with nothing else in the loop: no engine, no JSON, no objects, rows already built.

Replays:

* *every statement*: the reads (dedupe, correlation, versions, states) and the writes;
* *writes only*: the inserts and updates a batch must make durable, and the commit; since
  SQLite admits one writer at a time, this rate bounds any design with these rows, however
  its deciding is spread over processes;
* *writes without the projection update*: the same without ``UPDATE processes``, to show
  what keeping the state projection current on every event costs.

The replays reach SQL below relevo's store by design: they measure what the database alone
does with the statements the store sent. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable, Iterable
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
    write_figures,
)
from _floor import (
    Replay,
    Statement,
    checkpointed_copy,
    content_digest,
    is_projection_update,
    is_write,
    recording,
    replay,
)
from ingest import NOW, batches, fixed_clock, port_in_stream
from relevo.bootstrap import tune_runtime

#: The target of issue #2 for SQLite ingest through the service layer.
TARGET = 20_000


def report(label: str, events: int, runs: Iterable[Replay]) -> dict[str, Any]:
    """Print the best of ``runs`` as events/s and µs per event, beside the target; return
    its figures."""
    best = min(runs, key=lambda r: r.wall_s)
    rate = events / best.wall_s
    console.print(
        f"{label}: {events:,} events in {best.wall_s:.2f} s → {rate:,.0f} events/s "
        f"({1e6 * best.wall_s / events:.1f} µs per event, {1e6 * best.cpu_s / events:.1f} µs "
        f"CPU, commit {1e6 * best.commit_s / events:.1f} µs); "
        f"{rate / TARGET:.2f}× the {TARGET:,} events/s target"
    )
    return figures(events, best.wall_s, best.cpu_s, best.commit_s)


def figures(events: int, wall: float, cpu: float, commit: float | None = None) -> dict[str, Any]:
    """One run's figures as written to the JSON file (see bench/README.md)."""
    return {
        "events": events,
        "seconds": wall,
        "rate": events / wall,
        "us": 1e6 * wall / events,
        "cpu_us": 1e6 * cpu / events,
        "commit_us": None if commit is None else 1e6 * commit / events,
    }


def main() -> None:
    tune_runtime()  # the same process settings as `relevo serve`
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=2, help="replays of each kind (best kept)")
    add_json_option(parser)
    args = parser.parse_args()
    print_machine("relevo SQLite floor")
    with tempfile.TemporaryDirectory(prefix="relevo-floor-") as tmp:
        folder = Path(tmp)
        live = folder / "live.db"
        hub, store = bench_hub(sqlite_url(live), fixed_clock(NOW))
        eng = store.engine
        lines = create_processes(store, port_in(hub.catalog), args.processes, NOW)
        eng.dispose()  # closed, so that the copy below folds in the whole log
        before = checkpointed_copy(live, folder / "before.db")
        stream = port_in_stream(lines, NOW)
        with recording(eng) as record:
            wall, cpu = time.perf_counter(), time.process_time()
            for chunk in batches(stream):
                hub.ingest(chunk)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        eng.dispose()
        events = len(stream)
        rate = events / wall
        console.print(
            f"relevo, Hub.ingest per batch: {events:,} events in {wall:.2f} s → {rate:,.0f} "
            f"events/s ({1e6 * wall / events:.1f} µs per event, {1e6 * cpu / events:.1f} µs "
            f"CPU); {rate / TARGET:.2f}× the {TARGET:,} events/s target; "
            f"{len(record.transactions):,} transactions, {record.statements():,} statements"
        )
        runs = {"relevo, Hub.ingest per batch": figures(events, wall, cpu)}
        kinds: list[tuple[str, Callable[[Statement], bool]]] = [
            ("bare replay, every statement", lambda _s: True),
            ("bare replay, writes only", is_write),
            (
                "bare replay, writes without the projection update",
                lambda s: is_write(s) and not is_projection_update(s),
            ),
        ]
        for index, (label, keep) in enumerate(kinds):
            replays = []
            for _ in range(args.repeat):
                copy = checkpointed_copy(before, folder / f"replay-{index}.db")
                replays.append(replay(copy, record.transactions, keep))
            runs[label] = report(label, events, replays)
        # The replay is only a floor if it did the same work: it must leave the same rows.
        replayed = content_digest(folder / "replay-0.db")
        if replayed != content_digest(live):
            raise SystemExit("the bare replay left other rows than the run: its figures are void")
        counts = ", ".join(f"{table} {value.split(':')[0]}" for table, value in replayed.items())
        console.print(f"replay check: the bare replay left exactly the run's rows ({counts})")
        write_figures(
            args.json,
            {
                "processes": args.processes,
                "transactions": len(record.transactions),
                "statements": record.statements(),
                "target": TARGET,
                "runs": runs,
                "rows_match": True,
            },
        )
    console.print(
        "The writes-only rate bounds SQLite ingest with these rows and one projection update "
        "per event: SQLite admits one writer at a time, so no spreading of the deciding over "
        "processes can pass it."
    )


if __name__ == "__main__":
    main()
