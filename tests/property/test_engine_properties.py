"""Invariants of the engine under any sequence of messages, actions, timers and clock moves.

For every definition in the catalog, hypothesis drives one process with random back-end
messages (every declared event type, with plausible and implausible data: numbers at and
beside their bounds for the fields a guard compares as numbers), random controls with random
parameters and roles, timer firings (due, late and stale) and clock advances, and checks
after every step that:

* there is exactly one current stage and it exists in the definition;
* every customer-facing text of the status view is present and filled in, in es and en;
* a control the view shows as allowed is never refused for a reason other than its
  parameters, and one shown as not allowed is refused for exactly the reason shown;
* every message yields either one recorded event (accepted, parked or ignored), followed by
  those of the parked messages it lets apply or expire, or a rejection that records nothing
  and leaves the state untouched; ``decide`` never changes the state;
* a parked message waits only while the process is active and a later stage accepts it,
  with its expiry timer armed;
* the state's version equals the number of recorded events;
* folding the recorded log from the start gives the live state.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, reject, settings
from hypothesis import strategies as st

from relevo.domain import controls, engine, validation
from relevo.domain.compiled import Compiled, compile_definition
from relevo.domain.definitions import (
    AttributeDef,
    Definition,
    EffectFields,
    Effects,
    Param,
    numeric_operands,
)
from relevo.domain.errors import ActionRefused, InvalidStart
from relevo.domain.model import Action, Message, Outcome, Status
from scenarios.helpers import CATALOG, MADRID, Run, load

#: Test definitions that use constructs the catalog may not use yet.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "definitions"


def _fixture(path: Path) -> Compiled:
    return compile_definition(validation.parse(path.read_text(encoding="utf-8"), path.name))


DEFINITIONS = {
    **{path.name: load(path.name) for path in sorted(CATALOG.glob("*.yaml"))},
    **{path.name: _fixture(path) for path in sorted(FIXTURES.glob("*.yaml"))},
}
#: Examples per definition: the whole property run stays well under 30 s as the catalog grows.
EXAMPLES = max(25, 240 // max(1, len(DEFINITIONS)))
LANGS = ("es", "en")


# -- plausible inputs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Moment:
    """A date or date-time relative to the clock when the step runs, written in ``form``."""

    days: int
    hour: int
    form: str  # "date", "datetime" or "naive"

    def text(self, now: datetime) -> str:
        local = (now.astimezone(MADRID) + timedelta(days=self.days)).replace(
            hour=self.hour, minute=0, second=0, microsecond=0
        )
        if self.form == "date":
            return local.date().isoformat()
        if self.form == "naive":
            return local.replace(tzinfo=None).isoformat()
        return local.isoformat()


def moments(forms: tuple[str, ...]) -> st.SearchStrategy[Moment]:
    return st.builds(
        Moment, st.integers(-3, 40), st.sampled_from([0, 2, 9, 14, 21]), st.sampled_from(forms)
    )


#: A placeholder left unfilled in a rendered text.
PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_.]*\}")
#: Free text without braces, so generated data never looks like a placeholder.
CHARS = st.characters(blacklist_characters="{}", blacklist_categories=("Cs",))


def texts(min_size: int = 1, max_size: int = 8) -> st.SearchStrategy[str]:
    return st.text(CHARS, min_size=min_size, max_size=max_size)


JUNK = st.one_of(
    st.none(),
    st.just(""),
    texts(0, 6),
    st.integers(-5, 5),
    st.lists(st.integers(0, 3), max_size=2),
    st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 3), max_size=1),
)


def mostly(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``strategy`` nine times in ten, junk otherwise."""
    return st.integers(0, 9).flatmap(lambda roll: JUNK if roll == 0 else strategy)


def numbers(literals: list[Any]) -> st.SearchStrategy[Any]:
    """Numbers as back-ends write them (JSON numbers and decimal text), often at and beside
    the literals a guard compares with, and now and then text that is not a number."""
    near = sorted({n + step for n in literals for step in (-1, 0, 1)})
    return mostly(
        st.one_of(
            st.sampled_from(near) if near else st.integers(0, 30),
            st.integers(-2, 60),
            st.decimals(0, 200, places=2).map(str),
            st.floats(0, 200, allow_nan=False),
            st.sampled_from(["41,80", "12 €", "1e3"]),
        )
    )


