"""Billing-data change (rules.md §6): a new billing address, IBAN or holder data — validated
by the back office, applied in the CRM (and at the distributor with an M1 for energy), and
checked on the next bill.

Fates: ``invalid`` (the new data fail validation first), ``m1_code`` (G1 / 55 rejection by
the distributor), ``mandate_rejected``, ``slow`` (applied after the 5-WD deadline),
``old_data`` (the next bill still shows the old data), ``reports`` (the customer complains
of old data first), ``cancel``, ``idle`` (the customer never does their part),
``early_apply`` (a holder change applied before the outgoing holder's consent, v2).

Version 2: billing announces the next bill with its cut-off and the bill after, so a change
not applied by the cut-off is told to miss the next bill; an agent records the root cause of
every fix task from the definition's closed list.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow
from relevo.simulate.schedule import Result

#: Changes that also go to the distributor as an M1 for energy (rules.md §6).
M1_CHANGES = ("billing_address", "holder_data", "holder_change")
#: Why a fix was needed, as the simulated agent sees it (codes of the fix task, v2).
ROOT_CAUSES = {
    "OLD_DATA_ON_BILL": ("not_entered", "entered_wrong", "systems_out_of_sync"),
    "OLD_DATA_REPORTED": ("not_entered", "bill_already_cut", "customer_data_wrong"),
    "CONSENT_MISSING": ("wrong_process",),
}


class BillingDataChange(Flow):
    """Billing address, IBAN or holder change, checked on the next bill."""

    kind = "billing_data_change"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        sector = forced.get("sector") or self.pick(case, "sector")
        change = forced.get("change") or self.pick(
            case, "change_type", None if sector == "energy" else ("billing_address", "iban")
        )
        fate: dict[str, Any] = {
            "sector": sector,
            "change": change,
            "invalid": self.chance(case, "invalid_share"),
            "m1_code": None,
            "mandate_rejected": self.chance(case, "mandate_rejected_share"),
            "slow": self.chance(case, "slow_share"),
            "old_data": self.chance(case, "old_data_share"),
            "reports": self.chance(case, "report_share"),
            "cancel": self.chance(case, "cancel_share"),
            "idle": False,
            "doc_rejected": False,  # the definition has no document.rejected
            "early_apply": False,
        }
        m1 = sector == "energy" and change in M1_CHANGES
        if m1 and self.chance(case, "m1_rejected_share"):
            fate["m1_code"] = self.pick(case, "m1_codes")
        self.settle(case, fate, forced)
        if fate["change"] not in ("billing_address", "iban"):
            fate["invalid"] = False
        customer = case.customer
        prefix = "ENE" if sector == "energy" else "TEL"
        case.subject = self.w.unique.draw("contract", lambda: f"{prefix}-{people.digits(rng, 8)}")
        case.keys = {
            "crm_order_id": self.order_id(case),
            "billing_account": self.numbered(case, "account", "BA", 9),
        }
        if sector == "energy":
            distributor = rng.choice(people.ELECTRICITY_DISTRIBUTORS)
            case.keys["cups"] = self.w.unique.draw("cups", lambda: people.cups(rng, distributor))
        attributes: JSON = {
            "sector": sector,
            "change_type": change,
            "installation_address": customer.address,
            "requested_via": self.pick(case, "requested_via"),
        }
        self.new_data(case, change, fate["invalid"], attributes)
        case.attributes = attributes

    def new_data(self, case: Case, change: str, invalid: bool, attributes: JSON) -> None:
        """The old and new values of the change in ``attributes``, and the new ones in
        ``case.memo["new"]`` (an invalid address or IBAN when ``invalid``)."""
        rng, customer = case.rng, case.customer
        if change == "billing_address":
            moved = rng.random() < 0.7
            town, postcode = people.city(rng, customer.timezone is not None)
            new = (
                people.address(rng, town, postcode)
                if moved
                else people.address(rng, customer.city, customer.postcode)
            )
            if invalid:
                new = new.split(",")[0]  # no postcode or town: fails validation
            attributes.update(old_billing_address=customer.address, new_billing_address=new)
            case.memo["new"] = {"billing_address": new}
        elif change == "iban":
            new_iban = people.iban(rng)
            if invalid:
                new_iban = new_iban[:-1] + str((int(new_iban[-1]) + 1) % 10)
            attributes.update(old_iban=customer.iban, new_iban=new_iban)
            case.memo["new"] = {"iban": new_iban}
        else:
            if change == "holder_change":
                attributes["holder_change_mode"] = rng.choice(["transfer", "subrogation"])
            name = people.person(rng, customer.language == "en")
            holder = people.nif(rng)
            attributes.update(
                old_holder_name=customer.name,
                old_holder_id=customer.id_number,
                new_holder_name=name,
                new_holder_id=holder,
            )
            case.memo["new"] = {"holder_id": holder, "holder_name": name}

    def begin(self, case: Case) -> None:
        days = case.fate.get("bill_days")
        bill_at = (
            case.started_at + timedelta(days=float(days))
            if days is not None
            else self.after("next_bill", case.started_at, case)
        )
        bill_day = self.working_day_on_or_after(self.local(bill_at).date())
        case.memo["bill_day"] = bill_day
        self.send(
            case,
            self.after("bill_notice", case.started_at, case),
            "billing",
            "bill.scheduled",
            {
                "date": bill_day.isoformat(),
                # The bill is prepared two working days before it is issued (assumption).
                "cutoff": self.stamp(self.calendar.add_working_days(self.day_at(bill_day, 18), -2)),
                "following": (bill_day + timedelta(days=30)).isoformat(),
            },
        )
        if case.fate.get("cancel"):
            at = case.started_at + timedelta(hours=case.rng.uniform(2, 60))
            self.customer_acts(case, at, "cancel", stages=["requested", "updating"])
        self.validate(case)
        self.plan_bill(case)

    def validate(self, case: Case) -> None:
        at = self.after("validation", self.w.now, case)
        fate = case.fate
        if fate.get("invalid") and not case.memo.get("invalid_done"):
            case.memo["invalid_done"] = True
            cause = "ADDRESS_INVALID" if fate["change"] == "billing_address" else "IBAN_INVALID"
            self.when(
                case,
                at,
                lambda c: self.send(
                    c,
                    self.w.now,
                    "backoffice",
                    "request.invalid",
                    {"cause": cause},
                    then=self.invalid,
                ),
                ["requested"],
            )
            return
        self.when(
            case,
            at,
            lambda c: self.send(
                c, self.w.now, "backoffice", "request.validated", then=self.validated
            ),
            ["requested"],
        )

    def invalid(self, case: Case, result: Result) -> None:
        if not result.ok or case.fate.get("idle"):
            return
        at = result.at + timedelta(hours=case.rng.uniform(1, 48))
        if case.fate["change"] == "billing_address":
            address = case.customer.address
            case.memo["new"] = {"billing_address": address}
            self.customer_acts(
                case, at, "correct_address", {"address": address}, stages=["requested"]
            )
        else:
            iban = people.iban(case.rng)
            case.memo["new"] = {"iban": iban}
            self.customer_acts(case, at, "correct_iban", {"iban": iban}, stages=["requested"])

    def validated(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        fate = case.fate
        at = result.at + timedelta(hours=case.rng.uniform(0.2, 30))
        if fate["change"] == "iban" and not fate.get("idle"):
            self.customer_acts(
                case, at, "sign_mandate", self.mandate, stages=["updating", "awaiting_bill"]
            )
        elif fate["change"] == "holder_change" and not fate.get("idle"):
            self.customer_acts(
                case,
                at,
                "send_id_document",
                lambda c: {"document": f"dni_{people.token(c.rng, 8)}.jpg"},
                stages=["updating"],
            )
            # Applied too early, the consent arrives only days later.
            wait = (72, 120) if fate.get("early_apply") else (1, 48)
            self.customer_acts(
                case,
                at + timedelta(hours=case.rng.uniform(*wait)),
                "send_outgoing_consent",
                lambda c: {"document": f"consentimiento_{people.token(c.rng, 8)}.pdf"},
                stages=["updating"],
            )
        elif fate["change"] == "holder_data" and not fate.get("idle"):
            self.customer_acts(
                case,
                at,
                "send_id_document",
                lambda c: {"document": f"dni_{people.token(c.rng, 8)}.jpg"},
                stages=["updating"],
            )
        elif fate["change"] == "billing_address":
            state = self.state(case)
            if state is not None and "final_bill_destination" in state.requirements:
                self.customer_acts(
                    case,
                    at,
                    "choose_final_bill_address",
                    {"to": case.rng.choice(["billing_address", "installation_address", "email"])},
                )
        if fate.get("reports"):
            self.customer_acts(
                case,
                at + timedelta(days=case.rng.uniform(1, 4)),
                "report_old_data",
                stages=["updating", "awaiting_bill"],
            )
        # A holder change is applied once the outgoing holder's consent is accepted (see
        # backoffice_reviews), unless the fate applies it too early.
        if fate.get("early_apply"):
            self.apply(case, result.at, early=True)
        elif fate["change"] != "holder_change":
            self.apply(case, result.at)
        if fate["sector"] == "energy" and fate["change"] in M1_CHANGES:
            self.when(
                case,
                self.after("distributor_answer", result.at, case),
                self.distributor,
                ["updating"],
            )

    def apply(self, case: Case, after: datetime, *, early: bool = False) -> None:
        """The CRM applies the change (late when the fate says ``slow``; within hours when
        ``early``, before a holder change's consent)."""
        if early:
            applied = after + timedelta(hours=case.rng.uniform(2, 8))
        else:
            applied = self.after("slow_apply" if case.fate.get("slow") else "apply", after, case)
        self.when(
            case,
            applied,
            lambda c: self.send(c, self.w.now, "crm", "change.applied", then=self.fix_needed),
            ["updating"],
        )

    def fix_needed(self, case: Case, result: Result) -> None:
        """An agent records why a fix task was opened, from the closed list (v2)."""
        if not result.ok:
            return
        for incident, causes in ROOT_CAUSES.items():
            if incident in self.open_incidents(case) and not case.memo.get(f"cause_{incident}"):
                case.memo[f"cause_{incident}"] = True
                self.act(
                    case,
                    self.w.now + timedelta(hours=case.rng.uniform(1, 20)),
                    "record_root_cause",
                    {"cause": case.rng.choice(causes)},
                    agent=True,
                )

    def mandate(self, case: Case) -> JSON:
        return {"document": f"sepa_{people.token(case.rng, 8)}.pdf"}

    def distributor(self, case: Case) -> None:
        code = case.fate.get("m1_code")
        if code and not case.memo.get("m1_rejected"):
            case.memo["m1_rejected"] = True
            self.send(
                case,
                self.w.now,
                "distributor",
                "distributor.rejected",
                {"code": code},
                then=self.m1_rejected,
            )
            return
        self.send(case, self.w.now, "distributor", "distributor.accepted")

    def m1_rejected(self, case: Case, result: Result) -> None:
        if not result.ok or case.fate.get("idle"):
            return
        at = result.at + timedelta(hours=case.rng.uniform(2, 48))
        if case.fate["m1_code"] == "G1":
            self.customer_acts(
                case,
                at,
                "choose_holder_change",
                {"mode": case.rng.choice(["transfer", "subrogation"])},
                stages=["updating"],
            )
        else:
            holder = people.nif(case.rng)
            case.memo["new"] = {**case.memo["new"], "holder_id": holder}
            self.customer_acts(
                case, at, "correct_holder_id", {"holder_id": holder}, stages=["updating"]
            )

    def plan_bill(self, case: Case) -> None:
        """The next bill, on the announced day: with the new data, or (a share) the old."""
        at = self.day_at(case.memo["bill_day"], 6) + timedelta(minutes=case.rng.uniform(0, 180))

        def bill(c: Case) -> None:
            stale = bool(c.fate.get("old_data")) and not c.memo.get("stale_done")
            state = self.state(c)
            if state is not None and state.stage != "awaiting_bill":
                stale = True  # the change was not applied in time: the bill shows old data
            c.memo["stale_done"] = True
            data: JSON = {"bill_id": self.numbered(c, "bill", "F", 10)}
            data.update(self.printed(c, stale))
            self.send(c, self.w.now, "billing", "bill.issued", data, then=self.fix_needed)
            if stale:
                # The fixed bill is reissued once the data are right.
                self.when(c, self.after("reissue", self.w.now, c), self.reissue)

        self.when(case, at, bill)

    def reissue(self, case: Case) -> None:
        state = self.state(case)
        if state is not None and state.stage in ("requested", "updating"):
            self.when(case, self.after("reissue", self.w.now, case), self.reissue)
            return
        data: JSON = {"bill_id": self.numbered(case, "bill", "F", 10)}
        data.update(self.printed(case, False))
        self.send(case, self.w.now, "billing", "bill.issued", data)

    def printed(self, case: Case, stale: bool) -> JSON:
        attributes = case.attributes
        if stale:
            change = case.fate["change"]
            if change == "billing_address":
                return {"billing_address": attributes["old_billing_address"]}
            if change == "iban":
                return {"iban": attributes["old_iban"]}
            return {
                "holder_id": attributes["old_holder_id"],
                "holder_name": attributes["old_holder_name"],
            }
        return dict(case.memo["new"])

    # -- integration messages ----------------------------------------------------------------
    def backoffice_validates(self, case: Case, payload: JSON) -> None:
        if self.stage(case) == "requested":
            self.validate(case)
        elif case.memo.get("m1_rejected"):
            self.backoffice_resends_m1(case, payload)

    def backoffice_resends_m1(self, case: Case, payload: JSON) -> None:
        request = self.w.unique.draw("m1", lambda: f"M1-{people.digits(case.rng, 9)}")

        def resend(c: Case) -> None:
            self.send(c, self.w.now, "retailer", "m1.resubmitted", {"request_id": request})
            self.when(
                c, self.after("distributor_answer", self.w.now, c), self.distributor, ["updating"]
            )

        self.when(case, self.after("validation", self.w.now, case), resend, ["updating"])

    def bank_answers(self, case: Case, payload: JSON) -> None:
        reject = bool(case.fate.get("mandate_rejected")) and not case.memo.get("mandate_done")
        case.memo["mandate_done"] = True

        def answer(c: Case) -> None:
            if reject:
                self.send(
                    c,
                    self.w.now,
                    "bank",
                    "mandate.rejected",
                    {"reason": c.rng.choice(["unsigned", "signature_mismatch"])},
                )
                self.customer_acts(
                    c,
                    self.w.now + timedelta(hours=c.rng.uniform(2, 30)),
                    "sign_mandate",
                    self.mandate,
                    stages=["updating", "awaiting_bill"],
                )
            else:
                self.send(c, self.w.now, "bank", "mandate.accepted")

        self.when(case, self.after("mandate_check", self.w.now, case), answer)

    def backoffice_reviews(self, case: Case, payload: JSON) -> None:
        def accepted(c: Case) -> None:
            if self.requirement_of(payload) == "outgoing_consent":
                self.apply(c, self.w.now)

        self.review(case, payload, accepted)
