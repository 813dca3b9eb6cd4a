"""``offboarding`` v2 through the pure engine, on a fixed clock: what version 2 fixes.

Energy ends by the distributor's word, not telecom's two working days: the B1 deactivation
request with its reason, the distributor's answer, the final meter reading, and the final bill
only after the deactivation or the switch-away activation (rules.md §3.2, §3.3, §7.2). The
early-exit charge is shown with what caps it (energy: rules.md §3.4, §3.6; telecom: EECC
art. 105, rules.md §7.1 row 2). Device instalments that continue are shown. A switch away run
by the new provider cannot be cancelled or re-dated by us (EECC art. 106, rules.md §3.3).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain.rendering import render

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
    refusal,
)

C = load("offboarding.v2.yaml")
D = C.definition
CONTRACT = "C7654321"
MONDAY = madrid(2026, 11, 30, 10, 0)
FINAL_BILL = {"bill_number": "F2026-010001", "amount": "41.80", "balance": "due"}
B1 = {"request_code": "B1-0000123", "reason_code": "02", "requested_on": "2026-12-15"}


def requested(sector: str = "energy", at: datetime = MONDAY, **attributes: Any) -> Run:
    return Run.start(
        C,
        at,
        subject=CONTRACT,
        attributes={"sector": sector, **attributes},
        keys={"msisdn": "612345678"} if sector == "telecom" else {"cups": "ES0021000000000001AB"},
    )


def notification(run: Run, template: str, lang: str = "es") -> str:
    """The text of ``template`` as the customer reads it now."""
    text = next(n.text for n in D.notifications if n.template == template)
    return render(text, C, run.state, lang)


def deactivated(**attributes: Any) -> Run:
    run = requested(**attributes)
    accepted(run.send("deactivation.requested", B1))
    accepted(run.send("deactivation.accepted", {"planned_on": "2026-12-16"}))
    accepted(
        run.send(
            "deactivation.activated",
            {"activated_on": "2026-12-16", "reading": "15234"},
            at=madrid(2026, 12, 16, 12, 0),
        )
    )
    return run


def test_running_v1_processes_stay_on_v1() -> None:
    assert (D.version, load("offboarding.v1.yaml").definition.version) == (2, 1)
    assert any("stay on version 1" in note for note in D.notes)


# -- energy follows energy's rules (rules.md §3.2, §3.3, §7.2) -------------------------------


def test_energy_termination_is_a_b1_deactivation_not_two_working_days() -> None:
    run = requested(reason="termination")
    # No telecom clock: neither the 2-working-day SLA nor the overdue timer run for energy.
    assert "sla:requested" not in run.state.timers
    assert "sla:requested" in requested("telecom", reason="termination").state.timers
    accepted(run.send("deactivation.requested", B1))
    assert run.state.attributes["deactivation_reason"] == "02"
    assert run.state.keys["atr_request_code"] == "B1-0000123"
    assert run.date("termination_date") == madrid(2026, 12, 15, 23, 59)
    # Telecom's signal does not end an energy contract.
    ignored_reason(run.send("contract.terminated", {"effective_on": "2026-12-02"}))
    assert run.state.stage == "requested"
    # Telecom's 2 working days pass without any incident.
    run.advance(madrid(2026, 12, 4, 9, 0))
    assert run.state.open_incidents() == []
    assert "timer:termination_overdue" not in run.state.timers
    run.assert_replay_matches()


def test_b1_reason_must_fit_the_exit() -> None:
    # A termination is reason 02 (end of the energy contract); 01 is a move-out's.
    run = requested(reason="termination")
    ignored_reason(run.send("deactivation.requested", {**B1, "reason_code": "01"}))
    assert "deactivation_reason" not in run.state.attributes
    run = requested(reason="move_out")
    accepted(run.send("deactivation.requested", {**B1, "reason_code": "01"}))
    assert run.state.attributes["deactivation_reason"] == "01"
    # 03 (cut) and 04 (non-payment) are dunning's, never an offboarding's.
    run = requested(reason="move_out")
    ignored_reason(run.send("deactivation.requested", {**B1, "reason_code": "04"}))


def test_distributor_rejects_then_accepts_the_deactivation() -> None:
    run = requested(reason="termination")
    accepted(run.send("deactivation.requested", B1))
    accepted(run.send("deactivation.rejected", {"code": "F1"}))
    assert run.state.open_incidents() == ["DEACTIVATION_REJECTED"]
    assert run.task("fix_deactivation")["team"] == "energy_ops"
    assert_incident_view(run, "DEACTIVATION_REJECTED")
    assert "(código F1)" in run.headline("es")
    event = accepted(run.send("deactivation.accepted", {"planned_on": "2026-12-16"}))
    assert event_templates(event) == ["deactivation_accepted"]
    assert run.state.incidents["DEACTIVATION_REJECTED"]["status"] == "resolved"
    assert run.task("fix_deactivation")["status"] == "done"
    assert run.date("termination_date") == madrid(2026, 12, 16, 23, 59)
    assert run.state.dates["termination_date"]["confirmed"] is True
    run.assert_replay_matches()


def test_final_reading_then_final_bill_only_after_deactivation() -> None:
    run = requested(reason="termination")
    accepted(run.send("deactivation.requested", B1))
    # A final bill before the supply is off waits for the deactivation.
    bill = {**FINAL_BILL, "due_date": "2027-01-05"}
    assert parked_reason(run.send("bill.final_issued", bill, at=madrid(2026, 12, 15, 9, 0)))
    assert run.state.stage == "requested"
    decision = run.send(
        "deactivation.activated",
        {"activated_on": "2026-12-16", "reading": "15234"},
        at=madrid(2026, 12, 16, 12, 0),
    )
    # The activation, then the parked bill that now applies.
    assert [e.type for e in decision.events] == ["deactivation.activated", "bill.final_issued"]
    event = decision.events[0]
    assert event_topics(event) == ["billing.stop_requested"]
    assert "final_reading" in event_templates(event)
    assert run.state.attributes["final_reading"] == "15234"
    assert notification(run, "final_reading", "en") == (
        "Your supply with us ended on Wednesday 16 December with a final reading of 15234 kWh. "
        "We use it for your final bill."
    )
    # Electricity Directive art. 10(12): the final closure account within 6 weeks.
    assert run.date("final_bill_latest") == madrid(2027, 1, 27, 23, 59)
    # The parked bill applies now that the supply is off.
    assert run.state.stage == "final_bill"
    assert run.state.attributes["final_amount"] == "41.80"
    run.assert_replay_matches()


def test_energy_switch_away_ends_with_the_distributors_activation() -> None:
    run = requested(reason="supplier_switch")
    accepted(run.send("switch_away.accepted", {"planned_on": "2026-12-10"}))
    assert run.date("termination_date") == madrid(2026, 12, 10, 23, 59)
    run.advance(madrid(2026, 12, 10, 9, 0))
    assert run.state.open_incidents() == []
    accepted(run.send("switch_away.activated", {"activated_on": "2026-12-10", "reading": "8001"}))
    assert run.state.stage == "terminated"
    assert run.state.attributes["final_reading"] == "8001"
    assert run.date("final_bill_latest") == madrid(2027, 1, 21, 23, 59)
    assert run.task("revoke_access_energy")["status"] == "open"
    run.assert_replay_matches()


def test_energy_switch_away_cancelled_by_the_new_retailer_keeps_the_contract() -> None:
    run = requested(reason="supplier_switch")
    accepted(run.send("switch_away.cancelled"))
    assert run.state.status == "failed"
    assert run.headline("en") == "The termination did not go through: you stay with us."


# -- a switch away is the new provider's (EECC art. 106, rules.md §3.3) -----------------------


@pytest.mark.parametrize(
    ("sector", "reason"), [("energy", "supplier_switch"), ("telecom", "port_out")]
)
def test_switch_away_cannot_be_cancelled_or_redated_by_us(sector: str, reason: str) -> None:
    run = requested(sector, reason=reason)
    for control in ("cancel_termination", "choose_termination_date"):
        error = refusal(run, control, {"date": "2026-12-31"})
        assert error.code == "not_applicable"
        assert error.instead is not None
        assert "nueva compañía" in error.instead.es
        assert "new provider" in error.instead.en
    error = refusal(run, "stop_switch_away")
    assert error.instead is not None
    assert "es tu nueva compañía quien gestiona el cambio" in error.instead.es
    row = run.control("stop_switch_away", "en")
    assert row["allowed"] is False
    assert "your new provider runs the switch" in row["instead"]
    assert "stop_switch_away" not in allowed_controls(run)


def test_own_termination_can_still_be_cancelled_and_redated() -> None:
    run = requested("energy", reason="move_out")
    assert {"cancel_termination", "choose_termination_date"} <= allowed_controls(run)
    run.act("cancel_termination")
    assert run.state.status == "cancelled"


# -- the early-exit charge and its legal cap ------------------------------------------------------


def test_energy_fixed_price_first_year_charge_shown_with_its_five_percent_cap() -> None:
    run = deactivated(reason="termination", energy_price="fixed")
    charge = {"amount": "9.50", "cap": "12.00", "energy_to_bill": "240.00"}
    event = accepted(run.send("exit_charge.assessed", charge))
    assert event_templates(event) == ["exit_charge_energy"]
    assert run.state.attributes["exit_charge"] == "9.50"
    assert run.state.attributes["exit_charge_cap"] == "12.00"
    assert notification(run, "exit_charge_energy") == (
        "Tu contrato es a precio fijo y no ha llegado a su primera renovación, así que hay una "
        "penalización por salida anticipada de 9,50\u00a0€. La ley la limita al 5 % de la energía "
        "que quedaba por facturar: como máximo 12,00\u00a0€."
    )
    assert run.state.open_incidents() == []


@pytest.mark.parametrize(
    "attributes",
    [
        {"energy_price": "indexed"},
        {"energy_price": "fixed", "first_renewal_passed": True},
        {"energy_price": "fixed", "vulnerable_to_pvpc": True},
    ],
)
def test_energy_charge_not_allowed_otherwise(attributes: dict[str, Any]) -> None:
    run = deactivated(reason="termination", **attributes)
    event = accepted(
        run.send(
            "exit_charge.assessed", {"amount": "9.50", "cap": "12.00", "energy_to_bill": "240"}
        )
    )
    assert event_topics(event) == ["billing.exit_charge_refused"]
    assert "exit_charge" not in run.state.attributes
    assert run.state.open_incidents() == ["EXIT_CHARGE_NOT_ALLOWED"]
    assert run.task("remove_exit_charge")["team"] == "billing_ops"
    assert_incident_view(run, "EXIT_CHARGE_NOT_ALLOWED")
    assert run.headline("en").startswith("Our system worked out an early-exit charge of €9.50")
    accepted(run.send("exit_charge.removed"))
    assert run.state.incidents["EXIT_CHARGE_NOT_ALLOWED"]["status"] == "resolved"
    assert run.task("remove_exit_charge")["status"] == "done"
    run.assert_replay_matches()


def test_telecom_pro_rata_penalty_within_24_months() -> None:
    run = requested("telecom", reason="termination")
    charge = {
        "amount": "40.00",
        "cap": "40.00",
        "commitment_months": 24,
        "months_left": 6,
        "commitment_end": "2027-05-31",
    }
    event = accepted(run.send("exit_charge.assessed", charge))
    assert event_templates(event) == ["exit_charge_telecom"]
    assert run.date("commitment_end") == madrid(2027, 5, 31, 23, 59)
    assert notification(run, "exit_charge_telecom", "en") == (
        "You are leaving before the end of your 24-month minimum term (it would have ended on "
        "Monday 31 May). The charge is €40.00: only the share of the 6 months left, "
        "€40.00 at most."
    )


def test_telecom_commitment_beyond_24_months_is_not_charged() -> None:
    # EECC art. 105: initial terms of at most 24 months.
    run = requested("telecom", reason="termination")
    charge = {
        "amount": "80.00",
        "cap": "80.00",
        "commitment_months": 36,
        "months_left": 20,
        "commitment_end": "2028-05-31",
    }
    accepted(run.send("exit_charge.assessed", charge))
    assert run.state.open_incidents() == ["EXIT_CHARGE_NOT_ALLOWED"]
    assert "exit_charge" not in run.state.attributes


# -- device instalments continue ------------------------------------------------------------------


def test_device_instalments_shown_with_amount_and_end_date() -> None:
    run = requested("telecom", reason="port_out")
    data = {"device": "móvil", "monthly_amount": "18.25", "end_date": "2027-09-30"}
    event = accepted(run.send("device.instalments_continue", data))
    assert event_templates(event) == ["device_instalments"]
    assert run.date("instalments_end") == madrid(2027, 9, 30, 23, 59)
    assert notification(run, "device_instalments") == (
        "Tu móvil se sigue pagando después de la baja: 18,25\u00a0€ al mes hasta el jueves 30 de "
        "septiembre. No tienes que hacer nada; te lo cobramos como hasta ahora."
    )
    dates = {row["id"] for row in run.view("es")["dates"]}
    assert "instalments_end" in dates
    run.assert_replay_matches()


def test_every_incident_code_is_covered() -> None:
    assert set(D.incidents) == {
        "TERMINATION_LATE",
        "DEACTIVATION_REJECTED",
        "EXIT_CHARGE_NOT_ALLOWED",
        "EQUIPMENT_NOT_RETURNED",
        "EQUIPMENT_INCOMPLETE",
        "FINAL_BILL_UNPAID",
        "FINAL_BILL_LATE",
        "EXPORT_LATE",
    }
