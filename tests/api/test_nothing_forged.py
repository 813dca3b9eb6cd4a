"""Nothing forged: a back-end's key cannot fire timers, cannot claim an action's request id
beforehand, and cannot overwrite a message it already sent under the same id."""

from __future__ import annotations

from typing import Any

from .builders import Api, accepted_by_nc, assert_problem, event


def scheduled(api: Api) -> tuple[str, dict[str, str]]:
    """A mobile port-in the donor confirmed: scheduled, its window timer armed."""
    view = api.start()
    assert api.send(accepted_by_nc(), event("donor.confirmed", {"msisdn": "612345678"})).is_success
    state = api.hub.states([view["id"]])[view["id"]]
    assert state.stage == "scheduled"
    return view["id"], dict(state.timers)


def forged_timer(process_id: str, name: str, due: str, **attributes: Any) -> dict[str, Any]:
    return event("timer.fired", {"name": name, "due": due}, subject=process_id, **attributes)


def test_a_forged_timer_is_refused_and_kept_as_a_dead_letter(api: Api) -> None:
    pid, timers = scheduled(api)
    due = timers["timer:window_opens"]

    response = api.send(forged_timer(pid, "timer:window_opens", due, source="relevo.timers"))

    body = assert_problem(response, 422, "event-rejected")
    [result] = body["results"]
    assert result["reason_code"] == "reserved_namespace"
    assert "timers are fired by relevo's worker when due" in result["reason"]
    assert "back-ends cannot fire them" in body["detail"]
    state = api.hub.states([pid])[pid]
    assert (state.stage, state.timers) == ("scheduled", timers)
    [letter] = [d for d in api.dead_letters() if d["type"] == "timer.fired"]
    assert letter["reason"] == result["reason"]


def test_the_worker_fires_the_same_timer_when_it_falls_due(api: Api) -> None:
    pid, timers = scheduled(api)
    api.send(forged_timer(pid, "timer:window_opens", timers["timer:window_opens"]))

    assert api.hub.fire_due_timers().fired == 0  # nothing is due yet
    api.clock.advance(days=2)  # past the window
    fired = api.hub.fire_due_timers()

    # Two reminders, then the window, in due order.
    assert [r.id.split(":", 1)[1] for r in fired.results] == [
        f"{name}:{due}"
        for due, name in sorted((d, n) for n, d in timers.items() if d < "2025-03-06")
    ]
    assert fired.fired == 3
    assert api.hub.states([pid])[pid].stage == "porting"


def test_relevos_own_types_and_sources_are_refused_in_a_batch(api: Api) -> None:
    pid, _ = scheduled(api)
    refused = [
        event("relevo.process.start", {"kind": "mobile_port_in"}),
        event("Timer.Fired", {"name": "x", "due": "2025-03-03T09:00:00Z"}, subject=pid),
        event("donor.confirmed", {"msisdn": "612345678"}, source="relevo.timers"),
        event("donor.confirmed", {"msisdn": "612345678"}, source="action:customer:cust-1"),
    ]

    response = api.send(*refused)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["rejected"] * 4
    assert {r["reason_code"] for r in results} == {"reserved_namespace"}
    assert "types starting 'relevo.' or 'timer.'" in results[0]["reason"]
    assert "sources starting 'relevo' or 'action:'" in results[3]["reason"]
    assert len(api.dead_letters()) == 4


def test_a_back_end_cannot_claim_an_actions_request_id_beforehand(api: Api) -> None:
    view = api.start()
    actor = "customer:cust-1"
    claim = event("nc.accepted", {"msisdn": "612345678"}, source=f"action:{actor}", id="req-7")

    response = api.send(claim)

    assert assert_problem(response, 422, "event-rejected")["results"][0]["reason_code"] == (
        "reserved_namespace"
    )
    cancelled = api.act(view["id"], "cancel", actor=actor, request_id="req-7")
    assert cancelled.status_code == 200, cancelled.text
    assert api.view(view["id"])["status"] == "cancelled"


def test_a_resent_id_with_another_payload_is_a_conflicting_duplicate(api: Api) -> None:
    view = api.start()
    first = accepted_by_nc(reference="NC-1")
    assert api.send(first).status_code == 202
    version = api.view(view["id"])["version"]
    changed = {**first, "data": {**first["data"], "reference": "NC-2"}}

    response = api.send(changed)

    assert response.status_code == 200
    [result] = response.json()["results"]
    assert (result["outcome"], result["reason_code"]) == ("duplicate", "conflicting_duplicate")
    assert "the content received first was kept" in result["reason"]
    assert api.view(view["id"])["version"] == version
    state = api.hub.states([view["id"]])[view["id"]]
    assert state.keys["nc_reference"] == "NC-1"
    [letter] = api.dead_letters()
    assert (letter["message_id"], letter["reason"]) == (first["id"], result["reason"])
    assert letter["payload"]["data"]["reference"] == "NC-2"
    # The same content again is a plain duplicate, and keeps nothing more.
    again = api.send(first).json()["results"][0]
    assert (again["outcome"], again["reason_code"]) == ("duplicate", "duplicate")
    assert len(api.dead_letters()) == 1
