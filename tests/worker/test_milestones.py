"""CRM milestone summaries derived from the log, once each, while a subscription wants them."""

from __future__ import annotations

from datetime import timedelta

from relevo.bootstrap import memory_hub
from relevo.services import outbox_admin, subscriptions
from relevo.services.hub import StartRequest
from relevo.services.milestones import CURSOR, MilestoneReader
from relevo.services.webhooks import SubscriptionCache

from .test_worker import Clock


def test_milestones_are_written_once_and_only_while_subscribed() -> None:
    clock = Clock()
    hub = memory_hub(clock=clock)
    cache = SubscriptionCache(hub.store, ttl=0)
    reader = MilestoneReader(hub.store, clock, cache)
    request = StartRequest(
        "mobile_port_in", "c-1", "612345678", {"crm_order_id": "O-1"}, {"modality": "postpaid"}
    )
    first = hub.start_process(request)["id"]
    clock.now += timedelta(seconds=10)
    assert reader() == 0  # nobody takes crm.milestone: the cursor moves on
    with hub.store.unit_of_work(read_only=True) as uow:
        assert uow.log_cursor(CURSOR) > 0

    subscriptions.create(hub.store, "http://crm.example/hook", ["crm.milestone"], clock)
    other = StartRequest(
        "mobile_port_in", "c-2", "612345679", {"crm_order_id": "O-2"}, {"modality": "postpaid"}
    )
    second = hub.start_process(other)["id"]
    assert reader() == 0  # too fresh: it may still have an earlier position committing
    clock.now += timedelta(seconds=10)
    written = reader()
    assert written >= 1 and reader() == 0

    crm = [e for e in outbox_admin.entries(hub.store) if e["topic"] == "crm.milestone"]
    assert {e["process_id"] for e in crm} == {second} != {first}
    assert crm[0]["payload"]["milestone"] == "started"
    assert len({e["message_id"] for e in crm}) == len(crm)
