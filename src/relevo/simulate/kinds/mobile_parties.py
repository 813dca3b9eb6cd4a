"""Mobile port-in: the parties answering relevo's integration messages (NC, back office)."""

from __future__ import annotations

from datetime import datetime, timedelta

from relevo.domain.model import JSON
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow
from relevo.simulate.schedule import Result


class MobileParties(Flow):
    """The answering parties of ``MobilePortIn``."""

    # -- what the kind's flow provides -------------------------------------------------------
    def nc_accepts(self, case: Case, at: datetime, *, resubmitted: bool = False) -> None:
        raise NotImplementedError

    def plan_window(self, case: Case) -> None:
        raise NotImplementedError

    def fix_data(self, case: Case, at: datetime) -> None:
        raise NotImplementedError

    def nc_reschedules(self, case: Case, payload: JSON) -> None:
        """The NC moves the window to the day the customer asked for."""
        new = payload.get("params", {}).get("new_date")
        if not isinstance(new, str):
            return
        window = datetime.fromisoformat(new)
        reference = case.memo.get("reference")

        def answer(c: Case) -> None:
            c.memo["window"] = window
            self.send(
                c,
                self.w.now,
                "nc",
                "nc.window_changed",
                {"window": self.stamp(window), "nc_reference": reference},
                then=self.window_changed,
            )

        self.when(case, self.w.now + timedelta(minutes=case.rng.uniform(10, 80)), answer)

    def window_changed(self, case: Case, result: Result) -> None:
        if result.ok and self.stage(case) == "scheduled":
            self.plan_window(case)

    def nc_cancels(self, case: Case, payload: JSON) -> None:
        """The NC confirms the cancellation (ACAN, CANC_ABONA)."""
        reference = case.memo.get("reference")
        data: JSON = {"cause": "CANC_ABONA"}
        if reference:
            data["nc_reference"] = reference
        at = self.w.now + timedelta(minutes=case.rng.uniform(5, 60))
        self.w.later(case, at, lambda c: self.send(c, self.w.now, "nc", "nc.cancelled", data))

    def backoffice_reviews(self, case: Case, payload: JSON) -> None:
        """A document arrived: reviewed, then the request goes back to the NC if accepted."""

        def accepted(c: Case) -> None:
            self.backoffice_resubmits(c, {})

        def rejected(c: Case) -> None:
            self.fix_data(c, self.w.now + timedelta(minutes=c.rng.uniform(60, 16 * 60)))

        self.review(case, payload, accepted, rejected)

    def backoffice_resubmits(self, case: Case, payload: JSON) -> None:
        """We send the corrected request; the NC answers with a new reference and window."""
        self.when(
            case,
            self.after("backoffice_fix", self.w.now, case),
            lambda c: self.nc_accepts(c, self.w.now, resubmitted=True),
            ["requested"],
        )
