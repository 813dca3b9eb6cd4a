"""What follows a bill claim (``billing_cycle`` v2, issue 15) through the pure engine.

An upheld claim opens the correction: the rectifying bill, then, if the customer paid more, the
refund, with one date the customer sees and incidents when the bill or the refund is late or
the bank sends the refund back. The dunning clock of the disputed bill stays stopped until the
corrected bill exists. A rejected claim says why and where the customer can still go (rules.md
§1.6 telecom, §3.6 energy). Processes started on version 1 keep version 1's behaviour.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain import rendering

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
    problem_codes,
    refusal,
    run_templates,
    run_topics,
)

C = load("billing_cycle.v2.yaml")
V1 = load("billing_cycle.v1.yaml")
REF = "C1234567-2026-11"
BILL = {"bill_number": "F2026-000123", "amount": "48.30", "issued_on": "2026-12-01"}
IBAN = "ES9121000418450200051332"


def opened(sector: str = "telecom", *, c: Any = C, **attributes: Any) -> Run:
    values = {
        "sector": sector,
        "contract_code": "C1234567",
        "period_start": "2026-11-01",
        "period_end": "2026-11-30",
        **attributes,
    }
    return Run.start(c, madrid(2026, 11, 2, 9, 0), subject=REF, attributes=values)


def billed(sector: str = "telecom", *, c: Any = C, **attributes: Any) -> Run:
    run = opened(sector, c=c, **attributes)
    data = {**BILL, "due_date": "2026-12-15"} if sector == "telecom" else dict(BILL)
    accepted(run.send("bill.issued", data, at=madrid(2026, 12, 1, 9, 30)))
    return run


def claimed(sector: str = "telecom", **attributes: Any) -> Run:
    """A claim on Thursday 3 December, before the due date."""
    run = billed(sector, **attributes)
    run.act("dispute_bill", {"reason": "wrong_amount"}, at=madrid(2026, 12, 3, 10, 0))
    return run


def claimed_and_paid() -> Run:
    """The direct debit is collected on the due date while the claim is open."""
    run = claimed()
    accepted(run.send("payment.received", at=madrid(2026, 12, 15, 8, 0)))
    return run


def corrected(data: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
    return {"bill_number": "F2026-R000045", "issued_on": "2026-12-21", **data}


def history(run: Run, lang: str = "en") -> list[str]:
    """The customer's history, oldest first."""
    return [row["text"] for row in reversed(run.view(lang)["history"])]


# -- the claim: its answer date, and a payment that no longer ends the cycle ------------------


def test_a_claim_shows_its_answer_date_and_a_payment_waits_for_the_answer() -> None:
    run = billed()
    event = run.act("dispute_bill", {"reason": "wrong_amount"}, at=madrid(2026, 12, 3, 10, 0))
    assert event_templates(event) == ["claim_received"]
    # Ley 10/2025: 15 working days (8 December is a national holiday).
    assert run.date("claim_answer_by") == madrid(2026, 12, 28, 23, 59)
    assert "claim_answer_by" in {row["id"] for row in run.view("en")["dates"]}
    accepted(run.send("payment.received", at=madrid(2026, 12, 15, 8, 0)))
    assert (run.state.stage, run.state.status) == ("paid", "active")
    assert run.state.attributes["bill_paid"] is True
    for lang in ("es", "en"):
        assert "{" not in run.headline(lang) and "—" not in run.headline(lang)
    assert "we answer it here" in run.headline("en")
    run.assert_replay_matches()


def test_a_payment_without_a_claim_still_ends_the_cycle() -> None:
    run = billed()
    accepted(run.send("payment.received", at=madrid(2026, 12, 15, 8, 0)))
    assert run.state.status == "completed"
    assert run.headline("en") == "Your bill for this period is settled. Thank you!"


# -- upheld: corrected bill, refund, paid ----------------------------------------------------


