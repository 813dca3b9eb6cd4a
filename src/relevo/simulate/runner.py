"""Running the simulated world: into a hub (``populate``, ``trickle``), into a JSONL file
(``generate``) or against a server (``drive_http``), as fast as possible or paced.

* A *history* run draws its processes in the days before ``now`` and performs everything
  dated up to ``now``: the database (or file) then holds processes caught in every stage.
  ``populate`` and ``generate`` without a speed are history runs.
* A *live* run starts at ``now`` and moves forward; with a ``speed`` it is paced on the
  wall clock (600 = ten simulated minutes per second) so a watcher sees processes move.
  ``trickle`` is a live run that keeps starting processes until told to stop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

import httpx
import orjson

from relevo.domain.model import JSON
from relevo.services.hub import Hub
from relevo.simulate.clock import Pace, SettableClock
from relevo.simulate.config import load_config
from relevo.simulate.options import SimulationOptions
from relevo.simulate.ports.http import HttpPort
from relevo.simulate.ports.hub import HubPort
from relevo.simulate.ports.model import ModelPort
from relevo.simulate.summary import Summary, summarize
from relevo.simulate.world import Recorder, World

#: Called as simulated time advances (e.g. to move a progress bar).
Progress = Callable[[World], None]

#: How far a history run advances between two progress reports.
STEP = timedelta(hours=6)


def run_history(world: World, end: datetime, progress: Progress | None = None) -> None:
    """Perform everything due up to ``end``, as fast as possible."""
    moment = world.now
    while moment < end:
        moment = min(moment + STEP, end)
        world.run_until(moment)
        if progress is not None:
            progress(world)


def run_paced(
    world: World,
    pace: Pace,
    *,
    until: datetime | None = None,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    max_sleep: float = 0.25,
) -> None:
    """Advance ``world`` with ``pace`` (simulated time = ``speed`` × wall time) until
    ``until`` is reached or ``stop`` is set; sleeps between due operations."""
    while stop is None or not stop.is_set():
        target = pace.now()
        if until is not None and target >= until:
            world.run_until(until)
            if progress is not None:
                progress(world)
            return
        world.run_until(target)
        if progress is not None:
            progress(world)
        due = world.next_due
        wait = max_sleep if due is None else min(max_sleep, pace.wall_seconds_until(due))
        wait = max(wait, 0.005)
        if stop is not None:
            stop.wait(wait)
        else:
            time.sleep(wait)


def history(
    world: World, processes: int, now: datetime, days: float | None, progress: Progress | None
) -> float:
    """Plan and run a history run ending at ``now``; returns the wall seconds it took."""
    world.plan(processes, now, now, history=True, days=days)
    world.horizon = now
    strays = world.config.section("run").integer("stray_events")
    world.plan_strays(strays, world.now, now)
    began = time.perf_counter()
    run_history(world, now, progress)
    return time.perf_counter() - began


def populate(hub: Hub, options: SimulationOptions, *, progress: Progress | None = None) -> Summary:
    """Fill ``hub`` with ``options.processes`` processes of every kind, as of ``options.now``.

    Contract: the hub's clock must be settable (build it with ``SimClock()``); the run
    moves it through the simulated weeks and gives it back as it found it (pinned to the
    same moment, or following the system clock).
    Everything goes through the hub's services (starts, actions) and through the same
    intake as ``relevo ingest`` (events, due timers). With the defaults and a few thousand
    processes every stage and incident of the catalog is reached (``Summary.missing``
    lists any that is not). ``Summary.world`` can be handed to ``trickle`` to go on.
    Event ids are ``sim-<seed>-<n>``: to add a run to a database that already holds one
    with the same seed, give a ``run_tag`` (ids ``sim-<seed>-<tag>-<n>``, other customers),
    or relevo would take its events for redeliveries.
    """
    config, processes, seed = options.resolved()
    moment = options.moment()
    port = HubPort(hub)
    previous = getattr(port.clock, "pinned", None)
    world = World(
        config=config,
        catalog=hub.catalog,
        port=port,
        seed=seed,
        start=moment,
        run_tag=options.run_tag,
    )
    try:
        wall = history(world, processes, moment, options.days, progress)
    finally:
        _restore(port.clock, previous)
    return summarize(world, "populate", wall, world_start(world, moment))


def trickle(
    hub: Hub,
    stop_event: threading.Event,
    options: SimulationOptions | None = None,
    *,
    simulation: World | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Keep the hub alive until ``stop_event`` is set: start a few processes per simulated
    hour and move the existing ones, at ``options.speed`` × real time (default
    ``live.speed``; ``options.processes_per_hour`` defaults to ``live.processes_per_hour``).

    Give ``simulation`` (``populate(...).world``) to advance the processes ``populate``
    left in flight; otherwise a new world starts from the hub's clock, with ids and numbers
    of its own. Meant for a background thread beside the web server: it pins the hub's
    clock to simulated time as it goes, so pages and the engine agree on "now".
    """
    options = options or SimulationOptions()
    config = options.config or (simulation.config if simulation is not None else load_config())
    live = config.section("live")
    speed = live.number("speed") if options.speed is None else options.speed
    rate = (
        live.number("processes_per_hour")
        if options.processes_per_hour is None
        else options.processes_per_hour
    )
    if simulation is None:
        port = HubPort(hub)
        start = port.clock().astimezone(UTC)
        seed = config.section("run").integer("seed") if options.seed is None else options.seed
        simulation = World(
            config=config,
            catalog=hub.catalog,
            port=port,
            seed=seed,
            start=start,
            run_tag=f"t{int(start.timestamp())}",
        )
    began, wall = simulation.now, time.perf_counter()
    simulation.live(rate)
    run_paced(simulation, Pace(simulation.now, speed), stop=stop_event, progress=progress)
    return summarize(simulation, "trickle", time.perf_counter() - wall, began)


