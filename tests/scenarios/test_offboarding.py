"""A customer leaving (``offboarding`` v1) through the pure engine, on a fixed clock.

Termination within 2 working days, the final bill and its collection, equipment return with
its deadline and charge, the revocation checklist ticked by named people, data export and
blocking with an auditable proof, the number kept portable for a month, the exit survey and
a consent-gated come-back offer — for telecom and energy — plus cancellation and replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain import engine
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
    run_topics,
)

C = load("offboarding.v1.yaml")
D = C.definition
CONTRACT = "C1234567"
MONDAY = madrid(2026, 11, 30, 10, 0)
TELECOM_ITEMS = [item.id for item in D.tasks["revoke_access_telecom"].checklist]
ENERGY_ITEMS = [item.id for item in D.tasks["revoke_access_energy"].checklist]
FINAL_BILL = {"bill_number": "F2026-009999", "amount": "23.10", "balance": "due"}
PROOF = {
    "proof_id": "BLK-2026-0042",
    "blocked_on": "2026-12-28",
    "retention_until": "2032-12-31",
    "blocked": ["invoices", "contract_evidence"],
    "deleted": ["usage_profile", "marketing_profile"],
}


def requested(sector: str = "telecom", at: datetime = MONDAY, **attributes: Any) -> Run:
    return Run.start(
        C,
        at,
        subject=CONTRACT,
        attributes={"sector": sector, **attributes},
        keys={"msisdn": "612345678"} if sector == "telecom" else {},
    )


def terminated(sector: str = "telecom", **attributes: Any) -> Run:
    run = requested(sector, **attributes)
    accepted(
        run.send(
            "contract.terminated", {"effective_on": "2026-12-02"}, at=madrid(2026, 12, 2, 9, 0)
        )
    )
    return run


def with_equipment(**attributes: Any) -> Run:
    run = requested(**attributes)
    accepted(
        run.send(
            "equipment.return_requested",
            {"return_code": "DEV123456", "charge": "45.00"},
            at=madrid(2026, 11, 30, 11, 0),
        )
    )
    accepted(
        run.send(
            "contract.terminated", {"effective_on": "2026-12-02"}, at=madrid(2026, 12, 2, 9, 0)
        )
    )
    return run


def final_bill(due_date: str = "2026-12-21", **attributes: Any) -> Run:
    run = terminated(**attributes)
    accepted(
        run.send(
            "bill.final_issued", {**FINAL_BILL, "due_date": due_date}, at=madrid(2026, 12, 10, 9, 0)
        )
    )
    return run


def closing(**attributes: Any) -> Run:
    run = final_bill(**attributes)
    accepted(run.send("payment.received", at=madrid(2026, 12, 18, 9, 0)))
    assert run.state.stage == "closing"
    return run


def revoke_all(run: Run, items: list[str], actor: str = "agent:lucia.martin") -> None:
    for item in items:
        accepted(run.send("access.revoked", {"item": item}, actor=actor))


# -- happy path ----------------------------------------------------------------------------


def test_telecom_goodbye_from_request_to_the_end_of_the_portability_month() -> None:
    run = requested()
    assert run.state.keys == {"contract_code": CONTRACT, "msisdn": "612345678"}
    assert event_topics(run.events[0]) == ["contract.termination_requested"]
    assert event_templates(run.events[0]) == ["termination_received"]
    # RD 899/2009: within 2 working days.
    assert run.date("termination_date") == madrid(2026, 12, 2, 23, 59)
    assert run.timer("sla:requested") == madrid(2026, 12, 2, 10, 0)
    assert run.headline("es") == (
        "Hemos recibido tu solicitud de baja. Tu contrato termina el miércoles 2 de diciembre."
    )
    assert run.headline("en") == (
        "We have your termination request. Your contract ends on Wednesday 2 December."
    )

    event = accepted(
        run.send(
            "equipment.return_requested",
            {"return_code": "DEV123456", "charge": "45.00"},
            at=madrid(2026, 11, 30, 11, 0),
        )
    )
    assert event_templates(event) == ["return_code"]
    assert run.state.keys["return_code"] == "DEV123456"
    assert run.date("return_until") == madrid(2026, 12, 15, 23, 59)
    assert run.state.requirements["equipment_return"]["state"] == "missing"

    event = accepted(
        run.send(
            "contract.terminated", {"effective_on": "2026-12-02"}, at=madrid(2026, 12, 2, 9, 0)
        )
    )
    assert run.state.stage == "terminated"
    assert event_topics(event) == ["billing.stop_requested"]
    assert event_templates(event) == ["number_portable", "contract_ended"]
    # EECC: the number stays portable for (at least) one month.
    assert run.date("portable_until") == madrid(2027, 1, 2, 23, 59)
    assert run.timer("timer:number_returned") == madrid(2027, 1, 2, 23, 59)
    assert run.task("revoke_access_telecom")["due_at"] == "2026-12-10T08:00:00+00:00"
    assert run.headline("es") == (
        "Tu contrato terminó el miércoles 2 de diciembre. Ahora preparamos tu última factura."
    )
    nxt = run.view("en")["next"]
    assert (nxt["who"], nxt["when"]) == ("customer", "2026-12-15T22:59:00+00:00")

    event = run.act(
        "confirm_equipment_sent", {"receipt": "PK12345678ES"}, at=madrid(2026, 12, 4, 12, 0)
    )
    assert event_topics(event) == ["logistics.return_declared"]
    assert run.state.requirements["equipment_return"]["state"] == "submitted"
    assert "timer:return_deadline" not in run.state.timers
    accepted(
        run.send("equipment.received", {"condition": "complete"}, at=madrid(2026, 12, 9, 9, 0))
    )
    assert run.state.requirements["equipment_return"]["state"] == "accepted"
    assert "timer:return_trace" not in run.state.timers

    for index, item in enumerate(TELECOM_ITEMS):
        run.send(
            "access.revoked",
            {"item": item},
            at=madrid(2026, 12, 9, 10, index),
            actor="agent:lucia.martin" if index % 2 else "agent:pedro.ruiz",
        )
    task = run.task("revoke_access_telecom")
    assert task["status"] == "done"
    assert task["checked"]["self_care"] == {
        "by": "agent:pedro.ruiz",
        "at": "2026-12-09T09:00:00+00:00",
    }
    assert task["checked"]["api_tokens"]["at"] == "2026-12-09T09:01:00+00:00"
    assert task["checked"]["api_tokens"]["by"] == "agent:lucia.martin"
    assert set(task["checked"]) == set(TELECOM_ITEMS)

    event = accepted(
        run.send(
            "bill.final_issued",
            {**FINAL_BILL, "due_date": "2026-12-21"},
            at=madrid(2026, 12, 10, 9, 0),
        )
    )
    assert run.state.stage == "final_bill"
    assert run.state.keys["final_bill_number"] == "F2026-009999"
    assert event_templates(event) == ["final_bill_ready"]
    assert run.headline("es") == "Tu última factura es de 23.10 € y vence el lunes 21 de diciembre."
    assert run.timer("timer:final_bill_unpaid") == madrid(2026, 12, 22, 9, 0)

    event = run.act("export_my_data", {"format": "json", "delivery": "other_company"})
    assert event_topics(event) == ["gdpr.export_requested"]
    assert run.date("export_due") == madrid(2027, 1, 9, 23, 59)
    accepted(run.send("data.exported", {"reference": "EXP-77"}, at=madrid(2026, 12, 14, 9, 0)))
    assert run.task("data_export")["status"] == "done"
    assert "timer:export_overdue" not in run.state.timers

    accepted(run.send("payment.received", at=madrid(2026, 12, 18, 9, 0)))
    assert run.state.stage == "closing"
    assert run.headline("en") == (
        "Everything is settled. We are closing your accesses and protecting your data."
    )

    event = accepted(
        run.send("data.blocked", PROOF, at=madrid(2026, 12, 28, 12, 0), actor="agent:dpo.ana")
    )
    assert run.state.stage == "closed"
    assert run.state.status == "active"
    assert event_templates(event) == ["goodbye"]
    assert event.actor == "agent:dpo.ana"
    assert run.state.attributes["block_proof"] == "BLK-2026-0042"
    assert run.state.attributes["blocked_categories"] == ["invoices", "contract_evidence"]
    assert run.state.attributes["deleted_categories"] == ["usage_profile", "marketing_profile"]
    assert run.date("retention_until") == madrid(2032, 12, 31, 23, 59)
    assert run.headline("es").startswith("Tu baja está completada. Gracias por estos años")

    run.act("answer_exit_survey", {"reason": "price", "score": "4"})
    assert run.state.attributes["exit_reason"] == "price"

    fired = run.advance(madrid(2027, 1, 3, 0, 0))
    assert [d.events[0].type for d in fired][-1] == "deadline.farewell_number"
    assert event_topics(fired[-1].events[0]) == ["number.return_to_range"]
    assert run.state.status == "completed"
    assert run.state.timers == {}
    assert run.headline("es") == "Tu baja está completada. ¡Gracias y hasta pronto!"
    assert run.headline("en") == "Your termination is complete. Thank you and see you soon!"
    assert run_templates(run) == [
        "termination_received",
        "return_code",
        "number_portable",
        "contract_ended",
        "final_bill_ready",
        # Reminders cannot be guarded by an attribute: its text says "if you already did,
        # ignore this message" (a gap of the definition language).
        "return_reminder",
        "number_portable",  # a week before the portability month ends
        "goodbye",
    ]
    assert run_topics(run).count("number.return_to_range") == 1
    run.assert_replay_matches()


def test_energy_switch_away_credit_balance_and_late_final_bill() -> None:
    run = terminated("energy", reason="supplier_switch")
    assert run.state.attributes["number_kept"] is False
    assert "portable_until" not in run.state.dates
    # Electricity Directive: final closure account within 6 weeks.
    assert run.date("final_bill_latest") == madrid(2027, 1, 13, 23, 59)
    assert run.task("revoke_access_energy")["status"] == "open"
    assert "revoke_access_telecom" not in run.state.tasks

    run.advance(madrid(2027, 1, 14, 0, 0))
    assert run.state.open_incidents() == ["FINAL_BILL_LATE"]
    assert run.task("chase_final_bill")["team"] == "energy_ops"
    assert_incident_view(run, "FINAL_BILL_LATE")
    assert run.headline("es") == (
        "Tu última factura debía llegar antes del miércoles 13 de enero y aún no la tienes. "
        "La estamos reclamando."
    )

    accepted(run.send("bill.final_issued", {**FINAL_BILL, "amount": "-12.40", "balance": "credit"}))
    assert run.state.stage == "closing"
    assert run.state.open_incidents() == []
    assert run.task("refund_credit")["status"] == "open"
    accepted(run.send("refund.paid"))
    assert run.task("refund_credit")["status"] == "done"
    revoke_all(run, ENERGY_ITEMS)
    assert run.task("revoke_access_energy")["status"] == "done"

    accepted(run.send("data.blocked", PROOF, at=madrid(2027, 1, 20, 9, 0)))
    assert run.state.stage == "closed"
    # The goodbye month ended on 2 January: the process completes at the next tick.
    assert run.timer("timer:farewell") == madrid(2027, 1, 2, 23, 59)
    fired = run.advance(madrid(2027, 1, 20, 9, 1))
    assert fired[0].events[0].type == "deadline.farewell"
    assert event_topics(fired[0].events[0]) == []
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_zero_balance_final_bill_goes_straight_to_closing() -> None:
    run = terminated()
    accepted(run.send("bill.final_issued", {**FINAL_BILL, "amount": "0.00", "balance": "zero"}))
    assert run.state.stage == "closing"
    assert "refund_credit" not in run.state.tasks
    run.assert_replay_matches()


# -- termination date, cancellation, port-out ------------------------------------------------


def test_choose_a_later_termination_date() -> None:
    run = requested()
    cases = {"2026-11-30": "too_early", "2027-02-01": "too_late", "31-12-2026": "invalid_date"}
    for day, code in cases.items():
        assert problem_codes(refusal(run, "choose_termination_date", {"date": day})) == {
            "date": code
        }
    late = refusal(run, "choose_termination_date", {"date": "2027-02-01"}).problems[0]
    assert late.message.en == "The latest date is Friday 29 January."
    event = run.act("choose_termination_date", {"date": "2026-12-31"})
    assert event_topics(event) == ["contract.termination_date_changed"]
    assert run.date("termination_date") == madrid(2026, 12, 31, 23, 59)
    assert run.timer("timer:termination_overdue") == madrid(2026, 12, 31, 23, 59)
    assert run.headline("en").endswith("Your contract ends on Thursday 31 December.")
    run.assert_replay_matches()


def test_termination_date_and_cancel_close_at_the_termination_date() -> None:
    run = requested()
    run.advance(madrid(2026, 12, 2, 23, 59))
    for control in ("choose_termination_date", "cancel_termination"):
        row = run.control(control, "es")
        assert (row["allowed"], row["reason_code"]) == (False, "cutoff_passed")
        assert (
            row["reason"]
            == "El plazo para hacerlo terminó el miércoles 2 de diciembre a las 23:59."
        )
    error = refusal(run, "cancel_termination")
    assert error.instead is not None and "sign up again" in error.instead.en
    run.assert_replay_matches()


def test_cancel_the_termination() -> None:
    run = requested()
    event = run.act("cancel_termination", at=madrid(2026, 12, 1, 18, 0))
    assert run.state.status == "cancelled"
    assert event_topics(event) == ["contract.termination_cancelled"]
    assert run.state.timers == {}
    assert run.headline("es") == "Has anulado la baja. Sigues con nosotros como hasta ahora."
    assert run.headline("en") == "You cancelled the termination. You stay with us as before."
    assert ignored_reason(run.send("contract.terminated", {"effective_on": "2026-12-02"})) == (
        "process_finished"
    )
    run.assert_replay_matches()


def test_cancel_and_date_are_refused_once_terminated_or_on_a_port_out() -> None:
    run = terminated()
    assert refusal(run, "cancel_termination").code == "not_in_stage"
    assert refusal(run, "choose_termination_date", {"date": "2026-12-31"}).code == "not_in_stage"
    run = requested(reason="port_out")
    for control in ("cancel_termination", "choose_termination_date"):
        error = refusal(run, control, {"date": "2026-12-31"})
        assert error.code == "not_applicable"
        assert error.instead is not None


def test_port_out_keeps_no_number_and_can_fail() -> None:
    run = requested(reason="port_out")
    accepted(run.send("port_out.failed", at=madrid(2026, 12, 1, 9, 0)))
    assert run.state.status == "failed"
    assert run.headline("es") == "La baja no se ha completado: tu línea sigue con nosotros."
    run = terminated(reason="port_out")
    assert run.state.attributes["number_kept"] is False
    assert "portable_until" not in run.state.dates
    assert "timer:number_returned" not in run.state.timers
    assert ignored_reason(run.send("port_out.failed")) == "out_of_order"
    run.assert_replay_matches()


def test_late_termination_opens_an_incident_and_stops_billing() -> None:
    run = requested(at=madrid(2026, 12, 4, 16, 0))  # Friday before the December bridge
    # 2 national working days: Monday 7 and Wednesday 9 (8 December skipped).
    assert run.date("termination_date") == madrid(2026, 12, 9, 23, 59)
    fired = run.advance(madrid(2026, 12, 10, 9, 0))
    event = fired[-1].events[0]
    assert event.type == "deadline.termination_overdue"
    assert event_topics(event) == ["billing.stop_requested"]
    assert run.state.open_incidents() == ["TERMINATION_LATE"]
    assert run.task("escalate_termination")["status"] == "open"
    assert_incident_view(run, "TERMINATION_LATE")
    assert run.headline("es") == (
        "Tu baja debía estar hecha el miércoles 9 de diciembre y aún no lo está. "
        "No te cobramos nada desde esa fecha."
    )
    accepted(run.send("contract.terminated", {"effective_on": "2026-12-10"}))
    assert run.state.incidents["TERMINATION_LATE"]["status"] == "resolved"
    assert run.task("escalate_termination")["status"] == "done"
    run.assert_replay_matches()


# -- equipment -------------------------------------------------------------------------------


def test_equipment_not_returned_is_charged() -> None:
    run = with_equipment()
    assert run.timer("notify:return_reminder") == madrid(2026, 12, 12, 10, 0)
    fired = run.advance(madrid(2026, 12, 16, 0, 0))
    event = fired[-1].events[0]
    assert event.type == "deadline.return_deadline"
    assert event_topics(event) == ["billing.equipment_charge_requested"]
    assert run.state.open_incidents() == ["EQUIPMENT_NOT_RETURNED"]
    assert run.task("equipment_charge")["team"] == "billing_ops"
    assert_incident_view(run, "EQUIPMENT_NOT_RETURNED")
    assert run.headline("es") == (
        "No hemos recibido tu equipo y el plazo terminó el martes 15 de diciembre. "
        "Si no nos llega, te cobraremos 45.00 €."
    )
    row = next(r for r in run.view("en")["incidents"] if r["code"] == "EQUIPMENT_NOT_RETURNED")
    assert "DEV123456" in row["what_you_can_do"]
    accepted(run.send("equipment.charged", {"amount": "45.00"}))
    assert run.state.attributes["equipment_charged"] == "45.00"
    assert run.task("equipment_charge")["status"] == "done"
    run.assert_replay_matches()


def test_thirty_day_return_policy_and_a_parcel_to_trace() -> None:
    run = requested()
    accepted(
        run.send(
            "equipment.return_requested",
            {"return_code": "DEV999", "charge": "60.00", "days": 30},
            at=madrid(2026, 11, 30, 11, 0),
        )
    )
    assert run.date("return_until") == madrid(2026, 12, 30, 23, 59)
    run.send("contract.terminated", {"effective_on": "2026-12-02"}, at=madrid(2026, 12, 2, 9, 0))
    assert problem_codes(refusal(run, "confirm_equipment_sent", {"receipt": "abc"})) == {
        "receipt": "invalid_format"
    }
    run.act("confirm_equipment_sent", {"receipt": "PK98765432ES"})
    assert run.timer("timer:return_trace") == madrid(2027, 1, 9, 9, 0)
    run.advance(madrid(2027, 1, 9, 9, 0))
    assert run.task("trace_return")["team"] == "logistics"
    assert "EQUIPMENT_NOT_RETURNED" not in run.state.incidents
    accepted(run.send("equipment.received", {"condition": "complete"}))
    assert run.task("trace_return")["status"] == "done"
    assert refusal(run, "confirm_equipment_sent", {"receipt": "PK98765432ES"}).code == (
        "not_applicable"
    )
    run.assert_replay_matches()


def test_incomplete_equipment_asks_for_the_rest() -> None:
    run = with_equipment()
    accepted(
        run.send(
            "equipment.received",
            {"condition": "incomplete", "missing": "el mando a distancia"},
            at=madrid(2026, 12, 9, 9, 0),
        )
    )
    assert run.state.requirements["equipment_return"]["state"] == "rejected"
    assert run.state.open_incidents() == ["EQUIPMENT_INCOMPLETE"]
    assert_incident_view(run, "EQUIPMENT_INCOMPLETE")
    assert run.headline("es") == (
        "Hemos recibido tu equipo, pero falta algo: el mando a distancia."
    )
    run.act("confirm_equipment_sent", {"receipt": "PK11112222ES"})
    accepted(run.send("equipment.received", {"condition": "complete"}))
    assert run.state.open_incidents() == []
    run.assert_replay_matches()


def test_confirm_equipment_sent_is_refused_without_a_return_code() -> None:
    run = terminated()
    assert refusal(run, "confirm_equipment_sent", {"receipt": "PK12345678ES"}).code == (
        "not_applicable"
    )
    run = requested()
    run.send("equipment.return_requested", {"return_code": "D1", "charge": "30"})
    assert refusal(run, "confirm_equipment_sent", {"receipt": "PK12345678ES"}).code == (
        "not_in_stage"
    )


# -- final bill and collection ---------------------------------------------------------------


def test_unpaid_final_bill_after_christmas() -> None:
    run = final_bill(due_date="2026-12-24")
    # The day after Christmas Eve is the holiday, then a weekend: Monday 28 at 09:00.
    assert run.timer("timer:final_bill_unpaid") == madrid(2026, 12, 28, 9, 0)
    fired = run.advance(madrid(2026, 12, 28, 9, 0))
    assert event_topics(fired[-1].events[0]) == ["billing.collection_started"]
    assert run.state.open_incidents() == ["FINAL_BILL_UNPAID"]
    assert_incident_view(run, "FINAL_BILL_UNPAID")
    assert run.timer("timer:debt_recovery") == madrid(2027, 2, 7, 9, 0)
    assert run.timer("notify:final_bill_reminder") == madrid(2027, 1, 8, 10, 0)

    assert problem_codes(refusal(run, "request_payment_plan", {"instalments": "6"})) == {
        "instalments": "invalid_choice"
    }
    run.act("request_payment_plan", {"instalments": "3"})
    assert run.task("payment_plan")["status"] == "open"
    assert refusal(run, "request_payment_plan", {"instalments": "2"}).code == "not_applicable"
    accepted(run.send("payment.received"))
    assert run.state.stage == "closing"
    assert run.state.incidents["FINAL_BILL_UNPAID"]["status"] == "resolved"
    run.assert_replay_matches()


def test_a_final_bill_claim_holds_collection() -> None:
    run = final_bill()
    assert problem_codes(refusal(run, "dispute_final_bill", {"reason": "nope"})) == {
        "reason": "invalid_choice"
    }
    event = run.act("dispute_final_bill", {"reason": "billed_after_termination"})
    assert event_topics(event) == ["billing.claim_opened"]
    assert "timer:final_bill_unpaid" not in run.state.timers
    assert refusal(run, "dispute_final_bill", {"reason": "other"}).code == "not_applicable"
    accepted(run.send("claim.resolved", {"outcome": "upheld"}, at=madrid(2026, 12, 23, 9, 0)))
    assert run.state.attributes["claim_pending"] is False
    assert run.timer("timer:final_bill_unpaid") == madrid(2026, 12, 22, 9, 0)
    run.assert_replay_matches()


def test_final_bill_controls_refused_outside_the_final_bill() -> None:
    run = terminated()
    assert refusal(run, "dispute_final_bill", {"reason": "other"}).code == "not_in_stage"
    assert refusal(run, "request_payment_plan", {"instalments": "2"}).code == "not_in_stage"
    assert parked_reason(run.send("payment.received")) == "parked"


# -- revocation checklist --------------------------------------------------------------------


def test_revocation_records_who_ticked_each_item_and_when() -> None:
    run = terminated()
    accepted(
        run.send(
            "access.revoked", {"item": "sim_esim"}, at=madrid(2026, 12, 3, 9, 15), actor="agent:ana"
        )
    )
    accepted(
        run.send(
            "access.revoked", {"item": "sim_esim"}, at=madrid(2026, 12, 3, 9, 45), actor="agent:bea"
        )
    )
    checked = run.task("revoke_access_telecom")["checked"]
    assert checked == {"sim_esim": {"by": "agent:ana", "at": "2026-12-03T08:15:00+00:00"}}
    assert run.task("revoke_access_telecom")["status"] == "open"
    decision = run.send("access.revoked", {"item": "meter_data_access"})
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, "invalid_data")
    assert decision.reason is not None
    assert (
        "'meter_data_access' is not an item of checklist 'revoke_access_telecom'" in decision.reason
    )
    decision = run.send("access.revoked", {})
    assert decision.reason_code == "missing_data"
    run.assert_replay_matches()


def test_energy_checklist_has_its_own_items() -> None:
    run = terminated("energy")
    decision = run.send("access.revoked", {"item": "sim_esim"})
    assert decision.outcome is Outcome.REJECTED
    revoke_all(run, ENERGY_ITEMS, actor="agent:olga")
    task = run.task("revoke_access_energy")
    assert task["status"] == "done"
    assert {entry["by"] for entry in task["checked"].values()} == {"agent:olga"}
    run.assert_replay_matches()


def test_revocation_before_termination_waits_for_it() -> None:
    run = requested()
    assert parked_reason(run.send("access.revoked", {"item": "self_care"})) == "parked"


# -- data: export, erasure, blocking ---------------------------------------------------------


def test_data_export_late_after_a_month() -> None:
    run = terminated()
    assert problem_codes(
        refusal(run, "export_my_data", {"format": "xml", "delivery": "download"})
    ) == {"format": "invalid_choice"}
    assert problem_codes(refusal(run, "export_my_data", {"format": "csv"})) == {
        "delivery": "required"
    }
    run.act(
        "export_my_data", {"format": "csv", "delivery": "download"}, at=madrid(2026, 12, 3, 9, 0)
    )
    assert run.date("export_due") == madrid(2027, 1, 2, 23, 59)
    assert refusal(run, "export_my_data", {"format": "csv", "delivery": "download"}).code == (
        "not_applicable"
    )
    run.advance(madrid(2027, 1, 3, 0, 0))
    assert "EXPORT_LATE" in run.state.open_incidents()
    assert_incident_view(run, "EXPORT_LATE")
    accepted(run.send("data.exported", {"reference": "EXP-1"}))
    assert run.state.incidents["EXPORT_LATE"]["status"] == "resolved"
    run.assert_replay_matches()


def test_erasure_request_and_data_controls_close_once_blocked() -> None:
    run = closing()
    event = run.act("request_erasure")
    assert event_topics(event) == ["gdpr.erasure_requested"]
    assert run.task("erasure_review")["team"] == "privacy_office"
    assert refusal(run, "request_erasure").code == "not_applicable"
    run.send("data.blocked", PROOF, actor="agent:dpo.ana")
    assert run.task("erasure_review")["status"] == "done"
    assert refusal(run, "export_my_data", {"format": "json", "delivery": "download"}).code == (
        "not_in_stage"
    )
    assert refusal(run, "request_erasure").code == "not_in_stage"
    dates = {row["id"]: row["text"] for row in run.view("en")["dates"]}
    assert dates["retention_until"] == "Friday 31 December at 23:59"
    run.assert_replay_matches()


def test_data_blocked_needs_its_proof_and_only_after_settlement() -> None:
    run = closing()
    decision = run.send("data.blocked", {"proof_id": "BLK-1"})
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason == "data.blocked needs data field(s) blocked_on, retention_until"
    run = final_bill()
    assert parked_reason(run.send("data.blocked", PROOF)) == "parked"


# -- goodbye: survey, consent-gated offer ----------------------------------------------------


def test_exit_survey_allowed_and_refused() -> None:
    run = requested()
    assert refusal(run, "answer_exit_survey", {"reason": "price", "score": "3"}).code == (
        "not_in_stage"
    )
    run = terminated()
    assert problem_codes(refusal(run, "answer_exit_survey", {"reason": "price", "score": "9"})) == {
        "score": "invalid_choice"
    }
    event = run.act("answer_exit_survey", {"reason": "coverage", "score": "2", "comment": "Sin 5G"})
    assert event_topics(event) == ["survey.exit_answered"]
    assert refusal(run, "answer_exit_survey", {"reason": "price", "score": "3"}).code == (
        "not_applicable"
    )
    run.assert_replay_matches()


def test_exit_survey_and_consent_close_with_the_goodbye_month() -> None:
    run = terminated("energy")
    run.send("bill.final_issued", {**FINAL_BILL, "balance": "zero"})
    run.advance(madrid(2027, 1, 3, 0, 0))  # still closing: data not yet blocked
    assert run.state.stage == "closing"
    for control in ("answer_exit_survey", "keep_in_touch"):
        row = run.control(control, "en")
        assert (row["allowed"], row["reason_code"]) == (False, "cutoff_passed")
        assert row["reason"] == "The deadline to do this was Saturday 2 January at 23:59."
    run.assert_replay_matches()


def test_come_back_offer_only_with_consent() -> None:
    run = terminated()
    assert "timer:winback_eligible" not in run.state.timers
    event = run.act("keep_in_touch", {"channel": "email"}, at=madrid(2026, 12, 3, 9, 0))
    assert event_topics(event) == ["consent.marketing_granted"]
    # Only once everything is settled.
    assert "timer:winback_eligible" not in run.state.timers
    run.send("bill.final_issued", {**FINAL_BILL, "balance": "zero"}, at=madrid(2026, 12, 14, 9, 0))
    assert run.timer("timer:winback_eligible") == madrid(2026, 12, 9, 11, 0)
    fired = run.advance(madrid(2026, 12, 14, 9, 1))
    assert event_topics(fired[0].events[0]) == ["crm.winback_eligible"]
    event = accepted(run.send("winback.offer_ready", {"offer_code": "VUELVE20"}))
    assert event_templates(event) == ["winback_offer"]
    assert run.state.attributes["offer_code"] == "VUELVE20"
    assert refusal(run, "keep_in_touch", {"channel": "sms"}).code == "not_applicable"

    event = run.act("no_more_offers")
    assert event_topics(event) == ["consent.marketing_withdrawn"]
    assert run.state.attributes["marketing_consent"] is False
    assert (
        ignored_reason(run.send("winback.offer_ready", {"offer_code": "VUELVE30"}))
        == "out_of_order"
    )
    assert refusal(run, "no_more_offers").code == "not_applicable"
    run.assert_replay_matches()


def test_no_offer_is_ever_sent_without_consent() -> None:
    run = closing()
    run.advance(madrid(2026, 12, 20, 0, 0))
    assert "crm.winback_eligible" not in run_topics(run)
    assert ignored_reason(run.send("winback.offer_ready", {"offer_code": "X"})) == "out_of_order"
    assert "winback_offer" not in run_templates(run)
    assert problem_codes(refusal(run, "keep_in_touch", {"channel": "pigeon"})) == {
        "channel": "invalid_choice"
    }


def test_number_released_while_still_settling_completes_without_a_second_release() -> None:
    run = final_bill()
    fired = run.advance(madrid(2027, 1, 3, 0, 0))
    released = [d for d in fired if d.events[0].type == "deadline.number_returned"]
    assert len(released) == 1
    assert event_topics(released[0].events[0]) == ["number.return_to_range"]
    assert run.state.attributes["number_kept"] is False
    run.send("payment.received")
    run.send("data.blocked", PROOF)
    run.advance(madrid(2027, 1, 3, 0, 5))
    assert run.state.status == "completed"
    assert run_topics(run).count("number.return_to_range") == 1
    run.assert_replay_matches()


def test_request_call_anywhere_with_bounds() -> None:
    run = terminated()
    assert "request_call" in allowed_controls(run)
    assert problem_codes(
        refusal(run, "request_call", {"call_at": "2026-12-06T10:00:00+01:00"})
    ) == {"call_at": "weekend"}
    run.act("request_call", {"call_at": "2026-12-03T10:00:00+01:00"})
    assert run.task("call_customer")["status"] == "open"
    accepted(run.send("call.completed", actor="agent:eva"))
    assert run.task("call_customer")["status"] == "done"
    run.assert_replay_matches()


def test_every_incident_code_is_covered() -> None:
    assert set(D.incidents) == {
        "TERMINATION_LATE",
        "EQUIPMENT_NOT_RETURNED",
        "EQUIPMENT_INCOMPLETE",
        "FINAL_BILL_UNPAID",
        "FINAL_BILL_LATE",
        "EXPORT_LATE",
    }


def test_replay_of_the_whole_goodbye_equals_the_live_state() -> None:
    run = with_equipment(marketing_consent=True)
    run.send("equipment.received", {"condition": "complete"}, at=madrid(2026, 12, 5, 9, 0))
    revoke_all(run, TELECOM_ITEMS)
    run.send(
        "bill.final_issued", {**FINAL_BILL, "due_date": "2026-12-21"}, at=madrid(2026, 12, 10, 9, 0)
    )
    run.send("payment.received", at=madrid(2026, 12, 15, 9, 0))
    run.send("data.blocked", PROOF, at=madrid(2026, 12, 28, 12, 0))
    run.advance(madrid(2027, 1, 4, 0, 0))
    assert run.state.status == "completed"
    rebuilt = engine.replay(run.state.id, run.events)
    assert rebuilt.to_json() == run.state.to_json()


@pytest.mark.parametrize("sector", ["telecom", "energy"])
def test_stage_list_while_closing(sector: str) -> None:
    run = terminated(sector)
    run.send("bill.final_issued", {**FINAL_BILL, "amount": "0.00", "balance": "zero"})
    rows = [(row["id"], row["state"]) for row in run.view("en")["stages"]]
    assert rows == [
        ("requested", "done"),
        ("terminated", "done"),
        # Nothing to pay: the step was not needed.
        ("final_bill", "skipped"),
        ("closing", "current"),
        ("closed", "pending"),
    ]
    assert run.view("en")["stage"]["actor_label"] == "Our team"
    run.assert_replay_matches()
