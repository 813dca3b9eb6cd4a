"""``relevo simulate``: a realistic world of customers and back-ends around relevo.

Modes: into the configured database (default; a history run as of now, or a live run with
``--speed``), into a CloudEvents JSONL file (``--out``), against a running server
(``--url``), or replaying a file written before (``--replay``). Every parameter of the world
is in ``relevo/simulate/defaults.toml`` (``--print-config``), overridable with ``--config``.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import httpx
import orjson
import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from relevo.bootstrap import build_hub, load_catalog, tune_runtime
from relevo.cli.common import err, fail, failures, out
from relevo.config import Settings
from relevo.simulate.clock import SimClock
from relevo.simulate.config import default_text, load_config
from relevo.simulate.options import SimulationOptions
from relevo.simulate.player import play_file
from relevo.simulate.runner import (
    drive_http,
    generate,
    populate,
    run_in_process,
)
from relevo.simulate.summary import Summary
from relevo.simulate.world import World

KEY_ENV = "RELEVO_API_KEY"
STATUSES = ("active", "completed", "cancelled", "failed")
#: How many unreached stages or incidents the report names.
SHOWN_MISSING = 6


def simulate_command(
    processes: Annotated[
        int | None, typer.Option("--processes", "-n", min=0, help="Processes to simulate.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed: same seed, same world.")] = None,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", dir_okay=False, help="Write CloudEvents JSONL to this file."),
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Drive a running relevo server at this base URL.")
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(envvar=KEY_ENV, help="API key for --url (ingest and channel scopes)."),
    ] = None,
    speed: Annotated[
        float | None,
        typer.Option(min=0.001, help="Run live, N times faster than real time (600 = 10 min/s)."),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option("--config", exists=True, dir_okay=False, help="TOML overriding defaults."),
    ] = None,
    days: Annotated[
        float | None,
        typer.Option(min=0.01, help="Days simulated (default: each kind's window_days)."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(help="ISO 8601 moment the run is as of (default: the current time)."),
    ] = None,
    replay: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="Replay a JSONL file into the database."),
    ] = None,
    summary_json: Annotated[
        Path | None, typer.Option(dir_okay=False, help="Also write the summary as JSON here.")
    ] = None,
    print_config: Annotated[
        bool, typer.Option("--print-config", help="Print the documented defaults and exit.")
    ] = False,
) -> None:
    """Simulate customers and back-ends: processes of every kind in every stage.

    Without --out or --url it writes into the configured database (RELEVO_DATABASE_URL,
    migrated with 'relevo db upgrade'). A JSONL file holds process starts and customer
    actions as 'relevo.process.start' / 'relevo.process.act' lines between the events;
    load one with --replay.
    """
    if print_config:
        out.print(default_text(), markup=False, highlight=False, soft_wrap=True)
        return
    if out_file is not None and url is not None:
        raise fail("choose one of --out and --url")
    with failures():
        options = SimulationOptions(
            processes=processes,
            seed=seed,
            now=_moment(now),
            days=days,
            speed=speed,
            config=load_config(config_file),
        )
        if replay is not None:
            _replay(replay)
            return
        if url is not None:
            summary = _http(url, key, options)
        elif out_file is not None:
            summary = _file(out_file, options)
        else:
            summary = _database(options)
        _report(summary)
        if summary_json is not None:
            summary_json.write_bytes(
                orjson.dumps(summary.as_json(), option=orjson.OPT_INDENT_2) + b"\n"
            )


# -- the modes --------------------------------------------------------------------------------
def _database(options: SimulationOptions) -> Summary:
    tune_runtime()
    hub = build_hub(Settings.from_env(), clock=SimClock())
    try:
        existing = hub.count_processes()
        # A database that already holds a run gets a new world, not the same ids again.
        tag = f"r{int(options.moment().timestamp())}" if existing else ""
        with _progress() as track:
            if options.speed is None:
                return populate(hub, replace(options, run_tag=tag), progress=track)
            with _interruptible() as stop:
                return run_in_process(hub, options, stop=stop, progress=track)
    finally:
        hub.close()


def _file(path: Path, options: SimulationOptions) -> Summary:
    catalog = load_catalog(Settings.from_env())
    with (
        path.open("wb") as stream,
        _progress() as track,
        _interruptible() as stop,
    ):
        summary = generate(stream, replace(options, catalog=catalog), stop=stop, progress=track)
    err.print(f"wrote {path}")
    return summary


def _http(url: str, key: str | None, options: SimulationOptions) -> Summary:
    if not key:
        raise fail(f"--url needs an API key with the ingest and channel scopes: --key or {KEY_ENV}")
    catalog = load_catalog(Settings.from_env())
    headers = {"Authorization": f"Bearer {key}"}
    with (
        httpx.Client(base_url=url, headers=headers, timeout=60.0) as client,
        _progress() as track,
        _interruptible() as stop,
    ):
        return drive_http(client, replace(options, catalog=catalog), stop=stop, progress=track)


def _replay(path: Path) -> None:
    tune_runtime()
    hub = build_hub(Settings.from_env(), clock=SimClock())
    try:
        report = play_file(hub, path)
    finally:
        hub.close()
    table = Table(title=f"{path.name}: {report.lines} line(s)", title_justify="left")
    table.add_column("outcome")
    table.add_column("lines", justify="right")
    for outcome, n in sorted(report.outcomes.items()):
        table.add_row(outcome, str(n))
    for code, n in sorted(report.refused.items()):
        table.add_row(f"action refused: {code}", str(n))
    table.add_row("timers fired", str(report.timers))
    out.print(table)
    for number, reason in report.rejected[:20]:
        err.print(f"{path}:{number}: rejected: {reason}", markup=False)


# -- presentation -----------------------------------------------------------------------------
def _report(summary: Summary) -> None:
    table = Table(
        title=(
            f"relevo simulate ({summary.mode}, seed {summary.seed}): {summary.processes} "
            f"processes, {summary.events} events, {summary.wall_seconds:.1f} s"
        ),
        title_justify="left",
    )
    table.add_column("kind", no_wrap=True)
    for status in STATUSES:
        table.add_column(status, justify="right")
    table.add_column("incidents", justify="right", no_wrap=True)
    table.add_column("stages", justify="right")
    catalog = summary.world.catalog if summary.world is not None else None
    for kind, counts in summary.by_kind.items():
        seen = summary.incidents_seen.get(kind, {})
        stages = summary.stages.get(kind, {})
        codes = stages_total = "?"
        if catalog is not None:
            definition = catalog.latest(kind).definition
            codes = str(len(definition.incidents))
            stages_total = str(len(definition.stages))
        table.add_row(
            kind,
            *(str(counts.get(status, 0)) for status in STATUSES),
            f"{len(seen)}/{codes} ({sum(seen.values())})",
            f"{len(stages)}/{stages_total}",
        )
    out.print(table)
    outcomes = ", ".join(f"{k} {v}" for k, v in summary.outcomes.items())
    out.print(
        f"events: {outcomes}  (duplicates sent {summary.duplicates}, strays {summary.strays})"
    )
    out.print(
        f"actions: {sum(summary.actions.values())} done, "
        f"{sum(summary.refused.values())} refused; "
        f"integration messages answered: {sum(summary.answered.values())}; "
        f"timers fired: {sum(summary.timers.values())}"
    )
    server = summary.extra.get("server")
    if server:
        out.print("server answers: " + ", ".join(f"{k} {v}" for k, v in server.items()))
    if summary.missing:
        shown = ", ".join(summary.missing[:SHOWN_MISSING])
        more = len(summary.missing) - SHOWN_MISSING
        tail = f" and {more} more" if more > 0 else ""
        err.print(
            f"[yellow]{len(summary.missing)} stage(s) or incident(s) not reached[/] "
            f"(a longer or larger run reaches them): {escape(shown)}{tail}",
            soft_wrap=True,
        )
    if summary.unsimulated:
        kinds = escape(", ".join(summary.unsimulated))
        err.print(f"[yellow]kinds without a simulated world:[/] {kinds}")
    if summary.start_failures:
        refused = escape(str(summary.start_failures))
        err.print(f"[yellow]starts refused:[/] {refused}", soft_wrap=True)


@contextmanager
def _progress() -> Iterator[_Track]:
    progress = Progress(
        TextColumn("[bold]simulate"),
        BarColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    with progress:
        yield _Track(progress)


class _Track:
    """Moves the progress bar as simulated time advances."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task: TaskID | None = None
        self.start: datetime | None = None
        self.end: datetime | None = None

    def __call__(self, world: World) -> None:
        if self.task is None:
            self.start = world.now
            self.end = world.horizon or world.now
            total = max((self.end - self.start).total_seconds(), 1.0)
            self.task = self.progress.add_task("simulate", total=total, info="")
        assert self.start is not None
        stats = world.stats
        done = (world.now - self.start).total_seconds()
        info = (
            f"{world.now:%Y-%m-%d %H:%M} UTC · {sum(stats.started.values())} processes · "
            f"{sum(stats.events.values())} events"
        )
        self.progress.update(self.task, completed=done, info=info)


@contextmanager
def _interruptible() -> Iterator[threading.Event]:
    """A stop event that Ctrl-C sets, so a live run ends cleanly with its summary (the
    usual KeyboardInterrupt comes back once the block is left)."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    previous = signal.signal(signal.SIGINT, lambda _signum, _frame: stop.set())
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _moment(text: str | None) -> datetime:
    if text is None:
        return datetime.now(UTC).replace(second=0, microsecond=0)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise fail(
            f"--now {text!r} is not an ISO 8601 moment (e.g. 2025-03-05T12:00:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        raise fail("--now needs a time zone offset, e.g. 2025-03-05T12:00:00+01:00")
    return moment.astimezone(UTC)


__all__ = ["simulate_command"]