def _data_paths(c: Compiled) -> dict[str, dict[str, st.SearchStrategy[Any]]]:
    """For each declared event type, a strategy per data field the definition reads."""
    d = c.definition
    text = texts()
    fields: dict[str, dict[str, st.SearchStrategy[Any]]] = {
        name: dict.fromkeys(spec.requires, text) for name, spec in d.events.items()
    }
    guarded: dict[tuple[str, str], list[Any]] = {}
    compared: dict[tuple[str, str], list[Any]] = {}
    for transition in d.transitions:
        typed: dict[str, st.SearchStrategy[Any]] = {}
        for spec in _with_blocks(transition):
            _typed_paths(d, spec, typed)
        guards = [transition.when, *(block.when for block in transition.also)]
        for path, test in (item for guard in guards for item in (guard or {}).items()):
            values = test if isinstance(test, list) else [test]
            if isinstance(test, dict):
                values = [test.get("equals"), *test.get("in", [])]
            for event_type in transition.on:
                known = guarded.setdefault((event_type, path), [])
                known += [v for v in values if v is not None and v not in known]
        for path, _, operand in (item for guard in guards for item in numeric_operands(guard)):
            literals = [] if isinstance(operand, str) else [operand]
            for side in [path, operand] if isinstance(operand, str) else [path]:
                for event_type in transition.on:
                    compared.setdefault((event_type, side), []).extend(literals)
        for path, strategy in typed.items():
            if path.startswith("data."):
                for event_type in transition.on:
                    fields.setdefault(event_type, {})[_field(path)] = strategy
    for (event_type, path), values in guarded.items():
        if path.startswith("data.") and values:
            fields.setdefault(event_type, {})[_field(path)] = st.sampled_from(values)
    # Compared as numbers: numbers, mostly (within, at and beyond the guards' bounds).
    for (event_type, path), literals in compared.items():
        if path.startswith("data."):
            fields.setdefault(event_type, {})[_field(path)] = numbers(literals)
    return fields


def _with_blocks(spec: Effects) -> Iterator[EffectFields]:
    """``spec`` and its conditional blocks."""
    yield spec
    yield from spec.also


def _typed_paths(d: Definition, spec: EffectFields, typed: dict[str, Any]) -> None:
    """A strategy for each value path ``spec`` reads, by what it reads it as."""
    text = texts()
    for path in spec.record.values():
        typed[path] = text
    for paths in spec.keys.values():
        for path in [paths] if isinstance(paths, str) else paths:
            # A key path may carry one value or several.
            typed[path] = st.one_of(text, st.lists(text, min_size=1, max_size=3))
    for setter in spec.dates.values():
        if setter.from_:
            typed[setter.from_] = moments(("date", "datetime"))
    if spec.open_incident_from:
        typed[spec.open_incident_from] = st.sampled_from(sorted(d.incidents))
    for task_id, path in spec.tick_from.items():
        items = [item.id for item in d.tasks[task_id].checklist] if task_id in d.tasks else []
        typed[path] = st.sampled_from(items) if items else text


def _field(path: str) -> str:
    return path.removeprefix("data.").split(".")[0]


def _param_strategy(param: Param) -> st.SearchStrategy[Any]:
    if param.type == "date":
        return mostly(moments(("date",)))
    if param.type == "datetime":
        return mostly(moments(("datetime", "naive")))
    if param.type == "choice":
        return mostly(st.sampled_from(sorted(param.choices)))
    if param.type == "bool":
        return mostly(st.booleans())
    if param.pattern:
        return mostly(st.from_regex(param.pattern, fullmatch=True))
    return mostly(texts(1, 12))


