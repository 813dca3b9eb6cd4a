"""Spanish electricity and gas supplier switch (``energy_switch`` v1) through the pure engine.

The request is made on Monday 5 October 2026; Monday 12 October (Fiesta Nacional) is a
national holiday, so estimates, cut-offs and date bounds cross it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain.errors import InvalidStart
from relevo.domain.model import Outcome

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

C = load("energy_switch.v1.yaml")
D = C.definition
CUPS = "ES0021000000123456AB"
CUPS_22 = "ES0021000000123456AB1F"
MONDAY = madrid(2026, 10, 5, 10, 0)

# (CNMC code sent by the distributor, incident it opens) — rules.md §3.5.
REJECTIONS = [
    ("01", "R01"),
    ("02", "R02"),
    ("03", "R03"),
    ("36", "R03"),
    ("12", "R12"),
    ("37", "R37"),
    ("38", "R37"),
    ("39", "R37"),
    ("40", "R37"),
    ("46", "R46"),
    ("C5", "RC5"),
    ("14", "R14"),
    ("47", "R14"),
    ("48", "R14"),
    ("52", "R14"),
    ("65", "R14"),
    ("26", "R26"),
    ("57", "R57"),
    ("59", "R57"),
    ("60", "R57"),
    ("61", "R57"),
    ("58", "R58"),
    ("D1", "RD1"),
    ("99", "R99"),
]
FIELD = [("01", "F01"), ("09", "F09"), ("10", "F10"), ("11", "F10"), ("12", "F12")]


# -- drivers -----------------------------------------------------------------------------


def requested(supply: str = "electricity", at: datetime = MONDAY, **kwargs: Any) -> Run:
    return Run.start(
        C,
        at,
        subject=kwargs.pop("subject", CUPS),
        attributes={"supply_type": supply, **kwargs.pop("attributes", {})},
        **kwargs,
    )


def checking(supply: str = "electricity") -> Run:
    run = requested(supply)
    accepted(run.send("atr.submitted", {"request_id": "ATR-1"}, at=madrid(2026, 10, 5, 12, 0)))
    return run


def scheduled(supply: str = "electricity", field_work: bool = False) -> Run:
    run = checking(supply)
    accepted(
        run.send(
            "distributor.accepted",
            {"activation_date": "2026-10-14", "activation_type": "A0", "field_work": field_work},
            at=madrid(2026, 10, 6, 10, 0),
        )
    )
    return run


def switched(supply: str = "electricity") -> Run:
    run = scheduled(supply)
    accepted(
        run.send(
            "switch.activated", {"activation_date": "2026-10-14"}, at=madrid(2026, 10, 14, 9, 0)
        )
    )
    return run


def billing() -> Run:
    run = switched()
    accepted(run.send("meter.read", {"reading": "004521"}, at=madrid(2026, 10, 15, 9, 0)))
    return run


def rejected(code: str, supply: str = "electricity") -> Run:
    run = checking(supply)
    accepted(run.send("distributor.rejected", {"code": code}, at=madrid(2026, 10, 6, 11, 0)))
    return run


# -- happy path ----------------------------------------------------------------------------


def test_happy_path_electricity_from_request_to_closing() -> None:
    run = requested()
    assert run.state.stage == "requested"
    # Estimate: 5 working days, skipping Monday 12 October (national holiday).
    assert run.date("activation_date") == madrid(2026, 10, 13, 10, 0)
    assert run.state.dates["activation_date"]["confirmed"] is False
    assert run.date("cancel_until") == madrid(2026, 10, 9, 14, 0)
    assert run.date("withdrawal_until") == madrid(2026, 10, 19, 23, 59)
    assert run.view("es")["headline"] == (
        "Hemos recibido tu solicitud. Si todo va bien, empezamos a suministrarte hacia el "
        "martes 13 de octubre."
    )
    assert run.view("en")["headline"] == (
        "We have your request. If all goes well, we start supplying you around Tuesday 13 October."
    )

    accepted(run.send("atr.submitted", {"request_id": "ATR-1"}, at=madrid(2026, 10, 5, 12, 0)))
    assert run.state.stage == "distributor_check"
    assert run.state.keys == {"cups": CUPS, "atr_request_id": "ATR-1"}
    assert run.timer("sla:distributor_check") == madrid(2026, 10, 6, 12, 0)

    accepted(
        run.send(
            "distributor.accepted",
            {"activation_date": "2026-10-14", "activation_type": "A0", "field_work": False},
            at=madrid(2026, 10, 6, 10, 0),
        )
    )
    assert run.state.stage == "scheduled"
    assert run.state.attributes["activation_type"] == "A0"
    assert run.date("activation_date") == madrid(2026, 10, 14, 0, 0)
    assert run.date("cancel_until") == madrid(2026, 10, 13, 14, 0)
    assert run.timer("timer:technical_switch_overdue") == madrid(2026, 10, 15, 0, 0)
    assert run.view("es")["headline"] == (
        "Empezamos a suministrarte el miércoles 14 de octubre. No se corta la luz ni el gas."
    )
    assert run.view("en")["headline"] == (
        "We start supplying you on Wednesday 14 October. Your supply is not cut."
    )

    accepted(
        run.send(
            "switch.activated",
            {"activation_date": "2026-10-14", "reading": "004500"},
            at=madrid(2026, 10, 14, 9, 0),
        )
    )
    # The reading came with the activation: straight to billing.
    assert run.state.stage == "billing"
    assert run.state.attributes["first_reading"] == "004500"
    assert run.state.dates["activation_date"]["confirmed"] is True
    assert run.date("final_bill_due") == madrid(2026, 11, 25, 0, 0)
    assert run.view("es")["headline"] == (
        "Ya tenemos la lectura. Tu compañía anterior debe enviarte su factura final antes del "
        "miércoles 25 de noviembre."
    )

    accepted(run.send("bill.issued", {"bill_id": "F-1"}, at=madrid(2026, 11, 5, 9, 0)))
    assert run.state.status == "active"
    run.act("confirm_final_bill", at=madrid(2026, 11, 10, 18, 0))
    fired = run.advance(madrid(2026, 11, 10, 18, 0))
    assert [d.events[0].type for d in fired] == ["deadline.all_done"]
    assert run.state.status == "completed"
    assert run.state.timers == {}
    assert run.view("en")["headline"] == "You are now our customer and the switch is closed."
    assert [row["state"] for row in run.view()["stages"]] == ["done"] * 5
    assert run_templates(run) == [
        "switch_requested",
        "switch_scheduled",
        "last_day_to_cancel",
        "switch_done",
        "withdrawal_ends_soon",
        "first_bill",
    ]
    run.assert_replay_matches()


def test_first_reading_later_than_the_activation() -> None:
    run = switched()
    assert run.state.stage == "switched"
    assert run.view("en")["headline"] == (
        "Since Wednesday 14 October we supply you. We are waiting for the first meter reading."
    )
    assert run.timer("sla:switched") == madrid(2026, 10, 15, 9, 0)
    run.act("send_reading", {"reading": "4521"})
    assert event_topics(run.events[-1]) == ["meter.self_reading_submitted"]
    assert run.state.attributes["self_reading"] == "4521"
    accepted(run.send("meter.read", {"reading": "004521"}, at=madrid(2026, 10, 15, 9, 0)))
    assert run.state.stage == "billing"
    run.assert_replay_matches()


def test_final_bill_before_the_first_bill_closes_on_the_first_bill() -> None:
    run = billing()
    run.act("confirm_final_bill")
    assert run.state.status == "active"
    accepted(run.send("bill.issued", {"bill_id": "F-1"}, at=madrid(2026, 11, 2, 9, 0)))
    run.advance(run.now)
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_gas_acceptance_differs_and_has_no_24_hour_timer() -> None:
    run = checking("gas")
    assert run.timer("sla:distributor_check") == madrid(2026, 10, 8, 12, 0)
    accepted(
        run.send(
            "distributor.accepted",
            {"activation_date": "2026-10-20", "field_work": False},
            at=madrid(2026, 10, 7, 10, 0),
        )
    )
    assert run.state.stage == "scheduled"
    assert run.state.attributes["activation_type"] == "gas_reading"
    assert "timer:technical_switch_overdue" not in run.state.timers
    run.advance(madrid(2026, 10, 23, 10, 0))
    assert run.state.open_incidents() == []
    run.assert_replay_matches()


def test_the_cups_may_have_22_characters_but_not_any_text() -> None:
    assert requested(subject=CUPS_22).state.subject == CUPS_22
    with pytest.raises(InvalidStart, match="supply point code"):
        requested(subject="ES12345")
    with pytest.raises(InvalidStart, match="supply_type"):
        Run.start(C, MONDAY, subject=CUPS, attributes={})


# -- rejections and field incidences ---------------------------------------------------------


@pytest.mark.parametrize(("code", "incident"), REJECTIONS)
def test_distributor_rejection_opens_the_incident_of_its_code(code: str, incident: str) -> None:
    run = rejected(code)
    assert run.state.stage == "requested"
    assert run.state.open_incidents() == [incident]
    assert run.state.attributes["rejection_code"] == code
    assert run.state.incidents[incident]["detail"] == {"code": code}
    assert "switch_problem" in [
        m["payload"].get("template") for m in run.events[-1].effects["outbox"]
    ]
    assert_incident_view(run, incident)
    run.assert_replay_matches()


def test_every_common_cnmc_cause_of_the_rules_has_an_incident() -> None:
    expected = {"R01", "R02", "R03", "R12", "R37", "R46", "RC5", "R14", "R26", "R57", "R58", "RD1"}
    assert expected <= set(D.incidents)
    assert {incident for _, incident in REJECTIONS} | {f for _, f in FIELD} | {
        "SWITCH_DELAYED",
        "FINAL_BILL_LATE",
    } == set(D.incidents)


def test_rejection_after_field_work_comes_from_the_scheduled_stage() -> None:
    run = scheduled(field_work=True)
    accepted(run.send("distributor.rejected", {"code": "26"}))
    assert (run.state.stage, run.state.open_incidents()) == ("requested", ["R26"])
    run.assert_replay_matches()


@pytest.mark.parametrize(("code", "incident"), FIELD)
def test_field_incidence_opens_its_incident(code: str, incident: str) -> None:
    run = scheduled(field_work=True)
    accepted(run.send("field.dispatched", {"appointment": "2026-10-13T09:00:00+02:00"}))
    accepted(run.send("field.incidence", {"code": code}, at=madrid(2026, 10, 13, 11, 0)))
    assert run.state.stage == "scheduled"
    assert run.state.open_incidents() == [incident]
    assert_incident_view(run, incident)
    run.assert_replay_matches()


def test_field_appointment_and_customer_absent_then_rebooked() -> None:
    run = scheduled(field_work=True)
    assert run.state.attributes["field_work_needed"] is True
    event = accepted(run.send("field.dispatched", {"appointment": "2026-10-13T09:00:00+02:00"}))
    assert "field_visit" in [m["payload"].get("template") for m in event.effects["outbox"]]
    accepted(run.send("field.incidence", {"code": "01"}, at=madrid(2026, 10, 13, 11, 0)))
    assert "field_appointment" not in run.state.dates
    error = refusal(run, "book_field_visit", {"slot": "2026-10-17T10:00:00+02:00"})
    assert problem_codes(error) == {"slot": "weekend"}
    run.act("book_field_visit", {"slot": "2026-10-16T10:00:00+02:00"})
    assert run.state.incidents["F01"]["status"] == "resolved"
    assert run.date("field_appointment") == madrid(2026, 10, 16, 10, 0)
    accepted(
        run.send("field.incidence", {"code": "08", "appointment": "2026-10-16T12:00:00+02:00"})
    )
    assert run.date("field_appointment") == madrid(2026, 10, 16, 12, 0)
    assert run.state.dates["field_appointment"]["confirmed"] is True
    # Appointment 08 without a date cannot be understood.
    decision = run.send("field.incidence", {"code": "08"})
    assert decision.outcome is Outcome.REJECTED
    run.assert_replay_matches()


def test_unknown_field_incidence_is_ignored_with_a_reason() -> None:
    run = scheduled()
    assert send_ignored(run, "field.incidence", {"code": "13"}) == "out_of_order"


# -- controls that fix rejections ------------------------------------------------------------


def test_wrong_cups_corrected_and_resubmitted() -> None:
    run = rejected("01")
    assert problem_codes(refusal(run, "correct_cups", {"cups": "ES00"})) == {
        "cups": "invalid_format"
    }
    event = run.act("correct_cups", {"cups": CUPS_22})
    assert event_topics(event) == ["switch.data_corrected"]
    assert run.state.attributes["corrected_cups"] == CUPS_22
    run.act("send_bill", {"document": "bill.pdf"})
    assert run.state.requirements["last_bill"]["state"] == "submitted"
    accepted(run.send("document.accepted", {"requirement": "last_bill"}))
    accepted(run.send("switch.resubmitted", {"request_id": "ATR-2"}, at=madrid(2026, 10, 7, 9, 0)))
    assert run.state.stage == "distributor_check"
    assert run.state.open_incidents() == []
    assert run.state.keys["atr_request_id"] == "ATR-2"
    assert run.state.tasks["update_request"]["status"] == "done"
    run.assert_replay_matches()


@pytest.mark.parametrize(
    ("code", "control", "params", "topic"),
    [
        ("03", "correct_holder_id", {"holder_id": "12345678Z"}, "switch.data_corrected"),
        ("12", "retry_switch", {}, "switch.resubmit_requested"),
        ("37", "retry_switch", {}, "switch.resubmit_requested"),
        ("14", "change_power", {"power_kw": "5,75"}, "switch.data_corrected"),
        (
            "26",
            "book_field_visit",
            {"slot": "2026-10-08T09:00:00+02:00"},
            "field.appointment_requested",
        ),
        ("57", "upload_cie", {"document": "cie.pdf"}, "document.submitted"),
        ("58", "update_phone", {"phone": "612345678"}, "contact.phone_updated"),
        ("D1", "waive_social_bonus", {"document": "waiver.pdf"}, "social_bonus.waiver_signed"),
        ("46", "choose_activation_mode", {"mode": "asap"}, "switch.activation_change_requested"),
        ("C5", "choose_fixed_date", {"date": "2026-10-20"}, "switch.activation_change_requested"),
    ],
)
def test_each_rejection_option_is_accepted_and_sends_its_message(
    code: str, control: str, params: dict[str, Any], topic: str
) -> None:
    run = rejected(code)
    event = run.act(control, params)
    assert event_topics(event) == [topic]
    assert run.state.status == "active"
    run.assert_replay_matches()


@pytest.mark.parametrize(
    ("code", "control", "params", "field"),
    [
        ("03", "correct_holder_id", {"holder_id": "123"}, "holder_id"),
        ("14", "change_power", {"power_kw": "lots"}, "power_kw"),
        ("26", "book_field_visit", {"slot": "2026-10-12T09:00:00+02:00"}, "slot"),
        ("26", "book_field_visit", {"slot": "2026-11-06T09:00:00+02:00"}, "slot"),
        ("58", "update_phone", {"phone": "12345"}, "phone"),
        ("46", "choose_activation_mode", {"mode": "tomorrow"}, "mode"),
    ],
)
def test_rejection_options_check_their_inputs(
    code: str, control: str, params: dict[str, Any], field: str
) -> None:
    run = rejected(code)
    error = refusal(run, control, params)
    assert error.code == "invalid_params"
    assert set(problem_codes(error)) == {field}


def test_social_bonus_waiver_is_needed_before_resubmitting() -> None:
    run = rejected("D1")
    assert run.view("en")["headline"] == (
        "To go on with the switch we need your signed waiver of the social bonus."
    )
    run.act("waive_social_bonus", {"document": "waiver.pdf"})
    assert run.state.requirements["social_bonus_waiver"]["state"] == "submitted"
    assert run.state.tasks["review_documents"]["status"] == "open"
    accepted(
        run.send("document.rejected", {"requirement": "social_bonus_waiver", "reason": "unsigned"})
    )
    assert run.state.tasks["review_documents"]["status"] == "done"
    run.assert_replay_matches()


def test_no_supply_contract_can_turn_into_a_new_connection() -> None:
    run = rejected("02")
    event = run.act("request_new_supply")
    assert event_topics(event) == ["supply.new_connection_requested"]
    assert (run.state.status, run.state.attributes["ended_by"]) == ("cancelled", "new_supply")
    run.assert_replay_matches()


@pytest.mark.parametrize(
    "control",
    [
        "correct_cups",
        "send_bill",
        "correct_holder_id",
        "retry_switch",
        "request_new_supply",
        "change_power",
        "book_field_visit",
        "upload_cie",
        "update_phone",
        "waive_social_bonus",
    ],
)
def test_rejection_controls_are_refused_without_their_incident(control: str) -> None:
    run = requested()
    row = run.control(control, "en")
    assert (row["allowed"], row["reason_code"]) == (False, "no_incident")
    assert refusal(run, control, {}).code == "no_incident"


def test_an_option_of_one_incident_is_refused_for_another() -> None:
    run = rejected("12")
    assert refusal(run, "correct_cups", {"cups": CUPS}).code == "other_incident"
    assert "retry_switch" in allowed_controls(run)


# -- activation mode -----------------------------------------------------------------------------


def test_fixed_date_moves_the_switch_and_its_cut_off() -> None:
    run = checking()
    event = run.act("choose_fixed_date", {"date": "2026-10-30"})
    assert event_topics(event) == ["switch.activation_change_requested"]
    assert run.state.attributes["activation_mode"] == "fixed_date"
    assert run.date("requested_date") == madrid(2026, 10, 30)
    assert run.date("activation_date") == madrid(2026, 10, 30)
    assert run.date("cancel_until") == madrid(2026, 10, 29, 14, 0)
    run.act("choose_activation_mode", {"mode": "next_reading"})
    assert run.state.attributes["activation_mode"] == "next_reading"
    assert "requested_date" not in run.state.dates
    run.assert_replay_matches()


@pytest.mark.parametrize(
    ("date", "code", "en_message"),
    [
        ("2026-10-06", "too_early", "The earliest date is Wednesday 7 October."),
        # 30 calendar days ahead at most, or the distributor rejects with C5.
        ("2026-11-05", "too_late", "The latest date is Wednesday 4 November."),
        ("2026-10-10", "weekend", "That day is a weekend; choose a working day."),
        (
            "2026-10-12",
            "holiday",
            "That day is a public holiday (National Day); choose a working day.",
        ),
        ("12/10/2026", "invalid_date", "Enter a valid date (YYYY-MM-DD)."),
    ],
)
def test_fixed_date_out_of_bounds_is_refused(date: str, code: str, en_message: str) -> None:
    run = checking()
    error = refusal(run, "choose_fixed_date", {"date": date})
    assert problem_codes(error) == {"date": code}
    assert error.problems[0].message.en == en_message


def test_fixed_date_bounds_themselves_are_accepted() -> None:
    for date in ("2026-10-07", "2026-11-04"):
        run = checking()
        run.act("choose_fixed_date", {"date": date})
        assert run.date("activation_date").date().isoformat() == date


def test_activation_controls_close_at_the_cut_off_and_after_the_switch() -> None:
    run = scheduled()
    run.advance(madrid(2026, 10, 13, 14, 0))
    for control, params in (
        ("choose_activation_mode", {"mode": "asap"}),
        ("choose_fixed_date", {"date": "2026-10-20"}),
    ):
        error = refusal(run, control, params)
        assert error.code == "cutoff_passed"
        assert error.reason.en == "The deadline to do this was Tuesday 13 October at 14:00."
    run = switched()
    assert refusal(run, "choose_activation_mode", {"mode": "asap"}).code == "not_in_stage"


# -- cancellation and withdrawal -------------------------------------------------------------------


@pytest.mark.parametrize("stage", ["requested", "distributor_check", "scheduled"])
def test_cancel_before_the_cut_off(stage: str) -> None:
    run = {"requested": requested, "distributor_check": checking, "scheduled": scheduled}[stage]()
    event = run.act("cancel")
    assert event_topics(event) == ["switch.cancel_requested"]
    assert run.state.status == "cancelled"
    assert run.state.timers == {}
    assert run.view("es")["headline"] == "Se ha cancelado el cambio de compañía."
    run.assert_replay_matches()


def test_cancel_is_refused_after_the_cut_off_but_withdrawal_is_still_possible() -> None:
    run = scheduled()
    run.advance(madrid(2026, 10, 13, 14, 0))
    error = refusal(run, "cancel")
    assert error.code == "cutoff_passed"
    assert error.instead is not None and "withdraw" in error.instead.en
    event = run.act("withdraw")
    assert event_topics(event) == ["switch.withdrawal_requested"]
    assert run.state.status == "cancelled"
    run.assert_replay_matches()


def test_cancel_is_refused_once_field_work_is_dispatched() -> None:
    run = scheduled(field_work=True)
    accepted(run.send("field.dispatched", {"appointment": "2026-10-13T09:00:00+02:00"}))
    row = run.control("cancel", "en")
    assert (row["allowed"], row["reason_code"]) == (False, "not_applicable")
    assert refusal(run, "cancel").code == "not_applicable"
    assert run.control("withdraw")["allowed"] is True
    run.assert_replay_matches()


def test_withdrawal_after_the_switch_until_day_14() -> None:
    run = switched()
    assert refusal(run, "cancel").code == "not_in_stage"
    fired = run.advance(madrid(2026, 10, 19, 23, 58))
    assert run_templates(run)[-1] == "withdrawal_ends_soon"
    assert any(d.events[0].type == "reminder.due" for d in fired)
    assert run.control("withdraw")["allowed"] is True
    run.advance(madrid(2026, 10, 19, 23, 59))
    error = refusal(run, "withdraw")
    assert error.code == "cutoff_passed"
    assert error.reason.es == "El plazo para hacerlo terminó el lunes 19 de octubre a las 23:59."
    run.assert_replay_matches()


def test_distributor_confirms_a_cancellation() -> None:
    run = checking()
    accepted(run.send("switch.cancelled", {"cause": "customer"}))
    assert run.state.status == "cancelled"
    assert (
        send_ignored(run, "distributor.accepted", {"activation_date": "2026-10-14"})
        == "process_finished"
    )
    run.assert_replay_matches()


# -- timers and deadlines ------------------------------------------------------------------------


def test_24_hour_technical_switch_rule_opens_an_incident_for_electricity() -> None:
    run = scheduled()
    run.advance(madrid(2026, 10, 14, 23, 59))
    assert run.state.open_incidents() == []
    run.advance(madrid(2026, 10, 15, 0, 0))
    assert run.state.open_incidents() == ["SWITCH_DELAYED"]
    assert_incident_view(run, "SWITCH_DELAYED")
    assert run.view("es")["incidents"][0]["what_happened"] == (
        # 24 hours after the activation day: the start of a day, written as that day.
        "El cambio debía estar hecho antes del jueves 15 de octubre y la "
        "distribuidora aún no lo ha confirmado."
    )
    task = run.state.tasks["chase_activation"]
    assert (task["status"], task["team"]) == ("open", "switching_desk")
    assert run.view("en")["compensation"] == []  # no regulated amount in Spain
    accepted(
        run.send(
            "switch.activated", {"activation_date": "2026-10-15"}, at=madrid(2026, 10, 15, 12, 0)
        )
    )
    assert run.state.incidents["SWITCH_DELAYED"]["status"] == "resolved"
    assert run.state.tasks["chase_activation"]["status"] == "done"
    run.assert_replay_matches()


def test_old_supplier_final_bill_after_six_weeks_opens_an_incident() -> None:
    run = billing()
    accepted(run.send("bill.issued", {"bill_id": "F-1"}, at=madrid(2026, 11, 5, 9, 0)))
    assert run.timer("timer:final_bill_overdue") == madrid(2026, 11, 25, 0, 0)
    run.advance(madrid(2026, 11, 25, 0, 0))
    assert run.state.open_incidents() == ["FINAL_BILL_LATE"]
    assert_incident_view(run, "FINAL_BILL_LATE")
    assert run.view("en")["incidents"][0]["what_happened"] == (
        "Your old supplier should have sent you its final bill by Wednesday 25 November and "
        "we have no record of it."
    )
    assert "final_bill_check" in run_templates(run)
    assert run.state.status == "active"
    run.act("confirm_final_bill", at=madrid(2026, 11, 27, 10, 0))
    assert run.state.incidents["FINAL_BILL_LATE"]["status"] == "resolved"
    assert run.state.tasks["chase_final_bill"]["status"] == "done"
    run.advance(run.now)
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_final_bill_confirmed_in_time_opens_no_incident() -> None:
    run = switched()
    run.act("confirm_final_bill", at=madrid(2026, 11, 1, 10, 0))
    assert "timer:final_bill_overdue" not in run.state.timers
    accepted(run.send("meter.read", {"reading": "4600"}, at=madrid(2026, 11, 2, 9, 0)))
    run.advance(madrid(2026, 11, 30, 0, 0))
    assert run.state.open_incidents() == []
    assert run.state.status == "active"  # still waiting for our first bill
    accepted(run.send("bill.issued", {"bill_id": "F-1"}))
    run.advance(run.now)
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_confirm_final_bill_and_send_reading_only_after_the_switch() -> None:
    run = scheduled()
    assert refusal(run, "confirm_final_bill").code == "not_in_stage"
    assert refusal(run, "send_reading", {"reading": "1"}).code == "not_in_stage"
    run = switched()
    assert problem_codes(refusal(run, "send_reading", {"reading": "12,5"})) == {
        "reading": "invalid_format"
    }


def test_distributor_sla_breach_is_recorded_once() -> None:
    run = checking()
    run.advance(madrid(2026, 10, 8, 12, 0))
    assert run.state.attributes["sla_breached_distributor_check"] == "2026-10-06T10:00:00+00:00"
    assert [e.type for e in run.events].count("sla.breached") == 1
    run.assert_replay_matches()


# -- controls offered and messages out of order -------------------------------------------------


def test_controls_offered_in_each_stage() -> None:
    base = {"choose_activation_mode", "choose_fixed_date", "cancel", "withdraw"}
    run = requested()
    assert allowed_controls(run) == base
    run.send("atr.submitted", {"request_id": "ATR-1"})
    assert allowed_controls(run) == base
    run.send(
        "distributor.accepted", {"activation_date": "2026-10-14"}, at=madrid(2026, 10, 6, 10, 0)
    )
    assert allowed_controls(run) == base
    run.send("switch.activated", {"activation_date": "2026-10-14"}, at=madrid(2026, 10, 14, 9, 0))
    assert allowed_controls(run) == {"withdraw", "send_reading", "confirm_final_bill"}
    run.send("meter.read", {"reading": "1"})
    assert allowed_controls(run) == {"withdraw", "confirm_final_bill"}
    run.assert_replay_matches()


def test_early_messages_wait_for_their_stage() -> None:
    run = requested()
    early = run.send("distributor.accepted", {"activation_date": "2026-10-14"})
    assert parked_reason(early) == "parked"
    assert parked_reason(run.send("bill.issued", {"bill_id": "F-0"})) == "parked"
    assert run.send("distributor.rejected", {}).outcome is Outcome.REJECTED
    assert len(run.state.parked) == 2
    run.assert_replay_matches()


def test_holiday_refusal_names_the_holiday_in_each_language() -> None:
    error = refusal(checking(), "choose_fixed_date", {"date": "2026-10-12"})
    assert error.problems[0].message.es == (
        "Ese día es festivo (Fiesta Nacional de España); elige un día laborable."
    )
    assert error.problems[0].message.en == (
        "That day is a public holiday (National Day); choose a working day."
    )
