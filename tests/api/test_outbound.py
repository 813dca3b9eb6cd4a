"""The outbound routes: outbox listing and replay, subscriptions, a process's notification
attempts, /metrics and a stuck backlog on /readyz."""

from __future__ import annotations

from datetime import datetime

from relevo.bootstrap import build_worker
from relevo.config import Settings
from relevo.domain.model import iso
from relevo.services.delivery import Delivery, DeliveryOutcome, Envelope
from relevo.services.records import OutboxRow, WriteBatch

from .builders import Api


def notify(api: Api, process_id: str) -> None:
    """Write a notification request for ``process_id`` as ingest would."""
    at = iso(api.clock())
    row = OutboxRow(process_id, "notification.requested", {"template": "t"}, f"{process_id}:n", at)
    with api.hub.store.unit_of_work() as uow:
        uow.save(WriteBatch(outbox=[row], at=at))
        uow.commit()


class Notifier:
    """Says every notification was sent."""

    def deliver(self, envelope: Envelope, now: datetime) -> Delivery:
        return Delivery(DeliveryOutcome.SENT, "sent by sms", facts={"channel": "sms"})


def test_a_process_lists_its_notification_attempts_and_its_timeline_shows_them(api: Api) -> None:
    process_id = api.start()["id"]
    notify(api, process_id)
    build_worker(api.hub, Settings(), notifier=Notifier()).run_once()

    answer = api.client.get(
        f"/v1/processes/{process_id}/notifications", headers=api.headers("channel")
    )
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert items and {i["outcome"] for i in items} == {"sent"}
    assert items[0]["facts"] == {"channel": "sms"}
    timeline = api.client.get(f"/v1/processes/{process_id}/events", headers=api.headers("channel"))
    assert len(timeline.json()["deliveries"]) >= len(items)

    missing = api.client.get("/v1/processes/prc_nope/notifications", headers=api.headers("channel"))
    assert missing.status_code == 404


def test_the_agent_view_shows_notification_attempts_and_the_customer_view_does_not(
    api: Api,
) -> None:
    process_id = api.start()["id"]
    notify(api, process_id)
    build_worker(api.hub, Settings(), notifier=Notifier()).run_once()

    agent = api.client.get(
        f"/v1/processes/{process_id}", params={"role": "agent"}, headers=api.headers("channel")
    ).json()
    customer = api.client.get(f"/v1/processes/{process_id}", headers=api.headers("channel")).json()

    assert [a["outcome"] for a in agent["notifications"]] == ["sent"]
    assert agent["notifications"][0]["detail"] == "sent by sms"
    assert "notifications" not in customer


def test_the_outbox_is_listed_and_replayed_by_an_admin_only(api: Api) -> None:
    notify(api, api.start()["id"])
    listed = api.client.get(
        "/v1/outbox", params={"status": "pending"}, headers=api.headers("admin")
    )
    assert listed.status_code == 200
    first = listed.json()["items"][0]
    assert first["status"] == "pending" and first["message_id"]

    refused = api.client.post(f"/v1/outbox/{first['id']}/replay", headers=api.headers("admin"))
    assert refused.status_code == 409
    assert refused.json()["type"].endswith("outbox-message-pending")
    assert api.client.get("/v1/outbox", headers=api.headers("channel")).status_code == 403
    unknown = api.client.post("/v1/outbox/999999/replay", headers=api.headers("admin"))
    assert unknown.status_code == 404
    bad = api.client.get("/v1/outbox", params={"status": "lost"}, headers=api.headers("admin"))
    assert bad.status_code == 422


def test_subscriptions_show_their_secret_once_and_rotate(api: Api) -> None:
    admin = api.headers("admin")
    body = {"url": "https://backend.example/hooks", "event_types": ["port.completed"]}
    created = api.client.post("/v1/subscriptions", json=body, headers=admin)
    assert created.status_code == 201, created.text
    sub = created.json()
    assert sub["secret"].startswith("whsec_")

    listed = api.client.get("/v1/subscriptions", headers=admin).json()["items"]
    assert [s["id"] for s in listed] == [sub["id"]] and "secret" not in listed[0]
    rotated = api.client.post(
        f"/v1/subscriptions/{sub['id']}/rotate", json={"overlap_hours": 2}, headers=admin
    ).json()
    assert rotated["secret"] != sub["secret"] and rotated["previous_secret_until"]
    stopped = api.client.post(f"/v1/subscriptions/{sub['id']}/deactivate", headers=admin)
    assert stopped.json()["active"] is False

    for wrong in (
        {"url": "ftp://x", "event_types": ["a"]},
        {"url": "http://x", "event_types": [" "]},
    ):
        answer = api.client.post("/v1/subscriptions", json=wrong, headers=admin)
        assert answer.status_code == 422, answer.text
    assert api.client.post("/v1/subscriptions/sub_x/deactivate", headers=admin).status_code == 404
    assert (
        api.client.post("/v1/subscriptions", json=body, headers=api.headers("channel")).status_code
        == 403
    )


def test_metrics_and_a_stuck_backlog(api: Api) -> None:
    notify(api, api.start()["id"])
    metrics = api.client.get("/metrics")
    assert metrics.status_code == 200
    text = metrics.text
    assert "relevo_due_timer_lag_seconds" in text
    assert (
        'relevo_outbox_messages{channel="notification",state="pending",topic="notification.requested"}'
        in text
    )
    assert "relevo_delivery_attempts" in text

    assert api.client.get("/readyz").status_code == 200
    api.clock.advance(hours=2)  # nobody delivered the notifications for two hours
    stuck = api.client.get("/readyz")
    assert stuck.status_code == 503
    assert "Outbox backlog stuck" in stuck.json()["title"]
