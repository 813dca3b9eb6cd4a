"""The JSON API routes: thin adapters from HTTP to the hub.

Each route parses its inputs, checks the API key's scope, calls one hub method and returns
its answer. Errors are raised, never rendered here: ``problems`` maps them to HTTP.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from relevo.domain.model import Action, Outcome
from relevo.services import intake, limits
from relevo.services.hub import Hub, StartRequest
from relevo.web import payload
from relevo.web.auth import AdminKey, AnyKey, ChannelKey, IngestKey
from relevo.web.problems import ProblemError, request_language
from relevo.web.schemas import (
    ActionRequest,
    CloudEvent,
    DeadLetterList,
    DefinitionList,
    IngestAnswer,
    IngestResultOut,
    Language,
    Problem,
    ProcessList,
    Role,
    StartProcess,
    StatusView,
    Text,
    Timeline,
)

router = APIRouter(prefix="/v1")

ProcessId = Annotated[
    Text, Path(max_length=limits.PROCESS_ID, description="The public process id (prc_…).")
]
Lang = Annotated[Language | None, Query(description="es or en; default Accept-Language.")]


def _doc(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Malformed request: the body is not valid JSON, or not what the route takes",
        401: "Missing or wrong API key",
        403: "The API key lacks the scope",
        404: "Not found",
        409: "Conflicts with the process's current state",
        413: "Too large",
        415: "Unsupported media type",
        422: "Invalid input",
    }
    return {code: {"model": Problem, "description": descriptions[code]} for code in codes}


def _hub(request: Request) -> Hub:
    hub: Hub = request.app.state.hub
    return hub


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``body`` serialised once, as is. Routes return this rather than a mapping: FastAPI
    would walk a returned mapping value by value (``jsonable_encoder``) before serialising
    it, which cost more than building a status view. Each route's ``response_model`` or
    ``responses`` still documents the answer in /openapi.json."""
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


_EVENT_SCHEMA = CloudEvent.model_json_schema()
_EVENTS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/cloudevents+json": {"schema": _EVENT_SCHEMA},
            "application/cloudevents-batch+json": {
                "schema": {"type": "array", "items": _EVENT_SCHEMA}
            },
            "application/json": {"schema": _EVENT_SCHEMA},
        },
    }
}


@router.post(
    "/events",
    tags=["ingest"],
    summary="Send one CloudEvent or a batch",
    response_model=IngestAnswer,
    status_code=200,
    responses={
        202: {"model": IngestAnswer, "description": "The single event was accepted"},
        **_doc(400, 401, 403, 413, 415, 422),
    },
    openapi_extra=_EVENTS_BODY,
)
async def post_events(request: Request, key: IngestKey) -> Response:
    """Ingest events; a batch answers 200 with one result per event, in input order.

    A single event answers 202 when accepted, 200 when duplicate or ignored, 400 when it is
    not a valid CloudEvent and 422 when the hub rejects it (unknown type, no such process);
    every answer carries ``results`` and ``counts``.
    """
    hub = _hub(request)
    received = await payload.receive(request, hub, request.app.state.max_events_body_bytes)
    results = await run_in_threadpool(hub.receive, received.items)
    body = intake.answer(results)
    if received.batch:
        return _json(body)
    result = results[0]
    if result.outcome is Outcome.ACCEPTED:
        return _json(body, 202)
    if result.outcome is not Outcome.REJECTED:
        return _json(body)
    if result.reason_code == "event_too_large":
        raise ProblemError(
            413,
            "event-too-large",
            "Event too large",
            f"{result.reason}. Nothing was applied; the event is kept, cut short, as a dead "
            "letter.",
            extensions=body,
        )
    if result.reason_code == "invalid_cloudevent":
        raise ProblemError(
            400,
            "invalid-cloudevent",
            "Invalid CloudEvent",
            f"{result.reason}. Nothing was applied; the event is kept as a dead letter.",
            extensions=body,
        )
    raise ProblemError(
        422,
        "event-rejected",
        "Event rejected",
        f"{result.reason}. Nothing was applied; the event is kept as a dead letter.",
        extensions=body,
    )


@router.post(
    "/processes",
    tags=["processes"],
    summary="Start a process",
    status_code=201,
    response_model=None,
    responses={201: {"model": StatusView}, **_doc(400, 401, 403, 409, 413, 422)},
)
def start_process(body: StartProcess, key: ChannelKey, request: Request) -> Response:
    """Open a process and return its status view in ``language`` (201, Location header)."""
    view = _hub(request).start_process(
        StartRequest(
            kind=body.kind,
            customer_id=body.customer_id,
            subject=body.subject,
            keys=body.keys,
            attributes=body.attributes,
            language=body.language,
            channel=body.channel,
            actor=body.actor or f"apikey:{key.name}",
            timezone=body.timezone,
        )
    )
    return _json(view, 201, {"Location": f"/v1/processes/{view['id']}"})


