"""POST /v1/events: every bad input gets a precise answer, nothing is lost or applied twice."""

from __future__ import annotations

from relevo.web.app import create_app

from .builders import SOURCE, Api, TestClient, accepted_by_nc, assert_problem, event

BATCH = {"Content-Type": "application/cloudevents-batch+json"}


def test_malformed_json_is_a_400_problem_and_a_dead_letter(api: Api) -> None:
    response = api.client.post(
        "/v1/events",
        content=b'{"specversion": "1.0", "id": "e-1", "source": ',
        headers={**api.headers("ingest"), "Content-Type": "application/cloudevents+json"},
    )

    body = assert_problem(response, 400, "malformed-json")
    assert "not valid JSON" in body["detail"]
    assert "dead letter" in body["detail"]
    [letter] = api.dead_letters()
    assert letter["reason"].startswith("the body is not valid JSON")
    assert '"id": "e-1"' in letter["payload"]["raw"]


def test_a_missing_cloudevents_attribute_is_named(api: Api) -> None:
    api.start()
    broken = accepted_by_nc()
    del broken["source"]

    response = api.send(broken)

    body = assert_problem(response, 400, "invalid-cloudevent")
    assert "missing required attribute 'source'" in body["detail"]
    [result] = body["results"]
    assert result["outcome"] == "rejected"
    assert result["reason_code"] == "invalid_cloudevent"
    assert body["counts"]["rejected"] == 1
    [letter] = api.dead_letters()
    assert letter["message_id"] == broken["id"]
    assert "'source'" in letter["reason"]


def test_every_problem_of_an_event_is_listed_at_once(api: Api) -> None:
    broken = event("nc.accepted", specversion="0.3", time="yesterday")
    broken["data"] = ["not", "an", "object"]
    del broken["id"]

    body = assert_problem(api.send(broken), 400, "invalid-cloudevent")

    detail = body["detail"]
    assert "specversion must be '1.0', not '0.3'" in detail
    assert "missing required attribute 'id'" in detail
    assert "data must be a JSON object, not an array" in detail
    assert "time 'yesterday' is not an RFC 3339 timestamp" in detail


def test_an_unknown_event_type_is_rejected_with_the_types_it_understands(api: Api) -> None:
    api.start()

    response = api.send(event("nc.teleported", {"msisdn": "612345678"}))

    body = assert_problem(response, 422, "event-rejected")
    [result] = body["results"]
    assert result["reason_code"] == "unknown_type"
    assert "nc.teleported" in result["reason"]
    assert "donor.confirmed" in result["reason"]
    assert len(api.dead_letters()) == 1


def test_an_unknown_correlation_key_is_kept_for_replay(api: Api) -> None:
    response = api.send(accepted_by_nc(msisdn="699999999"))

    body = assert_problem(response, 422, "event-rejected")
    [result] = body["results"]
    assert result["reason_code"] == "unknown_process"
    assert "msisdn='699999999'" in result["reason"]
    [letter] = api.dead_letters()
    assert letter["type"] == "nc.accepted"
    assert letter["source"] == SOURCE


def test_a_dead_letter_is_replayed_once_its_process_exists(api: Api) -> None:
    api.send(accepted_by_nc())
    [letter] = api.dead_letters()
    view = api.start()

    response = api.client.post(
        f"/v1/dead-letters/{letter['id']}/replay", headers=api.headers("admin")
    )

    assert response.status_code == 200, response.text
    assert response.json()["outcome"] == "accepted"
    assert response.json()["process_id"] == view["id"]
    assert api.dead_letters() == []
    assert api.view(view["id"])["stage"]["id"] == "donor_check"
    again = api.client.post(f"/v1/dead-letters/{letter['id']}/replay", headers=api.headers("admin"))
    assert_problem(again, 404, "not-found")


def test_an_event_for_a_finished_process_is_recorded_as_ignored(api: Api) -> None:
    view = api.start()
    assert api.act(view["id"], "cancel").status_code == 200

    response = api.send(accepted_by_nc())

    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["outcome"] == "ignored"
    assert result["reason_code"] == "process_finished"
    assert result["process_id"] == view["id"]
    assert api.view(view["id"])["status"] == "cancelled"


