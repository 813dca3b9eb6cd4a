"""Ingest benchmark: events per second through the service layer, on SQLite and PostgreSQL,
over HTTP, and with short versus long process histories. Prints figures; asserts nothing.

    .venv/bin/python bench/ingest.py            # full run (~20,000 processes, ~115,000 events)
    .venv/bin/python bench/ingest.py --quick    # small run (~2,000 processes)
    RELEVO_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test \\
        .venv/bin/python bench/ingest.py        # adds PostgreSQL (scratch database, dropped)
    .venv/bin/python bench/ingest.py --json bench/results/ingest.json   # figures as JSON too

What one "event" costs here is the full work of ``Hub.ingest``: dedupe against the inbox,
correlate by a key in ``data`` (msisdn, nc_reference, crm_order_id) or by subject, load the
state, decide with the engine, append to the hash-chained log, update the projection, write
outbox rows and timers, all in one transaction per batch of 500.

The event stream is a realistic mobile port-in mix (rules.md §1.4, §8.4): every process gets
``nc.accepted``; 6 % get ``donor.rejected`` then ``document.*`` and ``port.resubmitted``; the
rest ``donor.confirmed``; remote sales ``sim.shipped``/``sim.delivered``; then
``sim.activated`` and ``port.executed``; ~2 % of messages are delivered twice. Processes are
pre-created set-wise through the store (not timed), exactly as ``Processes.start`` would.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from _benchlib import (
    Line,
    add_json_option,
    bench_hub,
    console,
    create_processes,
    machine_busy_seconds,
    peak_rss_mb,
    port_in,
    postgres_server_url,
    print_machine,
    results_table,
    rss_mb,
    scratch_postgres,
    sqlite_url,
    summary_ms,
    utc,
    write_figures,
)
from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import tune_runtime
from relevo.domain import engine
from relevo.domain.model import TERMINAL_STATUSES, Message, Outcome, iso
from relevo.services.hub import Hub, Inbound
from relevo.services.ingest import record_events
from relevo.services.records import WriteBatch
from relevo.simulate import SimClock
from sim_mix import BatchingPlayer, SimulatedWorld, simulated_world

BATCH = 500
KIND = "mobile_port_in"
#: A Wednesday morning: processes start now, windows fall on the following nights.
NOW = utc(2026, 11, 25, 9, 0)
DUPLICATES = 0.02
#: The simulator's world starts its processes over this many days before ``NOW``: dense
#: enough that events gather into batches of hundreds, as at a large operator.
MIX_DAYS = 10.0
REJECTED = 0.06
REMOTE = 0.70


@dataclasses.dataclass
class Run:
    """The figures of one measured ingest run."""

    label: str
    events: int
    seconds: float
    latencies: list[float]
    outcomes: Counter[str]
    rss_before: float
    rss_after: float
    #: CPU seconds this process spent in the measured calls (NaN when the work ran
    #: elsewhere, as over HTTP); less sensitive than wall time to other load on the machine.
    cpu: float = float("nan")
    #: How the events were cut into ingest calls, as the report says it.
    batching: str = f"batch of {BATCH}"
    #: Processes that reached an end (completed, cancelled, failed) during the run, by status.
    finished: Counter[str] = dataclasses.field(default_factory=Counter)
    #: CPU seconds the whole machine spent busy during the measured calls (every process:
    #: this one, a writer child, the database server; NaN where not measured).
    machine_cpu: float = float("nan")

    @property
    def rate(self) -> float:
        """Events per second over the (wall) time spent inside the measured calls."""
        return self.events / self.seconds if self.seconds else float("nan")

    @property
    def process_rate(self) -> float:
        """Processes brought to an end per second of the run."""
        done = sum(self.finished.values())
        return done / self.seconds if self.seconds else float("nan")

    @property
    def cpu_rate(self) -> float:
        """Events per CPU second of this process (client side only for PostgreSQL)."""
        return self.events / self.cpu if self.cpu == self.cpu and self.cpu else float("nan")


# -- the event stream -------------------------------------------------------------------------


def port_in_stream(lines: Sequence[Line], now: datetime, seed: int = 11) -> list[Inbound]:
    """The realistic mix for ``lines`` (see the module docstring), as the back-ends would
    send it: each process's messages in its own order, processes interleaved in waves."""
    rng = random.Random(seed)
    window = iso(now + timedelta(days=2))
    later = iso(now + timedelta(days=5))
    lives: list[list[Inbound]] = []
    for index, line in enumerate(lines):
        n = 0

        def msg(
            type_: str,
            data: dict[str, Any],
            source: str = "mnp-gateway",
            subject: str | None = None,
            index: int = index,
        ) -> Inbound:
            nonlocal n
            n += 1
            return Inbound(
                source=source,
                id=f"{source}-{index}-{n}",
                type=type_,
                data=data,
                occurred_at=now,
                subject=subject,
                actor=f"backend:{source}",
            )

        reference = f"{10**22 + index * 7919:023d}"
        life = [
            msg("nc.accepted", {"msisdn": line.msisdn, "reference": reference, "window": window})
        ]
        if rng.random() < REJECTED:
            life.append(msg("donor.rejected", {"nc_reference": reference, "cause": "RECH_IDENT"}))
            if rng.random() < 0.25:
                life.append(
                    msg(
                        "document.rejected",
                        {"requirement": "id_document", "reason": "illegible"},
                        "backoffice",
                        line.process_id,
                    )
                )
            life.append(
                msg(
                    "document.accepted",
                    {"requirement": "id_document"},
                    "backoffice",
                    line.process_id,
                )
            )
            reference = f"{2 * 10**22 + index * 7919:023d}"
            life.append(
                msg(
                    "port.resubmitted",
                    {"msisdn": line.msisdn, "reference": reference, "window": later},
                )
            )
        life.append(msg("donor.confirmed", {"nc_reference": reference}))
        if rng.random() < REMOTE:
            order = {"crm_order_id": line.crm_order_id}
            life.append(msg("sim.shipped", {**order, "tracking": f"PQ{index:010d}ES"}, "logistics"))
            life.append(msg("sim.delivered", order, "logistics"))
        life.append(msg("sim.activated", {"msisdn": line.msisdn}, "provisioning"))
        life.append(msg("port.executed", {"nc_reference": reference}))
        lives.append(life)
    stream: list[Inbound] = []
    cursors = [0] * len(lives)
    alive = list(range(len(lives)))
    while alive:
        rng.shuffle(alive)
        still = []
        for i in alive:
            stream.append(lives[i][cursors[i]])
            cursors[i] += 1
            if cursors[i] < len(lives[i]):
                still.append(i)
        alive = still
    # Redeliveries: a copy of an earlier message, a little later in the stream.
    for _ in range(int(len(stream) * DUPLICATES)):
        at = rng.randrange(len(stream))
        stream.insert(min(len(stream), at + rng.randrange(1, 3 * BATCH)), stream[at])
    return stream


