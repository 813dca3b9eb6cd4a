"""Electricity and gas supplier switch (rules.md §3, figures §8.2–§8.4): the ATR request to
the distributor, its acceptance or coded rejection, field work and its incidences, the
activation and first reading, our first bill and the outgoing retailer's final bill.

Fates: ``accepted`` (first answer), ``code`` (rejection code), ``after`` (resubmit, cancel,
wait), ``field_work`` and ``incidence`` (01 absent, 09/10/11 installation, 12 phone),
``rebook``, ``reading`` (read at activation), ``delayed``, ``cancel``, ``withdraw``,
``final_bill`` (the customer confirms the old retailer's final bill).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.energy_field import EnergyFieldWork
from relevo.simulate.schedule import Result

#: Rejection code -> incident, as the definition maps them (rules.md §3.5).
INCIDENT_OF = {
    "01": "R01", "02": "R02", "03": "R03", "36": "R03", "12": "R12", "37": "R37", "38": "R37",
    "39": "R37", "40": "R37", "46": "R46", "C5": "RC5", "14": "R14", "47": "R14", "48": "R14",
    "52": "R14", "65": "R14", "26": "R26", "57": "R57", "59": "R57", "60": "R57", "61": "R57",
    "58": "R58", "D1": "RD1",
}  # fmt: skip
POWERS = ("3.45", "4.6", "5.75", "6.9", "9.2")
#: TABLA_27 codes that answer a power change: only a C2 request with one gets them (v2).
POWER_CODES = ("14", "47", "48", "52", "65")


class EnergySwitch(EnergyFieldWork):
    """Spanish electricity or gas supplier switch, incoming retailer's side."""

    kind = "energy_switch"

    def coverage(self) -> list[dict[str, Any]]:
        """One rejected case per incident the rejection codes open, then the shape's fates."""
        fates: list[dict[str, Any]] = []
        seen: set[str] = set()
        for code in self.cfg.weights("rejection_codes"):
            incident = INCIDENT_OF.get(code, "R99")
            if incident not in seen:
                seen.add(incident)
                fates.append(
                    {"accepted": False, "code": code, "after": "wait", "age_days": [8, 24]}
                )
        return fates + super().coverage()

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        supply = forced.get("supply") or self.pick(case, "supply")
        fate: dict[str, Any] = {
            "supply": supply,
            "accepted": rng.random() < self.cfg.section("acceptance").share(supply),
            "after": (
                "resubmit"
                if self.chance(case, "resubmitted_share")
                else self.pick(case, "after_rejection")
            ),
            "field_work": supply == "electricity" and self.chance(case, "field_work_share"),
            "incidence": self.pick(case, "field_incidence"),
            "rebook": True,
            "reading": self.chance(case, "reading_on_activation_share"),
            "delayed": "late" if self.chance(case, "delayed_share") else None,
            "cancel": self.chance(case, "cancel_share"),
            "withdraw": self.chance(case, "withdraw_share"),
            "final_bill": self.chance(case, "final_bill_confirmed_share"),
            "doc_rejected": self.doc_rejected(case),
            "stall": False,
            "lag_days": None,
            "meter_read": True,
        }
        fate["code"] = self.pick(case, "rejection_codes")
        self.settle(case, fate, forced)
        fate["changes"] = self.changes(case)
        distributor = rng.choice(
            people.ELECTRICITY_DISTRIBUTORS if supply == "electricity" else people.GAS_DISTRIBUTORS
        )
        case.subject = self.w.unique.draw("cups", lambda: people.cups(rng, distributor))
        case.keys = {
            "crm_order_id": self.order_id(case),
            "contract_code": self.numbered(case, "contract", "EN", 9),
        }
        mode = fate.get("mode") or self.pick(case, "activation_mode")
        attributes: JSON = {
            "supply_type": supply,
            "activation_mode": mode,
            "outgoing_retailer": rng.choice(people.RETAILERS),
            "distributor": distributor,
            "holder_id": case.customer.id_number,
            "sales_channel": case.customer.channel,
        }
        if supply == "electricity":
            # 2.0TD: peak P1 and off-peak P2; most customers contract the same in both.
            p1 = rng.choice(POWERS)
            attributes["power_p1"] = p1
            attributes["power_p2"] = p1 if rng.random() < 0.8 else rng.choice(POWERS)
        changes = fate["changes"]
        attributes["changes"] = changes
        if changes in ("holder", "holder_and_power"):
            attributes["new_holder_id"] = people.nif(rng)
        case.attributes = attributes

    def changes(self, case: Case) -> str:
        """What changes with the switch (the C2 route, rules.md §3.2): a power rejection or
        field work needs a power change (step 03 is C2's); gas has no power to change."""
        fate = case.fate
        if fate["supply"] == "gas":
            return self.pick(case, "changes", ["none", "holder"])
        needs_power = fate.get("field_work") or (
            not fate["accepted"] and fate["code"] in POWER_CODES
        )
        if needs_power:
            return self.pick(case, "changes", ["power", "holder_and_power"])
        return self.pick(case, "changes")

    def begin(self, case: Case) -> None:
        if case.fate.get("stall"):
            return
        if case.attributes["activation_mode"] == "fixed_date":
            self.customer_acts(
                case,
                case.started_at + timedelta(minutes=case.rng.uniform(5, 240)),
                "choose_fixed_date",
                self.fixed_date,
                stages=["requested", "distributor_check"],
            )
        if case.fate.get("withdraw"):
            at = case.started_at + timedelta(days=case.rng.uniform(2, 12))
            self.customer_acts(case, at, "withdraw")
        self.submit(case, self.after("atr_submit", case.started_at, case))

    def submit(self, case: Case, at: datetime, *, resubmitted: bool = False) -> None:
        request = self.numbered(case, "atr", "ATR-", 10)
        event = "switch.resubmitted" if resubmitted else "atr.submitted"
        self.send(case, at, "retailer", event, {"request_id": request}, then=self.submitted)

    def submitted(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        if case.fate.get("cancel") and not case.memo.get("cancel_tried"):
            case.memo["cancel_tried"] = True
            at = result.at + timedelta(hours=case.rng.uniform(4, 96))
            self.customer_acts(case, at, "cancel")
        self.when(
            case,
            self.after("distributor_answer", result.at, case),
            self.distributor,
            ["distributor_check"],
        )

    def distributor(self, case: Case) -> None:
        if not case.fate["accepted"] and not case.memo.get("rejected_once"):
            case.memo["rejected_once"] = True
            self.send(
                case,
                self.w.now,
                "distributor",
                "distributor.rejected",
                {"code": case.fate["code"]},
                then=self.rejected,
            )
            return
        day = self.activation_day(case)
        case.memo["activation"] = day
        data: JSON = {
            "activation_date": day.isoformat(),
            "field_work": bool(case.fate.get("field_work")),
        }
        if case.fate["supply"] == "electricity":
            data["activation_type"] = (
                "asap" if case.attributes["activation_mode"] == "asap" else ("scheduled")
            )
        self.send(case, self.w.now, "distributor", "distributor.accepted", data, then=self.accepted)

    def activation_day(self, case: Case) -> date:
        """The day the switch takes effect: the date asked for, or the lag after the request
        (§8.3–§8.4: median 6 d, p90 14 d; door-to-door sales slower; gas slower)."""
        asked = case.memo.get("asked_date")
        if isinstance(asked, date):
            return asked
        mode = case.attributes["activation_mode"]
        if mode == "next_reading":
            lag = "next_reading_lag"
        elif case.fate["supply"] == "gas":
            lag = "gas_lag"
        elif case.customer.channel == "door_to_door":
            lag = "door_to_door_lag"
        else:
            lag = "activation_lag"
        lag_days = case.fate.get("lag_days")
        drawn = (
            case.started_at + timedelta(days=float(lag_days))
            if lag_days is not None
            else self.after(lag, case.started_at, case)
        )
        moment = max(drawn, self.calendar.add_working_days(self.w.now, 2))
        return self.working_day_on_or_after(self.local(moment).date())

    def fixed_date(self, case: Case) -> JSON:
        earliest = self.calendar.add_working_days(self.w.now, 3)
        day = self.working_day_on_or_after(
            self.local(earliest).date() + timedelta(days=case.rng.randint(0, 20))
        )
        case.memo["asked_date"] = day
        return {"date": day.isoformat()}

    def accepted(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        day: date = case.memo["activation"]
        if case.fate.get("field_work"):
            dispatch = max(
                self.w.now + timedelta(hours=2),
                self.day_at(day, 9) - timedelta(days=case.rng.uniform(2, 5)),
            )
            self.when(case, dispatch, self.dispatch, ["scheduled"])
            return
        self.plan_activation(case, day)

    def plan_activation(self, case: Case, day: date) -> None:
        at = self.day_at(day, case.rng.randint(7, 13), case.rng.randrange(60))
        if case.fate.get("delayed") == "open":
            return
        if case.fate.get("delayed") == "late" and case.fate["supply"] == "electricity":
            at += timedelta(days=case.rng.uniform(1.3, 5))
        self.when(case, max(at, self.w.now), self.activate, ["scheduled"])

    def activate(self, case: Case) -> None:
        day = self.local(self.w.now).date()
        data: JSON = {"activation_date": day.isoformat()}
        if case.fate.get("reading"):
            data["reading"] = people.digits(case.rng, 6)
        self.send(case, self.w.now, "distributor", "switch.activated", data, then=self.activated)

    def activated(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        if not case.fate.get("reading") and case.fate.get("meter_read", True):
            at = self.after("reading_after_activation", result.at, case)
            if case.rng.random() < 0.3:
                self.customer_acts(
                    case,
                    at - timedelta(hours=20),
                    "send_reading",
                    {"reading": people.digits(case.rng, 5)},
                    stages=["switched"],
                )
            self.when(
                case,
                at,
                lambda c: self.send(
                    c, self.w.now, "distributor", "meter.read", {"reading": people.digits(c.rng, 6)}
                ),
                ["switched"],
            )
        bill = self.after("first_bill", result.at, case)
        bill_id = self.numbered(case, "bill", "FE", 10)
        self.when(
            case,
            bill,
            lambda c: self.send(c, self.w.now, "billing", "bill.issued", {"bill_id": bill_id}),
        )
        if case.fate.get("final_bill"):
            self.customer_acts(
                case,
                self.after("old_final_bill", result.at, case),
                "confirm_final_bill",
                stages=["switched", "billing"],
            )

    # -- rejections ----------------------------------------------------------------------
    def rejected(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        incident = INCIDENT_OF.get(case.fate["code"], "R99")
        if incident == "R99":
            self.backoffice_resubmits(case, {})
            return
        after = case.fate.get("after")
        at = result.at + timedelta(hours=case.rng.uniform(3, 60))
        if after == "cancel" and incident not in ("R46", "RC5"):
            self.customer_acts(
                case, at, "request_new_supply" if incident == "R02" else "cancel", incident=incident
            )
            return
        if after != "resubmit":
            return
        rng = case.rng
        actions: dict[str, tuple[str, JSON | Any]] = {
            "R01": ("correct_cups", {"cups": case.subject})
            if rng.random() < 0.5
            else ("send_bill", lambda c: {"document": f"factura_{people.token(c.rng, 8)}.pdf"}),
            "R02": ("request_new_supply", None),
            "R03": ("correct_holder_id", {"holder_id": people.nif(rng)}),
            "R12": ("retry_switch", None),
            "R37": ("retry_switch", None),
            "R46": ("choose_activation_mode", {"mode": "asap"}),
            "RC5": ("choose_fixed_date", self.fixed_date),
            "R14": (
                "change_power",
                {"power_p1": rng.choice(POWERS), "power_p2": rng.choice(POWERS)},
            ),
            "R26": ("book_field_visit", self.visit_slot),
            "R57": ("upload_cie", lambda c: {"document": f"cie_{people.token(c.rng, 8)}.pdf"}),
            "R58": ("update_phone", {"phone": case.customer.phone}),
            "RD1": (
                "waive_social_bonus",
                lambda c: {"document": f"renuncia_{people.token(c.rng, 8)}.pdf"},
            ),
        }
        control, params = actions[incident]
        if incident in ("R12", "R37"):
            at += timedelta(days=rng.uniform(2, 10))  # the other request or the cut ends first
        self.customer_acts(case, at, control, params, incident=incident)

    def backoffice_reviews(self, case: Case, payload: JSON) -> None:
        def accepted(c: Case) -> None:
            if self.stage(c) == "requested":
                self.backoffice_resubmits(c, {})
            elif self.stage(c) == "scheduled":
                # F09 fixed: the distributor activates once the certificate is accepted.
                self.when(c, self.after("field_fix", self.w.now, c), self.activate, ["scheduled"])

        def rejected(c: Case) -> None:
            control = str(payload.get("event_type", "")).removeprefix("action.")
            self.customer_acts(
                c,
                self.w.now + timedelta(hours=c.rng.uniform(2, 30)),
                control,
                lambda c2: {"document": f"doc_{people.token(c2.rng, 8)}.pdf"},
            )

        self.review(case, payload, accepted, rejected)

    def backoffice_resubmits(self, case: Case, payload: JSON) -> None:
        self.when(
            case,
            self.after("atr_submit", self.w.now, case),
            lambda c: self.submit(c, self.w.now, resubmitted=True),
            ["requested"],
        )

    def activation_changed(self, case: Case, payload: JSON) -> None:
        """A new activation mode or date: resubmitted after a rejection, else noted."""
        if case.memo.get("rejected_once") and self.stage(case) == "requested":
            self.backoffice_resubmits(case, payload)

    def distributor_cancels(self, case: Case, payload: JSON) -> None:
        cause = "withdrawal" if payload.get("event_type") == "action.withdraw" else "customer"
        at = self.w.now + timedelta(hours=case.rng.uniform(1, 30))
        self.w.later(
            case,
            at,
            lambda c: self.send(c, self.w.now, "distributor", "switch.cancelled", {"cause": cause}),
        )

    def distributor_reads(self, case: Case, payload: JSON) -> None:
        reading = payload.get("params", {}).get("reading") or people.digits(case.rng, 6)
        self.when(
            case,
            self.w.now + timedelta(hours=case.rng.uniform(2, 30)),
            lambda c: self.send(
                c, self.w.now, "distributor", "meter.read", {"reading": str(reading)}
            ),
            ["switched"],
        )
