"""Status-view benchmark: ``Hub.view`` latency over 1,000,000 stored processes, memory that
does not grow with the number of processes, and the same view over HTTP under concurrent
load. Prints figures; asserts nothing.

    .venv/bin/python bench/status.py                     # 1,000,000 processes, 20,000 views
    .venv/bin/python bench/status.py --quick             # 20,000 processes, 5,000 views
    .venv/bin/python bench/status.py --processes 200000  # any size
    .venv/bin/python bench/status.py --http-seconds 10 --connections 32 --client httpx
    .venv/bin/python bench/status.py --no-http --json bench/results/status.json

How the big database is built (fast, and still realistic):

1. ``relevo.simulate.populate`` runs a few hundred processes of every kind through the real
   services (engine, ingest, actions, timers) into a scratch database: stages, incidents,
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
a digest of the catalog and of the simulator, so re-runs reuse it (``--rebuild``
forces a new one; stale ones can be deleted from ``var/bench/``).

Memory: each database is read in a fresh subprocess that reports its resident memory after
start-up and after the views; a small database (10,000 processes; 2,000 with ``--quick``)
is read the same way, so the two can be compared.

Over HTTP: the big database is served the way ``relevo serve`` serves it (``build_hub`` and
``bootstrap.app_for`` under uvicorn, one process, on 127.0.0.1 and a free port; access log off; the
clock fixed at the templates' "now" like the in-process reader). An API key with scope
``channel`` is created in that database first (and revoked afterwards). A client in this
process then keeps 32 connections busy (32 asyncio workers, one keep-alive connection each)
with ``GET /v1/processes/{random id}?lang=es`` for a bounded time (20 s; 5 s with ``--quick``)
or a bounded number of requests, after an untimed warm-up of 500 requests. The default client
is a minimal HTTP/1.1 one (``RawConnection``): ``httpx.AsyncClient`` (``--client httpx``,
limited to 32 connections) spends more CPU per request than the server does, and on a 2-CPU
machine it would measure itself. Latency is what the client sees: queueing in the server
included, with client and server sharing the machine's CPUs. The server's resident memory is
read from ``/proc`` when idle, after the warm-up and after the load; the CPU time per request
of both sides comes from ``/proc/<pid>/stat`` and ``time.process_time``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from _benchlib import (
    ROOT,
    add_json_option,
    bench_hub,
    console,
    migrated_engine,
    peak_rss_mb,
    print_machine,
    results_table,
    rss_mb,
    sqlite_url,
    summary_ms,
    utc,
    write_figures,
)
from relevo.adapters.db.migrate import head_revision
from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import build_hub, tune_runtime
from relevo.config import Settings
from relevo.domain.model import ProcessState
from relevo.domain.view import build_view
from relevo.services.records import WriteBatch

#: Bump when the way the database is built changes; part of the cache key.
BUILD_VERSION = "2"
CACHE = ROOT / "var" / "bench"
KIND = "mobile_port_in"
#: The demo's "now": the templates are as of this moment, and so are the views.
NOW = utc(2026, 11, 25, 10, 30)
TEMPLATES = 300
PER_TRANSACTION = 20_000
#: Concurrent client connections for the HTTP run (issue #4).
CONNECTIONS = 32
#: Untimed requests before the HTTP measurement (imports, statements, first pages).
HTTP_WARMUP = 500


def process_id(i: int) -> str:
    """The id of clone ``i``: ``prc_`` + 128 bits derived from ``i`` (stable across runs)."""
    digest = hashlib.blake2b(i.to_bytes(8, "big"), digest_size=16, person=b"relevo-bench").digest()
    return "prc_" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def cache_key(processes: int) -> str:
    """What the cached database depends on: build version, schema head, the definition
    and the demo that makes the templates."""
    package = ROOT / "src" / "relevo"
    digest = hashlib.sha256()
    sources = [
        *sorted((package / "catalog").glob("*.yaml")),
        *sorted((package / "simulate").rglob("*.py")),
        package / "simulate" / "defaults.toml",
    ]
    for path in sources:
        digest.update(path.read_bytes())
    return f"v{BUILD_VERSION}-{head_revision()}-{digest.hexdigest()[:10]}-{processes}"


# -- building ---------------------------------------------------------------------------------


def templates() -> list[dict[str, Any]]:
    """Engine-made states from a simulator run (see the module docstring), as JSON mappings."""
    from relevo.simulate import SimClock, SimulationOptions, populate

    with tempfile.TemporaryDirectory(prefix="relevo-templates-") as tmp:
        hub, store = bench_hub(sqlite_url(Path(tmp) / "templates.db"), SimClock(NOW))
        try:
            summary = populate(hub, SimulationOptions(processes=TEMPLATES, seed=7, now=NOW))
            with store.unit_of_work(read_only=True) as uow:
                states = uow.load_states(list(uow.iter_process_ids()))
        finally:
            store.engine.dispose()
    kinds = {kind: sum(by.values()) for kind, by in summary.by_kind.items()}
    console.print(f"  templates: {len(states)} states from relevo simulate ({kinds})")
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
    hub, store = bench_hub(sqlite_url(path), lambda: NOW)
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
    store.engine.dispose()
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


# -- over HTTP (uvicorn in a subprocess, a concurrent client here) ---------------------------


def serve(path: Path, port: int) -> None:
    """Serve ``path`` on 127.0.0.1:``port`` as ``relevo serve`` does (the server half)."""
    import uvicorn

    from relevo.bootstrap import app_for

    hub = build_hub(Settings(database_url=sqlite_url(path)), clock=lambda: NOW)
    uvicorn.run(app_for(hub), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def proc_rss_mb(pid: int) -> float:
    """Resident memory (VmRSS) of process ``pid``, in MiB (NaN if it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds process ``pid`` has used so far (NaN if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # After the command: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RawConnection:
    """A minimal HTTP/1.1 keep-alive connection to 127.0.0.1: ``GET`` only, answers with a
    ``Content-Length``. Costs the client a small fraction of what ``httpx`` does per request,
    so that on a 2-CPU machine the figures are the server's rather than the client's."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        self.port = port
        self.headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, target: str) -> int:
        """Send ``GET target``, read the whole answer, return its status code."""
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{self.headers}\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip().lower()
        if "content-length" not in fields:
            raise ValueError("an answer without Content-Length")
        await self.reader.readexactly(int(fields["content-length"]))
        if fields.get("connection") == "close":
            await self.close()
        return status

    async def close(self) -> None:
        """Close the connection (the next ``get`` opens a new one)."""
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def hammer(
    port: int,
    key: str,
    processes: int,
    *,
    connections: int,
    seconds: float,
    requests: int | None,
    seed: int,
    client: str = "raw",
) -> dict[str, Any]:
    """``connections`` workers, one connection each, sending ``GET /v1/processes/{random
    id}?lang=es`` one after the other until ``seconds`` have passed or ``requests`` were
    sent in all; returns the latencies (s), the status codes, the errors and the elapsed
    time. ``client`` is ``raw`` (``RawConnection``) or ``httpx`` (one ``AsyncClient`` with
    at most ``connections`` connections)."""
    import httpx

    rng = random.Random(seed)
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    failures: dict[str, int] = {}
    sent = 0
    headers = {"Authorization": f"Bearer {key}"}
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(
        get: Callable[[str], Awaitable[int]], reset: Callable[[], Awaitable[None]]
    ) -> None:
        nonlocal sent
        while time.perf_counter() < deadline and (requests is None or sent < requests):
            sent += 1
            target = f"/v1/processes/{process_id(rng.randrange(processes))}?lang=es"
            t0 = time.perf_counter()
            try:
                async with asyncio.timeout(60):
                    code = await get(target)
            except (
                OSError,
                TimeoutError,
                ValueError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                httpx.HTTPError,
            ) as error:
                name = type(error).__name__
                failures[name] = failures.get(name, 0) + 1
                await reset()
                continue
            latencies.append(time.perf_counter() - t0)
            statuses[str(code)] = statuses.get(str(code), 0) + 1

    if client == "httpx":
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as pool:

            async def get(target: str) -> int:
                return (await pool.get(target, headers=headers)).status_code

            async def nothing() -> None:
                return None

            await asyncio.gather(*(worker(get, nothing) for _ in range(connections)))
    else:
        raw = [RawConnection(port, headers) for _ in range(connections)]
        try:
            await asyncio.gather(*(worker(conn.get, conn.close) for conn in raw))
        finally:
            for conn in raw:
                await conn.close()
    elapsed = time.perf_counter() - started
    return {
        "latencies": latencies,
        "statuses": statuses,
        "failures": failures,
        "sent": sent,
        "elapsed": elapsed,
    }


def wait_until_up(base: str, server: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Poll ``/healthz`` until the server answers; exits with its stderr if it died."""
    import httpx

    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base, timeout=5) as client:
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                error = server.stderr.read().decode() if server.stderr else ""
                raise SystemExit(f"the HTTP server did not start:\n{error[-3000:]}")
            time.sleep(0.2)


def http_status(
    path: Path,
    processes: int,
    *,
    connections: int,
    seconds: float,
    requests: int | None,
    client: str = "raw",
) -> dict[str, Any]:
    """Serve ``path`` (uvicorn subprocess) and load it with ``connections`` concurrent
    connections for ``seconds`` (or ``requests``); returns the figures."""
    from relevo.services.keys import create_key, revoke_key

    eng = migrated_engine(sqlite_url(path))
    store = SqlStore(eng)
    key_id, key = create_key(store, "bench-status-http", ["channel"], now=NOW)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(path), str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until_up(base, server)
        rss_idle = proc_rss_mb(server.pid)
        warm = asyncio.run(
            hammer(
                port,
                key,
                processes,
                connections=connections,
                seconds=60,
                requests=HTTP_WARMUP,
                seed=29,
                client=client,
            )
        )
        if warm["statuses"].get("200", 0) == 0:
            raise SystemExit(
                f"the HTTP warm-up got no 200 answer: {warm['statuses']} {warm['failures']}"
            )
        rss_warm, cpu_before = proc_rss_mb(server.pid), proc_cpu_s(server.pid)
        client_cpu = time.process_time()
        run = asyncio.run(
            hammer(
                port,
                key,
                processes,
                connections=connections,
                seconds=seconds,
                requests=requests,
                seed=31,
                client=client,
            )
        )
        client_cpu = time.process_time() - client_cpu
        rss_after, cpu_after = proc_rss_mb(server.pid), proc_cpu_s(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)
        revoke_key(store, key_id, now=NOW)
        eng.dispose()
    answered = len(run["latencies"])
    ok = run["statuses"].get("200", 0)
    return {
        "processes": processes,
        "connections": connections,
        "client": client,
        "seconds": run["elapsed"],
        "requests": run["sent"],
        "answered": answered,
        "ok": ok,
        "errors": run["sent"] - ok,
        "statuses": run["statuses"],
        "failures": run["failures"],
        "rps": answered / run["elapsed"] if run["elapsed"] else float("nan"),
        "latency_ms": summary_ms(run["latencies"]),
        "server_cpu_ms_per_request": 1000 * (cpu_after - cpu_before) / answered
        if answered
        else float("nan"),
        "client_cpu_ms_per_request": 1000 * client_cpu / answered if answered else float("nan"),
        "server_rss_idle": rss_idle,
        "server_rss_warm": rss_warm,
        "server_rss_after": rss_after,
    }


def report_http(result: dict[str, Any]) -> None:
    """Print the figures of ``http_status``."""
    lat = result["latency_ms"]
    console.print(
        f"  GET /v1/processes/{{random id}}?lang=es, {result['connections']} concurrent "
        f"connections ({result['client']} client), {result['seconds']:.1f} s: "
        f"{result['answered']:,} answers → "
        f"[bold green]{result['rps']:,.0f} requests/s[/]"
    )
    console.print(
        f"    latency seen by the client: p50 {lat['p50']:.1f} ms, p99 [bold]{lat['p99']:.1f} "
        f"ms[/], max {lat['max']:.1f} ms"
    )
    statuses = ", ".join(f"{code}: {n:,}" for code, n in sorted(result["statuses"].items()))
    failures = ", ".join(f"{name}: {n:,}" for name, n in sorted(result["failures"].items()))
    transport = f"; transport {failures}" if failures else ""
    console.print(
        f"    errors: {result['errors']:,} of {result['requests']:,} requests "
        f"(status codes {statuses or 'none'}{transport})"
    )
    console.print(
        f"    CPU per request: server {result['server_cpu_ms_per_request']:.2f} ms, client "
        f"{result['client_cpu_ms_per_request']:.2f} ms (client and server share the machine)"
    )
    console.print(
        f"    server RSS "
        f"{result['server_rss_idle']:.0f} MiB idle, {result['server_rss_warm']:.0f} MiB after "
        f"{HTTP_WARMUP} warm-up requests, {result['server_rss_after']:.0f} MiB after the load"
    )


def main() -> None:
    tune_runtime()  # the same process settings as `relevo serve`
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 processes, 5,000 views")
    parser.add_argument("--processes", type=int, help="processes in the big database")
    parser.add_argument("--views", type=int, help="random views to time (default 20,000)")
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached databases")
    parser.add_argument("--no-http", action="store_true", help="leave out the HTTP run")
    parser.add_argument(
        "--http-seconds", type=float, help="length of the HTTP run (default 20 s; 5 s quick)"
    )
    parser.add_argument(
        "--http-requests", type=int, help="stop the HTTP run after this many requests"
    )
    parser.add_argument(
        "--connections", type=int, default=CONNECTIONS, help="concurrent HTTP connections"
    )
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="HTTP client: minimal asyncio HTTP/1.1 (default) or httpx.AsyncClient",
    )
    add_json_option(parser)
    parser.add_argument(
        "--read", nargs=3, metavar=("DB", "PROCESSES", "VIEWS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--serve", nargs=2, metavar=("DB", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read:
        db, count, views = args.read
        print(json.dumps(read(Path(db), int(count), int(views), seed=13)))
        return
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]))
        return
    # Stopped from outside (run_all's time limit): unwind, so the server stops and the key
    # is revoked.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    big = args.processes or (20_000 if args.quick else 1_000_000)
    small = 2_000 if args.quick else 10_000
    views = args.views or (5_000 if args.quick else 20_000)
    print_machine("relevo status-view benchmark" + (" (quick)" if args.quick else ""))
    console.print(f"  RSS of this (driver) process at start: {rss_mb():.0f} MiB")
    results = []
    path = ROOT
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
    http = None
    if not args.no_http:
        seconds = args.http_seconds or (5.0 if args.quick else 20.0)
        console.rule(
            f"HTTP: {args.connections} concurrent connections over {big:,} stored processes"
        )
        http = http_status(
            path,
            big,
            connections=args.connections,
            seconds=seconds,
            requests=args.http_requests,
            client=args.client,
        )
        report_http(http)
    write_figures(args.json, {"in_process": results, "http": http})


if __name__ == "__main__":
    main()