def batches(items: Sequence[Inbound], size: int = BATCH) -> list[Sequence[Inbound]]:
    """``items`` cut into consecutive batches of ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- measuring --------------------------------------------------------------------------------


def measure(
    label: str, send: Callable[[Sequence[Inbound]], list[str]], chunks: list[Sequence[Inbound]]
) -> Run:
    """Send each chunk, timing every call; ``send`` returns the outcome of each item."""
    gc.collect()
    before = rss_mb()
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    cpu = busy = 0.0
    for chunk in chunks:
        started, cpu_started = time.perf_counter(), time.process_time()
        busy_started = machine_busy_seconds()
        answer = send(chunk)
        latencies.append(time.perf_counter() - started)
        cpu += time.process_time() - cpu_started
        busy += machine_busy_seconds() - busy_started
        outcomes.update(answer)
    events = sum(len(chunk) for chunk in chunks)
    return Run(
        label, events, sum(latencies), latencies, outcomes, before, rss_mb(), cpu, machine_cpu=busy
    )


def hub_sender(hub: Hub) -> Callable[[Sequence[Inbound]], list[str]]:
    """Send through ``Hub.ingest``; answer the outcomes."""

    def send(chunk: Sequence[Inbound]) -> list[str]:
        return [result.outcome.value for result in hub.ingest(chunk)]

    return send


def report(run: Run) -> None:
    """Print one run's figures."""
    lat = summary_ms(run.latencies)
    console.print(
        f"  [bold]{run.label}[/]: {run.events:,} events in {run.seconds:.2f} s → "
        f"[bold green]{run.rate:,.0f} events/s[/]"
        + (f" ({run.cpu_rate:,.0f} per CPU-second)" if run.cpu == run.cpu else "")
        + f"; {run.batching}: "
        f"p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms; "
        f"RSS {run.rss_before:.0f} → {run.rss_after:.0f} MiB (peak {peak_rss_mb():.0f} MiB)"
    )
    console.print(f"    outcomes: {dict(sorted(run.outcomes.items()))}")
    if run.machine_cpu == run.machine_cpu and run.machine_cpu > 0:
        cores = os.cpu_count() or 1
        console.print(
            f"    machine: {1e6 * run.machine_cpu / run.events:,.0f} µs of CPU per event over "
            f"every process ({run.machine_cpu / run.seconds:.2f} of {cores} cores busy) → at "
            f"most {cores * run.events / run.machine_cpu:,.0f} events/s with every core busy"
        )
    if run.finished:
        by_status = ", ".join(f"{status} {n:,}" for status, n in sorted(run.finished.items()))
        console.print(
            f"    processes finished: {sum(run.finished.values()):,} ({by_status}) → "
            f"{run.process_rate:,.0f} processes/s"
        )
    unexpected = run.outcomes.get(Outcome.REJECTED.value, 0) + run.outcomes.get(
        Outcome.IGNORED.value, 0
    )
    if unexpected:
        console.print(f"    [yellow]warning: {unexpected} events rejected or ignored[/]")


