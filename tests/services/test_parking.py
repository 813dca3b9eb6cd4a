"""Early messages through ingest, on every store: parked, applied when their stage comes,
shown waiting on the timeline and the agent view, and kept as a dead letter on expiry."""

from __future__ import annotations

from datetime import timedelta

import pytest

from relevo.domain import engine
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub, Inbound
from relevo.services.unit_of_work import Store

from .test_ingest import MONDAY, WINDOW, Clock, msg, start

CATALOG = Catalog.load()


@pytest.fixture
def moments() -> Clock:
    return Clock(MONDAY)


@pytest.fixture
def parking_hub(any_store: Store, moments: Clock) -> Hub:
    """A hub whose messages wait a day for their stage."""
    return Hub(any_store, CATALOG, moments, park_ttl=timedelta(hours=24))


def outcomes(hub: Hub, items: list[Inbound]) -> list[tuple[str, str | None]]:
    return [(r.outcome.value, r.reason_code) for r in hub.ingest(items)]


def parked_rows(hub: Hub, pid: str) -> list[dict[str, object]]:
    return [e for e in hub.timeline(pid)["events"] if e["type"] == engine.PARKED]


def test_a_confirmation_before_the_acceptance_waits_then_applies(parking_hub: Hub) -> None:
    pid = start(parking_hub)
    early = msg("m1", "donor.confirmed", msisdn="612345678")
    assert outcomes(parking_hub, [early]) == [("accepted", "parked")]
    assert parking_hub.view(pid, "en")["stage"]["id"] == "requested"
    (row,) = parked_rows(parking_hub, pid)
    assert row["parked_status"] == "waiting"
    waiting = parking_hub.view(pid, "en", "agent")["history"][0]
    assert (waiting["kind"], waiting["ref"]) == ("waiting", "donor.confirmed")
    assert all(r["kind"] != "waiting" for r in parking_hub.view(pid, "en")["history"])

    accepted = msg("m2", "nc.accepted", msisdn="612345678", reference="R1", window=WINDOW)
    assert outcomes(parking_hub, [accepted]) == [("accepted", None)]
    assert parking_hub.view(pid, "en")["stage"]["id"] == "scheduled"
    (row,) = parked_rows(parking_hub, pid)
    assert row["parked_status"] == "released"
    last = parking_hub.timeline(pid)["events"][-1]
    assert (last["type"], last["source"], last["message_id"]) == (
        "donor.confirmed",
        "nc-gateway",
        "m1",
    )
    assert parking_hub.timeline(pid)["chain_valid"] is True
    assert parking_hub.rebuild()["differences"] == []


def test_both_in_one_batch_apply_in_the_same_transaction(parking_hub: Hub) -> None:
    pid = start(parking_hub)
    batch = [
        msg("m1", "donor.confirmed", msisdn="612345678"),
        msg("m2", "nc.accepted", msisdn="612345678", reference="R1", window=WINDOW),
    ]
    assert outcomes(parking_hub, batch) == [("accepted", "parked"), ("accepted", None)]
    assert parking_hub.view(pid, "en")["stage"]["id"] == "scheduled"
    assert parking_hub.states([pid])[pid].parked == []


def test_an_expired_message_becomes_a_dead_letter_with_the_reason(
    parking_hub: Hub, moments: Clock
) -> None:
    pid = start(parking_hub)
    assert outcomes(parking_hub, [msg("m1", "donor.confirmed", msisdn="612345678")]) == [
        ("accepted", "parked")
    ]
    (name, due) = next(
        (n, d) for n, d in parking_hub.states([pid])[pid].timers.items() if n.startswith("park:")
    )
    assert due == (MONDAY + timedelta(hours=24)).isoformat()
    moments.now = MONDAY + timedelta(hours=25)
    fired = Inbound(
        "relevo.timers",
        f"{pid}:{name}:{due}",
        engine.TIMER_FIRED,
        {"name": name, "due": due},
        moments.now,
        subject=pid,
        channel="timer",
    )
    # A timer is fired by relevo itself (the trusted path the worker uses), never by ingest.
    assert outcomes(parking_hub, [fired]) == [("rejected", "reserved_namespace")]
    (result,) = parking_hub.ingestor.ingest([fired], trusted=True)
    assert (result.outcome.value, result.reason_code) == ("accepted", None)
    state = parking_hub.states([pid])[pid]
    assert (state.stage, state.parked) == ("requested", [])
    assert not any(n.startswith("park:") for n in state.timers)
    forged, letter = parking_hub.dead_letters()
    assert "timers are fired by relevo's worker when due" in str(forged["reason"])
    assert (letter["source"], letter["message_id"], letter["type"]) == (
        "nc-gateway",
        "m1",
        "donor.confirmed",
    )
    assert str(letter["reason"]).startswith(
        "park_expired: the process did not reach a stage that accepts it before "
    )
    assert letter["payload"]["subject"] == pid

    replayed = parking_hub.replay_dead_letter(int(letter["id"]))

    assert (replayed.outcome.value, replayed.reason_code) == ("duplicate", "expired_while_waiting")
    assert "new id" in str(replayed.reason)
    still = {int(d["id"]): d["status"] for d in parking_hub.dead_letters()}
    assert still[int(letter["id"])] == "open"  # nothing applied, so not marked replayed
    assert parked_rows(parking_hub, pid)[0]["parked_status"] == "released"
    assert parking_hub.rebuild()["differences"] == []
