"""Every benchmark in one go, then one summary of the headline figures against the targets of
issue #4. Prints figures; asserts nothing about durations.

    make bench                              # installs the bench extra, then runs this
    .venv/bin/python bench/run_all.py       # the full run (sized to finish in < 10 min)
    .venv/bin/python bench/run_all.py --quick              # smoke run, small sizes
    .venv/bin/python bench/run_all.py --only ingest --only status
    .venv/bin/python bench/run_all.py --rebuild            # rebuild the cached 1M database
    RELEVO_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/run_all.py  # adds the PostgreSQL ingest run

Each benchmark runs as its own subprocess (its memory, its garbage collector, its imports), one
after the other so they do not compete for the CPUs, with its output streamed here as it comes:

1. ``bench/ingest.py``: ``Hub.ingest`` on SQLite, on PostgreSQL (when
   ``RELEVO_BENCH_POSTGRES_URL`` or ``RELEVO_TEST_POSTGRES_URL`` is set), ``POST /v1/events``
   over HTTP, and history length 10 vs 1,000 events.
2. ``bench/ingest_phases.py``: where ingest time goes, per phase and per table, µs per event.
3. ``bench/status.py``: ``Hub.view`` p50/p99 over 10,000 and 1,000,000 stored processes (the
   1,000,000-process database is cached in ``var/bench/``; the first build takes a minute or
   two), reader memory, and the status view over HTTP with 32 concurrent connections.
4. ``bench/peer_spiffworkflow.py``: relevo vs SpiffWorkflow per event on the same events
   (skipped with a message when the script or SpiffWorkflow is missing), with the ceilings
   that relevo's own SQL replayed bare, and that SQL plus its engine alone, put on the ratio.
5. ``bench/sqlite_floor.py``: the statements ``Hub.ingest`` sends on SQLite, replayed bare
   with ``sqlite3``: the most any design with these rows can reach on this machine.
6. ``bench/worker.py``: outbox delivery by two workers (PostgreSQL when configured, else
   SQLite) to a local HTTP receiver, beside a bare httpx loop posting the same payloads.
7. ``bench/timers.py``: 100,000 due timers fired by ``Hub.fire_due_timers`` on SQLite, beside
   ingesting the same ``timer.fired`` messages.
8. ``bench/latency.py``: commit-to-sent latency of customer notifications while the hub
   ingests at full speed.
9. ``bench/page.py``: server CPU per request of the customer's page, the JSON status route,
   the status view in-process and a bare endpoint, over 1,000,000 processes (the seeded
   database is cached in ``bench/results/``).

Each script is given ``--json bench/results/<step>.json`` (``ingest.json``,
``ingest_phases.json``, ``status.json``, ``peer.json``, ``sqlite_floor.json``,
``worker.json``, ``timers.json``, ``latency.json``, ``page.json``; the folder is
git-ignored) and writes its figures there; the summary is read from those files, never from
the printed text, and is itself written to ``bench/results/run_all.json``. The structure of
each file is described in ``bench/README.md``. Every subprocess has a time limit, after
which it and its children are stopped and its figures are reported missing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _benchlib import POSTGRES_ENVS, RESULTS, ROOT, finite, machine, postgres_server_url

BENCH = ROOT / "bench"
SUMMARY_JSON = RESULTS / "run_all.json"

#: Targets of issues #4 and #13.
INGEST_SQLITE_TARGET = 20_000
INGEST_POSTGRES_TARGET = 10_000
HISTORY_TOLERANCE = 0.20
STATUS_P99_TARGET_MS = 5.0
PEER_TARGET = 40.0
#: "Memory does not grow with stored processes": the 1,000,000-process reader may use at most
#: this much more resident memory than the 10,000-process one after the same views.
MEMORY_TOLERANCE_MB = 10.0
DELIVERY_TARGET = 0.5
TIMERS_TARGET = 0.8
#: The timer target is for this many due timers.
TIMERS_FULL = 100_000
LATENCY_TARGET_S = 2.0
#: Issue #14: the JSON route's CPU beyond building the view, over the bare endpoint's; the
#: page's over the JSON route's.
BEYOND_VIEW_TARGET = 2.0
PAGE_TARGET = 1.5


@dataclass
class Step:
    """One benchmark script to run, its arguments and time limit, and what it gave."""

    name: str
    script: str
    args: list[str]
    limit_s: float
    seconds: float = float("nan")
    returncode: int | None = None
    note: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


# -- reading what the scripts wrote ----------------------------------------------------------


def read_figures(path: Path) -> dict[str, Any]:
    """The figures a benchmark wrote to ``path`` (``{}`` when it wrote none)."""
    if not path.exists():
        return {}
    figures: dict[str, Any] = json.loads(path.read_text())
    return figures


def best_rate(runs: dict[str, Any], backend: str) -> float | None:
    """The higher events/s of ``backend``'s per-batch and streamed runs, if any ran."""
    rates = [runs[label]["rate"] for label in (backend, f"{backend}, streamed") if label in runs]
    return max(rates) if rates else None


