"""Spanish mobile number port-in (``mobile_port_in`` v2, the version new processes start on)
through the pure engine. The SIM is handed over in a shop unless a test says otherwise (the
undelivered-SIM watch is in ``test_mobile_port_in_v2``).

Every scenario runs on a fixed clock: the request is made on a known Madrid day, messages
arrive at known moments, and due timers fire in order as the clock moves. Each scenario ends
by folding the recorded log from the start and comparing it with the live state.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain import controls, engine, view
from relevo.domain.errors import ActionRefused, InvalidStart, UnknownControl
from relevo.domain.model import Message, Outcome, parse_iso

from .helpers import (
    CANARY,
    Run,
    accepted,
    allowed_controls,
    assert_incident_view,
    load,
    madrid,
    problem_codes,
    refusal,
    run_outbox_topics,
    run_templates,
)

C = load("mobile_port_in.v2.yaml")
D = C.definition
REFERENCE = "21400000000000000000001"

DONOR_CODES = ["RECH_IDENT", "RECH_ICCID", "RECH_BNUME", "RECH_PERDI", "RECH_FMAYO", "RECH_NORES"]
NC_CODES = ["ENUME", "EXIST", "FORMA", "CUPO1", "FMAYO"]

MONDAY = madrid(2026, 11, 30, 10, 0)


# -- drivers -----------------------------------------------------------------------------


def requested(at: datetime = MONDAY, **kwargs: Any) -> Run:
    kwargs.setdefault("attributes", {"modality": "postpaid", "sales_channel": "store"})
    return Run.start(C, at, **kwargs)


def in_donor_check(at: datetime = MONDAY, window: str = "2026-12-02", **kwargs: Any) -> Run:
    run = requested(at, **kwargs)
    accepted(run.send("nc.accepted", {"reference": REFERENCE, "window": window}))
    return run


def scheduled(confirm_at: datetime = madrid(2026, 11, 30, 16, 0), **kwargs: Any) -> Run:
    run = in_donor_check(**kwargs)
    accepted(run.send("donor.confirmed", at=confirm_at))
    return run


def porting() -> Run:
    run = scheduled()
    run.advance(madrid(2026, 12, 2, 2, 0))
    assert run.state.stage == "porting"
    return run


# -- happy path ----------------------------------------------------------------------------


def test_happy_path_from_monday_request_to_number_working() -> None:
    run = requested()
    assert run.state.stage == "requested"
    assert run.date("switch_window") == madrid(2026, 12, 2, 2, 0)
    assert run.date("cancel_until") == madrid(2026, 12, 1, 14, 0)
    assert run.date("activation_deadline") == madrid(2026, 12, 3, 20, 0)
    assert run.state.dates["switch_window"]["confirmed"] is False
    assert parse_iso(run.state.dates["switch_window"]["end"]) == madrid(2026, 12, 2, 6, 0)
    assert run.timer("sla:requested") == madrid(2026, 12, 1, 10, 0)
    assert run.view("es")["headline"] == (
        "Hemos recibido tu solicitud. Si todo va bien, tu número pasa a nosotros el "
        "miércoles 2 de diciembre, entre las 02:00 y las 06:00."
    )
    assert run.view("en")["headline"] == (
        "We have your request. If all goes well, your number moves to us on "
        "Wednesday 2 December, between 02:00 and 06:00."
    )

    event = accepted(
        run.send(
            "nc.accepted",
            {"reference": REFERENCE, "window": "2026-12-02"},
            at=madrid(2026, 11, 30, 11, 0),
        )
    )
    assert run.state.stage == "donor_check"
    assert run.state.keys == {"msisdn": "612345678", "nc_reference": REFERENCE}
    # A window given as a bare date opens at 02:00 Madrid time.
    assert run.date("switch_window") == madrid(2026, 12, 2, 2, 0)
    assert "sla:requested" not in run.state.timers
    assert run.timer("sla:donor_check") == madrid(2026, 12, 1, 11, 0)
    assert [m["payload"]["template"] for m in event.effects["outbox"]] == ["port_requested"]
    assert run.view("es")["headline"] == (
        "Tu compañía actual está comprobando tus datos. Tu número pasa a nosotros el "
        "miércoles 2 de diciembre, entre las 02:00 y las 06:00."
    )
    assert run.view("en")["headline"] == (
        "Your current provider is checking your details. Your number moves to us on "
        "Wednesday 2 December, between 02:00 and 06:00."
    )

    accepted(run.send("donor.confirmed", at=madrid(2026, 12, 1, 8, 30)))
    assert run.state.stage == "scheduled"
    assert run.state.dates["switch_window"]["confirmed"] is True
    assert run.state.dates["cancel_until"]["confirmed"] is True
    assert run.timer("timer:window_opens") == madrid(2026, 12, 2, 2, 0)
    assert run.timer("timer:activation_overdue") == madrid(2026, 12, 3, 20, 0)
    assert run.view("es")["headline"] == (
        "Tu número pasa a nosotros el miércoles 2 de diciembre, entre las 02:00 y las 06:00."
    )
    assert run.view("en")["headline"] == (
        "Your number moves to us on Wednesday 2 December, between 02:00 and 06:00."
    )

    fired = run.advance(madrid(2026, 12, 2, 3, 0))
    assert [d.events[0].type for d in fired] == [
        "reminder.due",  # last day to cancel, 5 hours before Tuesday 14:00
        "reminder.due",  # port tonight, 6 hours before the window
        "deadline.window_opens",
    ]
    assert run.state.stage == "porting"
    assert run.state.stage_history[-1]["entered_at"] == "2026-12-02T01:00:00+00:00"
    assert run.view("es")["headline"] == (
        "Estamos cambiando tu número ahora. Estará listo hacia las 06:00."
    )
    assert run.view("en")["headline"] == (
        "We are moving your number now. It should be ready by 06:00."
    )

    accepted(run.send("port.executed", at=madrid(2026, 12, 2, 5, 40)))
    assert (run.state.status, run.state.stage) == ("active", "active")
    # Open for the withdrawal period: the way back is offered until 14 days after the port.
    assert run.timer("timer:withdrawal_over") == madrid(2026, 12, 16, 23, 59)
    assert run.view("es")["headline"] == "Tu número ya funciona con nosotros."
    assert run.view("en")["headline"] == "Your number now works with us."
    run.advance(madrid(2026, 12, 16, 23, 59))
    assert (run.state.status, run.state.stage) == ("completed", "active")
    assert run.state.timers == {}
    assert [row["state"] for row in run.view()["stages"]][:5] == ["done"] * 5
    assert run_templates(run) == [
        "port_requested",
        "port_scheduled",
        "last_day_to_cancel",
        "port_tonight",
        "port_completed",
    ]
    history = [(row["kind"], row["ref"]) for row in run.view("en")["history"]]
    assert history[0] == ("stage", "active")
    assert history[-1] == ("stage", "requested")
    run.assert_replay_matches()


def test_stage_list_shows_done_current_and_pending_with_planned_dates() -> None:
    run = in_donor_check()
    rows = {row["id"]: row for row in run.view("en")["stages"]}
    assert [rows[s]["state"] for s in ("requested", "donor_check", "scheduled")] == [
        "done",
        "current",
        "pending",
    ]
    assert rows["donor_check"]["actor_label"] == "Your current provider"
    # The pending "scheduled" stage shows the estimated window until the donor confirms.
    assert rows["scheduled"]["date"] == "2026-12-02T01:00:00+00:00"
    assert rows["scheduled"]["date_kind"] == "estimated"
    nxt = run.view("en")["next"]
    assert nxt["who"] == "current_provider"
    assert parse_iso(nxt["when"]) == madrid(2026, 12, 1, 14, 0)
    run.assert_replay_matches()


def test_dates_are_shown_in_the_customer_time_zone() -> None:
    run = requested(timezone="Atlantic/Canary")
    assert run.state.timezone == "Atlantic/Canary"
    # The window is 02:00 Madrid time wherever the customer lives: 01:00 in the Canaries.
    assert run.date("switch_window").astimezone(CANARY).hour == 1
    assert run.view("es")["headline"] == (
        "Hemos recibido tu solicitud. Si todo va bien, tu número pasa a nosotros el "
        "miércoles 2 de diciembre, entre las 01:00 y las 05:00."
    )
    dates = {row["id"]: row["text"] for row in run.view("en")["dates"]}
    assert dates["cancel_until"] == "Tuesday 1 December at 13:00"
    assert "latest_window" not in dates  # not visible to customers
    run.assert_replay_matches()


# -- windows across weekends and holidays ---------------------------------------------------


@pytest.mark.parametrize(
    ("request_at", "window", "cancel_until"),
    [
        # Friday: the window skips the weekend.
        (madrid(2026, 11, 27, 10, 0), madrid(2026, 12, 1, 2, 0), madrid(2026, 11, 30, 14, 0)),
        # Thursday before the Madrid bridge (Mon 7 Dec moved Constitution Day, Tue 8 Dec).
        (madrid(2026, 12, 3, 10, 0), madrid(2026, 12, 9, 2, 0), madrid(2026, 12, 4, 14, 0)),
        # Friday before the bridge: weekend, 7 and 8 Dec all skipped.
        (madrid(2026, 12, 4, 18, 0), madrid(2026, 12, 10, 2, 0), madrid(2026, 12, 9, 14, 0)),
        # On the day before Christmas.
        (madrid(2026, 12, 24, 9, 0), madrid(2026, 12, 29, 2, 0), madrid(2026, 12, 28, 14, 0)),
        # A request made on the holiday itself counts from the next working day (Wednesday
        # 9 Dec), so the window is the night after Thursday (rules.md §1.4, issue 15: v1
        # counted it from the holiday and told a window one working day early).
        (madrid(2026, 12, 8, 12, 0), madrid(2026, 12, 11, 2, 0), madrid(2026, 12, 10, 14, 0)),
        # After 20:00 Madrid (23:30 local, 22:30 UTC) a Monday request counts from Tuesday.
        (madrid(2026, 11, 30, 23, 30), madrid(2026, 12, 3, 2, 0), madrid(2026, 12, 2, 14, 0)),
        # At 20:00 exactly the working day is over.
        (madrid(2026, 11, 30, 20, 0), madrid(2026, 12, 3, 2, 0), madrid(2026, 12, 2, 14, 0)),
        # 19:59 is still Monday.
        (madrid(2026, 11, 30, 19, 59), madrid(2026, 12, 2, 2, 0), madrid(2026, 12, 1, 14, 0)),
        # Before 08:00 on a working day it counts from 08:00 that same day.
        (madrid(2026, 11, 30, 7, 30), madrid(2026, 12, 2, 2, 0), madrid(2026, 12, 1, 14, 0)),
        # On a Saturday it counts from Monday.
        (madrid(2026, 11, 28, 11, 0), madrid(2026, 12, 2, 2, 0), madrid(2026, 12, 1, 14, 0)),
    ],
)
def test_estimated_window_and_cut_off_skip_weekends_and_holidays(
    request_at: datetime, window: datetime, cancel_until: datetime
) -> None:
    run = requested(request_at)
    assert run.date("switch_window") == window
    assert run.date("cancel_until") == cancel_until
    run.assert_replay_matches()


def test_window_from_the_central_node_after_the_december_holidays() -> None:
    run = in_donor_check(at=madrid(2026, 12, 3, 10, 0), window="2026-12-09T02:00:00+01:00")
    assert run.date("switch_window") == madrid(2026, 12, 9, 2, 0)
    assert run.date("cancel_until") == madrid(2026, 12, 4, 14, 0)
    assert run.date("activation_deadline") == madrid(2026, 12, 10, 20, 0)
    assert run.view("es")["headline"].endswith(
        "el miércoles 9 de diciembre, entre las 02:00 y las 06:00."
    )
    run.assert_replay_matches()


# -- incidents -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", DONOR_CODES)
def test_donor_rejection_opens_its_incident_and_goes_back_to_requested(code: str) -> None:
    # The ICC-ID is checked on prepaid lines (rules.md §1.5); postpaid: test_mobile_port_in_v2.
    modality = "prepaid" if code == "RECH_ICCID" else "postpaid"
    run = in_donor_check(attributes={"modality": modality, "sales_channel": "store"})
    event = accepted(run.send("donor.rejected", {"cause": code}, at=madrid(2026, 11, 30, 17, 0)))
    assert run.state.stage == "requested"
    assert run.state.open_incidents() == [code]
    assert run.state.incidents[code]["detail"] == {"cause": code}
    # The window is gone until a new request gets one; so is the cut-off that hung on it.
    assert "switch_window" not in run.state.dates
    assert "cancel_until" not in run.state.dates
    assert "port_problem" in [m["payload"].get("template") for m in event.effects["outbox"]]
    assert_incident_view(run, code)
    assert set(run.state.requirements) == set(D.incidents[code].requires)
    run.assert_replay_matches()


@pytest.mark.parametrize("code", NC_CODES)
def test_central_node_rejection_opens_its_incident_and_a_resubmit_task(code: str) -> None:
    run = requested()
    accepted(run.send("nc.rejected", {"code": code}, at=madrid(2026, 11, 30, 10, 30)))
    assert run.state.stage == "requested"
    assert run.state.open_incidents() == [code]
    assert run.state.tasks["resubmit_request"]["status"] == "open"
    assert run.state.tasks["resubmit_request"]["team"] == "back_office"
    assert parse_iso(run.state.tasks["resubmit_request"]["due_at"]) == madrid(2026, 11, 30, 12, 30)
    assert_incident_view(run, code)
    # These codes keep the stage headline and its estimated window.
    assert run.view("en")["headline"].startswith("We have your request.")
    run.assert_replay_matches()


def test_every_incident_code_of_the_rules_is_defined() -> None:
    assert set(DONOR_CODES + NC_CODES) <= set(D.incidents)


def test_rejection_with_an_unknown_code_is_rejected_not_recorded() -> None:
    run = in_donor_check()
    version = run.state.version
    decision = run.send("donor.rejected", {"cause": "RECH_WHATEVER"})
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code == "invalid_data"
    assert decision.reason is not None and "RECH_WHATEVER" in decision.reason
    assert decision.events == []
    assert run.state.version == version
    assert run.state.stage == "donor_check"


def test_the_history_says_when_a_rejection_sends_the_request_back_a_stage() -> None:
    run = in_donor_check()
    run.send("donor.rejected", {"cause": "RECH_IDENT"}, at=madrid(2026, 11, 30, 17, 0))

    texts = [row["text"] for row in run.view("en")["history"] if row["kind"] == "stage"]
    assert texts == ["Back to the stage: Request received", *texts[1:]]
    assert texts[-1] == "Request received"
    es = [row["text"] for row in run.view("es")["history"] if row["kind"] == "stage"]
    assert es[0] == "Vuelve a la etapa: Solicitud recibida"


def test_id_rejection_resolved_by_sending_documents_and_resubmitting() -> None:
    run = in_donor_check()
    run.send("donor.rejected", {"cause": "RECH_IDENT"}, at=madrid(2026, 11, 30, 17, 0))
    event = run.act("send_id_document", {"document": "doc-123.pdf"})
    assert run.state.requirements["id_document"]["state"] == "submitted"
    assert run.state.tasks["review_documents"]["status"] == "open"
    assert [m["topic"] for m in event.effects["outbox"]] == ["document.submitted"]

    accepted(run.send("document.accepted", {"requirement": "id_document"}))
    assert run.state.requirements["id_document"]["state"] == "accepted"
    assert run.state.tasks["review_documents"]["status"] == "done"

    run.act("correct_id", {"id_number": "12345678Z"})
    assert run.state.attributes["id_number"] == "12345678Z"
    assert run.state.tasks["resubmit_request"]["status"] == "open"

    accepted(
        run.send(
            "port.resubmitted",
            {"reference": "21400000000000000000002", "window": "2026-12-03"},
            at=madrid(2026, 12, 1, 9, 0),
        )
    )
    assert run.state.stage == "donor_check"
    assert run.state.incidents["RECH_IDENT"]["status"] == "resolved"
    assert run.state.keys["nc_reference"] == "21400000000000000000002"
    assert run.date("switch_window") == madrid(2026, 12, 3, 2, 0)
    assert run.date("cancel_until") == madrid(2026, 12, 2, 14, 0)
    assert run.state.tasks["resubmit_request"]["status"] == "done"
    # The stage headline is back, with the new date.
    assert "jueves 3 de diciembre" in run.view("es")["headline"]
    run.assert_replay_matches()


def test_rejected_document_asks_for_it_again() -> None:
    run = in_donor_check(attributes={"modality": "prepaid"})
    run.send("donor.rejected", {"cause": "RECH_ICCID"})
    run.act("send_sim_photo", {"document": "sim.jpg"})
    accepted(run.send("document.rejected", {"requirement": "sim_photo", "reason": "blurry"}))
    assert run.state.requirements["sim_photo"]["state"] == "rejected"
    needed = {row["id"]: row for row in run.view("es")["needed"]}
    assert needed["sim_photo"]["action_needed"] is True
    assert needed["sim_photo"]["state_label"] == "Rechazado"
    run.assert_replay_matches()


def test_iccid_rejection_corrected_by_the_customer() -> None:
    run = in_donor_check(attributes={"modality": "postpaid"})
    run.send("donor.rejected", {"cause": "RECH_ICCID"})
    bad = refusal(run, "correct_iccid", {"iccid": "1234", "modality": "prepaid"})
    assert bad.code == "invalid_params"
    assert problem_codes(bad) == {"iccid": "invalid_format"}
    wrong_choice = refusal(
        run, "correct_iccid", {"iccid": "8934071234567890123", "modality": "pay-as-you-go"}
    )
    assert problem_codes(wrong_choice) == {"modality": "invalid_choice"}
    not_a_choice = refusal(
        run, "correct_iccid", {"iccid": "8934071234567890123", "modality": ["prepaid"]}
    )
    assert problem_codes(not_a_choice) == {"modality": "invalid_choice"}

    event = run.act("correct_iccid", {"iccid": " 8934071234567890123 ", "modality": "prepaid"})
    assert event.data["params"] == {"iccid": "8934071234567890123", "modality": "prepaid"}
    assert run.state.attributes["iccid"] == "8934071234567890123"
    assert run.state.attributes["modality"] == "prepaid"
    assert [m["topic"] for m in event.effects["outbox"]] == ["port.data_corrected"]
    run.assert_replay_matches()


def test_number_no_longer_active_can_end_with_a_new_number() -> None:
    run = in_donor_check()
    run.send("donor.rejected", {"cause": "RECH_BNUME"})
    run.act("retry_port")
    assert run.state.tasks["resubmit_request"]["status"] == "open"
    event = run.act("take_new_number")
    assert run.state.status == "cancelled"
    assert run.state.attributes["ended_by"] == "new_number"
    assert run.state.incidents["RECH_BNUME"]["status"] == "resolved"
    assert [m["topic"] for m in event.effects["outbox"]] == ["number.new_requested"]
    assert run.state.timers == {}
    run.assert_replay_matches()


# -- controls --------------------------------------------------------------------------------


def test_controls_offered_in_each_step() -> None:
    run = requested()
    assert allowed_controls(run) == {"cancel", "postpone"}
    run.send("nc.accepted", {"reference": REFERENCE, "window": "2026-12-02"})
    assert allowed_controls(run) == {"cancel", "postpone"}
    run.send("donor.confirmed", at=madrid(2026, 11, 30, 16, 0))
    assert allowed_controls(run) == {"cancel", "postpone"}
    run.advance(madrid(2026, 12, 2, 2, 0))
    assert allowed_controls(run) == set()
    run.assert_replay_matches()


@pytest.mark.parametrize("stage", ["requested", "donor_check", "scheduled"])
def test_cancel_is_allowed_before_the_cut_off(stage: str) -> None:
    run = {"requested": requested, "donor_check": in_donor_check, "scheduled": scheduled}[stage]()
    row = run.control("cancel", "en")
    assert row["allowed"] is True
    assert parse_iso(row["until"]) == madrid(2026, 12, 1, 14, 0)
    event = run.act("cancel", at=madrid(2026, 12, 1, 13, 59))
    assert run.state.status == "cancelled"
    assert [m["topic"] for m in event.effects["outbox"]] == ["port.cancel_requested"]
    assert event.data["role"] == "customer"
    assert run.state.timers == {}
    assert run.view("es")["headline"] == "Tu número está con la compañía que tenía antes."
    assert run.view("en")["headline"] == "Your number is with the provider it had before."
    assert run.view("en")["history"][0]["text"] == "Cancel the switch"
    run.assert_replay_matches()


def test_cancel_is_refused_from_the_cut_off_with_the_deadline_in_words() -> None:
    run = scheduled()
    run.advance(madrid(2026, 12, 1, 14, 0))
    row = run.control("cancel", "es")
    assert (row["allowed"], row["reason_code"]) == (False, "cutoff_passed")
    assert row["reason"] == "El plazo para hacerlo terminó el martes 1 de diciembre a las 14:00."
    assert run.control("cancel", "en")["reason"] == (
        "The deadline to do this was Tuesday 1 December at 14:00."
    )
    error = refusal(run, "cancel")
    assert error.code == "cutoff_passed"
    assert error.until == "2026-12-01T13:00:00+00:00"
    assert error.instead is not None and "14" in error.instead.en
    answer = error.as_json("en")
    assert answer["reason"] == "The deadline to do this was Tuesday 1 December at 14:00."
    assert answer["until"] == "2026-12-01T13:00:00+00:00"
    assert run.state.status == "active"
    run.assert_replay_matches()


def test_cancel_is_refused_once_the_switch_is_under_way_or_done() -> None:
    run = porting()
    assert refusal(run, "cancel").code == "not_in_stage"
    run.send("port.executed", at=madrid(2026, 12, 2, 5, 0))
    error = refusal(run, "cancel")
    assert error.code == "not_in_stage"
    assert error.instead is not None and "Go back to my previous provider" in error.instead.en
    run.advance(madrid(2026, 12, 17, 0, 0))
    error = refusal(run, "cancel")
    assert error.code == "finished"
    assert error.reason.en == "This process has already ended, so it can no longer be changed."
    run.assert_replay_matches()


def test_controls_are_refused_for_a_role_they_are_not_for() -> None:
    run = requested()
    verdict = controls.check(C, run.state, "cancel", "system", run.now)
    assert (verdict.allowed, verdict.code) == (False, "not_for_role")
    with pytest.raises(ActionRefused) as error:
        run.act("cancel", role="system")
    assert error.value.code == "not_for_role"
    run.act("cancel", role="agent")
    assert run.state.status == "cancelled"
    assert run.events[-1].data["role"] == "agent"


def test_unknown_control_names_the_known_ones() -> None:
    run = requested()
    with pytest.raises(UnknownControl, match="postpone"):
        run.act("teleport")


@pytest.mark.parametrize(
    "control", ["send_id_document", "send_sim_photo", "correct_iccid", "correct_id", "retry_port"]
)
def test_incident_controls_are_refused_without_their_incident(control: str) -> None:
    run = requested()
    row = run.control(control, "en")
    assert (row["allowed"], row["reason_code"]) == (False, "no_incident")
    assert row["reason"] == "This action only resolves a problem, and there is none open now."
    assert refusal(run, control, {}).code == "no_incident"


def test_incident_controls_close_when_the_incident_is_resolved() -> None:
    run = in_donor_check()
    run.send("donor.rejected", {"cause": "RECH_PERDI"})
    assert "retry_port" in allowed_controls(run)
    assert "take_new_number" not in allowed_controls(run)  # only for an inactive number
    run.send("port.resubmitted", {"reference": REFERENCE, "window": "2026-12-03"})
    assert run.state.open_incidents() == []
    assert refusal(run, "retry_port").code == "not_in_stage"
    assert refusal(run, "send_id_document", {"document": "x.pdf"}).code == "no_incident"
    run.assert_replay_matches()


def test_correct_id_checks_the_document_format() -> None:
    run = in_donor_check()
    run.send("donor.rejected", {"cause": "RECH_IDENT"})
    error = refusal(run, "correct_id", {"id_number": "12 34"})
    assert problem_codes(error) == {"id_number": "invalid_format"}
    assert error.problems[0].message.en == "The format is not right."
    missing = refusal(run, "correct_id", {})
    assert problem_codes(missing) == {"id_number": "required"}
    unexpected = refusal(run, "correct_id", {"id_number": "X1234567L", "colour": "red"})
    assert problem_codes(unexpected) == {"colour": "unknown_param"}
    run.act("correct_id", {"id_number": "X1234567L"})
    assert run.state.attributes["id_number"] == "X1234567L"


# -- postponement ------------------------------------------------------------------------------


def test_postpone_moves_the_window_cut_off_deadline_and_timers() -> None:
    run = scheduled()
    old_window_timer = run.state.timers["timer:window_opens"]
    event = run.act("postpone", {"new_date": "2026-12-10"}, at=madrid(2026, 12, 1, 10, 0))
    assert event.data["params"] == {"new_date": "2026-12-10T01:00:00+00:00"}
    assert [m["topic"] for m in event.effects["outbox"]] == ["port.reschedule_requested"]
    assert run.date("switch_window") == madrid(2026, 12, 10, 2, 0)
    assert run.state.dates["switch_window"]["confirmed"] is False
    assert run.date("cancel_until") == madrid(2026, 12, 9, 14, 0)
    assert run.date("activation_deadline") == madrid(2026, 12, 11, 20, 0)
    # The switch waits for the central node to confirm the new window.
    assert "timer:window_opens" not in run.state.timers
    assert run.timer("notify:last_day_to_cancel") == madrid(2026, 12, 9, 9, 0)
    assert run.view("en")["headline"] == (
        "Your number moves to us on Thursday 10 December, between 02:00 and 06:00."
    )

    # The timer armed for the old window is stale when it arrives.
    stale = run.fire("timer:window_opens", old_window_timer)
    assert stale.outcome is Outcome.IGNORED
    assert stale.reason_code == "stale_timer"
    assert run.state.stage == "scheduled"

    # Cancelling is possible again, up to the new cut-off.
    run.advance(madrid(2026, 12, 2, 12, 0))
    assert run.state.stage == "scheduled"
    assert run.control("cancel")["allowed"] is True

    accepted(run.send("nc.window_changed", {"window": "2026-12-10T02:00:00+01:00"}))
    assert run.state.dates["switch_window"]["confirmed"] is True
    assert run.state.dates["cancel_until"]["confirmed"] is True

    run.advance(madrid(2026, 12, 10, 2, 0))
    assert run.state.stage == "porting"
    run.assert_replay_matches()


def test_postpone_is_refused_after_the_cut_off() -> None:
    run = scheduled()
    run.advance(madrid(2026, 12, 1, 15, 0))
    error = refusal(run, "postpone", {"new_date": "2026-12-10"})
    assert error.code == "cutoff_passed"
    assert error.problems == []  # the cut-off is checked before the parameters
    assert run.date("switch_window") == madrid(2026, 12, 2, 2, 0)
    # Cancel shares the cut-off, so what the refusal suggests instead must still hold: the
    # switch goes ahead, and withdrawing afterwards is the way back.
    assert error.instead is not None
    assert "goes ahead on the planned day" in error.instead.en
    assert "14 calendar days to withdraw" in error.instead.en
    assert "14 días naturales para desistir" in error.instead.es
    assert not run.control("cancel", "en")["allowed"]


@pytest.mark.parametrize(
    ("new_date", "code", "en_message"),
    [
        ("2026-12-01", "too_early", "The earliest date is Wednesday 2 December."),
        ("2026-12-31", "too_late", "The latest date is Wednesday 30 December."),
        ("2027-01-15", "too_late", "The latest date is Wednesday 30 December."),
        ("2026-12-05", "weekend", "That day is a weekend; choose a working day."),
        ("2026-12-06", "weekend", "That day is a weekend; choose a working day."),
        (
            "2026-12-08",
            "holiday",
            "That day is a public holiday (Immaculate Conception); choose a working day.",
        ),
        (
            "2026-12-25",
            "holiday",
            "That day is a public holiday (Christmas Day); choose a working day.",
        ),
        ("08/12/2026", "invalid_date", "Enter a valid date (YYYY-MM-DD)."),
        ("", "required", "This is required."),
    ],
)
def test_postpone_refuses_dates_out_of_bounds(new_date: str, code: str, en_message: str) -> None:
    run = in_donor_check()
    error = refusal(run, "postpone", {"new_date": new_date})
    assert error.code == "invalid_params"
    assert problem_codes(error) == {"new_date": code}
    assert error.problems[0].message.en == en_message
    assert error.problems[0].message.es
    answer = error.as_json("es")
    assert answer["problems"][0]["field"] == "new_date"
    assert run.date("switch_window") == madrid(2026, 12, 2, 2, 0)


def test_postpone_accepts_the_bounds_themselves() -> None:
    run = in_donor_check()
    run.act("postpone", {"new_date": "2026-12-30"})
    assert run.date("switch_window") == madrid(2026, 12, 30, 2, 0)
    run.act("postpone", {"new_date": "2026-12-02"})
    assert run.date("switch_window") == madrid(2026, 12, 2, 2, 0)
    run.assert_replay_matches()


def test_postpone_earliest_date_moves_with_the_clock() -> None:
    run = in_donor_check()
    run.advance(madrid(2026, 12, 1, 9, 0))
    # From Tuesday, two working days ahead is Thursday.
    assert problem_codes(refusal(run, "postpone", {"new_date": "2026-12-02"})) == {
        "new_date": "too_early"
    }
    run.act("postpone", {"new_date": "2026-12-03"})
    assert run.date("cancel_until") == madrid(2026, 12, 2, 14, 0)


# -- cancellation by the central node --------------------------------------------------------


@pytest.mark.parametrize("stage", ["requested", "donor_check", "scheduled"])
def test_central_node_cancellation_ends_the_process(stage: str) -> None:
    run = {"requested": requested, "donor_check": in_donor_check, "scheduled": scheduled}[stage]()
    accepted(run.send("nc.cancelled", {"cause": "CANC_TECNI"}, at=madrid(2026, 12, 1, 10, 0)))
    assert run.state.status == "cancelled"
    assert run.state.timers == {}
    assert run.view("en")["history"][0]["text"] == (
        "The central system cancelled the switch for a technical reason"
    )
    assert all(not row["allowed"] for row in run.view()["controls"])
    run.assert_replay_matches()


def test_cancellation_confirmation_after_the_customer_cancelled_is_ignored() -> None:
    run = in_donor_check()
    run.act("cancel")
    decision = run.send("nc.cancelled", {"cause": "CANC_ABONA"})
    assert decision.outcome is Outcome.IGNORED
    assert decision.reason_code == "process_finished"
    assert run.state.status == "cancelled"
    assert run.state.ignored == 1
    run.assert_replay_matches()


# -- timers ----------------------------------------------------------------------------------


def test_window_timer_moves_a_scheduled_switch_to_porting() -> None:
    run = scheduled()
    fired = run.advance(madrid(2026, 12, 2, 1, 59))
    assert run.state.stage == "scheduled"
    assert all(d.events[0].type == "reminder.due" for d in fired)
    fired = run.advance(madrid(2026, 12, 2, 2, 0))
    assert [d.events[0].type for d in fired] == ["deadline.window_opens"]
    assert run.state.stage == "porting"
    assert "timer:window_opens" not in run.state.timers
    assert run.timer("timer:activation_overdue") == madrid(2026, 12, 3, 20, 0)
    nxt = run.view("en")["next"]
    assert nxt["what"] == "Put the new SIM in your phone and restart it from 06:00."
    assert parse_iso(nxt["when"]) == madrid(2026, 12, 3, 20, 0)
    run.assert_replay_matches()


def test_window_timer_does_nothing_while_the_donor_has_not_confirmed() -> None:
    run = in_donor_check()
    run.advance(madrid(2026, 12, 2, 12, 0))
    assert run.state.stage == "donor_check"
    assert not any(e.type.startswith("deadline.") for e in run.events)


def test_activation_overdue_opens_port_delayed_and_compensation_grows_per_day() -> None:
    run = porting()
    run.advance(madrid(2026, 12, 3, 19, 59))
    assert run.state.open_incidents() == ["SERVICE_LOSS"]  # since 06:00 on the window day
    run.advance(madrid(2026, 12, 3, 20, 0))
    assert run.state.open_incidents() == ["SERVICE_LOSS", "PORT_DELAYED"]
    task = run.state.tasks["chase_activation"]
    assert (task["status"], task["team"]) == ("open", "portability_desk")
    assert parse_iso(task["due_at"]) == madrid(2026, 12, 4, 12, 0)
    page = run.view("es")
    delayed = next(row for row in page["incidents"] if row["code"] == "PORT_DELAYED")
    assert delayed["what_happened"] == (
        "Tu número debía funcionar con nosotros antes del jueves 3 de diciembre a las 20:00 "
        "y aún no es así."
    )
    assert run.view("en")["incidents"][1]["what_happened"] == (
        "Your number should have worked with us by Thursday 3 December at 20:00 and it does "
        "not yet."
    )
    assert page["compensation"] == []  # less than a day late

    amounts = []
    for moment in (
        madrid(2026, 12, 4, 20, 0),
        madrid(2026, 12, 5, 21, 0),
        madrid(2026, 12, 7, 20, 0),
    ):
        run.advance(moment)
        (row,) = run.view("en")["compensation"]
        amounts.append((row["units"], row["amount"], row["currency"]))
    assert amounts == [(1, "2.50", "EUR"), (2, "5.00", "EUR"), (4, "10.00", "EUR")]
    assert run.view("es")["compensation"][0]["explanation"] == (
        "Por cada día de retraso desde el jueves 3 de diciembre te compensamos en tu próxima "
        "factura. Es un compromiso nuestro, recogido en nuestras condiciones; no es un importe "
        "fijado por la normativa."
    )
    # The deadline fires once: later messages in the same stage do not re-open the incident.
    opened_at = run.state.incidents["PORT_DELAYED"]["opened_at"]
    accepted(run.send("sim.activated"))
    run.advance(madrid(2026, 12, 7, 21, 0))
    assert [e.type for e in run.events].count("deadline.activation_overdue") == 1
    assert run.state.incidents["PORT_DELAYED"]["opened_at"] == opened_at

    # Counting stops when the number finally works.
    run.send("port.executed", at=madrid(2026, 12, 8, 3, 0))
    assert run.state.incidents["PORT_DELAYED"]["status"] == "resolved"
    run.advance(madrid(2026, 12, 20, 12, 0))
    (row,) = run.view("en")["compensation"]
    assert (row["units"], row["amount"]) == (4, "10.00")
    run.assert_replay_matches()


def test_sla_due_depends_on_prepaid_or_postpaid() -> None:
    postpaid = in_donor_check(attributes={"modality": "postpaid"})
    prepaid = in_donor_check(attributes={"modality": "prepaid"})
    assert postpaid.timer("sla:donor_check") == madrid(2026, 12, 1, 10, 0)
    assert prepaid.timer("sla:donor_check") == madrid(2026, 12, 2, 10, 0)

    postpaid.advance(madrid(2026, 12, 1, 10, 0))
    prepaid.advance(madrid(2026, 12, 1, 10, 0))
    assert postpaid.events[-1].type == "sla.breached"
    assert postpaid.state.attributes["sla_breached_donor_check"] == "2026-12-01T09:00:00+00:00"
    assert "sla.breached" in run_outbox_topics(postpaid)
    assert "sla_breached_donor_check" not in prepaid.state.attributes

    prepaid.advance(madrid(2026, 12, 2, 10, 0))
    assert prepaid.state.attributes["sla_breached_donor_check"] == "2026-12-02T09:00:00+00:00"
    postpaid.assert_replay_matches()
    prepaid.assert_replay_matches()


def test_sla_breach_is_recorded_once_per_stage_visit() -> None:
    run = in_donor_check()
    run.advance(madrid(2026, 12, 1, 12, 0))
    accepted(run.send("sim.shipped", {"tracking": "TRK1"}))
    assert "sla:donor_check" not in run.state.timers
    run.advance(madrid(2026, 12, 4, 12, 0))
    assert [e.type for e in run.events].count("sla.breached") == 1
    assert run.state.attributes["sim_tracking"] == "TRK1"
    run.assert_replay_matches()


def test_stale_timers_are_recorded_as_ignored() -> None:
    run = in_donor_check()
    old_sla = run.state.timers["sla:donor_check"]
    run.send("donor.confirmed", at=madrid(2026, 11, 30, 16, 0))
    decision = run.fire("sla:donor_check", old_sla)
    assert decision.outcome is Outcome.IGNORED
    assert decision.reason_code == "stale_timer"
    (event,) = decision.events
    assert event.type == "message.ignored"
    assert event.data["type"] == "timer.fired"
    assert "sla:donor_check" in event.data["reason"]
    # A timer fired with the wrong due is stale too, even if the name is armed.
    wrong_due = run.fire("timer:window_opens", "2026-12-01T01:00:00+00:00")
    assert wrong_due.reason_code == "stale_timer"
    assert run.state.stage == "scheduled"
    assert run.state.ignored == 2
    run.assert_replay_matches()


def test_an_armed_timer_fired_before_its_due_moment_is_refused() -> None:
    run = scheduled()
    due = run.state.timers["timer:window_opens"]
    version = run.state.version

    decision = run.fire("timer:window_opens", due)  # the clock is days before the window

    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code == "timer_not_due"
    assert due in (decision.reason or "")
    assert (run.state.stage, run.state.version) == ("scheduled", version)


def test_timers_of_a_finished_process_are_ignored() -> None:
    run = scheduled()
    due = run.state.timers["timer:window_opens"]
    run.act("cancel")
    decision = run.fire("timer:window_opens", due)
    assert decision.reason_code == "stale_timer"
    assert run.state.stage == "scheduled"
    run.assert_replay_matches()


def test_timer_message_without_name_or_due_is_rejected() -> None:
    run = in_donor_check()
    version = run.state.version
    for data in ({}, {"name": "sla:donor_check"}, {"due": run.state.timers["sla:donor_check"]}):
        decision = engine.decide(C, run.state, _timer_message(data, run.now), run.now)
        assert decision.outcome is Outcome.REJECTED
        assert decision.reason_code == "missing_data"
        assert decision.events == []
    assert run.state.version == version


def _timer_message(data: dict[str, Any], now: datetime) -> Message:
    return Message(engine.TIMER_FIRED, data, now, "timer", "t-1")


# -- failure ---------------------------------------------------------------------------------


def test_failed_port_ends_with_the_outcome_text() -> None:
    run = porting()
    event = accepted(
        run.send("port.failed", {"reason": "donor rollback"}, at=madrid(2026, 12, 2, 5, 0))
    )
    assert run.state.status == "failed"
    assert run.state.attributes["failure_reason"] == "donor rollback"
    assert run.state.timers == {}
    assert [m["payload"]["template"] for m in event.effects["outbox"]] == ["port_failed"]
    for lang in ("es", "en"):
        page = run.view(lang)
        assert page["headline"] == D.outcomes["failed"].headline.get(lang)
        assert (
            page["status_label"]
            == {
                "es": "No se pudo completar",
                "en": "Could not be completed",
            }[lang]
        )
        assert page["next"] is None
        assert {row["id"]: row["state"] for row in page["stages"]}["porting"] == "stopped"
        assert all(row["reason_code"] == "finished" for row in page["controls"])
    assert run.view("en")["history"][0]["text"] == (
        "The switch failed; your line stays with your current provider"
    )
    run.assert_replay_matches()


# -- messages that do not fit ------------------------------------------------------------------


def test_a_message_no_later_stage_accepts_is_recorded_as_ignored_with_a_reason() -> None:
    run = in_donor_check()
    decision = run.send("nc.rejected", {"code": "ENUME"})
    assert decision.outcome is Outcome.IGNORED
    assert decision.reason_code == "out_of_order"
    assert decision.reason == (
        "nc.rejected is not expected in stage 'donor_check' (expected in: requested)"
    )
    (event,) = decision.events
    assert event.type == "message.ignored"
    assert event.data["reason_code"] == "out_of_order"
    assert event.effects == {}
    assert (run.state.stage, run.state.ignored, run.state.version) == ("donor_check", 1, 3)
    assert run.state.parked == []
    run.assert_replay_matches()


def test_message_whose_data_matches_no_rule_is_ignored() -> None:
    run = requested()
    decision = run.send("document.accepted", {"requirement": "passport"})
    assert decision.outcome is Outcome.IGNORED
    assert decision.reason == (
        "document.accepted does not match any rule in stage 'requested' with this data"
    )
    assert run.state.requirements == {}
    run.assert_replay_matches()


def test_messages_for_a_finished_process_are_ignored() -> None:
    run = porting()
    run.send("port.executed")
    run.advance(madrid(2026, 12, 17, 0, 0))  # the withdrawal period is over
    before = run.state.to_json()
    decision = run.send("sim.delivered")
    assert decision.outcome is Outcome.IGNORED
    assert decision.reason_code == "process_finished"
    assert "already ended (completed)" in (decision.reason or "")
    after = run.state.to_json()
    assert (after["status"], after["stage"], after["ignored"]) == ("completed", "active", 1)
    assert {k: v for k, v in after.items() if k not in ("version", "updated_at", "ignored")} == {
        k: v for k, v in before.items() if k not in ("version", "updated_at", "ignored")
    }
    run.assert_replay_matches()


def test_unknown_event_type_is_rejected_and_not_recorded() -> None:
    run = in_donor_check()
    version = run.state.version
    decision = run.send("nc.exploded", {"x": 1})
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code == "unknown_type"
    assert decision.reason is not None and "nc.accepted" in decision.reason
    assert decision.events == []
    assert run.state.version == version


@pytest.mark.parametrize(
    ("event_type", "data", "missing"),
    [
        ("nc.accepted", {"reference": REFERENCE}, "window"),
        ("nc.accepted", {"reference": "", "window": "2026-12-02"}, "reference"),
        ("donor.rejected", {}, "cause"),
        ("port.failed", {"reason": None}, "reason"),
    ],
)
def test_message_missing_required_data_is_rejected(
    event_type: str, data: dict[str, Any], missing: str
) -> None:
    run = requested()
    decision = run.send(event_type, data)
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code == "missing_data"
    assert decision.reason == f"{event_type} needs data field(s) {missing}"
    assert decision.events == []
    assert run.state.version == 1


@pytest.mark.parametrize("window", ["next tuesday", "2026-12-02T02:00:00", 20261202])
def test_message_with_an_unreadable_window_is_rejected(window: object) -> None:
    run = requested()
    decision = run.send("nc.accepted", {"reference": REFERENCE, "window": window})
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code == "invalid_data"
    assert decision.reason is not None and "data.window" in decision.reason
    assert run.state.stage == "requested"


# -- starting ---------------------------------------------------------------------------------


def test_start_refuses_bad_inputs_naming_each() -> None:
    with pytest.raises(InvalidStart) as error:
        engine.start(
            C,
            process_id="p",
            customer_id="c",
            subject="+34 612",
            language="fr",
            channel="web",
            actor="c",
            attributes={"colour": "red"},
            keys={"imei": "1"},
            now=MONDAY,
        )
    message = str(error.value)
    for part in ("'+34 612'", "language 'fr'", "'modality' is required", "['imei']", "['colour']"):
        assert part in message


def test_start_records_everything_replay_needs() -> None:
    run = requested(attributes={"modality": "prepaid", "donor_operator": "Orange"})
    (event,) = run.events
    assert event.type == "process.started"
    assert event.data["attributes"] == {"modality": "prepaid", "donor_operator": "Orange"}
    assert event.data["keys"] == {"msisdn": "612345678"}
    run.assert_replay_matches()


def test_view_is_the_same_truth_in_both_languages() -> None:
    run = in_donor_check()
    run.send("donor.rejected", {"cause": "RECH_ICCID"})
    es, en = run.view("es"), run.view("en")
    assert [r["id"] for r in es["controls"]] == [r["id"] for r in en["controls"]]
    assert [r["allowed"] for r in es["controls"]] == [r["allowed"] for r in en["controls"]]
    assert es["headline"] != en["headline"]
    assert view.build_view(C, run.state, run.now, "fr")["language"] == "es"


def test_a_reminder_whose_moment_passed_unsent_is_dropped_not_sent_late() -> None:
    run = in_donor_check()
    assert run.timer("notify:last_day_to_cancel") == madrid(2026, 12, 1, 9, 0)
    run.now = madrid(2026, 12, 1, 9, 30)  # the timer worker was down: nothing fired
    event = accepted(run.send("sim.shipped", {"tracking": "PQ1"}))
    assert event.effects["timers"] == {"cancel": ["notify:last_day_to_cancel"]}
    assert "notify:last_day_to_cancel" not in run.state.timers
    run.assert_replay_matches()


def test_timers_follow_a_postponed_window_without_being_recomputed_otherwise() -> None:
    run = scheduled()
    armed = dict(run.state.timers)
    event = accepted(run.send("sim.delivered"))
    assert "timers" not in event.effects  # nothing the timers depend on changed
    assert run.state.timers == armed
    run.act("postpone", {"new_date": "2026-12-10"})
    assert run.timer("notify:last_day_to_cancel") == madrid(2026, 12, 9, 9, 0)
    accepted(run.send("nc.window_changed", {"window": "2026-12-10"}))
    assert run.timer("timer:window_opens") == madrid(2026, 12, 10, 2, 0)


def test_a_postponed_window_waits_for_the_central_node_before_the_switch_starts() -> None:
    run = scheduled()
    run.act("postpone", {"new_date": "2026-12-10"})
    assert "timer:window_opens" not in run.state.timers
    run.advance(madrid(2026, 12, 10, 3, 0))
    assert run.state.stage == "scheduled"  # no confirmed window: nothing moves by itself
    run2 = scheduled()
    run2.act("postpone", {"new_date": "2026-12-10"})
    accepted(run2.send("nc.window_changed", {"window": "2026-12-10"}))
    assert run2.timer("timer:window_opens") == madrid(2026, 12, 10, 2, 0)
    run2.advance(madrid(2026, 12, 10, 3, 0))
    assert run2.state.stage == "porting"
    run2.assert_replay_matches()
