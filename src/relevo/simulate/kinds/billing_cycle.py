"""One billing cycle (rules.md §7.1–§7.2): the period, anomalies before the bill, the bill,
payment by direct debit or card, returned payments, and — for the few who do not pay — the
dunning path of telecom (notice, suspension, interruption) or energy (notice, certified
demand, suspension), with the protections for vulnerable customers and essential supplies.

Fates: ``anomaly`` (code or None), ``anomaly_answer``, ``payment`` (on_time, returned, late,
unpaid), ``settles`` (when an unpaid customer pays: after_notice, after_suspension, never),
``retry`` (what a customer with a returned debit does), ``wrong_cut`` (the network cuts by
mistake), ``late_restore``, ``dispute`` (a customer who has not paid claims),
``paid_dispute`` (a customer paying by the due date claims first), ``vulnerability``,
``terminated``. What follows a claim is in ``billing_claims``.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.billing_claims import BillClaims
from relevo.simulate.schedule import Result

SITUATION_KIND = {
    "social_bonus": "social_bonus",
    "essential_supply": "essential_supply",
    "electro_dependent": "electro_dependent",
    "social_services": "social_services",
}


class BillingCycle(BillClaims):
    """A customer's bill from the open period to payment (or to the end of dunning)."""

    kind = "billing_cycle"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        sector = forced.get("sector") or self.pick(case, "sector")
        fate: dict[str, Any] = {
            "sector": sector,
            "anomaly": self.pick(case, "anomalies") if self.chance(case, "anomaly_share") else None,
            "anomaly_answer": self.pick(case, "anomaly_answers"),
            "payment": self.pick(case, "payment"),
            "settles": self.pick(case, "settles"),
            "retry": self.pick(case, "after_returned"),
            "plan_broken": self.chance(case, "plan_broken_share"),
            "wrong_cut": self.chance(case, "wrong_cut_share"),
            "late_restore": self.chance(case, "late_restore_share"),
            "dispute": self.chance(case, "dispute_share"),
            "paid_dispute": self.chance(case, "paid_dispute_share"),
            "claim_outcome": None,
            "refund_fails": self.chance(case, "refund_failed_share"),
            "slow_correction": self.chance(case, "slow_correction_share"),
            "vulnerability": self.chance(case, "vulnerability_share"),
            "terminated": self.chance(case, "terminated_share"),
            "suspended_before": sector == "telecom" and self.chance(case, "suspended_before_share"),
            "bimonthly": sector == "energy" and self.chance(case, "bimonthly_share"),
        }
        self.settle(case, fate, forced)
        if fate["anomaly"] == "LECTURA_ESTIMADA" and sector != "energy" and "anomaly" not in forced:
            fate["anomaly"] = "ANOM_IMPORTE"
        prefix = "TEL" if sector == "telecom" else "ENE"
        case.subject = self.w.unique.draw(
            "billing_ref", lambda: f"BR-{prefix}-{people.digits(rng, 9)}"
        )
        start = self.local(case.started_at).date()
        months = 2 if fate["bimonthly"] else 1
        end = _add_months(start, months) - timedelta(days=1)
        case.memo["period_end"] = end
        attributes: JSON = {
            "sector": sector,
            "contract_code": self.w.unique.draw(
                "contract", lambda: f"{prefix}{people.digits(rng, 9)}"
            ),
            "period_start": start.isoformat(),
            "period_end": end.isoformat(),
            "payment_method": self.pick(case, "payment_method"),
            "suspended_before": bool(fate["suspended_before"]),
        }
        if sector == "energy":
            attributes["social_bonus"] = self.chance(case, "social_bonus_share")
        case.attributes = attributes

    def start_moment(self, case: Case, earliest: datetime, latest: datetime) -> datetime:
        """Billing opens a period at night, on any day."""
        moment = earliest + (latest - earliest) * case.rng.random()
        day = self.local(moment).date()
        opened = self.day_at(day, 2) + timedelta(minutes=case.rng.randrange(0, 180))
        return opened if earliest <= opened < latest else moment

    def begin(self, case: Case) -> None:
        end: date = case.memo["period_end"]
        anomaly = case.fate.get("anomaly")
        if anomaly:
            at = self.day_at(end, 7) - timedelta(days=case.rng.uniform(1, 4))
            usual = case.rng.uniform(25, 90)
            data = {
                "code": anomaly,
                "estimated_amount": f"{usual * case.rng.uniform(2.2, 4):.2f}",
                "usual_amount": f"{usual:.2f}",
            }
            self.when(
                case,
                at,
                lambda c: self.send(
                    c, self.w.now, "billing", "billing.anomaly_detected", data, then=self.anomaly
                ),
                ["period_open"],
            )
        issued = self.calendar.add_working_days(self.day_at(end, 9), case.rng.choice((1, 1, 2)))
        issued -= timedelta(minutes=case.rng.uniform(0, 50))
        self.when(case, issued, self.issue, ["period_open"])

    def anomaly(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        answer = case.fate.get("anomaly_answer")
        at = result.at + timedelta(hours=case.rng.uniform(1, 30))
        code = case.fate["anomaly"]
        if answer == "none":
            return
        if answer == "call":
            self.customer_acts(case, at, "request_call", self.call_at)
            return
        if code == "LECTURA_ESTIMADA" and answer != "acknowledge":
            params = {
                "reading": people.digits(case.rng, 6),
                "photo": f"contador_{people.token(case.rng, 8)}.jpg",
            }
            self.customer_acts(case, at, "send_meter_reading", params, stages=["period_open"])
        elif answer == "dispute" and code != "LECTURA_ESTIMADA":
            reason = case.rng.choice(["not_me", "fault_or_leak", "wrong_reading", "unknown_charge"])
            self.customer_acts(
                case, at, "dispute_anomaly", {"reason": reason}, stages=["period_open"]
            )
        else:
            self.customer_acts(case, at, "acknowledge_anomaly", stages=["period_open"])

    def call_at(self, case: Case) -> JSON:
        moment = self.calendar.add_working_days(self.w.now, 1)
        return {"call_at": self.stamp(self.slot(case, moment, (10, 12, 17)))}

    # -- the bill and its payment ----------------------------------------------------------
    def issue(self, case: Case) -> None:
        issued = self.local(self.w.now).date()
        amount = case.rng.uniform(18, 140)
        data: JSON = {
            "bill_number": self.w.unique.draw(
                "bill", lambda: f"F{issued.year}-{people.digits(case.rng, 7)}"
            ),
            "amount": f"{amount:.2f}",
            "issued_on": issued.isoformat(),
        }
        due = issued + timedelta(days=20)
        if case.fate["sector"] == "telecom":
            due = issued + timedelta(days=case.rng.randint(10, 15))
            data["due_date"] = due.isoformat()
        case.memo["due"] = due
        case.memo["amount"] = f"{amount:.2f}"
        self.send(case, self.w.now, "billing", "bill.issued", data, then=self.issued)

    def issued(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        fate = case.fate
        due: date = case.memo["due"]
        if fate.get("wrong_cut"):
            at = result.at + timedelta(days=case.rng.uniform(2, 6))
            scope = "outgoing_calls" if fate["sector"] == "telecom" else "supply"
            self.when(
                case,
                at,
                lambda c: self.send(
                    c, self.w.now, "network", "service.suspended", {"scope": scope}
                ),
                ["bill_ready"],
            )
        unpaid_claim = fate.get("dispute") and fate["payment"] != "on_time"
        paid_claim = fate.get("paid_dispute") and fate["payment"] == "on_time"
        if unpaid_claim or paid_claim:
            reason = case.rng.choice(["wrong_amount", "not_my_usage", "service_not_received"])
            self.customer_acts(
                case,
                result.at + timedelta(days=case.rng.uniform(1, 8)),
                "dispute_bill",
                {"reason": reason},
                stages=["bill_ready", "payment_overdue"],
                # Those who pay on time pay the disputed bill anyway, soon after claiming.
                then=self.pays_after_claiming if paid_claim else None,
            )
        payment = fate["payment"]
        debit = self.day_at(due, 6) + timedelta(hours=case.rng.uniform(0, 6))
        if payment == "on_time":
            paid = (
                debit
                if case.attributes["payment_method"] == "direct_debit"
                else result.at + (debit - result.at) * case.rng.uniform(0.1, 0.95)
            )
            self.pays(case, paid)
        elif payment == "returned":
            self.when(
                case,
                debit,
                lambda c: self.send(
                    c,
                    self.w.now,
                    "bank",
                    "payment.failed",
                    {"reason": c.rng.choice(["AM04", "MS03", "MD06", "AC04"])},
                    then=self.returned,
                ),
                ["bill_ready"],
            )
        elif payment == "late":
            self.pays(case, debit + timedelta(days=case.rng.uniform(3, 25)))
        # "unpaid": the overdue timer moves the process; dunning answers follow.

    def pays_after_claiming(self, case: Case, result: Result) -> None:
        if result.ok:
            self.pays(case, result.at + timedelta(hours=case.rng.uniform(2, 48)))

    def pays(self, case: Case, at: datetime) -> None:
        self.when(
            case,
            at,
            lambda c: self.send(c, self.w.now, "bank", "payment.received"),
            ["bill_ready", "payment_overdue", "service_suspended"],
        )

    def returned(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        retry = case.fate.get("retry")
        at = result.at + timedelta(hours=case.rng.uniform(3, 72))
        if retry == "retry_debit":
            self.customer_acts(
                case, at, "retry_direct_debit", self.charge_date, stages=["payment_overdue"]
            )
        elif retry == "plan":
            self.customer_acts(
                case,
                at,
                "request_payment_plan",
                {"instalments": case.rng.choice(["2", "3", "6"])},
                stages=["payment_overdue", "service_suspended"],
            )
        elif retry == "card":
            self.pays(case, at + timedelta(hours=case.rng.uniform(0, 12)))

    def charge_date(self, case: Case) -> JSON:
        day = self.local(self.calendar.add_working_days(self.w.now, case.rng.randint(2, 6))).date()
        return {"charge_date": self.working_day_on_or_after(day).isoformat()}

    def bank_charges(self, case: Case, payload: JSON) -> None:
        day = payload.get("params", {}).get("charge_date")
        at = datetime.fromisoformat(day) if isinstance(day, str) else self.w.now + timedelta(days=3)
        self.pays(case, at + timedelta(hours=case.rng.uniform(0, 4)))

    def billing_plans(self, case: Case, payload: JSON) -> None:
        """Collections agrees the plan the customer asked for (``payment_plan.agreed``)."""
        params = payload.get("params") or {}
        instalments = params.get("instalments", "3") if isinstance(params, dict) else "3"
        self.when(
            case,
            self.after("plan_agreement", self.w.now, case),
            lambda c: self.send(
                c,
                self.w.now,
                "collections",
                "payment_plan.agreed",
                {"instalments": instalments},
                then=self.plan_agreed,
            ),
            ["payment_overdue", "service_suspended"],
        )

    def plan_agreed(self, case: Case, result: Result) -> None:
        """Most customers keep to the plan and settle; some miss an instalment."""
        if not result.ok:
            return
        if case.fate.get("plan_broken"):
            at = result.at + timedelta(days=case.rng.uniform(25, 35))
            self.when(
                case,
                at,
                lambda c: self.send(c, self.w.now, "collections", "payment_plan.broken"),
                ["payment_overdue", "service_suspended"],
            )
            return
        self.pays(case, self.after("payment_plan", result.at, case))

    # -- dunning ---------------------------------------------------------------------------
    def billing_sends_notice(self, case: Case, payload: JSON) -> None:
        """The notice (telecom: suspension notice; energy: unpaid notice, then the certified
        demand). Unpaid customers may pay after it, or declare a vulnerability."""
        energy = case.fate["sector"] == "energy"
        at = self.after("notice", self.w.now, case)

        def notice(c: Case) -> None:
            self.send(
                c,
                self.w.now,
                "billing",
                "dunning.notice_sent",
                {"sent_on": self.date_text(self.w.now)},
            )
            if energy:
                self.when(c, self.after("demand", self.w.now, c), self.demand, ["payment_overdue"])

        self.when(case, at, notice, ["payment_overdue"])
        settles = case.fate.get("settles")
        if settles == "after_notice":
            self.pays(case, at + timedelta(days=case.rng.uniform(2, 12)))
        if case.fate.get("vulnerability") and not case.memo.get("declared"):
            case.memo["declared"] = True
            self.customer_acts(
                case,
                at + timedelta(days=case.rng.uniform(1, 6)),
                "declare_vulnerability",
                self.declaration,
                stages=["payment_overdue"],
            )

    def demand(self, case: Case) -> None:
        proof = self.numbered(case, "burofax", "BUROFAX-", 8)
        self.send(
            case,
            self.w.now,
            "billing",
            "dunning.demand_sent",
            {"sent_on": self.date_text(self.w.now), "proof": proof},
        )

    def declaration(self, case: Case) -> JSON:
        situation = self.pick(case, "situations")
        case.memo["situation"] = situation
        return {"situation": situation, "document": f"certificado_{people.token(case.rng, 8)}.pdf"}

    def social_services_check(self, case: Case, payload: JSON) -> None:
        situation = payload.get("params", {}).get("situation", "social_services")
        kind = SITUATION_KIND.get(str(situation), "social_services")
        at = self.after("vulnerability_check", self.w.now, case)
        if case.rng.random() < self.share("vulnerability_confirmed_share"):
            self.when(
                case,
                at,
                lambda c: self.send(
                    c, self.w.now, "social_services", "vulnerability.confirmed", {"kind": kind}
                ),
            )
        else:
            self.when(
                case,
                at,
                lambda c: self.send(
                    c,
                    self.w.now,
                    "social_services",
                    "vulnerability.rejected",
                    {"reason": c.rng.choice(["certificate_expired", "not_eligible"])},
                ),
            )

    def network_suspends(self, case: Case, payload: JSON) -> None:
        scope = "outgoing_calls" if case.fate["sector"] == "telecom" else "supply"
        at = self.calendar.add_working_days(self.w.now, case.rng.randint(1, 3))
        at = self.calendar.at_time(at, time(9, 0)) + timedelta(hours=case.rng.uniform(0, 5))

        def suspend(c: Case) -> None:
            self.send(
                c, self.w.now, "network", "service.suspended", {"scope": scope}, then=self.suspended
            )

        self.when(case, at, suspend, ["payment_overdue"])

    def suspended(self, case: Case, result: Result) -> None:
        if result.ok and case.fate.get("settles") == "after_suspension":
            self.pays(case, result.at + timedelta(days=case.rng.uniform(0.5, 6)))

    def network_restores(self, case: Case, payload: JSON) -> None:
        """Service back after payment (≤ next working day) or after a wrong cut."""
        late = bool(case.fate.get("late_restore")) and self.stage(case) == "paid"
        at = (
            self.calendar.add_working_days(self.w.now, case.rng.randint(2, 4))
            if late
            else self.w.now + timedelta(hours=case.rng.uniform(1, 14))
        )
        self.when(case, at, lambda c: self.send(c, self.w.now, "network", "service.restored"))

    def billing_interrupts(self, case: Case, payload: JSON) -> None:
        at = self.after("notice", self.w.now, case)
        self.when(
            case,
            at,
            lambda c: self.send(c, self.w.now, "billing", "dunning.interruption_notice_sent"),
            ["payment_overdue", "service_suspended"],
        )
        if case.fate.get("terminated"):
            end = at + timedelta(days=case.rng.uniform(15, 30))
            self.when(
                case,
                end,
                lambda c: self.send(c, self.w.now, "billing", "contract.terminated_for_debt"),
                ["payment_overdue", "service_suspended"],
            )


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(f"cannot add {months} months to {day}")
