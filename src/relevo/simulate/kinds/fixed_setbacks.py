"""Fixed port-in, version 2 paths: the wholesale order that fails and is placed again, and
the customer who moves the port window (the ER confirms the new one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from relevo.domain.model import JSON
from relevo.simulate.case import Case
from relevo.simulate.kinds.fixed_router import RouterDelivery
from relevo.simulate.schedule import Result


class FixedSetbacks(RouterDelivery):
    """The wholesale and port-window parts of ``FixedPortIn``."""

    def confirmed(self, case: Case, result: Result) -> None:
        raise NotImplementedError

    def wholesale_fails(self, case: Case, at: datetime, then: Callable[[Case], None]) -> None:
        """The wholesale access order fails after it was accepted; provisioning orders it
        again and the booking goes on (``then``) once the new order is accepted."""
        reason = self.pick(case, "wholesale_failures")
        failed = at + timedelta(hours=case.rng.uniform(2, 30))
        self.emit_at(
            case, failed, "wholesale", "wholesale.order_failed", {"reason": reason},
            stages=["booking"],
        )  # fmt: skip

        def reissued(c: Case) -> None:
            self.send(c, self.w.now, "wholesale", "wholesale.order_reissued")
            then(c)

        self.when(case, self.after("wholesale_reorder", failed, case), reissued, ["booking"])

    def postpones_port(self, case: Case, registered_at: datetime) -> None:
        """The customer moves the port to a later working day, before the cut-off (19:00 of
        the working day before the window)."""
        window: datetime = case.memo["window"]
        until = self.calendar.at_time(self.calendar.add_working_days(window, -1), time(19, 0))
        if until - registered_at < timedelta(hours=1):
            return
        at = registered_at + (until - registered_at) * case.rng.uniform(0.05, 0.5)
        self.customer_acts(case, at, "postpone_port", self.port_date, stages=["porting"])

    def port_date(self, case: Case) -> JSON:
        window: datetime = case.memo["window"]
        day = self.calendar.add_working_days(window, case.rng.randint(2, 5))
        return {"new_date": self.local(day).date().isoformat()}

    def er_reschedules(self, case: Case, payload: JSON) -> None:
        """The ER confirms the window the customer asked for (``er.window_changed``)."""
        new = payload.get("params", {}).get("new_date")
        if not isinstance(new, str):
            return
        day = self.local(datetime.fromisoformat(new)).date()  # a stamp at 08:00 local
        window = self.day_at(day, 8)

        def answer(c: Case) -> None:
            c.memo["window"] = window
            c.memo["port_generation"] = c.memo.get("port_generation", 0) + 1
            self.send(
                c,
                self.w.now,
                "er",
                "er.window_changed",
                {"window": day.isoformat()},
                then=self.window_moved,
            )

        self.when(
            case, self.w.now + timedelta(minutes=case.rng.uniform(20, 120)), answer, ["porting"]
        )

    def window_moved(self, case: Case, result: Result) -> None:
        """A donor who confirmed already hands over on the new window."""
        if result.ok and case.memo.get("donor_confirmed"):
            self.confirmed(case, result)
