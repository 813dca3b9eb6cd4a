"""Reading a definition from YAML text and checking it, with file and line in every error.

``parse`` turns YAML text into a ``Definition`` (schema errors) and then runs ``check``
(cross-references: unknown stages, unreachable stages, missing cut-offs, unknown dates in
rules and texts, …). Reading files is the caller's job: this module only sees text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from relevo.domain.calendars import CALENDARS
from relevo.domain.compiled import derivation_order
from relevo.domain.definitions import Definition, Effects, Localized
from relevo.domain.errors import DefinitionError, Problem
from relevo.domain.timerules import BUILTIN_ANCHORS, DateRule

Path = tuple[str | int, ...]
_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


class DefinitionLoader(yaml.SafeLoader):
    """YAML 1.2-style booleans: only ``true``/``false``, so a key named ``on`` stays a string."""


DefinitionLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
DefinitionLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


class LineFinder:
    """Maps a path inside the YAML document to the line it is written on."""

    def __init__(self, text: str) -> None:
        try:
            self.root: yaml.Node | None = yaml.compose(text, Loader=DefinitionLoader)
        except yaml.YAMLError:
            self.root = None

    def line(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node of ``path`` that exists."""
        node = self.root
        best = node.start_mark.line + 1 if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if k.value == part), None)
                if pair is None:
                    return best
                # The key's line: a block value (``cancel:`` then its fields) starts below it.
                key, node = pair
                best = key.start_mark.line + 1
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if part >= len(node.value):
                    return best
                node = node.value[part]
                best = node.start_mark.line + 1
            else:
                return best
        return best


