"""Shared helpers for the benchmark scripts: machine facts, memory, databases, hubs,
processes, and the JSON file of figures each script writes (``--json PATH``).

Not a test module: nothing here asserts a duration. Imported by the scripts of ``bench/``
(run as scripts, so ``bench/`` is on ``sys.path``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import sqlite3
import statistics
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console
from rich.table import Table

from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.migrate import upgrade
from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import build_hub
from relevo.config import Settings
from relevo.domain import engine
from relevo.domain.compiled import Compiled
from relevo.domain.model import iso
from relevo.services.catalog import Catalog
from relevo.services.chain import GENESIS, event_hash
from relevo.services.hub import Hub
from relevo.services.records import WriteBatch

ROOT = Path(__file__).resolve().parents[1]
#: Where ``run_all.py`` has each script write its figures (git-ignored).
RESULTS = ROOT / "bench" / "results"
POSTGRES_ENVS = ("RELEVO_BENCH_POSTGRES_URL", "RELEVO_TEST_POSTGRES_URL")

console = Console(highlight=False, width=int(os.environ.get("COLUMNS", "120")))


# -- the machine ----------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """nproc, CPU model, memory, Python, SQLite, SQLAlchemy and the git commit."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    try:
        commit = (
            subprocess.run(
                ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                capture_output=True,
                text=True,
                check=False,
                timeout=5,
            ).stdout.strip()
            or "unknown"
        )
    except OSError:
        commit = "unknown"
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load = "unknown"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "memory": memory,
        "load average": load,
        "python": f"{platform.python_version()} ({platform.python_implementation()})",
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "commit": commit,
    }


def print_machine(title: str) -> None:
    """Print ``title`` and the machine facts as a small table."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column()
    for key, value in machine().items():
        table.add_row(key, value)
    console.print(table)


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every core, every process: not idle,
    not waiting for I/O) since boot, from ``/proc/stat``; NaN where that file is missing.

    Taken around a run, it counts the work of every process the run involves (a writer
    child, the PostgreSQL server), and whatever else the machine was doing.
    """
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    ticks = [int(value) for value in fields]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks) - idle) / os.sysconf("SC_CLK_TCK")


def rss_mb() -> float:
    """Resident memory of this process now (VmRSS), in MiB."""
    return _status_kib("VmRSS") / 1024


def peak_rss_mb() -> float:
    """Highest resident memory of this process so far (VmHWM), in MiB."""
    return _status_kib("VmHWM") / 1024


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


# -- numbers ----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) of ``values``, nearest-rank on sorted data."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary_ms(values: Sequence[float]) -> dict[str, float]:
    """p50, p99, max and mean of durations given in seconds, in milliseconds."""
    return {
        "p50": percentile(values, 50) * 1000,
        "p99": percentile(values, 99) * 1000,
        "max": max(values) * 1000 if values else float("nan"),
        "mean": statistics.fmean(values) * 1000 if values else float("nan"),
    }


# -- figures as JSON -------------------------------------------------------------------------


def add_json_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--json PATH``: where the script writes its figures (see bench/README.md)."""
    parser.add_argument(
        "--json",
        type=Path,
        metavar="PATH",
        help="also write the figures to this JSON file (structure: bench/README.md)",
    )


def write_figures(path: Path | None, figures: dict[str, Any]) -> None:
    """Write ``figures`` to ``path`` as JSON (nothing when ``path`` is ``None``), with the
    machine facts under ``"machine"``; a figure not measured (NaN) is written as ``null``."""
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"machine": machine(), **figures}
    path.write_text(json.dumps(finite(document), indent=2, ensure_ascii=False, allow_nan=False))


def finite(value: Any) -> Any:
    """``value`` with every float that is not finite (NaN: not measured) as ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item) for item in value]
    return value


# -- databases --------------------------------------------------------------------------------


def sqlite_url(path: Path) -> str:
    """The URL of a SQLite file database."""
    return f"sqlite:///{path}"


def migrated_engine(url: str) -> sa.Engine:
    """An engine on ``url`` with the schema migrated to the latest revision."""
    eng = create_engine(url)
    upgrade(eng)
    return eng


#: The mobile port-in version the benchmarks' event streams and the SpiffWorkflow model
#: (bench/bpmn/mobile_port_in.bpmn) mirror: version 1, whose process completes when the port
#: is executed. Version 2 keeps a ported process open 14 days for the withdrawal period and
#: adds timers, so measuring it would no longer be like for like with earlier figures or
#: with the peer model. Processes are pinned to it explicitly.
PORT_IN_VERSION = 1


