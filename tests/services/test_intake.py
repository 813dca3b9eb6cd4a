"""Intake: items refused at the edge are written in the same transaction as their batch, so
an answer and the store never disagree (every store, and the streamed path on SQL)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import pytest

from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import memory_hub
from relevo.services import intake
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub, StartRequest
from relevo.services.unit_of_work import Store, UnitOfWork

MONDAY = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
WINDOW = "2026-12-02T02:00:00+01:00"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def _start(hub: Hub, msisdn: str) -> str:
    view = hub.start_process(
        StartRequest(
            kind="mobile_port_in",
            customer_id="cus_1",
            subject=msisdn,
            attributes={"modality": "postpaid"},
        )
    )
    return str(view["id"])


def _event(message_id: str, msisdn: str) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": message_id,
        "source": "nc-gateway",
        "type": "nc.accepted",
        "time": "2026-11-30T08:00:00Z",
        "data": {"msisdn": msisdn, "reference": f"R-{message_id}", "window": WINDOW},
    }


def _invalid(message_id: str) -> dict[str, Any]:
    return {"specversion": "1.0", "id": message_id, "source": "nc-gateway"}  # no type


class _CommitFails:
    """A store whose commits fail, as a lost connection would, after the first ``allowed``
    ones."""

    def __init__(self, store: Store, allowed: int = 0) -> None:
        self._store = store
        self.allowed = allowed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def unit_of_work(self, *, read_only: bool = False) -> _FailingUnitOfWork:
        return _FailingUnitOfWork(self._store.unit_of_work(read_only=read_only), self)


class _FailingUnitOfWork:
    def __init__(self, uow: UnitOfWork, store: _CommitFails) -> None:
        self._uow = uow
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._uow, name)

    def __enter__(self) -> _FailingUnitOfWork:
        self._uow.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._uow.__exit__(exc_type, exc, tb)

    def commit(self) -> None:
        if self._store.allowed <= 0:
            raise OSError("the connection dropped at commit")
        self._store.allowed -= 1
        self._uow.commit()


def test_a_refused_item_is_kept_with_its_batch(any_store: Store, catalog: Catalog) -> None:
    hub = Hub(any_store, catalog, lambda: MONDAY)
    pid = _start(hub, "612345678")

    results = hub.receive([_invalid("bad-1"), _event("good-1", "612345678")])

    assert [(r.index, r.outcome.value, r.reason_code) for r in results] == [
        (0, "rejected", "invalid_cloudevent"),
        (1, "accepted", None),
    ]
    assert [letter["message_id"] for letter in hub.dead_letters()] == ["bad-1"]
    assert len(hub.timeline(pid)["events"]) == 2


def test_a_failed_commit_keeps_neither_the_dead_letter_nor_the_event(
    any_store: Store, catalog: Catalog
) -> None:
    hub = Hub(any_store, catalog, lambda: MONDAY)
    pid = _start(hub, "612345678")
    failing = Hub(_CommitFails(any_store), catalog, lambda: MONDAY)  # type: ignore[arg-type]

    with pytest.raises(OSError, match="dropped at commit"):
        failing.receive([_invalid("bad-1"), _event("good-1", "612345678")])

    assert hub.dead_letters(status=None) == []
    assert len(hub.timeline(pid)["events"]) == 1


def test_the_refused_items_and_the_events_take_one_commit(
    any_store: Store, catalog: Catalog
) -> None:
    hub = Hub(any_store, catalog, lambda: MONDAY)
    pid = _start(hub, "612345678")
    one_commit = Hub(_CommitFails(any_store, allowed=1), catalog, lambda: MONDAY)  # type: ignore[arg-type]

    results = one_commit.receive([_invalid("bad-1"), _event("good-1", "612345678")])

    assert [r.outcome.value for r in results] == ["rejected", "accepted"]
    assert [letter["message_id"] for letter in hub.dead_letters()] == ["bad-1"]
    assert len(hub.timeline(pid)["events"]) == 2


def test_a_batch_of_refused_items_only_is_still_kept(catalog: Catalog) -> None:
    hub = memory_hub(catalog=catalog, clock=lambda: MONDAY)
    results = hub.receive([_invalid("bad-1"), intake.Unreadable("{", "line 2 is not JSON")])
    assert [r.reason_code for r in results] == ["invalid_cloudevent", "malformed_json"]
    letters = hub.dead_letters()
    assert [(d["source"], d["message_id"], d["payload"]) for d in letters] == [
        ("nc-gateway", "bad-1", _invalid("bad-1")),
        ("unknown", None, {"raw": "{"}),
    ]


def test_a_streamed_batch_writes_its_refused_items_with_it(
    store: SqlStore, catalog: Catalog
) -> None:
    hub = Hub(store, catalog, lambda: MONDAY, stream_writer="thread")
    numbers = [f"61234567{n}" for n in range(3)]
    for number in numbers:
        _start(hub, number)
    screened = [
        intake.screen([_invalid(f"bad-{n}"), _event(f"good-{n}", number)], hub.clock)
        for n, number in enumerate(numbers)
    ]

    answers = [
        batch.complete(results)
        for batch, results in zip(
            screened, hub.ingest_stream(s.batch for s in screened), strict=True
        )
    ]

    assert [[r.outcome.value for r in answer] for answer in answers] == [
        ["rejected", "accepted"]
    ] * 3
    assert [d["message_id"] for d in hub.dead_letters()] == ["bad-0", "bad-1", "bad-2"]
