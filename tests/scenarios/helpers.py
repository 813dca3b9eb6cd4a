"""The vocabulary of the scenario tests: one process, a fixed clock, the pure engine.

``Run`` starts a process, feeds it back-end messages and customer actions, fires due timers
in order while the clock moves, and keeps every recorded event so a test can check that
folding the log from the start gives the live state.

The checks below it read a run or one event. Their names say what they read:
``event_topics`` / ``event_templates`` for one event, ``run_topics`` / ``run_templates`` for
every event of a run so far; topics are integration messages (notification requests
excluded) except in ``run_outbox_topics``, which lists every outbox entry.
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
from relevo.domain.operator_terms import parse_terms

CATALOG = Path(__file__).resolve().parents[2] / "src" / "relevo" / "catalog"
MADRID = ZoneInfo("Europe/Madrid")
CANARY = ZoneInfo("Atlantic/Canary")
NOTIFICATION = "notification.requested"

_ids = itertools.count(1)


def load(filename: str) -> Compiled:
    """The compiled definition of a catalog file, with the shipped operator's terms."""
    path = CATALOG / filename
    terms = parse_terms((CATALOG / "operator.toml").read_text(encoding="utf-8"), "operator.toml")
    return compile_definition(validation.parse(path.read_text(encoding="utf-8"), path.name), terms)


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
        subject: str = "612345678",
        attributes: dict[str, Any] | None = None,
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
            attributes=attributes if attributes is not None else {"modality": "postpaid"},
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
        for each in [event, *engine.settle(self.c, self.state, [event], self.now)]:
            engine.apply(self.state, each)
            self.events.append(each)
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

    def task(self, task_id: str) -> dict[str, Any]:
        """A back-office task of the process."""
        return self.state.tasks[task_id]

    def date(self, name: str) -> datetime:
        """A process date in Madrid time."""
        return parse_iso(self.state.dates[name]["at"]).astimezone(MADRID)

    def timer(self, name: str) -> datetime:
        """An armed timer's due moment in Madrid time."""
        return parse_iso(self.state.timers[name]).astimezone(MADRID)

    def replayed(self) -> ProcessState:
        """The state folded from the recorded events alone."""
        return engine.replay(self.state.id, self.events)

    def assert_replay_matches(self) -> None:
        """Folding the log from the start gives the live state, and nothing was lost."""
        assert self.replayed().to_json() == self.state.to_json()
        assert self.state.version == len(self.events)


def accepted(decision: Decision) -> Event:
    """The single event of an accepted decision."""
    assert decision.outcome is Outcome.ACCEPTED, (decision.reason_code, decision.reason)
    assert len(decision.events) == 1
    return decision.events[0]


def ignored_reason(decision: Decision) -> str:
    """The reason code of an ignored message (recorded on the process as a fact)."""
    assert decision.outcome is Outcome.IGNORED, (decision.outcome, decision.reason)
    assert [e.type for e in decision.events] == [engine.IGNORED]
    return decision.reason_code or ""


def parked_reason(decision: Decision) -> str:
    """The reason code of a message parked until a later stage accepts it (``parked``)."""
    assert decision.outcome is Outcome.ACCEPTED, (decision.outcome, decision.reason)
    assert [e.type for e in decision.events] == [engine.PARKED]
    return decision.reason_code or ""


def send_ignored(run: Run, event_type: str, data: dict[str, Any] | None = None) -> str:
    """Send a message that must be ignored; return the reason code."""
    return ignored_reason(run.send(event_type, data))


# -- what was sent ---------------------------------------------------------------------------


def event_topics(event: Event) -> list[str]:
    """The integration topics one event sends (notification requests excluded)."""
    return [m["topic"] for m in event.effects.get("outbox", ()) if m["topic"] != NOTIFICATION]


def event_templates(event: Event) -> list[str]:
    """The notification templates one event asks for."""
    return [
        m["payload"]["template"]
        for m in event.effects.get("outbox", ())
        if m["topic"] == NOTIFICATION
    ]


def run_topics(run: Run) -> list[str]:
    """Every integration topic the run sent so far, in order (notifications excluded)."""
    return [topic for event in run.events for topic in event_topics(event)]


def run_templates(run: Run) -> list[str]:
    """Every notification template the run asked for so far, in order."""
    return [template for event in run.events for template in event_templates(event)]


def run_outbox_topics(run: Run) -> list[str]:
    """The topic of every outbox entry of the run so far, notification requests included."""
    return [m["topic"] for event in run.events for m in event.effects.get("outbox", ())]


# -- controls ------------------------------------------------------------------------------


def refusal(
    run: Run, control: str, params: dict[str, Any] | None = None, *, role: str = "customer"
) -> ActionRefused:
    """The refusal of ``control``, checking that the state did not change."""
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
    """The controls the status view offers as allowed right now."""
    return {row["id"] for row in run.view("es", role)["controls"] if row["allowed"]}


# -- incidents -----------------------------------------------------------------------------


def assert_incident_view(run: Run, code: str) -> None:
    """The open incident reads in both languages (as written where it has no placeholders),
    leads the headline and the next step when it comes first, and its options work now."""
    definition = run.c.definition
    incident = definition.incidents[code]
    open_codes = run.state.open_incidents()
    leads_headline = code == next(
        (c for c in open_codes if definition.incidents[c].headline is not None), None
    )
    leads_next = code == next(
        (c for c in open_codes if definition.incidents[c].owner == "customer"), None
    )
    for lang in ("es", "en"):
        page = run.view(lang)
        row = next(r for r in page["incidents"] if r["code"] == code)
        assert row["status"] == "open"
        for name in ("title", "what_happened", "what_we_do", "what_you_can_do"):
            assert row[name], name
            assert "—" not in row[name], (name, row[name])
            assert "{" not in row[name], (name, row[name])
            written = getattr(incident, name).get(lang)
            if "{" not in written:
                assert row[name] == written, (name, row[name])
        assert row["options"] == incident.options
        assert row["owner"] == incident.owner
        assert "—" not in page["headline"], page["headline"]
        if leads_headline and incident.headline is not None:
            assert "{" not in page["headline"]
            if "{" not in incident.headline.get(lang):
                assert page["headline"] == incident.headline.get(lang)
        if leads_next:
            assert page["next"]["who"] == "customer"
            assert page["next"]["what"] == row["what_you_can_do"]
    # The two languages say different things (nothing left untranslated).
    es = next(r for r in run.view("es")["incidents"] if r["code"] == code)
    en = next(r for r in run.view("en")["incidents"] if r["code"] == code)
    assert es["what_happened"] != en["what_happened"]
    offered = allowed_controls(run)
    assert set(incident.options) <= offered, set(incident.options) - offered
    needed = {row["id"]: row for row in run.view("en")["needed"]}
    for requirement in incident.requires:
        assert run.state.requirements[requirement]["state"] == "missing"
        assert needed[requirement]["action_needed"] is True
