"""Status-view benchmark: ``Hub.view`` latency over 1,000,000 stored processes, and memory
that does not grow with the number of processes. Prints figures; asserts nothing.

    .venv/bin/python bench/status.py                     # 1,000,000 processes, 20,000 views
    .venv/bin/python bench/status.py --quick             # 20,000 processes, 5,000 views
    .venv/bin/python bench/status.py --processes 200000  # any size

How the big database is built (fast, and still realistic):

1. ``relevo.demo.seed_demo`` runs a few hundred mobile port-ins through the real services
   (engine, ingest, actions, timers) into a scratch database: every stage, every incident,
   postponements, document reviews, cancellations, failures, delays.
2. Their states are the *templates*. Process ``i`` of the big database is template
   ``i mod T`` with its own id (``prc_`` + 128 bits derived from ``i``), customer, phone
   number and correlation keys; everything else (stage history, dates, incidents,
   requirements, tasks, timers, customer history) is the engine's own output.
3. Clones are written set-wise through the store's ``WriteBatch`` (projection rows and
   correlation keys, released for finished processes), 20,000 per transaction. The event
   log, outbox and timers tables are not filled: the status view reads the projection only
   (``Hub.view`` = one primary-key lookup + ``build_view``), so they would only cost time
   and disk here. ``relevo rebuild`` is therefore meaningless on this database.

The database is cached under ``var/bench/`` keyed by ``BUILD_VERSION``, the schema head and
a digest of the definition and of ``relevo/demo.py``, so re-runs reuse it (``--rebuild``
forces a new one; stale ones can be deleted from ``var/bench/``).

Memory: each database is read in a fresh subprocess that reports its resident memory after
start-up and after the views; a small database (10,000 processes; 2,000 with ``--quick``)
is read the same way, so the two can be compared.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from _benchlib import (
    ROOT,
    console,
    migrated_engine,
    peak_rss_mb,
    print_machine,
    results_table,
    rss_mb,
    sqlite_url,
    summary_ms,
    utc,
)
from relevo.adapters.db.migrate import head_revision
from relevo.adapters.db.records import WriteBatch
from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import tune_runtime
from relevo.domain.model import ProcessState
from relevo.domain.view import build_view
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub

#: Bump when the way the database is built changes; part of the cache key.
BUILD_VERSION = "1"
CACHE = ROOT / "var" / "bench"
KIND = "mobile_port_in"
#: The demo's "now": the templates are as of this moment, and so are the views.
NOW = utc(2026, 11, 25, 10, 30)
TEMPLATES = 300
PER_TRANSACTION = 20_000


def process_id(i: int) -> str:
    """The id of clone ``i``: ``prc_`` + 128 bits derived from ``i`` (stable across runs)."""
    digest = hashlib.blake2b(i.to_bytes(8, "big"), digest_size=16, person=b"relevo-bench").digest()
    return "prc_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def cache_key(processes: int) -> str:
    """What the cached database depends on: build version, schema head, the definition
    and the demo that makes the templates."""
    package = ROOT / "src" / "relevo"
    digest = hashlib.sha256()
    for path in [*sorted((package / "catalog").glob(f"{KIND}.*.yaml")), package / "demo.py"]:
        digest.update(path.read_bytes())
    return f"v{BUILD_VERSION}-{head_revision()}-{digest.hexdigest()[:10]}-{processes}"


# -- building ---------------------------------------------------------------------------------


def templates() -> list[dict[str, Any]]:
    """Engine-made states from a demo run (see the module docstring), as JSON mappings."""
    from relevo.demo import DemoClock, seed_demo

    with tempfile.TemporaryDirectory(prefix="relevo-templates-") as tmp:
        eng = migrated_engine(sqlite_url(Path(tmp) / "demo.db"))
        try:
            store = SqlStore(eng)
            hub = Hub(store, Catalog.load(None), DemoClock(NOW))
            summary = seed_demo(hub, processes=TEMPLATES, seed=7, now=NOW)
            with store.unit_of_work(read_only=True) as uow:
                states = uow.load_states(list(uow.iter_process_ids()))
        finally:
            eng.dispose()
    console.print(
        f"  templates: {len(states)} states from seed_demo "
        f"(statuses {summary['by_status']}, stages {summary['by_stage']})"
    )
    return [state.to_json() for state in states.values()]


#: How clone ``i`` spells each correlation key (others get ``-i`` appended).
KEY_FORMATS = {
    "msisdn": lambda i: f"6{i:08d}",
    "crm_order_id": lambda i: f"SO-B{i:09d}",
    "contract_code": lambda i: f"735{i:08d}",
    "nc_reference": lambda i: f"{10**22 + i:023d}",
}


def clone(template: dict[str, Any], i: int) -> ProcessState:
    """Template ``template`` as process ``i``: own id, customer, number and keys.

    Nested values are shared with the template: clones are only serialised, never changed.
    """
    keys = {
        name: KEY_FORMATS[name](i) if name in KEY_FORMATS else f"{value}-{i}"
        for name, value in template["keys"].items()
    }
    return ProcessState.from_json(
        {
            **template,
            "id": process_id(i),
            "customer_id": f"cus_b{i:09d}",
            "subject": keys.get("msisdn", f"6{i:08d}"),
            "keys": keys,
        }
    )


def build(path: Path, processes: int, shapes: list[dict[str, Any]]) -> float:
    """Create the database at ``path`` with ``processes`` clones; returns seconds taken.

    The build connection trades durability for speed (no journal, no fsync, a large page
    cache): the file is a disposable cache, switched back to WAL when complete.
    """
    started = time.perf_counter()
    eng = migrated_engine(sqlite_url(path))
    eng.dispose()

    @sa.event.listens_for(eng, "connect")
    def _fast(dbapi_connection: Any, _record: Any) -> None:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-1000000"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    try:
        store = SqlStore(eng)
        stamp = NOW.isoformat()
        done = 0
        while done < processes:
            batch = WriteBatch(at=stamp)
            for i in range(done, min(processes, done + PER_TRANSACTION)):
                state = clone(shapes[i % len(shapes)], i)
                batch.new_states.append(state)
                for name, value in state.keys.items():
                    batch.keys_added.append((state.kind, name, value, state.id))
                if not state.active:
                    batch.keys_released.append(state.id)
            with store.unit_of_work() as uow:
                uow.save(batch)
                uow.commit()
            done += len(batch.new_states)
            if done % 100_000 == 0 or done == processes:
                console.print(
                    f"  built {done:,}/{processes:,} processes "
                    f"({time.perf_counter() - started:.0f} s)"
                )
    finally:
        eng.dispose()
    # Back to WAL, with planner statistics, as an operator's database would be.
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("ANALYZE")
    finally:
        raw.close()
    return time.perf_counter() - started


_TEMPLATES: list[dict[str, Any]] = []


def database(processes: int, rebuild: bool) -> tuple[Path, float | None]:
    """The cached database with ``processes`` clones (built if missing); seconds to build
    it (the templates included), or ``None`` when it was reused."""
    CACHE.mkdir(parents=True, exist_ok=True)
    key = cache_key(processes)
    path = CACHE / f"status-{key}.db"
    marker = path.with_suffix(".complete")
    if marker.exists() and path.exists() and not rebuild:
        return path, None
    # Databases of other versions of the same size are stale: remove them with this one.
    for old in [*CACHE.glob(f"status-*-{processes}.db"), path]:
        for stale in (old, Path(f"{old}-wal"), Path(f"{old}-shm"), old.with_suffix(".complete")):
            stale.unlink(missing_ok=True)
    seconds = 0.0
    if not _TEMPLATES:
        started = time.perf_counter()
        _TEMPLATES.extend(templates())
        seconds = time.perf_counter() - started
        console.print(f"  templates made in {seconds:.1f} s")
    seconds += build(path, processes, _TEMPLATES)
    marker.write_text(json.dumps({"processes": processes, "seconds": seconds}))
    return path, seconds


# -- reading (runs in a subprocess per database) ----------------------------------------------


def read(path: Path, processes: int, views: int, seed: int) -> dict[str, Any]:
    """Time ``hub.view`` for ``views`` random ids of ``path``; report latencies and RSS."""
    import gc

    gc.collect()
    rss_start = rss_mb()
    eng = migrated_engine(sqlite_url(path))
    store = SqlStore(eng)
    hub = Hub(store, Catalog.load(None), lambda: NOW)
    rng = random.Random(seed)
    ids = [process_id(rng.randrange(processes)) for _ in range(views)]
    for pid in ids[:200]:  # warm-up: imports, compiled statements, first pages
        hub.view(pid, "es")
    rss_ready = rss_mb()
    latencies: list[float] = []
    cpu: list[float] = []
    for pid in ids:
        started, cpu_started = time.perf_counter(), time.process_time()
        hub.view(pid, "es")
        latencies.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    rss_after = rss_mb()
    # Where a view's time goes, on a sample: the stored state, then build_view.
    loads: list[float] = []
    builds: list[float] = []
    for pid in ids[:2000]:
        t0 = time.perf_counter()
        state = hub.processes.get(pid)
        t1 = time.perf_counter()
        build_view(hub.catalog.get(state.kind, state.definition_version), state, NOW, "es")
        builds.append(time.perf_counter() - t1)
        loads.append(t1 - t0)
    eng.dispose()
    return {
        "processes": processes,
        "views": views,
        "latency_ms": summary_ms(latencies),
        "cpu_ms": summary_ms(cpu),
        "load_ms": summary_ms(loads),
        "build_ms": summary_ms(builds),
        "rss_start": rss_start,
        "rss_ready": rss_ready,
        "rss_after": rss_after,
        "rss_peak": peak_rss_mb(),
        "db_mb": path.stat().st_size / 1024 / 1024,
    }


def read_in_subprocess(path: Path, processes: int, views: int) -> dict[str, Any]:
    """``read`` in a fresh interpreter, so its memory is its own."""
    answer = subprocess.run(
        [sys.executable, __file__, "--read", str(path), str(processes), str(views)],
        capture_output=True,
        text=True,
        check=False,
    )
    if answer.returncode != 0:
        raise SystemExit(f"reading {path} failed:\n{answer.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(answer.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    tune_runtime()  # the same process settings as `relevo serve`
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 processes, 5,000 views")
    parser.add_argument("--processes", type=int, help="processes in the big database")
    parser.add_argument("--views", type=int, help="random views to time (default 20,000)")
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached databases")
    parser.add_argument(
        "--read", nargs=3, metavar=("DB", "PROCESSES", "VIEWS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.read:
        db, count, views = args.read
        print(json.dumps(read(Path(db), int(count), int(views), seed=13)))
        return
    big = args.processes or (20_000 if args.quick else 1_000_000)
    small = 2_000 if args.quick else 10_000
    views = args.views or (5_000 if args.quick else 20_000)
    print_machine("relevo status-view benchmark" + (" (quick)" if args.quick else ""))
    console.print(f"  RSS of this (driver) process at start: {rss_mb():.0f} MiB")
    results = []
    for count in dict.fromkeys((small, big)):
        console.rule(f"{count:,} stored processes")
        path, seconds = database(count, args.rebuild)
        if seconds is None:
            console.print(f"  reusing {path.relative_to(ROOT)}")
        else:
            console.print(
                f"  built {path.relative_to(ROOT)} in {seconds:.1f} s "
                f"({count / seconds:,.0f} processes/s)"
            )
        result = read_in_subprocess(path, count, views)
        result["built_s"] = seconds
        lat, load, build_ = result["latency_ms"], result["load_ms"], result["build_ms"]
        console.print(
            f"  hub.view(random id, 'es') × {views:,}: p50 {lat['p50']:.2f} ms, "
            f"p99 [bold]{lat['p99']:.2f} ms[/], max {lat['max']:.2f} ms (target p99 ≤ 5 ms)"
        )
        console.print(
            f"    CPU time per view (insensitive to other load): p50 "
            f"{result['cpu_ms']['p50']:.2f} ms, p99 {result['cpu_ms']['p99']:.2f} ms"
        )
        console.print(
            f"    of which: load state p50 {load['p50']:.2f} / p99 {load['p99']:.2f} ms, "
            f"build_view p50 {build_['p50']:.2f} / p99 {build_['p99']:.2f} ms"
        )
        console.print(
            f"  reader RSS: {result['rss_start']:.0f} MiB at start, {result['rss_ready']:.0f} "
            f"MiB after loading the hub and 200 warm-up views, {result['rss_after']:.0f} MiB "
            f"after {views:,} views (peak {result['rss_peak']:.0f} MiB); "
            f"database file {result['db_mb']:,.0f} MiB"
        )
        results.append(result)
    console.rule("Summary")
    rows = []
    for result in results:
        lat = result["latency_ms"]
        built = result["built_s"]
        rows.append(
            (
                f"{result['processes']:,}",
                f"{result['db_mb']:,.0f}",
                "cached" if built is None else f"{built:.0f}",
                f"{lat['p50']:.2f}",
                f"{lat['p99']:.2f}",
                f"{lat['max']:.2f}",
                f"{result['cpu_ms']['p99']:.2f}",
                f"{result['rss_ready']:.0f}",
                f"{result['rss_after']:.0f}",
            )
        )
    console.print(
        results_table(
            f"hub.view over random ids ({views:,} views per database, in-process, SQLite)",
            rows,
            [
                "processes",
                "DB MiB",
                "build s",
                "p50 ms",
                "p99 ms",
                "max ms",
                "CPU p99 ms",
                "RSS ready MiB",
                "RSS after MiB",
            ],
        )
    )
    if len(results) == 2:
        growth = results[1]["rss_after"] - results[0]["rss_after"]
        console.print(
            f"Memory: after {views:,} views, the {results[1]['processes']:,}-process reader "
            f"uses {growth:+.0f} MiB compared with the {results[0]['processes']:,}-process one."
        )


if __name__ == "__main__":
    main()
