"""The benchmark scripts still run against the code they measure (tiny sizes, no timing).

``bench/ingest_phases.py`` times the store and the engine by wrapping their functions by
name: when one is renamed, the script breaks, and only running it shows that.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PHASES = (
    "store: inbox_seen (dedupe)",
    "correlator: resolve (key lookups)",
    "store: process_versions (cache check)",
    "engine: decide",
    "ingest: record_events (hash, apply)",
    "store: save (every insert/update)",
    "store: commit",
)


def run_bench(script: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        cwd=ROOT / "bench",
        capture_output=True,
        text=True,
        timeout=300,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_ingest_phases_times_every_phase() -> None:
    output = run_bench("ingest_phases.py", "--processes", "100")

    for label in PHASES:
        match = re.search(
            rf"{re.escape(label)}\s+wall\s+[\d.]+\s+CPU\s+[\d.]+\s+\(([\d,]+) calls\)", output
        )
        assert match is not None, f"{label!r} missing from:\n{output}"
        assert int(match.group(1).replace(",", "")) > 0
    assert "INSERT INTO events" in output


def test_ingest_benchmark_runs_per_batch_streamed_and_the_simulator_mix_on_sqlite() -> None:
    output = run_bench(
        "ingest.py",
        "--processes",
        "100",
        "--mix-processes",
        "150",
        "--skip",
        "postgres",
        "--skip",
        "http",
        "--skip",
        "history",
    )

    assert re.search(r"│ SQLite\s+│\s+[\d,]+ │\s+[\d,]+ │", output), output
    assert re.search(r"│ SQLite, streamed\s+│\s+[\d,]+ │\s+[\d,]+ │", output), output
    # Every pre-created process reaches its end in the stream, in both runs.
    finished = re.findall(r"processes finished: ([\d,]+) \(.*?\) → ([\d,]+) processes/s", output)
    assert [count for count, _rate in finished][:2] == ["100", "100"], output
    # Each run says what the machine's cores allow at its CPU cost per event.
    assert len(re.findall(r"machine: [\d,]+ µs of CPU per event over every process", output)) >= 2
    # The simulator's world: every kind, events and due timers in ingest calls of up to 500.
    assert re.search(r"│ SQLite, simulator mix\s+│\s+[\d,]+ │\s+[\d,]+ │", output), output
    assert "150 starts and " in output
    assert "ingest call of up to 500" in output


def test_sqlite_floor_replays_the_runs_statements_and_leaves_the_same_rows() -> None:
    output = run_bench("sqlite_floor.py", "--processes", "60", "--repeat", "1")

    for label in (
        "relevo, Hub.ingest per batch",
        "bare replay, every statement",
        "bare replay, writes only",
        "bare replay, writes without the projection update",
    ):
        assert re.search(
            rf"{re.escape(label)}: [\d,]+ events in [\d.]+ s → [\d,]+ events/s", output
        ), f"{label!r} missing from:\n{output}"
    # The floor counts only if the replay did the run's work: the script checks the rows.
    assert "replay check: the bare replay left exactly the run's rows" in output
