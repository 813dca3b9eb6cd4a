"""Mobile number port-out (rules.md §1, donor side): the central node's request for one of
our lines, our portability desk's answer, the window, billing and the final invoice.

Fates: ``path`` (completed, rejected, nc_timeout, cancelled, failed), our rejection
``cause``, the NC's ``cancel_cause``, ``unrequested`` (the customer reports a port they did
not ask for and we request the donor cancellation), ``rescheduled`` (the receiving operator
moves the window), ``stalled`` (not executed by the deadline), ``bill_late`` (the final
invoice after our own deadline), ``refund`` (a prepaid customer asks for the balance).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.draws import pick
from relevo.simulate.kinds.base import Flow
from relevo.simulate.schedule import Result

RECIPIENTS = {
    "Movistar": 0.22, "Vodafone": 0.18, "Orange": 0.18, "Digi": 0.18, "Yoigo": 0.08,
    "MásMóvil": 0.06, "Lowi": 0.05, "Pepephone": 0.05,
}  # fmt: skip
#: The central node's working hours (rules.md §1.4 step 3).
NC_OPENS, NC_CLOSES = 8, 20


class MobilePortOut(Flow):
    """Spanish mobile port-out, donor side."""

    kind = "mobile_port_out"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        fate: dict[str, Any] = {
            "path": self.pick(case, "outcomes"),
            "cause": self.pick(case, "rejection_causes"),
            "cancel_cause": self.pick(case, "cancel_causes"),
            "unrequested": self.chance(case, "unrequested_share"),
            "rescheduled": self.chance(case, "rescheduled_share"),
            "stalled": self.chance(case, "stalled_share"),
            "bill_late": self.chance(case, "bill_late_share"),
            "refund": self.chance(case, "refund_share"),
        }
        self.settle(case, fate, forced)
        prepaid = fate["cause"] == "RECH_ICCID" or self.chance(case, "prepaid_share")
        window = self.calendar.at_time(
            self.calendar.add_working_days(case.started_at, 2), time(2, 0)
        )
        case.memo["window"] = window
        case.subject = self.w.unique.draw("msisdn", lambda: people.msisdn(rng))
        case.keys = {"billing_account": self.numbered(case, "billing_account", "BA-", 9)}
        case.attributes = {
            "modality": "prepaid" if prepaid else "postpaid",
            "recipient_operator": pick(rng, RECIPIENTS),
            "window": self.stamp(window),
            "nc_reference": self.w.unique.draw("nc_reference", lambda: people.digits(rng, 23)),
        }

    def start_moment(self, case: Case, earliest: datetime, latest: datetime) -> datetime:
        """The NC forwards requests in its working hours (08:00–20:00 on working days)."""
        moment = earliest + (latest - earliest) * case.rng.random()
        local = self.local(moment)
        day = local.date()
        if self.calendar.is_working_day(day) and NC_OPENS <= local.hour < NC_CLOSES:
            return moment
        if local.hour >= NC_CLOSES or not self.calendar.is_working_day(day):
            day += timedelta(days=1)
        opened = self.day_at(self.working_day_on_or_after(day), NC_OPENS)
        opened += timedelta(minutes=case.rng.uniform(0, 240))
        return opened if opened < latest else moment

    # -- the story ---------------------------------------------------------------------------
    def begin(self, case: Case) -> None:
        fate = case.fate
        if fate.get("unrequested"):
            self.customer_acts(
                case,
                case.started_at + timedelta(minutes=case.rng.uniform(20, 300)),
                "report_unrequested",
                {"details": "No he pedido ningún cambio de compañía."},
                stages=["validating"],
            )
            return
        if fate["path"] == "nc_timeout":
            deadline = self.calendar.at_time(
                self.calendar.add_working_days(case.memo["window"], -1), time(14, 0)
            )
            at = deadline + timedelta(minutes=case.rng.uniform(2, 40))
            self.emit_at(case, at, "nc", "nc.timeout", stages=["validating"])
            return
        self.when(case, self.after("desk_answer", case.started_at, case), self.answer)

    def answer(self, case: Case) -> None:
        """The portability desk confirms, or rejects with a cause of the closed list."""
        if case.fate["path"] == "rejected":
            data: JSON = {
                "cause": case.fate["cause"],
                "evidence": f"EV-{people.digits(case.rng, 10)}",
            }
            self.send(case, self.w.now, "portability_desk", "port_out.rejected", data)
            return
        self.send(case, self.w.now, "portability_desk", "port_out.confirmed", then=self.confirmed)

    def confirmed(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        fate = case.fate
        window: datetime = case.memo["window"]
        cancel_until = self.calendar.at_time(self.calendar.add_working_days(window, -1), time(14))
        if fate["path"] == "cancelled":
            at = result.at + (cancel_until - result.at) * case.rng.uniform(0.1, 0.9)
            data: JSON = {"cause": fate["cancel_cause"]}
            self.emit_at(case, at, "nc", "nc.cancelled", data, stages=["confirmed"])
            return
        if fate.get("refund") and case.attributes["modality"] == "prepaid":
            self.customer_acts(
                case,
                result.at + timedelta(hours=case.rng.uniform(1, 30)),
                "request_balance_refund",
                {"iban": case.customer.iban},
                stages=["confirmed", "porting", "closing"],
            )
        if fate.get("rescheduled") and not case.memo.get("rescheduled"):
            case.memo["rescheduled"] = True
            window = self.calendar.at_time(self.calendar.add_working_days(window, 2), time(2))
            case.memo["window"] = window
            at = result.at + (cancel_until - result.at) * case.rng.uniform(0.1, 0.6)
            data = {"window": self.stamp(window)}
            self.emit_at(case, at, "nc", "nc.window_changed", data, stages=["confirmed"])
        self.plan_window(case)

    def plan_window(self, case: Case) -> None:
        """The NC reports the port's result after the window (late when ``stalled``)."""
        fate = case.fate
        window: datetime = case.memo["window"]
        if fate["path"] == "failed":
            at = window + timedelta(minutes=case.rng.uniform(150, 230))
            reason = case.rng.choice(["routing_not_updated_in_window", "recipient_sim_failed"])
            event, data = "port.failed", {"reason": reason}
        else:
            at = window + timedelta(minutes=case.rng.uniform(140, 235))
            if fate.get("stalled"):
                deadline = self.calendar.add_working_days(window, 1)
                at = self.calendar.at_time(deadline, time(20)) + timedelta(
                    minutes=case.rng.uniform(60, 20 * 60)
                )
            event, data = "port.executed", {}

        def report(c: Case) -> None:
            # A window moved after this plan was made: the plan of the new window reports.
            if c.memo["window"] == window:
                self.send(c, self.w.now, "nc", event, data, then=self.ported)

        self.when(case, at, report, ["confirmed", "porting"])

    def ported(self, case: Case, result: Result) -> None:
        if not result.ok or self.stage(case) != "closing":
            return
        window: datetime = case.memo["window"]
        if case.fate.get("bill_late"):
            at = window + timedelta(days=case.rng.uniform(31, 40))
        else:
            at = self.after("final_bill", result.at, case)
        amount = f"{case.rng.uniform(0, 45):.2f}"
        self.emit_at(
            case, at, "billing", "final_invoice.issued", {"amount": amount}, stages=["closing"]
        )

    # -- answers to relevo's integration messages -------------------------------------------
    def billing_stops(self, case: Case, payload: JSON) -> None:
        """Billing confirms it stopped charging as of the port day."""
        at = self.w.now + timedelta(hours=case.rng.uniform(1, 20))
        self.emit_at(case, at, "billing", "billing.stopped", stages=["closing"])

    def donor_cancels(self, case: Case, payload: JSON) -> None:
        """The fraud desk confirms with the holder and requests the donor-initiated
        cancellation with their statement; the NC cancels."""
        at = self.calendar.add_working_hours(self.w.now, case.rng.uniform(0.5, 3))
        data: JSON = {"cause": "CANC_ABONA", "initiated_by_donor": True}
        self.emit_at(case, at, "nc", "nc.cancelled", data, stages=["validating", "confirmed"])