def port_in(catalog: Catalog) -> Compiled:
    """``mobile_port_in`` at ``PORT_IN_VERSION``: what pre-created processes are pinned to."""
    return catalog.get("mobile_port_in", PORT_IN_VERSION)


def port_in_catalog() -> Catalog:
    """The shipped catalog with ``mobile_port_in`` at ``PORT_IN_VERSION`` as its latest, for
    benchmarks that open processes through ``Hub.start_process``."""
    shipped = Catalog.load()
    return Catalog(
        c for c in shipped.all() if c.kind != "mobile_port_in" or c.version == PORT_IN_VERSION
    )


def bench_hub(
    url: str, clock: Callable[[], datetime], *, catalog: Catalog | None = None, **settings: Any
) -> tuple[Hub, SqlStore]:
    """A Hub on ``url`` (migrated first) built by relevo's composition root, as ``relevo
    serve`` builds it (over ``catalog`` if given), and its store; ``settings`` are further
    ``Settings`` fields. Dispose of ``store.engine`` when done."""
    migrated_engine(url).dispose()
    hub = build_hub(Settings(database_url=url, **settings), clock=clock, catalog=catalog)
    return hub, hub.store


def postgres_server_url() -> str | None:
    """The PostgreSQL server to benchmark on, from the environment (``None``: skip)."""
    for name in POSTGRES_ENVS:
        value = os.environ.get(name)
        if value:
            return value
    return None


@contextmanager
def scratch_postgres(server_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database on ``server_url`` for the duration of the block (dropped
    after, even on error). Yields its URL."""
    admin = create_engine(server_url).execution_options(isolation_level="AUTOCOMMIT")
    name = f"relevo_bench_{os.getpid()}_{secrets.token_hex(4)}"
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.engine.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.engine.dispose()


# -- processes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One pre-created process and the keys back-ends use for it."""

    process_id: str
    msisdn: str
    crm_order_id: str
    modality: str


def create_processes(
    store: SqlStore,
    compiled: Compiled,
    count: int,
    now: datetime,
    *,
    first: int = 0,
    chunk: int = 2000,
    contact: bool = False,
) -> list[Line]:
    """Start ``count`` mobile port-ins set-wise through the store (one transaction per
    ``chunk``), each exactly as ``Processes.start`` would: the engine's ``process.started``
    event with its hash, the projection, the correlation keys and the timers.

    Process ``n`` has msisdn ``6`` + ``n`` on 8 digits; call again with another ``first``
    for more. With ``contact``, each also has an e-mail address and that phone number to
    send notifications to.
    """
    lines: list[Line] = []
    stamp = iso(now)
    for start in range(first, first + count, chunk):
        batch = WriteBatch(at=stamp)
        for n in range(start, min(first + count, start + chunk)):
            msisdn = f"6{n:08d}"
            order = f"SO-B{n:08d}"
            modality = "prepaid" if n % 10 < 3 else "postpaid"
            attributes = {"modality": modality, "sales_channel": "web"}
            if contact:
                attributes.update(contact_email=f"c{n}@example.com", contact_phone=msisdn)
            state, event = engine.start(
                compiled,
                process_id="prc_" + secrets.token_urlsafe(16),
                customer_id=f"cus_bench{n:08d}",
                subject=msisdn,
                language="es",
                channel="web",
                actor=f"cus_bench{n:08d}",
                attributes=attributes,
                keys={"crm_order_id": order},
                now=now,
            )
            digest = event_hash(GENESIS, state.id, 1, event)
            state.last_hash = digest
            batch.events.append((state.id, 1, event, digest, GENESIS))
            batch.new_states.append(state)
            for name, value in state.keys.items():
                batch.keys_added.append((state.kind, name, value, state.id))
            for message in event.effects.get("outbox", ()):
                batch.outbox.append(
                    (state.id, message["topic"], message["payload"], message["key"], stamp)
                )
            lines.append(Line(state.id, msisdn, order, modality))
        with store.unit_of_work() as uow:
            uow.save(batch)
            uow.commit()
    return lines


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A UTC moment."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def results_table(title: str, rows: Sequence[tuple[str, ...]], columns: Sequence[str]) -> Table:
    """A rich table with ``columns`` and ``rows``."""
    table = Table(title=title, title_justify="left")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*row)
    return table
