"""Peer benchmark (issue #4): relevo against SpiffWorkflow on the same mobile port-in events.

    .venv/bin/pip install -e '.[bench]'                  # SpiffWorkflow, bench-only
    .venv/bin/python bench/peer_spiffworkflow.py         # 2,000 processes, ~9,900 events
    .venv/bin/python bench/peer_spiffworkflow.py --quick # 300 processes
    .venv/bin/python bench/peer_spiffworkflow.py --processes 5000 --profile
    .venv/bin/python bench/peer_spiffworkflow.py --json bench/results/peer.json  # JSON too

Prints figures; asserts nothing about durations.

The process is the one of ``relevo/catalog/mobile_port_in.v1.yaml`` (rules.md §1), modelled
in BPMN in ``bench/bpmn/mobile_port_in.bpmn``: each inbound CloudEvent is a BPMN message
(name = CloudEvent type) caught behind event-based gateways, donor rejections go through a
gateway on the cause and back to the resubmission, the window is a timeDate timer, the
cancellation is an interrupting message boundary event on the sub-process that lasts until
the cut-off, and SIM logistics are message catches on a parallel branch.

Both engines get the same events, in the same order, in batches of 500, each on its own
SQLite file opened through relevo's engine factory, so with the same settings (WAL,
``synchronous=NORMAL``, cache, checkpoints; ``BEGIN IMMEDIATE``), and in the same process
under the same cycle-collector thresholds (set by relevo's ``build_hub``; ``--default-gc``
puts Python's defaults back for both):

* relevo: ``Hub.ingest`` per batch (dedupe against the inbox, correlate by key, load the
  state, decide with the engine, append to the hash-chained log, update the projection, write
  outbox rows and timers, one transaction per batch). Processes are opened first with
  ``Hub.start_process`` (not timed).
* SpiffWorkflow, as a service has to run it: per event, check the dedupe table, correlate by
  key (a correlation table: msisdn, crm_order_id, nc_reference), load the instance's row,
  deserialize it with SpiffWorkflow's JSON serializer, deliver the message
  (``BpmnWorkflow.send_event``; Spiff finds the catching task), ``do_engine_steps`` (scripts,
  gateway conditions, timers), serialize, UPDATE the row (optimistic version check), append
  the message to a hash-chained audit table, record it in the dedupe table, add new
  correlation keys, commit. Instances are created first (not timed).

  - *per event*: one transaction per event.
  - *per batch*: one transaction per batch of 500; dedupe, keys and rows are read set-wise,
    each workflow touched is deserialized once and serialized once per batch (the most a
    service can batch with a serialized-object engine; a workflow is let go right after its
    last message of the batch). The headline ratio uses the faster of the two variants.

  The workflow definition (the parsed BPMN spec) is kept in memory and each row holds the
  instance only (tasks, data, correlations), through a converter registered the documented
  way (``BpmnWorkflowSerializer.configure``). The stock ``serialize_json`` also writes the
  whole spec into every row; that variant is measured too, per batch, for reference.

Late or out-of-order messages become "ignored" on both sides (relevo records the ignored
fact; Spiff raises "not waiting for" and the service records it in the audit table).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import os
import platform
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson

try:
    from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import DEFAULT_CONFIG, BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.serializer.default.workflow import (
        BpmnWorkflowConverter,
        WorkflowConverter,
    )
    from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
    from SpiffWorkflow.exceptions import WorkflowException

    SPIFF_MISSING: str | None = None
except ImportError as error:  # pragma: no cover - exercised only without the extra
    SPIFF_MISSING = str(error)

from _benchlib import add_json_option, bench_hub, port_in_catalog, write_figures
from _floor import Recording, checkpointed_copy, is_write, recording, replay
from relevo.adapters.db.engine import create_engine
from relevo.domain import engine as relevo_engine
from relevo.services.hub import Hub, Inbound, StartRequest

BPMN_FILE = Path(__file__).resolve().parent / "bpmn" / "mobile_port_in.bpmn"
PROCESS_ID = "mobile_port_in"
KIND = "mobile_port_in"
BATCH = 500
#: CPython's default cycle-collector thresholds (``--default-gc``).
DEFAULT_GC = (700, 10, 10)
#: Correlation keys the back-ends send in ``data``, in relevo's lookup order (sorted).
KEY_NAMES = ("contract_code", "crm_order_id", "msisdn", "nc_reference")

# The event mix (rules.md §1.4, §1.5): shares of processes taking each path.
NC_REJECTED = 0.03  # AREC CUPO1 at submission, then we resubmit
DONOR_REJECTED = 0.06  # RECH_IDENT: the customer fixes the ID, then we resubmit
DONOR_NORES = 0.02  # RECH_NORES: no answer in time, we resubmit
CANCELLED = 0.03  # nc.cancelled (CANC_ABONA) before the cut-off
REMOTE = 0.75  # remote sales: sim.shipped + sim.delivered; else sim.activated in store
DUPLICATES = 0.01  # redeliveries of an earlier message


# -- the event stream ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One mobile line being ported in, with the keys the back-ends know it by."""

    n: int
    msisdn: str
    crm_order_id: str
    modality: str


@dataclass(frozen=True)
class Msg:
    """One inbound CloudEvent, as both engines receive it."""

    source: str
    id: str
    type: str
    data: dict[str, Any]