# -- running ----------------------------------------------------------------------------------


def run(step: Step, results: Path = RESULTS) -> None:
    """Run ``step`` as a subprocess in its own process group, echoing its output as it
    comes, with ``--json`` naming its file in ``results``; stop the group when it outlives
    its time limit; then read the figures it wrote."""
    path = BENCH / step.script
    figures_path = results / f"{step.name.replace(' ', '_')}.json"
    print(f"\n{'=' * 100}\n== {step.name}: {path.relative_to(ROOT)} {' '.join(step.args)}")
    print("=" * 100, flush=True)
    if not path.exists():
        step.note = f"skipped: {path.relative_to(ROOT)} does not exist (yet)"
        print(f"  {step.note}", flush=True)
        return
    figures_path.unlink(missing_ok=True)  # never a figure of an earlier run
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": os.environ.get("COLUMNS", "120")}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(path), *step.args, "--json", str(figures_path)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        start_new_session=True,
    )
    timed_out = threading.Event()

    def stop() -> None:
        timed_out.set()
        try:
            os.killpg(child.pid, signal.SIGTERM)
            time.sleep(10)
            os.killpg(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(step.limit_s, stop)
    timer.daemon = True
    timer.start()
    try:
        for line in child.stdout or ():
            sys.stdout.write(line)
            sys.stdout.flush()
        step.returncode = child.wait()
    finally:
        timer.cancel()
        if child.stdout is not None:
            child.stdout.close()
    step.seconds = time.perf_counter() - started
    try:
        step.figures = read_figures(figures_path)
    except (ValueError, OSError) as error:
        step.note = f"figures not readable ({error})"
    note_outcome(step, timed_out.is_set())
    print(f"-- {step.name}: {step.seconds:.1f} s" + (f" ({step.note})" if step.note else ""))


def note_outcome(step: Step, timed_out: bool) -> None:
    """Say in ``step.note`` how the step ended, when not with its figures."""
    notes = [step.note] if step.note else []
    if timed_out:
        notes.append(f"stopped after its time limit of {step.limit_s:.0f} s")
    elif skipped := step.figures.get("skipped"):
        notes.append(f"skipped: {skipped} (pip install -e '.[bench]')")
        step.returncode = None
    elif step.returncode != 0:
        notes.append(f"exited with status {step.returncode}")
    elif not step.figures:
        notes.append("wrote no figures")
    step.note = "; ".join(notes)


def steps(quick: bool, rebuild: bool = False) -> list[Step]:
    """The benchmarks and their sizes: the full run fits in ten minutes on 2 CPUs even when
    the 1,000,000-process database has to be built first (``rebuild`` forces that)."""
    status_extra = ["--rebuild"] if rebuild else []
    if quick:
        return [
            Step("ingest", "ingest.py", ["--quick"], 300),
            Step("ingest phases", "ingest_phases.py", ["--processes", "2000"], 120),
            Step("status", "status.py", ["--quick", "--http-seconds", "5", *status_extra], 300),
            Step("peer", "peer_spiffworkflow.py", ["--quick"], 300),
            Step("sqlite floor", "sqlite_floor.py", ["--processes", "2000", "--repeat", "1"], 120),
            Step("worker", "worker.py", ["--messages", "500"], 120),
            Step("timers", "timers.py", ["--quick"], 120),
            Step("latency", "latency.py", ["--quick"], 180),
            Step("page", "page.py", ["--quick", *status_extra], 240),
        ]
    return [
        # The simulator mix at half its default size: the same shape, a minute less.
        Step("ingest", "ingest.py", ["--processes", "20000", "--mix-processes", "5000"], 420),
        Step("ingest phases", "ingest_phases.py", ["--processes", "10000"], 180),
        Step(
            "status", "status.py", ["--views", "20000", "--http-seconds", "20", *status_extra], 480
        ),
        Step("peer", "peer_spiffworkflow.py", ["--processes", "1000"], 420),
        # The same 20,000-process stream as the ingest step, so the floor sits beside it.
        Step("sqlite floor", "sqlite_floor.py", ["--processes", "20000", "--repeat", "1"], 240),
        Step("worker", "worker.py", ["--messages", "2000"], 180),
        Step("timers", "timers.py", ["--processes", str(TIMERS_FULL)], 360),
        Step("latency", "latency.py", ["--processes", "5000"], 240),
        # Seeding the 1,000,000 processes takes 2-5 minutes the first time, then is cached.
        Step("page", "page.py", ["--requests", "4000", *status_extra], 720),
    ]


# -- the summary ------------------------------------------------------------------------------


def postgres_version() -> str:
    """The PostgreSQL server version, or why there is none."""
    url = postgres_server_url()
    if url is None:
        return f"not used ({' / '.join(POSTGRES_ENVS)} not set)"
    try:
        from relevo.adapters.db.engine import create_engine

        eng = create_engine(url)
        try:
            with eng.connect() as conn:
                return str(conn.exec_driver_sql("SHOW server_version").scalar())
        finally:
            eng.dispose()
    except Exception as error:  # only for the report
        return f"unreachable ({type(error).__name__})"


def verdict(met: bool | None) -> str:
    """``met`` / ``NOT met`` / ``not measured``."""
    if met is None:
        return "not measured"
    return "met" if met else "NOT met"


def fmt(value: Any, spec: str = ",.0f", unit: str = "") -> str:
    """``value`` formatted, or ``-`` when missing."""
    if value is None or value != value:
        return "-"
    return f"{value:{spec}}{unit}"


def print_ingest(ingest: dict[str, Any]) -> None:
    """The ingest runs, one line each, and the history ratios."""
    print("Ingest (service layer, batches of 500, realistic mobile port-in mix)")
    for label, figures in ingest.get("runs", {}).items():
        print(
            f"  {label:<26} {figures['events']:>9,} events  {figures['rate']:>8,.0f} events/s"
            f"  ({fmt(figures['cpu_rate'])} per CPU-s)  batch p50 {figures['batch_p50_ms']:.1f} ms"
            f"  p99 {figures['batch_p99_ms']:.1f} ms"
            + (
                f"  {figures['process_rate']:,.0f} processes/s finished"
                if figures.get("process_rate") is not None
                else ""
            )
            + (
                f"  machine {figures['machine_cpu_us']:,.0f} µs CPU/event"
                f" (at most {figures['machine_bound']:,.0f}/s)"
                if figures.get("machine_bound") is not None
                else ""
            )
        )
    if ingest.get("postgres_skipped"):
        print("  PostgreSQL           skipped (no server URL in the environment)")
    history = ingest.get("history_ratio", {})
    if history:
        print(
            "  history 1,000 / 10 prior events, rate ratio: "
            + ", ".join(f"{basis} {fmt(ratio, '.2f')}" for basis, ratio in history.items())
        )


def print_phases(phases: dict[str, Any]) -> None:
    """Where ingest time goes, per phase."""
    if phases.get("us") is None:
        return
    print(
        f"\nWhere ingest time goes ({phases['events']:,} events, SQLite, µs per event): "
        f"total {phases['us']:.0f} wall, {phases['cpu_us']:.0f} CPU"
    )
    for row in phases["phases"]:
        cpu_us = fmt(row["cpu_us"], "7.1f")
        print(f"  {row['label']:<40} wall {row['wall_us']:7.1f}   CPU {cpu_us}")
    print(f"  {'rest (the ingest loop itself)':<40} wall {fmt(phases.get('rest_us'), '7.1f')}")


def print_status(status: dict[str, Any]) -> None:
    """The status view in-process per database size, and over HTTP."""
    rows = status.get("in_process", [])
    if rows:
        print("\nStatus view")
    for row in rows:
        lat, cpu = row["latency_ms"], row["cpu_ms"]
        print(
            f"  in-process, {row['processes']:>9,} processes: p50 {lat['p50']:.2f} ms, "
            f"p99 {lat['p99']:.2f} ms, max {lat['max']:.2f} ms (CPU p99 {cpu['p99']:.2f} ms); "
            f"reader RSS {row['rss_ready']:.0f} → {row['rss_after']:.0f} MiB"
        )
    http = status.get("http")
    if http:
        lat = http["latency_ms"]
        print(
            f"  HTTP, {http['processes']:,} processes, {http['connections']} connections, "
            f"{http['seconds']:.1f} s: {http['rps']:,.0f} requests/s, p50 {lat['p50']:.1f} ms, "
            f"p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms, {http['errors']:,} errors of "
            f"{http['requests']:,}; CPU per request: server "
            f"{fmt(http['server_cpu_ms_per_request'], '.2f')} ms, client "
            f"{fmt(http['client_cpu_ms_per_request'], '.2f')} ms ({http['client']} client); "
            f"server RSS {http['server_rss_idle']:.0f} → {http['server_rss_warm']:.0f} → "
            f"{http['server_rss_after']:.0f} MiB (idle → warm-up → after)"
        )


def print_peer(peer: dict[str, Any]) -> None:
    """relevo against SpiffWorkflow: every variant, the ratios and the ceilings."""
    if not peer.get("rows"):
        return
    print("\nrelevo vs SpiffWorkflow (same events, same SQLite settings)")
    for row in peer["rows"]:
        print(f"  {row['label']:<60} {row['us']:>9,.1f} µs/event  (CPU {row['cpu_us']:,.1f})")
    for ratio in peer.get("ratios", []):
        print(
            f"  ratio against {ratio['against']}: {ratio['wall']:,.1f}× (CPU {ratio['cpu']:,.1f}×)"
        )
    print(
        f"  headline: relevo {peer['ratio']:,.1f}× faster per event than SpiffWorkflow "
        f"({peer['relevo_us']:,.1f} µs vs {peer['spiff_us']:,.1f} µs)"
    )
    if "ceiling" in peer:
        print(
            f"  ceiling: relevo's SQL replayed bare {peer['floor_us']:,.1f} µs per event "
            f"({peer['floor_writes_us']:,.1f} writes only): at most {peer['ceiling']:,.1f}×; "
            f"with its engine ({peer['engine_us']:,.1f} µs): at most "
            f"{peer['engine_ceiling']:,.1f}×"
        )


def print_floor(floor: dict[str, Any]) -> None:
    """The run the floor recorded and each bare replay of its statements."""
    if not floor.get("runs"):
        return
    print("\nSQLite floor: the statements of Hub.ingest replayed bare (sqlite3, same settings)")
    for label, figures in floor["runs"].items():
        print(f"  {label:<52} {figures['rate']:>8,.0f} events/s  {figures['us']:6.1f} µs/event")


def print_worker(worker: dict[str, Any], timers: dict[str, Any], latency: dict[str, Any]) -> None:
    """Outbox delivery, due timers and notification latency, where they ran."""
    if not (worker or timers or latency):
        return
    print("\nThe worker (issue #13)")
    if delivery := worker.get("worker"):
        print(
            f"  outbox delivery, {delivery['workers']} workers on {delivery['database']}: "
            f"{delivery['relevo_per_s']:,.0f} messages/s; bare httpx loop "
            f"{delivery['bare_httpx_per_s']:,.0f}/s ({delivery['ratio']:.2f}×)"
        )
    if timers.get("fire"):
        print(
            f"  {timers['processes']:,} due timers on SQLite: fired "
            f"{timers['fire']['rate']:,.0f}/s, ingested as events "
            f"{timers['ingest']['rate']:,.0f}/s ({timers['ratio']:.2f}×, "
            f"CPU {fmt(timers['cpu_ratio'], '.2f')}×)"
        )
    if latency.get("ingest"):
        lat = latency["latency_s"]
        print(
            f"  notification commit → sent while ingesting {latency['ingest']['rate']:,.0f} "
            f"events/s: p50 {fmt(lat['p50'], '.2f')} s, p95 {fmt(lat['p95'], '.2f')} s, "
            f"p99 {fmt(lat['p99'], '.2f')} s over {latency['sent']:,} sent; asked for "
            f"{fmt(latency['requested_per_s'])}/s, worker attempts "
            f"{fmt(latency['attempts_per_s'])}/s"
        )


def print_page(page: dict[str, Any]) -> None:
    """Server CPU per request of the four targets of issue #14."""
    targets = page.get("targets")
    if not targets:
        return
    print(
        f"\nThe customer's page (issue #14): server CPU per request over "
        f"{page['processes']:,} processes, {page['connections']} connections"
    )
    labels = {
        "page": "page GET /my/processes/{id}",
        "json": "JSON GET /v1/processes/{id}",
        "view": "Hub.view in-process",
        "bare": "bare FastAPI endpoint",
    }
    for name, label in labels.items():
        print(f"  {label:<32} {fmt(targets.get(name, {}).get('server_cpu_ms'), '.3f', ' ms')}")


Target = tuple[str, str, bool | None]


def ingest_targets(ingest: dict[str, Any], floor: dict[str, Any]) -> list[Target]:
    """The two ingest targets: the better of per batch and streamed, beside what bounds it."""
    runs = ingest.get("runs", {})
    writes_floor = floor.get("runs", {}).get("bare replay, writes only", {}).get("rate")
    # The target is for the service layer in batches of 500: the better of one call per
    # batch and the streamed pipeline (both printed above).
    sqlite_rate = best_rate(runs, "SQLite")
    pg_rate = best_rate(runs, "PostgreSQL")
    # What the machine's cores allow the streamed run at its measured CPU cost per event.
    pg_bound = runs.get("PostgreSQL, streamed", {}).get("machine_bound")
    return [
        (
            f"ingest SQLite ≥ {INGEST_SQLITE_TARGET:,} events/s",
            fmt(sqlite_rate, ",.0f", " events/s")
            + ("" if writes_floor is None else f" (writes alone {writes_floor:,.0f})"),
            None if sqlite_rate is None else sqlite_rate >= INGEST_SQLITE_TARGET,
        ),
        (
            f"ingest PostgreSQL ≥ {INGEST_POSTGRES_TARGET:,} events/s",
            fmt(pg_rate, ",.0f", " events/s")
            + ("" if pg_bound is None else f" (CPU allows {pg_bound:,.0f})"),
            None if pg_rate is None else pg_rate >= INGEST_POSTGRES_TARGET,
        ),
    ]


def other_targets(
    ingest: dict[str, Any], status: dict[str, Any], peer: dict[str, Any]
) -> list[Target]:
    """History independence, the status view's p99 and memory, and the peer ratio."""
    wall_ratio = ingest.get("history_ratio", {}).get("wall")
    cpu_ratio = ingest.get("history_ratio", {}).get("CPU")
    by_size = {row["processes"]: row for row in status.get("in_process", [])}
    big = by_size[max(by_size)] if by_size else None
    small = by_size[min(by_size)] if by_size else None
    full_size = big is not None and big["processes"] >= 1_000_000
    p99 = big["latency_ms"]["p99"] if big else None
    growth = big["rss_after"] - small["rss_after"] if big and small and big is not small else None
    ratio = peer.get("ratio")
    return [
        (
            "history 10 vs 1,000 events within 20 % (wall time)",
            "-"
            if wall_ratio is None
            else f"ratio {wall_ratio:.2f} wall, {fmt(cpu_ratio, '.2f')} CPU",
            None if wall_ratio is None else abs(1 - wall_ratio) <= HISTORY_TOLERANCE,
        ),
        (
            "status p99 ≤ 5 ms in-process, 1,000,000 processes",
            "-" if big is None else f"p99 {p99:.2f} ms over {big['processes']:,}",
            None if p99 is None or not full_size else p99 <= STATUS_P99_TARGET_MS,
        ),
        (
            f"memory flat with stored processes (≤ {MEMORY_TOLERANCE_MB:.0f} MiB more)",
            "-"
            if growth is None or small is None or big is None
            else f"{growth:+.1f} MiB ({small['processes']:,} → {big['processes']:,})",
            None if growth is None or not full_size else growth <= MEMORY_TOLERANCE_MB,
        ),
        (
            f"relevo ≥ {PEER_TARGET:.0f}× SpiffWorkflow per event",
            fmt(ratio, ",.1f", "×")
            + (
                "" if "engine_ceiling" not in peer else f" (at most {peer['engine_ceiling']:,.1f}×)"
            ),
            None if ratio is None else ratio >= PEER_TARGET,
        ),
    ]


def worker_targets(
    worker: dict[str, Any], timers: dict[str, Any], latency: dict[str, Any]
) -> list[Target]:
    """Issue #13: delivery beside a bare loop (on PostgreSQL), 100,000 timers beside ingest,
    and notification latency while ingesting."""
    delivery = worker.get("worker", {})
    ratio = delivery.get("ratio")
    on_postgres = delivery.get("database") == "postgresql"
    fire_ratio = timers.get("ratio")
    full_timers = timers.get("processes", 0) >= TIMERS_FULL
    p99 = latency.get("latency_s", {}).get("p99")
    pending = latency.get("pending_at_end")
    return [
        (
            f"delivery ≥ {DELIVERY_TARGET}× bare httpx loop (2 workers, PostgreSQL)",
            fmt(ratio, ".2f", "×") + (f" on {delivery['database']}" if delivery else ""),
            None if ratio is None or not on_postgres else ratio >= DELIVERY_TARGET,
        ),
        (
            f"{TIMERS_FULL:,} due timers fired ≥ {TIMERS_TARGET}× ingest (SQLite)",
            fmt(fire_ratio, ".2f", "×")
            + (f" over {timers['processes']:,}" if fire_ratio is not None else ""),
            None if fire_ratio is None or not full_timers else fire_ratio >= TIMERS_TARGET,
        ),
        (
            f"notification sent ≤ {LATENCY_TARGET_S:.0f} s at p99 while ingesting",
            fmt(p99, ".2f", " s") + (f" ({pending:,} left pending)" if pending else ""),
            None if p99 is None else p99 <= LATENCY_TARGET_S and not pending,
        ),
    ]


def page_targets(page: dict[str, Any]) -> list[Target]:
    """Issue #14: the JSON route beyond the view against the bare endpoint, the page
    against the JSON route (judged on the full 1,000,000-process run only)."""
    goals = page.get("goals", {})
    full = page.get("processes", 0) >= 1_000_000
    beyond, ratio = goals.get("beyond_view_ratio"), goals.get("page_ratio")
    return [
        (
            f"JSON route beyond the view ≤ {BEYOND_VIEW_TARGET:.0f}× bare endpoint (CPU)",
            fmt(beyond, ".2f", "×"),
            None if beyond is None or not full else beyond <= BEYOND_VIEW_TARGET,
        ),
        (
            f"customer page ≤ {PAGE_TARGET}× JSON route (CPU)",
            fmt(ratio, ".2f", "×"),
            None if ratio is None or not full else ratio <= PAGE_TARGET,
        ),
    ]


def summarise(done: dict[str, Step], facts: dict[str, str], total: float) -> dict[str, Any]:
    """Print the headline figures and the targets from the figures each step wrote; return
    them as a mapping (what ``run_all.json`` holds)."""

    def figures(name: str) -> dict[str, Any]:
        return done[name].figures if name in done else {}

    ingest, status, peer, floor = (
        figures(name) for name in ("ingest", "status", "peer", "sqlite floor")
    )
    worker, timers, latency = (figures(name) for name in ("worker", "timers", "latency"))
    page = figures("page")
    print(f"\n{'=' * 100}\n== Summary\n{'=' * 100}")
    for key, value in facts.items():
        print(f"  {key:<22} {value}")
    print()
    print_ingest(ingest)
    print_phases(figures("ingest phases"))
    print_status(status)
    print_peer(peer)
    print_floor(floor)
    print_worker(worker, timers, latency)
    print_page(page)
    targets = (
        ingest_targets(ingest, floor)
        + other_targets(ingest, status, peer)
        + worker_targets(worker, timers, latency)
        + page_targets(page)
    )
    print("\nTargets (issues #4, #13, #14)")
    for name, measured, met in targets:
        print(f"  {name:<56} {measured:<32} {verdict(met)}")
    print("\nTime per benchmark")
    for step in done.values():
        print(
            f"  {step.name:<16} {fmt(step.seconds, '7.1f', ' s')}"
            + (f"  ({step.note})" if step.note else "")
        )
    print(f"  {'total':<16} {total:7.1f} s")
    return {
        "machine": facts,
        "total_s": total,
        "steps": {
            name: {"seconds": step.seconds, "note": step.note, "figures": step.figures}
            for name, step in done.items()
        },
        "targets": [
            {"target": name, "measured": measured, "verdict": verdict(met)}
            for name, measured, met in targets
        ],
    }


def load_average() -> str:
    """The 1, 5 and 15 minute load averages."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild the cached status databases (the first-run case, ~1-2 min more)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[
            *("ingest", "ingest phases", "status", "peer", "sqlite floor"),
            *("worker", "timers", "latency", "page"),
        ],
        help="run only this benchmark (repeatable)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    facts = machine()
    facts["postgresql"] = postgres_version()
    facts["load average at start"] = facts.pop("load average")
    done: dict[str, Step] = {}
    for step in steps(args.quick, args.rebuild):
        if args.only and step.name not in args.only:
            continue
        run(step)
        done[step.name] = step
    total = time.perf_counter() - started
    facts["load average at end"] = load_average()
    summary = summarise(done, facts, total)
    RESULTS.mkdir(parents=True, exist_ok=True)
    SUMMARY_JSON.write_text(json.dumps(finite(summary), indent=2, ensure_ascii=False))
    print(f"\nFigures written to {SUMMARY_JSON.relative_to(ROOT)}; total time {total:.1f} s")
    failed = [step.name for step in done.values() if step.returncode not in (0, None)]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
