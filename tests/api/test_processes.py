"""Processes through the API: start, read, search, act, timeline."""

from __future__ import annotations

import sqlalchemy as sa

from .builders import Api, accepted_by_nc, assert_problem, event


def test_mobile_port_in_happy_path_in_spanish_and_english(api: Api) -> None:
    started = api.start()
    process_id = started["id"]
    assert started["status"] == "active"
    assert started["stage"]["id"] == "requested"
    assert started["headline"].startswith("Hemos recibido tu solicitud.")
    assert started["keys"] == {"msisdn": "612345678", "crm_order_id": "ORD-1"}

    assert api.send(accepted_by_nc()).status_code == 202
    checking = api.view(process_id, "en")
    assert checking["stage"]["id"] == "donor_check"
    assert checking["headline"].startswith("Your current provider is checking your details.")
    assert checking["keys"]["nc_reference"] == "NC-0001"

    assert api.send(event("donor.confirmed", {"msisdn": "612345678"})).status_code == 202
    scheduled_es = api.view(process_id, "es")
    scheduled_en = api.view(process_id, "en")
    assert scheduled_es["stage"]["id"] == "scheduled"
    assert scheduled_es["headline"].startswith("Tu número pasa a nosotros el ")
    assert "entre las 02:00 y las 06:00" in scheduled_es["headline"]
    assert scheduled_en["headline"].startswith("Your number moves to us on ")
    assert scheduled_es["headline_date"] == scheduled_en["headline_date"]

    assert api.send(event("port.executed", {"msisdn": "612345678"})).status_code == 202
    done_es = api.view(process_id, "es")
    done_en = api.view(process_id, "en")
    # mobile_port_in v2: the number works with us; the process stays open for the way back
    # during the withdrawal period.
    assert (done_es["status"], done_es["stage"]["id"]) == ("active", "active")
    assert done_es["headline"] == "Tu número ya funciona con nosotros."
    assert done_en["headline"] == "Your number now works with us."
    assert done_en["language"] == "en"


def test_start_answers_201_with_location_and_the_view(api: Api) -> None:
    response = api.client.post(
        "/v1/processes",
        json={
            "kind": "mobile_port_in",
            "customer_id": "cust-9",
            "subject": "712345678",
            "attributes": {"modality": "prepaid"},
            "language": "en",
        },
        headers=api.headers("channel"),
    )

    assert response.status_code == 201, response.text
    view = response.json()
    assert response.headers["location"] == f"/v1/processes/{view['id']}"
    assert view["language"] == "en"
    assert view["headline"].startswith("We have your request.")


def test_start_with_invalid_inputs_names_each_one(api: Api) -> None:
    response = api.client.post(
        "/v1/processes",
        json={
            "kind": "mobile_port_in",
            "customer_id": "cust-1",
            "subject": "912345678",
            "attributes": {},
        },
        headers=api.headers("channel"),
    )

    body = assert_problem(response, 422, "invalid-start")
    assert "subject '912345678' is not a valid mobile number" in body["detail"]
    assert "attribute 'modality' is required" in body["detail"]


def test_start_of_an_unknown_kind_lists_the_known_ones(api: Api) -> None:
    response = api.client.post(
        "/v1/processes",
        json={"kind": "teleport", "customer_id": "c", "subject": "x"},
        headers=api.headers("channel"),
    )

    body = assert_problem(response, 422, "unknown-kind")
    assert "mobile_port_in" in body["detail"]


def test_a_key_held_by_an_active_process_cannot_start_another(api: Api) -> None:
    first = api.start()

    response = api.client.post(
        "/v1/processes",
        json={
            "kind": "mobile_port_in",
            "customer_id": "cust-2",
            "subject": "612345678",
            "attributes": {"modality": "prepaid"},
        },
        headers=api.headers("channel"),
    )

    body = assert_problem(response, 409, "key-in-use")
    assert first["id"] in body["detail"]


def test_request_fields_are_validated_with_every_error_listed(api: Api) -> None:
    response = api.client.post(
        "/v1/processes",
        json={"kind": "mobile_port_in", "language": "fr", "colour": "red"},
        headers=api.headers("channel"),
    )

    body = assert_problem(response, 422, "invalid-request")
    locations = {error["location"] for error in body["errors"]}
    assert {"body.customer_id", "body.subject", "body.language", "body.colour"} <= locations


def test_an_unknown_process_is_a_404_problem(api: Api) -> None:
    response = api.client.get("/v1/processes/prc_nope", headers=api.headers("channel"))

    body = assert_problem(response, 404, "not-found")
    assert body["detail"] == (
        "no process with id 'prc_nope'; check the id, or search by customer or correlation "
        "key to find the process"
    )