def run_figures(run: Run) -> dict[str, Any]:
    """One run's figures as written to the JSON file (see bench/README.md)."""
    lat = summary_ms(run.latencies)
    cores = os.cpu_count() or 1
    measured = run.machine_cpu == run.machine_cpu and run.machine_cpu > 0
    return {
        "events": run.events,
        "seconds": run.seconds,
        "rate": run.rate,
        "cpu_rate": run.cpu_rate,
        "batching": run.batching,
        "batch_p50_ms": lat["p50"],
        "batch_p99_ms": lat["p99"],
        "batch_max_ms": lat["max"],
        "rss_before_mib": run.rss_before,
        "rss_after_mib": run.rss_after,
        "outcomes": dict(sorted(run.outcomes.items())),
        "processes_finished": sum(run.finished.values()) if run.finished else None,
        "finished_by_status": dict(sorted(run.finished.items())),
        "process_rate": run.process_rate if run.finished else None,
        "machine_cpu_us": 1e6 * run.machine_cpu / run.events if measured else None,
        "machine_bound": cores * run.events / run.machine_cpu if measured else None,
    }


def fixed_clock(moment: datetime) -> Callable[[], datetime]:
    """A clock standing still at ``moment``."""
    return lambda: moment


def measure_stream(label: str, hub: Hub, chunks: list[Sequence[Inbound]]) -> Run:
    """Send the chunks through ``Hub.ingest_stream`` (the next batch is decided while the
    previous one commits); the latencies are the intervals between committed batches."""
    gc.collect()
    before = rss_mb()
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    started, cpu_started = time.perf_counter(), _cpu_with_children()
    busy_started = machine_busy_seconds()
    last = started
    for results in hub.ingest_stream(chunks):
        now = time.perf_counter()
        latencies.append(now - last)
        last = now
        outcomes.update(result.outcome.value for result in results)
    seconds, cpu = time.perf_counter() - started, _cpu_with_children() - cpu_started
    busy = machine_busy_seconds() - busy_started
    events = sum(len(chunk) for chunk in chunks)
    return Run(label, events, seconds, latencies, outcomes, before, rss_mb(), cpu, machine_cpu=busy)


def finished_processes(store: SqlStore, kind: str | None = KIND) -> Counter[str]:
    """How many processes (of ``kind``; ``None``: of every kind) have ended, by status."""
    with store.unit_of_work(read_only=True) as uow:
        return Counter(
            {str(s): uow.count_processes(kind=kind, status=str(s)) for s in TERMINAL_STATUSES}
        )


