"""The benchmark scripts still run against the code they measure, write their figures as
JSON, and ``bench/run_all.py`` summarises those files (tiny sizes, no timing asserted).

``bench/ingest_phases.py`` times the store and the engine by wrapping their functions by
name: when one is renamed, the script breaks, and only running it shows that.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import run_all  # noqa: E402  (bench/ is not a package: found through sys.path)

PHASES = (
    "store: inbox_received (dedupe)",
    "correlator: resolve (key lookups)",
    "store: process_versions (cache check)",
    "engine: decide",
    "ingest: record_events (hash, apply)",
    "store: save (every insert/update)",
    "store: commit",
)
FLOOR_RUNS = (
    "relevo, Hub.ingest per batch",
    "bare replay, every statement",
    "bare replay, writes only",
    "bare replay, writes without the projection update",
)
PEER_PROCESSES = 30
TIMERS = 200
#: Each benchmark at a tiny size, as run_all would run it.
TINY = [
    run_all.Step(
        "ingest",
        "ingest.py",
        # PostgreSQL, HTTP and the history runs are left out: they cost minutes, not seconds.
        [
            *("--processes", "100", "--mix-processes", "150"),
            *("--skip", "postgres", "--skip", "http", "--skip", "history"),
        ],
        300,
    ),
    run_all.Step("ingest phases", "ingest_phases.py", ["--processes", "100"], 300),
    run_all.Step(
        "status",
        "status.py",
        ["--quick", "--processes", "400", "--views", "50", "--no-http"],
        300,
    ),
    run_all.Step(
        "peer", "peer_spiffworkflow.py", ["--processes", str(PEER_PROCESSES), "--no-stock"], 300
    ),
    run_all.Step("sqlite floor", "sqlite_floor.py", ["--processes", "60", "--repeat", "1"], 300),
    run_all.Step("worker", "worker.py", ["--messages", "40"], 300),
    run_all.Step("timers", "timers.py", ["--processes", str(TIMERS)], 300),
    run_all.Step("latency", "latency.py", ["--processes", "30", "--idle", "0.1"], 300),
    run_all.Step("page", "page.py", ["--processes", "400", "--requests", "60"], 300),
]
SPIFF_INSTALLED = importlib.util.find_spec("SpiffWorkflow") is not None


@pytest.fixture(scope="module")
def done(tmp_path_factory: pytest.TempPathFactory) -> dict[str, run_all.Step]:
    """Every tiny benchmark run through run_all, by step name."""
    results = tmp_path_factory.mktemp("results")
    for step in TINY:
        run_all.run(step, results)
    return {step.name: step for step in TINY}


def test_every_benchmark_wrote_its_figures_as_json(done: dict[str, run_all.Step]) -> None:
    for step in done.values():
        if step.name == "peer" and not SPIFF_INSTALLED:
            assert step.returncode is None
            assert step.note.startswith("skipped: SpiffWorkflow is not installed")
            continue
        assert (step.returncode, step.note) == (0, ""), step.name
        assert step.figures["machine"]["nproc"], step.name


def test_ingest_phases_times_every_phase(done: dict[str, run_all.Step]) -> None:
    figures = done["ingest phases"].figures

    calls = {row["label"]: row["calls"] for row in figures["phases"]}
    for label in PHASES:
        assert calls.get(label, 0) > 0, f"{label!r} missing from {calls}"
    assert "INSERT INTO events" in {row["label"] for row in figures["tables"]}
    assert figures["us"] > 0 and figures["rest_us"] is not None


def test_ingest_runs_per_batch_streamed_and_the_simulator_mix_on_sqlite(
    done: dict[str, run_all.Step],
) -> None:
    runs = done["ingest"].figures["runs"]

    assert set(runs) == {"SQLite", "SQLite, streamed", "SQLite, simulator mix"}
    # Every pre-created process reaches its end in the stream, in both runs.
    assert runs["SQLite"]["processes_finished"] == runs["SQLite, streamed"]["processes_finished"]
    assert runs["SQLite"]["processes_finished"] == 100
    # Each run says what the machine's cores allow at its CPU cost per event.
    assert runs["SQLite"]["machine_cpu_us"] > 0
    assert runs["SQLite, streamed"]["machine_bound"] > 0
    # The simulator's world: every kind, events and due timers in ingest calls of up to 500.
    assert runs["SQLite, simulator mix"]["batching"] == "ingest call of up to 500"
    assert runs["SQLite, simulator mix"]["outcomes"]["timers fired"] >= 0


def test_sqlite_floor_replays_the_runs_statements_and_leaves_the_same_rows(
    done: dict[str, run_all.Step],
) -> None:
    figures = done["sqlite floor"].figures

    assert list(figures["runs"]) == list(FLOOR_RUNS)
    assert all(run["rate"] > 0 for run in figures["runs"].values())
    # The floor counts only if the replay did the run's work: the script checks the rows.
    assert figures["rows_match"] is True


def test_status_reads_each_database_size(done: dict[str, run_all.Step]) -> None:
    figures = done["status"].figures

    assert [row["processes"] for row in figures["in_process"]] == [2_000, 400]
    assert figures["http"] is None


@pytest.mark.skipif(not SPIFF_INSTALLED, reason="SpiffWorkflow is not installed (bench extra)")
def test_peer_writes_the_ratio_and_its_ceilings(done: dict[str, run_all.Step]) -> None:
    figures = done["peer"].figures

    assert len(figures["rows"]) == 3
    assert figures["ratio"] == pytest.approx(figures["spiff_us"] / figures["relevo_us"])
    assert figures["engine_ceiling"] < figures["ceiling"]
    assert figures["status_agrees"] == PEER_PROCESSES


def test_worker_delivers_every_message_beside_the_bare_loop(
    done: dict[str, run_all.Step],
) -> None:
    figures = done["worker"].figures["worker"]

    assert figures["messages"] == 40 and figures["workers"] == 2
    assert figures["ratio"] == pytest.approx(figures["relevo_per_s"] / figures["bare_httpx_per_s"])


def test_timers_fire_the_same_timers_that_are_ingested_beside(
    done: dict[str, run_all.Step],
) -> None:
    figures = done["timers"].figures

    assert figures["fire"]["events"] == figures["ingest"]["events"] == TIMERS
    # Every timer applied once on each side, with the same outcomes.
    assert figures["fire"]["outcomes"] == {"accepted": TIMERS}
    assert figures["same_outcomes"] is True
    assert figures["ratio"] == pytest.approx(figures["fire"]["rate"] / figures["ingest"]["rate"])


def test_latency_measures_every_notification_sent(done: dict[str, run_all.Step]) -> None:
    figures = done["latency"].figures

    assert figures["pending_at_end"] == 0
    assert figures["sent"] == figures["attempts"]["sent"] > 0
    assert sum(figures["attempts"].values()) == figures["notifications"]
    assert 0 <= figures["latency_s"]["p50"] <= figures["latency_s"]["p99"]


def test_page_answers_every_request_of_every_target(done: dict[str, run_all.Step]) -> None:
    figures = done["page"].figures

    for target in ("page", "json", "bare"):
        assert figures["targets"][target]["statuses"] == {"200": 60}, target
        assert figures["targets"][target]["server_cpu_ms"] > 0, target
    assert figures["targets"]["view"]["server_cpu_ms"] > 0
    assert set(figures["goals"]) >= {"beyond_view_ratio", "page_ratio", "page_ratio_rounds"}
    # The targets took turns, round by round.
    assert all(len(figures["targets"][t]["rounds_ms"]) == 4 for t in ("page", "json", "bare"))


def test_page_skips_a_round_too_short_for_the_cpu_clock() -> None:
    import page  # bench/page.py, found through sys.path

    # /proc counts CPU in 10 ms ticks: a short round of the bare endpoint can read 0.
    figures = {
        "page": {"rounds_ms": [1.5, 1.2]},
        "json": {"rounds_ms": [1.0, 1.0]},
        "view": {"rounds_ms": [0.3, 0.3]},
        "bare": {"rounds_ms": [0.0, 0.5]},
    }
    goals = page.verdicts(
        {**figures, **{n: {**f, "server_cpu_ms": 1.0} for n, f in figures.items()}}
    )

    assert goals["page_ratio_rounds"] == [1.5, 1.2]
    assert goals["beyond_view_ratio_rounds"] == pytest.approx([1.4])


def test_run_all_summarises_the_figures_the_benchmarks_wrote(
    done: dict[str, run_all.Step], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    summary = run_all.summarise(done, {"nproc": "2"}, 1.0)
    printed = capsys.readouterr().out

    verdicts = {row["target"]: row["verdict"] for row in summary["targets"]}
    assert verdicts["ingest SQLite ≥ 20,000 events/s"] in ("met", "NOT met")
    assert "(writes alone " in _measured(summary, "ingest SQLite")
    # Not run at these sizes: no verdict rather than a wrong one.
    assert verdicts["ingest PostgreSQL ≥ 10,000 events/s"] == "not measured"
    assert verdicts["history 10 vs 1,000 events within 20 % (wall time)"] == "not measured"
    assert verdicts["status p99 ≤ 5 ms in-process, 1,000,000 processes"] == "not measured"
    assert verdicts["100,000 due timers fired ≥ 0.8× ingest (SQLite)"] == "not measured"
    assert verdicts["notification sent ≤ 2 s at p99 while ingesting"] in ("met", "NOT met")
    assert verdicts["customer page ≤ 1.5× JSON route (CPU)"] == "not measured"
    delivery = verdicts["delivery ≥ 0.5× bare httpx loop (2 workers, PostgreSQL)"]
    on_postgres = done["worker"].figures["worker"]["database"] == "postgresql"
    assert delivery in (("met", "NOT met") if on_postgres else ("not measured",))
    peer = verdicts["relevo ≥ 40× SpiffWorkflow per event"]
    assert peer in (("met", "NOT met") if SPIFF_INSTALLED else ("not measured",))
    for line in (
        *("SQLite, simulator mix", "engine: decide", "in-process,", "bare replay"),
        *("outbox delivery, 2 workers", "due timers on SQLite", "commit → sent"),
        "JSON GET /v1/processes/{id}",
    ):
        assert line in printed
    assert summary["steps"]["ingest"]["figures"] == done["ingest"].figures


def _measured(summary: dict[str, Any], target: str) -> str:
    [measured] = [row["measured"] for row in summary["targets"] if row["target"].startswith(target)]
    return str(measured)


def test_a_benchmark_that_fails_is_noted_without_figures(tmp_path: Path) -> None:
    step = run_all.Step("ingest", "ingest.py", ["--skip", "nothing-of-the-sort"], 60)

    run_all.run(step, tmp_path)

    assert step.returncode == 2
    assert step.note == "exited with status 2"
    assert step.figures == {}


def test_a_benchmark_that_skips_itself_says_why() -> None:
    step = run_all.Step("peer", "peer_spiffworkflow.py", [], 60)
    step.returncode = 2
    step.figures = {"skipped": "SpiffWorkflow is not installed"}

    run_all.note_outcome(step, timed_out=False)

    assert step.returncode is None
    assert step.note.startswith("skipped: SpiffWorkflow is not installed")