def parse(text: str, filename: str) -> Definition:
    """The definition written in ``text``; raises DefinitionError listing every problem."""
    try:
        raw = yaml.load(text, Loader=DefinitionLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise DefinitionError([Problem(filename, line, "", f"not valid YAML: {error}")]) from None
    if not isinstance(raw, dict):
        raise DefinitionError([Problem(filename, 1, "", "a definition must be a YAML mapping")])
    finder = LineFinder(text)
    try:
        definition = Definition.model_validate(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            path = _yaml_path(item["loc"])
            problems.append(
                Problem(filename, finder.line(path), _dotted(path), _message(item["msg"]))
            )
        raise DefinitionError(problems) from None
    problems = [
        Problem(filename, finder.line(path), _dotted(path), message)
        for path, message in check(definition)
    ]
    if problems:
        raise DefinitionError(problems)
    return definition


def _yaml_path(loc: Sequence[Any]) -> Path:
    # pydantic names aliased fields by alias in ``loc``; drop union/type tags it inserts.
    return tuple(
        part for part in loc if not (isinstance(part, str) and ("[" in part or "-" in part))
    )


def _dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def _message(text: str) -> str:
    return text.replace("Value error, ", "")


def check(d: Definition) -> list[tuple[Path, str]]:
    """Every cross-reference problem in ``d``, as (path, message) pairs."""
    problems: list[tuple[Path, str]] = []
    stages = [stage.id for stage in d.stages]
    stage_set = set(stages)
    dates = set(d.dates)

    def need_stage(path: Path, stage_id: str) -> None:
        if stage_id != "*" and stage_id not in stage_set:
            problems.append((path, f"unknown stage {stage_id!r}; stages are {stages}"))

    def need_date(path: Path, name: str, what: str = "date") -> None:
        if name not in dates and name not in BUILTIN_ANCHORS:
            problems.append((path, f"unknown {what} {name!r}; dates are {sorted(dates)}"))

    def need_rule(path: Path, text: str | None) -> None:
        if text is not None:
            need_date(path, DateRule.parse(text).anchor, "date in rule")

    if d.calendar not in CALENDARS:
        problems.append(
            (("calendar",), f"unknown calendar {d.calendar!r}; known: {sorted(CALENDARS)}")
        )
    if len(stage_set) != len(stages):
        problems.append((("stages",), "stage ids must be unique"))
    if not 4 <= len(stages) <= 6:
        problems.append((("stages",), f"a process shows 4 to 6 customer stages, not {len(stages)}"))

    for name, date in d.dates.items():
        need_rule(("dates", name, "rule"), date.rule)
    try:
        derivation_order({n: {DateRule.parse(x.rule).anchor} for n, x in d.dates.items() if x.rule})
    except ValueError as error:
        problems.append((("dates",), str(error)))

    for index, stage in enumerate(d.stages):
        base: Path = ("stages", index)
        if stage.next_date:
            need_date((*base, "next_date"), stage.next_date)
        for name, text in (
            ("headline", stage.headline),
            ("description", stage.description),
            ("next_step", stage.next_step),
        ):
            if text is not None:
                _texts(problems, d, (*base, name), [text])

    _effects(problems, d, ("start",), d.start, need_stage, need_date, need_rule)
    for index, transition in enumerate(d.transitions):
        base = ("transitions", index)
        for event_type in transition.on:
            if event_type not in d.events:
                problems.append(
                    ((*base, "on"), f"event type {event_type!r} is not declared under events")
                )
        for stage_id in transition.from_:
            need_stage((*base, "from"), stage_id)
        _effects(problems, d, base, transition, need_stage, need_date, need_rule)

    for code, incident in d.incidents.items():
        base = ("incidents", code)
        for option in incident.options:
            if option not in d.controls:
                problems.append(((*base, "options"), f"option {option!r} is not a control"))
        for requirement in incident.requires:
            if requirement not in d.requirements:
                problems.append(((*base, "requires"), f"unknown requirement {requirement!r}"))
        for name, text in (
            ("title", incident.title),
            ("headline", incident.headline),
            ("what_happened", incident.what_happened),
            ("what_we_do", incident.what_we_do),
            ("what_you_can_do", incident.what_you_can_do),
        ):
            if text is not None:
                _texts(problems, d, (*base, name), [text])

    for name, control in d.controls.items():
        base = ("controls", name)
        for stage_id in control.allowed_in:
            need_stage((*base, "allowed_in"), stage_id)
        if control.until is None and not control.no_cutoff:
            problems.append(
                (
                    base,
                    "control without a cut-off: set 'until' to a date, or "
                    "explain in 'no_cutoff' why it has none",
                )
            )
        if control.until is not None:
            need_date((*base, "until"), control.until)
        _texts(problems, d, (*base, "description"), [control.description])
        for code in control.when_incident:
            if code not in d.incidents:
                problems.append(((*base, "when_incident"), f"unknown incident {code!r}"))
        for param_name, param in control.params.items():
            need_rule((*base, "params", param_name, "min"), param.min)
            need_rule((*base, "params", param_name, "max"), param.max)
            if param.type == "choice" and not param.choices:
                problems.append(((*base, "params", param_name), "a choice needs choices"))
            if param.requirement and param.requirement not in d.requirements:
                problems.append(
                    (
                        (*base, "params", param_name, "requirement"),
                        f"unknown requirement {param.requirement!r}",
                    )
                )
        if not control.emit and not control.to and not control.status and not control.requirements:
            problems.append(
                (
                    base,
                    "a control must change something: emit an integration "
                    "message, move the process or update a requirement",
                )
            )
        _effects(problems, d, base, control, need_stage, need_date, need_rule)

    for index, notification in enumerate(d.notifications):
        base = ("notifications", index)
        if notification.on_enter:
            need_stage((*base, "on_enter"), notification.on_enter)
        if notification.on and notification.on not in d.events:
            problems.append(((*base, "on"), f"event type {notification.on!r} is not declared"))
        need_rule((*base, "at"), notification.at)
        for stage_id in notification.active_in:
            need_stage((*base, "active_in"), stage_id)
        _texts(problems, d, (*base, "text"), [notification.text])

    for index, timer in enumerate(d.timers):
        base = ("timers", index)
        need_rule((*base, "at"), timer.at)
        for stage_id in timer.active_in:
            need_stage((*base, "active_in"), stage_id)
        _effects(problems, d, (*base, "then"), timer.then, need_stage, need_date, need_rule)

    for name, rule in d.compensation.items():
        if rule.after is not None:
            need_date(("compensation", name, "after"), rule.after)
        if rule.on_incident is not None and rule.on_incident not in d.incidents:
            problems.append(
                (("compensation", name, "on_incident"), f"unknown incident {rule.on_incident!r}")
            )
        _texts(problems, d, ("compensation", name, "explanation"), [rule.explanation])
        for stage_id in rule.while_in:
            need_stage(("compensation", name, "while_in"), stage_id)

    for status in ("completed", "cancelled", "failed"):
        if status not in d.outcomes:
            problems.append(
                (("outcomes",), f"missing outcome {status!r} (headline and description)")
            )
    for status, outcome in d.outcomes.items():
        _texts(problems, d, ("outcomes", status, "headline"), [outcome.headline])
        _texts(problems, d, ("outcomes", status, "description"), [outcome.description])

    if d.subject.key not in d.correlation_keys:
        problems.append((("subject", "key"), "the subject key must be one of the correlation_keys"))

    problems.extend(_reachability(d))
    return problems


def _effects(
    problems: list[tuple[Path, str]],
    d: Definition,
    base: Path,
    spec: Effects,
    need_stage: Any,
    need_date: Any,
    need_rule: Any,
) -> None:
    if spec.to:
        need_stage((*base, "to"), spec.to)
    for name, setter in spec.dates.items():
        need_date((*base, "dates", name), name)
        need_rule((*base, "dates", name, "rule"), setter.rule)
    for name in (*spec.confirm, *spec.clear_dates):
        need_date((*base, "confirm"), name)
    if spec.open_incident and spec.open_incident not in d.incidents:
        problems.append(((*base, "open_incident"), f"unknown incident {spec.open_incident!r}"))
    codes = [] if spec.resolve_incidents == "all" else spec.resolve_incidents
    for code in codes:
        if code not in d.incidents:
            problems.append(((*base, "resolve_incidents"), f"unknown incident {code!r}"))
    for requirement in (*spec.require, *spec.requirements):
        if requirement not in d.requirements:
            problems.append(((*base, "require"), f"unknown requirement {requirement!r}"))
    for task in (*spec.open_tasks, *spec.close_tasks, *spec.tick_from):
        if task not in d.tasks:
            problems.append(((*base, "open_tasks"), f"unknown task {task!r}"))
    for task, items in spec.tick.items():
        if task not in d.tasks:
            problems.append(((*base, "tick"), f"unknown task {task!r}"))
            continue
        known = {entry.id for entry in d.tasks[task].checklist}
        for item in items:
            if item not in known:
                problems.append(((*base, "tick", task), f"{item!r} is not an item of {task!r}"))
    for template in spec.notify:
        if template not in {n.template for n in d.notifications}:
            problems.append(((*base, "notify"), f"unknown notification template {template!r}"))
    for key in spec.keys:
        if key not in d.correlation_keys:
            problems.append(((*base, "keys"), f"{key!r} is not one of the correlation_keys"))


def _texts(
    problems: list[tuple[Path, str]], d: Definition, base: Path, texts: Iterable[Localized]
) -> None:
    for text in texts:
        for lang in ("es", "en"):
            for name in _PLACEHOLDER.findall(text.get(lang)):
                head = name.split(".")[0]
                if head in ("subject", "attributes"):
                    continue
                if head not in d.dates:
                    problems.append(((*base, lang), f"placeholder {{{name}}} names no date"))
        es_names = sorted(_PLACEHOLDER.findall(text.es))
        en_names = sorted(_PLACEHOLDER.findall(text.en))
        if es_names != en_names:
            problems.append(
                (base, f"es and en use different placeholders: {es_names} vs {en_names}")
            )


def _reachability(d: Definition) -> list[tuple[Path, str]]:
    """Stages no path of transitions, controls or timers can ever reach."""
    edges: dict[str, set[str]] = {stage.id: set() for stage in d.stages}
    moves: list[tuple[list[str], str | None]] = [(t.from_, t.to) for t in d.transitions]
    moves += [(c.allowed_in, c.to) for c in d.controls.values()]
    moves += [(t.active_in, t.then.to) for t in d.timers]
    for sources, target in moves:
        if target is None:
            continue
        for source in list(edges) if "*" in sources else sources:
            if source in edges:
                edges[source].add(target)
    seen = {d.start.to}
    frontier = [d.start.to]
    while frontier:
        current = frontier.pop()
        for target in edges.get(current, ()):
            if target not in seen:
                seen.add(target)
                frontier.append(target)
    return [
        (("stages", index), f"stage {stage.id!r} can never be reached from {d.start.to!r}")
        for index, stage in enumerate(d.stages)
        if stage.id not in seen
    ]
