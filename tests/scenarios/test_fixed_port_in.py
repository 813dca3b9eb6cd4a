"""Spanish fixed-line and broadband port-in (``fixed_port_in`` v1) through the pure engine.

The request is made on Monday 30 November 2026 in Madrid, just before the Madrid December
bridge (Monday 7 December, moved Constitution Day, and Tuesday 8 December are holidays on
the portability calendar), so working-day arithmetic and holiday bounds are exercised.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain.model import Outcome, parse_iso

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

C = load("fixed_port_in.v2.yaml")
D = C.definition
NUMBER = "912345678"
REFERENCE = "ER-2026-000001"
DONOR_CODES = ["RECH_IDENT", "RECH_EXIST", "RECH_INACT", "RECH_TECNI", "RECH_DATOS"]

MONDAY = madrid(2026, 11, 30, 10, 0)
SLOT = "2026-12-03T09:00:00+01:00"  # Thursday 09:00


# -- drivers -----------------------------------------------------------------------------


def requested(at: datetime = MONDAY, **kwargs: Any) -> Run:
    kwargs.setdefault("attributes", {"donor_operator": "Movistar"})
    return Run.start(C, at, subject=NUMBER, **kwargs)


def booking() -> Run:
    run = requested()
    accepted(
        run.send(
            "order.accepted",
            {"access_type": "ftth", "order_id": "ORD-1"},
            at=madrid(2026, 11, 30, 11, 0),
        )
    )
    return run


def installation(slot: str = SLOT) -> Run:
    run = booking()
    run.act("book_installation", {"slot": slot})
    accepted(run.send("appointment.booked", {"slot": slot, "work_order": "WO-9"}))
    return run


def porting() -> Run:
    run = installation()
    accepted(run.send("visit.completed", at=madrid(2026, 12, 3, 12, 0)))
    return run


def scheduled_port() -> Run:
    run = porting()
    accepted(
        run.send(
            "er.accepted",
            {"reference": REFERENCE, "window": "2026-12-04"},
            at=madrid(2026, 12, 3, 13, 0),
        )
    )
    accepted(run.send("donor.confirmed", at=madrid(2026, 12, 3, 16, 0)))
    return run


def active() -> Run:
    run = scheduled_port()
    accepted(run.send("port.executed", at=madrid(2026, 12, 4, 10, 0)))
    return run


# -- happy path ----------------------------------------------------------------------------


def test_happy_path_from_request_to_equipment_returned() -> None:
    run = requested()
    assert run.state.stage == "requested"
    assert run.timer("sla:requested") == madrid(2026, 12, 1, 10, 0)
    assert run.date("withdrawal_until") == madrid(2026, 12, 14, 10, 0)
    assert run.view("es")["headline"] == (
        "Hemos recibido tu solicitud. Estamos comprobando la cobertura en tu casa."
    )
    assert (
        run.view("en")["headline"] == "We have your request. We are checking coverage at your home."
    )

    accepted(
        run.send(
            "order.accepted",
            {"access_type": "ftth", "order_id": "ORD-1"},
            at=madrid(2026, 11, 30, 11, 0),
        )
    )
    assert run.state.stage == "booking"
    assert run.state.keys == {"phone_number": NUMBER, "crm_order_id": "ORD-1"}
    # Five working days on the portability calendar skip the Madrid bridge (7 and 8 Dec).
    assert run.timer("sla:booking") == madrid(2026, 12, 9, 11, 0)
    assert run.view("en")["next"]["who"] == "customer"

    event = run.act("book_installation", {"slot": SLOT})
    assert run.state.stage == "installation"
    assert event_topics(event) == ["installation.booking_requested"]
    assert run.date("installation_appointment") == madrid(2026, 12, 3, 9, 0)
    assert run.state.dates["installation_appointment"]["confirmed"] is False
    assert run.date("reschedule_until") == madrid(2026, 12, 2, 14, 0)

    accepted(run.send("appointment.booked", {"slot": SLOT, "work_order": "WO-9"}))
    assert run.state.dates["installation_appointment"]["confirmed"] is True
    assert run.state.keys["work_order_id"] == "WO-9"
    assert run.view("es")["headline"] == (
        "El técnico irá a tu casa el jueves 3 de diciembre, entre las 09:00 y las 13:00."
    )
    assert run.view("en")["headline"] == (
        "The technician will come to your home on Thursday 3 December, between 09:00 and 13:00."
    )
    assert parse_iso(run.view("en")["headline_date"]) == madrid(2026, 12, 3, 9, 0)

    accepted(run.send("router.shipped", {"tracking": "TRK-1"}, at=madrid(2026, 12, 1, 9, 0)))
    accepted(run.send("router.delivered", at=madrid(2026, 12, 2, 12, 0)))
    assert run.state.attributes["router_status"] == "delivered"
    assert run.state.keys["router_tracking"] == "TRK-1"

    accepted(run.send("visit.completed", at=madrid(2026, 12, 3, 12, 0)))
    assert run.state.stage == "porting"
    assert run.date("installed_at") == madrid(2026, 12, 3, 12, 0)
    # The estimate: the port the next working day; cancel until 19:00 the day before.
    assert run.date("port_window") == madrid(2026, 12, 4, 8, 0)
    assert run.date("cancel_until") == madrid(2026, 12, 3, 19, 0)
    assert run.state.tasks["submit_port"]["status"] == "open"
    assert run.view("es")["headline"] == (
        "Tu fibra ya funciona. Tu número fijo pasa a nosotros el viernes 4 de diciembre."
    )

    accepted(
        run.send(
            "er.accepted",
            {"reference": REFERENCE, "window": "2026-12-04"},
            at=madrid(2026, 12, 3, 13, 0),
        )
    )
    assert run.state.keys["er_reference"] == REFERENCE
    assert run.state.tasks["submit_port"]["status"] == "done"
    accepted(run.send("donor.confirmed", at=madrid(2026, 12, 3, 16, 0)))
    assert run.state.dates["port_window"]["confirmed"] is True
    # EECC art. 106: 1 working day after the agreed date; Monday 7 and Tuesday 8 are holidays.
    assert run.date("activation_deadline") == madrid(2026, 12, 9, 20, 0)

    accepted(run.send("port.executed", at=madrid(2026, 12, 4, 10, 0)))
    assert (run.state.status, run.state.stage) == ("active", "active")
    assert run.date("equipment_return_until") == madrid(2026, 12, 19, 10, 0)
    assert run.view("es")["headline"] == (
        "Tu número y tu fibra ya funcionan con nosotros. Recuerda devolver el router de tu "
        "compañía anterior antes del sábado 19 de diciembre."
    )
    assert run.view("en")["headline"] == (
        "Your number and broadband now work with us. Remember to return your previous "
        "provider's router before Saturday 19 December."
    )

    event = run.act("equipment_returned", at=madrid(2026, 12, 10, 18, 0))
    assert event_topics(event) == ["donor_equipment.return_confirmed"]
    assert run.state.status == "completed"
    assert run.state.timers == {}
    assert run.view("en")["headline"] == "Your number and broadband now work with us."
    assert [row["state"] for row in run.view()["stages"]] == ["done"] * 5
    assert run_templates(run) == [
        "coverage_confirmed",
        "installation_booked",
        "installation_tomorrow",
        "broadband_installed",
        "last_day_to_cancel",
        "port_completed",
    ]
    run.assert_replay_matches()


def test_return_window_closes_the_process_by_itself_after_a_reminder() -> None:
    run = active()
    fired = run.advance(madrid(2026, 12, 19, 10, 0))
    assert [d.events[0].type for d in fired] == ["reminder.due", "deadline.return_window_over"]
    assert run_templates(run)[-1] == "return_equipment_reminder"
    assert run.state.status == "completed"
    assert refusal(run, "equipment_returned").code == "finished"
    run.assert_replay_matches()


def test_no_coverage_ends_the_process_as_failed() -> None:
    run = requested()
    accepted(run.send("order.rejected", {"reason": "no_coverage"}))
    assert run.state.status == "failed"
    assert run.state.attributes["failure_reason"] == "no_coverage"
    assert run.view("es")["headline"] == (
        "No pudimos hacer el cambio. Tu línea sigue con tu compañía actual."
    )
    run.assert_replay_matches()


def test_stage_list_shows_the_appointment_as_the_next_date() -> None:
    run = installation()
    rows = {row["id"]: row for row in run.view("en")["stages"]}
    assert [rows[s]["state"] for s in ("requested", "booking", "installation", "porting")] == [
        "done",
        "done",
        "current",
        "pending",
    ]
    assert rows["installation"]["actor_label"] == "The technician"
    nxt = run.view("en")["next"]
    assert nxt["who"] == "technician"
    assert parse_iso(nxt["when"]) == madrid(2026, 12, 3, 9, 0)
    assert nxt["confirmed"] is True
    run.assert_replay_matches()


# -- installation appointment ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("slot", "code", "en_message"),
    [
        (
            "2026-12-01T10:59:00+01:00",
            "too_early",
            "The earliest date is Tuesday 1 December at 11:00.",
        ),
        (
            "2026-12-21T11:01:00+01:00",
            "too_late",
            "The latest date is Monday 21 December at 11:00.",
        ),
        ("2026-12-05T10:00:00+01:00", "weekend", "That day is a weekend; choose a working day."),
        (
            "2026-12-07T10:00:00+01:00",
            "holiday",
            "That day is a public holiday (Monday following Constitution Day); "
            "choose a working day.",
        ),
        (
            "2026-12-08T10:00:00+01:00",
            "holiday",
            "That day is a public holiday (Immaculate Conception); choose a working day.",
        ),
        ("next thursday", "invalid_datetime", "Enter a valid date and time."),
        ("", "required", "This is required."),
    ],
)
def test_installation_slot_out_of_bounds_is_refused(slot: str, code: str, en_message: str) -> None:
    run = booking()
    error = refusal(run, "book_installation", {"slot": slot})
    assert error.code == "invalid_params"
    assert problem_codes(error) == {"slot": code}
    assert error.problems[0].message.en == en_message
    assert error.problems[0].message.es
    assert run.state.stage == "booking"


def test_installation_slot_bounds_themselves_are_accepted() -> None:
    for slot in ("2026-12-01T11:00:00+01:00", "2026-12-21T11:00:00+01:00"):
        run = booking()
        run.act("book_installation", {"slot": slot})
        assert run.state.stage == "installation"


def test_booking_is_refused_outside_its_stage() -> None:
    assert refusal(requested(), "book_installation", {"slot": SLOT}).code == "not_in_stage"
    assert refusal(installation(), "book_installation", {"slot": SLOT}).code == "not_in_stage"


def test_reschedule_until_14h_of_the_working_day_before() -> None:
    run = installation("2026-12-09T09:00:00+01:00")  # Wednesday after the bridge
    # The working day before Wednesday 9 is Friday 4 (7 and 8 are Madrid holidays).
    assert run.date("reschedule_until") == madrid(2026, 12, 4, 14, 0)
    run.advance(madrid(2026, 12, 4, 13, 59))
    run.act("reschedule_installation", {"slot": "2026-12-10T15:00:00+01:00"})
    assert run.date("installation_appointment") == madrid(2026, 12, 10, 15, 0)
    assert run.state.dates["installation_appointment"]["confirmed"] is False
    assert run.date("reschedule_until") == madrid(2026, 12, 9, 14, 0)
    assert event_topics(run.events[-1]) == ["installation.reschedule_requested"]

    run.advance(madrid(2026, 12, 9, 14, 0))
    row = run.control("reschedule_installation", "es")
    assert (row["allowed"], row["reason_code"]) == (False, "cutoff_passed")
    assert row["reason"] == "El plazo para hacerlo terminó el miércoles 9 de diciembre a las 14:00."
    error = refusal(run, "reschedule_installation", {"slot": "2026-12-11T09:00:00+01:00"})
    assert error.code == "cutoff_passed"
    assert error.instead is not None and "call us" in error.instead.en
    run.assert_replay_matches()


def test_reschedule_refuses_a_holiday_and_is_not_offered_before_booking() -> None:
    run = installation()
    error = refusal(run, "reschedule_installation", {"slot": "2026-12-08T09:00:00+01:00"})
    assert problem_codes(error) == {"slot": "holiday"}
    assert refusal(booking(), "reschedule_installation", {"slot": SLOT}).code == "not_in_stage"


def test_installation_reminder_the_day_before() -> None:
    run = installation()
    fired = run.advance(madrid(2026, 12, 2, 9, 0))
    assert [d.events[0].type for d in fired] == ["reminder.due"]
    assert run_templates(run)[-1] == "installation_tomorrow"
    run.assert_replay_matches()


def test_customer_absent_offers_rebooking() -> None:
    run = installation()
    event = accepted(run.send("visit.customer_absent", at=madrid(2026, 12, 3, 10, 0)))
    assert run.state.stage == "booking"
    assert run.state.open_incidents() == ["CUSTOMER_ABSENT"]
    assert "installation_appointment" not in run.state.dates
    assert "customer_absent" in [m["payload"].get("template") for m in event.effects["outbox"]]
    assert_incident_view(run, "CUSTOMER_ABSENT")
    assert run.view("en")["compensation"] == []  # the customer's absence is not compensated

    run.act("book_installation", {"slot": "2026-12-09T16:00:00+01:00"})
    assert run.state.incidents["CUSTOMER_ABSENT"]["status"] == "resolved"
    assert run.state.stage == "installation"
    run.assert_replay_matches()


def test_technician_no_show_is_compensated_once_per_missed_appointment() -> None:
    run = installation()
    accepted(run.send("visit.technician_no_show", at=madrid(2026, 12, 3, 14, 0)))
    assert run.state.stage == "booking"
    assert_incident_view(run, "TECH_NO_SHOW")
    (row,) = run.view("en")["compensation"]
    assert (row["id"], row["units"], row["amount"], row["currency"]) == (
        "missed_appointment",
        1,
        "30.00",
        "EUR",
    )
    # The amount is the operator's commitment (operator.toml), not a regulator's figure.
    assert row["basis"] == "commitment"
    assert row["verify"] and "not verified" in row["verify"]

    run.act("book_installation", {"slot": "2026-12-09T09:00:00+01:00"})
    accepted(run.send("appointment.booked", {"slot": "2026-12-09T09:00:00+01:00"}))
    accepted(run.send("visit.technician_no_show", at=madrid(2026, 12, 9, 14, 0)))
    (row,) = run.view("es")["compensation"]
    assert (row["units"], row["amount"]) == (2, "60.00")
    assert row["explanation"] == (
        "El técnico no fue a la cita acordada; te lo descontamos en tu próxima factura. "
        "Es un compromiso nuestro, recogido en nuestras condiciones; no es un importe fijado "
        "por la normativa."
    )
    run.assert_replay_matches()


def test_visit_without_a_report_opens_a_check_task() -> None:
    run = installation()
    assert run.timer("timer:visit_unreported") == madrid(2026, 12, 3, 15, 0)
    run.advance(madrid(2026, 12, 3, 15, 0))
    task = run.state.tasks["check_visit"]
    assert (task["status"], task["team"]) == ("open", "field_desk")
    assert parse_iso(task["due_at"]) == madrid(2026, 12, 3, 19, 0)
    accepted(run.send("visit.completed", at=madrid(2026, 12, 3, 16, 0)))
    assert run.state.tasks["check_visit"]["status"] == "done"
    run.assert_replay_matches()


# -- router delivery ---------------------------------------------------------------------------


def test_failed_router_delivery_is_arranged_again() -> None:
    run = booking()
    accepted(run.send("router.shipped", {"tracking": "TRK-2"}))
    accepted(run.send("router.delivery_failed", {"reason": "absent"}))
    assert run.state.attributes["router_status"] == "failed"
    assert_incident_view(run, "ROUTER_DELIVERY_FAILED")

    error = refusal(
        run, "arrange_router_delivery", {"delivery_date": "2026-12-08", "where": "home"}
    )
    assert problem_codes(error) == {"delivery_date": "holiday"}
    error = refusal(
        run, "arrange_router_delivery", {"delivery_date": "2026-12-04", "where": "roof"}
    )
    assert problem_codes(error) == {"where": "invalid_choice"}
    event = run.act(
        "arrange_router_delivery", {"delivery_date": "2026-12-02", "where": "pickup_point"}
    )
    assert event_topics(event) == ["router.redelivery_requested"]
    assert run.state.attributes["router_delivery_to"] == "pickup_point"
    assert run.state.incidents["ROUTER_DELIVERY_FAILED"]["status"] == "resolved"
    assert (
        refusal(
            run, "arrange_router_delivery", {"delivery_date": "2026-12-02", "where": "home"}
        ).code
        == "no_incident"
    )
    run.assert_replay_matches()


# -- the port ----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", DONOR_CODES)
def test_donor_rejection_opens_its_incident_and_keeps_the_broadband(code: str) -> None:
    run = scheduled_port()
    event = accepted(run.send("donor.rejected", {"cause": code}, at=madrid(2026, 12, 3, 17, 0)))
    assert run.state.stage == "porting"
    assert run.state.open_incidents() == [code]
    assert "port_window" not in run.state.dates
    assert "cancel_until" not in run.state.dates
    assert "timer:activation_overdue" not in run.state.timers
    assert "port_problem" in [m["payload"].get("template") for m in event.effects["outbox"]]
    assert_incident_view(run, code)
    assert D.incidents[code].verify and "code list" in D.incidents[code].verify
    run.assert_replay_matches()


def test_id_rejection_resolved_by_documents_and_resubmission() -> None:
    run = scheduled_port()
    run.send("donor.rejected", {"cause": "RECH_IDENT"})
    assert problem_codes(refusal(run, "correct_id", {"id_number": "12 34"})) == {
        "id_number": "invalid_format"
    }
    event = run.act("send_id_document", {"document": "dni.pdf"})
    assert event_topics(event) == ["document.submitted"]
    assert run.state.requirements["id_document"]["state"] == "submitted"
    accepted(run.send("document.rejected", {"requirement": "id_document", "reason": "blurry"}))
    assert run.state.requirements["id_document"]["state"] == "rejected"
    run.act("send_id_document", {"document": "dni2.pdf"})
    accepted(run.send("document.accepted", {"requirement": "id_document"}))
    assert run.state.requirements["id_document"]["state"] == "accepted"
    run.act("correct_id", {"id_number": "12345678Z"})
    assert run.state.tasks["resubmit_request"]["status"] == "open"

    accepted(
        run.send(
            "port.resubmitted",
            {"reference": "ER-2", "window": "2026-12-10"},
            at=madrid(2026, 12, 4, 9, 0),
        )
    )
    assert run.state.open_incidents() == []
    assert run.state.keys["er_reference"] == "ER-2"
    assert run.date("port_window") == madrid(2026, 12, 10, 8, 0)
    assert run.date("cancel_until") == madrid(2026, 12, 9, 19, 0)
    assert run.state.tasks["resubmit_request"]["status"] == "done"
    run.assert_replay_matches()


def test_inactive_line_can_end_with_a_new_number() -> None:
    run = scheduled_port()
    run.send("donor.rejected", {"cause": "RECH_INACT"})
    run.act("retry_port")
    assert event_topics(run.events[-1]) == ["port.resubmit_requested"]
    event = run.act("take_new_number")
    assert event_topics(event) == ["number.new_requested"]
    assert run.state.status == "cancelled"
    assert run.state.attributes["ended_by"] == "new_number"
    run.assert_replay_matches()


@pytest.mark.parametrize(
    "control", ["send_id_document", "correct_id", "retry_port", "take_new_number"]
)
def test_rejection_controls_need_their_incident(control: str) -> None:
    run = scheduled_port()
    row = run.control(control, "en")
    assert (row["allowed"], row["reason_code"]) == (False, "no_incident")
    assert refusal(run, control, {}).code == "no_incident"
    run.send("donor.rejected", {"cause": "RECH_TECNI"})
    assert refusal(run, control, {}).code == "other_incident"  # this cause offers nothing to do


def test_rejection_with_an_unknown_cause_is_rejected_not_recorded() -> None:
    run = scheduled_port()
    decision = run.send("donor.rejected", {"cause": "RECH_WHATEVER"})
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code == "invalid_data"
    assert run.state.open_incidents() == []


def test_activation_overdue_opens_port_delayed_and_compensation_grows() -> None:
    run = scheduled_port()
    run.advance(madrid(2026, 12, 9, 19, 59))
    assert run.state.open_incidents() == []
    run.advance(madrid(2026, 12, 9, 20, 0))
    assert run.state.open_incidents() == ["PORT_DELAYED"]
    assert_incident_view(run, "PORT_DELAYED")
    assert run.view("es")["incidents"][0]["what_happened"] == (
        "Tu número debía funcionar con nosotros antes del miércoles 9 de diciembre a las "
        "20:00 y aún no es así."
    )
    assert run.state.tasks["chase_activation"]["team"] == "portability_desk"
    run.advance(madrid(2026, 12, 11, 21, 0))
    (row,) = run.view("en")["compensation"]
    assert (row["id"], row["units"], row["amount"]) == ("port_delay", 2, "5.00")
    accepted(run.send("port.executed", at=madrid(2026, 12, 12, 9, 0)))
    assert run.state.incidents["PORT_DELAYED"]["status"] == "resolved"
    assert run.state.tasks["chase_activation"]["status"] == "done"
    run.advance(madrid(2026, 12, 15, 9, 0))
    (row,) = run.view("en")["compensation"]
    assert (row["units"], row["amount"]) == (2, "5.00")
    run.assert_replay_matches()


def test_loss_of_service_over_one_working_day_opens_an_incident_and_compensation() -> None:
    run = scheduled_port()
    # Friday 4 at 09:00 the donor cuts the line; one working day later is Wednesday 9
    # (weekend, then the Madrid bridge).
    accepted(run.send("donor.service_ended", at=madrid(2026, 12, 4, 9, 0)))
    assert "service_restore_deadline" not in {r["id"] for r in run.view()["dates"]}
    assert run.timer("timer:service_loss") == madrid(2026, 12, 9, 9, 0)
    run.advance(madrid(2026, 12, 9, 9, 0))
    assert "SERVICE_LOSS" in run.state.open_incidents()
    assert_incident_view(run, "SERVICE_LOSS")
    assert run.view("en")["headline"] == D.incidents["SERVICE_LOSS"].headline.en  # type: ignore[union-attr]
    task = run.state.tasks["restore_service"]
    assert task["status"] == "open"
    run.advance(madrid(2026, 12, 11, 9, 0))
    rows = {row["id"]: row for row in run.view("en")["compensation"]}
    assert (rows["service_loss"]["units"], rows["service_loss"]["amount"]) == (2, "40.00")
    run.assert_replay_matches()


# -- cancellation --------------------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["requested", "booking", "installation", "porting"])
def test_cancel_is_allowed_before_the_cut_off(stage: str) -> None:
    run = {
        "requested": requested,
        "booking": booking,
        "installation": installation,
        "porting": scheduled_port,
    }[stage]()
    event = run.act("cancel")
    assert event_topics(event) == ["order.cancel_requested"]
    assert run.state.status == "cancelled"
    assert run.state.timers == {}
    assert run.view("en")["headline"] == (
        "The move was cancelled. Your number stays with your current provider."
    )
    run.assert_replay_matches()


def test_cancel_is_refused_from_19h_of_the_day_before_the_port() -> None:
    run = scheduled_port()
    fired = run.advance(madrid(2026, 12, 3, 18, 59))
    assert run.control("cancel")["allowed"] is True
    assert run_templates(run)[-1] == "last_day_to_cancel"
    assert fired == []  # the reminder (14:00) was before the donor confirmed at 16:00
    run.advance(madrid(2026, 12, 3, 19, 0))
    error = refusal(run, "cancel")
    assert error.code == "cutoff_passed"
    assert error.reason.es == "El plazo para hacerlo terminó el jueves 3 de diciembre a las 19:00."
    assert error.instead is not None and "14" in error.instead.en
    run.assert_replay_matches()


def test_cancel_is_refused_once_the_number_works() -> None:
    run = active()
    assert refusal(run, "cancel").code == "not_in_stage"


def test_er_cancellation_ends_the_process() -> None:
    run = scheduled_port()
    accepted(run.send("port.cancelled", {"cause": "CANC_ABONA"}))
    assert run.state.status == "cancelled"
    assert send_ignored(run, "port.executed") == "process_finished"
    run.assert_replay_matches()


# -- controls offered and messages out of order --------------------------------------------------


def test_controls_offered_in_each_stage() -> None:
    run = requested()
    assert allowed_controls(run) == {"cancel"}
    run.send("order.accepted")
    assert allowed_controls(run) == {"cancel", "book_installation"}
    run.act("book_installation", {"slot": SLOT})
    assert allowed_controls(run) == {"cancel", "reschedule_installation"}
    run.send("visit.completed", at=madrid(2026, 12, 3, 12, 0))
    assert allowed_controls(run) == {"cancel", "postpone_port"}
    run.send("port.executed", at=madrid(2026, 12, 3, 18, 0))
    assert allowed_controls(run) == {"equipment_returned"}
    run.assert_replay_matches()


def test_equipment_returned_is_refused_before_the_port() -> None:
    assert refusal(porting(), "equipment_returned").code == "not_in_stage"


def test_early_messages_wait_for_their_stage() -> None:
    run = requested()
    assert parked_reason(run.send("visit.completed")) == "parked"
    assert parked_reason(run.send("port.executed")) == "parked"
    assert parked_reason(run.send("document.accepted", {"requirement": "passport"})) == "parked"
    assert (len(run.state.parked), run.state.ignored) == (3, 0)
    assert run.state.stage == "requested"
    run.assert_replay_matches()


def test_subject_must_be_a_spanish_landline() -> None:
    from relevo.domain.errors import InvalidStart

    with pytest.raises(InvalidStart, match="landline"):
        Run.start(C, MONDAY, subject="612345678", attributes={})
