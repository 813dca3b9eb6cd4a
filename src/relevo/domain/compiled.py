"""A definition prepared for fast use: rules parsed once, lookups indexed.

The engine never re-parses rule text on the hot path; it works on a ``Compiled`` made once
per definition version when the catalog loads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from relevo.domain.calendars import WorkCalendar, get_calendar
from relevo.domain.definitions import (
    Definition,
    Effects,
    Guard,
    Localized,
    Notification,
    Stage,
    Timer,
    Transition,
    guard_bounds,
    guard_paths,
)
from relevo.domain.definitions.base import PLACEHOLDER
from relevo.domain.model import ProcessState, parse_iso
from relevo.domain.operator_terms import OperatorTerms, commitment_problems
from relevo.domain.stage_graph import reachable, stage_moves
from relevo.domain.timerules import DateExpr, Duration, parse_date_expr

_MISSING = object()
#: A placeholder in a customer-facing text (``{cancel_until.datetime}``).


def resolve_path(
    path: str, data: Mapping[str, Any], params: Mapping[str, Any], attributes: Mapping[str, Any]
) -> Any:
    """The value at a ``data.``/``params.``/``attributes.`` path, or ``None`` if absent.

    Dots inside the path walk nested mappings (``data.window.start``).
    """
    root, _, rest = path.partition(".")
    current: Any = {"data": data, "params": params, "attributes": attributes}[root]
    for part in rest.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part, _MISSING)
        if current is _MISSING:
            return None
    return current


@dataclass
class Compiled:
    """A validated definition with its rules parsed and its lookups indexed."""

    definition: Definition
    calendar: WorkCalendar
    stages: dict[str, Stage]
    stage_order: dict[str, int]
    transitions: dict[str, list[tuple[int, Transition]]]
    date_rules: dict[str, DateExpr]
    date_durations: dict[str, Duration]
    derived_order: list[str]
    date_dependencies: dict[str, set[str]]
    #: Anchors the rule-derived dates start from ("now", "entered", date names…).
    derived_anchors: frozenset[str] = frozenset()
    #: Anchors the timer and reminder rules start from.
    timer_anchors: frozenset[str] = frozenset()
    #: Attributes that SLA, timer and reminder guards look at.
    timer_attributes: frozenset[str] = frozenset()
    #: Whether SLA, timer or notification guards look at incidents or tasks.
    timer_items: bool = False
    rules: dict[str, DateExpr] = field(default_factory=dict)
    durations: dict[str, Duration] = field(default_factory=dict)
    #: A step's effects with the conditional blocks that held merged in, by the step's id and
    #: the blocks' positions (see ``conditional.effective``).
    merged_effects: dict[tuple[int, tuple[int, ...]], Effects] = field(default_factory=dict)
    #: The operator's terms the compensation rules name (amounts live there, not here).
    terms: OperatorTerms = field(default_factory=OperatorTerms)
    #: The operator's commitments the durations and rules name, by name (from ``terms``).
    commitments: dict[str, Duration] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """The process kind."""
        return self.definition.kind

    @property
    def version(self) -> int:
        """The definition version."""
        return self.definition.version

    def label_of(self, ref: str) -> Localized | None:
        """The history label of the step ``ref`` names: ``t:<transition index>``,
        ``c:<control>``, ``x:<timer>`` or ``s`` (the start)."""
        kind, _, name = ref.partition(":")
        d = self.definition
        if kind == "t" and name.isdigit() and int(name) < len(d.transitions):
            return d.transitions[int(name)].label
        if kind == "c" and name in d.controls:
            return d.controls[name].label
        if kind == "x":
            timer = next((t for t in d.timers if t.id == name), None)
            return timer.then.label if timer else None
        return d.start.label if kind == "s" else None

    def rule(self, text: str) -> DateExpr:
        """The parsed form of a rule text (parsed once, then cached)."""
        parsed = self.rules.get(text)
        if parsed is None:
            parsed = self.rules[text] = parse_date_expr(text, self.commitments)
        return parsed

    def duration(self, text: str) -> Duration:
        """The parsed form of a duration text (parsed once, then cached)."""
        parsed = self.durations.get(text)
        if parsed is None:
            parsed = self.durations[text] = Duration.parse(text, self.commitments)
        return parsed

    def timers_in(self, stage: str) -> tuple[tuple[Timer, DateExpr], ...]:
        """The deadlines active in ``stage`` with their parsed rules, in definition order."""
        return self._timers_by_stage.get(stage, ())

    def reminders_in(self, stage: str) -> tuple[tuple[Notification, DateExpr], ...]:
        """The reminders (notifications with ``at``) active in ``stage`` with their parsed
        rules, in definition order; a reminder without ``active_in`` is active everywhere."""
        return self._reminders_by_stage.get(stage, self._reminders_anywhere)

    def triggered_templates(self, entered: str | None, event_type: str) -> list[str]:
        """The templates of the notifications sent on entering stage ``entered`` or on
        ``event_type``, in definition order."""
        on_enter = self._on_enter.get(entered, ()) if entered else ()
        on_event = self._on_event.get(event_type, ())
        if on_enter and on_event:
            # A notification matching both ways is sent once, in its place.
            return [template for _, template in sorted({*on_enter, *on_event})]
        return [template for _, template in on_enter or on_event]

    def timer_names(self, stage: str) -> frozenset[str]:
        """The names of every timer a process in ``stage`` could want armed, whatever its
        dates and attributes: the stage's SLA, the deadlines and the reminders active in it."""
        names = self._timer_names_by_stage.get(stage)
        return names if names is not None else self._timer_names(stage)

    def awaited_in(self, stage: str) -> frozenset[str]:
        """The message types a later stage reachable from ``stage`` accepts: one of them
        arriving early waits for its stage (see ``relevo.domain.parking``)."""
        return self._awaited.get(stage, frozenset())

    # Per-definition lookups, built on first use: the engine needs them on every event.

    def reachable_from(self, stage: str) -> frozenset[str]:
        """Every stage a process in ``stage`` can still be in: ``stage`` itself and each
        stage a path of transitions, timers or controls leads to from it."""
        return self._reachable.get(stage, frozenset({stage}))

    @cached_property
    def _reachable(self) -> dict[str, frozenset[str]]:
        moves = stage_moves(self.definition)
        return {stage: reachable(moves, stage) for stage in self.stages}

    @cached_property
    def _awaited(self) -> dict[str, frozenset[str]]:
        d = self.definition
        every = list(self.stages)
        accepting: dict[str, set[str]] = {stage: set() for stage in every}
        for transition in d.transitions:
            for stage in every if "*" in transition.from_ else transition.from_:
                accepting.setdefault(stage, set()).update(transition.on)
        awaited: dict[str, frozenset[str]] = {}
        for stage in every:
            order = self.stage_order[stage]
            later = [s for s in self._reachable[stage] if self.stage_order.get(s, -1) > order]
            awaited[stage] = frozenset(t for s in later for t in accepting.get(s, ()))
        return awaited

    @cached_property
    def _timer_names_by_stage(self) -> dict[str, frozenset[str]]:
        d = self.definition
        stages = {
            *self.stages,
            *(stage for timer in d.timers for stage in timer.active_in),
            *(stage for n in d.notifications for stage in n.active_in),
        }
        return {stage: self._timer_names(stage) for stage in stages}

    def _timer_names(self, stage: str) -> frozenset[str]:
        d = self.definition
        return frozenset(
            (
                f"sla:{stage}",
                *(f"timer:{t.id}" for t in d.timers if stage in t.active_in),
                *(
                    f"notify:{n.template}"
                    for n in d.notifications
                    if not n.active_in or stage in n.active_in
                ),
            )
        )

    @cached_property
    def _timers_by_stage(self) -> dict[str, tuple[tuple[Timer, DateExpr], ...]]:
        timers = [(timer, self.rule(timer.at)) for timer in self.definition.timers]
        stages = {stage for timer, _ in timers for stage in timer.active_in}
        return {stage: tuple(t for t in timers if stage in t[0].active_in) for stage in stages}

    @cached_property
    def _reminders(self) -> list[tuple[Notification, DateExpr]]:
        return [(n, self.rule(n.at)) for n in self.definition.notifications if n.at is not None]

    @cached_property
    def _reminders_anywhere(self) -> tuple[tuple[Notification, DateExpr], ...]:
        return tuple(r for r in self._reminders if not r[0].active_in)

    @cached_property
    def _reminders_by_stage(self) -> dict[str, tuple[tuple[Notification, DateExpr], ...]]:
        stages = {stage for n, _ in self._reminders for stage in n.active_in}
        return {
            stage: tuple(
                r for r in self._reminders if not r[0].active_in or stage in r[0].active_in
            )
            for stage in stages
        }

    @cached_property
    def _on_enter(self) -> dict[str, tuple[tuple[int, str], ...]]:
        return _triggers((n.on_enter, n.template) for n in self.definition.notifications)

    @cached_property
    def _on_event(self) -> dict[str, tuple[tuple[int, str], ...]]:
        return _triggers((n.on, n.template) for n in self.definition.notifications)

    @cached_property
    def template_guards(self) -> dict[str, Guard | None]:
        """The ``when`` guard of each notification template (a later declaration wins)."""
        return {n.template: n.when for n in self.definition.notifications}

    @cached_property
    def notification_by_template(self) -> dict[str, Notification]:
        """The declaration of each notification template (the first declaration wins)."""
        found: dict[str, Notification] = {}
        for notification in self.definition.notifications:
            found.setdefault(notification.template, notification)
        return found

    @cached_property
    def template_dates(self) -> dict[str, tuple[str, ...]]:
        """The process dates each template's text and subject name, in order of appearance:
        the dates a message announces (a message is stale once one of them moved)."""
        dates: dict[str, tuple[str, ...]] = {}
        for template, n in self.notification_by_template.items():
            texts = [n.text.es, n.text.en, *((n.subject.es, n.subject.en) if n.subject else ())]
            heads = (name.partition(".")[0] for t in texts for name in PLACEHOLDER.findall(t))
            dates[template] = tuple(dict.fromkeys(h for h in heads if h in self.definition.dates))
        return dates

    @cached_property
    def template_channels(self) -> dict[str, list[str]]:
        """The channels of each notification template (the first declaration wins)."""
        channels: dict[str, list[str]] = {}
        for notification in self.definition.notifications:
            channels.setdefault(notification.template, list(notification.channels))
        return channels

    def anchors(self, state: ProcessState, now: datetime) -> dict[str, datetime | None]:
        """Every moment a rule may start from, for ``state`` at ``now``."""
        anchors: dict[str, datetime | None] = {
            name: parse_iso(entry["at"]) for name, entry in state.dates.items()
        }
        anchors["started"] = parse_iso(state.created_at)
        anchors["now"] = now
        if state.stage_history:
            anchors["entered"] = parse_iso(state.stage_history[-1]["entered_at"])
        return anchors