class Steps:
    """Strategies for the next step of one definition, weighted by the process's state.

    Messages the current stage expects and controls allowed now come up more often than the
    rest, so random runs get deep into each process instead of being ignored at the start;
    everything else (out-of-order messages, refused controls, junk data) still comes up.
    """

    def __init__(self, c: Compiled) -> None:
        d = c.definition
        self.c = c
        data_fields = _data_paths(c)
        self.messages = {
            name: self._message(name, data_fields.get(name, {}))
            for name in [*sorted(d.events), "unknown.type"]
        }
        self.actions = {name: self._action(name) for name in sorted(d.controls)}
        self.clock = [
            st.tuples(st.just("advance"), st.integers(0, 3 * 24 * 60)),
            st.tuples(st.just("late"), st.integers(0, 2 * 24 * 60)),
            st.tuples(st.just("stale"), st.integers(0, 10)),
            st.tuples(st.just("broken_timer"), st.integers(0, 3)),
        ]

    def _message(
        self, event_type: str, fields: dict[str, st.SearchStrategy[Any]]
    ) -> st.SearchStrategy[tuple[Any, ...]]:
        spec = self.c.definition.events.get(event_type)
        required = set(spec.requires) if spec else set()
        data = st.fixed_dictionaries(
            {name: mostly(s) for name, s in fields.items() if name in required},
            optional={name: mostly(s) for name, s in fields.items() if name not in required},
        )
        return st.tuples(st.just("message"), st.just(event_type), data)

    def _action(self, control_id: str) -> st.SearchStrategy[tuple[Any, ...]]:
        control = self.c.definition.controls[control_id]
        params = st.fixed_dictionaries(
            {name: _param_strategy(p) for name, p in control.params.items() if p.required},
            optional={
                name: _param_strategy(p) for name, p in control.params.items() if not p.required
            },
        )
        role = st.sampled_from(["customer", "customer", "customer", "agent", "system"])
        return st.tuples(st.just("action"), st.just(control_id), params, role)

    def next(self, run: Run) -> st.SearchStrategy[tuple[Any, ...]]:
        """The next step: a move of the process three times in ten, then what the stage
        expects, an allowed control, the clock going forward, or anything at all."""
        state = run.state
        expected: set[str] = set()
        moving: set[str] = set()
        for name, candidates in self.c.transitions.items():
            for _, transition in candidates:
                if state.stage in transition.from_ or "*" in transition.from_:
                    expected.add(name)
                    if transition.to not in (None, state.stage) and not transition.status:
                        moving.add(name)
        allowed = [
            name
            for name in self.actions
            if controls.check(self.c, state, name, "customer", run.now).allowed
        ]
        anything = st.one_of(*self.messages.values(), *self.actions.values(), *self.clock)
        groups = [
            (6, [self.messages[name] for name in sorted(moving)]),
            (4, [self.messages[name] for name in sorted(expected)]),
            (2, [self.actions[name] for name in allowed]),
            (3, self.clock[:1]),
        ]
        ladder: list[st.SearchStrategy[tuple[Any, ...]]] = []
        for weight, options in groups:
            ladder += [st.one_of(options) if options else anything] * weight
        ladder += [anything] * (20 - len(ladder))
        return st.integers(0, 19).flatmap(lambda roll: ladder[roll])


STEPS = {name: Steps(c) for name, c in DEFINITIONS.items()}


def _dated_attributes(d: Definition) -> set[str]:
    """Attributes some effect reads a date from (``from: attributes.period_start``)."""
    setters = []
    for step in [d.start, *d.transitions, *d.controls.values(), *(t.then for t in d.timers)]:
        for spec in _with_blocks(step):
            setters += spec.dates.values()
    return {
        setter.from_.removeprefix("attributes.").split(".")[0]
        for setter in setters
        if setter.from_ and setter.from_.startswith("attributes.")
    }


