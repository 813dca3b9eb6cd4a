"""Onboarding follow-up: the first weeks of a new customer — accounts activated, first use,
setup steps, payment method, the first bill and its payment, a check-in call and a survey.

Fates: ``activation_fails`` (and ``fixed``), ``no_usage`` (and ``setup_done``),
``payment_missing`` (and ``chooses``), ``payment_failed``, ``surveys``, ``withdraws``,
``cancelled`` (activation cancelled by us), ``call``, ``toggles`` (features switched off).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow
from relevo.simulate.schedule import Result

TOGGLES = (
    "switch_off_voicemail",
    "switch_off_roaming",
    "switch_off_premium",
    "switch_off_usage_alerts",
)


class OnboardingFollowup(Flow):
    """A new customer's first weeks, until the first bill is paid and they are settled."""

    kind = "onboarding_followup"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        fate: dict[str, Any] = {
            "activation_fails": self.chance(case, "activation_failed_share"),
            "fixed": True,
            "no_usage": self.chance(case, "no_usage_share"),
            "setup_done": rng.random() < 0.5,
            "payment_missing": self.chance(case, "payment_missing_share"),
            "chooses": self.chance(case, "chooses_payment_share"),
            "payment_failed": self.chance(case, "payment_failed_share"),
            "pays_later": True,
            "surveys": self.chance(case, "survey_share"),
            "detractor": False,
            "followed_up": self.chance(case, "follow_up_share"),
            "withdraws": self.chance(case, "withdraw_share"),
            "cancelled": self.chance(case, "cancelled_share"),
            "call": self.chance(case, "call_share"),
            "toggles": [t for t in TOGGLES if self.chance(case, "toggle_share")],
        }
        self.settle(case, fate, forced)
        sector = self.pick(case, "sector")
        business = self.chance(case, "business_share")
        contract = self.local(case.started_at).date() - timedelta(days=rng.randint(0, 2))
        first_bill = contract + timedelta(days=rng.randint(24, 35))
        case.subject = self.numbered(case, "customer_ref", "CR-", 9)
        case.keys = {
            "crm_order_id": self.order_id(case),
        }
        attributes: JSON = {
            "sector": sector,
            "customer_type": "business" if business else "personal",
            "accounts_expected": rng.randint(2, 4) if business else 1,
            "contract_date": contract.isoformat(),
            "first_bill_date": first_bill.isoformat(),
        }
        if business:
            case.keys["company_tax_id"] = self.w.unique.draw("cif", lambda: people.cif(rng))
        if not fate["payment_missing"]:
            attributes["payment_method"] = "direct_debit" if rng.random() < 0.8 else "card"
        case.attributes = attributes
        case.memo["first_bill"] = first_bill

    def begin(self, case: Case) -> None:
        self.accounts(case)
        if case.fate.get("cancelled"):
            self.cancelled(case)
            return
        self.first_use(case)
        self.setup_steps(case)
        self.choices(case)
        bill_at = self.day_at(case.memo["first_bill"], 6) + timedelta(
            minutes=case.rng.uniform(0, 90)
        )
        self.when(case, bill_at, self.bill, ["getting_started", "first_use"])

    def cancelled(self, case: Case) -> None:
        """The activation is cancelled in the first days."""
        at = case.started_at + timedelta(days=case.rng.uniform(1, 6))
        reason = case.rng.choice(["no_coverage", "fraud_check", "duplicate_order"])
        self.when(
            case,
            at,
            lambda c: self.send(c, self.w.now, "crm", "activation.cancelled", {"reason": reason}),
            ["getting_started", "first_use"],
        )

    def first_use(self, case: Case) -> None:
        """A withdrawal when the fate says so, then the first detected usage (late or never
        for customers who do not use the service)."""
        fate = case.fate
        if fate.get("withdraws") and case.attributes["customer_type"] == "personal":
            self.customer_acts(
                case, case.started_at + timedelta(days=case.rng.uniform(1, 12)), "withdraw"
            )
        usage = self.after("first_use", case.started_at, case)
        if fate.get("no_usage"):
            usage = case.started_at + timedelta(days=case.rng.uniform(12, 20))
            if fate.get("setup_done"):
                self.customer_acts(
                    case,
                    case.started_at + timedelta(days=case.rng.uniform(10.5, 12)),
                    "setup_done",
                    stages=["getting_started"],
                )
            elif case.forced:
                usage = case.started_at + timedelta(days=60)
        self.when(
            case,
            usage,
            lambda c: self.send(c, self.w.now, "network", "usage.first_detected"),
            ["getting_started"],
        )

    def setup_steps(self, case: Case) -> None:
        """The customer ticks some steps of the setup guide, hours apart."""
        steps = [item.id for item in self.definition.tasks["setup_guide"].checklist]
        moment = case.started_at
        for step in steps:
            if step == "payment" or case.rng.random() > 0.55:
                continue
            moment += timedelta(hours=case.rng.uniform(1, 60))
            self.customer_acts(
                case,
                moment,
                "tick_setup_step",
                {"step": step},
                stages=["getting_started", "first_use", "first_bill"],
            )

    def choices(self, case: Case) -> None:
        """A payment method, feature toggles and a call request, as the fate says."""
        fate = case.fate
        if fate.get("payment_missing") and fate.get("chooses"):
            self.customer_acts(
                case,
                case.started_at + timedelta(days=case.rng.uniform(0.5, 12)),
                "choose_payment_method",
                self.payment_method,
                stages=["getting_started", "first_use"],
            )
        if case.attributes["sector"] == "telecom":
            for toggle in fate.get("toggles", ()):
                self.customer_acts(
                    case,
                    case.started_at + timedelta(days=case.rng.uniform(0.2, 20)),
                    toggle,
                    stages=["getting_started", "first_use", "first_bill"],
                )
        if fate.get("call"):
            self.customer_acts(
                case,
                case.started_at + timedelta(days=case.rng.uniform(1, 20)),
                "request_call",
                self.call_at,
            )

    def accounts(self, case: Case) -> None:
        expected = int(case.attributes["accounts_expected"])
        kind = "business" if case.attributes["customer_type"] == "business" else "personal"
        moment = case.started_at
        for n in range(expected):
            account = self.numbered(case, "account", "ACC-", 8)
            moment += timedelta(hours=case.rng.uniform(0.5, 12))
            data: JSON = {"account_id": account, "account_type": kind}
            if n == 0 and case.fate.get("activation_fails"):
                reason = case.rng.choice(
                    ["sim_not_provisioned", "meter_not_linked", "credit_check_pending"]
                )
                failed = {**data, "reason": reason}
                self.emit_at(case, moment, "provisioning", "account.activation_failed", failed)
                if case.fate.get("fixed"):
                    fix = self.after("activation_fix", moment, case)
                    self.emit_at(case, fix, "provisioning", "account.activated", data)
                continue
            self.emit_at(case, moment, "provisioning", "account.activated", data)

    def payment_method(self, case: Case) -> JSON:
        if case.rng.random() < 0.75:
            return {"method": "direct_debit", "iban": case.customer.iban}
        return {"method": "card"}

    def call_at(self, case: Case) -> JSON:
        moment = self.calendar.add_working_days(self.w.now, 1)
        return {"call_at": self.stamp(self.slot(case, moment, (10, 12, 17, 19)))}

    def bill(self, case: Case) -> None:
        due = self.local(self.w.now).date() + timedelta(days=case.rng.randint(7, 15))
        data: JSON = {"amount": f"{case.rng.uniform(20, 120):.2f}", "due_date": due.isoformat()}
        self.send(case, self.w.now, "billing", "bill.issued", data, then=self.billed)
        case.memo["due"] = self.day_at(due, 8)

    def billed(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        due: datetime = case.memo["due"]
        if case.fate.get("payment_failed"):
            self.when(
                case,
                due,
                lambda c: self.send(
                    c,
                    self.w.now,
                    "bank",
                    "payment.failed",
                    {"reason": c.rng.choice(["insufficient_funds", "mandate_missing"])},
                ),
                ["first_bill"],
            )
            if not case.fate.get("pays_later"):
                return
            due += timedelta(days=case.rng.uniform(3, 10))
        self.when(
            case,
            due,
            lambda c: self.send(c, self.w.now, "bank", "payment.received", then=self.paid),
            ["first_bill"],
        )

    def paid(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        agent = f"agt_call_centre_{case.rng.randrange(1, 80):03d}"
        moment = result.at
        for item in ("call_made", "first_bill_explained", "needs_noted"):
            if case.rng.random() < 0.8:
                moment = self.calendar.add_working_hours(moment, case.rng.uniform(1, 10))
                self.emit_at(
                    case,
                    moment,
                    "crm",
                    "check_in.logged",
                    {"item": item},
                    stages=["check_in"],
                    actor=agent,
                )
        if case.fate.get("surveys"):
            self.customer_acts(
                case,
                result.at + timedelta(days=case.rng.uniform(1, 12)),
                "answer_survey",
                self.survey,
                then=self.surveyed,
                stages=["check_in"],
            )

    def survey(self, case: Case) -> JSON:
        """An NPS answer (0-10); a coverage case may be forced to be a detractor (0-6)."""
        scores = range(7) if case.fate.get("detractor") else range(11)
        weights = [1, 1, 1, 2, 2, 4, 6, 10, 16, 14, 12][: len(scores)]
        score = case.rng.choices(scores, weights)[0]
        case.memo["score"] = score
        return {"score": str(score)}

    def surveyed(self, case: Case, result: Result) -> None:
        """A detractor (0-6) gets a follow-up call from customer success, which logs how it
        went; a share of calls is still pending (the team is behind)."""
        if not result.ok or case.memo.get("score", 10) > 6 or not case.fate.get("followed_up"):
            return
        outcome = self.pick(case, "follow_up_outcomes")
        agent = f"agt_success_{case.rng.randrange(1, 20):03d}"
        self.emit_at(
            case,
            self.after("follow_up_call", result.at, case),
            "crm",
            "follow_up.completed",
            {"outcome": outcome},
            stages=["follow_up"],
            actor=agent,
        )
