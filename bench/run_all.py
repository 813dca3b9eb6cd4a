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

The figures are read back from what each prints (``status.py`` also writes a JSON file) and
summarised at the end; the summary is also written to ``var/bench/run_all.json``. Every
subprocess has a time limit, after which it and its children are stopped and its figures are
reported missing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from _benchlib import POSTGRES_ENVS, ROOT, machine, postgres_server_url

BENCH = ROOT / "bench"
RESULTS = ROOT / "var" / "bench"
STATUS_JSON = RESULTS / "run_all-status.json"
SUMMARY_JSON = RESULTS / "run_all.json"

#: Targets of issue #4.
INGEST_SQLITE_TARGET = 20_000
INGEST_POSTGRES_TARGET = 10_000
HISTORY_TOLERANCE = 0.20
STATUS_P99_TARGET_MS = 5.0
PEER_TARGET = 40.0
#: "Memory does not grow with stored processes": the 1,000,000-process reader may use at most
#: this much more resident memory than the 10,000-process one after the same views.
MEMORY_TOLERANCE_MB = 10.0


@dataclass
class Step:
    """One benchmark script to run: its arguments, its time limit and how to read it."""

    name: str
    script: str
    args: list[str]
    limit_s: float
    parse: Callable[[str], dict[str, Any]]
    output: str = ""
    seconds: float = float("nan")
    returncode: int | None = None
    note: str = ""
    figures: dict[str, Any] = field(default_factory=dict)


# -- reading what the scripts print ----------------------------------------------------------

_NUMBER = r"(-?[\d,]+(?:\.\d+)?)"


def number(text: str) -> float:
    """``"12,345.6"`` as a float."""
    return float(text.replace(",", ""))


def flat(text: str) -> str:
    """``text`` with every run of whitespace as one space (undoes rich's line wrapping)."""
    return " ".join(text.split())


_RUN = re.compile(
    r"(SQLite, streamed|SQLite, simulator mix|SQLite|PostgreSQL, streamed"
    r"|PostgreSQL, simulator mix|PostgreSQL|HTTP, SQLite|10 prior events"
    r"|1,000 prior events): "
    rf"{_NUMBER} events in {_NUMBER} s → {_NUMBER} events/s"
    rf"(?: \({_NUMBER} per CPU-second\))?; (?:batch of|ingest call of up to) \d+: "
    rf"p50 {_NUMBER} ms, p99 {_NUMBER} ms, max {_NUMBER} ms"
)
_FINISHED = re.compile(rf"processes finished: {_NUMBER} \(.*?\) → {_NUMBER} processes/s")
_MACHINE = re.compile(
    rf"machine: {_NUMBER} µs of CPU per event over every process .*? at most {_NUMBER} events/s"
)
_HISTORY = re.compile(
    r"History independence \((wall|CPU) time\): 1,000-event / 10-event rate = "
    rf"{_NUMBER} \((within|NOT within) 20 %\)"
)


def best_rate(runs: dict[str, Any], backend: str) -> float | None:
    """The higher events/s of ``backend``'s per-batch and streamed runs, if any ran."""
    rates = [runs[label]["rate"] for label in (backend, f"{backend}, streamed") if label in runs]
    return max(rates) if rates else None


def parse_ingest(text: str) -> dict[str, Any]:
    """Each run's events, seconds, events/s, per-CPU-second rate and batch latencies, and the
    history ratios, from ``bench/ingest.py``'s output."""
    runs: dict[str, Any] = {}
    flat_text = flat(text)
    matches = list(_RUN.finditer(flat_text))
    for index, match in enumerate(matches):
        label, events, seconds, rate, cpu_rate, p50, p99, top = match.groups()
        # The run's own report ends where the next run's begins.
        end = matches[index + 1].start() if index + 1 < len(matches) else len(flat_text)
        finished = _FINISHED.search(flat_text, match.end(), end)
        machine_cpu = _MACHINE.search(flat_text, match.end(), end)
        runs[label] = {
            "events": int(number(events)),
            "seconds": number(seconds),
            "rate": number(rate),
            "cpu_rate": number(cpu_rate) if cpu_rate else None,
            "batch_p50_ms": number(p50),
            "batch_p99_ms": number(p99),
            "batch_max_ms": number(top),
            "processes_finished": int(number(finished.group(1))) if finished else None,
            "process_rate": number(finished.group(2)) if finished else None,
            "machine_cpu_us": number(machine_cpu.group(1)) if machine_cpu else None,
            "machine_bound": number(machine_cpu.group(2)) if machine_cpu else None,
        }
    history = {basis: number(ratio) for basis, ratio, _verdict in _HISTORY.findall(flat(text))}
    skipped = "PostgreSQL: skipped" in text
    return {"runs": runs, "history_ratio": history, "postgres_skipped": skipped}