def _starts(c: Compiled) -> st.SearchStrategy[dict[str, Any]]:
    d = c.definition
    dated = _dated_attributes(d)

    def value(name: str, spec: AttributeDef) -> st.SearchStrategy[Any]:
        if spec.choices:
            return st.sampled_from(spec.choices)
        if spec.pattern:
            return mostly(st.from_regex(spec.pattern, fullmatch=True))
        if name in dated:
            return st.builds(Moment, st.integers(-40, 40), st.just(0), st.just("date"))
        if isinstance(spec.default, bool):
            return st.booleans()
        return texts()

    attributes = st.fixed_dictionaries(
        {name: value(name, spec) for name, spec in d.attributes.items() if spec.required},
        optional={
            name: value(name, spec) for name, spec in d.attributes.items() if not spec.required
        },
    )
    moment = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)).map(
        lambda m: m.replace(second=0, microsecond=0, tzinfo=MADRID)
    )
    pattern = d.subject.pattern
    subject = st.from_regex(pattern, fullmatch=True) if pattern else texts()
    return st.fixed_dictionaries(
        {
            "subject": subject,
            "now": moment,
            "attributes": attributes,
            "language": st.sampled_from(LANGS),
            "timezone": st.sampled_from(["Europe/Madrid", "Atlantic/Canary"]),
        }
    )


# -- invariants -------------------------------------------------------------------------------


def _texts(page: dict[str, Any]) -> list[tuple[str, Any]]:
    """Every customer-facing text of a status view, with where it is."""
    found: list[tuple[str, Any]] = [
        ("title", page["title"]),
        ("subject.label", page["subject"]["label"]),
        ("status_label", page["status_label"]),
        ("headline", page["headline"]),
    ]
    if page["stage"] is not None:
        for key in ("title", "description", "actor_label"):
            found.append((f"stage.{key}", page["stage"][key]))
    for row in page["stages"]:
        for key in ("title", "description", "actor_label", "state_label"):
            found.append((f"stages.{row['id']}.{key}", row[key]))
    if page["next"] is not None:
        found += [
            ("next.who_label", page["next"]["who_label"]),
            ("next.what", page["next"]["what"]),
        ]
    for row in page["needed"]:
        for key in ("title", "description", "state_label"):
            found.append((f"needed.{row['id']}.{key}", row[key]))
    for row in page["incidents"]:
        for key in ("title", "what_happened", "what_we_do", "what_you_can_do", "owner_label"):
            found.append((f"incidents.{row['code']}.{key}", row[key]))
    for row in page["controls"]:
        found += [(f"controls.{row['id']}.title", row["title"])]
        found += [(f"controls.{row['id']}.description", row["description"])]
        if not row["allowed"]:
            found.append((f"controls.{row['id']}.reason", row["reason"]))
        for name, param in row["params"].items():
            found.append((f"controls.{row['id']}.params.{name}", param["title"]))
    for row in page["dates"]:
        found += [
            (f"dates.{row['id']}.title", row["title"]),
            (f"dates.{row['id']}.text", row["text"]),
        ]
    for row in page["compensation"]:
        found += [(f"compensation.{row['id']}.title", row["title"])]
        found += [(f"compensation.{row['id']}.explanation", row["explanation"])]
    for index, row in enumerate(page["history"]):
        found.append((f"history.{index}", row["text"]))
    return found


def _check_state(c: Compiled, run: Run) -> None:
    state = run.state
    d = c.definition
    assert state.stage in c.stages
    assert state.stage_history and state.stage_history[-1]["stage"] == state.stage
    assert state.status in {s.value for s in Status}
    assert set(state.incidents) <= set(d.incidents)
    assert set(state.requirements) <= set(d.requirements)
    assert set(state.tasks) <= set(d.tasks)
    if not state.active:
        assert state.timers == {}
        assert state.parked == []
    for entry in state.parked:
        assert entry["type"] in c.awaited_in(state.stage), (entry["type"], state.stage)
        assert state.timers.get(f"park:{entry['key']}") == entry["expires_at"]
    assert state.version == len(run.events)

    for lang in LANGS:
        page = run.view(lang)
        rows = page["stages"]
        assert [row["id"] for row in rows] == [stage.id for stage in d.stages]
        marks = [row["state"] for row in rows]
        if state.status == Status.ACTIVE:
            assert marks.count("current") == 1
            assert rows[marks.index("current")]["id"] == state.stage
        elif state.status == Status.COMPLETED:
            assert set(marks) == {"done"}
        else:
            assert marks.count("stopped") == 1 and "current" not in marks
        for where, text in _texts(page):
            assert isinstance(text, str) and text.strip(), (lang, where, text)
            assert not PLACEHOLDER.search(text), (lang, where, text)


