"""Request and response bodies of the JSON API, as pydantic models.

Request models are validated by FastAPI (a bad field answers a 422 problem listing every
field). Response models document the answers in OpenAPI; the status view is built by the
domain and passes through unchanged, so its model only names the main members.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from relevo.services import limits

Language = Literal["es", "en"]
Role = Literal["customer", "agent"]


def _without_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain a NUL character (\\u0000)")
    return value


#: Text a store can keep: no NUL character (lengths are set where it is used).
Text = Annotated[str, AfterValidator(_without_nul)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class CloudEvent(_Open):
    """One CloudEvent 1.0 in structured JSON mode (extensions are allowed)."""

    specversion: Literal["1.0"]
    id: str = Field(
        max_length=limits.MESSAGE_ID,
        description="Unique per source; a resend with the same id is a duplicate.",
    )
    source: str = Field(
        max_length=limits.SOURCE,
        description="The sending system, e.g. /bss/portability-gateway.",
    )
    type: str = Field(
        max_length=limits.EVENT_TYPE,
        description="An event type of the process definition, e.g. nc.accepted.",
    )
    subject: str | None = Field(
        None, max_length=limits.PROCESS_ID, description="The relevo process id, when known."
    )
    time: str | None = Field(
        None,
        description="RFC 3339 with offset, between 1900 and 2999; defaults to reception.",
    )
    datacontenttype: str | None = Field(None, description="application/json if present.")
    data: dict[str, Any] | None = Field(
        None,
        description="Event data; a correlation key here (e.g. msisdn) finds the process. "
        "No text may hold a NUL character, and objects and arrays nest at most 32 levels "
        "deep by default (RELEVO_MAX_JSON_DEPTH).",
    )
    relevoactor: str | None = Field(
        None, max_length=limits.ACTOR, description="Who caused the event (default system)."
    )
    relevochannel: str | None = Field(
        None, max_length=limits.CHANNEL, description="Through which channel (default backend)."
    )


class IngestResultOut(BaseModel):
    """What became of one event of the request."""

    index: int
    id: str | None
    source: str | None
    outcome: Literal["accepted", "duplicate", "ignored", "rejected"]
    process_id: str | None
    reason: str | None
    reason_code: str | None = Field(
        description="Why: e.g. `parked` (accepted, waiting for a later stage of the process), "
        "`out_of_order`, `missing_data`, `unknown_process`."
    )


class IngestAnswer(BaseModel):
    """Every event's outcome, in input order, and how many had each outcome."""

    results: list[IngestResultOut]
    counts: dict[str, int]


class StartProcess(_Strict):
    """What a channel sends to start a process."""

    kind: Text = Field(
        max_length=limits.KIND,
        description="Process kind, e.g. mobile_port_in (see /v1/definitions).",
    )
    customer_id: Text = Field(
        min_length=1, max_length=limits.CUSTOMER_ID, description="The customer's id in the CRM."
    )
    subject: Text = Field(
        min_length=1,
        max_length=limits.SUBJECT,
        description="What the process is about, e.g. the number.",
    )
    keys: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description=f"Correlation keys: names of at most {limits.KEY_NAME} characters, values "
        f"of at most {limits.KEY_VALUE}; a list gives one name several values (a process "
        "reached by two numbers), and a message naming any of them reaches the process.",
    )
    attributes: dict[str, Any] = Field(default_factory=dict)
    language: Language = "es"
    channel: Text = Field(
        "api",
        min_length=1,
        max_length=limits.CHANNEL,
        description="web, app, store, call_centre, …",
    )
    actor: Text | None = Field(
        None, max_length=limits.ACTOR, description="Who asks; defaults to the API key's name."
    )
    timezone: Text | None = Field(
        None, max_length=limits.TIME_ZONE, description="IANA zone, e.g. Atlantic/Canary."
    )


class ActionRequest(_Strict):
    """A request to use one control of a process."""

    params: dict[str, Any] = Field(default_factory=dict, description="The control's inputs.")
    actor: Text | None = Field(None, description="Who acts; defaults to the API key's name.")
    channel: Text = Field("api", min_length=1, max_length=limits.CHANNEL)
    role: Role = "customer"
    request_id: Text | None = Field(
        None,
        max_length=limits.MESSAGE_ID,
        description="Idempotency key chosen by the caller.",
    )


class StatusView(_Open):
    """What a person reads about one process (every member of the view is returned)."""

    id: str
    kind: str
    language: Language
    status: str
    headline: str
    headline_date: str | None
    stage: dict[str, Any] | None
    stages: list[dict[str, Any]]
    controls: list[dict[str, Any]]
    dates: list[dict[str, Any]]
    keys: dict[str, str | list[str]]
    notifications: list[dict[str, Any]] | None = Field(
        None,
        description="Agent view only: every attempt to deliver the process's notifications "
        "(sent, deferred, superseded, failed), oldest first.",
    )


class ProcessSummary(_Open):
    """One process in a search result."""

    id: str
    kind: str
    status: str
    stage: str
    subject: str
    customer_id: str
    updated_at: str


class ProcessList(BaseModel):
    """Processes matching a search, most recently updated first."""

    items: list[ProcessSummary]
    count: int


class Timeline(_Open):
    """The log of one process and whether its hash chain is intact."""

    process_id: str
    chain_valid: bool
    broken_at_version: int | None
    events: list[dict[str, Any]]
    #: Every attempt to deliver the process's outbound messages, oldest first.
    deliveries: list[dict[str, Any]] = []


class DeadLetterOut(_Open):
    """An inbound message that could not be processed."""

    id: int
    received_at: str
    source: str
    message_id: str | None
    type: str | None
    payload: Any
    reason: str
    status: str


class DeadLetterList(BaseModel):
    """Dead letters in arrival order."""

    items: list[DeadLetterOut]
    count: int


class DefinitionList(BaseModel):
    """The process kinds and versions this hub runs."""

    items: list[dict[str, Any]]


class Problem(_Open):
    """An RFC 9457 problem; extensions such as ``errors`` or ``refusal`` may follow."""

    type: str
    title: str
    status: int
    detail: str
    instance: str


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok"]
    checks: dict[str, str] = Field(default_factory=dict)
