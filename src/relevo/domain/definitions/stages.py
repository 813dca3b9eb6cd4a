"""What the customer follows along the way: stages with their SLAs, dates and notifications."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from relevo.domain.definitions.base import Actor, Channel, Guard, Localized, Model, check_guard
from relevo.domain.timerules import Duration, parse_date_expr


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
        return check_guard(value)


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
            parse_date_expr(value)
        return value

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            Duration.parse(value)
        return value


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
    #: The e-mail subject (placeholders as in ``text``); the definition's title when absent.
    subject: Localized | None = None
    #: Sent at once even in the customer's quiet hours and over the daily cap (a cut-off
    #: today, a problem only the customer can solve). Also derived at send time.
    critical: bool = False

    @model_validator(mode="after")
    def _one_trigger(self) -> Notification:
        # No trigger at all is allowed: such a template is sent only through ``notify``.
        triggers = [t for t in (self.on_enter, self.on, self.at) if t]
        if len(triggers) > 1:
            raise ValueError("a notification has at most one of on_enter, on or at")
        check_guard(self.when)
        if self.at is not None:
            parse_date_expr(self.at)
        return self