def make_lines(count: int) -> list[Line]:
    """``count`` lines: msisdn ``7`` + n on 8 digits, order ``SO-P`` + n."""
    return [
        Line(n, f"7{n:08d}", f"SO-P{n:08d}", "prepaid" if n % 10 < 3 else "postpaid")
        for n in range(count)
    ]


def lives(lines: Sequence[Line], now: datetime, seed: int = 4) -> list[list[Msg]]:
    """Each line's messages in its own order (see the module docstring for the mix)."""
    rng = random.Random(seed)
    window = (now + timedelta(days=3)).date().isoformat() + "T02:00:00+01:00"
    later = (now + timedelta(days=6)).date().isoformat() + "T02:00:00+01:00"
    out: list[list[Msg]] = []
    for line in lines:
        life: list[Msg] = []

        def msg(type_: str, data: dict[str, Any], source: str = "mnp-gateway") -> None:
            life.append(Msg(source, f"{source}-{line.n}-{len(life) + 1}", type_, data))  # noqa: B023

        ref = f"{10**22 + line.n * 7919:023d}"
        ref2 = f"{2 * 10**22 + line.n * 7919:023d}"
        roll = rng.random()
        if roll < NC_REJECTED:
            msg("nc.rejected", {"msisdn": line.msisdn, "code": "CUPO1"})
            msg("port.resubmitted", {"msisdn": line.msisdn, "reference": ref, "window": window})
        else:
            msg("nc.accepted", {"msisdn": line.msisdn, "reference": ref, "window": window})
            if roll < NC_REJECTED + DONOR_REJECTED + DONOR_NORES:
                cause = "RECH_IDENT" if roll < NC_REJECTED + DONOR_REJECTED else "RECH_NORES"
                msg("donor.rejected", {"nc_reference": ref, "cause": cause})
                msg("port.resubmitted", {"msisdn": line.msisdn, "reference": ref2, "window": later})
                ref = ref2
        cancel = rng.random() < CANCELLED
        if cancel and rng.random() < 0.5:
            msg("nc.cancelled", {"nc_reference": ref, "cause": "CANC_ABONA"})
            out.append(life)
            continue
        msg("donor.confirmed", {"nc_reference": ref})
        if rng.random() < REMOTE:
            order = {"crm_order_id": line.crm_order_id}
            msg("sim.shipped", {**order, "tracking": f"PQ{line.n:010d}ES"}, "logistics")
            msg("sim.delivered", order, "logistics")
        else:
            msg("sim.activated", {"msisdn": line.msisdn}, "provisioning")
        if cancel:
            msg("nc.cancelled", {"nc_reference": ref, "cause": "CANC_ABONA"})
        else:
            msg("port.executed", {"nc_reference": ref})
        out.append(life)
    return out


def interleave(per_line: Sequence[Sequence[Msg]], seed: int = 5) -> list[Msg]:
    """The lives cut into waves (each line's next message, lines shuffled per wave), plus
    a few redeliveries of earlier messages a little later in the stream."""
    rng = random.Random(seed)
    stream: list[Msg] = []
    cursors = [0] * len(per_line)
    alive = [i for i in range(len(per_line)) if per_line[i]]
    while alive:
        rng.shuffle(alive)
        still = []
        for i in alive:
            stream.append(per_line[i][cursors[i]])
            cursors[i] += 1
            if cursors[i] < len(per_line[i]):
                still.append(i)
        alive = still
    for _ in range(int(len(stream) * DUPLICATES)):
        at = rng.randrange(len(stream))
        stream.insert(min(len(stream), at + rng.randrange(1, 3 * BATCH)), stream[at])
    return stream


def batches(items: Sequence[Msg], size: int = BATCH) -> list[Sequence[Msg]]:
    """``items`` cut into consecutive batches of ``size``."""
    return [items[i : i + size] for i in range(0, len(items), size)]


# -- SQLite, set up the way relevo sets it up ------------------------------------------------


@dataclass
class RawSqlite:
    """A plain sqlite3 connection opened through relevo's own engine factory, so that it
    has exactly relevo's settings (WAL, ``synchronous=NORMAL``, cache, checkpoints, busy
    timeout, foreign keys) and leaves transactions to the caller (``BEGIN IMMEDIATE`` …
    ``COMMIT``).

    The SpiffWorkflow service reaches SQL through it by design: SpiffWorkflow has no store
    of its own, and the comparison is fair only on relevo's connection settings."""

    path: Path

    def __post_init__(self) -> None:
        self.engine = create_engine(f"sqlite:///{self.path}")
        self.pooled = self.engine.raw_connection()
        self.conn: sqlite3.Connection = self.pooled.driver_connection

    def close(self) -> None:
        """Give the connection back and close the engine."""
        self.pooled.close()
        self.engine.dispose()


#: The settings printed for each database, to show both engines run on the same ones.
PRAGMAS = ("journal_mode", "synchronous", "cache_size", "wal_autocheckpoint", "temp_store")


def sqlite_settings(conn: sqlite3.Connection) -> str:
    """The effective settings of a SQLite connection, as one line."""
    return ", ".join(f"{name}={conn.execute(f'PRAGMA {name}').fetchone()[0]}" for name in PRAGMAS)


