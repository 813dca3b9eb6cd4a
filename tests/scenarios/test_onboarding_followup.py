"""Following a new customer after activation (``onboarding_followup`` v1), on a fixed clock.

Activation → first use → loyalty: the setup guide ticked by the customer, how to pay before
the first bill, default features switched off, several accounts (personal and business) in
one procedure, the first bill explained, the check-in call, the survey, the withdrawal right
with its 14-day cut-off, and replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain import controls
from relevo.domain.errors import InvalidStart

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

C = load("onboarding_followup.v2.yaml")
D = C.definition
MONDAY = madrid(2026, 11, 30, 10, 0)
IBAN = "ES9121000418450200051332"
STEPS = [item.id for item in D.tasks["setup_guide"].checklist]


def started(at: datetime = MONDAY, **attributes: Any) -> Run:
    values = {
        "sector": "telecom",
        "customer_type": "personal",
        "contract_date": "2026-11-27",
        "first_bill_date": "2026-12-16",
        **attributes,
    }
    keys = {"company_tax_id": "B12345678"} if values["customer_type"] == "business" else {}
    return Run.start(C, at, subject="CLI-000777", attributes=values, keys=keys)


def first_bill(**attributes: Any) -> Run:
    run = started(**attributes)
    run.send("usage.first_detected", at=madrid(2026, 12, 1, 20, 0))
    accepted(
        run.send(
            "bill.issued",
            {"amount": "32.75", "due_date": "2026-12-28"},
            at=madrid(2026, 12, 16, 9, 0),
        )
    )
    return run


def checking_in() -> Run:
    run = first_bill(payment_method="direct_debit")
    accepted(run.send("payment.received", at=madrid(2026, 12, 28, 10, 0)))
    return run


# -- happy path ----------------------------------------------------------------------------


def test_from_activation_to_loyalty() -> None:
    run = started()
    assert event_templates(run.events[0]) == ["welcome"]
    assert run.date("contract_signed") == madrid(2026, 11, 27, 12, 0)
    assert run.date("first_bill_expected") == madrid(2026, 12, 16, 9, 0)
    assert run.state.dates["first_bill_expected"]["confirmed"] is False
    # Choose how to pay by 20:00 two working days before the first bill.
    assert run.date("payment_method_until") == madrid(2026, 12, 14, 20, 0)
    assert run.state.dates["payment_method_until"]["confirmed"] is False
    assert run.timer("timer:payment_method_missing") == madrid(2026, 12, 9, 10, 0)
    assert run.timer("timer:no_usage") == madrid(2026, 12, 10, 10, 0)
    assert run.timer("notify:setup_reminder") == madrid(2026, 12, 3, 18, 0)
    assert run.headline("es") == (
        "¡Bienvenido! Tu servicio ya está activo. "
        "Tu primera factura llegará hacia el miércoles 16 de diciembre."
    )
    assert run.headline("en") == (
        "Welcome! Your service is active. "
        "Your first bill should arrive around Wednesday 16 December."
    )
    nxt = run.view("en")["next"]
    assert (nxt["who"], nxt["when"], nxt["confirmed"]) == (
        "customer",
        "2026-12-14T19:00:00+00:00",
        False,
    )
    assert run.task("setup_guide")["status"] == "open"

    accepted(run.send("account.activated", {"account_id": "ACC-1", "account_type": "personal"}))
    assert run.state.keys == {"customer_ref": "CLI-000777", "personal_account": "ACC-1"}

    run.act("tick_setup_step", {"step": "app"}, at=madrid(2026, 12, 1, 19, 0))
    event = run.act("tick_setup_step", {"step": "contact_preferences"})
    assert event_topics(event) == ["onboarding.step_done"]
    event = run.act("choose_payment_method", {"method": "direct_debit", "iban": IBAN})
    assert event_topics(event) == ["billing.payment_method_set"]
    payload = event.effects["outbox"][0]["payload"]
    assert payload["params"] == {"method": "direct_debit", "iban": IBAN}
    assert run.state.attributes["payment_method"] == "direct_debit"
    assert IBAN not in str(run.state.attributes)  # the hub keeps the method, not the account
    assert "timer:payment_method_missing" not in run.state.timers

    run.advance(madrid(2026, 12, 4, 12, 0))  # the setup reminder goes out on Thursday
    accepted(run.send("usage.first_detected"))
    assert run.state.stage == "first_use"
    assert run.headline("en") == (
        "You are using your service. Your first bill should arrive around Wednesday 16 December."
    )
    run.act("tick_setup_step", {"step": "bill_guide"})
    guide = run.task("setup_guide")
    assert guide["status"] == "done"
    assert set(guide["checked"]) == set(STEPS)
    assert guide["checked"]["app"] == {"by": "cust-1", "at": "2026-12-01T18:00:00+00:00"}
    assert guide["checked"]["service_test"]["by"] == "system"

    event = run.act("switch_off_roaming")
    assert event_topics(event) == ["features.roaming_off"]
    assert run.state.attributes["roaming"] == "off"

    event = accepted(
        run.send(
            "bill.issued",
            {"amount": "32.75", "due_date": "2026-12-28"},
            at=madrid(2026, 12, 16, 9, 0),
        )
    )
    assert run.state.stage == "first_bill"
    assert event_templates(event) == ["first_bill_ready"]
    assert run.headline("es") == (
        "Tu primera factura es de 32.75 € y vence el lunes 28 de diciembre. "
        "Te explicamos cada línea."
    )

    event = accepted(run.send("payment.received", at=madrid(2026, 12, 28, 10, 0)))
    assert run.state.stage == "check_in"
    assert event_templates(event) == ["check_in"]
    assert run.date("survey_until") == madrid(2027, 1, 11, 23, 59)
    assert run.timer("sla:check_in") == madrid(2026, 12, 31, 10, 0)
    assert run.headline("es") == (
        "Te llamaremos en unos días para ver qué tal va todo. Y si quieres, cuéntanos qué te "
        "parece antes del lunes 11 de enero."
    )
    for item in ("call_made", "first_bill_explained", "needs_noted"):
        accepted(run.send("check_in.logged", {"item": item}, actor="agent:marta.gil"))
    call = run.task("check_in_call")
    assert call["status"] == "done"
    assert {entry["by"] for entry in call["checked"].values()} == {"agent:marta.gil"}

    event = run.act("answer_survey", {"score": "9", "comment": "Todo bien"})
    assert event_topics(event) == ["survey.answered"]
    run.advance(run.now)  # the score is read by the follow_up timers as soon as they run
    assert (run.state.stage, run.state.status) == ("loyal", "completed")
    assert run.state.attributes["nps"] == "9"
    assert run.headline("es") == "Ya lo tienes todo en marcha. ¡Gracias por confiar en nosotros!"
    assert run.headline("en") == "Everything is up and running. Thank you for trusting us!"
    assert run.state.timers == {}
    assert run_templates(run) == [
        "welcome",
        "setup_reminder",
        "payment_method_reminder",
        "first_bill_ready",
        "check_in",
    ]
    run.assert_replay_matches()


def test_survey_not_answered_closes_the_follow_up() -> None:
    run = checking_in()
    fired = run.advance(madrid(2027, 1, 12, 0, 0))
    assert fired[-1].events[0].type == "deadline.survey_closes"
    assert (run.state.stage, run.state.status) == ("loyal", "completed")
    assert "nps" not in run.state.attributes
    run.assert_replay_matches()


# -- several accounts, business customers ----------------------------------------------------


def test_several_accounts_personal_and_business_under_one_procedure() -> None:
    run = started(customer_type="business", accounts_expected=3)
    assert run.state.keys["company_tax_id"] == "B12345678"
    accepted(run.send("account.activated", {"account_id": "B-1", "account_type": "business"}))
    accepted(run.send("account.activated", {"account_id": "P-1", "account_type": "personal"}))
    accepted(
        run.send(
            "account.activation_failed",
            {"account_id": "B-2", "account_type": "business", "reason": "port pending"},
        )
    )
    assert run.state.open_incidents() == ["ACCOUNT_NOT_ACTIVE"]
    assert run.task("fix_activation")["team"] == "provisioning"
    assert_incident_view(run, "ACCOUNT_NOT_ACTIVE")
    assert run.headline("es") == (
        "Tu cuenta B-2 aún no está activa. "
        "Lo estamos resolviendo; el resto funciona con normalidad."
    )
    # Another account that activates does not close the incident of the failed one.
    accepted(run.send("account.activated", {"account_id": "P-2", "account_type": "personal"}))
    assert run.state.open_incidents() == ["ACCOUNT_NOT_ACTIVE"]
    accepted(run.send("account.activated", {"account_id": "B-2", "account_type": "business"}))
    assert run.state.open_incidents() == []
    assert run.task("fix_activation")["status"] == "done"
    assert run.state.keys == {
        "customer_ref": "CLI-000777",
        "company_tax_id": "B12345678",
        "business_account": "B-2",
        "personal_account": "P-2",
    }
    assert run.state.attributes["last_business_account"] == "B-1"
    history = [row["text"] for row in run.view("en")["history"]]
    assert history[0] == "All your accounts are now active"
    run.assert_replay_matches()


def test_business_customers_have_no_withdrawal_right() -> None:
    run = started(customer_type="business")
    row = run.control("withdraw", "en")
    assert (row["allowed"], row["reason_code"]) == (False, "not_applicable")
    assert row["reason"] == "This action does not apply to your case."
    assert "business" in row["instead"]
    assert refusal(run, "withdraw").code == "not_applicable"


def test_attributes_are_checked_at_start() -> None:
    with pytest.raises(InvalidStart, match="customer_type"):
        started(customer_type="club")
    with pytest.raises(InvalidStart, match="roaming"):
        started(roaming="maybe")


# -- withdrawal (14 natural days) ------------------------------------------------------------


def test_withdraw_within_fourteen_days() -> None:
    run = started()
    row = run.control("withdraw", "en")
    assert row["allowed"] is True
    assert row["until"] == "2026-12-11T22:59:00+00:00"
    # The date applies only to consumers: it is shown on the control, not in the dates list.
    assert "withdrawal_until" not in {r["id"] for r in run.view()["dates"]}
    event = run.act("withdraw", at=madrid(2026, 12, 11, 23, 0))
    assert event_topics(event) == ["contract.withdrawal_requested"]
    assert run.state.status == "cancelled"
    assert run.state.open_incidents() == []
    assert run.headline("es") == "Has desistido del contrato."
    assert run.headline("en") == "You withdrew from the contract."
    assert ignored_reason(run.send("usage.first_detected")) == "process_finished"
    run.assert_replay_matches()


def test_withdraw_refused_after_fourteen_days_or_at_check_in() -> None:
    run = started()
    run.advance(madrid(2026, 12, 12, 0, 0))
    error = refusal(run, "withdraw")
    assert error.code == "cutoff_passed"
    assert (
        error.reason.es == "El plazo para hacerlo terminó el viernes 11 de diciembre a las 23:59."
    )
    assert error.instead is not None and "2 días laborables" in error.instead.es
    run = checking_in()
    assert refusal(run, "withdraw").code == "not_in_stage"


# -- incidents -------------------------------------------------------------------------------


def test_no_use_and_no_payment_method_before_the_first_bill() -> None:
    run = started()
    fired = run.advance(madrid(2026, 12, 10, 10, 0))
    assert [d.events[0].type for d in fired] == [
        "reminder.due",
        "deadline.payment_method_missing",
        "deadline.no_usage",
    ]
    assert run.state.open_incidents() == ["PAYMENT_METHOD_MISSING", "NO_USAGE_YET"]
    for code in ("PAYMENT_METHOD_MISSING", "NO_USAGE_YET"):
        assert_incident_view(run, code)
    assert run.headline("es") == (
        "Elige cómo quieres pagar antes del lunes 14 de diciembre para que tu primera factura "
        "se cobre sin problemas."
    )
    assert run.task("nudge_customer")["status"] == "open"

    event = run.act("setup_done")
    assert event_topics(event) == ["onboarding.setup_done"]
    assert run.state.stage == "first_use"
    assert run.state.incidents["NO_USAGE_YET"]["status"] == "resolved"
    assert run.task("nudge_customer")["status"] == "done"
    run.act("choose_payment_method", {"method": "card"})
    assert run.state.open_incidents() == []
    assert run.task("setup_guide")["checked"]["payment"]["by"] == "cust-1"
    run.assert_replay_matches()


def test_payment_method_given_at_start_needs_no_reminder_incident() -> None:
    run = started(payment_method="card")
    assert "timer:payment_method_missing" not in run.state.timers
    run.advance(madrid(2026, 12, 15, 0, 0))
    assert "PAYMENT_METHOD_MISSING" not in run.state.incidents
    run.assert_replay_matches()


def test_first_payment_failed() -> None:
    run = first_bill()
    accepted(run.send("payment.failed", {"reason": "insufficient funds"}))
    assert run.state.open_incidents() == ["FIRST_PAYMENT_FAILED"]
    assert_incident_view(run, "FIRST_PAYMENT_FAILED")
    assert run.headline("en") == (
        "We could not collect your first bill of 32.75 €. We help you sort it out."
    )
    accepted(run.send("payment.received"))
    assert run.state.incidents["FIRST_PAYMENT_FAILED"]["status"] == "resolved"
    assert run.state.stage == "check_in"
    run.assert_replay_matches()


def test_every_incident_code_is_exercised() -> None:
    assert set(D.incidents) == {
        "ACCOUNT_NOT_ACTIVE",
        "NO_USAGE_YET",
        "PAYMENT_METHOD_MISSING",
        "FIRST_PAYMENT_FAILED",
    }


def test_activation_given_up_ends_the_follow_up() -> None:
    run = started()
    accepted(run.send("activation.cancelled", {"reason": "no coverage"}))
    assert run.state.status == "failed"
    assert run.headline("es") == "No hemos podido completar tu alta."
    run.assert_replay_matches()


# -- controls --------------------------------------------------------------------------------


def test_controls_offered_at_each_step() -> None:
    run = started()
    assert allowed_controls(run) == {
        "tick_setup_step",
        "setup_done",
        "choose_payment_method",
        "switch_off_voicemail",
        "switch_off_roaming",
        "switch_off_premium",
        "switch_off_usage_alerts",
        "withdraw",
        "request_call",
    }
    run = checking_in()
    assert allowed_controls(run) == {
        "switch_off_voicemail",
        "switch_off_roaming",
        "switch_off_premium",
        "switch_off_usage_alerts",
        "request_call",
        "answer_survey",
    }


def test_setup_guide_ticks_allowed_and_refused() -> None:
    run = started()
    assert problem_codes(refusal(run, "tick_setup_step", {"step": "dance"})) == {
        "step": "invalid_choice"
    }
    assert problem_codes(refusal(run, "tick_setup_step", {})) == {"step": "required"}
    run.act("tick_setup_step", {"step": "app"}, at=madrid(2026, 12, 1, 9, 0))
    run.act("tick_setup_step", {"step": "app"}, at=madrid(2026, 12, 2, 9, 0))
    # Ticking twice keeps the first tick.
    assert run.task("setup_guide")["checked"]["app"]["at"] == "2026-12-01T08:00:00+00:00"
    run = checking_in()
    assert refusal(run, "tick_setup_step", {"step": "app"}).code == "not_in_stage"
    assert refusal(run, "setup_done").code == "not_in_stage"


def test_payment_method_bounds_and_cut_off() -> None:
    run = started()
    assert problem_codes(refusal(run, "choose_payment_method", {"method": "cash"})) == {
        "method": "invalid_choice"
    }
    bad = refusal(run, "choose_payment_method", {"method": "direct_debit", "iban": "ES12"})
    assert problem_codes(bad) == {"iban": "invalid_format"}
    run.send("usage.first_detected")
    run.advance(madrid(2026, 12, 14, 20, 0))
    row = run.control("choose_payment_method", "es")
    assert (row["allowed"], row["reason_code"]) == (False, "cutoff_passed")
    assert row["reason"] == "El plazo para hacerlo terminó el lunes 14 de diciembre a las 20:00."
    error = refusal(run, "choose_payment_method", {"method": "card"})
    assert error.instead is not None and "next ones" in error.instead.en
    run = first_bill()
    assert refusal(run, "choose_payment_method", {"method": "card"}).code == "not_in_stage"


@pytest.mark.parametrize(
    ("first_bill_date", "until"),
    [
        # Two working days before Wednesday 9 December skip the 8th: Friday 4.
        ("2026-12-09", madrid(2026, 12, 4, 20, 0)),
        # Before Thursday 7 January 2027 Epiphany is skipped: Tuesday 5, Monday 4.
        ("2027-01-07", madrid(2027, 1, 4, 20, 0)),
        # Before Tuesday 5 January the weekend and New Year's Day: Monday 4, Thursday 31.
        ("2027-01-05", madrid(2026, 12, 31, 20, 0)),
    ],
)
def test_payment_method_cut_off_skips_holidays(first_bill_date: str, until: datetime) -> None:
    run = started(first_bill_date=first_bill_date)
    assert run.date("payment_method_until") == until
    run.assert_replay_matches()


def test_default_features_switched_off() -> None:
    run = started()
    for control, attribute in [
        ("switch_off_voicemail", "voicemail"),
        ("switch_off_premium", "premium_services"),
        ("switch_off_usage_alerts", "usage_alerts"),
    ]:
        event = run.act(control)
        assert event_topics(event) == [f"features.{attribute}_off"]
        assert run.state.attributes[attribute] == "off"
        assert refusal(run, control).code == "not_applicable"
    run.assert_replay_matches()


def test_telecom_features_do_not_apply_to_energy() -> None:
    run = started(sector="energy")
    for control in ("switch_off_voicemail", "switch_off_roaming", "switch_off_premium"):
        error = refusal(run, control)
        assert error.code == "not_applicable"
    run.act("switch_off_usage_alerts")
    assert run.state.attributes["usage_alerts"] == "off"


def test_features_cannot_change_once_the_follow_up_ended() -> None:
    run = checking_in()
    run.act("answer_survey", {"score": "10"})
    run.advance(run.now)
    assert refusal(run, "switch_off_roaming").code == "finished"


def test_a_detractor_answer_opens_a_follow_up_call_instead_of_ending() -> None:
    run = checking_in()
    run.act("answer_survey", {"score": "4", "comment": "La instalación fue un caos"})
    fired = run.advance(run.now)
    assert [d.events[0].type for d in fired] == ["deadline.survey_detractor"]
    assert (run.state.stage, run.state.status) == ("follow_up", "active")
    assert run.task("detractor_follow_up")["team"] == "customer_success"
    assert run.headline("en").startswith("Thank you for your opinion.")
    accepted(run.send("follow_up.completed", {"outcome": "solved"}))
    assert (run.state.stage, run.state.status) == ("loyal", "completed")
    assert run.state.attributes["follow_up_outcome"] == "solved"
    assert run.task("detractor_follow_up")["status"] == "done"
    run.assert_replay_matches()


def test_the_process_that_brought_the_customer_is_recorded() -> None:
    run = started(origin_kind="mobile_port_in", origin_process="prc_123")
    assert run.state.attributes["origin_process"] == "prc_123"


def test_survey_bounds_and_cut_off() -> None:
    run = first_bill()
    assert refusal(run, "answer_survey", {"score": "8"}).code == "not_in_stage"
    run = checking_in()
    assert problem_codes(refusal(run, "answer_survey", {"score": "11"})) == {
        "score": "invalid_choice"
    }
    # An answer arriving after the cut-off but before the closing timer ran is refused.
    verdict = controls.check(C, run.state, "answer_survey", "customer", madrid(2027, 1, 12, 9, 0))
    assert (verdict.allowed, verdict.code) == (False, "cutoff_passed")
    assert verdict.reason is not None
    assert verdict.reason.en == "The deadline to do this was Monday 11 January at 23:59."


def test_request_call_for_human_attention() -> None:
    run = started()
    cases = {
        "2026-11-30T10:30:00+01:00": "too_early",
        "2026-12-06T10:00:00+01:00": "weekend",
        "2026-12-08T10:00:00+01:00": "holiday",
        "2026-12-09T10:00:00+01:00": "too_late",  # 5 working days: Monday 7 at 10:00
    }
    for when, code in cases.items():
        assert problem_codes(refusal(run, "request_call", {"call_at": when})) == {"call_at": code}
    event = run.act("request_call", {"call_at": "2026-12-02T17:00:00+01:00"})
    assert event_topics(event) == ["contact.call_requested"]
    assert run.date("call_at") == madrid(2026, 12, 2, 17, 0)
    accepted(run.send("call.completed", actor="agent:marta.gil"))
    assert run.task("call_customer")["status"] == "done"
    run.assert_replay_matches()


def test_early_messages_wait_for_their_stage() -> None:
    run = started()
    assert parked_reason(run.send("payment.received")) == "parked"
    assert parked_reason(run.send("check_in.logged", {"item": "call_made"})) == "parked"
    assert len(run.state.parked) == 2
    run.assert_replay_matches()
