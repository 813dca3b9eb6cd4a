"""Fixed number port-in with a new broadband access (rules.md §2): the wholesale order, the
courier with the router, the field technician, the reference entity (ER), the donor, and the
customer who books, reschedules, cancels or returns the old equipment.

Fates: ``path`` (completed, donor_rejected, no_coverage, cancelled, stalled), ``cause``,
``after``, ``visit`` (completed, customer_absent, technician_no_show, unreported),
``router_failed``, ``reschedule``, ``books`` (customer books the visit), ``delayed`` (late /
open activation), ``equipment`` (who reports the old router returned); version 2:
``wholesale_failed`` (the access order fails once), ``postpone_port`` (the customer moves
the port window); ``visit`` may also be ``blocked_permission`` / ``blocked_riser``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.draws import pick
from relevo.simulate.kinds.fixed_setbacks import FixedSetbacks
from relevo.simulate.schedule import Result

DONORS = {"Movistar": 0.45, "Vodafone": 0.2, "Orange": 0.2, "MásMóvil": 0.1, "Digi": 0.05}
US_FIXES = frozenset({"RECH_TECNI", "RECH_DATOS"})
SLOTS = (8, 12, 16)
Step = Callable[[Case], None]
#: Visit outcomes that block the installation for a building reason (visit.blocked cause).
BLOCKED = {"blocked_permission": "BUILDING_PERMISSION", "blocked_riser": "NO_RISER_ACCESS"}


class FixedPortIn(FixedSetbacks):
    """Fixed line and broadband switch, receiving side."""

    kind = "fixed_port_in"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        fate: dict[str, Any] = {"path": self.pick(case, "outcomes")}
        if fate["path"] == "donor_rejected":
            fate["cause"] = self.pick(case, "donor_causes")
        fate["after"] = (
            "resubmit"
            if self.chance(case, "resubmitted_share")
            else self.pick(case, "after_rejection")
        )
        fate["visit"] = self.pick(case, "visit")
        fate["router_failed"] = self.chance(case, "router_failed_share")
        fate["router_rearranged"] = True
        fate["wholesale_failed"] = self.chance(case, "wholesale_failed_share")
        fate["postpone_port"] = self.chance(case, "postpone_port_share")
        fate["reschedule"] = self.chance(case, "reschedule_share")
        fate["books"] = self.chance(case, "customer_books_share")
        fate["never_books"] = False
        fate["rebook"] = True
        fate["delayed"] = None
        if self.chance(case, "delayed_share"):
            fate["delayed"] = "late" if rng.random() < 0.8 else "open"
        fate["equipment"] = self.pick(case, "equipment")
        fate["doc_rejected"] = self.doc_rejected(case)
        fate["correct"] = self.chance(case, "correct_instead_share")
        self.settle(case, fate, forced)
        if fate.get("after") == "new_number" and fate.get("cause") != "RECH_INACT":
            fate["after"] = "cancel"
        customer = case.customer
        case.subject = self.w.unique.draw(
            "landline", lambda: people.landline(rng, customer.postcode)
        )
        case.attributes = {
            "donor_operator": pick(rng, DONORS),
            "port_variant": "asegurado" if self.chance(case, "asegurado_share") else "basico",
            "id_type": self.id_type(customer),
            "sales_channel": customer.channel,
        }

    def begin(self, case: Case) -> None:
        at = self.after("order_check", case.started_at, case)
        path = case.fate["path"]
        if path == "stalled":
            return
        if path == "no_coverage":
            reason = case.rng.choice(["no_coverage", "address_not_found"])
            self.send(case, at, "wholesale", "order.rejected", {"reason": reason})
            return
        order = self.order_id(case)
        case.memo["order"] = order
        self.send(
            case,
            at,
            "wholesale",
            "order.accepted",
            {"order_id": order, "access_type": self.pick(case, "access")},
            then=self.order_accepted,
        )

    def order_accepted(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        self.router(case, result.at)
        if case.fate["path"] == "cancelled":
            cancel_at = result.at + timedelta(hours=case.rng.uniform(6, 72))
            self.customer_acts(case, cancel_at, "cancel")
        if case.fate.get("never_books"):
            return
        if case.fate.get("wholesale_failed"):
            self.wholesale_fails(case, result.at, lambda c: self.booking(c, self.w.now))
        else:
            self.booking(case, result.at)

    def booking(self, case: Case, at: datetime) -> None:
        """The customer books the visit on the page, or field service calls them."""
        if case.fate.get("books"):
            at = self.after("customer_booking", at, case)
            self.customer_acts(case, at, "book_installation", self.slot_params, stages=["booking"])
        else:
            at = self.after("field_booking", at, case)
            self.when(case, at, lambda c: self.field_books(c, {}), ["booking"])

    # -- the installation ----------------------------------------------------------------
    def slot_params(self, case: Case) -> JSON:
        lead = self.after("install_lead", self.w.now, case)
        if case.fate.get("quick"):  # coverage cases: a visit within two working days
            lead = self.calendar.add_working_days(self.w.now, case.rng.randint(1, 2))
        earliest = max(lead, self.calendar.add_working_days(self.w.now, 1) + timedelta(hours=1))
        latest = self.w.now + timedelta(days=20)
        slot = min(
            self.slot(case, earliest, SLOTS), self.slot(case, latest - timedelta(days=3), SLOTS)
        )
        return {"slot": self.stamp(slot)}

    def field_books(self, case: Case, payload: JSON) -> None:
        """Field service confirms the slot asked for (or proposes one) with a work order."""
        asked = payload.get("params", {}).get("slot")
        slot = (
            datetime.fromisoformat(asked)
            if isinstance(asked, str)
            else datetime.fromisoformat(self.slot_params(case)["slot"])
        )
        order = case.memo.get("work_order") or self.numbered(case, "work_order", "WO-", 7)
        case.memo["work_order"] = order

        def book(c: Case) -> None:
            self.send(
                c,
                self.w.now,
                "field_service",
                "appointment.booked",
                {"slot": self.stamp(slot), "work_order": order},
                then=lambda c2, r: self.booked(c2, r, slot),
            )

        self.when(
            case,
            self.w.now + timedelta(minutes=case.rng.uniform(5, 90)),
            book,
            ["booking", "installation"],
        )

    def booked(self, case: Case, result: Result, slot: datetime) -> None:
        if not result.ok:
            return
        generation = case.memo.get("generation", 0) + 1
        case.memo["generation"] = generation
        if case.fate.get("reschedule") and not case.memo.get("rescheduled"):
            case.memo["rescheduled"] = True
            until = self.calendar.at_time(self.calendar.add_working_days(slot, -1), time(14, 0))
            at = result.at + (until - result.at) * case.rng.uniform(0.1, 0.7)
            self.customer_acts(
                case, at, "reschedule_installation", self.later_slot, stages=["installation"]
            )
        visit = slot + timedelta(minutes=case.rng.uniform(10, 200))

        def visited(c: Case) -> None:
            if c.memo.get("generation") == generation:
                self.visit(c)

        self.when(case, visit, visited, ["installation"])

    def later_slot(self, case: Case) -> JSON:
        earliest = self.calendar.add_working_days(self.w.now, case.rng.randint(2, 5))
        return {"slot": self.stamp(self.slot(case, earliest, SLOTS))}

    def visit(self, case: Case) -> None:
        outcome = case.fate.get("visit", "completed")
        if case.memo.get("visited"):
            outcome = "completed"
        case.memo["visited"] = True
        if outcome == "unreported":
            # The technician reports the next day, after the check_visit task was opened.
            later = self.calendar.add_working_days(self.w.now, 1)
            self.when(case, later, self.visit_completed, ["installation"])
            return
        if outcome == "completed":
            self.visit_completed(case)
            return
        rebook = self.w.now + timedelta(hours=case.rng.uniform(3, 40))
        if outcome in BLOCKED:
            self.send(
                case, self.w.now, "field_service", "visit.blocked", {"cause": BLOCKED[outcome]}
            )
            # The customer first gets the permission or the key (days, not hours).
            rebook = self.w.now + timedelta(days=case.rng.uniform(3, 12))
        else:
            self.send(case, self.w.now, "field_service", f"visit.{outcome}")
        if not case.fate.get("rebook", True):
            return
        if case.fate.get("books") or outcome != "customer_absent":
            self.customer_acts(
                case, rebook, "book_installation", self.slot_params, stages=["booking"]
            )
        else:
            self.when(case, rebook, lambda c: self.field_books(c, {}), ["booking"])

    def visit_completed(self, case: Case) -> None:
        self.send(case, self.w.now, "field_service", "visit.completed", then=self.installed)

    # -- the port ------------------------------------------------------------------------
    def installed(self, case: Case, result: Result) -> None:
        if result.ok:
            self.er_accepts(case, self.after("er_submit", result.at, case))

    def er_accepts(self, case: Case, at: datetime, *, resubmitted: bool = False) -> None:
        window = self.calendar.at_time(self.calendar.add_working_days(at, 1), time(8, 0))
        reference = self.numbered(case, "er", "ER-", 12)
        case.memo.update(window=window, reference=reference)
        event = "port.resubmitted" if resubmitted else "er.accepted"
        self.send(
            case,
            at,
            "er",
            event,
            {"reference": reference, "window": self.stamp(window)},
            then=self.registered,
        )

    def registered(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        rejecting = case.fate["path"] == "donor_rejected" and not case.memo.get("rejected_once")
        reference = case.memo["reference"]
        if case.fate.get("postpone_port") and not rejecting and not case.memo.get("moved"):
            case.memo["moved"] = True
            self.postpones_port(case, result.at)

        def donor(c: Case) -> None:
            if rejecting:
                c.memo["rejected_once"] = True
                self.send(
                    c,
                    self.w.now,
                    "donor",
                    "donor.rejected",
                    {"cause": c.fate["cause"], "er_reference": reference},
                    then=self.donor_rejected,
                )
            else:
                self.send(
                    c,
                    self.w.now,
                    "donor",
                    "donor.confirmed",
                    {"er_reference": reference},
                    then=self.confirmed,
                )

        self.when(case, self.after("donor_answer", result.at, case), donor, ["porting"])

    def confirmed(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        case.memo["donor_confirmed"] = True
        generation = case.memo.get("port_generation", 0)
        window: datetime = case.memo["window"]
        reference = case.memo["reference"]
        delayed = case.fate.get("delayed")
        cut = window + timedelta(minutes=case.rng.uniform(0, 90))

        def on_window(event: str, then: Callable[[Case, Result], None] | None = None) -> Step:
            def step(c: Case) -> None:
                if c.memo.get("port_generation", 0) == generation:
                    self.send(c, self.w.now, "donor" if event.startswith("donor") else "er",
                              event, {"er_reference": reference}, then=then)  # fmt: skip

            return step

        self.when(case, cut, on_window("donor.service_ended"), ["porting"])
        if delayed == "open":
            return
        if delayed == "late":
            deadline = self.calendar.at_time(self.calendar.add_working_days(window, 1), time(20, 0))
            done = deadline + timedelta(hours=case.rng.uniform(2, 30))
        else:
            done = self.after("port_execution", cut, case)
        self.when(case, done, on_window("port.executed", self.ported), ["porting"])

    def ported(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        who = case.fate.get("equipment")
        at = self.after("equipment_return", result.at, case)
        if who == "customer":
            self.customer_acts(case, at, "equipment_returned", stages=["active"])
        elif who == "logistics":
            self.when(
                case,
                at,
                lambda c: self.send(c, self.w.now, "logistics", "equipment.returned"),
                ["active"],
            )

    def donor_rejected(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        cause, after = case.fate["cause"], case.fate.get("after")
        if cause in US_FIXES:
            self.backoffice_resubmits(case, {})
            return
        delay = timedelta(hours=case.rng.uniform(6, 48))
        if after == "cancel":
            self.customer_acts(case, result.at + delay, "cancel")
        elif after == "new_number":
            self.customer_acts(case, result.at + delay, "take_new_number", stages=["porting"])
        elif after == "resubmit":
            if cause == "RECH_IDENT":
                self.fix_id(case, result.at + delay)
            else:
                self.customer_acts(case, result.at + delay, "retry_port", stages=["porting"])

    def fix_id(self, case: Case, at: datetime) -> None:
        if case.fate.get("correct") and not case.memo.get("corrected"):
            case.memo["corrected"] = True
            self.customer_acts(
                case, at, "correct_id", {"id_number": people.nif(case.rng)}, stages=["porting"]
            )
            return
        self.customer_acts(
            case,
            at,
            "send_id_document",
            lambda c: {"document": f"doc_dni_{people.token(c.rng, 10)}.jpg"},
            stages=["porting"],
        )

    # -- integration messages ------------------------------------------------------------
    def order_cancelled(self, case: Case, payload: JSON) -> None:
        """The order is withdrawn; if the port was already at the ER it confirms ACAN."""
        reference = case.memo.get("reference")
        if reference is None:
            return
        at = self.w.now + timedelta(minutes=case.rng.uniform(10, 120))
        self.w.later(
            case,
            at,
            lambda c: self.send(
                c,
                self.w.now,
                "er",
                "port.cancelled",
                {"cause": "CANC_ABONA", "er_reference": reference},
            ),
        )

    def backoffice_reviews(self, case: Case, payload: JSON) -> None:
        self.review(
            case,
            payload,
            lambda c: self.backoffice_resubmits(c, {}),
            lambda c: self.fix_id(c, self.w.now + timedelta(hours=c.rng.uniform(1, 20))),
        )

    def backoffice_resubmits(self, case: Case, payload: JSON) -> None:
        self.when(
            case,
            self.after("er_submit", self.w.now, case),
            lambda c: self.er_accepts(c, self.w.now, resubmitted=True),
            ["porting"],
        )