_PHASES_TOTAL = re.compile(
    rf"{_NUMBER} events into {_NUMBER} processes, batches of 500.*?: {_NUMBER} events/s "
    rf"\({_NUMBER} per CPU-second\); {_NUMBER} µs per event \({_NUMBER} µs CPU\)"
)
_PHASE_LINE = re.compile(
    rf"^ {{2}}(\S.*?)\s+wall\s+{_NUMBER}(?:\s+CPU\s+{_NUMBER})?\s*(?:\((.*)\))?$"
)


def parse_phases(text: str) -> dict[str, Any]:
    """The total µs per event and each phase's and table's µs per event (wall and CPU) from
    ``bench/ingest_phases.py``'s output."""
    out: dict[str, Any] = {"phases": [], "tables": []}
    total = _PHASES_TOTAL.search(flat(text))
    if total:
        events, processes, rate, cpu_rate, us, cpu_us = total.groups()
        out.update(
            events=int(number(events)),
            processes=int(number(processes)),
            rate=number(rate),
            cpu_rate=number(cpu_rate),
            us=number(us),
            cpu_us=number(cpu_us),
        )
    section = None
    for line in text.splitlines():
        if line.startswith("Phases"):
            section = "phases"
        elif line.startswith("Table writes"):
            section = "tables"
        elif section and (match := _PHASE_LINE.match(line)):
            label, wall, cpu, extra = match.groups()
            out[section].append(
                {
                    "label": label.strip(),
                    "wall_us": number(wall),
                    "cpu_us": number(cpu) if cpu else None,
                    "note": extra or "",
                }
            )
    return out


_FLOOR = re.compile(
    r"(relevo, Hub.ingest per batch|bare replay, every statement|bare replay, writes only"
    r"|bare replay, writes without the projection update): "
    rf"{_NUMBER} events in {_NUMBER} s → {_NUMBER} events/s \({_NUMBER} µs per event"
)


def parse_floor(text: str) -> dict[str, Any]:
    """Each replay's events/s and µs per event from ``bench/sqlite_floor.py``'s output,
    by label."""
    return {
        label: {"events": int(number(events)), "rate": number(rate), "us": number(us)}
        for label, events, _seconds, rate, us in _FLOOR.findall(flat(text))
    }


def parse_status(_text: str) -> dict[str, Any]:
    """The JSON file ``bench/status.py --json`` wrote."""
    if not STATUS_JSON.exists():
        return {}
    figures: dict[str, Any] = json.loads(STATUS_JSON.read_text())
    return figures


_PEER = re.compile(
    rf"headline: relevo is {_NUMBER}× faster per event than SpiffWorkflow "
    rf"\({_NUMBER} µs vs {_NUMBER} µs\)"
)
_PEER_CEILING = re.compile(
    rf"ceiling: .*?: {_NUMBER} µs per event \({_NUMBER} µs writes only\); .*? at most "
    rf"{_NUMBER}× faster"
)
_PEER_ENGINE_CEILING = re.compile(
    rf"ceiling with the engine: .*?\({_NUMBER} µs per event\).*? at most {_NUMBER}× faster"
)
_PEER_ROW = re.compile(
    rf"^(relevo .+?|SpiffWorkflow .+?)\s+(\d+)\s+{_NUMBER}\s+{_NUMBER}\s+{_NUMBER}\s*$"
)


def parse_peer(text: str) -> dict[str, Any]:
    """The headline ratio, relevo's and SpiffWorkflow's µs per event, and every variant's
    row, from ``bench/peer_spiffworkflow.py``'s output."""
    out: dict[str, Any] = {"rows": []}
    for line in text.splitlines():
        if match := _PEER_ROW.match(line.strip()):
            label, events, rate, us, cpu_us = match.groups()
            out["rows"].append(
                {
                    "label": label.strip(),
                    "events": int(events),
                    "rate": number(rate),
                    "us": number(us),
                    "cpu_us": number(cpu_us),
                }
            )
    headline = _PEER.search(flat(text))
    if headline:
        ratio, relevo_us, spiff_us = headline.groups()
        out.update(ratio=number(ratio), relevo_us=number(relevo_us), spiff_us=number(spiff_us))
    ceiling = _PEER_CEILING.search(flat(text))
    if ceiling:
        floor_us, writes_us, most = ceiling.groups()
        out.update(
            floor_us=number(floor_us), floor_writes_us=number(writes_us), ceiling=number(most)
        )
    with_engine = _PEER_ENGINE_CEILING.search(flat(text))
    if with_engine:
        engine_us, most = with_engine.groups()
        out.update(engine_us=number(engine_us), engine_ceiling=number(most))
    out["lines"] = [
        line.strip()
        for line in text.splitlines()
        if line.startswith(("headline", "ratio", "ceiling"))
    ]
    return out


