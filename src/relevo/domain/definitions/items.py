"""What a process keeps track of: requirements, incidents, back-office tasks and the
compensation owed when a deadline is missed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from relevo.domain.definitions.base import Actor, Localized, Model
from relevo.domain.timerules import Duration


class Requirement(Model):
    """Something we need from the customer (a document or a piece of data)."""

    title: Localized
    description: Localized
    kind: Literal["document", "data"] = "document"
    accepts: list[str] = Field(
        default_factory=lambda: ["application/pdf", "image/jpeg", "image/png"]
    )


class Incident(Model):
    """A coded problem, explained in plain language, with the ways out."""

    title: Localized
    #: Replaces the stage headline while the incident is open (the most important news).
    headline: Localized | None = None
    what_happened: Localized
    what_we_do: Localized
    what_you_can_do: Localized
    owner: Actor
    #: Controls offered to the customer and agents while the incident is open.
    options: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)
    #: Where the code comes from (donor, central node, distributor, us) and its official meaning.
    source: str = "us"
    official: str | None = None
    #: Kept from the rules document where a fact still needs checking (⚠ verify).
    verify: str | None = None


class ChecklistItem(Model):
    """One item of a back-office checklist, ticked by a named person."""

    id: str
    title: Localized


class Task(Model):
    """A back-office work item opened by an event, owned by a team, due in time."""

    title: Localized
    team: str
    due: str | None = None
    checklist: list[ChecklistItem] = Field(default_factory=list)
    #: Shown to the customer in the status view (a setup guide they tick themselves).
    customer: bool = False
    #: A closed list of codes a person records on the task with ``code_task`` (e.g. the
    #: root cause of a failure), one at a time, so the tasks can be counted by code.
    codes: dict[str, Localized] = Field(default_factory=dict)

    @field_validator("due")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            Duration.parse(value)
        return value


class Compensation(Model):
    """What the customer is owed when a deadline is missed or an appointment is not kept.

    The amount is not written here: ``right`` names it in the operator's terms
    (``relevo.domain.operator_terms``), one value per right for every process.
    """

    title: Localized
    explanation: Localized
    #: Counting starts at this date (e.g. the activation deadline) …
    after: str | None = None
    #: … and stops when the process leaves these stages (or ends).
    while_in: list[str] = Field(default_factory=list)
    #: Or: owed once each time this incident has been opened (a missed appointment).
    on_incident: str | None = None
    per: Literal["day", "working_day", "once"]
    #: The right in the operator's terms that gives the amount (``port_delay``).
    right: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    verify: str | None = None

    @model_validator(mode="after")
    def _one_basis(self) -> Compensation:
        if (self.after is None) == (self.on_incident is None):
            raise ValueError("compensation counts either 'after' a date or 'on_incident'")
        if self.on_incident is not None and self.per != "once":
            raise ValueError("compensation 'on_incident' is owed 'once' per occurrence")
        if self.after is not None and not self.while_in:
            raise ValueError("compensation 'after' a date needs 'while_in' stages")
        return self