def test_upheld_then_corrected_bill_then_refund_paid_ends_settled_and_tells_each_step() -> None:
    run = claimed_and_paid()
    answer = accepted(
        run.send("claim.resolved", {"outcome": "upheld"}, at=madrid(2026, 12, 18, 10, 0))
    )
    assert run.state.stage == "correction"
    assert event_templates(answer) == ["claim_upheld"]
    assert event_topics(answer) == ["billing.correction_requested"]
    assert run.task("issue_correction")["team"] == "billing_ops"
    # Our own commitment: 10 working days from the answer (25 December, 1 January are holidays).
    assert run.date("correction_due") == madrid(2027, 1, 5, 23, 59)
    assert run.headline("es").startswith("Te hemos dado la razón, del todo o en parte.")
    assert "5 January" in run.headline("en")
    assert "claim_answer_by" not in run.state.dates

    bill = accepted(
        run.send(
            "bill.corrected",
            corrected({"amount": "30.00", "settlement": "refund", "refund_amount": "18.30"}),
            at=madrid(2026, 12, 21, 10, 0),
        )
    )
    assert run.state.stage == "correction"
    assert event_templates(bill) == ["bill_corrected_refund"]
    assert event_topics(bill) == ["billing.refund_requested"]
    assert run.state.keys["bill_number"] == ["F2026-000123", "F2026-R000045"]
    assert run.task("issue_correction")["status"] == "done"
    assert run.task("send_refund")["status"] == "open"

    sent = accepted(run.send("refund.issued", {"amount": "18.30", "method": "transfer"}))
    assert event_templates(sent) == ["refund_issued"]
    assert run.task("send_refund")["status"] == "done"
    paid = accepted(run.send("refund.paid", {"amount": "18.30"}, at=madrid(2026, 12, 23, 12, 0)))
    assert event_templates(paid) == ["refund_paid"]
    assert run.state.status == "completed"
    assert run.state.open_incidents() == []
    assert run.state.timers == {}
    assert run.headline("en") == "Your bill for this period is settled. Thank you!"
    assert run_templates(run) == [
        "bill_ready",
        "claim_received",
        "bill_due_soon",
        "payment_thanks",
        "claim_upheld",
        "bill_corrected_refund",
        "refund_issued",
        "refund_paid",
    ]
    assert history(run)[-5:] == [
        "We correct your bill",
        "We upheld your claim",
        "We issued your corrected bill; we give you back what you paid too much",
        "We sent your refund",
        "Refund completed",
    ]
    run.assert_replay_matches()


@pytest.mark.parametrize(("lang", "amount"), [("es", "18,30\u00a0€"), ("en", "€18.30")])
def test_the_refund_messages_name_the_amount(lang: str, amount: str) -> None:
    run = claimed_and_paid()
    run.send("claim.resolved", {"outcome": "upheld"}, at=madrid(2026, 12, 18, 10, 0))
    run.send("bill.corrected", corrected({"amount": "30.00", "settlement": "refund"}))
    run.send("refund.issued", {"amount": "18.30", "method": "card"})
    template = next(n for n in C.definition.notifications if n.template == "refund_issued")
    text = rendering.render(template.text, C, run.state, lang)
    assert amount.replace("\u00a0", " ") in text.replace("\u00a0", " "), text


