"""Scenario driver for the billing, service-request, offboarding and onboarding definitions.

Like ``helpers.Run``, it drives one process through the pure engine with a clock the test
controls, firing due timers in order as the clock moves; in addition every back-end message
and customer action may name its actor and channel, because checklists record *who* ticked
each item. Assertion helpers for incidents, refusals and outbox contents live here too.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from relevo.domain import engine, validation, view
from relevo.domain.compiled import Compiled, compile_definition
from relevo.domain.engine import Decision
from relevo.domain.errors import ActionRefused
from relevo.domain.model import Action, Event, Message, Outcome, ProcessState, parse_iso

CATALOG = Path(__file__).resolve().parents[2] / "src" / "relevo" / "catalog"
MADRID = ZoneInfo("Europe/Madrid")

_ids = itertools.count(1)


def load(filename: str) -> Compiled:
    """The compiled definition of a catalog file."""
    path = CATALOG / filename
    return compile_definition(validation.parse(path.read_text(encoding="utf-8"), path.name))


def madrid(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Madrid wall-clock moment."""
    return datetime(year, month, day, hour, minute, tzinfo=MADRID)


@dataclass
class Run:
    """One process driven through the engine with a clock the test controls."""

    c: Compiled
    state: ProcessState
    now: datetime
    events: list[Event] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        c: Compiled,
        now: datetime,
        *,
        subject: str,
        attributes: dict[str, Any],
        language: str = "es",
        keys: dict[str, str] | None = None,
        timezone: str | None = None,
    ) -> Run:
        """Start a process at ``now``."""
        state, event = engine.start(
            c,
            process_id=f"proc-{next(_ids)}",
            customer_id="cust-1",
            subject=subject,
            language=language,
            channel="web",
            actor="cust-1",
            attributes=attributes,
            keys=keys or {},
            now=now,
            timezone=timezone,
        )
        return cls(c, state, now, [event])

    # -- inputs ------------------------------------------------------------------------
    def send(
        self,
        event_type: str,
        data: dict[str, Any] | None = None,
        *,
        at: datetime | None = None,
        actor: str = "system",
        channel: str = "backend",
    ) -> Decision:
        """Feed a back-end message at ``at`` (default: now), firing timers due before it."""
        if at is not None:
            self.advance(at)
        message = Message(
            type=event_type,
            data=dict(data or {}),
            occurred_at=self.now,
            source="test-backend",
            id=f"msg-{next(_ids)}",
            actor=actor,
            channel=channel,
        )
        return self._decide(message)

    def act(
        self,
        control: str,
        params: dict[str, Any] | None = None,
        *,
        role: str = "customer",
        at: datetime | None = None,
        actor: str = "cust-1",
    ) -> Event:
        """Use a control; raises ActionRefused like the engine does."""
        if at is not None:
            self.advance(at)
        action = Action(control, dict(params or {}), actor=actor, channel="web", role=role)
        event = engine.decide_action(self.c, self.state, action, self.now)
        engine.apply(self.state, event)
        self.events.append(event)
        return event

    def fire(self, name: str, due: str | None = None) -> Decision:
        """Deliver a ``timer.fired`` message for ``name`` (with its armed due by default)."""
        due = due if due is not None else self.state.timers[name]
        message = Message(
            type=engine.TIMER_FIRED,
            data={"name": name, "due": due},
            occurred_at=self.now,
            source="timer",
            id=f"timer-{next(_ids)}",
        )
        return self._decide(message)

    def advance(self, to: datetime) -> list[Decision]:
        """Move the clock to ``to``, firing every timer due on the way, earliest first."""
        fired: list[Decision] = []
        for _ in range(200):
            due = sorted(
                (parse_iso(when), name)
                for name, when in self.state.timers.items()
                if parse_iso(when) <= to
            )
            if not due:
                break
            moment, name = due[0]
            self.now = max(self.now, moment)
            fired.append(self.fire(name))
        else:  # pragma: no cover - a timer that keeps re-arming itself in the past
            raise AssertionError(f"timers keep falling due before {to}: {self.state.timers}")
        self.now = max(self.now, to)
        return fired

    def _decide(self, message: Message) -> Decision:
        version = self.state.version
        decision = engine.decide(self.c, self.state, message, self.now)
        assert self.state.version == version, "decide must not modify the state"
        for event in decision.events:
            engine.apply(self.state, event)
            self.events.append(event)
        self.decisions.append(decision)
        return decision

    # -- reading -----------------------------------------------------------------------
    def view(self, lang: str = "es", role: str = "customer") -> dict[str, Any]:
        """The status view at the current clock."""
        return view.build_view(self.c, self.state, self.now, lang, role)

    def control(self, control_id: str, lang: str = "es", role: str = "customer") -> dict[str, Any]:
        """One control's row in the status view."""
        return next(row for row in self.view(lang, role)["controls"] if row["id"] == control_id)

    def headline(self, lang: str = "es") -> str:
        """The status view's headline."""
        return str(self.view(lang)["headline"])

    def date(self, name: str) -> datetime:
        """A process date in Madrid time."""
        return parse_iso(self.state.dates[name]["at"]).astimezone(MADRID)

    def timer(self, name: str) -> datetime:
        """An armed timer's due moment in Madrid time."""
        return parse_iso(self.state.timers[name]).astimezone(MADRID)

    def task(self, task_id: str) -> dict[str, Any]:
        """A back-office task of the process."""
        return self.state.tasks[task_id]

    def assert_replay_matches(self) -> None:
        """Folding the log from the start gives the live state, and nothing was lost."""
        rebuilt = engine.replay(self.state.id, self.events)
        assert rebuilt.to_json() == self.state.to_json()
        assert self.state.version == len(self.events)