# -- running ----------------------------------------------------------------------------------


def run(step: Step) -> None:
    """Run ``step`` as a subprocess in its own process group, echoing its output as it
    comes; stop the group when it outlives its time limit."""
    path = BENCH / step.script
    print(f"\n{'=' * 100}\n== {step.name}: {path.relative_to(ROOT)} {' '.join(step.args)}")
    print("=" * 100, flush=True)
    if not path.exists():
        step.note = f"skipped: {path.relative_to(ROOT)} does not exist (yet)"
        print(f"  {step.note}", flush=True)
        return
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": os.environ.get("COLUMNS", "120")}
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(path), *step.args],
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
    chunks: list[str] = []
    try:
        for line in child.stdout or ():
            sys.stdout.write(line)
            sys.stdout.flush()
            chunks.append(line)
        step.returncode = child.wait()
    finally:
        timer.cancel()
    step.seconds = time.perf_counter() - started
    step.output = "".join(chunks)
    if timed_out.is_set():
        step.note = f"stopped after its time limit of {step.limit_s:.0f} s"
    elif step.returncode == 2 and "SpiffWorkflow is not installed" in step.output:
        step.note = "skipped: SpiffWorkflow is not installed (pip install -e '.[bench]')"
        step.returncode = None
    elif step.returncode != 0:
        step.note = f"exited with status {step.returncode}"
    try:
        step.figures = step.parse(step.output)
    except (ValueError, KeyError, json.JSONDecodeError) as error:
        step.note += f"; figures not readable ({error})"
    print(f"-- {step.name}: {step.seconds:.1f} s" + (f" ({step.note})" if step.note else ""))


