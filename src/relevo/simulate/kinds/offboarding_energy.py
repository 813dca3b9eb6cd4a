"""What version 2 of offboarding adds to the leaver's story: energy ending by the distributor's
word (B1 deactivation, its answer and the final reading; C1-06 for a switch away, rules.md
§3.2, §3.3, §7.2), the early-exit charge billing assesses (and removes when the law does not
allow it, rules.md §3.4, §7.1 row 2), and device instalments that go on after leaving.

Fates: ``deactivation_rejected`` (the distributor rejects the first B1), ``exit_charge``
(none, allowed, refused; and, rarely, a billing mistake version 3 refuses: ``above_cap``, an
amount above its cap, or ``unreadable``, an amount written with a decimal comma; billing then
sends the corrected charge, within its cap), ``instalments``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow
from relevo.simulate.schedule import Result

#: TABLA_27 codes a distributor gives a deactivation (rules.md §3.5): wrong holder ID, a
#: concurrent request in progress, a date in the past.
B1_REJECTIONS = ("03", "B5", "46")

#: Early-exit charge fates where the contract allows a charge.
CHARGED = ("allowed", "above_cap", "unreadable")
#: Billing's mistakes version 3 of offboarding refuses until billing corrects them.
MISTAKES = ("above_cap", "unreadable")


class LeaverExtras(Flow):
    """Energy's deactivation and switch away, the early-exit charge and device instalments."""

    def terminated(self, case: Case, result: Result) -> None:
        """What follows the end of the contract (the kind's own story)."""
        raise NotImplementedError

    def draw_extras(self, case: Case, sector: str, reason: str) -> dict[str, Any]:
        """The version-2 part of a leaver's fate."""
        return {
            "deactivation_rejected": sector == "energy"
            and reason in ("termination", "move_out")
            and self.chance(case, "deactivation_rejected_share"),
            "exit_charge": self.pick(case, "exit_charge"),
            "instalments": sector == "telecom" and self.chance(case, "instalments_share"),
        }

    def extra_attributes(self, case: Case) -> JSON:
        """Energy price attributes that fit the drawn early-exit charge (rules.md §3.4)."""
        if case.fate["sector"] != "energy":
            return {}
        if case.fate.get("exit_charge") != "refused":
            charged = case.fate.get("exit_charge") in CHARGED
            return {"energy_price": "fixed" if charged else "indexed"}
        return case.rng.choice(
            [
                {"energy_price": "indexed"},
                {"energy_price": "fixed", "first_renewal_passed": True},
                {"energy_price": "fixed", "vulnerable_to_pvpc": True},
            ]
        )

    # -- energy: B1 deactivation or a switch away ------------------------------------------
    def energy_ends(self, case: Case) -> None:
        """The contract ends by the distributor: a switch away or our B1 request."""
        fate = case.fate
        if fate["reason"] == "supplier_switch":
            self.switch_away(case)
        elif not (fate.get("change_date") or fate.get("cancel")):
            day = self.local(self.w.now).date() + timedelta(days=case.rng.randint(3, 15))
            self.deactivate(case, day)

    def deactivate(self, case: Case, day: date) -> None:
        """We send B1-01 with its reason; the distributor answers and deactivates on ``day``."""
        request = self.w.unique.draw("request", lambda: f"B1-{people.digits(case.rng, 9)}")
        data: JSON = {
            "request_code": request,
            "reason_code": "01" if case.fate["reason"] == "move_out" else "02",
            "requested_on": day.isoformat(),
        }
        at = self.w.now + timedelta(hours=case.rng.uniform(0.2, 6))
        self.emit_at(case, at, "atr", "deactivation.requested", data, stages=["requested"])
        answer = at + timedelta(days=case.rng.uniform(1, 4))
        if case.fate.get("deactivation_rejected"):
            code = case.rng.choice(B1_REJECTIONS)
            self.emit_at(
                case,
                answer,
                "distributor",
                "deactivation.rejected",
                {"code": code},
                stages=["requested"],
            )
            answer += timedelta(days=case.rng.uniform(2, 5))
            day = max(day, self.local(answer).date() + timedelta(days=2))
            self.emit_at(
                case,
                answer,
                "atr",
                "deactivation.requested",
                {**data, "requested_on": day.isoformat()},
                stages=["requested"],
            )
            answer += timedelta(days=case.rng.uniform(1, 3))
        accepted: JSON = {"planned_on": day.isoformat()}
        self.emit_at(
            case, answer, "distributor", "deactivation.accepted", accepted, stages=["requested"]
        )
        done = max(answer, self.day_at(day, 9)) + timedelta(hours=case.rng.uniform(0, 6))
        reading: JSON = {"activated_on": day.isoformat(), "reading": people.digits(case.rng, 6)}
        self.emit_at(
            case,
            done,
            "distributor",
            "deactivation.activated",
            reading,
            stages=["requested"],
            then=self.terminated,
        )

    def switch_away(self, case: Case) -> None:
        """The incoming retailer runs the switch; the distributor tells us (C1-11, C1-06)."""
        at = self.w.now + timedelta(hours=case.rng.uniform(2, 30))
        if case.fate.get("port_failed"):
            self.emit_at(case, at, "distributor", "switch_away.cancelled", stages=["requested"])
            return
        day = self.local(at).date() + timedelta(days=case.rng.randint(2, 8))
        self.emit_at(
            case, at, "distributor", "switch_away.accepted", {"planned_on": day.isoformat()}
        )
        done = self.day_at(day, 9) + timedelta(hours=case.rng.uniform(0, 6))
        reading: JSON = {"activated_on": day.isoformat(), "reading": people.digits(case.rng, 6)}
        self.emit_at(
            case,
            done,
            "distributor",
            "switch_away.activated",
            reading,
            stages=["requested"],
            then=self.terminated,
        )

    # -- the early-exit charge and device instalments --------------------------------------
    def assess_exit_charge(self, case: Case, at: datetime) -> None:
        """Billing assesses the early-exit charge after the contract ends."""
        fate = case.fate.get("exit_charge")
        if fate in (None, "none"):
            return
        if case.fate["sector"] == "energy":
            energy = case.rng.uniform(80, 600)
            cap = energy * 0.05  # rules.md §3.4: 5% of the energy still to be billed
            # Within the cap: the rounded share never exceeds the rounded cap.
            data: JSON = {
                "amount": f"{cap * case.rng.uniform(0.5, 1):.2f}",
                "cap": f"{cap:.2f}",
                "energy_to_bill": f"{energy:.2f}",
            }
        else:
            months = 36 if fate == "refused" else case.rng.choice([12, 24])
            left = case.rng.randint(1, months - 1)
            cap = case.rng.uniform(2, 8) * left
            end = self.local(at).date() + timedelta(days=30 * left)
            data = {
                "amount": f"{cap:.2f}",
                "cap": f"{cap:.2f}",
                "commitment_months": months,
                "months_left": left,
                "commitment_end": end.isoformat(),
            }
        if fate in MISTAKES:
            # Billing's mistake; the corrected charge (``data``) follows the refusal.
            case.memo["corrected_charge"] = dict(data)
            wrong = cap * case.rng.uniform(1.1, 1.6)
            data = {**data, "amount": f"{wrong:.2f}" if fate == "above_cap" else f"{cap:.2f}"}
            if fate == "unreadable":
                data["amount"] = str(data["amount"]).replace(".", ",")
        moment = at + timedelta(hours=case.rng.uniform(1, 48))
        self.emit_at(case, moment, "billing", "exit_charge.assessed", data, stages=["terminated"])

    def billing_removes_charge(self, case: Case, payload: JSON) -> None:
        """Billing takes off a charge the law does not allow, or sends the corrected one
        for a charge refused as above its cap or unreadable."""
        at = self.w.now + timedelta(days=case.rng.uniform(1, 4))
        corrected = case.memo.pop("corrected_charge", None)
        if corrected is not None:
            self.emit_at(case, at, "billing", "exit_charge.assessed", corrected)
            return
        self.emit_at(case, at, "billing", "exit_charge.removed")

    def instalments(self, case: Case) -> None:
        """Billing says which device instalments go on after leaving."""
        if not case.fate.get("instalments"):
            return
        end = self.local(self.w.now).date() + timedelta(days=30 * case.rng.randint(2, 20))
        data: JSON = {
            "device": case.rng.choice(["móvil", "tablet", "reloj"]),
            "monthly_amount": case.rng.choice(["9.90", "14.50", "18.25", "27.00"]),
            "end_date": end.isoformat(),
        }
        at = self.w.now + timedelta(hours=case.rng.uniform(1, 24))
        self.emit_at(
            case,
            at,
            "billing",
            "device.instalments_continue",
            data,
            stages=["requested", "terminated"],
        )