def _check_controls(c: Compiled, run: Run) -> None:
    """What the view shows about each control is what ``decide_action`` then does."""
    for role in ("customer", "agent"):
        page = run.view("en", role)
        shown = {row["id"] for row in page["controls"]}
        for row in page["controls"]:
            verdict = controls.check(c, run.state, row["id"], role, run.now)
            assert (verdict.allowed, verdict.code) == (row["allowed"], row["reason_code"])
            action = Action(row["id"], {}, actor="prop", channel="web", role=role)
            try:
                event = engine.decide_action(c, run.state, action, run.now)
            except ActionRefused as refused:
                if row["allowed"]:
                    assert refused.code == "invalid_params", (row["id"], refused.code)
                else:
                    assert refused.code == row["reason_code"], (row["id"], refused.code)
                    assert refused.reason.en == row["reason"]
            else:
                assert row["allowed"], (row["id"], row["reason_code"])
                assert event.type == f"action.{row['id']}"
        if role == "customer":
            expected = {n for n, ctl in c.definition.controls.items() if "customer" in ctl.actors}
            assert shown == expected


def _resolve(value: Any, now: datetime) -> Any:
    if isinstance(value, Moment):
        return value.text(now)
    if isinstance(value, dict):
        return {k: _resolve(v, now) for k, v in value.items()}
    return value


def _snapshot(run: Run) -> str:
    return json.dumps(run.state.to_json(), sort_keys=True)


def _run_step(c: Compiled, run: Run, step: tuple[Any, ...], counter: int) -> None:
    kind = step[0]
    if kind == "message":
        _, event_type, data = step
        message = Message(event_type, _resolve(data, run.now), run.now, "prop", f"m-{counter}")
        _decide_and_apply(c, run, message)
    elif kind == "action":
        _, control_id, params, role = step
        verdict = controls.check(c, run.state, control_id, role, run.now)
        before = _snapshot(run)
        action = Action(control_id, _resolve(params, run.now), "prop", "web", role)
        _same_as_full_recompute(c, run, lambda c_, state: _acted(c_, state, action, run.now))
        try:
            event = engine.decide_action(c, run.state, action, run.now)
        except ActionRefused as refused:
            assert _snapshot(run) == before
            if verdict.allowed:
                assert refused.code == "invalid_params"
                assert refused.problems
            else:
                assert refused.code == verdict.code
        else:
            assert verdict.allowed
            assert _snapshot(run) == before
            for each in [event, *engine.settle(c, run.state, [event], run.now)]:
                engine.apply(run.state, each)
                run.events.append(each)
    elif kind == "advance":
        seen = len(run.decisions)
        run.advance(run.now + timedelta(minutes=step[1]))
        for decision in run.decisions[seen:]:
            assert decision.outcome in (Outcome.ACCEPTED, Outcome.IGNORED)
            assert len(decision.events) >= 1
    elif kind == "late":
        run.now += timedelta(minutes=step[1])  # the timer worker is late; nothing fires yet
    elif kind == "stale":
        armed = sorted(run.state.timers.items())
        if armed and step[1] < len(armed):
            name, due = armed[step[1]]
            due = f"{due[:-6]}.5+00:00"  # armed name, another due
        else:
            name, due = f"timer:ghost{step[1]}", "2026-01-01T00:00:00+00:00"
        message = Message(
            engine.TIMER_FIRED, {"name": name, "due": due}, run.now, "timer", f"t-{counter}"
        )
        decision = _decide_and_apply(c, run, message)
        assert decision.outcome is Outcome.IGNORED
        assert decision.reason_code == "stale_timer"
    elif kind == "broken_timer":
        # A timer message without its name or due cannot match any armed timer.
        name, due = next(iter(sorted(run.state.timers.items())), ("sla:x", "2026-01-01"))
        data = [{}, {"name": name}, {"due": due}, {"name": name, "due": None}][step[1]]
        message = Message(engine.TIMER_FIRED, data, run.now, "timer", f"t-{counter}")
        decision = _decide_and_apply(c, run, message)
        assert decision.outcome is Outcome.REJECTED