def test_partly_upheld_unpaid_becomes_a_corrected_bill_with_its_own_due_date() -> None:
    run = claimed("energy")
    answer = accepted(
        run.send("claim.resolved", {"outcome": "partly_upheld"}, at=madrid(2026, 12, 10, 10, 0))
    )
    assert run.state.stage == "correction"
    # The rest of the claim may go to consumer arbitration or the ministry (rules.md §3.6).
    assert event_templates(answer) == ["claim_partly_upheld_energy"]
    assert "We upheld part of your claim" in history(run)
    # While the bill is corrected, the overdue timer of the old due date is gone.
    run.advance(madrid(2026, 12, 30, 9, 0))
    assert run.state.stage == "correction"
    assert "IMPAGO_ENERGIA" not in run.state.incidents
    bill = accepted(
        run.send(
            "bill.corrected",
            corrected({"amount": "31.20", "settlement": "to_pay", "issued_on": "2026-12-14"}),
        )
    )
    assert run.state.stage == "bill_ready"
    assert run.state.attributes["amount"] == "31.20"
    # Energy: 20 natural days from the corrected bill (RD 897/2017, rules.md §7.2 step 1).
    assert run.date("due_date") == madrid(2027, 1, 3, 23, 59)
    # One message, not the new-bill one as well.
    assert event_templates(bill) == ["bill_corrected_to_pay"]
    assert run.state.attributes["claim_pending"] is False
    # The corrected bill is paid: the cycle ends.
    accepted(run.send("payment.received", at=madrid(2027, 1, 3, 9, 0)))
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_partly_upheld_telecom_names_the_telecom_user_office() -> None:
    run = claimed("telecom")
    answer = accepted(run.send("claim.resolved", {"outcome": "partly_upheld"}))
    assert event_templates(answer) == ["claim_partly_upheld_telecom"]
    template = next(
        n for n in C.definition.notifications if n.template == "claim_partly_upheld_telecom"
    )
    assert "usuariosteleco.es" in template.text.es and "usuariosteleco.es" in template.text.en


def test_a_corrected_bill_that_leaves_nothing_to_pay_ends_the_cycle() -> None:
    run = claimed()
    run.send("claim.resolved", {"outcome": "upheld"})
    event = accepted(
        run.send("bill.corrected", corrected({"amount": "0.00", "settlement": "settled"}))
    )
    assert event_templates(event) == ["bill_corrected_settled"]
    assert run.state.status == "completed"
    assert (
        run.view("en")["outcome"]
        == "Nothing is outstanding for this period: no payment and no refund."
    )
    run.assert_replay_matches()


# -- the dunning clock of the disputed bill stays stopped ------------------------------------


def test_an_upheld_claim_stops_dunning_until_the_corrected_bill_restarts_it() -> None:
    run = billed("telecom")
    run.advance(madrid(2026, 12, 23, 9, 0))
    assert run.state.stage == "payment_overdue"
    run.send("dunning.notice_sent", {"sent_on": "2027-01-04"}, at=madrid(2027, 1, 4, 10, 0))
    assert "AVISO_SUSPENSION" in run.state.open_incidents()
    run.act("dispute_bill", {"reason": "wrong_amount"}, at=madrid(2027, 1, 5, 10, 0))
    accepted(run.send("claim.resolved", {"outcome": "partly_upheld"}, at=madrid(2027, 1, 8, 10, 0)))
    # Every dunning step taken is undone.
    assert run.state.open_incidents() == []
    assert "suspension_from" not in run.state.dates
    assert not [t for t in run.state.timers if t != "timer:correction_late"]
    # A suspension now is a mistake undone at once.
    wrong = accepted(run.send("service.suspended", {"scope": "outgoing_calls"}))
    assert run.state.stage == "correction"
    assert "CORTE_INDEBIDO" in run.state.open_incidents()
    assert event_topics(wrong) == ["service.restore_requested"]
    accepted(run.send("service.restored"))
    assert "CORTE_INDEBIDO" not in run.state.open_incidents()
    before = len(run_topics(run))
    run.advance(madrid(2027, 1, 20, 9, 0))
    assert run_topics(run)[before:] == []  # no notice, no suspension while it is corrected
    # The corrected bill is a new bill: its own due date and its own notice, a month on.
    accepted(
        run.send(
            "bill.corrected",
            corrected(
                {
                    "amount": "20.00",
                    "settlement": "to_pay",
                    "issued_on": "2027-01-20",
                    "due_date": "2027-02-04",
                }
            ),
        )
    )
    assert run.state.attributes["notice_requested"] is False
    assert run.date("notice_from") == madrid(2027, 2, 21, 9, 0)
    run.advance(madrid(2027, 2, 22, 9, 0))
    assert run.state.stage == "payment_overdue"
    assert run_topics(run)[-1] == "dunning.suspension_notice_requested"
    run.assert_replay_matches()