def generate(
    stream: BinaryIO,
    options: SimulationOptions,
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> Summary:
    """Write the world as CloudEvents JSONL to ``stream`` (see ``relevo.simulate.envelopes``
    for the two command line types). Without ``options.speed`` it is a history run ending
    at ``options.now``: the same seed, configuration, catalog and ``now`` give the same
    bytes. With a ``speed`` it is a live run from ``now``, each line flushed when it
    happens."""
    config, processes, seed = options.resolved()
    catalog = options.the_catalog()
    moment = options.moment()
    speed = options.speed

    def record(line: JSON) -> None:
        stream.write(orjson.dumps(line) + b"\n")
        if speed is not None:
            stream.flush()

    world = World(
        config=config,
        catalog=catalog,
        port=ModelPort(catalog),
        seed=seed,
        start=moment,
        record=record,
    )
    if speed is None:
        wall = history(world, processes, moment, options.days, progress)
        return summarize(world, "jsonl", wall, world_start(world, moment))
    return _live(world, processes, options, stop, progress, "jsonl")


def drive_http(
    client: httpx.Client,
    options: SimulationOptions,
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
    record: Recorder | None = None,
) -> Summary:
    """Drive a server through ``client`` with a live run starting at ``options.now`` (paced
    when ``options.speed`` is given, else as fast as the server answers).
    ``Summary.extra["server"]`` tallies the server's answers."""
    config, processes, seed = options.resolved()
    catalog = options.the_catalog()
    port = HttpPort(ModelPort(catalog), client)
    moment = options.moment()
    world = World(
        config=config,
        catalog=catalog,
        port=port,
        seed=seed,
        start=moment,
        run_tag=f"h{int(moment.timestamp())}",
        record=record,
    )
    summary = _live(world, processes, options, stop, progress, "http")
    summary.extra["server"] = dict(sorted(port.answers.items()))
    return summary


def run_in_process(
    hub: Hub,
    options: SimulationOptions,
    *,
    stop: threading.Event | None = None,
    progress: Progress | None = None,
) -> Summary:
    """A live run into ``hub`` paced at ``options.speed`` (the hub's clock follows the
    simulation)."""
    config, processes, seed = options.resolved()
    moment = options.moment()
    world = World(
        config=config,
        catalog=hub.catalog,
        port=HubPort(hub),
        seed=seed,
        start=moment,
        run_tag=f"l{int(moment.timestamp())}",
    )
    return _live(world, processes, options, stop, progress, "live")


def live_days(world: World, days: float | None) -> float:
    """How long a live run lasts: ``days``, else ``live.days``."""
    return days if days is not None else world.config.section("live").number("days")


def _live(
    world: World,
    processes: int,
    options: SimulationOptions,
    stop: threading.Event | None,
    progress: Progress | None,
    mode: str,
) -> Summary:
    now, days, speed = options.moment(), options.days, options.speed
    span = timedelta(days=live_days(world, days))
    world.plan(processes, now, now + span, history=False, days=days)
    world.horizon = now + span
    began = time.perf_counter()
    if speed is None:
        run_history(world, now + span, progress)
    else:
        run_paced(world, Pace(now, speed), until=now + span, stop=stop, progress=progress)
    return summarize(world, mode, time.perf_counter() - began, now)


def world_start(world: World, fallback: datetime) -> datetime:
    """When the world's first process started (or ``fallback``)."""
    starts = [case.started_at for case in world.cases.values()]
    return min(starts) if starts else fallback


def _restore(clock: SettableClock, previous: datetime | None) -> None:
    if previous is not None:
        clock.set(previous)
    elif hasattr(clock, "release"):
        clock.release()


__all__ = [
    "Progress",
    "drive_http",
    "generate",
    "populate",
    "run_history",
    "run_in_process",
    "run_paced",
    "trickle",
]
