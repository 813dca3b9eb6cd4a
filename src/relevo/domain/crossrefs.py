"""The cross-reference rules of a definition, beyond its schema: unknown stages, dates,
incidents, requirements, tasks and templates; unreachable stages; controls without a
cut-off; placeholders that name no date; texts whose languages disagree; numeric comparisons
on values that can never be numbers (``numeric_reads``)."""

from __future__ import annotations

from collections.abc import Iterable

from relevo.domain.calendars import CALENDARS
from relevo.domain.compiled import derivation_order
from relevo.domain.definitions import (
    Control,
    Definition,
    EffectFields,
    Effects,
    Guard,
    Localized,
    numeric_operands,
    numeric_test_problem,
)
from relevo.domain.definitions.base import PLACEHOLDER
from relevo.domain.numeric_reads import NO_INPUT, Scope, attribute_values, numeric_problem
from relevo.domain.stage_graph import reachable, stage_moves
from relevo.domain.timerules import BUILTIN_ANCHORS, parse_date_expr

Path = tuple[str | int, ...]
Problems = list[tuple[Path, str]]


def check(d: Definition) -> Problems:
    """Every cross-reference problem in ``d``, as (path, message) pairs, in document order."""
    checker = _Checker(d)
    checker.top_level()
    checker.event_values()
    checker.stages()
    checker.effects(("start",), d.start)
    checker.transitions()
    checker.incidents()
    for name, control in d.controls.items():
        checker.control(("controls", name), control)
    checker.notifications()
    checker.timers()
    checker.compensation()
    checker.outcomes()
    problems = checker.problems
    if d.subject.key not in d.correlation_keys:
        problems.append((("subject", "key"), "the subject key must be one of the correlation_keys"))
    problems.extend(_reachability(d))
    return problems