def suspended_energy() -> Run:
    """Energy, unpaid, certified demand on 11 January, supply suspended on 15 March 2027."""
    run = billed("energy")
    run.advance(madrid(2026, 12, 30, 9, 0))
    run.send("dunning.notice_sent", {"sent_on": "2027-01-04"}, at=madrid(2027, 1, 4, 10, 0))
    run.send(
        "dunning.demand_sent",
        {"sent_on": "2027-01-11", "proof": "BUROFAX-1"},
        at=madrid(2027, 1, 11, 10, 0),
    )
    run.advance(madrid(2027, 3, 15, 9, 0))
    accepted(run.send("service.suspended", {"scope": "supply"}))
    assert run.state.stage == "service_suspended"
    return run


def test_upheld_from_a_limited_service_switches_it_back_on() -> None:
    run = suspended_energy()
    run.act("dispute_bill", {"reason": "not_my_usage"})
    answer = accepted(run.send("claim.resolved", {"outcome": "upheld"}))
    assert run.state.stage == "correction"
    assert event_topics(answer) == ["billing.correction_requested", "service.restore_requested"]
    assert run.task("restore_service")["status"] == "open"
    accepted(run.send("service.restored"))
    assert run.task("restore_service")["status"] == "done"
    assert run.state.stage == "correction"
    run.assert_replay_matches()


# -- late and failing refunds ----------------------------------------------------------------


def test_a_late_corrected_bill_opens_an_incident_of_ours() -> None:
    run = claimed()
    run.send("claim.resolved", {"outcome": "upheld"}, at=madrid(2026, 12, 18, 10, 0))
    fired = run.advance(madrid(2027, 1, 6, 9, 0))
    assert [d.events[0].type for d in fired] == ["deadline.correction_late"]
    assert event_templates(fired[0].events[0]) == ["correction_late"]
    assert run.state.open_incidents() == ["CORRECCION_TARDIA"]
    assert run.task("correction_escalation")["status"] == "open"
    assert_incident_view(run, "CORRECCION_TARDIA")
    accepted(run.send("bill.corrected", corrected({"amount": "0.00", "settlement": "settled"})))
    assert run.state.status == "completed"
    assert run.state.incidents["CORRECCION_TARDIA"]["status"] == "resolved"
    run.assert_replay_matches()


def test_a_late_corrected_bill_with_a_refund_owed_makes_the_refund_late_too() -> None:
    run = claimed_and_paid()
    run.send("claim.resolved", {"outcome": "upheld"}, at=madrid(2026, 12, 18, 10, 0))
    run.advance(madrid(2027, 1, 6, 9, 0))
    assert run.state.open_incidents() == ["CORRECCION_TARDIA"]
    run.send("bill.corrected", corrected({"amount": "20.00", "settlement": "refund"}))
    assert run.state.open_incidents() == []
    # Promised both by 5 January: the bill is no longer late, the refund now is.
    assert run.timer("timer:refund_late") == madrid(2027, 1, 5, 23, 59)
    run.advance(run.now)
    assert run.state.open_incidents() == ["REEMBOLSO_TARDIO"]
    assert run.task("correction_escalation")["status"] == "done"
    assert run.task("refund_escalation")["status"] == "open"
    run.assert_replay_matches()