SPIFF_SCHEMA = """
CREATE TABLE workflow (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    state TEXT NOT NULL
);
CREATE TABLE correlation (
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflow(id),
    PRIMARY KEY (name, value)
);
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflow(id),
    version INTEGER NOT NULL,
    source TEXT NOT NULL,
    message_id TEXT NOT NULL,
    type TEXT NOT NULL,
    outcome TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    payload TEXT NOT NULL,
    hash TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    UNIQUE (workflow_id, version)
);
CREATE TABLE inbox (
    source TEXT NOT NULL,
    message_id TEXT NOT NULL,
    workflow_id TEXT,
    outcome TEXT NOT NULL,
    PRIMARY KEY (source, message_id)
);
CREATE TABLE dead_letter (
    seq INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    message_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    reason TEXT NOT NULL
);
"""


# -- SpiffWorkflow as a service ----------------------------------------------------------------


def load_bpmn(path: Path = BPMN_FILE) -> tuple[Any, dict[str, Any]]:
    """The parsed top-level spec and its sub-process specs."""
    parser = BpmnParser()
    parser.add_bpmn_file(str(path))
    return parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID)


def instance_serializer(spec: Any, subprocess_specs: dict[str, Any]) -> Any:
    """Spiff's JSON serializer, configured so that a row holds the instance and names its
    spec: the spec is parsed once per service, as a deployed engine keeps its models."""

    class SpecByName(BpmnWorkflowConverter):  # type: ignore[misc]
        def to_dict(self, workflow: Any) -> dict[str, Any]:
            dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
            dct["spec"] = workflow.spec.name
            dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
            dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
            return dct

        def from_dict(self, dct: dict[str, Any]) -> Any:
            name = dct.pop("spec")
            if name != spec.name:
                raise ValueError(f"unknown workflow spec {name!r}")
            workflow = self.target_class(spec, subprocess_specs, deserializing=True)
            workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
            workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
            self.set_default_attributes(workflow, dct)
            self.subprocesses_from_dict(dct["subprocesses"], workflow)
            workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
            return workflow

    config = dict(DEFAULT_CONFIG)
    config[BpmnWorkflow] = SpecByName
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


#: The gateways on the main flow whose waiting task carries the current stage.
MAIN_WAITS = ("requested_wait", "donor_wait", "scheduled_wait", "porting_wait")


def spiff_status(workflow: Any) -> str:
    """The status a service would project: the final one, or ``active``."""
    if workflow.completed:
        return str(workflow.data.get("status", "completed"))
    return "active"


def spiff_view(workflow: Any) -> dict[str, Any]:
    """Status, stage and main-flow data of a workflow: the stage is the process-level data
    object, the rest is read from the main flow's waiting gateway (or the final data)."""
    if workflow.completed:
        data = workflow.data
    else:
        data = {}
        for task in workflow.event_manager.tasks.values():
            if task.task_spec.bpmn_id in MAIN_WAITS:
                data = task.data
                break
    return {
        "status": spiff_status(workflow),
        "stage": workflow.data.get("data_objects", {}).get("stage"),
        "nc_reference": data.get("nc_reference"),
        "incidents": list(data.get("incidents") or []),
    }


def chain(prev: str, workflow_id: str, version: int, payload: bytes) -> str:
    """SHA-256 over the previous hash, the place of the record and its canonical JSON."""
    digest = hashlib.sha256(f"{prev}|{workflow_id}|{version}|".encode())
    digest.update(payload)
    return digest.hexdigest()


@dataclass
class Loaded:
    """A workflow deserialized for the current batch."""

    workflow: Any
    version: int
    last_hash: str
    dirty: bool = False


@dataclass
class Stored:
    """A workflow row as read at the start of a batch, then as it stands in the batch."""

    before: int
    version: int
    last_hash: str
    state: str
    status: str = "active"
    dirty: bool = False

    def release(self, item: Loaded, serializer: Any) -> None:
        """Take the workflow's new state (serialized if it changed) and let it go."""
        self.version, self.last_hash = item.version, item.last_hash
        if item.dirty:
            self.state = serializer.serialize_json(item.workflow)
            self.status = spiff_status(item.workflow)
            self.dirty = True