# -- assertions ------------------------------------------------------------------------------


def accepted(decision: Decision) -> Event:
    """The single event of an accepted decision."""
    assert decision.outcome is Outcome.ACCEPTED, (decision.reason_code, decision.reason)
    assert len(decision.events) == 1
    return decision.events[0]


def ignored(decision: Decision) -> str:
    """The reason code of an ignored message (recorded on the process as a fact)."""
    assert decision.outcome is Outcome.IGNORED, (decision.outcome, decision.reason)
    assert [e.type for e in decision.events] == [engine.IGNORED]
    return decision.reason_code or ""


def topics(event: Event) -> list[str]:
    """The integration topics an event sends (notifications excluded)."""
    return [
        m["topic"]
        for m in event.effects.get("outbox", ())
        if m["topic"] != "notification.requested"
    ]


def templates(event: Event) -> list[str]:
    """The notification templates an event sends."""
    return [
        m["payload"]["template"]
        for m in event.effects.get("outbox", ())
        if m["topic"] == "notification.requested"
    ]


def all_topics(run: Run) -> list[str]:
    """Every integration topic the run sent, in order."""
    return [topic for event in run.events for topic in topics(event)]


def all_templates(run: Run) -> list[str]:
    """Every notification template the run sent, in order."""
    return [template for event in run.events for template in templates(event)]


def refusal(
    run: Run, control: str, params: dict[str, Any] | None = None, *, role: str = "customer"
) -> ActionRefused:
    """The refusal of a control, checking that the state did not change."""
    before = run.state.to_json()
    with pytest.raises(ActionRefused) as error:
        run.act(control, params, role=role)
    assert run.state.to_json() == before
    return error.value


def problem_codes(error: ActionRefused) -> dict[str, str]:
    """``{param: problem code}`` of an invalid_params refusal."""
    assert error.code == "invalid_params"
    return {problem.field: problem.code for problem in error.problems}


def allowed_controls(run: Run, role: str = "customer") -> set[str]:
    """The controls the view offers as allowed right now."""
    return {row["id"] for row in run.view("es", role)["controls"] if row["allowed"]}


def assert_incident_view(run: Run, code: str) -> None:
    """The open incident shows its three texts in both languages, and its options work."""
    incident = run.c.definition.incidents[code]
    for lang in ("es", "en"):
        page = run.view(lang)
        row = next(r for r in page["incidents"] if r["code"] == code)
        assert row["status"] == "open"
        for name in ("title", "what_happened", "what_we_do", "what_you_can_do"):
            assert row[name], name
            assert "—" not in row[name], (name, row[name])
            assert "{" not in row[name], (name, row[name])
        assert row["options"] == incident.options
        assert row["owner"] == incident.owner
        assert "—" not in page["headline"]
        if incident.headline is not None and code == run.state.open_incidents()[0]:
            assert "{" not in page["headline"]
        if incident.owner == "customer" and code == run.state.open_incidents()[0]:
            assert page["next"]["who"] == "customer"
    # The two languages say different things (nothing left untranslated).
    es = next(r for r in run.view("es")["incidents"] if r["code"] == code)
    en = next(r for r in run.view("en")["incidents"] if r["code"] == code)
    assert es["what_happened"] != en["what_happened"]
    # Every option offered is a control the customer can use right now.
    assert set(incident.options) <= allowed_controls(run), set(incident.options) - allowed_controls(
        run
    )
    for requirement in incident.requires:
        assert run.state.requirements[requirement]["state"] == "missing"
