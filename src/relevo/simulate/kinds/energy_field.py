"""Energy switch: the distributor's field work (a meter visit, its incidences, new appointments)."""

from __future__ import annotations

from datetime import datetime, timedelta

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow


class EnergyFieldWork(Flow):
    """The field-work part of ``EnergySwitch``."""

    # -- what the kind's flow provides -------------------------------------------------------
    def activate(self, case: Case) -> None:
        raise NotImplementedError

    def backoffice_resubmits(self, case: Case, payload: JSON) -> None:
        raise NotImplementedError

    def dispatch(self, case: Case) -> None:
        slot = self.slot(case, self.w.now + timedelta(hours=20), (8, 10, 12, 16))
        self.send(
            case, self.w.now, "distributor", "field.dispatched", {"appointment": self.stamp(slot)}
        )
        self.visit_at(case, slot)

    def visit_at(self, case: Case, slot: datetime) -> None:
        generation = case.memo.get("generation", 0) + 1
        case.memo["generation"] = generation

        def visit(c: Case) -> None:
            if c.memo.get("generation") == generation:
                self.visit(c)

        self.when(case, slot + timedelta(minutes=case.rng.uniform(20, 150)), visit, ["scheduled"])

    def visit(self, case: Case) -> None:
        code = case.fate.get("incidence", "none")
        if case.memo.get("visited") or code == "none":
            self.activate(case)
            return
        case.memo["visited"] = True
        self.send(case, self.w.now, "technician", "field.incidence", {"code": code})
        rebook = case.fate.get("rebook", True)
        later = self.w.now + timedelta(hours=case.rng.uniform(3, 48))
        if code in ("10", "11"):
            # The distributor fixes its own equipment and activates a few days later.
            if rebook:
                self.when(
                    case, self.after("field_fix", self.w.now, case), self.activate, ["scheduled"]
                )
        elif not rebook:
            return
        elif code == "01":
            self.customer_acts(
                case,
                later,
                "book_field_visit",
                self.visit_slot,
                stages=["scheduled"],
                incident="F01",
            )
        elif code == "09":
            self.customer_acts(
                case,
                later,
                "upload_cie",
                lambda c: {"document": f"cie_{people.token(c.rng, 8)}.pdf"},
                stages=["scheduled"],
            )
        elif code == "12":
            self.customer_acts(
                case, later, "update_phone", {"phone": case.customer.phone}, stages=["scheduled"]
            )

    def visit_slot(self, case: Case) -> JSON:
        earliest = self.calendar.add_working_days(self.w.now, case.rng.randint(1, 4))
        return {"slot": self.stamp(self.slot(case, earliest, (9, 12, 16)))}

    def field_requested(self, case: Case, payload: JSON) -> None:
        """A visit slot asked for: after a rejection (R26) we resubmit with it; during field
        work (F01) the distributor confirms the new appointment (incidence 08)."""
        if self.stage(case) == "requested":
            self.backoffice_resubmits(case, payload)
            return
        asked = payload.get("params", {}).get("slot")
        if isinstance(asked, str):
            self.new_appointment(case, datetime.fromisoformat(asked))

    def new_appointment(self, case: Case, slot: datetime) -> None:
        def confirm(c: Case) -> None:
            self.send(
                c,
                self.w.now,
                "distributor",
                "field.incidence",
                {"code": "08", "appointment": self.stamp(slot)},
            )
            self.visit_at(c, slot)

        self.when(
            case, self.w.now + timedelta(minutes=case.rng.uniform(30, 240)), confirm, ["scheduled"]
        )

    def phone_updated(self, case: Case, payload: JSON) -> None:
        if self.stage(case) == "requested":
            self.backoffice_resubmits(case, payload)
            return
        slot = self.slot(case, self.calendar.add_working_days(self.w.now, 2), (9, 12, 16))
        self.new_appointment(case, slot)
