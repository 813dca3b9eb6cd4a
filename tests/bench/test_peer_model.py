"""The peer benchmark's BPMN model is the same process as relevo's mobile port-in, version 1.

The model (``bench/bpmn/mobile_port_in.bpmn``) must load in SpiffWorkflow, and the same
short event sequences must take SpiffWorkflow (run as ``bench/peer_spiffworkflow.py`` runs
it: serialized in SQLite, one message at a time and in one batch) and relevo
(``Hub.ingest``) to the same outcome. No timing here.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip(
    "SpiffWorkflow",
    reason="SpiffWorkflow is not installed (bench-only extra: pip install -e '.[bench]')",
)

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # a Monday
#: Far enough ahead that the BPMN window timer (which reads the real clock) never fires.
WINDOW = "2099-12-02T02:00:00+01:00"
LATER = "2099-12-09T02:00:00+01:00"


def _load_bench() -> ModuleType:
    # As when run as a script: its sibling helper modules import from bench/.
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))
    path = ROOT / "bench" / "peer_spiffworkflow.py"
    spec = importlib.util.spec_from_file_location("peer_spiffworkflow", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


peer = _load_bench()
LINE = peer.Line(1, "700000001", "SO-T00000001", "postpaid")
REF, REF2 = "10000000000000000000001", "20000000000000000000001"


def m(n: int, type_: str, **data: Any) -> Any:
    return peer.Msg("nc-gateway", f"t-{n}", type_, data)


def accepted(n: int, ref: str = REF, window: str = WINDOW) -> Any:
    return m(n, "nc.accepted", msisdn=LINE.msisdn, reference=ref, window=window)


COMPLETED = [
    accepted(1),
    m(2, "donor.confirmed", nc_reference=REF),
    m(3, "sim.shipped", crm_order_id=LINE.crm_order_id, tracking="PQ1ES"),
    m(4, "sim.delivered", crm_order_id=LINE.crm_order_id),
    m(5, "port.executed", nc_reference=REF),
]
CANCELLED = [
    accepted(1),
    m(2, "donor.confirmed", nc_reference=REF),
    m(3, "nc.cancelled", nc_reference=REF, cause="CANC_ABONA"),
]
RESUBMITTED = [
    accepted(1),
    m(2, "donor.rejected", nc_reference=REF, cause="RECH_IDENT"),
    m(3, "port.resubmitted", msisdn=LINE.msisdn, reference=REF2, window=LATER),
    m(4, "donor.confirmed", nc_reference=REF2),
]
NC_REJECTED = [
    m(1, "nc.rejected", msisdn=LINE.msisdn, code="CUPO1"),
    m(2, "port.resubmitted", msisdn=LINE.msisdn, reference=REF, window=WINDOW),
]
NORES_COMPLETED = [
    accepted(1),
    m(2, "donor.rejected", nc_reference=REF, cause="RECH_NORES"),
    m(3, "port.resubmitted", msisdn=LINE.msisdn, reference=REF2, window=LATER),
    m(4, "donor.confirmed", nc_reference=REF2),
    m(5, "sim.activated", msisdn=LINE.msisdn),
    m(6, "port.executed", nc_reference=REF2),
]

#: name -> (events, expected status, expected stage, nc_reference)
CASES = {
    "completed": (COMPLETED, "completed", "active", REF),
    "cancelled": (CANCELLED, "cancelled", "scheduled", REF),
    "rejected_and_resubmitted": (RESUBMITTED, "active", "scheduled", REF2),
    "nc_rejected_then_resubmitted": (NC_REJECTED, "active", "donor_check", REF),
    "no_answer_resubmitted_completed": (NORES_COMPLETED, "completed", "active", REF2),
}


def relevo_run(tmp_path: Path, events: list[Any]) -> Any:
    hub = peer.relevo_hub(tmp_path / "relevo.db", NOW)
    try:
        (pid,) = peer.relevo_start(hub, [LINE])
        results = hub.ingest(peer.inbound(events, NOW))
        assert [r.outcome.value for r in results] == ["accepted"] * len(events), results
        state = hub.processes.get(pid)
        assert state.definition_version == 1  # the version the BPMN model mirrors
        return state
    finally:
        hub.store.engine.dispose()


@pytest.fixture
def spiff(tmp_path: Path) -> Iterator[Any]:
    service = peer.SpiffService(tmp_path / "spiff.db", now=NOW)
    yield service
    service.close()


def test_the_bpmn_model_loads_and_waits_for_the_central_node() -> None:
    spec, subprocess_specs = peer.load_bpmn()
    assert spec.name == "mobile_port_in"
    assert "until_cutoff" in subprocess_specs
    workflow = peer.BpmnWorkflow(spec, subprocess_specs)
    workflow.do_engine_steps()
    assert not workflow.completed
    assert peer.spiff_view(workflow)["stage"] == "requested"
    waiting = {event.name for event in workflow.waiting_events()}
    assert "nc.cancelled" in waiting  # the boundary event, armed until the cut-off


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("mode", ["handle_each", "handle_batch"])
def test_both_engines_reach_the_same_outcome(
    case: str, mode: str, tmp_path: Path, spiff: Any
) -> None:
    events, status, stage, reference = CASES[case]
    state = relevo_run(tmp_path, events)
    (workflow_id,) = spiff.create([LINE])
    outcomes = getattr(spiff, mode)(events)
    assert outcomes == ["accepted"] * len(events)
    view = peer.spiff_view(spiff.load(workflow_id))

    assert (state.status, state.stage, state.keys.get("nc_reference")) == (
        status,
        stage,
        reference,
    )
    assert (view["status"], view["stage"], view["nc_reference"]) == (status, stage, reference)
    assert spiff.statuses()[workflow_id] == status


def test_an_open_donor_rejection_is_an_incident_on_both_sides(tmp_path: Path, spiff: Any) -> None:
    events = RESUBMITTED[:2]
    state = relevo_run(tmp_path, events)
    (workflow_id,) = spiff.create([LINE])
    spiff.handle_each(events)
    view = peer.spiff_view(spiff.load(workflow_id))
    assert state.stage == view["stage"] == "requested"
    assert "RECH_IDENT" in state.incidents
    assert view["incidents"] == ["RECH_IDENT"]


def test_late_messages_are_ignored_and_redeliveries_deduplicated(
    tmp_path: Path, spiff: Any
) -> None:
    late = [*COMPLETED, m(6, "sim.activated", msisdn=LINE.msisdn), COMPLETED[1]]
    hub = peer.relevo_hub(tmp_path / "relevo.db", NOW)
    try:
        peer.relevo_start(hub, [LINE])
        relevo = [r.outcome.value for r in hub.ingest(peer.inbound(late, NOW))]
    finally:
        hub.store.engine.dispose()
    spiff.create([LINE])
    assert spiff.handle_batch(late) == relevo == [*["accepted"] * 5, "ignored", "duplicate"]