def mix_run(label: str, url: str, world: SimulatedWorld) -> Run:
    """Replay the simulator's ``world`` (every kind) into a fresh store on ``url``: events and
    due timers in ingest calls of up to 500, timed; starts and actions untimed."""
    hub, store = bench_hub(url, SimClock())
    try:
        player = BatchingPlayer(hub)
        gc.collect()
        before = rss_mb()
        report_ = player.play(enumerate(world.lines, start=1))
        timing = player.timing
        run = Run(
            label,
            sum(timing.sizes),
            sum(timing.latencies),
            timing.latencies,
            Counter({**report_.outcomes, "timers fired": report_.timers}),
            before,
            rss_mb(),
            timing.cpu,
        )
        run.batching = f"ingest call of up to {BATCH}"
        run.finished = finished_processes(hub.store, kind=None)
        sizes = sorted(timing.sizes)
        console.print(
            f"  {world.starts:,} starts and {report_.outcomes['acted']:,} actions untimed "
            f"({sum(report_.refused.values()):,} refused, as the file has it); "
            f"{len(sizes):,} ingest calls of {sizes[len(sizes) // 2]} items (median), "
            f"{sum(sizes) / len(sizes):.0f} on average"
        )
        report(run)
        return run
    finally:
        store.engine.dispose()


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its children that have ended (the stream's
    writer process ends with the stream)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def service_run(label: str, url: str, processes: int, *, streamed: bool = False) -> Run:
    """Pre-create ``processes`` on ``url`` (migrated here) and ingest their stream, one
    ``Hub.ingest`` call per batch or (``streamed``) through ``Hub.ingest_stream``."""
    hub, store = bench_hub(url, fixed_clock(NOW))
    try:
        started = time.perf_counter()
        lines = create_processes(store, port_in(hub.catalog), processes, NOW)
        setup = time.perf_counter() - started
        stream = port_in_stream(lines, NOW)
        console.print(
            f"  setup: {processes:,} processes created set-wise in {setup:.1f} s "
            f"(not timed below); stream of {len(stream):,} events"
        )
        ended_before = finished_processes(store)
        if streamed:
            run = measure_stream(label, hub, batches(stream))
        else:
            run = measure(label, hub_sender(hub), batches(stream))
        run.finished = finished_processes(store) - ended_before
        report(run)
        return run
    finally:
        store.engine.dispose()


# -- HTTP -------------------------------------------------------------------------------------


