"""One billing cycle (``billing_cycle`` v1) through the pure engine, on a fixed clock.

The November 2026 period of a contract: the anomaly alert before the bill, the bill with its
amount and due date, payment, and the dunning ladders of both sectors (RD 899/2009 for
telecom, RD 897/2017 for energy) with their notice periods across weekends and Spanish
holidays, the protections of vulnerable customers and essential supplies, and replay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain import controls, engine
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

C = load("billing_cycle.v1.yaml")
D = C.definition
REF = "C1234567-2026-11"
MONDAY = madrid(2026, 11, 2, 9, 0)
ANOMALY = {"estimated_amount": "182.40", "usual_amount": "45.10"}
BILL = {"bill_number": "F2026-000123", "amount": "48.30", "issued_on": "2026-12-01"}


def opened(sector: str = "telecom", at: datetime = MONDAY, **attributes: Any) -> Run:
    values = {
        "sector": sector,
        "contract_code": "C1234567",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        **attributes,
    }
    return Run.start(C, at, subject=REF, attributes=values)


def billed(sector: str = "telecom", **attributes: Any) -> Run:
    run = opened(sector, **attributes)
    data = {**BILL, "due_date": "2026-12-15"} if sector == "telecom" else dict(BILL)
    accepted(run.send("bill.issued", data, at=madrid(2026, 12, 1, 9, 30)))
    return run


def overdue(sector: str = "telecom", **attributes: Any) -> Run:
    run = billed(sector, **attributes)
    run.advance(madrid(2026, 12, 23, 9, 0))
    assert run.state.stage == "payment_overdue"
    return run


def noticed(**attributes: Any) -> Run:
    """Telecom, unpaid, prior notice sent on Monday 4 January 2027."""
    run = overdue("telecom", **attributes)
    accepted(
        run.send("dunning.notice_sent", {"sent_on": "2027-01-04"}, at=madrid(2027, 1, 4, 10, 0))
    )
    return run


def demanded(**attributes: Any) -> Run:
    """Energy, unpaid, certified demand sent on Monday 11 January 2027."""
    run = overdue("energy", **attributes)
    run.send("dunning.notice_sent", {"sent_on": "2026-12-28"}, at=madrid(2026, 12, 28, 10, 0))
    accepted(
        run.send(
            "dunning.demand_sent",
            {"sent_on": "2027-01-11", "proof": "BUROFAX-0091"},
            at=madrid(2027, 1, 11, 10, 0),
        )
    )
    return run


def suspended(sector: str = "telecom") -> Run:
    run = noticed() if sector == "telecom" else demanded()
    when = madrid(2027, 1, 20, 9, 0) if sector == "telecom" else madrid(2027, 3, 16, 9, 0)
    accepted(run.send("service.suspended", {"scope": "outgoing_calls"}, at=when))
    assert run.state.stage == "service_suspended"
    return run


# -- happy paths ---------------------------------------------------------------------------


def test_telecom_bill_explained_and_paid_on_time() -> None:
    run = opened()
    assert run.state.stage == "period_open"
    assert run.date("period_end") == madrid(2026, 11, 30, 23, 59)
    # Two working days after the period: Wednesday 2 December, an estimate.
    assert run.date("bill_expected") == madrid(2026, 12, 2, 9, 0)
    assert run.state.dates["bill_expected"]["confirmed"] is False
    assert run.headline("es") == (
        "Tu periodo de facturación termina el lunes 30 de noviembre. "
        "Tu factura llegará hacia el miércoles 2 de diciembre."
    )
    assert run.headline("en") == (
        "Your billing period ends on Monday 30 November. "
        "Your bill should arrive around Wednesday 2 December."
    )
    assert run.view("en")["next"]["who"] == "billing"

    event = accepted(
        run.send("bill.issued", {**BILL, "due_date": "2026-12-15"}, at=madrid(2026, 12, 1, 9, 30))
    )
    assert run.state.stage == "bill_ready"
    assert run.state.keys == {"billing_ref": REF, "bill_number": "F2026-000123"}
    assert run.date("due_date") == madrid(2026, 12, 15, 23, 59)
    assert "bill_expected" not in run.state.dates
    # Internal telecom clocks: > 1 month (32 days) and > 3 months (93 days) after the bill.
    assert run.date("notice_from") == madrid(2027, 1, 2, 9, 0)
    assert run.date("interruption_from") == madrid(2027, 3, 4, 9, 0)
    assert {row["id"] for row in run.view()["dates"]} >= {"bill_issued", "due_date"}
    assert "notice_from" not in {row["id"] for row in run.view()["dates"]}
    assert event_templates(event) == ["bill_ready"]
    assert run.headline("es") == "Tu factura es de 48.30 € y vence el martes 15 de diciembre."
    assert run.headline("en") == "Your bill is 48.30 € and is due on Tuesday 15 December."
    page = run.view("en")
    assert page["next"]["who"] == "customer"
    assert page["next"]["what"].startswith("If you pay by direct debit")
    # Two working days of grace after the due date before calling it unpaid.
    assert run.timer("timer:overdue_telecom") == madrid(2026, 12, 17, 9, 0)
    assert run.timer("notify:bill_due_soon") == madrid(2026, 12, 13, 10, 0)

    fired = run.advance(madrid(2026, 12, 15, 10, 0))
    assert [d.events[0].type for d in fired] == ["reminder.due"]
    event = accepted(run.send("payment.received"))
    assert (run.state.status, run.state.stage) == ("completed", "paid")
    assert run.state.timers == {}
    assert event_templates(event) == ["payment_thanks"]
    assert run.headline("es") == "Tu factura está pagada. ¡Gracias!"
    assert run.headline("en") == "Your bill is paid. Thank you!"
    assert [row["state"] for row in run.view()["stages"]] == ["done"] * 5
    assert run_templates(run) == ["bill_ready", "bill_due_soon", "payment_thanks"]
    run.assert_replay_matches()


def test_energy_bill_gets_the_legal_twenty_natural_days() -> None:
    run = opened("energy")
    # The energy due date ignores the back-end's and counts 20 natural days (RD 897/2017).
    accepted(
        run.send("bill.issued", {**BILL, "due_date": "2026-12-05"}, at=madrid(2026, 12, 1, 9, 30))
    )
    assert run.date("due_date") == madrid(2026, 12, 21, 23, 59)
    assert "notice_from" not in run.state.dates
    assert "interruption_from" not in run.state.dates
    assert run.timer("timer:overdue_energy") == madrid(2026, 12, 23, 9, 0)
    assert "timer:overdue_telecom" not in run.state.timers
    run.assert_replay_matches()


def test_telecom_bill_without_a_due_date_is_rejected_with_the_reason() -> None:
    run = opened()
    decision = run.send("bill.issued", BILL)
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason is not None and "data.due_date" in decision.reason
    assert run.state.stage == "period_open"


def test_a_bill_event_missing_its_amount_is_rejected() -> None:
    run = opened()
    decision = run.send("bill.issued", {"bill_number": "F1", "issued_on": "2026-12-01"})
    assert (decision.outcome, decision.reason_code) == (Outcome.REJECTED, "missing_data")
    assert decision.reason == "bill.issued needs data field(s) amount"


# -- anomaly alerts before the bill --------------------------------------------------------


@pytest.mark.parametrize("code", ["ANOM_CONSUMO", "ANOM_IMPORTE", "LECTURA_ESTIMADA"])
def test_anomaly_alert_before_the_bill(code: str) -> None:
    run = opened("energy" if code == "LECTURA_ESTIMADA" else "telecom")
    event = accepted(
        run.send(
            "billing.anomaly_detected", {"code": code, **ANOMALY}, at=madrid(2026, 11, 27, 12, 0)
        )
    )
    assert run.state.open_incidents() == [code]
    assert event_templates(event) == ["anomaly_alert"]
    assert_incident_view(run, code)
    headline = D.incidents[code].headline
    assert headline is not None
    assert "miércoles 2 de diciembre" in run.headline("es")
    assert "Wednesday 2 December" in run.headline("en")
    if code != "LECTURA_ESTIMADA":
        assert run.headline("es").startswith("Tu próxima factura será de unos 182.40 €")
        what = next(r for r in run.view("en")["incidents"] if r["code"] == code)
        assert "182.40 €" in what["what_happened"] and "45.10 €" in what["what_happened"]
    else:
        assert run.state.requirements["meter_photo"]["state"] == "missing"
    run.assert_replay_matches()


def test_every_incident_code_has_texts_in_both_languages() -> None:
    for code, incident in D.incidents.items():
        for text in (incident.title, incident.what_happened, incident.what_we_do):
            assert text.es != text.en, code
        assert incident.options, code


def test_acknowledging_the_anomaly_closes_it_and_tells_billing() -> None:
    run = opened()
    run.send("billing.anomaly_detected", {"code": "ANOM_IMPORTE", **ANOMALY})
    event = run.act("acknowledge_anomaly", at=madrid(2026, 12, 2, 8, 59))
    assert run.state.incidents["ANOM_IMPORTE"]["status"] == "resolved"
    assert event_topics(event) == ["billing.anomaly_acknowledged"]
    history = [row["text"] for row in run.view("en")["history"]]
    assert history[:2] == ["Resolved: Your bill will be higher than usual", "That is right"]
    run.assert_replay_matches()


def test_anomaly_controls_close_at_the_expected_bill_date() -> None:
    run = opened()
    run.send("billing.anomaly_detected", {"code": "ANOM_CONSUMO", **ANOMALY})
    run.advance(madrid(2026, 12, 2, 9, 0))
    for control in ("acknowledge_anomaly", "dispute_anomaly"):
        row = run.control(control, "es")
        assert (row["allowed"], row["reason_code"]) == (False, "cutoff_passed")
        assert (
            row["reason"]
            == "El plazo para hacerlo terminó el miércoles 2 de diciembre a las 09:00."
        )
    error = refusal(run, "dispute_anomaly", {"reason": "not_me"})
    assert error.code == "cutoff_passed"
    assert error.instead is not None and "claim" in error.instead.en
    run.assert_replay_matches()


def test_anomaly_controls_are_refused_without_an_alert_or_after_the_bill() -> None:
    run = opened()
    for control in ("acknowledge_anomaly", "dispute_anomaly", "send_meter_reading"):
        assert refusal(run, control).code == "no_incident"
    run.send("billing.anomaly_detected", {"code": "ANOM_CONSUMO", **ANOMALY})
    # A meter reading answers only an estimated reading.
    assert refusal(run, "send_meter_reading", {"reading": "1234", "photo": "m.jpg"}).code == (
        "other_incident"
    )
    run.send("bill.issued", {**BILL, "due_date": "2026-12-15"}, at=madrid(2026, 12, 1, 9, 30))
    # The bill resolves the alert; the controls belong to the period before it.
    assert run.state.incidents["ANOM_CONSUMO"]["status"] == "resolved"
    for control in ("acknowledge_anomaly", "dispute_anomaly", "send_meter_reading"):
        assert refusal(run, control).code == "not_in_stage"
    run.assert_replay_matches()


def test_meter_reading_closes_at_the_expected_bill_date() -> None:
    run = opened("energy")
    run.send("billing.anomaly_detected", {"code": "LECTURA_ESTIMADA", **ANOMALY})
    assert run.control("send_meter_reading")["allowed"] is True
    run.advance(madrid(2026, 12, 2, 9, 0))
    error = refusal(run, "send_meter_reading", {"reading": "1234", "photo": "m.jpg"})
    assert error.code == "cutoff_passed"
    assert error.until == "2026-12-02T08:00:00+00:00"
    assert error.instead is not None and "next actual reading" in error.instead.en


def test_disputing_the_anomaly_opens_a_review_and_a_pending_claim() -> None:
    run = opened()
    run.send("billing.anomaly_detected", {"code": "ANOM_CONSUMO", **ANOMALY})
    bad = refusal(run, "dispute_anomaly", {"reason": "aliens"})
    assert problem_codes(bad) == {"reason": "invalid_choice"}
    assert problem_codes(refusal(run, "dispute_anomaly", {})) == {"reason": "required"}
    event = run.act("dispute_anomaly", {"reason": "fault_or_leak", "comment": "Una fuga"})
    assert event_topics(event) == ["billing.anomaly_disputed"]
    assert run.state.attributes["claim_pending"] is True
    assert run.state.attributes["dispute_reason"] == "fault_or_leak"
    assert run.task("review_anomaly")["team"] == "billing_ops"
    assert run.state.incidents["ANOM_CONSUMO"]["status"] == "open"
    run.assert_replay_matches()


def test_sending_the_meter_reading_replaces_the_estimate() -> None:
    run = opened("energy")
    run.send("billing.anomaly_detected", {"code": "LECTURA_ESTIMADA", **ANOMALY})
    bad = refusal(run, "send_meter_reading", {"reading": "12a", "photo": "m.jpg"})
    assert problem_codes(bad) == {"reading": "invalid_format"}
    assert problem_codes(refusal(run, "send_meter_reading", {"reading": "12345"})) == {
        "photo": "required"
    }
    event = run.act("send_meter_reading", {"reading": "012345", "photo": "meter.jpg"})
    assert event_topics(event) == ["billing.reading_submitted"]
    assert run.state.attributes["meter_reading"] == "012345"
    assert run.state.requirements["meter_photo"]["state"] == "submitted"
    assert run.state.open_incidents() == []
    run.assert_replay_matches()


# -- payment failure and reminders -----------------------------------------------------------


def test_returned_direct_debit_opens_its_incident_and_a_new_collection_date() -> None:
    run = billed()
    event = accepted(run.send("payment.failed", {"reason": "AM04"}, at=madrid(2026, 12, 16, 18, 0)))
    assert run.state.stage == "payment_overdue"
    assert run.state.open_incidents() == ["PAGO_DEVUELTO"]
    # One message, not two: the transition and the stage entry send the same template.
    assert event_templates(event) == ["payment_overdue"]
    assert_incident_view(run, "PAGO_DEVUELTO")
    assert run.headline("es") == (
        "No hemos podido cobrar tu factura de 48.30 €. Dinos cómo quieres pagarla."
    )

    # Wednesday 16 December: the earliest is Friday 18 (2 working days), the latest
    # 14 January (due date + 30 days); no weekends, no holidays.
    cases = {
        "2026-12-17": "too_early",
        "2026-12-19": "weekend",
        "2026-12-25": "holiday",
        "2027-01-15": "too_late",
        "21/12/2026": "invalid_date",
    }
    for day, code in cases.items():
        error = refusal(run, "retry_direct_debit", {"charge_date": day})
        assert problem_codes(error) == {"charge_date": code}, day
    holiday = refusal(run, "retry_direct_debit", {"charge_date": "2026-12-25"}).problems[0]
    assert holiday.message.es == "Ese día es festivo (Natividad del Señor); elige un día laborable."
    late = refusal(run, "retry_direct_debit", {"charge_date": "2027-01-15"}).problems[0]
    assert late.message.en == "The latest date is Thursday 14 January."

    event = run.act("retry_direct_debit", {"charge_date": "2026-12-22"})
    assert event_topics(event) == ["billing.direct_debit_retry_requested"]
    assert run.date("payment_promised") == madrid(2026, 12, 22, 9, 0)
    assert run.state.incidents["PAGO_DEVUELTO"]["status"] == "resolved"
    assert refusal(run, "retry_direct_debit", {"charge_date": "2026-12-23"}).code == "no_incident"
    run.assert_replay_matches()


def test_retry_direct_debit_is_refused_outside_payment_pending() -> None:
    run = suspended()
    assert refusal(run, "retry_direct_debit", {"charge_date": "2027-01-25"}).code == (
        "not_in_stage"
    )


def test_every_incident_code_is_exercised() -> None:
    assert set(D.incidents) == {
        "ANOM_CONSUMO",
        "ANOM_IMPORTE",
        "LECTURA_ESTIMADA",
        "PAGO_DEVUELTO",
        "IMPAGO_TELECOM",
        "IMPAGO_ENERGIA",
        "AVISO_SUSPENSION",
        "REQUERIMIENTO_FEHACIENTE",
        "INTERRUPCION_PREVISTA",
        "CORTE_INDEBIDO",
        "RESTABLECIMIENTO_TARDIO",
    }


def test_a_second_failed_collection_is_told_again() -> None:
    run = billed()
    run.send("payment.failed", {"reason": "AM04"}, at=madrid(2026, 12, 16, 18, 0))
    run.act("retry_direct_debit", {"charge_date": "2026-12-22"})
    event = accepted(run.send("payment.failed", {"reason": "MS03"}, at=madrid(2026, 12, 24, 9, 0)))
    assert event_templates(event) == ["payment_overdue"]
    assert run.state.open_incidents() == ["PAGO_DEVUELTO"]
    assert run.state.attributes["failure_reason"] == "MS03"
    run.assert_replay_matches()


def test_unpaid_telecom_bill_becomes_overdue_after_two_working_days_of_grace() -> None:
    run = billed()
    fired = run.advance(madrid(2026, 12, 17, 9, 0))
    assert fired[-1].events[0].type == "deadline.overdue_telecom"
    assert run.state.stage == "payment_overdue"
    assert run.state.open_incidents() == ["IMPAGO_TELECOM"]
    assert_incident_view(run, "IMPAGO_TELECOM")
    assert run.headline("es") == (
        "Tu factura de 48.30 € está pendiente de pago desde el martes 15 de diciembre."
    )
    assert run.view("en")["headline"] == (
        "Your bill of 48.30 € has been unpaid since Tuesday 15 December."
    )
    # A reminder ten days after the due date, on Christmas Day morning.
    assert run.timer("notify:payment_reminder") == madrid(2026, 12, 25, 10, 0)
    run.assert_replay_matches()


def test_unpaid_energy_bill_grace_skips_the_weekend() -> None:
    run = opened("energy")
    # Issued on Friday 27 November: due Thursday 17 December, grace to Monday 21.
    accepted(run.send("bill.issued", {**BILL, "issued_on": "2026-11-27"}))
    assert run.date("due_date") == madrid(2026, 12, 17, 23, 59)
    assert run.timer("timer:overdue_energy") == madrid(2026, 12, 21, 9, 0)
    fired = run.advance(madrid(2026, 12, 21, 9, 0))
    event = fired[-1].events[0]
    assert event_topics(event) == ["dunning.unpaid_notice_requested"]
    assert run.state.open_incidents() == ["IMPAGO_ENERGIA"]
    assert_incident_view(run, "IMPAGO_ENERGIA")
    run.assert_replay_matches()


# -- telecom dunning (RD 899/2009) ---------------------------------------------------------


def test_telecom_ladder_notice_suspension_payment_and_restoration() -> None:
    run = overdue()
    # More than a month after the bill (Saturday 2 January): ask for the prior notice.
    fired = run.advance(madrid(2027, 1, 2, 9, 0))
    assert [d.events[0].type for d in fired] == ["reminder.due", "deadline.telecom_notice"]
    assert event_topics(fired[-1].events[0]) == ["dunning.suspension_notice_requested"]
    assert run.task("send_suspension_notice")["status"] == "open"

    event = accepted(
        run.send("dunning.notice_sent", {"sent_on": "2027-01-04"}, at=madrid(2027, 1, 4, 10, 0))
    )
    # At least 15 days after the notice, on a working day: Tuesday 19 January at 08:00.
    assert run.date("suspension_from") == madrid(2027, 1, 19, 8, 0)
    assert run.task("send_suspension_notice")["status"] == "done"
    assert event_templates(event) == ["suspension_warning"]
    assert run.state.open_incidents() == ["IMPAGO_TELECOM", "AVISO_SUSPENSION"]
    assert_incident_view(run, "AVISO_SUSPENSION")
    assert run.headline("es") == (
        "Si no recibimos el pago, desde el martes 19 de enero limitaremos tus llamadas salientes. "
        "Puedes evitarlo pagando o pidiendo un plan de pagos."
    )
    assert run.timer("timer:suspension_allowed") == madrid(2027, 1, 19, 8, 0)
    assert run.timer("notify:suspension_warning") == madrid(2027, 1, 16, 10, 0)

    fired = run.advance(madrid(2027, 1, 19, 8, 0))
    assert [d.events[0].type for d in fired] == ["reminder.due", "deadline.suspension_allowed"]
    assert event_topics(fired[-1].events[0]) == ["dunning.suspension_allowed"]
    checklist = [item.id for item in D.tasks["confirm_suspension"].checklist]
    assert "date_not_holiday_or_eve" in checklist
    assert run.task("confirm_suspension")["status"] == "open"

    event = accepted(
        run.send("service.suspended", {"scope": "outgoing_calls"}, at=madrid(2027, 1, 20, 9, 0))
    )
    assert run.state.stage == "service_suspended"
    assert run.state.open_incidents() == []
    assert run.task("confirm_suspension")["status"] == "done"
    assert event_templates(event) == ["service_suspended"]
    assert run.headline("en") == (
        "Your service is limited because of the unpaid bill of 48.30 €. "
        "As soon as you pay it, we switch it back on."
    )
    assert "112" in run.view("es")["stage"]["description"]

    # Paid on Friday 22 January: restored within the next working day, Monday 25.
    event = accepted(run.send("payment.received", at=madrid(2027, 1, 22, 12, 0)))
    assert (run.state.stage, run.state.status) == ("paid", "active")
    assert run.date("restore_by") == madrid(2027, 1, 25, 23, 59)
    assert event_topics(event) == ["service.restore_requested"]
    assert event_templates(event) == ["payment_thanks"]
    assert run.headline("es") == (
        "Gracias por tu pago. Reactivamos tu servicio antes del lunes 25 de enero a las 23:59."
    )
    assert run.timer("sla:paid") == madrid(2027, 1, 25, 12, 0)

    accepted(run.send("service.restored", at=madrid(2027, 1, 25, 10, 0)))
    assert (run.state.status, run.state.stage) == ("completed", "paid")
    assert run.task("restore_service")["status"] == "done"
    assert run.state.timers == {}
    run.assert_replay_matches()


@pytest.mark.parametrize(
    ("sent_on", "suspension_from"),
    [
        # +15 days is Wednesday 6 January (Epiphany): Thursday 7.
        ("2026-12-22", madrid(2027, 1, 7, 8, 0)),
        # Sent on New Year's Day: +15 days is Saturday 16 January: Monday 18.
        ("2027-01-01", madrid(2027, 1, 18, 8, 0)),
        # +15 days is Tuesday 12 October 2027, the national holiday: Wednesday 13.
        ("2027-09-27", madrid(2027, 10, 13, 8, 0)),
        # An ordinary working day stays as it is.
        ("2027-01-04", madrid(2027, 1, 19, 8, 0)),
    ],
)
def test_telecom_suspension_never_falls_on_a_weekend_or_holiday(
    sent_on: str, suspension_from: datetime
) -> None:
    run = overdue()
    accepted(run.send("dunning.notice_sent", {"sent_on": sent_on}))
    assert run.date("suspension_from") == suspension_from
    assert run.state.dates["suspension_from"]["confirmed"] is True
    run.assert_replay_matches()


def test_second_suspension_allows_definitive_interruption() -> None:
    run = noticed(suspended_before=True)
    event = accepted(
        run.send("service.suspended", {"scope": "outgoing_calls"}, at=madrid(2027, 1, 20, 9, 0))
    )
    assert run.state.stage == "service_suspended"
    assert run.state.open_incidents() == ["INTERRUPCION_PREVISTA"]
    assert event_topics(event) == ["dunning.interruption_allowed"]
    assert run.task("review_interruption")["status"] == "open"
    assert_incident_view(run, "INTERRUPCION_PREVISTA")
    run.assert_replay_matches()


def test_more_than_three_months_late_allows_interruption_then_the_contract_ends() -> None:
    run = suspended()
    fired = run.advance(madrid(2027, 3, 4, 9, 0))
    assert fired[-1].events[0].type == "deadline.interruption_allowed"
    assert run.state.open_incidents() == ["INTERRUPCION_PREVISTA"]
    assert run.headline("es").startswith("Tu factura de 48.30 € sigue sin pagar.")
    accepted(run.send("dunning.interruption_notice_sent", at=madrid(2027, 3, 5, 9, 0)))
    accepted(run.send("contract.terminated_for_debt", at=madrid(2027, 3, 22, 9, 0)))
    assert run.state.status == "failed"
    assert run.headline("es") == "Hemos dado de baja el contrato por la factura sin pagar."
    assert run.headline("en") == "We have ended the contract because of the unpaid bill."
    assert run.state.timers == {}
    run.assert_replay_matches()


def test_restoration_late_after_payment_opens_an_incident() -> None:
    run = suspended()
    run.send("payment.received", at=madrid(2027, 1, 22, 12, 0))
    fired = run.advance(madrid(2027, 1, 26, 0, 0))
    assert [d.events[0].type for d in fired] == ["sla.breached", "deadline.restore_overdue"]
    assert run.state.attributes["sla_breached_paid"] == "2027-01-25T11:00:00+00:00"
    assert run.state.open_incidents() == ["RESTABLECIMIENTO_TARDIO"]
    assert run.task("restore_escalation")["team"] == "network_ops"
    assert_incident_view(run, "RESTABLECIMIENTO_TARDIO")
    assert run.headline("en") == (
        "Your service should have been back on by Monday 25 January at 23:59 and it is not yet. "
        "We are fixing it."
    )
    accepted(run.send("service.restored"))
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_service_restored_before_payment_goes_back_to_pending() -> None:
    run = suspended()
    run.act("request_payment_plan", {"instalments": "3"})
    accepted(run.send("service.restored", at=madrid(2027, 1, 21, 9, 0)))
    assert run.state.stage == "payment_overdue"
    assert run.state.status == "active"
    run.assert_replay_matches()


# -- energy dunning (RD 897/2017) ------------------------------------------------------------


def test_energy_ladder_certified_demand_then_two_months() -> None:
    run = demanded()
    assert run.date("notice_sent") == madrid(2026, 12, 28, 9, 0)
    assert run.state.attributes["demand_proof"] == "BUROFAX-0091"
    # 11 January + 62 days = Sunday 14 March: Monday 15 March at 08:00.
    assert run.date("suspension_from") == madrid(2027, 3, 15, 8, 0)
    assert run.state.open_incidents() == ["IMPAGO_ENERGIA", "REQUERIMIENTO_FEHACIENTE"]
    assert_incident_view(run, "REQUERIMIENTO_FEHACIENTE")
    assert run.headline("es") == (
        "Te hemos enviado un requerimiento formal de pago. Si no pagas, el suministro podría "
        "suspenderse a partir del lunes 15 de marzo."
    )
    row = next(r for r in run.view("es")["incidents"] if r["code"] == "REQUERIMIENTO_FEHACIENTE")
    assert "lunes 11 de enero" in row["what_happened"]
    assert D.incidents["REQUERIMIENTO_FEHACIENTE"].verify is not None

    fired = run.advance(madrid(2027, 3, 15, 8, 0))
    assert fired[-1].events[0].type == "deadline.suspension_allowed"
    accepted(run.send("service.suspended", {"scope": "supply"}, at=madrid(2027, 3, 16, 9, 0)))
    assert run.state.attributes["suspension_scope"] == "supply"
    # Energy reconnection: at most the day after payment (Saturday is fine).
    accepted(run.send("payment.received", at=madrid(2027, 3, 19, 18, 0)))
    assert run.date("restore_by") == madrid(2027, 3, 20, 23, 59)
    assert run.timer("sla:paid") == madrid(2027, 3, 20, 18, 0)
    run.assert_replay_matches()


def test_energy_social_bonus_customers_get_four_months() -> None:
    run = demanded(social_bonus=True)
    # 11 January + 123 days = Friday 14 May 2027.
    assert run.date("suspension_from") == madrid(2027, 5, 14, 8, 0)
    run.assert_replay_matches()


def test_social_bonus_confirmed_after_the_demand_moves_the_date() -> None:
    run = demanded()
    event = run.act("declare_vulnerability", {"situation": "social_bonus", "document": "bono.pdf"})
    assert event_topics(event) == ["customer.vulnerability_declared"]
    assert run.state.requirements["vulnerability_certificate"]["state"] == "submitted"
    # While the proof is checked, the suspension clock is held.
    assert "timer:suspension_allowed" not in run.state.timers
    accepted(run.send("vulnerability.confirmed", {"kind": "social_bonus"}))
    assert run.state.attributes["social_bonus"] is True
    assert run.date("suspension_from") == madrid(2027, 5, 14, 8, 0)
    assert run.timer("timer:suspension_allowed") == madrid(2027, 5, 14, 8, 0)
    run.assert_replay_matches()


# -- protections ---------------------------------------------------------------------------


@pytest.mark.parametrize("protection", ["essential_supply", "vulnerable"])
def test_protected_energy_customers_are_never_cut(protection: str) -> None:
    run = overdue("energy", **{protection: True})
    accepted(run.send("dunning.demand_sent", {"sent_on": "2027-01-11", "proof": "B-1"}))
    # No suspension date, no demand incident: the case goes to the social-care team.
    assert "suspension_from" not in run.state.dates
    assert "REQUERIMIENTO_FEHACIENTE" not in run.state.incidents
    assert run.task("check_protection")["team"] == "social_care"

    event = accepted(run.send("service.suspended", {"scope": "supply"}))
    assert run.state.stage == "payment_overdue"
    assert run.state.open_incidents() == ["IMPAGO_ENERGIA", "CORTE_INDEBIDO"]
    assert event_topics(event) == ["service.restore_requested"]
    assert run.task("restore_now")["due_at"] == "2026-12-23T10:00:00+00:00"
    assert run.headline("es") == (
        "Tu servicio se ha limitado por error. Lo estamos reactivando ahora mismo."
    )
    assert_incident_view(run, "CORTE_INDEBIDO")
    accepted(run.send("service.restored"))
    assert run.state.incidents["CORTE_INDEBIDO"]["status"] == "resolved"
    assert run.task("restore_now")["status"] == "done"
    # Not even the end of the contract for debt.
    accepted(run.send("contract.terminated_for_debt"))
    assert run.state.status == "active"
    run.assert_replay_matches()


def test_vulnerable_telecom_customer_gets_a_human_review_instead_of_a_notice() -> None:
    run = overdue(vulnerable=True)
    run.advance(madrid(2027, 1, 2, 9, 0))
    assert "send_suspension_notice" not in run.state.tasks
    assert run.task("check_protection")["status"] == "open"
    assert "dunning.suspension_notice_requested" not in run_topics(run)
    run.assert_replay_matches()


def test_a_pending_claim_holds_every_suspension() -> None:
    run = noticed()
    assert "timer:suspension_allowed" in run.state.timers
    event = run.act("dispute_bill", {"reason": "wrong_amount"})
    assert event_topics(event) == ["billing.claim_opened"]
    assert run.task("review_claim")["due_at"] is not None
    assert "timer:suspension_allowed" not in run.state.timers
    assert refusal(run, "dispute_bill", {"reason": "other"}).code == "not_applicable"
    # A suspension while the claim is pending is a mistake to undo at once.
    accepted(run.send("service.suspended", {"scope": "outgoing_calls"}))
    assert run.state.stage == "payment_overdue"
    assert "CORTE_INDEBIDO" in run.state.open_incidents()
    run.send("service.restored")
    # The answer releases the clock; a passed date fires straight away.
    accepted(run.send("claim.resolved", {"outcome": "rejected"}, at=madrid(2027, 1, 25, 9, 0)))
    assert run.state.attributes["claim_pending"] is False
    assert run.timer("timer:suspension_allowed") == madrid(2027, 1, 19, 8, 0)
    fired = run.advance(madrid(2027, 1, 25, 9, 1))
    assert fired[0].events[0].type == "deadline.suspension_allowed"
    run.assert_replay_matches()


def test_a_suspension_before_the_notice_period_ends_is_undone() -> None:
    run = noticed()
    # Monday 18 January: the notice period ends on Tuesday 19 at 08:00.
    event = accepted(
        run.send("service.suspended", {"scope": "outgoing_calls"}, at=madrid(2027, 1, 18, 9, 0))
    )
    assert run.state.stage == "payment_overdue"
    assert run.state.open_incidents()[-1] == "CORTE_INDEBIDO"
    assert event_topics(event) == ["service.restore_requested"]
    run.send("service.restored")
    # Once the period is over, the same suspension is lawful.
    run.advance(madrid(2027, 1, 19, 8, 0))
    assert run.state.attributes["suspension_allowed"] is True
    accepted(run.send("service.suspended", {"scope": "outgoing_calls"}))
    assert run.state.stage == "service_suspended"
    run.assert_replay_matches()


def test_a_suspension_before_the_bill_is_overdue_is_always_a_mistake() -> None:
    run = billed()
    accepted(run.send("service.suspended", {"scope": "outgoing_calls"}))
    assert run.state.stage == "bill_ready"
    assert run.state.open_incidents() == ["CORTE_INDEBIDO"]
    run.assert_replay_matches()


def test_essential_supply_confirmed_clears_the_suspension_date() -> None:
    run = demanded()
    run.act("declare_vulnerability", {"situation": "essential_supply", "document": "cert.pdf"})
    accepted(run.send("vulnerability.confirmed", {"kind": "essential_supply"}))
    assert run.state.attributes["essential_supply"] is True
    assert "suspension_from" not in run.state.dates
    assert run.state.incidents["REQUERIMIENTO_FEHACIENTE"]["status"] == "resolved"
    assert refusal(run, "declare_vulnerability", {}).code == "not_applicable"
    run.assert_replay_matches()


def test_vulnerability_not_confirmed_restarts_the_clock() -> None:
    run = demanded()
    run.act("declare_vulnerability", {"situation": "social_services", "document": "x.pdf"})
    accepted(run.send("vulnerability.rejected", {"reason": "certificate expired"}))
    assert run.state.requirements["vulnerability_certificate"]["state"] == "rejected"
    assert run.timer("timer:suspension_allowed") == madrid(2027, 3, 15, 8, 0)
    run.assert_replay_matches()


# -- controls --------------------------------------------------------------------------------


def test_controls_offered_at_each_step() -> None:
    run = opened()
    assert allowed_controls(run) == {"request_call"}
    run.send("bill.issued", {**BILL, "due_date": "2026-12-15"}, at=madrid(2026, 12, 1, 9, 30))
    assert allowed_controls(run) == {"request_call", "dispute_bill", "declare_vulnerability"}
    run.advance(madrid(2026, 12, 17, 9, 0))
    assert allowed_controls(run) == {
        "request_call",
        "dispute_bill",
        "declare_vulnerability",
        "request_payment_plan",
    }
    run.assert_replay_matches()


def test_payment_plan_allowed_refused_and_bounded() -> None:
    run = billed()
    assert refusal(run, "request_payment_plan", {"instalments": "3"}).code == "not_in_stage"
    run.advance(madrid(2026, 12, 17, 9, 0))
    assert problem_codes(refusal(run, "request_payment_plan", {"instalments": "12"})) == {
        "instalments": "invalid_choice"
    }
    event = run.act("request_payment_plan", {"instalments": "6"}, role="agent", actor="agent:ana")
    assert event_topics(event) == ["billing.payment_plan_requested"]
    assert event.data["role"] == "agent"
    assert run.state.attributes["instalments"] == "6"
    error = refusal(run, "request_payment_plan", {"instalments": "2"})
    assert error.code == "not_applicable"
    assert error.instead is not None and "2 working days" in error.instead.en
    run.assert_replay_matches()


def test_dispute_bill_allowed_and_refused() -> None:
    run = opened()
    assert refusal(run, "dispute_bill", {"reason": "other"}).code == "not_in_stage"
    run.send("bill.issued", {**BILL, "due_date": "2026-12-15"}, at=madrid(2026, 12, 1, 9, 30))
    assert problem_codes(refusal(run, "dispute_bill", {"comment": "hm"})) == {"reason": "required"}
    assert problem_codes(refusal(run, "dispute_bill", {"reason": "other", "x": 1})) == {
        "x": "unknown_param"
    }
    run.act("dispute_bill", {"reason": "not_my_usage", "comment": "No estaba en casa"})
    assert run.state.attributes["claim_reason"] == "not_my_usage"
    # No cut-off: a customer may claim at any time (Ley 10/2025).
    assert D.controls["dispute_bill"].no_cutoff is not None
    run.assert_replay_matches()


def test_declare_vulnerability_allowed_and_refused() -> None:
    run = opened()
    assert refusal(run, "declare_vulnerability", {}).code == "not_in_stage"
    run = billed("energy")
    bad = refusal(run, "declare_vulnerability", {"situation": "rich", "document": "x.pdf"})
    assert problem_codes(bad) == {"situation": "invalid_choice"}
    run.act("declare_vulnerability", {"situation": "electro_dependent", "document": "med.pdf"})
    assert run.task("review_vulnerability")["team"] == "social_care"
    assert refusal(run, "declare_vulnerability", {}).code == "not_applicable"
    accepted(run.send("vulnerability.confirmed", {"kind": "electro_dependent"}))
    assert run.state.attributes["vulnerable"] is True
    run.assert_replay_matches()


def test_request_call_bounds_and_human_attention() -> None:
    run = opened(at=madrid(2026, 12, 4, 17, 0))  # Friday before the December bridge
    cases = {
        "2026-12-04T17:30:00+01:00": "too_early",
        "2026-12-05T10:00:00+01:00": "weekend",
        "2026-12-08T10:00:00+01:00": "holiday",
        # 5 national working days (7, 9, 10, 11, 14 December): up to Monday 14 at 17:00.
        "2026-12-15T10:00:00+01:00": "too_late",
        "mañana": "invalid_datetime",
    }
    for when, code in cases.items():
        assert problem_codes(refusal(run, "request_call", {"call_at": when})) == {"call_at": code}
    event = run.act("request_call", {"call_at": "2026-12-09T10:00:00+01:00"})
    assert event_topics(event) == ["contact.call_requested"]
    assert run.task("call_customer")["status"] == "open"
    accepted(run.send("call.completed", actor="agent:luis"))
    assert run.task("call_customer")["status"] == "done"
    run.assert_replay_matches()


def test_controls_are_refused_once_the_process_has_ended() -> None:
    run = billed()
    run.send("payment.received")
    for control in ("request_call", "dispute_bill"):
        error = refusal(run, control, {})
        assert error.code == "finished"
    assert controls.check(C, run.state, "request_call", "agent", run.now).code == "finished"


def test_customer_role_cannot_use_a_control_for_the_system() -> None:
    run = billed()
    verdict = controls.check(C, run.state, "dispute_bill", "system", run.now)
    assert (verdict.allowed, verdict.code) == (False, "not_for_role")


# -- cancellation, ignored messages, replay --------------------------------------------------


def test_a_cancelled_bill_ends_the_cycle() -> None:
    run = overdue()
    run.act("dispute_bill", {"reason": "wrong_amount"})
    accepted(run.send("claim.resolved", {"outcome": "upheld"}))
    event = accepted(run.send("bill.cancelled"))
    assert run.state.status == "cancelled"
    assert run.state.open_incidents() == []
    assert run.state.timers == {}
    assert run.headline("es") == "Hemos anulado esta factura."
    assert run.headline("en") == "We have cancelled this bill."
    assert event.effects["history"][-1]["kind"] == "step"
    assert run.view("en")["history"][0]["text"] == "Bill cancelled"
    assert ignored_reason(run.send("payment.received")) == "process_finished"
    run.assert_replay_matches()


def test_early_messages_wait_for_their_stage_not_lost() -> None:
    run = opened()
    assert parked_reason(run.send("payment.received")) == "parked"
    assert parked_reason(run.send("dunning.notice_sent", {"sent_on": "2027-01-04"})) == "parked"
    assert [entry["type"] for entry in run.state.parked] == [
        "payment.received",
        "dunning.notice_sent",
    ]
    assert run.state.stage == "period_open"
    run.assert_replay_matches()


def test_stale_timer_is_ignored() -> None:
    run = billed()
    name, due = "timer:overdue_telecom", run.state.timers["timer:overdue_telecom"]
    run.send("payment.received")
    assert ignored_reason(run.fire(name, due)) == "stale_timer"
    run.assert_replay_matches()


def test_replay_of_a_long_ladder_equals_the_live_state() -> None:
    run = suspended("energy")
    run.send("payment.received", at=madrid(2027, 3, 19, 18, 0))
    run.advance(madrid(2027, 3, 25, 0, 0))
    run.send("service.restored")
    rebuilt = engine.replay(run.state.id, run.events)
    assert rebuilt.to_json() == run.state.to_json()
    assert rebuilt.status == "completed"


# -- an agreed payment plan stops the dunning clock (issue 15) ---------------------------------


def test_an_agreed_payment_plan_stops_notice_suspension_and_interruption() -> None:
    run = overdue("telecom")
    run.act("request_payment_plan", {"instalments": "3"})
    # Asking is not agreeing: the clock still runs.
    assert "timer:telecom_notice" in run.state.timers
    event = accepted(run.send("payment_plan.agreed", {"instalments": "3"}))
    assert event_templates(event) == ["payment_plan_agreed"]
    assert run.state.attributes["payment_plan_agreed"] is True
    assert run.task("payment_plan")["status"] == "done"
    for timer in ("telecom_notice", "suspension_allowed", "interruption_allowed"):
        assert f"timer:{timer}" not in run.state.timers
    agreed_at = len(run.events)
    run.advance(madrid(2027, 4, 1, 9, 0))  # past every legal step
    assert run.state.stage == "payment_overdue"
    assert run.events[agreed_at:] == []  # no deadline, no dunning reminder
    assert "dunning.suspension_allowed" not in run_topics(run)
    run.assert_replay_matches()


def test_a_broken_plan_goes_to_a_person_not_straight_to_suspension() -> None:
    run = noticed()
    accepted(run.send("payment_plan.agreed", {"instalments": "2"}, at=madrid(2027, 1, 8, 10, 0)))
    sent = len(run_templates(run))
    accepted(run.send("payment_plan.broken", at=madrid(2027, 2, 10, 10, 0)))
    assert run.task("review_broken_plan")["team"] == "collections"
    run.advance(madrid(2027, 2, 20, 10, 0))
    assert "dunning.suspension_allowed" not in run_topics(run)
    assert run_templates(run)[sent:] == []
    run.assert_replay_matches()
