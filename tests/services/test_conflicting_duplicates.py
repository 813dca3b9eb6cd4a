"""The same message id with a different content: the first is kept, the second answered
as a conflicting duplicate and kept as a dead letter; nothing of it is applied."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from relevo.adapters.db.store import SqlStore
from relevo.domain.model import Outcome
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub, Inbound, IngestResult, StartRequest
from relevo.services.inbound import content_digest
from relevo.services.records import InboxRow, WriteBatch
from relevo.services.unit_of_work import Store

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WINDOW = "2026-12-02T02:00:00+01:00"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture
def hub(any_store: Store, catalog: Catalog) -> Hub:
    return Hub(any_store, catalog, lambda: MONDAY)


def started(hub: Hub, n: int = 1) -> str:
    view = hub.start_process(
        StartRequest(
            kind="mobile_port_in",
            customer_id=f"cus_{n}",
            subject=f"61234567{n}",
            keys={"crm_order_id": f"O-{n}"},
            attributes={"modality": "postpaid"},
        )
    )
    return str(view["id"])


def accepted(reference: str, n: int = 1, id_: str = "m-1") -> Inbound:
    data = {"msisdn": f"61234567{n}", "reference": reference, "window": WINDOW}
    return Inbound("nc", id_, "nc.accepted", data, MONDAY)


def outcomes(results: list[IngestResult]) -> list[tuple[str, str | None]]:
    return [(r.outcome.value, r.reason_code) for r in results]


def test_a_different_content_under_a_received_id_is_kept_for_inspection(hub: Hub) -> None:
    pid = started(hub)
    assert hub.ingest([accepted("NC-1")])[0].outcome is Outcome.ACCEPTED
    version = hub.states([pid])[pid].version

    [result] = hub.ingest([accepted("NC-2")])

    assert (result.outcome, result.reason_code) == (Outcome.DUPLICATE, "conflicting_duplicate")
    assert "the content received first was kept" in (result.reason or "")
    state = hub.states([pid])[pid]
    assert (state.version, state.keys["nc_reference"]) == (version, "NC-1")
    [letter] = hub.dead_letters()
    assert (letter["message_id"], letter["reason"]) == ("m-1", result.reason)
    assert letter["payload"]["data"]["reference"] == "NC-2"


def test_the_same_content_is_a_plain_duplicate(hub: Hub) -> None:
    started(hub)
    data = {"msisdn": "612345671", "reference": "NC-1", "window": WINDOW}
    first = {
        "specversion": "1.0",
        "id": "m-1",
        "source": "nc",
        "type": "nc.accepted",
        "time": "2026-11-30T10:00:00+01:00",
        "datacontenttype": "application/json",
        "data": data,
    }
    # The wrapper may differ: no content type, the same instant in another offset.
    again = {key: value for key, value in first.items() if key != "datacontenttype"}
    again["time"] = "2026-11-30T09:00:00Z"

    assert outcomes(hub.receive([first])) == [("accepted", None)]
    assert outcomes(hub.receive([again])) == [("duplicate", "duplicate")]
    assert hub.dead_letters() == []


def test_conflicting_duplicates_within_one_batch(hub: Hub) -> None:
    started(hub)

    results = hub.ingest([accepted("NC-1"), accepted("NC-2"), accepted("NC-1")])

    assert outcomes(results) == [
        ("accepted", None),
        ("duplicate", "conflicting_duplicate"),
        ("duplicate", "duplicate"),
    ]
    assert len(hub.dead_letters()) == 1


def test_a_cloudevent_without_time_resent_is_a_plain_duplicate(hub: Hub) -> None:
    started(hub)
    event = {
        "specversion": "1.0",
        "id": "no-time",
        "source": "nc",
        "type": "nc.accepted",
        "data": {"msisdn": "612345671", "reference": "NC-1", "window": WINDOW},
    }
    assert outcomes(hub.receive([event])) == [("accepted", None)]
    # Timed on arrival each time, yet the same message.
    hub.clock = lambda: MONDAY + timedelta(minutes=5)
    hub.ingestor.clock = hub.clock

    assert outcomes(hub.receive([event])) == [("duplicate", "duplicate")]


def test_a_message_received_before_digests_were_kept_is_a_plain_duplicate(
    any_store: Store, hub: Hub
) -> None:
    started(hub)
    with any_store.unit_of_work() as uow:
        uow.save(WriteBatch(inbox=[InboxRow("nc", "m-1", None, "accepted", None)]))
        uow.commit()

    assert outcomes(hub.ingest([accepted("NC-9")])) == [("duplicate", "duplicate")]


def test_replaying_a_conflicting_duplicate_closes_it_without_a_copy(hub: Hub) -> None:
    started(hub)
    hub.ingest([accepted("NC-1")])
    hub.receive([{"specversion": "1.0", "id": "m-1", "source": "nc", "type": "nc.accepted"}])
    [letter] = hub.dead_letters()

    result = hub.replay_dead_letter(letter["id"])

    assert (result.outcome, result.reason_code) == (Outcome.DUPLICATE, "conflicting_duplicate")
    assert hub.dead_letters() == []
    assert len(hub.dead_letters(status=None)) == 1


def test_a_stream_tells_conflicting_duplicates_across_batches(
    store: SqlStore, catalog: Catalog
) -> None:
    hub = Hub(store, catalog, lambda: MONDAY, stream_writer="thread")
    for n in range(1, 5):
        started(hub, n)
    batches = [
        [accepted(f"NC-{n}", n, f"m-{n}") for n in (1, 2)],
        [accepted(f"NC-{n}", n, f"m-{n}") for n in (3, 4)],
        [accepted("NC-X", 1, "m-1"), accepted("NC-2", 2, "m-2")],
        [accepted("NC-Y", 3, "m-3"), accepted("NC-4", 4, "m-4")],
    ]

    results = [outcomes(batch) for batch in hub.ingest_stream(batches)]

    assert results[2:] == [[("duplicate", "conflicting_duplicate"), ("duplicate", "duplicate")]] * 2
    assert [d["message_id"] for d in hub.dead_letters()] == ["m-1", "m-3"]


def test_the_digest_ignores_the_transport_and_sees_the_content() -> None:
    first = accepted("NC-1")
    assert content_digest(first) == content_digest(dataclasses.replace(first, id="other"))
    assert content_digest(first) == content_digest(dataclasses.replace(first, source="x"))
    for change in (
        {"type": "nc.rejected"},
        {"subject": "prc_1"},
        {"occurred_at": MONDAY + timedelta(seconds=1)},
        {"data": {**first.data, "reference": "NC-2"}},
        {"actor": "someone"},
        {"channel": "web"},
    ):
        assert content_digest(first) != content_digest(dataclasses.replace(first, **change))
