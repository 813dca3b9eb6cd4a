"""Errors the domain raises, each carrying a message a person can act on.

DomainError
├── InvalidStart         a process cannot start with these inputs
├── UnknownControl       the definition has no such control
├── ActionRefused        the control exists but is not allowed now, or its inputs are out of bounds
└── DefinitionError      a definition file is wrong (file, line, what to fix)

EffectError (a ValueError) stays inside the engine: an inbound value the effects need is
missing or malformed, which ``engine`` reports as a rejected message or an InvalidStart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relevo.domain.definitions import Localized


class DomainError(Exception):
    """Base of every error the domain raises."""


class InvalidStart(DomainError):
    """A process cannot be started with the given inputs; ``str()`` says which and why."""


class UnknownControl(DomainError):
    """The process kind has no control of that name; ``str()`` lists the known ones."""


@dataclass
class FieldProblem:
    """One input of an action that is missing or out of bounds."""

    field: str
    code: str
    message: Localized


@dataclass
class ActionRefused(DomainError):
    """A control that cannot be used now: why, until when, and what to do instead."""

    code: str
    reason: Localized
    instead: Localized | None = None
    until: str | None = None
    problems: list[FieldProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return self.reason.en

    def as_json(self, lang: str) -> dict[str, Any]:
        """The refusal in one language, ready for an API answer."""
        return {
            "code": self.code,
            "reason": self.reason.get(lang),
            "instead": self.instead.get(lang) if self.instead else None,
            "until": self.until,
            "problems": [
                {"field": p.field, "code": p.code, "message": p.message.get(lang)}
                for p in self.problems
            ],
        }


@dataclass
class Problem:
    """One error found in a definition file."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class DefinitionError(DomainError):
    """One or more problems in definition files."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


class EffectError(ValueError):
    """An inbound value the effects need is missing or malformed; the message names it."""