class _Checker:
    """Collects the problems of one definition, section by section."""

    def __init__(self, d: Definition) -> None:
        self.d = d
        self.problems: Problems = []
        self.stage_ids = [stage.id for stage in d.stages]
        self.stage_set = set(self.stage_ids)
        self.dates = set(d.dates)
        self.attribute_values = attribute_values(d)

    def event_values(self) -> None:
        for name, spec in self.d.events.items():
            for field, allowed in spec.values.items():
                if not allowed:
                    path = ("events", name, "values", field)
                    self.problems.append((path, "an empty closed list refuses every message"))

    def need_stage(self, path: Path, stage_id: str) -> None:
        if stage_id != "*" and stage_id not in self.stage_set:
            self.problems.append((path, f"unknown stage {stage_id!r}; stages are {self.stage_ids}"))

    def need_date(self, path: Path, name: str, what: str = "date") -> None:
        if name not in self.dates and name not in BUILTIN_ANCHORS:
            self.problems.append((path, f"unknown {what} {name!r}; dates are {sorted(self.dates)}"))

    def need_rule(self, path: Path, text: str | None) -> None:
        if text is not None:
            for anchor in sorted(parse_date_expr(text).anchors):
                self.need_date(path, anchor, "date in rule")

    def need_known(self, path: Path, name: str, known: Iterable[str], what: str) -> None:
        if name not in known:
            self.problems.append((path, f"unknown {what} {name!r}"))

    def guard(self, base: Path, guard: Guard | None, scope: Scope = NO_INPUT) -> None:
        """The dates, incidents and tasks ``guard`` reads exist, and so do the dates its
        comparisons start from; its numeric comparisons read values that can be numbers
        (in ``scope``: the data fields and parameters at hand there)."""
        for path, key, operand in numeric_operands(guard):
            where_test: Path = (*base, path, key)
            malformed = numeric_test_problem(path, key, operand)
            if malformed:
                self.problems.append((where_test, malformed))
                continue
            for side in [path, operand] if isinstance(operand, str) else [path]:
                problem = numeric_problem(side, scope, self.attribute_values)
                if problem:
                    self.problems.append((where_test, f"{key}: {problem}"))
        for path, test in (guard or {}).items():
            root, _, name = path.partition(".")
            where: Path = (*base, path)
            if root == "dates":
                if name not in self.dates:
                    self.problems.append(
                        (where, f"unknown date {name!r}; dates are {sorted(self.dates)}")
                    )
            elif root == "incidents":
                self.need_known(where, name, self.d.incidents, "incident")
            elif root == "tasks":
                self.need_known(where, name, self.d.tasks, "task")
            if isinstance(test, dict):
                for key in ("before", "after"):
                    self.need_rule((*where, key), test.get(key))

    def texts(self, base: Path, texts: Iterable[Localized | None]) -> None:
        """Placeholders name known dates and are the same in both languages."""
        for text in texts:
            if text is not None:
                _text_problems(self.problems, self.d, base, text)

    def top_level(self) -> None:
        d, problems = self.d, self.problems
        if d.calendar not in CALENDARS:
            problems.append(
                (("calendar",), f"unknown calendar {d.calendar!r}; known: {sorted(CALENDARS)}")
            )
        if len(self.stage_set) != len(self.stage_ids):
            problems.append((("stages",), "stage ids must be unique"))
        if not 4 <= len(self.stage_ids) <= 6:
            problems.append(
                (("stages",), f"a process shows 4 to 6 customer stages, not {len(self.stage_ids)}")
            )
        for name, date in d.dates.items():
            self.need_rule(("dates", name, "rule"), date.rule)
        try:
            derivation_order(
                {n: set(parse_date_expr(x.rule).anchors) for n, x in d.dates.items() if x.rule}
            )
        except ValueError as error:
            problems.append((("dates",), str(error)))

    def stages(self) -> None:
        for index, stage in enumerate(self.d.stages):
            base: Path = ("stages", index)
            if stage.next_date:
                self.need_date((*base, "next_date"), stage.next_date)
            for number, sla in enumerate(stage.sla):
                self.guard((*base, "sla", number, "when"), sla.when)
            self.texts((*base, "headline"), [stage.headline])
            self.texts((*base, "description"), [stage.description])
            self.texts((*base, "next_step"), [stage.next_step])

    def transitions(self) -> None:
        for index, transition in enumerate(self.d.transitions):
            base: Path = ("transitions", index)
            for event_type in transition.on:
                if event_type not in self.d.events:
                    self.problems.append(
                        ((*base, "on"), f"event type {event_type!r} is not declared under events")
                    )
            for stage_id in transition.from_:
                self.need_stage((*base, "from"), stage_id)
            fields: set[str] = set()
            for event_type in transition.on:
                spec = self.d.events.get(event_type)
                if spec is not None:
                    fields |= {*spec.requires, *spec.optional, *spec.values}
            scope = Scope(fields=fields)
            self.guard((*base, "when"), transition.when, scope)
            self.effects(base, transition, scope)

    def incidents(self) -> None:
        d = self.d
        for code, incident in d.incidents.items():
            base: Path = ("incidents", code)
            for option in incident.options:
                if option not in d.controls:
                    self.problems.append(
                        ((*base, "options"), f"option {option!r} is not a control")
                    )
            for requirement in incident.requires:
                self.need_known((*base, "requires"), requirement, d.requirements, "requirement")
            for name in ("title", "headline", "what_happened", "what_we_do", "what_you_can_do"):
                self.texts((*base, name), [getattr(incident, name)])

    def control(self, base: Path, control: Control) -> None:
        d = self.d
        for stage_id in control.allowed_in:
            self.need_stage((*base, "allowed_in"), stage_id)
        if control.until is None and not control.no_cutoff:
            self.problems.append(
                (
                    base,
                    "control without a cut-off: set 'until' to a date, or "
                    "explain in 'no_cutoff' why it has none",
                )
            )
        if control.until is not None:
            self.need_date((*base, "until"), control.until)
        self.texts((*base, "description"), [control.description])
        self.texts((*base, "instead"), [control.instead])
        self.guard((*base, "when"), control.when)
        for code in control.when_incident:
            self.need_known((*base, "when_incident"), code, d.incidents, "incident")
        for param_name, param in control.params.items():
            where: Path = (*base, "params", param_name)
            self.need_rule((*where, "min"), param.min)
            self.need_rule((*where, "max"), param.max)
            for number, case in enumerate(param.cases):
                case_scope = Scope(params=control.params)
                self.guard((*where, "cases", number, "when"), case.when, case_scope)
                self.need_rule((*where, "cases", number, "min"), case.min)
                self.need_rule((*where, "cases", number, "max"), case.max)
            if param.type == "choice" and not param.choices:
                self.problems.append((where, "a choice needs choices"))
            if param.requirement:
                self.need_known(
                    (*where, "requirement"), param.requirement, d.requirements, "requirement"
                )
        if not control.emit and not control.to and not control.status and not control.requirements:
            self.problems.append(
                (
                    base,
                    "a control must change something: emit an integration "
                    "message, move the process or update a requirement",
                )
            )
        self.effects(base, control, Scope(params=control.params))

    def notifications(self) -> None:
        for index, notification in enumerate(self.d.notifications):
            base: Path = ("notifications", index)
            if notification.on_enter:
                self.need_stage((*base, "on_enter"), notification.on_enter)
            if notification.on and notification.on not in self.d.events:
                self.problems.append(
                    ((*base, "on"), f"event type {notification.on!r} is not declared")
                )
            self.need_rule((*base, "at"), notification.at)
            for stage_id in notification.active_in:
                self.need_stage((*base, "active_in"), stage_id)
            self.guard((*base, "when"), notification.when)
            self.texts((*base, "text"), [notification.text])
            self.texts((*base, "subject"), [notification.subject])

    def timers(self) -> None:
        for index, timer in enumerate(self.d.timers):
            base: Path = ("timers", index)
            self.need_rule((*base, "at"), timer.at)
            for stage_id in timer.active_in:
                self.need_stage((*base, "active_in"), stage_id)
            self.guard((*base, "when"), timer.when)
            self.effects((*base, "then"), timer.then)

    def compensation(self) -> None:
        for name, rule in self.d.compensation.items():
            base: Path = ("compensation", name)
            if rule.after is not None:
                self.need_date((*base, "after"), rule.after)
            if rule.on_incident is not None:
                self.need_known(
                    (*base, "on_incident"), rule.on_incident, self.d.incidents, "incident"
                )
            self.texts((*base, "explanation"), [rule.explanation])
            for stage_id in rule.while_in:
                self.need_stage((*base, "while_in"), stage_id)

    def outcomes(self) -> None:
        for status in ("completed", "cancelled", "failed"):
            if status not in self.d.outcomes:
                self.problems.append(
                    (("outcomes",), f"missing outcome {status!r} (headline and description)")
                )
        for status, outcome in self.d.outcomes.items():
            self.texts(("outcomes", status, "headline"), [outcome.headline])
            self.texts(("outcomes", status, "description"), [outcome.description])

    def effects(self, base: Path, spec: EffectFields, scope: Scope = NO_INPUT) -> None:
        """The stages, dates, incidents, requirements, tasks, templates and keys ``spec`` names,
        and those of its conditional blocks (whose guards read what ``scope`` holds)."""
        d = self.d
        if isinstance(spec, Effects):
            for index, block in enumerate(spec.also):
                self.guard((*base, "also", index, "when"), block.when, scope)
                self.effects((*base, "also", index), block, scope)
        if spec.to:
            self.need_stage((*base, "to"), spec.to)
        for name, setter in spec.dates.items():
            self.need_date((*base, "dates", name), name)
            self.need_rule((*base, "dates", name, "rule"), setter.rule)
        for name in (*spec.confirm, *spec.clear_dates):
            self.need_date((*base, "confirm"), name)
        if spec.open_incident:
            self.need_known((*base, "open_incident"), spec.open_incident, d.incidents, "incident")
        codes = [] if spec.resolve_incidents == "all" else spec.resolve_incidents
        for code in codes:
            self.need_known((*base, "resolve_incidents"), code, d.incidents, "incident")
        for requirement in (*spec.require, *spec.requirements):
            self.need_known((*base, "require"), requirement, d.requirements, "requirement")
        for task in (*spec.open_tasks, *spec.close_tasks, *spec.tick_from):
            self.need_known((*base, "open_tasks"), task, d.tasks, "task")
        for task in spec.code_task:
            if task not in d.tasks or not d.tasks[task].codes:
                self.problems.append(((*base, "code_task"), f"{task!r} is not a task with codes"))
        self._ticks(base, spec)
        templates = {n.template for n in d.notifications}
        for template in spec.notify:
            self.need_known((*base, "notify"), template, templates, "notification template")
        for key in spec.keys:
            if key not in d.correlation_keys:
                self.problems.append(
                    ((*base, "keys"), f"{key!r} is not one of the correlation_keys")
                )

    def _ticks(self, base: Path, spec: EffectFields) -> None:
        for task, items in spec.tick.items():
            if task not in self.d.tasks:
                self.problems.append(((*base, "tick"), f"unknown task {task!r}"))
                continue
            known = {entry.id for entry in self.d.tasks[task].checklist}
            for item in items:
                if item not in known:
                    self.problems.append(
                        ((*base, "tick", task), f"{item!r} is not an item of {task!r}")
                    )


def _text_problems(problems: Problems, d: Definition, base: Path, text: Localized) -> None:
    for lang in ("es", "en"):
        for name in PLACEHOLDER.findall(text.get(lang)):
            head = name.split(".")[0]
            # A commitment's name is checked against the operator's terms when the catalog
            # loads (``operator_terms.commitment_problems``).
            if head in ("subject", "attributes", "commitments"):
                continue
            if head not in d.dates:
                problems.append(((*base, lang), f"placeholder {{{name}}} names no date"))
    es_names = sorted(PLACEHOLDER.findall(text.es))
    en_names = sorted(PLACEHOLDER.findall(text.en))
    if es_names != en_names:
        problems.append((base, f"es and en use different placeholders: {es_names} vs {en_names}"))


def _reachability(d: Definition) -> Problems:
    """Stages no path of transitions, controls or timers can ever reach."""
    seen = reachable(stage_moves(d), d.start.to)
    return [
        (("stages", index), f"stage {stage.id!r} can never be reached from {d.start.to!r}")
        for index, stage in enumerate(d.stages)
        if stage.id not in seen
    ]
