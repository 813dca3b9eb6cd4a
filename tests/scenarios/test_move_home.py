"""Moving home with electricity or gas (``move_home`` v1) through the pure engine.

The customer plans the move on Thursday 1 October 2026: out of the old home on Friday 30
October, supply in the new home from Monday 26 October. Monday 12 October (Fiesta
Nacional) is a national holiday.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from .helpers import (
    Run,
    accepted,
    allowed_controls,
    assert_incident_view,
    event_topics,
    load,
    madrid,
    parked_reason,
    problem_codes,
    refusal,
    run_templates,
    send_ignored,
)

C = load("move_home.v1.yaml")
D = C.definition
OLD_CUPS = "ES0031405000000001XY"
NEW_CUPS = "ES0021000000987654ZZ"
THURSDAY = madrid(2026, 10, 1, 10, 0)


# -- drivers -----------------------------------------------------------------------------


def planning(at: datetime = THURSDAY) -> Run:
    return Run.start(C, at, subject=OLD_CUPS, attributes={"supply_type": "electricity"})


def planned(
    move_out: str = "2026-10-30", move_in: str = "2026-10-26", route: str = "transfer"
) -> Run:
    run = planning()
    run.act("set_move_out_date", {"date": move_out, "old_supply": "deactivate"})
    run.act("set_move_in_date", {"date": move_in})
    run.act("choose_route", {"route": route, "new_cups": NEW_CUPS})
    return run


def new_address(**kwargs: Any) -> Run:
    run = planned(**kwargs)
    run.act("confirm_plan")
    accepted(
        run.send("new_supply.requested", {"request_id": "M1-1"}, at=madrid(2026, 10, 1, 12, 0))
    )
    accepted(run.send("old_supply.requested", {"request_id": "B1-1"}))
    return run


def new_active() -> Run:
    run = new_address()
    accepted(
        run.send(
            "new_supply.activated", {"activation_date": "2026-10-26"}, at=madrid(2026, 10, 26, 8, 0)
        )
    )
    return run


def move_out() -> Run:
    run = new_active()
    run.advance(madrid(2026, 10, 30, 23, 59))
    assert run.state.stage == "move_out"
    return run


# -- happy path ----------------------------------------------------------------------------


def test_happy_path_new_home_first_then_old_home_closed() -> None:
    run = planning()
    assert run.state.stage == "planning"
    assert (
        run.view("es")["headline"] == "Cuéntanos las fechas de tu mudanza y nos ocupamos del resto."
    )
    assert run.view("en")["next"]["who"] == "customer"
    assert run.timer("sla:planning") == madrid(2026, 10, 8, 10, 0)

    event = run.act("set_move_out_date", {"date": "2026-10-30", "old_supply": "deactivate"})
    assert event_topics(event) == ["move_out.date_set"]
    assert run.date("move_out_date") == madrid(2026, 10, 30, 23, 59)
    assert run.date("move_out_cutoff") == madrid(2026, 10, 28, 14, 0)
    run.act("set_move_in_date", {"date": "2026-10-26"})
    assert run.date("move_in_date") == madrid(2026, 10, 26)
    # Two working days before Monday 26 is Thursday 22.
    assert run.date("move_in_cutoff") == madrid(2026, 10, 22, 14, 0)
    run.act("choose_route", {"route": "subrogation", "new_cups": NEW_CUPS})
    assert run.state.keys["new_cups"] == NEW_CUPS
    run.act("final_bill_delivery", {"to": "email"})
    assert run.state.attributes["final_bill_to"] == "email"

    event = run.act("confirm_plan")
    assert event_topics(event) == ["move.requested"]
    assert run.state.stage == "new_address"
    assert run.view("es")["headline"] == (
        "Tu nueva casa tendrá luz o gas a tu nombre desde el lunes 26 de octubre. Tu casa "
        "actual sigue con suministro hasta el viernes 30 de octubre."
    )
    assert run.view("en")["headline"] == (
        "Your new home will have supply in your name from Monday 26 October. Your current "
        "home keeps its supply until Friday 30 October."
    )
    accepted(
        run.send("new_supply.requested", {"request_id": "M1-1"}, at=madrid(2026, 10, 1, 12, 0))
    )
    accepted(run.send("old_supply.requested", {"request_id": "B1-1"}))
    assert run.state.keys == {
        "old_cups": OLD_CUPS,
        "new_cups": NEW_CUPS,
        "new_request_id": "M1-1",
        "old_request_id": "B1-1",
    }

    accepted(
        run.send(
            "new_supply.activated", {"activation_date": "2026-10-26"}, at=madrid(2026, 10, 26, 8, 0)
        )
    )
    assert run.state.stage == "new_active"
    assert "timer:supply_gap" not in run.state.timers
    assert run.view("es")["headline"] == (
        "Tu nueva casa ya tiene suministro desde el lunes 26 de octubre. El viernes 30 de "
        "octubre damos de baja tu casa anterior."
    )

    fired = run.advance(madrid(2026, 10, 30, 23, 59))
    assert [d.events[0].type for d in fired] == ["reminder.due", "deadline.move_out_day"]
    assert run.state.stage == "move_out"
    assert run.state.requirements["final_reading"]["state"] == "missing"
    assert run.date("reading_until") == madrid(2026, 11, 2, 23, 59)
    assert run.view("en")["headline"] == (
        "We are closing the supply at your old home. Send us the meter reading before "
        "Monday 2 November."
    )
    needed = {row["id"]: row for row in run.view("en")["needed"]}
    assert needed["final_reading"]["action_needed"] is True

    event = run.act("send_reading_photo", {"photo": "meter.jpg"}, at=madrid(2026, 10, 31, 10, 0))
    assert event_topics(event) == ["meter.reading_photo_submitted"]
    accepted(run.send("document.accepted", {"requirement": "final_reading"}))
    assert run.state.requirements["final_reading"]["state"] == "accepted"

    accepted(run.send("old_supply.ended", at=madrid(2026, 11, 2, 9, 0)))
    assert run.state.stage == "final_bill"
    assert run.date("final_bill_due") == madrid(2026, 12, 11, 23, 59)
    assert run.timer("sla:final_bill") == madrid(2026, 12, 14, 9, 0)

    accepted(run.send("bill.final_issued", {"bill_id": "FF-1"}, at=madrid(2026, 11, 10, 9, 0)))
    assert run.state.status == "completed"
    assert (
        run.view("en")["headline"]
        == "Move done: your new home has supply and the old one is closed."
    )
    assert [row["state"] for row in run.view()["stages"]] == ["done"] * 5
    assert run_templates(run) == [
        "move_requested",
        "new_supply_ready",
        "move_out_tomorrow",
        "final_bill_sent",
    ]
    run.assert_replay_matches()


def test_distributor_reading_at_the_closure_fulfils_the_reading_requirement() -> None:
    run = move_out()
    accepted(run.send("old_supply.ended", {"reading": "012345"}))
    assert run.state.stage == "final_bill"
    assert run.state.requirements["final_reading"]["state"] == "accepted"
    assert run.state.attributes["final_reading"] == "012345"
    run.assert_replay_matches()


# -- never without supply ---------------------------------------------------------------------


def test_move_in_can_never_be_after_move_out() -> None:
    run = planning()
    run.act("set_move_out_date", {"date": "2026-10-30", "old_supply": "leave_active"})
    error = refusal(run, "set_move_in_date", {"date": "2026-11-02"})
    assert problem_codes(error) == {"date": "too_late"}
    assert error.problems[0].message.en == "The latest date is Friday 30 October."
    run.act("set_move_in_date", {"date": "2026-10-30"})  # same day is fine
    assert run.date("move_in_date") == madrid(2026, 10, 30)
    run.assert_replay_matches()


def test_new_supply_late_two_working_days_before_move_out_holds_the_deactivation() -> None:
    run = new_address()
    # Two working days before Friday 30 at 12:00: Wednesday 28.
    assert run.timer("timer:supply_gap") == madrid(2026, 10, 28, 12, 0)
    fired = run.advance(madrid(2026, 10, 28, 12, 0))
    assert "deadline.supply_gap" in [d.events[0].type for d in fired]
    gap = next(d.events[0] for d in fired if d.events[0].type == "deadline.supply_gap")
    assert event_topics(gap) == ["old_supply.deactivation_hold_requested"]
    assert "supply_gap" in run_templates(run)
    assert "SUPPLY_GAP" in run.state.open_incidents()
    assert_incident_view(run, "SUPPLY_GAP")
    assert run.view("es")["headline"] == (
        "Tu nueva casa aún no tiene suministro, así que no daremos de baja la anterior el "
        "viernes 30 de octubre."
    )
    task = run.state.tasks["hold_deactivation"]
    assert (task["status"], task["team"]) == ("open", "switching_desk")

    # The customer moves the move-out two weeks later, before the 14:00 cut-off.
    run.act(
        "set_move_out_date",
        {"date": "2026-11-13", "old_supply": "deactivate"},
        at=madrid(2026, 10, 28, 13, 0),
    )
    assert run.state.incidents["SUPPLY_GAP"]["status"] == "resolved"
    assert run.timer("timer:supply_gap") == madrid(2026, 11, 11, 12, 0)
    accepted(
        run.send(
            "new_supply.activated", {"activation_date": "2026-10-29"}, at=madrid(2026, 10, 29, 9, 0)
        )
    )
    assert run.state.stage == "new_active"
    assert run.state.tasks["hold_deactivation"]["status"] == "done"
    run.assert_replay_matches()


def test_move_out_moved_before_the_move_in_is_caught_by_the_timer() -> None:
    run = new_address()
    run.act("set_move_out_date", {"date": "2026-10-20", "old_supply": "deactivate"})
    # The old supply would stop before the new one starts: the check falls on Friday 16.
    assert run.timer("timer:supply_gap") == madrid(2026, 10, 16, 12, 0)
    run.advance(madrid(2026, 10, 16, 12, 0))
    assert "SUPPLY_GAP" in run.state.open_incidents()
    run.assert_replay_matches()


def test_new_supply_not_active_on_the_move_in_day_opens_an_incident() -> None:
    run = new_address(move_out="2026-11-13")
    run.advance(madrid(2026, 10, 27, 8, 59))
    assert "NEW_SUPPLY_LATE" not in run.state.open_incidents()
    run.advance(madrid(2026, 10, 27, 9, 0))
    assert run.state.open_incidents() == ["NEW_SUPPLY_LATE"]
    assert_incident_view(run, "NEW_SUPPLY_LATE")
    assert run.view("en")["incidents"][0]["what_happened"] == (
        "Your new home should have had supply from Monday 26 October and the distribution "
        "company has not started it yet."
    )
    assert run.state.tasks["chase_new_supply"]["status"] == "open"
    run.assert_replay_matches()


# -- the new address ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "incident"),
    [
        ("02", "R02"),
        ("03", "R03"),
        ("36", "R03"),
        ("57", "CIE_REQUIRED"),
        ("59", "CIE_REQUIRED"),
        ("60", "CIE_REQUIRED"),
        ("61", "CIE_REQUIRED"),
        ("99", "R99"),
    ],
)
def test_new_address_rejection_opens_the_incident_of_its_code(code: str, incident: str) -> None:
    run = new_address()
    accepted(run.send("new_supply.rejected", {"code": code}, at=madrid(2026, 10, 5, 10, 0)))
    assert run.state.stage == "new_address"
    assert run.state.open_incidents() == [incident]
    assert run.state.attributes["rejection_code"] == code
    assert_incident_view(run, incident)
    run.assert_replay_matches()


def test_no_active_supply_switches_the_route_to_a_new_connection() -> None:
    run = new_address()
    run.send("new_supply.rejected", {"code": "02"})
    event = run.act("choose_route", {"route": "new_supply"})
    assert event_topics(event) == ["move_in.route_chosen"]
    assert run.state.attributes["route"] == "new_supply"
    assert run.state.incidents["R02"]["status"] == "resolved"
    assert problem_codes(refusal(run, "choose_route", {"route": "magic"})) == {
        "route": "invalid_choice"
    }
    run.assert_replay_matches()


def test_certificate_requested_uploaded_and_accepted() -> None:
    run = new_address()
    accepted(run.send("cie.requested"))
    assert_incident_view(run, "CIE_REQUIRED")
    assert (
        run.view("en")["headline"]
        == "To start the supply at your new home we need the installation certificate."
    )
    event = run.act("upload_cie", {"document": "cie.pdf"})
    assert event_topics(event) == ["document.submitted"]
    assert run.state.requirements["cie"]["state"] == "submitted"
    accepted(run.send("document.rejected", {"requirement": "cie", "reason": "unsigned"}))
    assert run.state.requirements["cie"]["state"] == "rejected"
    run.act("upload_cie", {"document": "cie2.pdf"})
    accepted(run.send("document.accepted", {"requirement": "cie"}))
    accepted(run.send("new_supply.resubmitted", {"request_id": "A3-2"}))
    assert run.state.open_incidents() == []
    assert run.state.keys["new_request_id"] == "A3-2"
    run.assert_replay_matches()


def test_id_mismatch_corrected() -> None:
    run = new_address()
    run.send("new_supply.rejected", {"code": "03"})
    assert problem_codes(refusal(run, "correct_holder_id", {"holder_id": "X"})) == {
        "holder_id": "invalid_format"
    }
    event = run.act("correct_holder_id", {"holder_id": "X1234567L"})
    assert event_topics(event) == ["move_in.data_corrected"]
    assert run.state.tasks["fix_request"]["status"] == "open"
    run.assert_replay_matches()


def test_field_visit_booked_before_the_move_in_day() -> None:
    run = new_address()
    assert (
        refusal(run, "book_field_visit", {"slot": "2026-10-20T09:00:00+02:00"}).code
        == "not_applicable"
    )
    accepted(run.send("field_work.needed"))
    error = refusal(run, "book_field_visit", {"slot": "2026-10-27T09:00:00+01:00"})
    assert problem_codes(error) == {"slot": "too_late"}
    assert problem_codes(
        refusal(run, "book_field_visit", {"slot": "2026-10-12T09:00:00+02:00"})
    ) == {"slot": "holiday"}
    run.act("book_field_visit", {"slot": "2026-10-20T09:00:00+02:00"})
    assert run.date("field_appointment") == madrid(2026, 10, 20, 9, 0)
    accepted(run.send("field.dispatched", {"appointment": "2026-10-20T09:00:00+02:00"}))
    assert run.state.dates["field_appointment"]["confirmed"] is True
    accepted(run.send("field.incidence", {"code": "01"}, at=madrid(2026, 10, 20, 11, 0)))
    assert_incident_view(run, "F01")
    run.act("book_field_visit", {"slot": "2026-10-22T16:00:00+02:00"})
    assert run.state.incidents["F01"]["status"] == "resolved"
    accepted(
        run.send("field.incidence", {"code": "08", "appointment": "2026-10-22T17:00:00+02:00"})
    )
    assert run.date("field_appointment") == madrid(2026, 10, 22, 17, 0)
    run.assert_replay_matches()


# -- planning controls --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field", "code"),
    [
        ({"date": "2026-10-02", "old_supply": "deactivate"}, "date", "too_early"),
        ({"date": "2026-12-31", "old_supply": "deactivate"}, "date", "too_late"),
        ({"date": "2026-10-30", "old_supply": "burn"}, "old_supply", "invalid_choice"),
        ({"date": "2026-10-30"}, "old_supply", "required"),
        ({"date": "30/10/2026", "old_supply": "deactivate"}, "date", "invalid_date"),
    ],
)
def test_move_out_date_out_of_bounds(params: dict[str, Any], field: str, code: str) -> None:
    error = refusal(planning(), "set_move_out_date", params)
    assert problem_codes(error) == {field: code}


@pytest.mark.parametrize(
    ("date", "code"),
    [("2026-10-05", "too_early"), ("2026-10-12", "holiday"), ("2026-10-24", "weekend")],
)
def test_move_in_date_out_of_bounds(date: str, code: str) -> None:
    run = planning()
    run.act("set_move_out_date", {"date": "2026-10-30", "old_supply": "deactivate"})
    assert problem_codes(refusal(run, "set_move_in_date", {"date": date})) == {"date": code}


def test_move_in_needs_the_move_out_first_and_confirm_needs_everything() -> None:
    run = planning()
    error = refusal(run, "set_move_in_date", {"date": "2026-10-26"})
    assert error.code == "not_applicable"
    assert error.instead is not None and "the day you leave" in error.instead.en
    assert refusal(run, "confirm_plan").code == "not_applicable"
    run.act("set_move_out_date", {"date": "2026-10-30", "old_supply": "deactivate"})
    run.act("set_move_in_date", {"date": "2026-10-26"})
    assert refusal(run, "confirm_plan").code == "not_applicable"  # route still missing
    run.act("choose_route", {"route": "transfer"})
    assert "new_cups" not in run.state.keys  # optional, not given
    run.act("confirm_plan")
    assert run.state.stage == "new_address"
    assert refusal(run, "confirm_plan").code == "not_in_stage"
    run.assert_replay_matches()


def test_date_changes_close_at_their_cut_offs() -> None:
    run = new_address()
    run.advance(madrid(2026, 10, 22, 14, 0))
    error = refusal(run, "set_move_in_date", {"date": "2026-10-27"})
    assert error.code == "cutoff_passed"
    assert error.reason.en == "The deadline to do this was Thursday 22 October at 14:00."
    run.act("set_move_out_date", {"date": "2026-11-06", "old_supply": "deactivate"})
    assert run.date("move_out_cutoff") == madrid(2026, 11, 4, 14, 0)
    accepted(run.send("new_supply.activated", {"activation_date": "2026-10-26"}))
    run.advance(madrid(2026, 11, 4, 14, 0))
    assert (
        refusal(run, "set_move_out_date", {"date": "2026-11-20", "old_supply": "deactivate"}).code
        == "cutoff_passed"
    )
    run.assert_replay_matches()


# -- readings ------------------------------------------------------------------------------------


def test_reading_entered_by_hand_until_three_days_after_the_move_out() -> None:
    run = move_out()
    assert problem_codes(refusal(run, "enter_reading", {"reading": "12.5"})) == {
        "reading": "invalid_format"
    }
    run.advance(madrid(2026, 11, 2, 23, 58))
    event = run.act("enter_reading", {"reading": "012345"})
    assert event_topics(event) == ["meter.reading_submitted"]
    assert run.state.requirements["final_reading"]["state"] == "submitted"
    run.advance(madrid(2026, 11, 2, 23, 59))
    for control, params in (
        ("enter_reading", {"reading": "1"}),
        ("send_reading_photo", {"photo": "m.jpg"}),
    ):
        assert refusal(run, control, params).code == "cutoff_passed"
    run.assert_replay_matches()


def test_readings_are_not_asked_before_the_new_supply_works() -> None:
    run = new_address()
    assert refusal(run, "enter_reading", {"reading": "1"}).code == "not_in_stage"
    assert refusal(run, "send_reading_photo", {"photo": "m.jpg"}).code == "not_in_stage"


def test_rejected_reading_photo_is_asked_again() -> None:
    run = move_out()
    run.act("send_reading_photo", {"photo": "blurry.jpg"})
    accepted(run.send("document.rejected", {"requirement": "final_reading", "reason": "blurry"}))
    needed = {row["id"]: row for row in run.view("es")["needed"]}
    assert (needed["final_reading"]["state"], needed["final_reading"]["action_needed"]) == (
        "rejected",
        True,
    )
    run.assert_replay_matches()


# -- final bill ----------------------------------------------------------------------------------


def test_final_bill_later_than_six_weeks_opens_an_incident() -> None:
    run = move_out()
    accepted(run.send("old_supply.ended", at=madrid(2026, 11, 2, 9, 0)))
    run.advance(madrid(2026, 12, 11, 23, 59))
    assert run.state.open_incidents() == ["FINAL_BILL_LATE"]
    assert_incident_view(run, "FINAL_BILL_LATE")
    assert run.state.tasks["chase_final_bill"]["team"] == "billing"
    accepted(run.send("bill.final_issued", {"bill_id": "FF-9"}))
    assert run.state.status == "completed"
    assert run.state.incidents["FINAL_BILL_LATE"]["status"] == "resolved"
    run.assert_replay_matches()


# -- cancellation and controls offered -------------------------------------------------------------


@pytest.mark.parametrize("stage", ["planning", "new_address"])
def test_cancel_until_the_move_in_cut_off(stage: str) -> None:
    run = planning() if stage == "planning" else new_address()
    event = run.act("cancel")
    assert event_topics(event) == ["move.cancel_requested"]
    assert run.state.status == "cancelled"
    assert run.state.timers == {}
    assert (
        run.view("es")["headline"] == "Has cancelado la mudanza. Tu suministro sigue como estaba."
    )
    run.assert_replay_matches()


def test_cancel_is_refused_after_the_cut_off_and_once_the_new_home_works() -> None:
    run = new_address()
    run.advance(madrid(2026, 10, 22, 14, 0))
    error = refusal(run, "cancel")
    assert error.code == "cutoff_passed"
    assert error.instead is not None
    assert refusal(new_active(), "cancel").code == "not_in_stage"


def test_controls_offered_in_each_stage() -> None:
    run = planning()
    assert allowed_controls(run) == {
        "set_move_out_date",
        "choose_route",
        "final_bill_delivery",
        "cancel",
    }
    run = new_address()
    assert allowed_controls(run) == {
        "set_move_out_date",
        "set_move_in_date",
        "choose_route",
        "final_bill_delivery",
        "cancel",
    }
    accepted(run.send("new_supply.activated", {"activation_date": "2026-10-26"}))
    assert allowed_controls(run) == {
        "set_move_out_date",
        "final_bill_delivery",
        "send_reading_photo",
        "enter_reading",
    }
    run.advance(madrid(2026, 10, 30, 23, 59))
    assert allowed_controls(run) == {"final_bill_delivery", "send_reading_photo", "enter_reading"}
    run.send("old_supply.ended")
    assert allowed_controls(run) == set()
    run.assert_replay_matches()


def test_out_of_order_messages_are_ignored_and_kept() -> None:
    run = planning()
    early = run.send("new_supply.activated", {"activation_date": "2026-10-26"})
    assert parked_reason(early) == "parked"
    assert parked_reason(run.send("bill.final_issued", {"bill_id": "X"})) == "parked"
    run = new_active()
    assert send_ignored(run, "field.incidence", {"code": "01"}) == "out_of_order"
    run.assert_replay_matches()
