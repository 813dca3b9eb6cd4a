"""A service call, complaint or fault (``service_request`` v1) through the pure engine.

Fixed clocks: the tracking code given at once, the 15 working-day answer of Ley 10/2025
counted on national working days (across the December bridge and Christmas), escalation
before the deadline, human attention on request, the technician's visit with its cut-off,
the proposal confirmed or reopened, the survey, cancellation and replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain import controls
from relevo.domain.errors import InvalidStart
from relevo.domain.model import Outcome

from .helpers import (
    Run,
    accepted,
    allowed_controls,
    assert_incident_view,
    event_templates,
    event_topics,
    ignored_reason,
    load,
    madrid,
    parked_reason,
    problem_codes,
    refusal,
    run_templates,
)

C = load("service_request.v1.yaml")
D = C.definition
CODE = "SR-2026-000123"
MONDAY = madrid(2026, 11, 30, 10, 0)
VISIT = "2026-12-03T08:00:00+01:00"


def received(at: datetime = MONDAY, category: str = "fault", **attributes: Any) -> Run:
    values = {"category": category, "sector": "telecom", "service_ref": "912345678", **attributes}
    return Run.start(C, at, subject=CODE, attributes=values)


def in_progress(**kwargs: Any) -> Run:
    run = received(**kwargs)
    accepted(run.send("case.assigned", {"case_id": "CRM-991", "team": "fixed_faults"}))
    return run


def visiting() -> Run:
    run = in_progress()
    accepted(
        run.send(
            "appointment.booked",
            {"start": VISIT, "work_order_id": "WO-5566"},
            at=madrid(2026, 11, 30, 12, 0),
        )
    )
    return run


def proposed(at: datetime = madrid(2026, 12, 4, 12, 0)) -> Run:
    run = in_progress()
    accepted(run.send("resolution.proposed", {"summary": "Cambiamos el router"}, at=at))
    return run


# -- happy path ----------------------------------------------------------------------------


def test_fault_with_a_visit_from_tracking_code_to_survey() -> None:
    run = received()
    start = run.events[0]
    assert run.state.keys == {"tracking_code": CODE}
    assert event_topics(start) == ["case.opened"]
    assert event_templates(start) == ["request_received"]
    # 15 national working days from Monday 30 November, skipping Tuesday 8 December.
    assert run.date("answer_due") == madrid(2026, 12, 22, 23, 59)
    assert run.state.dates["answer_due"]["confirmed"] is True
    assert run.timer("sla:received") == madrid(2026, 11, 30, 14, 0)  # 4 working hours
    assert run.headline("es") == (
        "Hemos registrado tu petición con el código SR-2026-000123. "
        "Te responderemos como tarde el martes 22 de diciembre."
    )
    assert run.headline("en") == (
        "We have registered your request with code SR-2026-000123. "
        "We will answer by Tuesday 22 December at the latest."
    )
    assert run.task("triage")["status"] == "open"

    accepted(run.send("case.assigned", {"case_id": "CRM-991"}, at=madrid(2026, 11, 30, 11, 0)))
    assert run.state.stage == "in_progress"
    assert run.state.keys["crm_case_id"] == "CRM-991"
    assert run.task("triage")["status"] == "done"
    assert run.timer("sla:in_progress") == madrid(2026, 12, 2, 11, 0)
    assert run.view("en")["next"]["who"] == "back_office"

    event = accepted(
        run.send(
            "appointment.booked",
            {"start": VISIT, "work_order_id": "WO-5566"},
            at=madrid(2026, 11, 30, 12, 0),
        )
    )
    assert run.state.stage == "field_visit"
    assert run.state.keys["work_order_id"] == "WO-5566"
    assert event_templates(event) == ["visit_booked"]
    assert run.headline("es") == (
        "El técnico irá el jueves 3 de diciembre, entre las 08:00 y las 12:00."
    )
    assert run.headline("en") == (
        "The technician will come on Thursday 3 December, between 08:00 and 12:00."
    )
    assert run.date("visit_change_until") == madrid(2026, 12, 2, 18, 0)
    assert run.timer("notify:visit_tomorrow") == madrid(2026, 12, 2, 19, 0)

    accepted(run.send("visit.completed", {"outcome": "fixed"}, at=madrid(2026, 12, 3, 11, 0)))
    assert run.state.stage == "in_progress"
    # The RD 899/2009 interruption check fired while the fault was still open.
    assert run.task("interruption_compensation")["team"] == "billing_ops"

    accepted(run.send("resolution.proposed", {"summary": "Router cambiado"}))
    assert run.state.stage == "proposed"
    assert run.state.attributes["answered"] is True
    assert run.date("confirm_until") == madrid(2026, 12, 10, 23, 59)
    assert run.headline("es") == (
        "Te hemos propuesto una solución. Dinos si está resuelto antes del jueves 10 de diciembre."
    )

    event = run.act("confirm_resolution", at=madrid(2026, 12, 4, 9, 0))
    assert run.state.stage == "resolved"
    assert event_topics(event) == ["case.resolution_confirmed"]
    assert run.state.attributes["closed_by"] == "customer"
    assert run.date("survey_until") == madrid(2026, 12, 18, 23, 59)
    assert run.headline("en") == (
        "Your request SR-2026-000123 is solved. Would you tell us how we did?"
    )

    event = run.act("answer_survey", {"score": "5", "comment": "Muy rápidos"})
    assert run.state.status == "completed"
    assert run.state.attributes["csat"] == "5"
    assert event_topics(event) == ["survey.answered"]
    assert run.headline("es") == "Tu petición está resuelta. ¡Gracias por contárnoslo!"
    assert run.state.timers == {}
    assert run_templates(run) == [
        "request_received",
        "visit_booked",
        "visit_tomorrow",
        "resolution_proposed",
        "survey_invite",
    ]
    run.assert_replay_matches()


def test_question_answered_directly_without_a_visit() -> None:
    run = received(category="question")
    assert run.timer("sla:received") == madrid(2026, 12, 1, 10, 0)
    accepted(run.send("resolution.proposed", {"summary": "Así se lee tu factura"}))
    assert run.state.stage == "proposed"
    rows = {row["id"]: row["state"] for row in run.view()["stages"]}
    assert rows == {
        "received": "done",
        "in_progress": "skipped",
        "field_visit": "skipped",
        "proposed": "current",
        "resolved": "pending",
    }
    run.assert_replay_matches()


# -- the 15 working-day answer, escalation ---------------------------------------------------


def test_answer_due_across_christmas_and_escalation_before_it() -> None:
    run = in_progress(at=madrid(2026, 12, 14, 10, 0), category="complaint")
    # 15 national working days skip 25 December, 1 and 6 January: Thursday 7 January.
    assert run.date("answer_due") == madrid(2027, 1, 7, 23, 59)
    # Escalation 3 working days before: Thursday 31 December at 09:00.
    assert run.timer("timer:escalate_before_deadline") == madrid(2026, 12, 31, 9, 0)
    assert "escalate_at" not in {row["id"] for row in run.view()["dates"]}

    fired = run.advance(madrid(2026, 12, 31, 9, 0))
    event = fired[-1].events[0]
    assert event.type == "deadline.escalate_before_deadline"
    assert event_topics(event) == ["case.escalated_automatically"]
    assert run.state.attributes["escalated"] is True
    assert run.task("escalation_review")["team"] == "supervisors"
    assert run.view("en")["history"][0]["text"] == "A supervisor now reviews your request"
    assert refusal(run, "escalate").code == "not_applicable"

    fired = run.advance(madrid(2027, 1, 7, 23, 59))
    assert [d.events[0].type for d in fired] == [
        "sla.breached",
        "reminder.due",
        "deadline.answer_overdue",
    ]
    assert run.state.open_incidents() == ["ANSWER_LATE"]
    assert run.task("late_answer")["status"] == "open"
    assert_incident_view(run, "ANSWER_LATE")
    assert run.headline("es") == (
        "Teníamos que responderte antes del jueves 7 de enero y no lo hemos hecho. "
        "Un responsable lo lleva ya con prioridad."
    )
    assert D.incidents["ANSWER_LATE"].verify is not None

    accepted(run.send("resolution.proposed", {"summary": "Te abonamos 20 €"}))
    assert run.state.incidents["ANSWER_LATE"]["status"] == "resolved"
    assert run.task("late_answer")["status"] == "done"
    run.assert_replay_matches()


def test_customer_escalation_is_offered_once() -> None:
    run = received()
    assert "escalate" in allowed_controls(run)
    event = run.act("escalate", {"reason": "Llevo tres días sin línea"})
    assert event_topics(event) == ["case.escalation_requested"]
    assert run.state.attributes["escalation_reason"] == "Llevo tres días sin línea"
    error = refusal(run, "escalate")
    assert error.code == "not_applicable"
    assert (
        error.instead is not None
        and error.instead.en == "A supervisor already handles your request."
    )
    # The automatic escalation does not fire twice.
    assert "timer:escalate_before_deadline" not in run.state.timers
    accepted(run.send("case.escalated", {"level": "2"}))
    assert run.state.attributes["escalation_level"] == "2"
    run.assert_replay_matches()


def test_escalate_is_refused_once_solved() -> None:
    run = proposed()
    run.act("confirm_resolution")
    assert refusal(run, "escalate").code == "not_in_stage"


# -- incidents -------------------------------------------------------------------------------


def test_information_needed_from_the_customer() -> None:
    run = in_progress()
    event = accepted(run.send("info.requested", {"what": "una foto del router encendido"}))
    assert event_templates(event) == ["info_requested"]
    assert run.state.open_incidents() == ["INFO_NEEDED"]
    assert_incident_view(run, "INFO_NEEDED")
    row = next(r for r in run.view("es")["incidents"] if r["code"] == "INFO_NEEDED")
    assert row["what_happened"] == (
        "Para resolver tu petición nos falta esto: una foto del router encendido."
    )
    assert problem_codes(refusal(run, "send_information", {})) == {"document": "required"}
    event = run.act("send_information", {"document": "router.jpg"})
    assert event_topics(event) == ["case.information_submitted"]
    assert run.state.requirements["evidence"]["state"] == "submitted"
    assert run.task("review_information")["status"] == "open"
    accepted(run.send("document.rejected", {"reason": "borrosa"}))
    assert run.state.requirements["evidence"]["state"] == "rejected"
    run.act("send_information", {"document": "router2.jpg"})
    accepted(run.send("document.accepted"))
    assert run.state.requirements["evidence"]["state"] == "accepted"
    assert run.state.open_incidents() == []
    assert refusal(run, "send_information", {"document": "x.jpg"}).code == "no_incident"
    run.assert_replay_matches()


def test_send_information_is_refused_once_answered() -> None:
    run = in_progress()
    run.send("info.requested", {"what": "una factura"})
    run.send("resolution.proposed", {"summary": "Resuelto sin la factura"})
    assert refusal(run, "send_information", {"document": "f.pdf"}).code == "not_in_stage"


def test_technician_missed_the_visit_is_compensated_and_rebooked() -> None:
    run = visiting()
    accepted(run.send("appointment.missed", {"by": "technician"}, at=madrid(2026, 12, 3, 13, 0)))
    assert run.state.open_incidents() == ["VISITA_FALLIDA_NUESTRA"]
    assert "visit" not in run.state.dates
    assert run.task("rebook_visit")["status"] == "open"
    assert_incident_view(run, "VISITA_FALLIDA_NUESTRA")
    owed = run.view("es")["compensation"]
    assert [(row["id"], row["amount"], row["currency"], row["units"]) for row in owed] == [
        ("missed_visit", "30.00", "EUR", 1)
    ]
    # The operator's one value for a missed technician visit, said to be our commitment.
    assert owed[0]["basis"] == "commitment"
    assert owed[0]["verify"] is not None and "not verified" in owed[0]["verify"]
    # Without a visit date there is no cut-off: the customer may pick a day.
    assert run.control("reschedule_visit")["until"] is None
    accepted(
        run.send(
            "appointment.booked",
            {"start": "2026-12-04T15:00:00+01:00", "work_order_id": "WO-5567"},
        )
    )
    assert run.state.open_incidents() == []
    assert run.date("visit") == madrid(2026, 12, 4, 15, 0)
    assert run.state.keys["work_order_id"] == "WO-5567"
    # A second miss is owed again.
    run.send("appointment.missed", {"by": "technician"}, at=madrid(2026, 12, 4, 20, 0))
    assert run.view("en")["compensation"][0]["amount"] == "60.00"
    run.assert_replay_matches()


def test_customer_not_at_home_chooses_another_day() -> None:
    run = visiting()
    accepted(run.send("appointment.missed", {"by": "customer"}, at=madrid(2026, 12, 3, 13, 0)))
    assert run.state.open_incidents() == ["VISITA_FALLIDA_CLIENTE"]
    assert_incident_view(run, "VISITA_FALLIDA_CLIENTE")
    assert run.view("es")["compensation"] == []
    # Thursday 3 December 13:00: earliest Friday 4, latest 2 January; no weekends or holidays.
    cases = {
        "2026-12-03": "too_early",
        "2026-12-05": "weekend",
        "2026-12-08": "holiday",
        "2027-01-04": "too_late",
    }
    for day, code in cases.items():
        error = refusal(run, "reschedule_visit", {"new_date": day, "slot": "morning"})
        assert problem_codes(error) == {"new_date": code}, day
    assert problem_codes(refusal(run, "reschedule_visit", {"new_date": "2026-12-09"})) == {
        "slot": "required"
    }
    event = run.act("reschedule_visit", {"new_date": "2026-12-09", "slot": "afternoon"})
    assert event_topics(event) == ["appointment.reschedule_requested"]
    assert run.date("visit") == madrid(2026, 12, 9, 8, 0)
    assert run.state.dates["visit"]["confirmed"] is False
    assert run.state.attributes["preferred_slot"] == "afternoon"
    assert run.state.open_incidents() == []
    accepted(run.send("appointment.rescheduled", {"start": "2026-12-09T15:00:00+01:00"}))
    assert run.state.dates["visit"]["confirmed"] is True
    assert run.headline("en") == (
        "The technician will come on Wednesday 9 December, between 15:00 and 19:00."
    )
    run.assert_replay_matches()


def test_reschedule_is_closed_from_the_evening_before_the_visit() -> None:
    run = visiting()
    row = run.control("reschedule_visit", "en")
    assert row["allowed"] is True
    run.advance(madrid(2026, 12, 2, 18, 0))
    row = run.control("reschedule_visit", "es")
    assert (row["allowed"], row["reason_code"]) == (False, "cutoff_passed")
    assert row["reason"] == "El plazo para hacerlo terminó el miércoles 2 de diciembre a las 18:00."
    error = refusal(run, "reschedule_visit", {"new_date": "2026-12-09", "slot": "morning"})
    assert error.code == "cutoff_passed"
    assert error.instead is not None and "call us" in error.instead.en
    run.assert_replay_matches()


def test_reschedule_is_refused_outside_a_visit() -> None:
    run = in_progress()
    error = refusal(run, "reschedule_visit", {"new_date": "2026-12-09", "slot": "morning"})
    assert error.code == "not_in_stage"


def test_outage_in_the_area() -> None:
    run = in_progress()
    accepted(run.send("outage.reported", {"estimated_restore": "2026-11-30T18:00:00+01:00"}))
    assert run.state.open_incidents() == ["AVERIA_MASIVA"]
    assert run.state.dates["restore_estimate"]["confirmed"] is False
    assert_incident_view(run, "AVERIA_MASIVA")
    assert run.headline("es") == (
        "Hay una avería que afecta a tu zona. Calculamos que estará resuelta hacia el "
        "lunes 30 de noviembre a las 18:00."
    )
    assert run.headline("en") == (
        "There is an outage affecting your area. We expect it to be fixed by "
        "Monday 30 November at 18:00."
    )
    accepted(run.send("outage.resolved"))
    assert run.state.open_incidents() == []
    assert run.headline("en").startswith("We are working on your request")
    run.assert_replay_matches()


def test_every_incident_code_is_reachable_and_bilingual() -> None:
    assert set(D.incidents) == {
        "ANSWER_LATE",
        "INFO_NEEDED",
        "VISITA_FALLIDA_NUESTRA",
        "VISITA_FALLIDA_CLIENTE",
        "AVERIA_MASIVA",
    }
    for code, incident in D.incidents.items():
        assert incident.what_you_can_do.es != incident.what_you_can_do.en, code


# -- proposal: confirm, reopen, silence ------------------------------------------------------


def test_reopen_restarts_the_work_with_a_new_answer_time() -> None:
    run = proposed()
    assert problem_codes(refusal(run, "reopen", {})) == {"reason": "required"}
    event = run.act("reopen", {"reason": "Sigue cortándose"}, at=madrid(2026, 12, 7, 10, 0))
    assert run.state.stage == "in_progress"
    assert event_topics(event) == ["case.reopened"]
    assert run.state.attributes["answered"] is False
    assert "proposed_on" not in run.state.dates and "confirm_until" not in run.state.dates
    # Monday 7 December + 15 national working days (8 and 25 December skipped): Wednesday 30.
    assert run.date("answer_due") == madrid(2026, 12, 30, 23, 59)
    assert run.timer("timer:answer_overdue") == madrid(2026, 12, 30, 23, 59)
    run.assert_replay_matches()


def test_confirm_and_reopen_close_with_the_deadline() -> None:
    run = proposed()
    assert run.date("confirm_until") == madrid(2026, 12, 11, 23, 59)
    run.advance(madrid(2026, 12, 12, 0, 0))
    # Nobody answered: the proposal was taken as accepted at the deadline.
    assert run.state.stage == "resolved"
    assert run.state.attributes["closed_by"] == "no_answer"
    assert refusal(run, "reopen", {"reason": "x"}).code == "not_in_stage"


def test_confirm_and_reopen_refused_after_the_cut_off_before_the_timer_runs() -> None:
    run = proposed()
    late = madrid(2026, 12, 12, 9, 0)
    verdict = controls.check(C, run.state, "reopen", "customer", late)
    assert (verdict.allowed, verdict.code) == (False, "cutoff_passed")
    assert verdict.reason is not None
    assert (
        verdict.reason.es == "El plazo para hacerlo terminó el viernes 11 de diciembre a las 23:59."
    )
    verdict = controls.check(C, run.state, "confirm_resolution", "customer", late)
    assert verdict.code == "cutoff_passed"


def test_confirm_refused_before_a_proposal() -> None:
    run = in_progress()
    assert refusal(run, "confirm_resolution").code == "not_in_stage"
    assert refusal(run, "answer_survey", {"score": "4"}).code == "not_in_stage"


def test_survey_bounds_and_closing_without_an_answer() -> None:
    run = proposed()
    run.act("confirm_resolution", at=madrid(2026, 12, 4, 13, 0))
    assert problem_codes(refusal(run, "answer_survey", {"score": "7"})) == {
        "score": "invalid_choice"
    }
    assert problem_codes(refusal(run, "answer_survey", {})) == {"score": "required"}
    assert run.timer("timer:survey_closes") == madrid(2026, 12, 18, 23, 59)
    # An answer after the cut-off but before the closing timer ran is refused.
    verdict = controls.check(C, run.state, "answer_survey", "customer", madrid(2026, 12, 19, 9, 0))
    assert verdict.code == "cutoff_passed"
    run.advance(madrid(2026, 12, 19, 0, 0))
    assert run.state.status == "completed"
    assert refusal(run, "answer_survey", {"score": "4"}).code == "finished"
    run.assert_replay_matches()


# -- human attention, withdrawal, failure ----------------------------------------------------


def test_human_attention_on_request_anywhere() -> None:
    for run in (received(), visiting(), proposed()):
        assert "request_call" in allowed_controls(run)
    run = received(at=madrid(2026, 12, 24, 18, 0))  # Christmas Eve, Thursday
    cases = {
        "2026-12-24T18:30:00+01:00": "too_early",
        "2026-12-25T10:00:00+01:00": "holiday",
        "2026-12-26T10:00:00+01:00": "weekend",
        # 5 working days (28, 29, 30, 31 December, 4 January): Monday 4 at 18:00.
        "2027-01-05T10:00:00+01:00": "too_late",
    }
    for when, code in cases.items():
        assert problem_codes(refusal(run, "request_call", {"call_at": when})) == {"call_at": code}
    run.act(
        "request_call", {"call_at": "2026-12-28T09:30:00+01:00"}, role="agent", actor="agent:eva"
    )
    assert run.date("call_at") == madrid(2026, 12, 28, 9, 30)
    assert run.task("call_customer")["status"] == "open"
    accepted(run.send("call.completed", actor="agent:eva"))
    assert run.task("call_customer")["status"] == "done"
    run.assert_replay_matches()


def test_customer_withdraws_the_request() -> None:
    run = visiting()
    event = run.act("withdraw_request")
    assert run.state.status == "cancelled"
    assert event_topics(event) == ["case.withdrawn_by_customer"]
    assert run.state.timers == {}
    assert run.headline("es") == "Has retirado tu petición."
    assert run.headline("en") == "You withdrew your request."
    assert refusal(run, "withdraw_request").code == "finished"
    assert ignored_reason(run.send("resolution.proposed", {"summary": "x"})) == "process_finished"
    run.assert_replay_matches()


def test_withdraw_is_refused_once_solved() -> None:
    run = proposed()
    run.act("confirm_resolution")
    assert refusal(run, "withdraw_request").code == "not_in_stage"


def test_withdrawn_by_phone_and_unresolvable_outcomes() -> None:
    run = in_progress()
    accepted(run.send("case.withdrawn"))
    assert run.state.status == "cancelled"
    run = in_progress()
    accepted(run.send("case.unresolvable", {"reason": "Sin cobertura en la zona"}))
    assert run.state.status == "failed"
    assert run.headline("en") == "We could not solve your request."
    run.assert_replay_matches()


def test_tracking_code_format_is_checked_at_start() -> None:
    with pytest.raises(InvalidStart, match="tracking code"):
        Run.start(C, MONDAY, subject="hola", attributes={"category": "fault"})
    with pytest.raises(InvalidStart, match="category"):
        Run.start(C, MONDAY, subject=CODE, attributes={})


def test_early_messages_wait_for_their_stage() -> None:
    run = received()
    assert parked_reason(run.send("visit.completed", {"outcome": "fixed"})) == "parked"
    decision = run.send("appointment.missed", {})
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, "missing_data")
    run.assert_replay_matches()


@pytest.mark.parametrize(
    ("started", "due"),
    [
        # Friday: the count starts on Monday.
        (madrid(2027, 3, 19, 16, 0), madrid(2027, 4, 12, 23, 59)),
        # Saturday request counts like the Monday after it.
        (madrid(2027, 3, 20, 11, 0), madrid(2027, 4, 12, 23, 59)),
    ],
)
def test_answer_due_on_weekends_and_good_friday(started: datetime, due: datetime) -> None:
    # 22 March .. 12 April 2027: Good Friday (26 March) is the only national holiday.
    run = received(at=started, category="complaint")
    assert run.date("answer_due") == due
    run.assert_replay_matches()