def serve(url: str, port: int) -> None:
    """Run the API over ``url`` on 127.0.0.1:``port`` (the server half of the HTTP run)."""
    import uvicorn

    from relevo.bootstrap import app_for

    hub, _store = bench_hub(url, fixed_clock(NOW))
    uvicorn.run(app_for(hub), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cloudevent(item: Inbound) -> dict[str, Any]:
    """``item`` as a structured-mode CloudEvent."""
    event: dict[str, Any] = {
        "specversion": "1.0",
        "id": item.id,
        "source": item.source,
        "type": item.type,
        "time": iso(item.occurred_at),
        "datacontenttype": "application/json",
        "data": item.data,
    }
    if item.subject:
        event["subject"] = item.subject
    return event


def http_run(url: str, processes: int) -> Run | None:
    """Ingest the stream over HTTP (uvicorn in a subprocess); ``None`` if no app yet."""
    try:
        import httpx

        from relevo.bootstrap import app_for  # noqa: F401 - only checks it exists
        from relevo.services.keys import create_key
    except ImportError as missing:
        console.print(f"  HTTP: not available yet ({missing})")
        return None
    hub, store = bench_hub(url, fixed_clock(NOW))
    lines = create_processes(store, port_in(hub.catalog), processes, NOW)
    _, key = create_key(store, "bench", ["ingest"], now=NOW)
    ended_before = finished_processes(store)
    store.engine.dispose()  # the server has the database to itself while it runs
    stream = port_in_stream(lines, NOW)
    bodies = [orjson.dumps([cloudevent(item) for item in chunk]) for chunk in batches(stream)]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=300) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    error = server.stderr.read().decode() if server.stderr else ""
                    console.print(f"  HTTP: the server did not start\n{error[-2000:]}")
                    return None
                time.sleep(0.2)
            headers = {
                "Authorization": f"Bearer {key}",
                "Content-Type": "application/cloudevents-batch+json",
            }
            latencies: list[float] = []
            outcomes: Counter[str] = Counter()
            for body in bodies:
                started = time.perf_counter()
                response = client.post("/v1/events", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    console.print(f"  HTTP: {response.status_code} {response.text[:500]}")
                    return None
                outcomes.update(
                    {name: count for name, count in response.json()["counts"].items() if count}
                )
            run = Run(
                "HTTP, SQLite",
                len(stream),
                sum(latencies),
                latencies,
                outcomes,
                float("nan"),
                float("nan"),
            )
            run.rss_before = run.rss_after = _rss_of(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    try:
        run.finished = finished_processes(store) - ended_before
    finally:
        store.engine.dispose()
    console.print(
        f"  client and server are separate processes on {_cpus()} CPUs; "
        f"body {len(bodies[0]) / 1024:.0f} KiB per batch"
    )
    report(run)
    return run


def _rss_of(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpus() -> str:
    import os

    return str(os.cpu_count())


# -- history length ---------------------------------------------------------------------------


def grow_history(store: SqlStore, hub: Hub, lines: Sequence[Line], total: int) -> None:
    """Bring each process's log to ``total`` events with repeated ``sim.activated`` messages.

    The first repeats go through ``Hub.ingest`` for real; once the engine answers a repeat
    with an event that changes nothing (``effects == {}``), the rest are that same event
    with new message ids, chained, applied and stored set-wise with their inbox rows:
    exactly the rows ingest would write for them, without paying for them here.
    """
    catalog = hub.catalog
    for round_ in range(3):
        hub.ingest(
            [
                Inbound(
                    source="provisioning",
                    id=f"hist-{line.process_id}-real{round_}",
                    type="sim.activated",
                    data={"msisdn": line.msisdn},
                    occurred_at=NOW,
                    actor="backend:provisioning",
                )
                for line in lines
            ]
        )
    stamp = iso(NOW)
    with store.unit_of_work(read_only=True) as uow:
        states = uow.load_states(line.process_id for line in lines)
    pending = WriteBatch(at=stamp)
    for line in lines:
        state = states[line.process_id]
        compiled = catalog.get(state.kind, state.definition_version)
        message = Message(
            type="sim.activated",
            data={"msisdn": line.msisdn},
            occurred_at=NOW,
            source="provisioning",
            id="template",
            actor="backend:provisioning",
        )
        decision = engine.decide(compiled, state, message, NOW)
        template = decision.events[0]
        if decision.outcome is not Outcome.ACCEPTED or template.effects:
            raise SystemExit(f"history template is not a no-op: {decision}")
        for n in range(state.version, total):
            event = dataclasses.replace(template, message_id=f"hist-{line.process_id}-{n}")
            record_events(pending, state, [event], stamp)
            received = ("provisioning", event.message_id or "", state.id, "accepted", None)
            pending.inbox.append(received)
        pending.changed_states.append(state)
        if len(pending.events) >= 50_000:
            _save(store, pending)
            pending = WriteBatch(at=stamp)
    _save(store, pending)


def _save(store: SqlStore, batch: WriteBatch) -> None:
    with store.unit_of_work() as uow:
        uow.save(batch)
        uow.commit()


def history_run(url: str, processes: int, long: int) -> tuple[Run, Run]:
    """Ingest the same kind of events into processes with 10 and with ``long`` prior events."""
    hub, store = bench_hub(url, fixed_clock(NOW))
    eng = store.engine
    try:
        compiled = port_in(hub.catalog)
        started = time.perf_counter()
        groups: dict[int, list[Line]] = {}
        for first, prior in ((0, 10), (processes, long)):
            lines = create_processes(store, compiled, processes, NOW, first=first)
            # To donor_check, where a repeated sim.activated is accepted and changes nothing.
            for chunk in batches(
                [
                    Inbound(
                        source="mnp-gateway",
                        id=f"acc-{line.process_id}",
                        type="nc.accepted",
                        data={
                            "msisdn": line.msisdn,
                            "reference": f"{3 * 10**22 + first + i:023d}",
                            "window": iso(NOW + timedelta(days=2)),
                        },
                        occurred_at=NOW,
                    )
                    for i, line in enumerate(lines)
                ]
            ):
                hub.ingest(chunk)
            grow_history(store, hub, lines, prior)
            groups[prior] = lines
        console.print(
            f"  setup: {processes:,} processes with 10 events and {processes:,} with "
            f"{long:,} events ({processes * (long + 10):,} events) in "
            f"{time.perf_counter() - started:.1f} s (not timed below)"
        )
        # The same waves for both groups, alternating so that drift hits both alike.
        waves: list[Callable[[Line, int], Inbound]] = [
            lambda line, i: _msg("donor.confirmed", {"msisdn": line.msisdn}, i),
            lambda line, i: _msg(
                "sim.shipped", {"crm_order_id": line.crm_order_id, "tracking": "PQ1ES"}, i
            ),
            lambda line, i: _msg("sim.delivered", {"crm_order_id": line.crm_order_id}, i),
            lambda line, i: _msg(
                "nc.window_changed",
                {"msisdn": line.msisdn, "window": iso(NOW + timedelta(days=3))},
                i,
            ),
            lambda line, i: _msg(
                "nc.window_changed",
                {"msisdn": line.msisdn, "window": iso(NOW + timedelta(days=6))},
                i,
            ),
            lambda line, i: _msg("sim.activated", {"msisdn": line.msisdn}, i),
            lambda line, i: _msg("port.executed", {"msisdn": line.msisdn}, i),
        ]
        if eng.dialect.name == "sqlite":
            # The setup wrote about a million events: checkpoint its log now, or the first
            # timed commit (always the short group's) pays for it.
            raw = eng.raw_connection()  # outside any transaction, as a checkpoint must be
            try:
                raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                raw.close()
        # Both groups start warm: their states in the cache (as ingest leaves them), their
        # rows read once. Otherwise the group written first meets a colder page cache.
        with store.unit_of_work(read_only=True) as uow:
            for lines in groups.values():
                warm = uow.load_states(line.process_id for line in lines)
                hub.ingestor.states.give_back(warm.values())
        latencies: dict[int, list[float]] = {10: [], long: []}
        outcomes: dict[int, Counter[str]] = {10: Counter(), long: Counter()}
        events = dict.fromkeys(latencies, 0)
        cpu = dict.fromkeys(latencies, 0.0)
        before = rss_mb()
        for w, wave in enumerate(waves):
            # Each group goes first in every other wave.
            order = list(groups.items()) if w % 2 == 0 else list(reversed(groups.items()))
            for prior, lines in order:
                items = [wave(line, w * 10**7 + prior * 10**4 + i) for i, line in enumerate(lines)]
                for chunk in batches(items):
                    t, c = time.perf_counter(), time.process_time()
                    answer = hub.ingest(chunk)
                    latencies[prior].append(time.perf_counter() - t)
                    cpu[prior] += time.process_time() - c
                    outcomes[prior].update(result.outcome.value for result in answer)
                    events[prior] += len(chunk)
        runs = tuple(
            Run(
                f"{prior:,} prior events",
                events[prior],
                sum(latencies[prior]),
                latencies[prior],
                outcomes[prior],
                before,
                rss_mb(),
                cpu[prior],
            )
            for prior in (10, long)
        )
        for run in runs:
            report(run)
        return runs[0], runs[1]
    finally:
        eng.dispose()


def _maybe(value: float) -> str:
    return "-" if value != value else f"{value:,.0f}"


def _msg(type_: str, data: dict[str, Any], n: int) -> Inbound:
    return Inbound(
        source="mnp-gateway",
        id=f"h-{type_}-{n}",
        type=type_,
        data=data,
        occurred_at=NOW,
        actor="backend:mnp-gateway",
    )


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    tune_runtime()  # the same process settings as `relevo serve`
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small run (~2,000 processes)")
    parser.add_argument("--processes", type=int, help="processes to pre-create per run")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["sqlite", "postgres", "http", "history", "mix"],
        help="leave a part out (repeatable)",
    )
    parser.add_argument(
        "--mix-processes",
        type=int,
        help="processes of every kind in the simulator's world (default 10,000; quick 1,000)",
    )
    add_json_option(parser)
    parser.add_argument("--serve", nargs=2, metavar=("URL", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    postgres_skipped = False
    processes = args.processes or (2_000 if args.quick else 20_000)
    history_processes = 300 if args.quick else 2_000
    mix_processes = args.mix_processes or (1_000 if args.quick else 10_000)
    world: SimulatedWorld | None = None
    if "mix" not in args.skip:
        started = time.perf_counter()
        world = simulated_world(mix_processes, seed=11, now=NOW, days=MIX_DAYS)
        console.print(
            f"Simulator's world: {world.processes:,} processes of every kind over {MIX_DAYS:g} "
            f"days: {world.events:,} back-end events, {world.starts:,} starts, "
            f"{world.actions:,} actions (generated in {time.perf_counter() - started:.1f} s)"
        )
    print_machine("relevo ingest benchmark" + (" (quick)" if args.quick else ""))
    runs: list[Run] = []
    history: tuple[Run, Run] | None = None
    with tempfile.TemporaryDirectory(prefix="relevo-bench-") as tmp:
        folder = Path(tmp)
        if "sqlite" not in args.skip:
            console.rule("Hub.ingest on SQLite (temp file, WAL)")
            runs.append(service_run("SQLite", sqlite_url(folder / "ingest.db"), processes))
            console.rule("Hub.ingest_stream on SQLite (a writer process saves and commits)")
            runs.append(
                service_run(
                    "SQLite, streamed", sqlite_url(folder / "stream.db"), processes, streamed=True
                )
            )
            if world is not None:
                console.rule("Simulator's mix on SQLite (every kind; events and due timers)")
                runs.append(mix_run("SQLite, simulator mix", sqlite_url(folder / "mix.db"), world))
        if "postgres" not in args.skip:
            console.rule("Hub.ingest on PostgreSQL")
            server = postgres_server_url()
            if server is None:
                console.print("  PostgreSQL: skipped (set RELEVO_BENCH_POSTGRES_URL)")
                postgres_skipped = True
            else:
                with scratch_postgres(server) as pg_url:
                    runs.append(service_run("PostgreSQL", pg_url, processes))
                console.rule("Hub.ingest_stream on PostgreSQL (a writer process saves and commits)")
                with scratch_postgres(server) as pg_url:
                    runs.append(
                        service_run("PostgreSQL, streamed", pg_url, processes, streamed=True)
                    )
                if world is not None:
                    console.rule(
                        "Simulator's mix on PostgreSQL (every kind; events and due timers)"
                    )
                    with scratch_postgres(server) as pg_url:
                        runs.append(mix_run("PostgreSQL, simulator mix", pg_url, world))
        if "http" not in args.skip:
            console.rule("POST /v1/events over HTTP (uvicorn subprocess, SQLite)")
            run = http_run(sqlite_url(folder / "http.db"), processes)
            if run is not None:
                runs.append(run)
        if "history" not in args.skip:
            console.rule("History length: 10 vs 1,000 prior events per process (SQLite)")
            history = history_run(sqlite_url(folder / "history.db"), history_processes, 1_000)
    rows = []
    targets = {
        "SQLite": 20_000,
        "SQLite, streamed": 20_000,
        "PostgreSQL": 10_000,
        "PostgreSQL, streamed": 10_000,
    }
    for run in runs:
        lat = summary_ms(run.latencies)
        target = targets.get(run.label)
        rows.append(
            (
                run.label,
                f"{run.events:,}",
                f"{run.rate:,.0f}",
                _maybe(run.cpu_rate),
                f"{run.process_rate:,.0f}" if run.finished else "-",
                f"≥ {target:,}" if target else "-",
                f"{lat['p50']:.1f}",
                f"{lat['p99']:.1f}",
                f"{run.rss_after:.0f}",
            )
        )
    if history is not None:
        for run in history:
            lat = summary_ms(run.latencies)
            rows.append(
                (
                    f"history: {run.label}",
                    f"{run.events:,}",
                    f"{run.rate:,.0f}",
                    _maybe(run.cpu_rate),
                    f"{run.process_rate:,.0f}" if run.finished else "-",
                    "-",
                    f"{lat['p50']:.1f}",
                    f"{lat['p99']:.1f}",
                    f"{run.rss_after:.0f}",
                )
            )
    console.rule("Summary")
    console.print(
        results_table(
            f"Ingest, batches of {BATCH}",
            rows,
            [
                "run",
                "events",
                "events/s",
                "per CPU-s",
                "processes/s",
                "target",
                "p50 ms",
                "p99 ms",
                "RSS MiB",
            ],
        )
    )
    console.print(
        "per CPU-s: events per CPU-second of this process, and of its writer process when "
        "streamed (PostgreSQL: client side only; HTTP: work done in the server process); "
        "processes/s: processes brought to an end (completed, cancelled or failed) per second"
    )
    history_ratio: dict[str, float] = {}
    if history is not None:
        for basis, short_rate, long_rate in (
            ("wall", history[0].rate, history[1].rate),
            ("CPU", history[0].cpu_rate, history[1].cpu_rate),
        ):
            ratio = history_ratio[basis] = long_rate / short_rate
            verdict = "within" if abs(1 - ratio) <= 0.20 else "NOT within"
            console.print(
                f"History independence ({basis} time): 1,000-event / 10-event rate = "
                f"{ratio:.2f} ({verdict} 20 %)"
            )
    write_figures(
        args.json,
        {
            "runs": {run.label: run_figures(run) for run in [*runs, *(history or ())]},
            "history_ratio": history_ratio,
            "postgres_skipped": postgres_skipped,
        },
    )


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
