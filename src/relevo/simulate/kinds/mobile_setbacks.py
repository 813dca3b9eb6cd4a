"""Mobile port-in, version 2 paths: a SIM that arrives late (SIM_NOT_DELIVERED and the
postponement it proposes), a central-node cancellation the customer did not ask for, and
the way back within the withdrawal period (``go_back`` → ``port_back.completed``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from relevo.domain.model import JSON
from relevo.simulate.case import Case
from relevo.simulate.kinds.mobile_parties import MobileParties
from relevo.simulate.schedule import Result

#: Causes of a cancellation nobody on our side asked for (rules.md §1.5, ACAN causaEstado).
UNASKED = {"CANC_TECNI": "nc", "CANC_ERROR": "nc", "donor": "donor"}


class MobileSetbacks(MobileParties):
    """The version 2 parts of ``MobilePortIn``."""

    def new_date(self, case: Case) -> JSON | None:
        raise NotImplementedError

    def cancel_until(self, window: datetime) -> datetime:
        raise NotImplementedError

    def late_delivery(self, case: Case, planned: datetime) -> datetime:
        """When the courier really delivers: as planned, or (fate ``sim_late``) a day or two
        after the window the plan was made for, once the window is known."""
        if not case.fate.get("sim_late"):
            return planned
        window: datetime = case.memo.get("window", planned + timedelta(days=2))
        late = max(planned, window) + timedelta(hours=case.rng.uniform(8, 40))
        return self.w.open_at("courier", late, case)

    def sim_late_answer(self, case: Case, registered_at: datetime) -> None:
        """The SIM_NOT_DELIVERED incident opens two hours before the cut-off; most customers
        follow its advice and postpone, the others let the window go ahead."""
        if not case.fate.get("sim_late") or not self.chance(case, "sim_late_postpones_share"):
            return
        until = self.cancel_until(case.memo["window"])
        at = max(registered_at, until - timedelta(hours=2)) + timedelta(
            minutes=case.rng.uniform(10, 100)
        )
        self.customer_acts(
            case,
            at,
            "postpone",
            self.new_date,
            stages=["donor_check", "scheduled"],
            incident="SIM_NOT_DELIVERED",
        )

    def unasked_cancel(self, case: Case, registered_at: datetime) -> None:
        """The central node (technical reason, an operator's error) or the donor cancels the
        port between its registration and the window."""
        cause = case.fate.get("cancel_cause", "CANC_TECNI")
        window: datetime = case.memo["window"]
        at = registered_at + (window - registered_at) * case.rng.uniform(0.1, 0.6)
        data: JSON = {"cause": "CANC_ABONA" if cause == "donor" else cause}
        if cause == "donor":
            data["initiated_by_donor"] = True
        data["nc_reference"] = case.memo["reference"]
        self.emit_at(
            case, at, UNASKED[cause], "nc.cancelled", data,
            stages=["requested", "donor_check", "scheduled"],
        )  # fmt: skip

    def ported(self, case: Case, result: Result) -> None:
        """The number is with us; a few customers withdraw within the 14 days and go back."""
        if not result.ok or not case.fate.get("goes_back"):
            return
        days = case.rng.uniform(0.5, 6)  # remorse comes early (assumption)
        self.customer_acts(case, result.at + timedelta(days=days), "go_back", stages=["active"])

    def nc_ports_back(self, case: Case, payload: JSON) -> None:
        """After a withdrawal the customer asks the previous provider for the port; it runs
        as any mobile port (rules.md §1.4) and the number leaves us."""
        if case.fate.get("back_pending"):
            return  # the customer has not asked the previous provider yet
        asked = self.after("port_back_request", self.w.now, case)
        done = self.calendar.at_time(self.calendar.add_working_days(asked, 2), time(6, 0))
        self.emit_at(
            case,
            done - timedelta(minutes=case.rng.uniform(10, 200)),
            "nc",
            "port_back.completed",
            stages=["going_back"],
        )