def test_a_refund_sent_back_by_the_bank_asks_for_another_account_then_arrives() -> None:
    run = claimed_and_paid()
    run.send("claim.resolved", {"outcome": "upheld"}, at=madrid(2026, 12, 18, 10, 0))
    run.send("bill.corrected", corrected({"amount": "0.00", "settlement": "refund"}))
    run.send("refund.issued", {"amount": "48.30", "method": "transfer"})
    failed = accepted(run.send("refund.failed", {"reason": "account_closed"}))
    assert event_templates(failed) == ["refund_failed"]
    assert run.state.open_incidents() == ["REEMBOLSO_FALLIDO"]
    assert (
        run.headline("en") == "Your bank rejected your refund. Tell us which account to send it to."
    )
    assert_incident_view(run, "REEMBOLSO_FALLIDO")
    # While we wait for the customer, the delay is not ours: no late-refund incident.
    run.advance(madrid(2027, 1, 7, 9, 0))
    assert run.state.open_incidents() == ["REEMBOLSO_FALLIDO"]
    assert problem_codes(refusal(run, "choose_refund_account", {"iban": "not an iban"})) == {
        "iban": "invalid_format"
    }
    event = run.act("choose_refund_account", {"iban": IBAN})
    assert event_topics(event) == ["billing.refund_account_chosen"]
    assert run.state.open_incidents() == []
    # 5 working days from now, never earlier than first promised.
    assert run.date("correction_due") == madrid(2027, 1, 14, 23, 59)
    assert "choose_refund_account" not in allowed_controls(run)
    accepted(run.send("refund.issued", {"amount": "48.30", "method": "transfer"}))
    accepted(run.send("refund.paid", {"amount": "48.30"}))
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_a_late_refund_opens_an_incident_resolved_when_it_arrives() -> None:
    run = claimed_and_paid()
    run.send("claim.resolved", {"outcome": "upheld"}, at=madrid(2026, 12, 18, 10, 0))
    run.send("bill.corrected", corrected({"amount": "30.00", "settlement": "refund"}))
    fired = run.advance(madrid(2027, 1, 6, 9, 0))
    assert [d.events[0].type for d in fired] == ["deadline.refund_late"]
    assert event_templates(fired[0].events[0]) == ["refund_late"]
    assert run.state.open_incidents() == ["REEMBOLSO_TARDIO"]
    assert_incident_view(run, "REEMBOLSO_TARDIO")
    assert run.headline("en").startswith("Your refund was due by Tuesday 5 January")
    run.send("refund.issued", {"amount": "18.30", "method": "transfer"})
    accepted(run.send("refund.paid", {"amount": "18.30"}))
    assert run.state.incidents["REEMBOLSO_TARDIO"]["status"] == "resolved"
    assert run.task("refund_escalation")["status"] == "done"
    run.assert_replay_matches()


def test_refund_messages_with_unknown_values_are_rejected() -> None:
    run = claimed()
    run.send("claim.resolved", {"outcome": "upheld"})
    decision = run.send("refund.issued", {"amount": "1.00", "method": "cash"})
    assert decision.outcome.value == "rejected"
    decision = run.send("claim.resolved", {"outcome": "maybe"})
    assert decision.outcome.value == "rejected"


# -- rejected: why, and what the customer can still do -----------------------------------------


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (None, "RECL_DESESTIMADA"),
        ("RECL_IMPORTE_CORRECTO", "RECL_IMPORTE_CORRECTO"),
        ("RECL_CONSUMO_VERIFICADO", "RECL_CONSUMO_VERIFICADO"),
        ("RECL_PAGO_NO_RECIBIDO", "RECL_PAGO_NO_RECIBIDO"),
    ],
)
def test_a_rejected_claim_says_why_and_where_to_go(reason: str | None, code: str) -> None:
    run = claimed("telecom")
    data = {"outcome": "rejected", **({"reason": reason} if reason else {})}
    event = accepted(run.send("claim.resolved", data, at=madrid(2026, 12, 10, 10, 0)))
    assert event_templates(event) == ["claim_rejected_telecom"]
    assert run.state.open_incidents() == [code]
    assert_incident_view(run, code)
    row = next(r for r in run.view("es")["incidents"] if r["code"] == code)
    assert "Oficina de Atención al Usuario de Telecomunicaciones" in row["what_you_can_do"]
    assert "arbitraje de consumo" in row["what_you_can_do"]
    assert run.state.stage == "bill_ready"
    assert run.state.attributes["claim_pending"] is False
    # The bill's own clock runs again.
    run.advance(madrid(2026, 12, 18, 9, 0))
    assert run.state.stage == "payment_overdue"
    run.assert_replay_matches()


