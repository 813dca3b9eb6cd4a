"""Moving home with broadband and a landline (rules.md §5.3): the coverage check at the new
address (with the numbering area and any commitment), the installation appointment the
customer books, the technician's visit, and the line activated at the new home.

Fates: ``covered``, ``same_area`` (the number keeps), ``commitment``, ``accepts`` (a new
number), ``visit`` (done, customer_absent, technician_no_show), ``rebook``, ``no_coverage``
(end_service, cancel, wait), ``cancel``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow
from relevo.simulate.schedule import Result


class TelecomMove(Flow):
    """Our broadband and landline moved to the customer's new home."""

    kind = "telecom_move"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        fate: dict[str, Any] = {
            "covered": self.chance(case, "covered_share"),
            "same_area": self.chance(case, "same_area_share"),
            "commitment": self.chance(case, "commitment_share"),
            "accepts": self.chance(case, "accepts_new_number_share"),
            "visit": self.pick(case, "visit"),
            "rebook": True,
            "no_coverage": self.pick(case, "no_coverage"),
            "cancel": self.chance(case, "cancel_share"),
        }
        self.settle(case, fate, forced)
        customer = case.customer
        case.subject = self.w.unique.draw("contract", lambda: f"TEL-{people.digits(rng, 8)}")
        case.keys = {"crm_order_id": self.order_id(case)}
        town, postcode = people.city(rng, customer.timezone is not None)
        case.attributes = {
            "new_address": people.address(rng, town, postcode),
            "fixed_number": people.landline(rng, customer.postcode),
            "sales_channel": customer.channel
            if customer.channel in ("web", "app", "store", "call_centre")
            else "call_centre",
        }

    def begin(self, case: Case) -> None:
        fate = case.fate
        data: JSON = {"covered": bool(fate["covered"])}
        if fate["covered"]:
            data["technology"] = case.rng.choice(["FTTH", "FTTH", "FTTH", "VDSL", "4G"])
            data["same_numbering_area"] = bool(fate["same_area"])
            if fate.get("commitment"):
                months = case.rng.randint(1, 18)
                data["commitment_until"] = self.date_text(
                    case.started_at + timedelta(days=30 * months)
                )
        if fate.get("cancel"):
            self.customer_acts(
                case,
                case.started_at + timedelta(hours=case.rng.uniform(2, 72)),
                "cancel",
                stages=["coverage_check", "booking", "installation"],
            )
        self.send(
            case,
            self.after("coverage", case.started_at, case),
            "provisioning",
            "coverage.checked",
            data,
            then=self.checked,
        )

    def checked(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        fate = case.fate
        at = result.at + timedelta(hours=case.rng.uniform(1, 48))
        if not fate["covered"]:
            choice = fate.get("no_coverage")
            if choice in ("end_service", "cancel"):
                self.customer_acts(case, at, choice, incident="NO_COVERAGE")
            return
        if not fate["same_area"]:
            if not fate.get("accepts"):
                return  # thinks about it: the incident stays open
            self.customer_acts(case, at, "accept_new_number", incident="NUMBER_CHANGES")
            at += timedelta(hours=case.rng.uniform(0.1, 24))
        self.customer_acts(case, at, "book_installation", self.slot_params, stages=["booking"])

    def slot_params(self, case: Case) -> JSON:
        """A slot about a week ahead (rules.md §5.3 item 4), within the control's bounds."""
        lead = self.calendar.add_working_days(self.w.now, case.rng.randint(2, 7))
        return {"slot": self.stamp(self.slot(case, lead, (9, 12, 16, 18)))}

    # -- integration messages ----------------------------------------------------------------
    def field_books(self, case: Case, payload: JSON) -> None:
        """Field service confirms the slot asked for, with a work order."""
        asked = payload.get("params", {}).get("slot")
        if not isinstance(asked, str):
            return
        slot = datetime.fromisoformat(asked)
        order = self.numbered(case, "work_order", "OT-", 8)
        self.when(
            case,
            self.w.now + timedelta(hours=case.rng.uniform(0.5, 6)),
            lambda c: self.send(
                c,
                self.w.now,
                "field_service",
                "installation.booked",
                {"appointment": asked, "work_order_id": order},
            ),
            ["booking"],
        )
        self.when(
            case, slot + timedelta(minutes=case.rng.uniform(20, 150)), self.visit, ["installation"]
        )

    def visit(self, case: Case) -> None:
        missed = case.fate.get("visit")
        if missed in ("customer_absent", "technician_no_show") and not case.memo.get("missed"):
            case.memo["missed"] = True
            who = "customer" if missed == "customer_absent" else "technician"
            self.send(case, self.w.now, "field_service", "installation.missed", {"who": who})
            if case.fate.get("rebook", True):
                self.customer_acts(
                    case,
                    self.w.now + timedelta(hours=case.rng.uniform(2, 30)),
                    "book_installation",
                    self.slot_params,
                    stages=["booking"],
                )
            return
        self.send(case, self.w.now, "technician", "installation.done", then=self.installed)

    def installed(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        self.when(
            case,
            self.after("activation", result.at, case),
            lambda c: self.send(c, self.w.now, "provisioning", "service.activated"),
            ["activation"],
        )