@dataclass
class SpiffService:
    """Runs SpiffWorkflow instances of the port-in model behind a SQLite store."""

    path: Path
    stock_serializer: bool = False
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self.spec, self.subprocess_specs = load_bpmn()
        if self.stock_serializer:
            self.serializer = BpmnWorkflowSerializer()
        else:
            self.serializer = instance_serializer(self.spec, self.subprocess_specs)
        self.stamp = self.now.isoformat()
        self._sqlite = RawSqlite(self.path)
        self.conn = self._sqlite.conn
        if not self.conn.execute("SELECT 1 FROM sqlite_master WHERE name='workflow'").fetchone():
            self.conn.executescript(SPIFF_SCHEMA)
        self._messages: dict[str, Any] = {}

    def close(self) -> None:
        """Close the connection."""
        self._sqlite.close()

    # -- opening instances (not timed) --

    def create(self, lines: Sequence[Line]) -> list[str]:
        """One instance per line, run to its first wait, stored with its keys."""
        ids = []
        self.conn.execute("BEGIN IMMEDIATE")
        for line in lines:
            workflow_id = f"wf_{line.n:08d}"
            workflow = BpmnWorkflow(self.spec, self.subprocess_specs)
            workflow.do_engine_steps()
            body = orjson.dumps(
                {"type": "process.started", "msisdn": line.msisdn, "modality": line.modality},
                option=orjson.OPT_SORT_KEYS,
            )
            digest = chain("", workflow_id, 1, body)
            self.conn.execute(
                "INSERT INTO workflow VALUES (?, ?, 'active', 1, ?, ?, ?)",
                (workflow_id, KIND, digest, self.stamp, self.serializer.serialize_json(workflow)),
            )
            self.conn.executemany(
                "INSERT INTO correlation VALUES (?, ?, ?)",
                [
                    ("msisdn", line.msisdn, workflow_id),
                    ("crm_order_id", line.crm_order_id, workflow_id),
                ],
            )
            self.conn.execute(
                "INSERT INTO audit (workflow_id, version, source, message_id, type, outcome, "
                "recorded_at, payload, hash, prev_hash) VALUES (?, 1, 'relevo', ?, "
                "'process.started', 'accepted', ?, ?, ?, '')",
                (workflow_id, workflow_id, self.stamp, body.decode(), digest),
            )
            ids.append(workflow_id)
        self.conn.execute("COMMIT")
        return ids

    # -- the engine step shared by both variants --

    def deliver(self, loaded: Loaded, msg: Msg) -> str:
        """Deliver one message to a deserialized workflow and run it to its next waits.

        Returns ``accepted``, or ``ignored`` when no task of the workflow waits for it.
        """
        definition = self._messages.get(msg.type)
        if definition is None:
            definition = self._messages[msg.type] = MessageEventDefinition(msg.type)
        try:
            loaded.workflow.send_event(BpmnEvent(definition, payload=dict(msg.data)))
        except WorkflowException:
            return "ignored"
        loaded.workflow.do_engine_steps()
        loaded.dirty = True
        return "accepted"

    def _audit_row(
        self, loaded: Loaded, workflow_id: str, msg: Msg, outcome: str
    ) -> tuple[Any, ...]:
        version = loaded.version + 1
        body = orjson.dumps(
            {
                "source": msg.source,
                "id": msg.id,
                "type": msg.type,
                "data": msg.data,
                "outcome": outcome,
            },
            option=orjson.OPT_SORT_KEYS,
        )
        digest = chain(loaded.last_hash, workflow_id, version, body)
        row = (
            workflow_id,
            version,
            msg.source,
            msg.id,
            msg.type,
            outcome,
            self.stamp,
            body.decode(),
            digest,
            loaded.last_hash,
        )
        loaded.version, loaded.last_hash = version, digest
        return row

    @staticmethod
    def _pairs(msg: Msg) -> list[tuple[str, str]]:
        return [(name, str(msg.data[name])) for name in KEY_NAMES if msg.data.get(name) is not None]

    @staticmethod
    def _new_keys(msg: Msg, outcome: str, workflow_id: str) -> list[tuple[str, str, str]]:
        if outcome == "accepted" and msg.type in ("nc.accepted", "port.resubmitted"):
            return [("nc_reference", str(msg.data["reference"]), workflow_id)]
        return []

    def _dead_letter(self, msg: Msg, reason: str) -> tuple[Any, ...]:
        return (msg.source, msg.id, msg.type, orjson.dumps(msg.data).decode(), reason)

    # -- per event: one transaction each --

    def handle(self, msg: Msg) -> str:
        """Apply one message in its own transaction; returns its outcome."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute(
                "SELECT 1 FROM inbox WHERE source = ? AND message_id = ?", (msg.source, msg.id)
            ).fetchone():
                conn.execute("ROLLBACK")
                return "duplicate"
            workflow_id = None
            for name, value in self._pairs(msg):
                found = conn.execute(
                    "SELECT workflow_id FROM correlation WHERE name = ? AND value = ?",
                    (name, value),
                ).fetchone()
                if found:
                    workflow_id = found[0]
                    break
            if workflow_id is None:
                conn.execute(
                    "INSERT INTO dead_letter (source, message_id, type, payload, reason) "
                    "VALUES (?, ?, ?, ?, ?)",
                    self._dead_letter(msg, "no process holds its correlation keys"),
                )
                conn.execute("COMMIT")
                return "rejected"
            version, last_hash, state = conn.execute(
                "SELECT version, last_hash, state FROM workflow WHERE id = ?", (workflow_id,)
            ).fetchone()
            loaded = Loaded(self.serializer.deserialize_json(state), version, last_hash)
            before = loaded.version
            outcome = self.deliver(loaded, msg)
            audit = self._audit_row(loaded, workflow_id, msg, outcome)
            if loaded.dirty:
                changed = conn.execute(
                    "UPDATE workflow SET state = ?, status = ?, version = ?, last_hash = ?, "
                    "updated_at = ? WHERE id = ? AND version = ?",
                    (
                        self.serializer.serialize_json(loaded.workflow),
                        spiff_status(loaded.workflow),
                        loaded.version,
                        loaded.last_hash,
                        self.stamp,
                        workflow_id,
                        before,
                    ),
                ).rowcount
            else:
                changed = conn.execute(
                    "UPDATE workflow SET version = ?, last_hash = ?, updated_at = ? "
                    "WHERE id = ? AND version = ?",
                    (loaded.version, loaded.last_hash, self.stamp, workflow_id, before),
                ).rowcount
            if changed != 1:
                raise RuntimeError(f"{workflow_id} changed under us")
            conn.execute(
                "INSERT INTO audit (workflow_id, version, source, message_id, type, outcome, "
                "recorded_at, payload, hash, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                audit,
            )
            conn.executemany(
                "INSERT OR REPLACE INTO correlation VALUES (?, ?, ?)",
                self._new_keys(msg, outcome, workflow_id),
            )
            conn.execute(
                "INSERT INTO inbox VALUES (?, ?, ?, ?)", (msg.source, msg.id, workflow_id, outcome)
            )
            conn.execute("COMMIT")
            return outcome
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def handle_each(self, msgs: Sequence[Msg]) -> list[str]:
        """The per-event variant over a batch: one transaction per message."""
        return [self.handle(msg) for msg in msgs]

    # -- per batch: one transaction for the batch --

    def handle_batch(self, msgs: Sequence[Msg]) -> list[str]:
        """Apply a batch in one transaction: set-wise reads, each workflow deserialized once
        and serialized once, set-wise writes."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            seen = self._select_in(
                "SELECT source, message_id FROM inbox WHERE (source, message_id) IN ",
                [(m.source, m.id) for m in msgs],
            )
            seen_keys = {(source, message_id) for source, message_id in seen}
            pairs = [pair for m in msgs for pair in self._pairs(m)]
            keys = {
                (name, value): wid
                for name, value, wid in self._select_in(
                    "SELECT name, value, workflow_id FROM correlation WHERE (name, value) IN ",
                    pairs,
                )
            }
            # Where each message will go and which is the last one for each workflow: a
            # workflow is deserialized at its first message and serialized right after its
            # last, so that few are alive at once (Python's GC work per event stays flat).
            predicted = dict(keys)
            last: dict[str, int] = {}
            fresh: set[tuple[str, str]] = set()
            for index, msg in enumerate(msgs):
                key = (msg.source, msg.id)
                if key in seen_keys or key in fresh:
                    continue
                fresh.add(key)
                wid = next((predicted[p] for p in self._pairs(msg) if p in predicted), None)
                if wid is not None:
                    last[wid] = index
                    for name, value, _ in self._new_keys(msg, "accepted", wid):
                        predicted[(name, value)] = wid
            stored: dict[str, Stored] = {}
            wanted = sorted(last)
            for i in range(0, len(wanted), BATCH):
                chunk = wanted[i : i + BATCH]
                marks = ",".join("?" * len(chunk))
                for wid, version, last_hash, state in conn.execute(
                    f"SELECT id, version, last_hash, state FROM workflow WHERE id IN ({marks})",
                    chunk,
                ):
                    stored[wid] = Stored(version, version, last_hash, state)
            loaded: dict[str, Loaded] = {}
            audits: list[tuple[Any, ...]] = []
            inbox: list[tuple[Any, ...]] = []
            new_keys: list[tuple[str, str, str]] = []
            dead: list[tuple[Any, ...]] = []
            in_batch: set[tuple[str, str]] = set()
            outcomes: list[str] = []
            for index, msg in enumerate(msgs):
                key = (msg.source, msg.id)
                if key in seen_keys or key in in_batch:
                    outcomes.append("duplicate")
                    continue
                workflow_id = next((keys[p] for p in self._pairs(msg) if p in keys), None)
                if workflow_id is not None and workflow_id not in stored:
                    row = conn.execute(
                        "SELECT version, last_hash, state FROM workflow WHERE id = ?",
                        (workflow_id,),
                    ).fetchone()
                    if row is not None:
                        stored[workflow_id] = Stored(row[0], row[0], row[1], row[2])
                if workflow_id is None or workflow_id not in stored:
                    dead.append(self._dead_letter(msg, "no process holds its correlation keys"))
                    outcomes.append("rejected")
                    continue
                row_now = stored[workflow_id]
                item = loaded.get(workflow_id)
                if item is None:
                    item = Loaded(
                        self.serializer.deserialize_json(row_now.state),
                        row_now.version,
                        row_now.last_hash,
                    )
                    loaded[workflow_id] = item
                outcome = self.deliver(item, msg)
                audits.append(self._audit_row(item, workflow_id, msg, outcome))
                for name, value, wid in self._new_keys(msg, outcome, workflow_id):
                    keys[(name, value)] = wid
                    new_keys.append((name, value, wid))
                inbox.append((msg.source, msg.id, workflow_id, outcome))
                in_batch.add(key)
                outcomes.append(outcome)
                if last.get(workflow_id, index) <= index:
                    row_now.release(item, self.serializer)
                    del loaded[workflow_id]
            for wid, item in loaded.items():
                stored[wid].release(item, self.serializer)
            updates = [
                (row.state, row.status, row.version, row.last_hash, self.stamp, wid, row.before)
                for wid, row in stored.items()
                if row.dirty
            ]
            touched = [
                (row.version, row.last_hash, self.stamp, wid, row.before)
                for wid, row in stored.items()
                if not row.dirty and row.version != row.before
            ]
            changed = conn.executemany(
                "UPDATE workflow SET state = ?, status = ?, version = ?, last_hash = ?, "
                "updated_at = ? WHERE id = ? AND version = ?",
                updates,
            ).rowcount
            changed += conn.executemany(
                "UPDATE workflow SET version = ?, last_hash = ?, updated_at = ? "
                "WHERE id = ? AND version = ?",
                touched,
            ).rowcount
            if changed != len(updates) + len(touched):
                raise RuntimeError("a workflow changed under us")
            conn.executemany(
                "INSERT INTO audit (workflow_id, version, source, message_id, type, outcome, "
                "recorded_at, payload, hash, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                audits,
            )
            conn.executemany("INSERT OR REPLACE INTO correlation VALUES (?, ?, ?)", new_keys)
            conn.executemany("INSERT INTO inbox VALUES (?, ?, ?, ?)", inbox)
            conn.executemany(
                "INSERT INTO dead_letter (source, message_id, type, payload, reason) "
                "VALUES (?, ?, ?, ?, ?)",
                dead,
            )
            conn.execute("COMMIT")
            return outcomes
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _select_in(self, sql: str, pairs: Sequence[tuple[str, str]]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        unique = list(dict.fromkeys(pairs))
        for i in range(0, len(unique), BATCH):
            chunk = unique[i : i + BATCH]
            marks = ",".join("(?, ?)" for _ in chunk)
            flat = [value for pair in chunk for value in pair]
            rows.extend(self.conn.execute(f"{sql}(VALUES {marks})", flat).fetchall())
        return rows

    # -- reading back (not timed) --

    def load(self, workflow_id: str) -> Any:
        """The stored workflow, deserialized."""
        (state,) = self.conn.execute(
            "SELECT state FROM workflow WHERE id = ?", (workflow_id,)
        ).fetchone()
        return self.serializer.deserialize_json(state)

    def statuses(self) -> dict[str, str]:
        """The projected status of every workflow."""
        return dict(self.conn.execute("SELECT id, status FROM workflow").fetchall())


# -- relevo on the same events ----------------------------------------------------------------


def relevo_hub(path: Path, now: datetime) -> Hub:
    """A Hub on a SQLite file migrated here, with a fixed clock, built by relevo's
    composition root (``build_hub``) exactly as ``relevo serve`` builds it, which also
    applies relevo's process-wide runtime tuning (the cycle collector's thresholds). Its
    mobile port-in is version 1, the process the BPMN model mirrors (``port_in_catalog``)."""
    hub, _store = bench_hub(f"sqlite:///{path}", lambda: now, catalog=port_in_catalog())
    return hub


def relevo_start(hub: Hub, lines: Sequence[Line]) -> list[str]:
    """Open one mobile port-in per line through ``Hub.start_process``."""
    ids = []
    for line in lines:
        view = hub.start_process(
            StartRequest(
                kind=KIND,
                customer_id=f"cus_peer{line.n:08d}",
                subject=line.msisdn,
                keys={"crm_order_id": line.crm_order_id},
                attributes={"modality": line.modality, "sales_channel": "web"},
                channel="web",
                actor=f"customer:cus_peer{line.n:08d}",
            )
        )
        ids.append(str(view["id"]))
    return ids


def inbound(msgs: Iterable[Msg], now: datetime) -> list[Inbound]:
    """The messages as relevo's ingest receives them."""
    return [
        Inbound(m.source, m.id, m.type, dict(m.data), now, actor=f"backend:{m.source}")
        for m in msgs
    ]


# -- measuring --------------------------------------------------------------------------------


@dataclass
class Run:
    """The figures of one measured run."""

    label: str
    events: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    outcomes: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        """Events per second of wall time inside the measured calls."""
        return self.events / self.wall if self.wall else float("nan")

    @property
    def us(self) -> float:
        """Microseconds of wall time per event."""
        return 1e6 * self.wall / self.events if self.events else float("nan")

    @property
    def cpu_us(self) -> float:
        """Microseconds of CPU time of this process per event."""
        return 1e6 * self.cpu / self.events if self.events else float("nan")


def measure(label: str, send: Callable[[Sequence[Any]], list[str]], chunks: Sequence[Any]) -> Run:
    """Send each chunk, timing every call; ``send`` returns one outcome per item."""
    run = Run(label)
    gc.collect()
    for chunk in chunks:
        wall, cpu = time.perf_counter(), time.process_time()
        outcomes = send(chunk)
        run.wall += time.perf_counter() - wall
        run.cpu += time.process_time() - cpu
        run.events += len(chunk)
        run.outcomes.update(outcomes)
    return run


def relevo_outcomes(results: Sequence[Any]) -> list[str]:
    """relevo's outcome per item as plain strings."""
    return [result.outcome.value for result in results]


def machine() -> list[tuple[str, str]]:
    """nproc, CPU model, Python, SQLite and SpiffWorkflow versions."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        spiff = version("SpiffWorkflow")
    except Exception:
        spiff = "not installed"
    return [
        ("nproc", str(os.cpu_count())),
        ("cpu", model),
        ("python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("sqlite", sqlite3.sqlite_version),
        ("SpiffWorkflow", spiff),
    ]


def print_runs(runs: Sequence[Run]) -> None:
    """The figures, one line per engine/variant."""
    header = ("engine / variant", "events", "events/s", "µs/event", "CPU µs/ev")
    print(f"{header[0]:<58} {header[1]:>7} {header[2]:>10} {header[3]:>10} {header[4]:>10}")
    for run in runs:
        print(
            f"{run.label:<58} {run.events:>7} {run.rate:>10,.0f} {run.us:>10,.1f} "
            f"{run.cpu_us:>10,.1f}"
        )


def engine_alone_us(
    path: Path, now: datetime, lines: Sequence[Line], chunks: Sequence[Sequence[Msg]]
) -> float:
    """µs per event that relevo's pure engine (``decide`` and ``apply``) takes inside an
    untimed second run of the same events on a fresh database (the timers around each call
    add well under a microsecond per event)."""
    hub = relevo_hub(path, now)
    relevo_start(hub, lines)
    spent = [0.0]

    def timed(function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        return wrapper

    decide, apply = relevo_engine.decide, relevo_engine.apply
    relevo_engine.decide, relevo_engine.apply = timed(decide), timed(apply)
    try:
        events = 0
        for chunk in chunks:
            hub.ingest(inbound(chunk, now))
            events += len(chunk)
    finally:
        relevo_engine.decide, relevo_engine.apply = decide, apply
        hub.store.engine.dispose()
    return 1e6 * spent[0] / events


def print_ceiling(
    folder: Path,
    before: Path,
    recorded: Recording,
    events: int,
    spiff: Run,
    engine_us: float,
    repeat: int = 3,
) -> dict[str, float]:
    """How far relevo's ratio could go on these events: its own SQL replayed bare (best of
    ``repeat``), first with everything else free, then with its engine's own time added;
    prints both and returns their figures."""
    floors = {}
    for label, keep in (("every statement", lambda _s: True), ("writes only", is_write)):
        best = min(
            replay(
                checkpointed_copy(before, folder / "relevo_replay.db"), recorded.transactions, keep
            ).wall_s
            for _ in range(repeat)
        )
        floors[label] = 1e6 * best / events
    every = floors["every statement"]
    print(
        f"ceiling: relevo's own SQL for these events, replayed bare (sqlite3, same settings, "
        f"no engine): {every:,.1f} µs per event ({floors['writes only']:,.1f} µs writes only); "
        f"with deciding and bookkeeping free, relevo would be at most "
        f"{spiff.us / every:,.1f}× faster than SpiffWorkflow's best variant"
    )
    print(
        f"ceiling with the engine: that SQL plus relevo's decide and apply alone "
        f"({engine_us:,.1f} µs per event) is {every + engine_us:,.1f} µs per event; with "
        f"correlation, hashing, rows and results free, relevo would be at most "
        f"{spiff.us / (every + engine_us):,.1f}× faster"
    )
    return {
        "floor_us": every,
        "floor_writes_us": floors["writes only"],
        "ceiling": spiff.us / every,
        "engine_us": engine_us,
        "engine_ceiling": spiff.us / (every + engine_us),
    }


def run_figures(run: Run) -> dict[str, Any]:
    """One engine's or variant's figures as written to the JSON file."""
    return {
        "label": run.label,
        "events": run.events,
        "rate": run.rate,
        "us": run.us,
        "cpu_us": run.cpu_us,
        "outcomes": dict(sorted(run.outcomes.items())),
    }


def profile_relevo(hub: Hub, chunks: Sequence[Sequence[Inbound]], top: int = 25) -> None:
    """Profile relevo's ingest over ``chunks`` (cProfile) and print where the time goes:
    relevo's own functions by cumulative time, then everything by self time, each as a
    share of the profiled total (the profiler itself inflates small functions)."""
    profiler = cProfile.Profile()
    profiler.enable()
    for chunk in chunks:
        hub.ingest(chunk)
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    rows = []
    for (filename, _line, name), (_cc, calls, own, cum, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        path = Path(filename)
        where = f"{path.parent.name}/{path.name}:{name}" if filename != "~" else name
        rows.append((cum, own, calls, where, "/relevo/" in filename))
    events = sum(len(chunk) for chunk in chunks)
    print(f"\n-- relevo ingest profile: {events} events, {total:.2f} s profiled --")
    print("relevo functions by cumulative time (% of profiled total):")
    for cum, own, calls, where, ours in sorted(rows, reverse=True):
        if ours and cum / total >= 0.01:
            share, self_share = 100 * cum / total, 100 * own / total
            print(f"  {share:5.1f}% cum {self_share:5.1f}% self {calls:>7}  {where}")
    print("top self time:")
    for cum, own, calls, where, _ours in sorted(rows, key=lambda row: -row[1])[:top]:
        print(f"  {100 * own / total:5.1f}% self {100 * cum / total:5.1f}% cum {calls:>7}  {where}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the comparison and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2000, help="processes (default 2000)")
    parser.add_argument("--quick", action="store_true", help="a small run (300 processes)")
    parser.add_argument(
        "--no-stock", action="store_true", help="skip the stock-serializer reference run"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile relevo's ingest (cProfile)"
    )
    parser.add_argument(
        "--default-gc",
        action="store_true",
        help="undo relevo's process-wide GC tuning: Python's default thresholds for both",
    )
    add_json_option(parser)
    args = parser.parse_args(argv)
    if SPIFF_MISSING is not None:
        print(
            f"SpiffWorkflow is not installed ({SPIFF_MISSING}); "
            "install the bench extra: .venv/bin/pip install -e '.[bench]'",
            file=sys.stderr,
        )
        write_figures(args.json, {"skipped": "SpiffWorkflow is not installed"})
        return 2
    count = 300 if args.quick else args.processes
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    lines = make_lines(count)
    stream = interleave(lives(lines, now))
    chunks = batches(stream)

    print("relevo vs SpiffWorkflow — mobile port-in, same events, same SQLite settings")
    for key, value in machine():
        print(f"  {key:<14} {value}")
    mix = Counter(m.type for m in stream)
    print(f"  processes      {count}")
    per = len(stream) / count
    print(f"  events         {len(stream)} in batches of {BATCH} ({per:.2f} per process)")
    print("  mix            " + ", ".join(f"{t} {n}" for t, n in sorted(mix.items())))
    print(
        "  durability     both: dedupe + append + state update per event in one transaction, "
        "BEGIN IMMEDIATE, SQLite settings from relevo's engine factory"
    )
    print()

    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="relevo-peer-") as tmp:
        folder = Path(tmp)

        hub = relevo_hub(folder / "relevo.db", now)
        if args.default_gc:
            gc.set_threshold(*DEFAULT_GC)
        print(
            f"  gc thresholds  {gc.get_threshold()} for both engines (process-wide; "
            + ("Python's defaults)" if args.default_gc else "set by relevo's build_hub)")
        )
        relevo_ids = relevo_start(hub, lines)
        relevo_before = checkpointed_copy(folder / "relevo.db", folder / "relevo_before.db")
        relevo_in = [inbound(chunk, now) for chunk in chunks]
        with recording(hub.store.engine) as relevo_sql:
            runs.append(
                measure(
                    f"relevo Hub.ingest, 1 transaction per batch of {BATCH}",
                    lambda c: relevo_outcomes(hub.ingest(c)),
                    relevo_in,
                )
            )

        spiff = SpiffService(folder / "spiff_batch.db", now=now)
        spiff_ids = spiff.create(lines)
        with hub.store.engine.connect() as conn:
            relevo_settings = sqlite_settings(conn.connection.driver_connection)
        print(f"  relevo db      {relevo_settings}")
        print(f"  Spiff db       {sqlite_settings(spiff.conn)}")
        print()
        runs.append(
            measure(
                f"SpiffWorkflow per batch: 1 transaction per {BATCH}",
                spiff.handle_batch,
                chunks,
            )
        )

        each = SpiffService(folder / "spiff_event.db", now=now)
        each.create(lines)
        runs.append(
            measure("SpiffWorkflow per event: 1 transaction per event", each.handle_each, chunks)
        )

        if not args.no_stock:
            stock = SpiffService(folder / "spiff_stock.db", stock_serializer=True, now=now)
            stock.create(lines)
            runs.append(
                measure(
                    "SpiffWorkflow per batch, stock serializer (spec in each row)",
                    stock.handle_batch,
                    chunks,
                )
            )
            stock.close()

        print_runs(runs)
        relevo_run, spiff_batch, spiff_event = runs[0], runs[1], runs[2]
        best = min(spiff_batch, spiff_event, key=lambda run: run.us)
        print()
        ratios = []
        for run in runs[1:]:
            tag = "  <- headline (best SpiffWorkflow variant)" if run is best else ""
            print(
                f"ratio relevo ÷ {run.label}: {run.us / relevo_run.us:,.1f}× "
                f"(CPU {run.cpu_us / relevo_run.cpu_us:,.1f}×){tag}"
            )
            ratios.append(
                {
                    "against": run.label,
                    "wall": run.us / relevo_run.us,
                    "cpu": run.cpu_us / relevo_run.cpu_us,
                }
            )
        ratio = best.us / relevo_run.us
        print(
            f"headline: relevo is {ratio:,.1f}× faster per event than SpiffWorkflow "
            f"({relevo_run.us:,.1f} µs vs {best.us:,.1f} µs); issue #4 asks for ≥ 40×: "
            + ("met" if ratio >= 40 else "NOT met")
        )
        engine_us = engine_alone_us(folder / "relevo_engine.db", now, lines, chunks)
        ceiling = print_ceiling(
            folder, relevo_before, relevo_sql, relevo_run.events, best, engine_us
        )
        print()
        for run in runs:
            print(
                f"  outcomes, {run.label}: "
                + ", ".join(f"{k} {v}" for k, v in sorted(run.outcomes.items()))
            )

        # Cross-check: both engines end every process in the same status. Every process's
        # status at once is a plain query here: no hub call lists them all unpaged.
        with hub.store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, status FROM processes").fetchall()
        relevo_status = {str(pid): str(status) for pid, status in rows}
        spiff_status_by_id = spiff.statuses()
        agree = sum(
            relevo_status.get(rid) == spiff_status_by_id.get(sid)
            for rid, sid in zip(relevo_ids, spiff_ids, strict=True)
        )
        final = Counter(relevo_status.get(rid) for rid in relevo_ids)
        print(
            f"  final status agrees for {agree}/{count} processes "
            f"(relevo: {', '.join(f'{k} {v}' for k, v in sorted(final.items()))})"
        )
        spiff.close()
        each.close()
        write_figures(
            args.json,
            {
                "processes": count,
                "events": len(stream),
                "rows": [run_figures(run) for run in runs],
                "ratio": ratio,
                "relevo_us": relevo_run.us,
                "spiff_us": best.us,
                "spiff_best": best.label,
                "ratios": ratios,
                **ceiling,
                "status_agrees": agree,
            },
        )

        if args.profile:
            hub2 = relevo_hub(folder / "relevo_profile.db", now)
            if args.default_gc:
                gc.set_threshold(*DEFAULT_GC)
            relevo_start(hub2, lines)
            profile_relevo(hub2, [inbound(chunk, now) for chunk in chunks])
            hub2.store.engine.dispose()
        hub.store.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
