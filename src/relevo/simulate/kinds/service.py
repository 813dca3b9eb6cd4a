"""Service requests (faults, complaints, billing claims, requests, questions): the CRM assigns
the case, a mass outage or a technician's visit may be involved, the back office may need
information, and a resolution is proposed, confirmed, reopened or auto-confirmed.

Fates: ``stall`` (never assigned), ``outage``, ``visit`` (None, ok, missed_by_technician,
missed_by_customer), ``rebook``, ``reschedule``, ``info`` (information requested) and
``answers``, ``slow`` (answer after the 15-WD deadline), ``answer`` (confirm, reopen, none),
``escalate``, ``withdraw``, ``unresolvable``, ``survey``, ``call``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from relevo.domain.model import JSON
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.kinds.base import Flow
from relevo.simulate.schedule import Result

TEAMS = {
    "fault": "fixed_faults",
    "complaint": "customer_care",
    "billing_claim": "billing",
    "request": "back_office",
    "question": "customer_care",
}
SUMMARIES = {
    "fault": ("Router sustituido", "Avería reparada en la central", "Configuración corregida"),
    "complaint": ("Te abonamos 20 € en la próxima factura", "Hemos corregido el error"),
    "billing_claim": ("Factura rectificada", "El importe era correcto: te lo explicamos"),
    "request": ("Cambio realizado", "Solicitud tramitada"),
    "question": ("Así se lee tu factura", "Te explicamos tu tarifa"),
}


class ServiceRequest(Flow):
    """A customer's service case, from opening to the satisfaction survey."""

    kind = "service_request"

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        rng = case.rng
        category = forced.get("category") or self.pick(case, "category")
        fault = category == "fault"
        fate: dict[str, Any] = {
            "category": category,
            "stall": self.chance(case, "stall_share"),
            "outage": fault and self.chance(case, "outage_share"),
            "visit": self.pick(case, "visit") if fault else None,
            "rebook": True,
            "far": False,
            "reschedule": self.chance(case, "reschedule_share"),
            "info": self.chance(case, "info_share"),
            "answers": True,
            "slow": self.chance(case, "slow_share"),
            "answer": self.pick(case, "answer"),
            "escalate": self.chance(case, "escalate_share"),
            "withdraw": self.chance(case, "withdraw_share"),
            "unresolvable": self.chance(case, "unresolvable_share"),
            "survey": self.chance(case, "survey_share"),
            "call": self.chance(case, "call_share"),
            "doc_rejected": self.doc_rejected(case),
        }
        if fate["visit"] == "none":
            fate["visit"] = None
        self.settle(case, fate, forced)
        sector = self.pick(case, "sector")
        year = self.local(case.started_at).year
        case.subject = self.w.unique.draw("tracking", lambda: f"SR-{year}-{people.digits(rng, 6)}")
        service = (
            case.customer.phone
            if sector == "telecom"
            else people.cups(rng, rng.choice(people.ELECTRICITY_DISTRIBUTORS))
        )
        case.attributes = {"category": category, "sector": sector, "service_ref": service}

    def begin(self, case: Case) -> None:
        fate = case.fate
        if fate.get("withdraw"):
            self.customer_acts(
                case, case.started_at + timedelta(days=case.rng.uniform(0.2, 5)), "withdraw_request"
            )
        if fate.get("call"):
            self.customer_acts(
                case,
                case.started_at + timedelta(hours=case.rng.uniform(1, 48)),
                "request_call",
                self.call_at,
            )

    def call_at(self, case: Case) -> JSON:
        moment = self.calendar.add_working_days(self.w.now, 1)
        return {"call_at": self.stamp(self.slot(case, moment, (10, 12, 17, 19)))}

    # -- the case ----------------------------------------------------------------------------
    def crm_assigns(self, case: Case, payload: JSON) -> None:
        if case.fate.get("stall"):
            return
        crm_case = self.numbered(case, "crm_case", "CRM-", 7)
        team = TEAMS[case.fate["category"]]
        self.when(
            case,
            self.after("assignment", self.w.now, case),
            lambda c: self.send(
                c,
                self.w.now,
                "crm",
                "case.assigned",
                {"case_id": crm_case, "team": team},
                then=self.assigned,
            ),
            ["received"],
        )

    def assigned(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        fate = case.fate
        if fate.get("escalate"):
            self.customer_acts(
                case,
                result.at + timedelta(days=case.rng.uniform(1, 6)),
                "escalate",
                {"reason": "Sigo sin solución"},
            )
        if fate.get("unresolvable"):
            at = self.after("resolution", result.at, case)
            self.when(
                case,
                at,
                lambda c: self.send(
                    c,
                    self.w.now,
                    "crm",
                    "case.unresolvable",
                    {"reason": c.rng.choice(["Sin cobertura en la zona", "Fuera de garantía"])},
                ),
            )
            return
        if fate.get("info") and not case.memo.get("info_asked"):
            case.memo["info_asked"] = True
            at = self.calendar.add_working_hours(result.at, case.rng.uniform(1, 12))
            what = case.rng.choice(
                ["una foto del router encendido", "una factura", "el número de serie del equipo"]
            )
            self.when(
                case,
                at,
                lambda c: self.send(
                    c,
                    self.w.now,
                    "backoffice",
                    "info.requested",
                    {"what": what},
                    then=self.info_asked,
                ),
            )
            return
        self.work(case, result.at)

    def info_asked(self, case: Case, result: Result) -> None:
        if result.ok and case.fate.get("answers"):
            self.send_information(case, result.at + timedelta(hours=case.rng.uniform(1, 48)))

    def send_information(self, case: Case, at: datetime) -> None:
        self.customer_acts(
            case,
            at,
            "send_information",
            lambda c: {"document": f"adjunto_{people.token(c.rng, 8)}.jpg"},
            stages=["received", "in_progress", "field_visit"],
        )

    def backoffice_reviews(self, case: Case, payload: JSON) -> None:
        self.review(
            case,
            payload,
            lambda c: self.work(c, self.w.now),
            lambda c: self.send_information(c, self.w.now + timedelta(hours=c.rng.uniform(2, 30))),
            with_requirement=False,
        )

    def work(self, case: Case, at: datetime) -> None:
        """The team works the case: an outage, a technician's visit, or straight to an answer."""
        fate = case.fate
        if fate.get("outage") and not case.memo.get("outage_done"):
            case.memo["outage_done"] = True
            restore = at + timedelta(hours=case.rng.uniform(3, 30))
            self.send(
                case, at, "network", "outage.reported", {"estimated_restore": self.stamp(restore)}
            )
            self.when(
                case,
                restore + timedelta(minutes=case.rng.uniform(-60, 180)),
                lambda c: self.send(c, self.w.now, "network", "outage.resolved"),
            )
            self.propose(case, restore + timedelta(hours=case.rng.uniform(1, 8)))
            return
        if fate.get("visit") and not case.memo.get("visit_done"):
            case.memo["visit_done"] = True
            lead = case.rng.randint(4, 8) if fate.get("far") else case.rng.randint(1, 4)
            slot = self.slot(case, self.calendar.add_working_days(at, lead), (8, 12, 16))
            self.book(case, at + timedelta(hours=case.rng.uniform(0.5, 6)), slot)
            return
        if fate.get("quick") and not fate.get("slow"):  # coverage cases answer fast
            self.propose(case, self.calendar.add_working_days(at, case.rng.randint(1, 2)))
            return
        self.propose(
            case, self.after("slow_resolution" if fate.get("slow") else "resolution", at, case)
        )

    def team_works(self, case: Case, payload: JSON) -> None:
        """Reopened: the team proposes again (once)."""
        case.fate["answer"] = "confirm"
        self.propose(case, self.after("resolution", self.w.now, case))

    # -- the visit ---------------------------------------------------------------------------
    def book(self, case: Case, at: datetime, slot: datetime) -> None:
        order = case.memo.get("work_order") or self.numbered(case, "work_order", "WO-", 7)
        case.memo["work_order"] = order
        self.when(
            case,
            at,
            lambda c: self.send(
                c,
                self.w.now,
                "field_service",
                "appointment.booked",
                {"start": self.stamp(slot), "work_order_id": order},
                then=lambda c2, r: self.booked(c2, r, slot),
            ),
        )

    def booked(self, case: Case, result: Result, slot: datetime) -> None:
        if not result.ok:
            return
        if case.fate.get("reschedule") and not case.memo.get("rescheduled"):
            case.memo["rescheduled"] = True
            until = self.calendar.add_working_days(slot, -1)
            at = result.at + (until - result.at) * case.rng.uniform(0.1, 0.6)
            if at > result.at:
                self.customer_acts(
                    case, at, "reschedule_visit", self.new_visit, stages=["field_visit"]
                )
        self.visit_at(case, slot)

    def new_visit(self, case: Case) -> JSON:
        day = self.local(self.calendar.add_working_days(self.w.now, case.rng.randint(2, 6))).date()
        return {
            "new_date": self.working_day_on_or_after(day).isoformat(),
            "slot": case.rng.choice(["morning", "afternoon"]),
        }

    def field_reschedules(self, case: Case, payload: JSON) -> None:
        params = payload.get("params", {})
        day = params.get("new_date")
        if not isinstance(day, str):
            return
        hour = 9 if params.get("slot") == "morning" else 15
        start = self.day_at(self.local(datetime.fromisoformat(day)).date(), hour)

        def confirm(c: Case) -> None:
            self.send(
                c,
                self.w.now,
                "field_service",
                "appointment.rescheduled",
                {"start": self.stamp(start)},
            )
            self.visit_at(c, start)

        self.when(
            case, self.w.now + timedelta(hours=case.rng.uniform(0.5, 6)), confirm, ["field_visit"]
        )

    def visit_at(self, case: Case, slot: datetime) -> None:
        generation = case.memo.get("generation", 0) + 1
        case.memo["generation"] = generation

        def visit(c: Case) -> None:
            if c.memo.get("generation") == generation:
                self.visit(c)

        self.when(case, slot + timedelta(minutes=case.rng.uniform(10, 200)), visit, ["field_visit"])

    def visit(self, case: Case) -> None:
        outcome = case.fate.get("visit") or "ok"
        if case.memo.get("missed"):
            outcome = "ok"
        if outcome == "ok":
            self.send(
                case,
                self.w.now,
                "technician",
                "visit.completed",
                {"outcome": case.rng.choice(["fixed", "router_replaced", "line_repaired"])},
                then=lambda c, r: (
                    self.propose(c, r.at + timedelta(hours=c.rng.uniform(1, 20))) if r.ok else None
                ),
            )
            return
        case.memo["missed"] = True
        by = "technician" if outcome == "missed_by_technician" else "customer"
        self.send(case, self.w.now, "field_service", "appointment.missed", {"by": by})
        if not case.fate.get("rebook", True):
            return
        if by == "technician" and case.rng.random() < 0.5:
            slot = self.slot(case, self.calendar.add_working_days(self.w.now, 1), (8, 12, 16))
            self.book(case, self.w.now + timedelta(hours=case.rng.uniform(1, 6)), slot)
        else:
            self.customer_acts(
                case,
                self.w.now + timedelta(hours=case.rng.uniform(2, 30)),
                "reschedule_visit",
                self.new_visit,
                stages=["field_visit"],
            )

    def crm_escalates(self, case: Case, payload: JSON) -> None:
        self.when(
            case,
            self.after("assignment", self.w.now, case),
            lambda c: self.send(c, self.w.now, "crm", "case.escalated", {"level": "2"}),
        )

    # -- the answer --------------------------------------------------------------------------
    def propose(self, case: Case, at: datetime) -> None:
        summary = case.rng.choice(SUMMARIES[case.fate["category"]])

        def proposal(c: Case) -> None:
            self.send(
                c,
                self.w.now,
                "crm",
                "resolution.proposed",
                {"summary": summary},
                then=self.proposed,
            )

        self.when(case, at, proposal, ["received", "in_progress", "field_visit"])

    def proposed(self, case: Case, result: Result) -> None:
        if not result.ok:
            return
        answer = case.fate.get("answer")
        at = result.at + timedelta(hours=case.rng.uniform(2, 100))
        if answer == "confirm":
            self.customer_acts(
                case, at, "confirm_resolution", stages=["proposed"], then=self.resolved
            )
        elif answer == "reopen" and not case.memo.get("reopened"):
            case.memo["reopened"] = True
            self.customer_acts(
                case, at, "reopen", {"reason": "El problema ha vuelto"}, stages=["proposed"]
            )
        elif case.fate.get("survey"):
            # Auto-confirmed after 7 days; the survey comes after that.
            self.customer_acts(
                case,
                result.at + timedelta(days=case.rng.uniform(7.2, 12)),
                "answer_survey",
                self.survey,
                stages=["resolved"],
            )

    def resolved(self, case: Case, result: Result) -> None:
        if result.ok and case.fate.get("survey"):
            self.customer_acts(
                case,
                result.at + timedelta(hours=case.rng.uniform(1, 96)),
                "answer_survey",
                self.survey,
                stages=["resolved"],
            )

    def survey(self, case: Case) -> JSON:
        return {"score": case.rng.choices(["1", "2", "3", "4", "5"], [1, 1, 2, 4, 5])[0]}