def _triggers(
    pairs: Iterable[tuple[str | None, str]],
) -> dict[str, tuple[tuple[int, str], ...]]:
    """``(trigger, template)`` pairs grouped by trigger, each template with its position."""
    grouped: dict[str, list[tuple[int, str]]] = {}
    for index, (trigger, template) in enumerate(pairs):
        if trigger is not None:
            grouped.setdefault(trigger, []).append((index, template))
    return {trigger: tuple(entries) for trigger, entries in grouped.items()}


def compile_definition(definition: Definition, terms: OperatorTerms | None = None) -> Compiled:
    """Prepare ``definition`` for the engine with the operator's ``terms`` (amounts of the
    compensation rights, lengths of the commitments). Assumes it passed ``validation.check``
    and ``operator_terms.missing_rights``; raises ValueError if ``terms`` lack a commitment
    it names (``operator_terms.commitment_problems`` says where, for the file's errors)."""
    terms = terms if terms is not None else OperatorTerms()
    unresolved = commitment_problems(definition, terms)
    if unresolved:
        raise ValueError(
            f"{definition.ref}: "
            + "; ".join(f"{'.'.join(map(str, p))}: {m}" for p, m in unresolved.items())
        )
    commitments = terms.durations()
    transitions: dict[str, list[tuple[int, Transition]]] = {}
    for index, transition in enumerate(definition.transitions):
        for event_type in transition.on:
            transitions.setdefault(event_type, []).append((index, transition))
    date_rules = {
        name: parse_date_expr(date.rule, commitments)
        for name, date in definition.dates.items()
        if date.rule
    }
    dependencies = {name: set(rule.anchors) for name, rule in date_rules.items()}
    # The guards that decide which timers are armed and which notifications go out.
    timer_guards = [
        *(sla.when for stage in definition.stages for sla in stage.sla),
        *(t.when for t in definition.timers),
        *(n.when for n in definition.notifications),
    ]
    return Compiled(
        definition=definition,
        terms=terms,
        commitments=commitments,
        calendar=get_calendar(definition.calendar),
        stages={stage.id: stage for stage in definition.stages},
        stage_order={stage.id: index for index, stage in enumerate(definition.stages)},
        transitions=transitions,
        date_rules=date_rules,
        date_durations={
            name: Duration.parse(date.duration, commitments)
            for name, date in definition.dates.items()
            if date.duration
        },
        derived_order=derivation_order(dependencies),
        date_dependencies=dependencies,
        derived_anchors=frozenset(a for rule in date_rules.values() for a in rule.anchors),
        timer_anchors=frozenset(
            anchor
            for text in (
                *(t.at for t in definition.timers),
                *(n.at for n in definition.notifications if n.at),
                *(bound for guard in timer_guards for bound in guard_bounds(guard)),
            )
            for anchor in parse_date_expr(text).anchors
        ),
        timer_attributes=frozenset(
            path.removeprefix("attributes.")
            for guard in timer_guards
            for path in guard_paths(guard)
            if path.startswith("attributes.")
        ),
        timer_items=any(
            path.startswith(("incidents.", "tasks."))
            for guard in timer_guards
            for path in guard_paths(guard)
        ),
    )


def derivation_order(dependencies: Mapping[str, set[str]]) -> list[str]:
    """Rule-derived dates ordered so that each comes after the dates it depends on.

    Raises ValueError naming the dates of a cycle.
    """
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str, trail: tuple[str, ...]) -> None:
        if name in order or name not in dependencies:
            return
        if name in visiting:
            raise ValueError("date rules form a cycle: " + " -> ".join((*trail, name)))
        visiting.add(name)
        for dependency in sorted(dependencies[name]):
            visit(dependency, (*trail, name))
        visiting.discard(name)
        order.append(name)

    for name in sorted(dependencies):
        visit(name, ())
    return order
