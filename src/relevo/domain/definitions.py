"""Process definitions: the data model every process kind is written in.

A definition is one YAML document per process kind and version. These pydantic models give
its shape (and the JSON Schema editors use); ``validation.check`` adds the cross-reference
rules (unknown stages, unreachable stages, controls without a cut-off, …). Customer-facing
text is always a ``Localized`` pair with Spanish and English.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from relevo.domain.timerules import DateRule, Duration

Actor = Literal[
    "customer",
    "us",
    "current_provider",
    "central_node",
    "distributor",
    "technician",
    "courier",
    "billing",
    "back_office",
    "field_service",
    "new_provider",
]
TerminalStatus = Literal["completed", "cancelled", "failed"]
RequirementState = Literal["missing", "submitted", "in_review", "rejected", "accepted"]
Role = Literal["customer", "agent", "system"]
Channel = Literal["sms", "email", "push"]

#: Prefixes a value path may start with: the inbound message's data, the action's
#: parameters, or the process's recorded attributes.
PATH_PREFIXES = ("data.", "params.", "attributes.")


class Model(BaseModel):
    """Base for definition models: unknown fields are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Localized(Model):
    """A customer-facing text in Spanish and English."""

    es: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        """The text in ``lang`` (``es`` or ``en``); Spanish for any other language."""
        return self.en if lang == "en" else self.es


def _check_path(path: str) -> str:
    if not path.startswith(PATH_PREFIXES):
        raise ValueError(
            f"{path!r} is not a value path: start it with one of {', '.join(PATH_PREFIXES)}"
        )
    return path


class Condition(Model):
    """A test on one value: equality, membership, presence or a comparison."""

    equals: Any = None
    not_equals: Any = None
    in_: list[Any] | None = Field(default=None, alias="in")
    not_in: list[Any] | None = None
    exists: bool | None = None
    #: Compare with another value of the process or message (``attributes.new_iban``).
    equals_path: str | None = None
    not_equals_path: str | None = None


#: ``when`` guards map a value path to a literal (equality), a list (membership) or a
#: ``Condition``. All entries must hold.
Guard = dict[str, Any]


def _check_guard(guard: Guard | None) -> Guard | None:
    if guard is None:
        return None
    for path, test in guard.items():
        _check_path(path)
        if isinstance(test, dict):
            Condition.model_validate(test)
    return guard


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
            _check_path(self.from_)
        if self.rule is not None:
            DateRule.parse(self.rule)
        return self


class Effects(Model):
    """What an event does to a process when it applies. Shared by transitions, controls,
    timers and the start of a process."""

    to: str | None = None
    status: TerminalStatus | None = None
    record: dict[str, str] = Field(default_factory=dict)
    set: dict[str, Any] = Field(default_factory=dict)
    keys: dict[str, str] = Field(default_factory=dict)
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
    emit: list[str] = Field(default_factory=list)
    notify: list[str] = Field(default_factory=list)
    #: Customer-visible history line for this step; without it the step is internal
    #: (stage changes, incidents and controls still appear in the history on their own).
    label: Localized | None = None

    @field_validator("record", "keys", "tick_from")
    @classmethod
    def _paths(cls, value: dict[str, str]) -> dict[str, str]:
        for path in value.values():
            _check_path(path)
        return value

    @field_validator("open_incident_from")
    @classmethod
    def _incident_path(cls, value: str | None) -> str | None:
        return None if value is None else _check_path(value)

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
        return _check_guard(value)


class SlaRule(Model):
    """How long a stage may take, optionally only when a guard holds (first match wins)."""

    within: str
    when: Guard | None = None
    calendar: str | None = None

    @field_validator("within")
    @classmethod
    def _duration(cls, value: str) -> str:
        Duration.parse(value)
        return value

    @field_validator("when")
    @classmethod
    def _guard(cls, value: Guard | None) -> Guard | None:
        return _check_guard(value)


class Stage(Model):
    """One customer-facing milestone, with who holds the ball and how long it may take."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    actor: Actor
    title: Localized
    description: Localized
    #: The sentence at the top of the status page while the process is in this stage.
    #: Placeholders: {date_name} (long date), {date_name.time}, {date_name.end_time},
    #: {date_name.datetime}, {attributes.name}, {subject}.
    headline: Localized
    sla: list[SlaRule] = Field(default_factory=list)
    #: What happens next while in this stage: who acts, and the date that says when.
    next_step: Localized | None = None
    next_date: str | None = None


class DateDef(Model):
    """A date that matters to the customer: set by events or computed by a rule."""

    title: Localized
    rule: str | None = None
    #: Length of a window starting at the date (the porting window lasts "4 hours").
    duration: str | None = None
    #: Rule-computed dates count as confirmed once every date they depend on is.
    visible: bool = True

    @field_validator("rule")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        if value is not None:
            DateRule.parse(value)
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            Duration.parse(value)
        return value


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

    @field_validator("min", "max")
    @classmethod
    def _rule(cls, value: str | None) -> str | None:
        if value is not None:
            DateRule.parse(value)
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
        return _check_guard(value)


class Notification(Model):
    """A message to the customer at a milestone or before a deadline."""

    template: str
    on_enter: str | None = None
    on: str | None = None
    at: str | None = None
    active_in: list[str] = Field(default_factory=list)
    #: Sent only while this guard on the process's attributes holds (consent, sector…).
    when: Guard | None = None
    channels: list[Channel] = Field(default_factory=lambda: list[Channel](["sms", "email"]))
    text: Localized

    @model_validator(mode="after")
    def _one_trigger(self) -> Notification:
        # No trigger at all is allowed: such a template is sent only through ``notify``.
        triggers = [t for t in (self.on_enter, self.on, self.at) if t]
        if len(triggers) > 1:
            raise ValueError("a notification has at most one of on_enter, on or at")
        _check_guard(self.when)
        if self.at is not None:
            DateRule.parse(self.at)
        return self


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
        DateRule.parse(value)
        return value


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

    @field_validator("due")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            Duration.parse(value)
        return value


class Compensation(Model):
    """What the customer is owed when a deadline is missed, where regulation grants it."""

    title: Localized
    explanation: Localized
    #: Counting starts at this date (e.g. the activation deadline) …
    after: str | None = None
    #: … and stops when the process leaves these stages (or ends).
    while_in: list[str] = Field(default_factory=list)
    #: Or: owed once each time this incident has been opened (a missed appointment).
    on_incident: str | None = None
    per: Literal["day", "working_day", "once"]
    amount: Decimal
    currency: str = "EUR"
    cap: Decimal | None = None
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


class EventType(Model):
    """An event type the process understands, and the data fields it must carry."""

    description: str
    requires: list[str] = Field(default_factory=list)


class Subject(Model):
    """What the process is about (a phone number, a CUPS, an address) and how to check it."""

    label: Localized
    key: str
    pattern: str | None = None


class AttributeDef(Model):
    """An attribute given when a process starts (e.g. prepaid or postpaid)."""

    title: Localized
    choices: list[str] | None = None
    required: bool = False
    default: Any = None


class Outcome(Model):
    """Headline and explanation shown once the process has ended this way."""

    headline: Localized
    description: Localized


class Start(Effects):
    """Effects of starting a process; ``to`` is the first stage."""

    to: str


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
