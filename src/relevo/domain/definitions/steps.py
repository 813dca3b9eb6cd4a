"""What an event does to a process (``Effects``) and the places it is declared: transitions,
deadline timers and the start of a process."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from relevo.domain.definitions.base import (
    Guard,
    Localized,
    Model,
    RequirementState,
    TerminalStatus,
    check_guard,
    check_path,
)
from relevo.domain.timerules import parse_date_expr


class DateSet(Model):
    """How an event sets a date: from a value in the message, or by a rule."""

    from_: str | None = Field(default=None, alias="from")
    rule: str | None = None
    #: Local time of day to put on a date that arrives without one ("02:00").
    at: str | None = None
    confirmed: bool = False

    @model_validator(mode="after")
    def _one_source(self) -> DateSet:
        if (self.from_ is None) == (self.rule is None):
            raise ValueError("set a date either 'from' a value path or by a 'rule', not both")
        if self.from_ is not None:
            check_path(self.from_)
        if self.rule is not None:
            parse_date_expr(self.rule)
        return self


class EffectFields(Model):
    """The effects themselves, shared by ``Effects`` and its conditional blocks."""

    to: str | None = None
    status: TerminalStatus | None = None
    record: dict[str, str] = Field(default_factory=dict)
    set: dict[str, Any] = Field(default_factory=dict)
    #: Correlation keys, each from a value path, or from several (``[data.a, data.b]``):
    #: a key given several values, or a value that is a list, holds them all.
    keys: dict[str, str | list[str]] = Field(default_factory=dict)
    dates: dict[str, DateSet] = Field(default_factory=dict)
    confirm: list[str] = Field(default_factory=list)
    clear_dates: list[str] = Field(default_factory=list)
    open_incident: str | None = None
    open_incident_from: str | None = None
    resolve_incidents: list[str] | Literal["all"] = Field(default_factory=list)
    require: list[str] = Field(default_factory=list)
    requirements: dict[str, RequirementState] = Field(default_factory=dict)
    open_tasks: list[str] = Field(default_factory=list)
    close_tasks: list[str] = Field(default_factory=list)
    #: Checklist items ticked by whoever caused the event: ``{task: [item, …]}``; a task
    #: whose items are all ticked closes by itself.
    tick: dict[str, list[str]] = Field(default_factory=dict)
    #: Like ``tick``, with the item named by a value path: ``{task: data.item}``.
    tick_from: dict[str, str] = Field(default_factory=dict)
    #: Record one of a task's ``codes`` on it, named by a value path: ``{task: params.x}``.
    code_task: dict[str, str] = Field(default_factory=dict)
    emit: list[str] = Field(default_factory=list)
    notify: list[str] = Field(default_factory=list)
    #: Customer-visible history line for this step; without it the step is internal
    #: (stage changes, incidents and controls still appear in the history on their own).
    label: Localized | None = None

    @field_validator("record", "tick_from", "code_task")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            check_path(path)
        return value

    @field_validator("keys")
    @classmethod
    def _key_paths(cls, value: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
        for paths in value.values():
            if isinstance(paths, list) and not paths:
                raise ValueError("a key given several values needs at least one value path")
            for path in [paths] if isinstance(paths, str) else paths:
                check_path(path)
        return value

    @field_validator("open_incident_from")
    @classmethod
    def _incident_path(cls, value: str | None) -> str | None:
        return None if value is None else check_path(value)

    @field_validator("emit")
    @classmethod
    def _topics_once(cls, value: list[str]) -> list[str]:
        # Receivers deduplicate on "process:version:topic": a topic sent twice by one
        # event would reach them as one message.
        repeated = sorted({topic for topic in value if value.count(topic) > 1})
        if repeated:
            raise ValueError(
                f"emit lists {', '.join(repeated)} more than once: an event sends each "
                "integration message once (receivers deduplicate on process, version and topic)"
            )
        return value


class ConditionalEffects(EffectFields):
    """Effects added to a step only when ``when`` holds, on the process as it was before the
    event (with the message's data or the action's parameters)."""

    when: Guard

    @field_validator("when")
    @classmethod
    def _guard(cls, value: Guard) -> Guard:
        check_guard(value)
        return value

    @model_validator(mode="after")
    def _does_not_move(self) -> ConditionalEffects:
        moving = [name for name in ("to", "status", "label") if getattr(self, name) is not None]
        if moving:
            raise ValueError(
                f"a conditional block cannot set {', '.join(moving)}: it adds effects to its "
                "step; to move the process only under a condition, write a second transition "
                "(or timer) with its own 'when'"
            )
        return self


class Effects(EffectFields):
    """What an event does to a process when it applies. Shared by transitions, controls,
    timers and the start of a process. ``also`` adds the effects of each block whose
    ``when`` holds, in order."""

    also: list[ConditionalEffects] = Field(default_factory=list)


class Transition(Effects):
    """Moves a process when an event type arrives in one of the ``from`` stages."""

    on: list[str]
    from_: list[str] = Field(alias="from")
    when: Guard | None = None
    #: Explains, in the ignored-message reason, what this transition waits for.
    note: str | None = None

    @field_validator("on", "from_", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("when")
    @classmethod
    def _guard(cls, value: Guard | None) -> Guard | None:
        return check_guard(value)


class Start(Effects):
    """Effects of starting a process; ``to`` is the first stage."""

    to: str


class Timer(Model):
    """A deadline that makes something happen by itself if the process is still waiting."""

    id: str
    at: str
    active_in: list[str]
    then: Effects
    when: Guard | None = None

    @field_validator("at")
    @classmethod
    def _rule(cls, value: str) -> str:
        parse_date_expr(value)
        return value
