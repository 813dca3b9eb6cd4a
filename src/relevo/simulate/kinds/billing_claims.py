"""A bill claim and what follows it (``billing_cycle`` v2): billing answers (upheld, partly
upheld or rejected, with a reason), issues the rectifying bill, and, when the customer had
already paid more than the corrected amount, sends the refund, which the bank may return
(a closed account) until the customer gives another account.

Fates read here: ``claim_outcome`` (forced or drawn from ``claim_outcomes``),
``rejection_reason`` (forced or drawn from ``rejection_reasons``),
``refund_fails`` (the first refund comes back), ``slow_correction`` (billing misses the
correction date). Every share and delay is in ``kinds.billing_cycle`` of defaults.toml and is
illustrative: rules.md gives no Spanish figures for claim outcomes or refund times.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow

#: Stages where a claim answer opens the correction (v2) or only resumes the bill's clock.
ANSWERED_IN = ["period_open", "bill_ready", "payment_overdue", "service_suspended", "paid"]


class BillClaims(Flow):
    """The claim part of ``BillingCycle``: answer, corrected bill, refund."""

    def pays(self, case: Case, at: datetime) -> None:
        raise NotImplementedError

    def billing_resolves_claim(self, case: Case, payload: JSON) -> None:
        """Billing answers a claim (``billing.claim_opened``) or a disputed anomaly."""
        outcome = case.fate.get("claim_outcome") or self.pick(case, "claim_outcomes")
        case.fate["claim_outcome"] = outcome
        data: JSON = {"outcome": outcome}
        if outcome == "rejected":
            reason = case.fate.get("rejection_reason") or self.pick(case, "rejection_reasons")
            if reason != "none":
                data["reason"] = reason
        bill_claim = payload.get("event_type") == "action.dispute_bill"

        def resolve(c: Case) -> None:
            self.send(c, self.w.now, "billing", "claim.resolved", data)
            if (
                outcome == "rejected"
                and bill_claim
                and self.stage(c)
                in (
                    "bill_ready",
                    "payment_overdue",
                )
            ):
                self.pays(c, self.w.now + timedelta(days=c.rng.uniform(1, 10)))

        self.when(case, self.after("claim", self.w.now, case), resolve, ANSWERED_IN)

    def billing_corrects(self, case: Case, payload: JSON) -> None:
        """The rectifying bill (``billing.correction_requested``): a new amount still to pay,
        or, when the customer already paid, the difference to refund; a few fully upheld
        unpaid bills are cancelled instead."""
        slow = bool(case.fate.get("slow_correction"))
        at = (
            self.calendar.add_working_days(self.w.now, case.rng.randint(11, 14))
            if slow
            else self.after("correction", self.w.now, case)
        )
        self.when(case, at, self.correct, ["correction"])

    def correct(self, case: Case) -> None:
        state = self.w.state(case)
        paid = bool(state is not None and state.attributes.get("bill_paid"))
        billed = float(case.memo.get("amount", 50.0))
        upheld = case.fate.get("claim_outcome") == "upheld"
        share = case.rng.uniform(0.0, 0.6) if upheld else case.rng.uniform(0.6, 0.9)
        amount = round(billed * share, 2)
        issued = self.local(self.w.now).date()
        data: JSON = {
            "bill_number": self.numbered(case, "bill", f"R{issued.year}-", 7),
            "amount": f"{amount:.2f}",
            "issued_on": issued.isoformat(),
        }
        if paid:
            data["settlement"] = "refund"
            data["refund_amount"] = f"{billed - amount:.2f}"
            case.memo["refund"] = f"{billed - amount:.2f}"
        elif upheld and case.rng.random() < self.share("cancelled_share"):
            self.send(case, self.w.now, "billing", "bill.cancelled")
            return
        elif amount < 1:
            data["amount"] = "0.00"
            data["settlement"] = "settled"
        else:
            data["settlement"] = "to_pay"
            due: date = issued + timedelta(days=20)
            if case.fate["sector"] == "telecom":
                due = issued + timedelta(days=case.rng.randint(10, 15))
                data["due_date"] = due.isoformat()
            self.pays(case, self.day_at(due, 6) + timedelta(hours=case.rng.uniform(0, 6)))
        self.send(case, self.w.now, "billing", "bill.corrected", data)

    def billing_refunds(self, case: Case, payload: JSON) -> None:
        """The refund (``billing.refund_requested``, or ``billing.refund_account_chosen``
        after a returned one): sent, then arrived or, once, returned by the bank."""
        amount = str(case.memo.get("refund", "10.00"))
        sent = self.after("refund_send", self.w.now, case)
        method = "card" if case.attributes.get("payment_method") == "card" else "transfer"
        self.emit_at(
            case, sent, "billing", "refund.issued", {"amount": amount, "method": method},
            stages=["correction"],
        )  # fmt: skip
        arrived = self.after("refund_arrival", sent, case)
        if case.fate.get("refund_fails") and not case.memo.get("refund_returned"):
            case.memo["refund_returned"] = True
            reason = "card_expired" if method == "card" else "account_closed"
            self.emit_at(
                case, arrived, "bank", "refund.failed", {"reason": reason}, stages=["correction"]
            )
            self.customer_acts(
                case,
                self.after("new_account", arrived, case),
                "choose_refund_account",
                lambda c: {"iban": f"ES{people.digits(c.rng, 22)}"},
                stages=["correction"],
                incident="REEMBOLSO_FALLIDO",
            )
            return
        self.emit_at(
            case, arrived, "bank", "refund.paid", {"amount": amount}, stages=["correction"]
        )