def test_a_rejected_energy_claim_points_to_consumer_arbitration() -> None:
    run = claimed("energy")
    event = accepted(run.send("claim.resolved", {"outcome": "rejected"}))
    assert event_templates(event) == ["claim_rejected_energy"]
    template = next(n for n in C.definition.notifications if n.template == "claim_rejected_energy")
    assert "arbitraje de consumo" in template.text.es
    assert "consumer arbitration" in template.text.en


def test_a_rejected_claim_on_a_paid_bill_ends_the_cycle_and_keeps_the_reason_on_the_page() -> None:
    run = claimed_and_paid()
    event = accepted(
        run.send("claim.resolved", {"outcome": "rejected", "reason": "RECL_IMPORTE_CORRECTO"})
    )
    assert event_templates(event) == ["claim_rejected_telecom"]
    assert run.state.status == "completed"
    row = next(r for r in run.view("en")["incidents"] if r["code"] == "RECL_IMPORTE_CORRECTO")
    assert "matches your contract" in row["what_happened"]
    assert "State telecom user office" in row["what_you_can_do"]
    run.assert_replay_matches()


def test_a_rejected_claim_waits_for_the_service_to_be_back_before_ending() -> None:
    run = suspended_energy()
    run.act("dispute_bill", {"reason": "already_paid"})
    accepted(run.send("payment.received"))
    assert (run.state.stage, run.task("restore_service")["status"]) == ("paid", "open")
    accepted(run.send("claim.resolved", {"outcome": "rejected"}))
    assert (run.state.stage, run.state.status) == ("paid", "active")
    accepted(run.send("service.restored"))
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_a_service_back_on_does_not_end_the_cycle_while_the_claim_waits() -> None:
    run = suspended_energy()
    run.act("dispute_bill", {"reason": "already_paid"})
    run.send("payment.received")
    accepted(run.send("service.restored"))
    assert (run.state.stage, run.state.status) == ("paid", "active")
    accepted(run.send("claim.resolved", {"outcome": "rejected"}))
    assert run.state.status == "completed"
    run.assert_replay_matches()


# -- version 1 processes keep version 1 ------------------------------------------------------


def test_a_running_version_1_process_keeps_its_behaviour() -> None:
    run = billed("telecom", c=V1)
    assert run.state.definition_version == 1
    run.act("dispute_bill", {"reason": "wrong_amount"})
    assert "claim_answer_by" not in run.state.dates
    # Version 1 knows no correction: an upheld answer is recorded, the bill is cancelled.
    accepted(run.send("claim.resolved", {"outcome": "upheld"}))
    assert run.state.stage == "bill_ready"
    assert run.state.attributes["claim_outcome"] == "upheld"
    assert (
        run.send("bill.corrected", corrected({"amount": "1", "settlement": "to_pay"})).outcome.value
        == "rejected"
    )
    accepted(run.send("bill.cancelled"))
    assert run.state.status == "cancelled"
    assert ignored_reason(run.send("payment.received")) == "process_finished"
    run.assert_replay_matches()


def test_version_1_still_ends_on_payment_with_a_claim_open() -> None:
    run = billed("telecom", c=V1)
    run.act("dispute_bill", {"reason": "wrong_amount"})
    accepted(run.send("payment.received"))
    assert run.state.status == "completed"
    assert run.headline("en") == "Your bill is paid. Thank you!"