def test_search_by_customer_key_and_status(api: Api) -> None:
    first = api.start()
    api.start(customer_id="cust-2", subject="622222222", keys={"crm_order_id": "ORD-2"})

    def ids(**params: str) -> list[str]:
        response = api.client.get("/v1/processes", params=params, headers=api.headers("channel"))
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert ids(customer="cust-1") == [first["id"]]
    assert ids(key="crm_order_id:ORD-1") == [first["id"]]
    assert ids(key="msisdn:612345678", status="active") == [first["id"]]
    assert ids(status="completed") == []
    assert len(ids(kind="mobile_port_in")) == 2
    bad = api.client.get("/v1/processes", params={"key": "ORD-1"}, headers=api.headers("channel"))
    assert "name:value" in assert_problem(bad, 422, "invalid-request")["detail"]


def test_an_action_answers_the_new_view(api: Api) -> None:
    view = api.start()

    response = api.act(view["id"], "cancel", lang="en", actor="agent-7", role="agent")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["headline"] == "Your number is with the provider it had before."


def test_a_control_outside_its_window_is_refused_in_the_asked_language(api: Api) -> None:
    view = api.start()
    api.send(accepted_by_nc())
    # cancel_until is 14:00 (Madrid) of the working day before the Wednesday window.
    api.clock.advance(days=1, hours=6)

    spanish = api.act(view["id"], "cancel", lang="es")
    english = api.act(view["id"], "cancel", lang="en")

    es = assert_problem(spanish, 409, "refused")["refusal"]
    en = assert_problem(english, 409, "refused")["refusal"]
    assert es["code"] == en["code"] == "cutoff_passed"
    assert es["until"] == en["until"] == "2025-03-04T13:00:00+00:00"
    assert es["reason"] != en["reason"]
    assert "14:00" in es["reason"] and "14:00" in en["reason"]
    assert en["instead"].startswith("It can no longer be cancelled")
    assert api.view(view["id"])["status"] == "active"


def test_a_date_outside_the_bounds_is_refused_with_the_bound(api: Api) -> None:
    view = api.start()

    too_late = api.act(view["id"], "postpone", lang="en", params={"new_date": "2025-06-02"})
    weekend = api.act(view["id"], "postpone", lang="es", params={"new_date": "2025-03-08"})

    late = assert_problem(too_late, 422, "invalid-params")["refusal"]
    assert late["code"] == "invalid_params"
    [problem] = late["problems"]
    assert problem["field"] == "new_date"
    assert problem["code"] == "too_late"
    assert "2 April" in problem["message"]
    [problem] = assert_problem(weekend, 422, "invalid-params")["refusal"]["problems"]
    assert problem["code"] == "weekend"


def test_a_valid_postponement_moves_the_window(api: Api) -> None:
    view = api.start()

    response = api.act(view["id"], "postpone", params={"new_date": "2025-03-12"})

    assert response.status_code == 200, response.text
    window = next(d for d in response.json()["dates"] if d["id"] == "switch_window")
    assert window["at"].startswith("2025-03-12")


def test_an_unknown_control_lists_the_controls(api: Api) -> None:
    view = api.start()

    response = api.act(view["id"], "teleport")

    body = assert_problem(response, 404, "unknown-control")
    assert "'teleport'" in body["detail"]
    assert "cancel" in body["detail"] and "postpone" in body["detail"]


def test_timeline_verifies_the_hash_chain_and_spots_tampering(api: Api) -> None:
    view = api.start()
    api.send(accepted_by_nc())
    api.send(event("donor.confirmed", {"msisdn": "612345678"}))

    intact = api.client.get(f"/v1/processes/{view['id']}/events", headers=api.headers("channel"))

    assert intact.status_code == 200, intact.text
    timeline = intact.json()
    assert timeline["chain_valid"] is True
    assert timeline["broken_at_version"] is None
    assert [e["type"] for e in timeline["events"]] == [
        "process.started",
        "nc.accepted",
        "donor.confirmed",
    ]
    assert timeline["events"][1]["prev_hash"] == timeline["events"][0]["hash"]

    with api.hub.store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "UPDATE events SET actor = 'someone-else' WHERE process_id = :p AND version = 2"
            ),
            {"p": view["id"]},
        )
    tampered = api.client.get(
        f"/v1/processes/{view['id']}/events", headers=api.headers("channel")
    ).json()
    assert tampered["chain_valid"] is False
    assert tampered["broken_at_version"] == 2
