"""Move home: the distributor's field work for the new supply."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from relevo.domain.model import JSON
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow


class MoveFieldWork(Flow):
    """The field-work part of ``MoveHome``."""

    # -- what the kind's flow provides -------------------------------------------------------
    def plan_activation(self, case: Case) -> None:
        raise NotImplementedError

    def visit_slot(self, case: Case) -> JSON | None:
        move_in: date = case.memo["move_in"]
        earliest = self.calendar.add_working_days(self.w.now, 1) + timedelta(hours=2)
        latest = self.day_at(move_in, 0)  # the control allows visits before that day
        if earliest >= latest:
            earliest = self.w.now + timedelta(days=1)
        slot = self.slot(case, earliest, (9, 12, 16))
        if slot > latest:
            return None
        return {"slot": self.stamp(slot)}

    def distributor_dispatches(self, case: Case, payload: JSON) -> None:
        asked = payload.get("params", {}).get("slot")
        if not isinstance(asked, str):
            return
        slot = datetime.fromisoformat(asked)
        self.when(
            case,
            self.w.now + timedelta(hours=case.rng.uniform(1, 8)),
            lambda c: self.send(
                c, self.w.now, "distributor", "field.dispatched", {"appointment": asked}
            ),
            ["new_address"],
        )

        def visit(c: Case) -> None:
            if c.fate.get("incidence") == "01" and not c.memo.get("absent_done"):
                c.memo["absent_done"] = True
                self.send(c, self.w.now, "technician", "field.incidence", {"code": "01"})
                if c.fate.get("rebook", True):
                    self.customer_acts(
                        c,
                        self.w.now + timedelta(hours=c.rng.uniform(2, 30)),
                        "book_field_visit",
                        self.visit_slot,
                        stages=["new_address"],
                    )
                return
            self.plan_activation(c)

        self.when(case, slot + timedelta(minutes=case.rng.uniform(20, 180)), visit, ["new_address"])
