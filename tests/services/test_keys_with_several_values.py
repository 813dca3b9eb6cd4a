"""A correlation key with several values, through the hub and the store (SQLite, PostgreSQL
and in memory): a message naming any of the values reaches the process, each value is held
by one active process of a kind, and all of them are free again once the process ends."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from relevo.services.catalog import Catalog
from relevo.services.hub import Hub, Inbound, KeyInUse, StartRequest
from relevo.services.unit_of_work import Store

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "definitions"
MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WINDOW = "2026-12-09"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load(FIXTURES)


@pytest.fixture
def hub(any_store: Store, catalog: Catalog) -> Hub:
    return Hub(any_store, catalog, lambda: MONDAY)


def start(hub: Hub, subject: str, keys: dict[str, str | list[str]]) -> str:
    view = hub.start_process(
        StartRequest(
            kind="two_line_port",
            customer_id="cus_1",
            subject=subject,
            keys=keys,
            attributes={"modality": "postpaid"},
            channel="web",
            actor="customer:cus_1",
        )
    )
    return str(view["id"])


def msg(message_id: str, type_: str, **data: object) -> Inbound:
    return Inbound("nc-gateway", message_id, type_, dict(data), MONDAY)


def test_a_message_naming_any_value_reaches_the_process(hub: Hub) -> None:
    pid = start(hub, "612345678", {"msisdn": ["698765432"]})
    assert hub.view(pid, "es")["keys"]["msisdn"] == ["612345678", "698765432"]

    [result] = hub.ingest(
        [msg("a", "nc.accepted", msisdn="698765432", reference="R1", window=WINDOW)]
    )
    assert (result.process_id, result.outcome.value) == (pid, "accepted")

    # Values added by an event route the messages after it, in the same batch and later.
    results = hub.ingest(
        [
            msg("b", "line.added", nc_reference="R1", msisdns=["711111111", "722222222"]),
            msg("c", "donor.confirmed", msisdn="722222222"),
        ]
    )
    assert [r.process_id for r in results] == [pid, pid]
    assert hub.view(pid, "es")["stage"]["id"] == "scheduled"
    # A search by any of the values finds it.
    assert [row["id"] for row in hub.find(key=("msisdn", "711111111"))] == [pid]
    # A message may name several values in a list.
    [listed] = hub.ingest([msg("d", "sim.delivered", msisdn=["799999999", "711111111"])])
    assert listed.process_id == pid


def test_each_value_is_held_by_one_active_process(hub: Hub) -> None:
    pid = start(hub, "612345678", {"msisdn": ["698765432"]})
    with pytest.raises(KeyInUse, match=pid):
        start(hub, "698765432", {})
    other = start(hub, "655555555", {})
    [taken] = hub.ingest([msg("x", "line.added", msisdn="655555555", msisdns=["698765432"])])
    assert taken.reason_code == "key_in_use"
    assert pid in (taken.reason or "")
    assert hub.view(other, "es")["keys"]["msisdn"] == "655555555"


def test_every_value_is_free_again_once_the_process_ends(hub: Hub) -> None:
    pid = start(hub, "612345678", {"msisdn": ["698765432"]})
    hub.ingest([msg("a", "nc.accepted", msisdn="612345678", reference="R1", window=WINDOW)])
    hub.ingest([msg("b", "nc.cancelled", msisdn="698765432", cause="customer")])
    assert hub.view(pid, "es")["status"] == "cancelled"
    assert start(hub, "698765432", {}) != pid