def _acted(c: Compiled, state: Any, action: Action, now: datetime) -> list[Any]:
    event = engine.decide_action(c, state, action, now)
    return [event, *engine.settle(c, state, [event], now)]


def _recomputing_everything(c: Compiled) -> Compiled:
    """``c`` with the engine's shortcuts off: derived dates and timers are recomputed on
    every event, as if their rules depended on the clock."""
    return dataclasses.replace(
        c,
        derived_anchors=c.derived_anchors | {"now"},
        timer_anchors=c.timer_anchors | {"now"},
    )


def _same_as_full_recompute(c: Compiled, run: Run, decide: Any) -> None:
    """The shortcut engine and the recompute-everything engine decide the same effects."""
    shadow = engine.replay(run.state.id, run.events) if run.events else None
    if shadow is None:
        return
    try:
        expected = decide(_recomputing_everything(c), shadow)
    except ActionRefused:
        return
    actual = decide(c, run.state)
    assert [e.effects for e in actual] == [e.effects for e in expected]


def _decide_and_apply(c: Compiled, run: Run, message: Message) -> engine.Decision:
    before = _snapshot(run)
    _same_as_full_recompute(
        c, run, lambda c_, state: engine.decide(c_, state, message, run.now).events
    )
    decision = engine.decide(c, run.state, message, run.now)
    assert _snapshot(run) == before, "decide changed the state"
    if decision.outcome is Outcome.REJECTED:
        assert decision.events == []
        assert decision.reason and decision.reason_code
    else:
        assert decision.outcome in (Outcome.ACCEPTED, Outcome.IGNORED)
        event, *follow_ups = decision.events
        assert (event.type == engine.IGNORED) == (decision.outcome is Outcome.IGNORED)
        if decision.outcome is Outcome.IGNORED:
            assert event.data["reason"] and event.data["reason_code"] == decision.reason_code
        if event.type == engine.PARKED:
            assert decision.reason_code == "parked"
        parked = {(e["source"], e["message_id"]) for e in run.state.parked}
        for follow_up in follow_ups:
            if follow_up.type == engine.EXPIRED:
                assert follow_up.effects["dead_letter"]["reason"]
            else:
                assert (follow_up.source, follow_up.message_id) in parked
        for each in decision.events:
            engine.apply(run.state, each)
            run.events.append(each)
    return decision


@pytest.mark.parametrize("name", sorted(DEFINITIONS))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_any_sequence_keeps_the_invariants(name: str, data: st.DataObject) -> None:
    _drive(DEFINITIONS[name], data)


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.glob("*.yaml")))
@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_conditional_effects_dates_guards_and_keys_replay_as_lived(
    name: str, data: st.DataObject
) -> None:
    """The test definitions use conditional effects and parameters, earliest/latest dates,
    guards on dates, incidents and tasks and keys with several values: more runs, and the
    same invariants (folding the log gives the live state after every step)."""
    _drive(DEFINITIONS[name], data)


def _drive(c: Compiled, data: st.DataObject) -> None:
    """Start a process of ``c`` and run random steps, checking every invariant."""
    name = f"{c.kind}.v{c.version}.yaml"
    start = data.draw(_starts(c), label="start")
    try:
        run = Run.start(
            c,
            start["now"],
            subject=start["subject"],
            attributes=_resolve(start["attributes"], start["now"]),
            language=start["language"],
            timezone=start["timezone"],
        )
    except InvalidStart:
        reject()  # the definition refuses these inputs, with a reason: nothing to run
    _check_state(c, run)
    steps = STEPS[name]
    for counter in range(data.draw(st.integers(1, 30), label="steps")):
        step = data.draw(steps.next(run), label=f"step {counter}")
        _run_step(c, run, step, counter)
        _check_state(c, run)
        _check_controls(c, run)
        assert run.replayed().to_json() == run.state.to_json()
    run.assert_replay_matches()
    event(f"ended {run.state.status} in {run.state.stage}")
    if any(isinstance(value, list) for value in run.state.keys.values()):
        event("a key with several values")
    for code in run.state.incidents:
        event(f"incident {code}")
