"""Process definitions: the data model every process kind is written in.

A definition is one YAML document per process kind and version. These pydantic models give
its shape (and the JSON Schema editors use); ``validation.check`` adds the cross-reference
rules (unknown stages, unreachable stages, controls without a cut-off, …). Customer-facing
text is always a ``Localized`` pair with Spanish and English.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from relevo.domain.definitions.base import (
    PATH_PREFIXES,
    Actor,
    Channel,
    Condition,
    Guard,
    Localized,
    Model,
    RequirementState,
    Role,
    TerminalStatus,
    guard_bounds,
    guard_paths,
    numeric_operands,
    numeric_test_problem,
)
from relevo.domain.definitions.controls import Control, Param, ParamCase
from relevo.domain.definitions.items import ChecklistItem, Compensation, Incident, Requirement, Task
from relevo.domain.definitions.stages import DateDef, Notification, SlaRule, Stage
from relevo.domain.definitions.steps import (
    ConditionalEffects,
    DateSet,
    EffectFields,
    Effects,
    Start,
    Timer,
    Transition,
)

__all__ = [
    "PATH_PREFIXES",
    "Actor",
    "AttributeDef",
    "Channel",
    "ChecklistItem",
    "Compensation",
    "Condition",
    "ConditionalEffects",
    "Control",
    "DateDef",
    "DateSet",
    "Definition",
    "EffectFields",
    "Effects",
    "EventType",
    "Guard",
    "Incident",
    "Localized",
    "Model",
    "Notification",
    "Outcome",
    "Param",
    "ParamCase",
    "Requirement",
    "RequirementState",
    "Role",
    "SlaRule",
    "Stage",
    "Start",
    "Subject",
    "Task",
    "TerminalStatus",
    "Timer",
    "Transition",
    "guard_bounds",
    "guard_paths",
    "numeric_operands",
    "numeric_test_problem",
]


class EventType(Model):
    """An event type the process understands, and the data fields it must carry."""

    description: str
    requires: list[str] = Field(default_factory=list)
    #: Data fields the message may carry besides those it requires (a guard comparing a
    #: field's number must name one of the fields the event declares).
    optional: list[str] = Field(default_factory=list)
    #: Closed lists: a message whose field holds a value outside its list is rejected
    #: (e.g. the causes a regulation allows, where any other is sanctioned).
    values: dict[str, list[str]] = Field(default_factory=dict)


class Subject(Model):
    """What the process is about (a phone number, a CUPS, an address) and how to check it."""

    label: Localized
    key: str
    pattern: str | None = None


class AttributeDef(Model):
    """An attribute given when a process starts (e.g. prepaid or postpaid)."""

    title: Localized
    choices: list[str] | None = None
    #: A regular expression a given value must match in full (e.g. a power in kW).
    pattern: str | None = None
    required: bool = False
    default: Any = None


class Outcome(Model):
    """Headline and explanation shown once the process has ended this way."""

    headline: Localized
    description: Localized


class Definition(Model):
    """One process kind at one version."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    calendar: str
    timezone: str = "Europe/Madrid"
    title: Localized
    description: Localized
    subject: Subject
    correlation_keys: list[str] = Field(default_factory=list)
    attributes: dict[str, AttributeDef] = Field(default_factory=dict)
    stages: list[Stage] = Field(min_length=1)
    start: Start
    outcomes: dict[TerminalStatus, Outcome]
    dates: dict[str, DateDef] = Field(default_factory=dict)
    events: dict[str, EventType] = Field(default_factory=dict)
    transitions: list[Transition] = Field(default_factory=list)
    requirements: dict[str, Requirement] = Field(default_factory=dict)
    incidents: dict[str, Incident] = Field(default_factory=dict)
    controls: dict[str, Control] = Field(default_factory=dict)
    notifications: list[Notification] = Field(default_factory=list)
    timers: list[Timer] = Field(default_factory=list)
    tasks: dict[str, Task] = Field(default_factory=dict)
    compensation: dict[str, Compensation] = Field(default_factory=dict)
    #: Notes carried from the rules document (sources, ⚠ verify items).
    notes: list[str] = Field(default_factory=list)

    def stage(self, stage_id: str) -> Stage:
        """The stage called ``stage_id`` (KeyError if unknown)."""
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(f"{self.ref} has no stage {stage_id!r}")

    @property
    def ref(self) -> str:
        """``kind@version``, how logs and errors name a definition."""
        return f"{self.kind}@{self.version}"