def steps(quick: bool, rebuild: bool = False) -> list[Step]:
    """The benchmarks and their sizes: the full run fits in ten minutes on 2 CPUs even when
    the 1,000,000-process database has to be built first (``rebuild`` forces that)."""
    status_extra = ["--rebuild"] if rebuild else []
    if quick:
        return [
            Step("ingest", "ingest.py", ["--quick"], 300, parse_ingest),
            Step("ingest phases", "ingest_phases.py", ["--processes", "2000"], 120, parse_phases),
            Step(
                "status",
                "status.py",
                ["--quick", "--http-seconds", "5", "--json", str(STATUS_JSON), *status_extra],
                300,
                parse_status,
            ),
            Step("peer", "peer_spiffworkflow.py", ["--quick"], 300, parse_peer),
            Step(
                "sqlite floor",
                "sqlite_floor.py",
                ["--processes", "2000", "--repeat", "1"],
                120,
                parse_floor,
            ),
        ]
    return [
        Step(
            "ingest",
            "ingest.py",
            # The simulator mix at half its default size: the same shape, a minute less.
            ["--processes", "20000", "--mix-processes", "5000"],
            420,
            parse_ingest,
        ),
        Step("ingest phases", "ingest_phases.py", ["--processes", "10000"], 180, parse_phases),
        Step(
            "status",
            "status.py",
            ["--views", "20000", "--http-seconds", "20", "--json", str(STATUS_JSON), *status_extra],
            480,
            parse_status,
        ),
        Step("peer", "peer_spiffworkflow.py", ["--processes", "1000"], 420, parse_peer),
        # The same 20,000-process stream as the ingest step, so the floor sits beside it.
        Step(
            "sqlite floor",
            "sqlite_floor.py",
            ["--processes", "20000", "--repeat", "1"],
            240,
            parse_floor,
        ),
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


def summarise(done: dict[str, Step], facts: dict[str, str], total: float) -> dict[str, Any]:
    """Print the headline figures and the targets; return them as a mapping."""
    ingest = done["ingest"].figures if "ingest" in done else {}
    runs = ingest.get("runs", {})
    phases = done["ingest phases"].figures if "ingest phases" in done else {}
    status = done["status"].figures if "status" in done else {}
    peer = done["peer"].figures if "peer" in done else {}
    floor = done["sqlite floor"].figures if "sqlite floor" in done else {}

    print(f"\n{'=' * 100}\n== Summary\n{'=' * 100}")
    for key, value in facts.items():
        print(f"  {key:<22} {value}")
    print()
    print("Ingest (service layer, batches of 500, realistic mobile port-in mix)")
    for label in (
        "SQLite",
        "SQLite, streamed",
        "SQLite, simulator mix",
        "PostgreSQL",
        "PostgreSQL, streamed",
        "PostgreSQL, simulator mix",
        "HTTP, SQLite",
        "10 prior events",
        "1,000 prior events",
    ):
        figures = runs.get(label)
        if figures is None:
            continue
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
            + ", ".join(f"{basis} {ratio:.2f}" for basis, ratio in history.items())
        )
    if phases.get("us") is not None:
        print(
            f"\nWhere ingest time goes ({phases['events']:,} events, SQLite, µs per event): "
            f"total {phases['us']:.0f} wall, {phases['cpu_us']:.0f} CPU"
        )
        for row in phases["phases"]:
            cpu_us = fmt(row["cpu_us"], "7.1f")
            print(f"  {row['label']:<40} wall {row['wall_us']:7.1f}   CPU {cpu_us}")
    in_process = {row["processes"]: row for row in status.get("in_process", [])}
    big = in_process.get(max(in_process)) if in_process else None
    small = in_process.get(min(in_process)) if in_process else None
    if big:
        print("\nStatus view")
        for row in in_process.values():
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
            f"{http['server_cpu_ms_per_request']:.2f} ms, client "
            f"{http['client_cpu_ms_per_request']:.2f} ms ({http['client']} client); server RSS "
            f"{http['server_rss_idle']:.0f} → {http['server_rss_warm']:.0f} → "
            f"{http['server_rss_after']:.0f} MiB (idle → warm-up → after)"
        )
    if peer.get("rows"):
        print("\nrelevo vs SpiffWorkflow (same events, same SQLite settings)")
        for row in peer["rows"]:
            print(f"  {row['label']:<60} {row['us']:>9,.1f} µs/event  (CPU {row['cpu_us']:,.1f})")
    for line in peer.get("lines", []):
        print(f"  {line}")
    if floor:
        print("\nSQLite floor: the statements of Hub.ingest replayed bare (sqlite3, same settings)")
        for label, figures in floor.items():
            print(f"  {label:<52} {figures['rate']:>8,.0f} events/s  {figures['us']:6.1f} µs/event")
    writes_floor = floor.get("bare replay, writes only", {}).get("rate")

    # The target is for the service layer in batches of 500: the better of one call per
    # batch and the streamed pipeline (both printed above).
    sqlite_rate = best_rate(runs, "SQLite")
    pg_rate = best_rate(runs, "PostgreSQL")
    # What the machine's cores allow the streamed run at its measured CPU cost per event.
    pg_bound = runs.get("PostgreSQL, streamed", {}).get("machine_bound")
    wall_ratio = history.get("wall")
    p99 = big["latency_ms"]["p99"] if big else None
    growth = big["rss_after"] - small["rss_after"] if big and small and big is not small else None
    ratio = peer.get("ratio")
    targets = [
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
        (
            "history 10 vs 1,000 events within 20 % (wall time)",
            "-"
            if wall_ratio is None
            else f"ratio {wall_ratio:.2f} wall, {fmt(history.get('CPU'), '.2f')} CPU",
            None if wall_ratio is None else abs(1 - wall_ratio) <= HISTORY_TOLERANCE,
        ),
        (
            "status p99 ≤ 5 ms in-process, 1,000,000 processes",
            "-" if big is None else f"p99 {p99:.2f} ms over {big['processes']:,}",
            None if big is None or big["processes"] < 1_000_000 else p99 <= STATUS_P99_TARGET_MS,
        ),
        (
            f"memory flat with stored processes (≤ {MEMORY_TOLERANCE_MB:.0f} MiB more)",
            "-"
            if growth is None
            else f"{growth:+.1f} MiB ({small['processes']:,} → {big['processes']:,})",
            None
            if growth is None or big["processes"] < 1_000_000
            else growth <= MEMORY_TOLERANCE_MB,
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
    print("\nTargets (issue #4)")
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
        choices=["ingest", "ingest phases", "status", "peer", "sqlite floor"],
        help="run only this benchmark (repeatable)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    facts = machine()
    facts["postgresql"] = postgres_version()
    facts["load average at start"] = facts.pop("load average")
    STATUS_JSON.unlink(missing_ok=True)
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
    SUMMARY_JSON.write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    print(f"\nFigures written to {SUMMARY_JSON.relative_to(ROOT)}; total time {total:.1f} s")
    failed = [step.name for step in done.values() if step.returncode not in (0, None)]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
