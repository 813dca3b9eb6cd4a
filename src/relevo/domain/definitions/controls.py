"""Customer and agent actions: controls and the parameters they take."""

from __future__ import annotations

from datetime import time
from typing import Literal

from pydantic import Field, field_validator

from relevo.domain.definitions.base import Guard, Localized, Model, Role, check_guard
from relevo.domain.definitions.steps import Effects
from relevo.domain.timerules import parse_date_expr


class ParamCase(Model):
    """Bounds of a parameter that apply instead of its own while ``when`` holds (on the
    process, and on the action's other parameters through ``params.``)."""

    when: Guard
    required: bool | None = None
    min: str | None = None
    max: str | None = None
    not_on: list[Literal["holidays", "weekends"]] | None = None

    @field_validator("when")
    @classmethod
    def _guard(cls, value: Guard) -> Guard:
        check_guard(value)
        return value

    @field_validator("min", "max")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        if value is not None:
            parse_date_expr(value)
        return value


class Param(Model):
    """One input of a control, with its bounds."""

    type: Literal["datetime", "date", "text", "choice", "document", "bool"]
    title: Localized
    required: bool = True
    min: str | None = None
    max: str | None = None
    not_on: list[Literal["holidays", "weekends"]] = Field(default_factory=list)
    #: Local time of day given to a ``date`` parameter when it becomes a moment ("02:00").
    at: str | None = None
    #: For ``datetime`` parameters: the local hours allowed, e.g. ["08:00", "20:00"].
    between: tuple[str, str] | None = None
    choices: dict[str, Localized] = Field(default_factory=dict)
    pattern: str | None = None
    requirement: str | None = None
    #: Other bounds under a condition: the first case whose ``when`` holds wins.
    cases: list[ParamCase] = Field(default_factory=list)

    @field_validator("min", "max")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        if value is not None:
            parse_date_expr(value)
        return value

    @field_validator("between")
    @classmethod
    def _hours(cls, value: tuple[str, str] | None) -> tuple[str, str] | None:
        if value is not None:
            try:
                opens, closes = (time.fromisoformat(bound) for bound in value)
            except ValueError:
                raise ValueError(
                    "'between' takes two local times like ['08:00', '20:00']"
                ) from None
            if opens >= closes:
                raise ValueError("'between' must open before it closes")
        return value


class Control(Effects):
    """A customer or agent action: where it is allowed, until when, within which bounds,
    and the integration message it sends to the back-ends."""

    title: Localized
    description: Localized
    actors: list[Role] = Field(default_factory=lambda: list[Role](["customer", "agent"]))
    allowed_in: list[str]
    #: Name of the date after which the control is closed (the cut-off).
    until: str | None = None
    #: Why a control legitimately has no cut-off (required when ``until`` is absent).
    no_cutoff: str | None = None
    #: Offered only while one of these incidents is open.
    when_incident: list[str] = Field(default_factory=list)
    when: Guard | None = None
    params: dict[str, Param] = Field(default_factory=dict)
    #: What the customer can do when the control is not available.
    instead: Localized | None = None
    irreversible: bool = False

    @field_validator("when")
    @classmethod
    def _guard(cls, value: Guard | None) -> Guard | None:
        return check_guard(value)