def test_a_resent_event_is_a_duplicate_and_changes_nothing(api: Api) -> None:
    view = api.start()
    first = accepted_by_nc()

    assert api.send(first).status_code == 202
    version = api.view(view["id"])["version"]
    response = api.send(first)

    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["outcome"] == "duplicate"
    assert result["reason_code"] == "duplicate"
    assert api.view(view["id"])["version"] == version


def test_an_event_addressed_by_process_id_in_subject(api: Api) -> None:
    view = api.start()
    message = event(
        "nc.accepted",
        {"reference": "NC-9", "window": "2025-03-05T02:00:00+01:00"},
        subject=view["id"],
    )

    response = api.send(message)

    assert response.status_code == 202, response.text
    assert response.json()["results"][0]["process_id"] == view["id"]
    assert response.json()["counts"] == {
        "accepted": 1,
        "duplicate": 0,
        "ignored": 0,
        "rejected": 0,
    }


def test_a_mixed_batch_applies_the_good_reports_the_bad_and_resends_safely(api: Api) -> None:
    view = api.start()
    missing_type = event("x")
    del missing_type["type"]
    batch = [
        accepted_by_nc(),
        missing_type,
        "not an event",
        event("donor.confirmed", {"msisdn": "612345678"}),
        accepted_by_nc(msisdn="699999999"),
        event("sim.shipped", {"msisdn": "612345678", "tracking": "TRK-1"}),
    ]

    response = api.client.post("/v1/events", json=batch, headers={**api.headers("ingest"), **BATCH})

    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["index"] for r in body["results"]] == [0, 1, 2, 3, 4, 5]
    assert [r["outcome"] for r in body["results"]] == [
        "accepted",
        "rejected",
        "rejected",
        "accepted",
        "rejected",
        "accepted",
    ]
    assert "missing required attribute 'type'" in body["results"][1]["reason"]
    assert "must be a JSON object, not a string" in body["results"][2]["reason"]
    assert body["results"][4]["reason_code"] == "unknown_process"
    assert body["counts"] == {"accepted": 3, "duplicate": 0, "ignored": 0, "rejected": 3}
    assert len(api.dead_letters()) == 3
    after_first = api.view(view["id"])
    assert after_first["stage"]["id"] == "scheduled"

    resent = api.client.post("/v1/events", json=batch, headers={**api.headers("ingest"), **BATCH})

    assert resent.status_code == 200
    outcomes = [r["outcome"] for r in resent.json()["results"]]
    assert outcomes == ["duplicate", "rejected", "rejected", "duplicate", "rejected", "duplicate"]
    assert api.view(view["id"])["version"] == after_first["version"]


def test_a_batch_of_thousands_is_answered_in_order(api: Api) -> None:
    for n in range(3):
        api.start(subject=f"61234567{n}", keys={"crm_order_id": f"ORD-{n}"})
    batch = [
        event("sim.delivered", {"msisdn": f"61234567{n % 3}"}, id=f"bulk-{n}") for n in range(2000)
    ]

    response = api.client.post("/v1/events", json=batch, headers={**api.headers("ingest"), **BATCH})

    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["id"] for r in results] == [f"bulk-{n}" for n in range(2000)]
    assert response.json()["counts"]["accepted"] == 2000


def test_a_batch_body_must_be_an_array(api: Api) -> None:
    response = api.client.post(
        "/v1/events", json=accepted_by_nc(), headers={**api.headers("ingest"), **BATCH}
    )

    body = assert_problem(response, 400, "not-a-batch")
    assert "JSON array" in body["detail"]
    assert len(api.dead_letters()) == 1


def test_other_media_types_are_refused_with_the_ones_accepted(api: Api) -> None:
    response = api.client.post(
        "/v1/events",
        content=b"specversion=1.0",
        headers={**api.headers("ingest"), "Content-Type": "text/plain"},
    )

    body = assert_problem(response, 415, "unsupported-media-type")
    assert "application/cloudevents+json" in body["detail"]
    assert "application/cloudevents-batch+json" in body["detail"]


def test_a_body_over_the_limit_is_refused(api: Api) -> None:
    small = TestClient(create_app(api.hub, max_events_body_bytes=1000))
    batch = [accepted_by_nc() for _ in range(20)]

    response = small.post("/v1/events", json=batch, headers={**api.headers("ingest"), **BATCH})

    body = assert_problem(response, 413, "body-too-large")
    assert "larger than 1000 bytes; split it into several batches" in body["detail"]
    assert api.dead_letters() == []
