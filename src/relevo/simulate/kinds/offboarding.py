"""Offboarding (rules.md §7), version 2: a telecom contract ends within 2 WD, an energy one by
the distributor (``offboarding_energy``), the old equipment comes back (or
is charged), accesses are revoked, the final bill is paid or refunded, data are exported on
request and blocked, and the customer may leave a word on the way out.

Fates: ``late`` (termination after the deadline), ``port_failed``, ``change_date``,
``cancel``, ``equipment`` (complete, incomplete, not_returned, none), ``declares`` (the
customer confirms sending it), ``balance`` (due, credit, zero), ``unpaid``, ``bill_late``,
``export`` (None, on_time, late), ``erasure``, ``survey``, ``consent``, ``call``; plus those
of ``offboarding_energy``. ``port_failed`` is also an energy switch away the new retailer
cancels.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.offboarding_energy import LeaverExtras
from relevo.simulate.schedule import Result


class Offboarding(LeaverExtras):
    """A customer leaves: termination, equipment, final bill, data, farewell."""

    kind = "offboarding"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        sector = forced.get("sector") or self.pick(case, "sector")
        allowed = (
            ("termination", "port_out", "move_out")
            if sector == "telecom"
            else ("termination", "move_out", "supplier_switch")
        )
        reason = forced.get("reason") or self.pick(case, "reason", allowed)
        fate: dict[str, Any] = {
            "sector": sector,
            "reason": reason,
            "late": self.chance(case, "late_share"),
            "port_failed": reason in ("port_out", "supplier_switch")
            and self.chance(case, "port_failed_share"),
            "change_date": reason in ("termination", "move_out")
            and self.chance(case, "change_date_share"),
            "cancel": reason in ("termination", "move_out") and self.chance(case, "cancel_share"),
            **self.draw_extras(case, sector, reason),
            "equipment": self.pick(case, "equipment") if sector == "telecom" else "none",
            "declares": self.chance(case, "declare_share"),
            "balance": self.pick(case, "balance"),
            "unpaid": self.chance(case, "unpaid_share"),
            "bill_late": sector == "energy" and self.chance(case, "bill_late_share"),
            "export": self.pick(case, "export"),
            "erasure": self.chance(case, "erasure_share"),
            "survey": self.chance(case, "survey_share"),
            "consent": self.chance(case, "consent_share"),
            "marketing": self.chance(case, "marketing_consent_share"),
            "call": self.chance(case, "call_share"),
            "return_days": None,
            "bill_days": None,
            "export_hours": None,
        }
        self.settle(case, fate, forced)
        prefix = "TEL" if sector == "telecom" else "ENE"
        case.subject = self.w.unique.draw(
            "contract", lambda: f"CT-{prefix}-{people.digits(rng, 8)}"
        )
        case.keys = {
            "crm_order_id": self.order_id(case),
        }
        if sector == "telecom":
            case.keys["msisdn"] = self.w.unique.draw("msisdn", lambda: people.msisdn(rng))
        case.attributes = {
            "sector": sector,
            "reason": reason,
            "marketing_consent": bool(fate["marketing"]),
            **self.extra_attributes(case),
        }

    def begin(self, case: Case) -> None:
        fate = case.fate
        if fate.get("change_date"):
            self.customer_acts(
                case,
                case.started_at + timedelta(hours=case.rng.uniform(1, 20)),
                "choose_termination_date",
                self.termination_date,
                stages=["requested"],
            )
        if fate.get("cancel"):
            self.customer_acts(
                case,
                case.started_at + timedelta(hours=case.rng.uniform(1, 30)),
                "cancel_termination",
                stages=["requested"],
            )
        if fate.get("export") not in (None, "none"):
            self.customer_acts(
                case,
                case.started_at
                + timedelta(hours=fate.get("export_hours") or case.rng.uniform(0.1, 72)),
                "export_my_data",
                {"format": case.rng.choice(["json", "csv"]), "delivery": "download"},
            )
        if fate.get("erasure"):
            self.customer_acts(
                case, case.started_at + timedelta(days=case.rng.uniform(1, 10)), "request_erasure"
            )
        if fate.get("call"):
            self.customer_acts(
                case,
                case.started_at + timedelta(hours=case.rng.uniform(2, 100)),
                "request_call",
                self.call_at,
            )

    def termination_date(self, case: Case) -> JSON:
        day = self.local(self.w.now).date() + timedelta(days=case.rng.randint(5, 30))
        case.memo["asked_date"] = day
        return {"date": day.isoformat()}

    def call_at(self, case: Case) -> JSON:
        moment = self.calendar.add_working_days(self.w.now, 1)
        return {"call_at": self.stamp(self.slot(case, moment, (10, 12, 17, 19)))}

    # -- termination -------------------------------------------------------------------------
    def provisioning_terminates(self, case: Case, payload: JSON) -> None:
        fate = case.fate
        self.instalments(case)
        if fate["sector"] == "energy":
            self.energy_ends(case)
            return
        if fate.get("port_failed"):
            at = self.w.now + timedelta(hours=case.rng.uniform(10, 40))
            self.when(
                case, at, lambda c: self.send(c, self.w.now, "nc", "port_out.failed"), ["requested"]
            )
            return
        if fate.get("change_date") or fate.get("cancel"):
            return  # the customer's own date (or cancellation) decides
        deadline = self.calendar.add_working_days(self.w.now, 2)
        if fate.get("late"):
            at = self.calendar.add_working_days(deadline, case.rng.randint(1, 4))
        else:
            at = self.w.now + (deadline - self.w.now) * case.rng.uniform(0.2, 0.95)
        self.terminate_at(case, at)

    def provisioning_reschedules(self, case: Case, payload: JSON) -> None:
        day = case.memo.get("asked_date")
        if isinstance(day, date) and case.fate["sector"] == "energy":
            self.deactivate(case, day)
        elif isinstance(day, date):
            self.terminate_at(case, self.day_at(day, 0) + timedelta(hours=case.rng.uniform(0, 8)))

    def terminate_at(self, case: Case, at: datetime) -> None:
        def terminate(c: Case) -> None:
            self.send(
                c,
                self.w.now,
                "provisioning",
                "contract.terminated",
                {"effective_on": self.date_text(self.w.now)},
                then=self.terminated,
            )

        self.when(case, at, terminate, ["requested"])

    def terminated(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        fate = case.fate
        self.revoke_accesses(case, result.at)
        self.assess_exit_charge(case, result.at)
        if fate.get("equipment") != "none":
            self.equipment(case, result.at)
        if fate.get("bill_late"):
            bill_at = result.at + timedelta(days=case.rng.uniform(44, 55))
        elif fate.get("bill_days") is not None:
            bill_at = result.at + timedelta(days=float(fate["bill_days"]))
        else:
            bill_at = self.after("final_bill", result.at, case)
        self.when(case, bill_at, self.final_bill, ["terminated"])
        if fate.get("survey"):
            self.customer_acts(
                case,
                result.at + timedelta(days=case.rng.uniform(0.5, 10)),
                "answer_exit_survey",
                self.survey,
            )
        if fate.get("consent") and not fate.get("marketing"):
            self.customer_acts(
                case,
                result.at + timedelta(days=case.rng.uniform(0.5, 10)),
                "keep_in_touch",
                {"channel": case.rng.choice(["email", "sms"])},
            )

    def survey(self, case: Case) -> JSON:
        return {
            "reason": self.pick(case, "exit_reasons"),
            "score": case.rng.choice(["1", "2", "3", "3", "4", "4", "5"]),
        }

    def revoke_accesses(self, case: Case, at: datetime) -> None:
        task = (
            "revoke_access_telecom"
            if case.fate["sector"] == "telecom"
            else ("revoke_access_energy")
        )
        items = [item.id for item in self.definition.tasks[task].checklist]
        moment = at
        for item in items:
            moment = moment + timedelta(hours=case.rng.uniform(0.2, 10))
            if case.rng.random() < 0.95:
                self.emit_at(case, moment, "it", "access.revoked", {"item": item})

    # -- equipment ---------------------------------------------------------------------------
    def equipment(self, case: Case, at: datetime) -> None:
        code = self.numbered(case, "return", "DEV", 9)
        days = case.fate.get("return_days") or (30 if case.rng.random() < 0.3 else 15)
        data: JSON = {
            "return_code": code,
            "charge": case.rng.choice(["30", "45", "60"]),
            "days": days,
        }
        when = at + timedelta(hours=case.rng.uniform(0.5, 20))
        self.when(
            case,
            when,
            lambda c: self.send(c, self.w.now, "logistics", "equipment.return_requested", data),
            ["terminated"],
        )
        outcome = case.fate["equipment"]
        if outcome == "not_returned":
            return
        sent = when + timedelta(days=case.rng.uniform(1, days * 0.7))
        if case.fate.get("declares"):
            self.customer_acts(
                case,
                sent,
                "confirm_equipment_sent",
                {"receipt": f"CORREOS{people.digits(case.rng, 10)}"},
            )
        else:
            self.receive(case, sent + timedelta(days=case.rng.uniform(1, 5)))

    def receive(self, case: Case, at: datetime) -> None:
        incomplete = case.fate.get("equipment") == "incomplete" and not case.memo.get("short")

        def received(c: Case) -> None:
            data: JSON = {"condition": "complete"}
            if incomplete:
                c.memo["short"] = True
                data = {"condition": "incomplete", "missing": ["power_supply"]}
            self.send(c, self.w.now, "logistics", "equipment.received", data)

        self.when(case, at, received)

    def logistics_receives(self, case: Case, payload: JSON) -> None:
        self.receive(case, self.w.now + timedelta(days=case.rng.uniform(1, 5)))

    def billing_charges(self, case: Case, payload: JSON) -> None:
        self.when(
            case,
            self.w.now + timedelta(days=case.rng.uniform(1, 3)),
            lambda c: self.send(c, self.w.now, "billing", "equipment.charged", {"amount": "45.00"}),
        )

    # -- final bill --------------------------------------------------------------------------
    def final_bill(self, case: Case) -> None:
        balance = case.fate["balance"]
        amount = {"credit": f"-{case.rng.uniform(2, 40):.2f}", "zero": "0.00"}.get(
            balance, f"{case.rng.uniform(8, 90):.2f}"
        )
        due = self.local(self.w.now).date() + timedelta(days=15)
        data: JSON = {
            "bill_number": self.numbered(case, "bill", "FF-", 9),
            "amount": amount,
            "balance": balance,
            "due_date": due.isoformat(),
        }
        self.send(case, self.w.now, "billing", "bill.final_issued", data, then=self.billed)

    def billed(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        balance = case.fate["balance"]
        if balance == "credit":
            self.when(
                case,
                self.after("refund", result.at, case),
                lambda c: self.send(c, self.w.now, "billing", "refund.paid"),
            )
        if balance == "due" and not case.fate.get("unpaid"):
            self.pays(case, result.at + timedelta(days=case.rng.uniform(1, 14)))
        if balance != "due":
            self.block_data(case, result.at)

    def pays(self, case: Case, at: datetime) -> None:
        def paid(c: Case) -> None:
            self.send(c, self.w.now, "bank", "payment.received", then=self.settled)

        self.when(case, at, paid, ["final_bill"])

    def settled(self, case: Case, result: Result) -> None:
        if result.ok:
            self.block_data(case, result.at)

    def collections(self, case: Case, payload: JSON) -> None:
        """Unpaid final bill: some customers then ask for a plan, dispute or pay late."""
        if case.fate.get("unpaid") and case.memo.get("collection_answered") is None:
            case.memo["collection_answered"] = True
            choice = case.rng.random()
            at = self.w.now + timedelta(days=case.rng.uniform(1, 10))
            if case.forced:
                return  # coverage cases keep the incident open
            if choice < 0.3:
                self.customer_acts(
                    case, at, "request_payment_plan", {"instalments": case.rng.choice(["2", "3"])}
                )
            elif choice < 0.45:
                self.customer_acts(
                    case,
                    at,
                    "dispute_final_bill",
                    {
                        "reason": case.rng.choice(
                            ["billed_after_termination", "equipment_charge", "penalty"]
                        )
                    },
                )
            elif choice < 0.85:
                self.pays(case, at)

    def billing_plans(self, case: Case, payload: JSON) -> None:
        self.pays(case, self.w.now + timedelta(days=case.rng.uniform(3, 20)))

    def billing_resolves_claim(self, case: Case, payload: JSON) -> None:
        at = self.w.now + timedelta(days=case.rng.uniform(5, 15))

        def resolve(c: Case) -> None:
            self.send(
                c,
                self.w.now,
                "billing",
                "claim.resolved",
                {"outcome": c.rng.choice(["upheld", "rejected"])},
            )
            self.pays(c, self.w.now + timedelta(days=c.rng.uniform(1, 7)))

        self.when(case, at, resolve)

    # -- data and farewell -------------------------------------------------------------------
    def block_data(self, case: Case, at: datetime) -> None:
        def block(c: Case) -> None:
            today = self.local(self.w.now).date()
            data: JSON = {
                "proof_id": self.numbered(c, "proof", "BLK-", 8),
                "blocked_on": today.isoformat(),
                "retention_until": date(today.year + 6, 12, 31).isoformat(),
                "blocked": ["invoices", "contract_evidence"],
                "deleted": ["usage_profile", "marketing_profile"],
            }
            self.send(c, self.w.now, "dpo", "data.blocked", data)

        self.when(case, self.after("data_block", at, case), block, ["closing"])

    def dpo_exports(self, case: Case, payload: JSON) -> None:
        """The data protection officer sends the export (GDPR art. 15/20: within 1 month)."""
        if case.fate.get("export") == "late":
            at = self.w.now + timedelta(days=case.rng.uniform(32, 45))
        else:
            at = self.after("data_export", self.w.now, case)
        reference = self.numbered(case, "export", "EXP-", 8)
        self.when(
            case,
            at,
            lambda c: self.send(c, self.w.now, "dpo", "data.exported", {"reference": reference}),
        )

    def crm_offers(self, case: Case, payload: JSON) -> None:
        at = self.calendar.at_time(self.calendar.add_working_days(self.w.now, 1), time(11, 0))
        offer = case.rng.choice(["VUELVE20", "VUELVE30", "FIBRA50"])
        self.when(
            case,
            at,
            lambda c: self.send(c, self.w.now, "crm", "winback.offer_ready", {"offer_code": offer}),
            ["closing", "closed"],
        )
