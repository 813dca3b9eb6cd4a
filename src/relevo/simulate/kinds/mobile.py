"""Mobile number port-in (rules.md §1): the central node (NC), the donor operator, the courier
with the new SIM, and the customer who may postpone, cancel or fix a rejection.

Fates: ``path`` (completed, failed, donor_rejected, nc_rejected, cancelled), the rejection
``cause``, what the customer does ``after`` it (resubmit, cancel, wait, new_number),
``postpone``, ``delayed`` (late: activated after the EECC deadline; open: not yet),
``doc_rejected`` (the first document sent is refused), ``correct`` (types the data instead
of sending a picture); version 2: ``sim_late`` (the courier misses the window),
``cancel_cause`` of an ``nc_cancelled`` path, ``postpaid`` (a RECH_ICCID line we recorded as
postpaid), ``goes_back`` (withdraws after the port; ``back_pending``: not ported back yet).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.draws import pick
from relevo.simulate.kinds.mobile_setbacks import MobileSetbacks
from relevo.simulate.schedule import Result

#: Rejections our back office fixes and resubmits without the customer (rules.md §1.5).
US_FIXES = frozenset({"RECH_NORES", "RECH_FMAYO", "ENUME", "FORMA", "CUPO1", "FMAYO"})
DONORS = {
    "Movistar": 0.24, "Vodafone": 0.20, "Orange": 0.20, "Yoigo": 0.08, "Digi": 0.12,
    "MásMóvil": 0.06, "Lowi": 0.04, "Simyo": 0.03, "Pepephone": 0.03,
}  # fmt: skip


class MobilePortIn(MobileSetbacks):
    """Spanish mobile port-in, receiving side."""

    kind = "mobile_port_in"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        fate: dict[str, Any] = {"path": self.pick(case, "outcomes")}
        if fate["path"] == "donor_rejected":
            fate["cause"] = self.pick(case, "donor_causes")
        elif fate["path"] == "nc_rejected":
            fate["cause"] = self.pick(case, "nc_codes")
        elif fate["path"] == "nc_cancelled":
            fate["cancel_cause"] = self.pick(case, "unasked_cancel_causes")
        fate["postpaid"] = self.chance(case, "iccid_postpaid_share")
        fate["sim_late"] = self.chance(case, "sim_late_share")
        fate["goes_back"] = self.chance(case, "go_back_share")
        fate["back_pending"] = False
        if self.chance(case, "resubmitted_share"):
            fate["after"] = "resubmit"
        else:
            fate["after"] = self.pick(case, "after_rejection")
        fate["postpone"] = self.chance(case, "postpone_share")
        fate["delayed"] = None
        if self.chance(case, "delayed_share"):
            fate["delayed"] = "late" if rng.random() < 0.8 else "open"
        fate["doc_rejected"] = self.doc_rejected(case)
        fate["correct"] = self.chance(case, "correct_instead_share")
        self.settle(case, fate, forced)
        if fate["path"] != "completed":
            fate["postpone"] = False
            fate["delayed"] = None
            fate["goes_back"] = False
        if fate.get("after") == "new_number" and fate.get("cause") != "RECH_BNUME":
            fate["after"] = "cancel"
        # RECH_ICCID happens to lines the donor has as prepaid; a share of them were
        # recorded as postpaid at the sale (RECH_ICCID_POSTPAID).
        iccid = fate.get("cause") == "RECH_ICCID"
        prepaid = (iccid and not fate["postpaid"]) or (
            not iccid and self.chance(case, "prepaid_share")
        )
        case.subject = self.w.unique.draw("msisdn", lambda: people.msisdn(rng))
        case.keys = {
            "crm_order_id": self.order_id(case),
            "contract_code": self.w.unique.draw("contract", lambda: f"735{people.digits(rng, 8)}"),
        }
        customer = case.customer
        attributes: JSON = {
            "modality": "prepaid" if prepaid else "postpaid",
            "donor_operator": pick(rng, DONORS),
            "id_type": self.id_type(customer),
            "sales_channel": customer.channel,
        }
        if prepaid:
            attributes["iccid"] = people.iccid(rng)
        case.attributes = attributes

    # -- the story ---------------------------------------------------------------------------
    def begin(self, case: Case) -> None:
        self.sim_logistics(case)
        submitted = self.after("submit", case.started_at, case)
        if case.fate["path"] == "nc_rejected":
            code = case.fate["cause"]
            self.send(
                case,
                submitted,
                "nc",
                "nc.rejected",
                {"code": code, "crm_order_id": case.keys["crm_order_id"]},
                then=self.nc_rejected,
            )
        else:
            self.nc_accepts(case, submitted)

    def sim_logistics(self, case: Case) -> None:
        """The new SIM: handed over in the shop, or shipped and delivered by courier."""
        order = case.keys["crm_order_id"]
        if case.customer.channel == "store":
            self.send(
                case,
                case.started_at + timedelta(minutes=case.rng.uniform(3, 15)),
                "store",
                "sim.delivered",
                {"crm_order_id": order, "where": "store"},
            )
            case.memo["sim_eta"] = case.started_at
            return
        shipped = self.w.open_at("courier", self.after("sim_ship", case.started_at, case), case)
        delivered = self.w.open_at("courier", self.after("sim_delivery", shipped, case), case)
        case.memo["sim_eta"] = delivered  # what the window is planned on
        tracking = f"PQ{people.digits(case.rng, 12)}ES"

        def ship(c: Case) -> None:
            self.send(
                c,
                self.w.now,
                "courier",
                "sim.shipped",
                {"crm_order_id": order, "tracking": tracking},
            )
            self.when(
                c,
                self.late_delivery(c, delivered),
                lambda c2: self.send(
                    c2,
                    self.w.now,
                    "courier",
                    "sim.delivered",
                    {"crm_order_id": order, "tracking": tracking},
                ),
            )

        self.when(case, shipped, ship)

    def window_after(self, case: Case, moment: datetime) -> datetime:
        """02:00 of the second working day after ``moment`` (rules.md §1.4), later if the SIM
        would not be there before the watch on its delivery."""
        window = self.calendar.at_time(self.calendar.add_working_days(moment, 2), time(2, 0))
        eta: datetime = case.memo.get("sim_eta", moment)
        # The SIM must be there before SIM_NOT_DELIVERED is watched (two hours before the
        # cut-off, mobile_port_in v2), so that only a late courier opens it.
        while eta > self.cancel_until(window) - timedelta(hours=2):
            window = self.calendar.at_time(
                self.calendar.add_working_days(window, 1), window.timetz().replace(tzinfo=None)
            )
        return window

    def nc_accepts(self, case: Case, at: datetime, *, resubmitted: bool = False) -> None:
        """The NC registers the request (ASOL) with a reference and a window."""
        window = self.window_after(case, at)
        reference = people.digits(case.rng, 23)
        case.memo.update(reference=reference, window=window)
        kind = "port.resubmitted" if resubmitted else "nc.accepted"
        data = {
            "reference": reference,
            "window": self.stamp(window),
            "crm_order_id": case.keys["crm_order_id"],
        }
        self.send(case, at, "nc", kind, data, then=self.registered)

    def registered(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        fate = case.fate
        window: datetime = case.memo["window"]
        until = self.cancel_until(window)
        if fate["path"] == "nc_cancelled" and not case.memo.get("cancel_tried"):
            case.memo["cancel_tried"] = True
            self.unasked_cancel(case, result.at)
        if not case.memo.get("sim_answered"):
            case.memo["sim_answered"] = True
            self.sim_late_answer(case, result.at)
        if fate["path"] == "cancelled" and not case.memo.get("cancel_tried"):
            case.memo["cancel_tried"] = True
            latest = until - timedelta(hours=1)
            moment = result.at + (latest - result.at) * case.rng.uniform(0.05, 0.9)
            self.customer_acts(case, moment, "cancel")
        if fate.get("postpone") and not case.memo.get("postponed"):
            case.memo["postponed"] = True
            self.customer_acts(
                case,
                result.at + timedelta(minutes=case.rng.uniform(40, 300)),
                "postpone",
                self.new_date,
                stages=["donor_check", "scheduled"],
            )
        rejecting = fate["path"] == "donor_rejected" and not case.memo.get("rejected_once")
        cause = fate.get("cause") if rejecting else None
        if cause == "RECH_NORES":
            # The donor never answers: the NC rejects ex officio after the deadline.
            answer = self.calendar.add_working_days(result.at, 1) + timedelta(
                minutes=case.rng.uniform(5, 70)
            )
        else:
            prepaid = case.attributes.get("modality") == "prepaid"
            answer = self.after(
                "donor_answer_prepaid" if prepaid else "donor_answer", result.at, case
            )
        reference = case.memo["reference"]

        def donor(c: Case) -> None:
            if cause is not None:
                c.memo["rejected_once"] = True
                party = "nc" if cause == "RECH_NORES" else "donor"
                self.send(
                    c,
                    self.w.now,
                    party,
                    "donor.rejected",
                    {"cause": cause, "nc_reference": reference},
                    then=self.donor_rejected,
                )
            else:
                self.send(
                    c,
                    self.w.now,
                    "donor",
                    "donor.confirmed",
                    {"nc_reference": reference},
                    then=self.confirmed,
                )

        self.when(case, answer, donor, ["donor_check"])

    def cancel_until(self, window: datetime) -> datetime:
        return self.calendar.at_time(self.calendar.add_working_days(window, -1), time(14, 0))

    def new_date(self, case: Case) -> JSON | None:
        """A new switch day 2–6 days after the current one, a working day within 30 days."""
        window: datetime = case.memo["window"]
        earliest = self.local(self.calendar.add_working_days(self.w.now, 2)).date()
        day = max(self.local(window).date() + timedelta(days=case.rng.randint(2, 6)), earliest)
        day = self.working_day_on_or_after(day)
        if day > self.local(case.started_at + timedelta(days=30)).date():
            return None
        return {"new_date": day.isoformat()}

    def confirmed(self, case: Case, result: Result) -> None:
        if result.ok:
            self.plan_window(case)

    def plan_window(self, case: Case) -> None:
        """The night of the window: the new SIM comes alive and the NC reports the result."""
        generation = case.memo.get("generation", 0) + 1
        case.memo["generation"] = generation
        window: datetime = case.memo["window"]
        fate = case.fate

        def current(c: Case) -> bool:
            return bool(c.memo.get("generation") == generation)

        def activate(c: Case) -> None:
            if current(c):
                self.send(
                    c,
                    self.w.now,
                    "provisioning",
                    "sim.activated",
                    {"iccid_new": people.iccid(c.rng)},
                )

        self.when(case, window + timedelta(minutes=case.rng.uniform(20, 80)), activate)
        if fate.get("delayed") == "open":
            return
        deadline = self.calendar.at_time(self.calendar.add_working_days(window, 1), time(20, 0))
        if fate["path"] == "failed":
            at = window + timedelta(minutes=case.rng.uniform(150, 230))
            reason = case.rng.choice(["routing_not_updated_in_window", "donor_did_not_release"])
            event, data = "port.failed", {"reason": reason}
        else:
            late = fate.get("delayed") == "late"
            at = (
                deadline + timedelta(minutes=case.rng.uniform(90, 26 * 60))
                if late
                else window + timedelta(minutes=case.rng.uniform(140, 235))
            )
            event, data = "port.executed", {}
        reference = case.memo["reference"]

        def result(c: Case) -> None:
            if current(c):
                self.send(
                    c, self.w.now, "nc", event, {**data, "nc_reference": reference},
                    then=self.ported if event == "port.executed" else None,
                )  # fmt: skip

        self.when(case, at, result, ["scheduled", "porting"])

    # -- rejections --------------------------------------------------------------------------
    def nc_rejected(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        code = case.fate["cause"]
        if code in US_FIXES:
            fix = "nc_quota_retry" if code == "CUPO1" else "backoffice_fix"
            self.when(
                case,
                self.after(fix, result.at, case),
                lambda c: self.nc_accepts(c, self.w.now),
                ["requested"],
            )
            return
        self.customer_decides(case, result.at, "retry_port")

    def donor_rejected(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        cause = case.fate["cause"]
        if cause in US_FIXES:
            self.when(
                case,
                self.after("backoffice_fix", result.at, case),
                lambda c: self.nc_accepts(c, self.w.now, resubmitted=True),
                ["requested"],
            )
            return
        if cause in ("RECH_BNUME", "RECH_PERDI"):
            self.customer_decides(case, result.at, "retry_port")
            return
        after = case.fate.get("after")
        if after != "resubmit":
            self.customer_decides(case, result.at, None)
            return
        self.fix_data(case, result.at + timedelta(minutes=case.rng.uniform(40, 20 * 60)))

    def customer_decides(self, case: Case, at: datetime, retry: str | None) -> None:
        """After a rejection the customer retries, cancels, takes a new number or waits."""
        after = case.fate.get("after")
        delay = timedelta(minutes=case.rng.uniform(18 * 60, 50 * 60))
        if after == "resubmit" and retry is not None:
            self.customer_acts(case, at + delay, retry, stages=["requested"])
        elif after == "cancel":
            self.customer_acts(case, at + delay, "cancel")
        elif after == "new_number":
            self.customer_acts(case, at + delay / 4, "take_new_number", stages=["requested"])

    def fix_data(self, case: Case, at: datetime) -> None:
        """RECH_IDENT / RECH_ICCID: send a picture, or type the right data."""
        ident = case.fate["cause"] == "RECH_IDENT"
        if case.fate.get("correct") and not case.memo.get("corrected"):
            case.memo["corrected"] = True
            if ident:
                self.customer_acts(
                    case,
                    at,
                    "correct_id",
                    {"id_number": people.nif(case.rng)},
                    stages=["requested"],
                )
            else:
                params = {"iccid": people.iccid(case.rng), "modality": "prepaid"}
                self.customer_acts(case, at, "correct_iccid", params, stages=["requested"])
            return
        control = "send_id_document" if ident else "send_sim_photo"
        kind = "dni" if ident else "sim"
        self.customer_acts(
            case,
            at,
            control,
            lambda c: {"document": f"doc_{kind}_{people.token(c.rng, 10)}.jpg"},
            stages=["requested", "donor_check"],
        )
