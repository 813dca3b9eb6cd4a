"""Moving home with electricity or gas (rules.md §5.1): the customer plans the move (dates,
route at the new address), the distributor activates the new supply — after a CIE or field
work when needed — and ends the old one, and the retailer sends the final bill.

Fates: ``confirms`` (the customer completes the plan), ``route``, ``rejected`` and ``code``,
``after``, ``cie`` (a certificate is asked for), ``incidence`` (01: absent at the visit),
``rebook``, ``late`` (new supply after the move-in date), ``reading`` (how the final reading
is given), ``old_end`` (days until the old supply ends), ``bill_late``, ``cancel``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.move_field import MoveFieldWork
from relevo.simulate.schedule import Result

INCIDENT_OF = {
    "02": "R02",
    "03": "R03",
    "36": "R03",
    "57": "CIE_REQUIRED",
    "59": "CIE_REQUIRED",
    "60": "CIE_REQUIRED",
    "61": "CIE_REQUIRED",
}


class MoveHome(MoveFieldWork):
    """Energy supply when a customer moves house."""

    kind = "move_home"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        fate: dict[str, Any] = {
            "confirms": not self.chance(case, "undecided_share"),
            "route": self.pick(case, "route"),
            "rejected": self.chance(case, "rejected_share"),
            "code": self.pick(case, "rejection_codes"),
            "after": ("resubmit" if self.chance(case, "resubmitted_share") else "wait"),
            "cie": False,
            "incidence": self.pick(case, "field_incidence"),
            "rebook": True,
            "late": self.chance(case, "late_share"),
            "gap": False,
            "reading": self.pick(case, "final_reading"),
            "old_end": None,
            "bill_late": self.chance(case, "bill_late_share"),
            "cancel": self.chance(case, "cancel_share"),
            "doc_rejected": self.doc_rejected(case),
            "lead_days": None,
        }
        self.settle(case, fate, forced)
        if fate["route"] == "new_supply" and not forced:
            fate["cie"] = self.chance(case, "cie_share")
        supply = self.pick(case, "supply")
        distributor = rng.choice(
            people.ELECTRICITY_DISTRIBUTORS if supply == "electricity" else people.GAS_DISTRIBUTORS
        )
        case.subject = self.w.unique.draw("cups", lambda: people.cups(rng, distributor))
        case.memo["new_cups"] = self.w.unique.draw("cups", lambda: people.cups(rng, distributor))
        case.keys = {
            "crm_order_id": self.order_id(case),
        }
        town, postcode = people.city(rng, case.customer.timezone is not None)
        case.attributes = {
            "supply_type": supply,
            "new_address": people.address(rng, town, postcode),
            "sales_channel": case.customer.channel,
        }
        lead = fate.get("lead_days")
        case.memo["lead"] = (
            timedelta(days=float(lead))
            if lead is not None
            else self.after("move_lead", case.started_at, case) - case.started_at
        )
        overlap = fate.get("overlap_days")
        case.memo["overlap"] = (
            0 if fate.get("gap") else overlap if overlap is not None else case.rng.randint(2, 7)
        )

    # -- planning --------------------------------------------------------------------------
    def begin(self, case: Case) -> None:
        at = self.w.awake(case, case.started_at + timedelta(minutes=case.rng.uniform(2, 20)))
        self.when(case, at, self.plan_session, ["planning"])

    def plan_session(self, case: Case) -> None:
        """One sitting on the page (or with the agent): dates, route, then confirm."""
        at = self.w.now
        old = "leave_active" if case.rng.random() < 0.3 else "deactivate"
        case.memo["old_supply"] = old
        self.act(case, at, "set_move_out_date", self.move_out(case, old))
        if not case.fate.get("confirms"):
            return
        at += timedelta(minutes=case.rng.uniform(1, 10))
        self.act(case, at, "set_move_in_date", self.move_in(case))
        at += timedelta(minutes=case.rng.uniform(1, 10))
        route = case.fate["route"]
        params: JSON = {"route": route}
        if route != "new_supply":
            params["new_cups"] = case.memo["new_cups"]
        self.act(case, at, "choose_route", params)
        if case.rng.random() < 0.4:
            self.act(
                case, at, "final_bill_delivery", {"to": case.rng.choice(["email", "new_address"])}
            )
        self.act(
            case,
            at + timedelta(minutes=case.rng.uniform(1, 20)),
            "confirm_plan",
            then=self.confirmed,
        )

    def move_out(self, case: Case, old: str) -> JSON:
        """The move-out day: the lead drawn for the case, at least 4 working days away."""
        # A new supply needs the distributor's works: customers plan at least three weeks.
        lead = max(
            case.memo["lead"], timedelta(days=21 if case.fate["route"] == "new_supply" else 0)
        )
        earliest = self.calendar.add_working_days(self.w.now, 4)
        moment = max(case.started_at + lead, earliest)
        day = self.working_day_on_or_after(self.local(moment).date())
        case.memo["move_out"] = day
        return {"date": day.isoformat(), "old_supply": old}

    def move_in(self, case: Case) -> JSON:
        """The move-in day: a few days before moving out (the overlap), not too soon."""
        out: date = case.memo["move_out"]
        soonest = self.local(self.calendar.add_working_days(self.w.now, 3)).date()
        day = out - timedelta(days=case.memo["overlap"])
        while day > soonest and not self.calendar.is_working_day(day):
            day -= timedelta(days=1)
        day = min(self.working_day_on_or_after(max(day, soonest)), out)
        case.memo["move_in"] = day
        return {"date": day.isoformat()}

    def confirmed(self, case: Case, result: Result) -> None:
        if result.ok and case.fate.get("cancel"):
            at = result.at + timedelta(days=case.rng.uniform(1, 6))
            self.customer_acts(case, at, "cancel", stages=["planning", "new_address"])

    def retailer_requests(self, case: Case, payload: JSON) -> None:
        """Our retailer asks the distributor for the new supply and for the old one's end."""
        self.new_request(case, self.after("request", self.w.now, case))
        if case.rng.random() < 0.97:
            old = self.w.unique.draw("b1", lambda: f"B1-{people.digits(case.rng, 9)}")
            at = self.after("request", self.w.now, case)
            self.when(
                case,
                at,
                lambda c: self.send(
                    c, self.w.now, "retailer", "old_supply.requested", {"request_id": old}
                ),
                ["new_address", "new_active"],
            )

    def new_request(self, case: Case, at: datetime, *, resubmitted: bool = False) -> None:
        prefix = {"new_supply": "A3", "switch_and_holder": "C2"}.get(case.fate["route"], "M1")
        request = self.w.unique.draw("request", lambda: f"{prefix}-{people.digits(case.rng, 9)}")
        event = "new_supply.resubmitted" if resubmitted else "new_supply.requested"
        self.when(
            case,
            at,
            lambda c: self.send(
                c, self.w.now, "retailer", event, {"request_id": request}, then=self.requested
            ),
            ["new_address"],
        )

    def requested(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        at = self.after("distributor_answer", result.at, case)
        fate = case.fate
        if fate.get("rejected") and not case.memo.get("rejected_once"):
            case.memo["rejected_once"] = True
            self.when(
                case,
                at,
                lambda c: self.send(
                    c,
                    self.w.now,
                    "distributor",
                    "new_supply.rejected",
                    {"code": fate["code"]},
                    then=self.rejected,
                ),
                ["new_address"],
            )
            return
        if fate.get("cie") and not case.memo.get("cie_asked"):
            case.memo["cie_asked"] = True
            self.when(
                case,
                at,
                lambda c: self.send(c, self.w.now, "distributor", "cie.requested"),
                ["new_address"],
            )
            self.customer_acts(
                case,
                at + timedelta(hours=case.rng.uniform(3, 72)),
                "upload_cie",
                self.cie,
                stages=["new_address"],
            )
            return
        if fate["route"] == "new_supply" and not case.memo.get("field_asked"):
            case.memo["field_asked"] = True
            self.when(
                case,
                at,
                lambda c: self.send(c, self.w.now, "distributor", "field_work.needed"),
                ["new_address"],
            )
            self.customer_acts(
                case,
                at + timedelta(hours=case.rng.uniform(2, 48)),
                "book_field_visit",
                self.visit_slot,
                stages=["new_address"],
            )
            return
        self.plan_activation(case)

    def cie(self, case: Case) -> JSON:
        return {"document": f"cie_{people.token(case.rng, 8)}.pdf"}

    def plan_activation(self, case: Case) -> None:
        move_in: date = case.memo["move_in"]
        if case.fate.get("late"):
            day = self.calendar.add_working_days(self.day_at(move_in, 9), case.rng.randint(2, 5))
            at = day + timedelta(hours=case.rng.uniform(0, 6))
        else:
            at = self.day_at(move_in, 8) - timedelta(days=case.rng.uniform(0, 1.5))
        at = max(at, self.w.now + timedelta(hours=2))

        def activate(c: Case) -> None:
            day = self.local(self.w.now).date().isoformat()
            self.send(
                c,
                self.w.now,
                "distributor",
                "new_supply.activated",
                {"activation_date": day},
                then=self.activated,
            )

        self.when(case, at, activate, ["new_address"])

    def activated(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        out: date = case.memo["move_out"]
        reading_at = self.day_at(out, 10) + timedelta(hours=case.rng.uniform(0, 40))
        how = case.fate.get("reading")
        if how == "photo":
            self.customer_acts(
                case,
                reading_at,
                "send_reading_photo",
                lambda c: {"photo": f"contador_{people.token(c.rng, 8)}.jpg"},
                stages=["move_out"],
            )
        elif how == "typed":
            self.customer_acts(
                case,
                reading_at,
                "enter_reading",
                {"reading": people.digits(case.rng, 6)},
                stages=["move_out"],
            )
        if case.memo.get("old_supply") == "leave_active" and self.chance(
            case, "deactivate_after_share"
        ):
            # Reminded that the old home is still in their name (v2), they stop it.
            self.customer_acts(
                case,
                self.day_at(out, 11) + timedelta(days=case.rng.uniform(1, 4)),
                "deactivate_old_supply",
                stages=["new_active", "move_out"],
            )
        days = case.fate.get("old_end")
        end = (
            self.day_at(out, 9) + timedelta(days=days)
            if days is not None
            else self.after("old_end", self.day_at(out, 9), case)
        )

        def ended(c: Case) -> None:
            data: JSON = {}
            if c.rng.random() < 0.6:
                data["reading"] = people.digits(c.rng, 6)
            self.send(c, self.w.now, "distributor", "old_supply.ended", data, then=self.ended)

        self.when(case, max(end, self.day_at(out, 9)), ended, ["new_active", "move_out"])

    def ended(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        if case.fate.get("bill_late"):
            at = result.at + timedelta(days=case.rng.uniform(44, 60))
        else:
            at = self.after("final_bill", result.at, case)
        bill = self.numbered(case, "bill", "FF", 10)
        self.when(
            case,
            at,
            lambda c: self.send(c, self.w.now, "billing", "bill.final_issued", {"bill_id": bill}),
            ["final_bill"],
        )

    # -- rejections --------------------------------------------------------------------------
    def rejected(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        incident = INCIDENT_OF.get(case.fate["code"], "R99")
        if incident == "R99":
            self.backoffice_resubmits(case, {})
            return
        if case.fate.get("after") != "resubmit":
            return
        at = result.at + timedelta(hours=case.rng.uniform(3, 48))
        if incident == "R02":
            case.fate["route"] = "new_supply"
            self.customer_acts(
                case, at, "choose_route", {"route": "new_supply"}, stages=["new_address"]
            )
        elif incident == "R03":
            self.customer_acts(
                case,
                at,
                "correct_holder_id",
                {"holder_id": case.customer.id_number},
                stages=["new_address"],
            )
        else:
            self.customer_acts(case, at, "upload_cie", self.cie, stages=["new_address"])

    def backoffice_reviews(self, case: Case, payload: JSON) -> None:
        requirement = self.requirement_of(payload)

        def accepted(c: Case) -> None:
            if requirement == "cie" and "CIE_REQUIRED" in self.open_incidents(c):
                self.backoffice_resubmits(c, {})

        def rejected(c: Case) -> None:
            control = str(payload.get("event_type", "")).removeprefix("action.")
            key = "photo" if control == "send_reading_photo" else "document"
            self.customer_acts(
                c,
                self.w.now + timedelta(hours=c.rng.uniform(1, 20)),
                control,
                lambda c2: {key: f"doc_{people.token(c2.rng, 8)}.jpg"},
            )

        self.review(case, payload, accepted, rejected)

    def route_chosen(self, case: Case, payload: JSON) -> None:
        """A new route after an R02 rejection is resubmitted; during planning it is noted."""
        if case.memo.get("rejected_once") and not case.memo.get("rerouted"):
            case.memo["rerouted"] = True
            self.backoffice_resubmits(case, payload)

    def backoffice_resubmits(self, case: Case, payload: JSON) -> None:
        self.new_request(case, self.after("request", self.w.now, case), resubmitted=True)