@router.get(
    "/processes",
    tags=["processes"],
    summary="Search processes",
    response_model=ProcessList,
    responses=_doc(401, 403, 422),
)
def find_processes(
    request: Request,
    key: ChannelKey,
    customer: Annotated[
        Text | None, Query(max_length=limits.CUSTOMER_ID, description="Customer id in the CRM.")
    ] = None,
    correlation: Annotated[
        Text | None,
        Query(
            alias="key",
            max_length=limits.KEY_NAME + 1 + limits.KEY_VALUE,
            description="A correlation key as name:value, e.g. msisdn:612345678.",
        ),
    ] = None,
    subject: Annotated[Text | None, Query(max_length=limits.SUBJECT)] = None,
    kind: Annotated[Text | None, Query(max_length=limits.KIND)] = None,
    status: Annotated[str | None, Query(pattern="^(active|completed|cancelled|failed)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """Summaries of the processes matching every filter, most recently updated first."""
    pair: tuple[str, str] | None = None
    if correlation is not None:
        name, sep, value = correlation.partition(":")
        if not sep or not name or not value:
            raise ProblemError(
                422,
                "invalid-request",
                "Invalid key filter",
                f"key={correlation!r} must read name:value, e.g. key=msisdn:612345678.",
                extensions={"errors": [{"location": "query.key", "message": "use name:value"}]},
            )
        pair = (name, value)
    items = _hub(request).find(
        customer_id=customer, key=pair, subject=subject, kind=kind, status=status, limit=limit
    )
    return _json({"items": items, "count": len(items)})


@router.get(
    "/processes/{process_id}",
    tags=["processes"],
    summary="Read the status view",
    response_model=None,
    responses={200: {"model": StatusView}, **_doc(401, 403, 404, 422)},
)
def get_process(
    process_id: ProcessId,
    request: Request,
    key: ChannelKey,
    lang: Lang = None,
    role: Role = "customer",
) -> Response:
    """The status view of one process in ``lang``, as ``role`` sees it."""
    return _json(_hub(request).view(process_id, lang or request_language(request), role))


@router.post(
    "/processes/{process_id}/actions/{control}",
    tags=["processes"],
    summary="Use a control (postpone, cancel, …)",
    response_model=None,
    responses={200: {"model": StatusView}, **_doc(400, 401, 403, 404, 409, 413, 422)},
)
def act(
    process_id: ProcessId,
    control: Annotated[str, Path(description="A control of the process, e.g. postpone.")],
    body: ActionRequest,
    request: Request,
    key: ChannelKey,
    lang: Lang = None,
) -> Response:
    """The new status view; a refusal answers 409 (or 422 for bad inputs) with ``refusal``."""
    action = Action(
        control=control,
        params=body.params,
        actor=body.actor or f"apikey:{key.name}",
        channel=body.channel,
        role=body.role,
        request_id=body.request_id,
    )
    return _json(_hub(request).act(process_id, action, lang or request_language(request)))


@router.get(
    "/processes/{process_id}/events",
    tags=["processes"],
    summary="Timeline with hash-chain verification",
    response_model=None,
    responses={200: {"model": Timeline}, **_doc(401, 403, 404, 422)},
)
def timeline(process_id: ProcessId, request: Request, key: ChannelKey) -> Response:
    """Every event of the process, oldest first, and whether its hash chain is intact."""
    return _json(_hub(request).timeline(process_id))


@router.get(
    "/definitions",
    tags=["definitions"],
    summary="Process kinds and versions",
    response_model=DefinitionList,
    responses=_doc(401),
)
def definitions(request: Request, key: AnyKey) -> Response:
    """The catalog this hub runs: every kind and version with stages, incidents, controls."""
    return _json({"items": _hub(request).definitions()})


@router.get(
    "/dead-letters",
    tags=["admin"],
    summary="List dead letters",
    response_model=DeadLetterList,
    responses=_doc(401, 403, 422),
)
def dead_letters(
    request: Request,
    key: AdminKey,
    status: Annotated[str, Query(pattern="^(open|replayed|discarded|all)$")] = "open",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    """Dead letters of one status (``all`` for every status), in arrival order."""
    items = _hub(request).dead_letters(None if status == "all" else status, limit)
    return _json({"items": items, "count": len(items)})


@router.post(
    "/dead-letters/{dead_letter_id}/replay",
    tags=["admin"],
    summary="Replay a dead letter",
    response_model=IngestResultOut,
    responses=_doc(401, 403, 404, 422),
)
def replay(
    dead_letter_id: Annotated[int, Path(ge=1, le=limits.MAX_ROW_ID)],
    request: Request,
    key: AdminKey,
) -> Response:
    """Feed an open dead letter through ingest again; the answer is its new outcome."""
    result = _hub(request).replay_dead_letter(dead_letter_id)
    return _json(result.as_json())
