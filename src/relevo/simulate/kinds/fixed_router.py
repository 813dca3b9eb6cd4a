"""Fixed port-in: the new router, shipped and delivered by courier (or redelivered)."""

from __future__ import annotations

from datetime import datetime, timedelta

from relevo.domain.model import JSON
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow


class RouterDelivery(Flow):
    """The router part of ``FixedPortIn``."""

    def router(self, case: Case, at: datetime) -> None:
        shipped = self.w.open_at("courier", self.after("router_ship", at, case), case)
        tracking = self.numbered(case, "tracking", "RT", 10)

        def ship(c: Case) -> None:
            self.send(c, self.w.now, "courier", "router.shipped", {"tracking": tracking})
            arrive = self.w.open_at("courier", self.after("router_delivery", self.w.now, c), c)
            self.when(c, arrive, self.router_arrives)

        self.when(case, shipped, ship)

    def router_arrives(self, case: Case) -> None:
        if case.fate.get("router_failed") and not case.memo.get("router_failed_done"):
            case.memo["router_failed_done"] = True
            self.send(
                case,
                self.w.now,
                "courier",
                "router.delivery_failed",
                {"reason": case.rng.choice(["absent", "wrong_address"])},
            )
            if case.fate.get("router_rearranged", True):
                self.customer_acts(
                    case,
                    self.w.now + timedelta(hours=case.rng.uniform(2, 30)),
                    "arrange_router_delivery",
                    self.delivery_params,
                    incident="ROUTER_DELIVERY_FAILED",
                )
            return
        self.send(case, self.w.now, "courier", "router.delivered")

    def delivery_params(self, case: Case) -> JSON:
        day = self.local(self.calendar.add_working_days(self.w.now, case.rng.randint(1, 3)))
        return {
            "delivery_date": day.date().isoformat(),
            "where": case.rng.choice(["home", "home", "pickup_point"]),
        }

    def courier_redelivers(self, case: Case, payload: JSON) -> None:
        day = payload.get("params", {}).get("delivery_date")
        at = self.w.now + timedelta(days=1)
        if isinstance(day, str):
            at = max(at, datetime.fromisoformat(day) + timedelta(hours=case.rng.uniform(9, 14)))
        self.when(case, at, lambda c: self.send(c, self.w.now, "courier", "router.delivered"))
