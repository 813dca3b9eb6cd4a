"""Every error the API answers, as RFC 9457 problem details, mapped in one place.

Routes raise domain and service exceptions (or ``ProblemError`` for errors found at the
edge); ``install`` registers the handlers that turn each into ``application/problem+json``
with the HTTP status, a stable ``type`` and a ``detail`` a person can act on.

A ``type`` is the app's problem base URL (``app.state.problem_base_url``, from
``create_app``) followed by a stable slug; every slug is documented in docs/problems.md.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from relevo.config import DEFAULT_PROBLEM_BASE_URL
from relevo.domain.errors import ActionRefused, InvalidStart, UnknownControl
from relevo.services.hub import KeyInUse, NotFound, UnknownKind
from relevo.services.limits import InvalidInput
from relevo.services.records import ConcurrencyConflict, StoreUnavailable

MEDIA_TYPE = "application/problem+json"
#: Seconds a client is told to wait after giving way to concurrent writers: they are gone
#: as soon as they commit, so a second is plenty.
WRITE_CONFLICT_RETRY_AFTER = 1

log = logging.getLogger("relevo.web")


class ProblemError(Exception):
    """An error found at the edge (bad body, bad key, …) that answers as a problem."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        *,
        extensions: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.extensions = dict(extensions or {})
        self.headers = dict(headers or {})


def problem(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A problem+json response about ``request``; extensions never override the core members."""
    body: dict[str, Any] = dict(extensions or {})
    body.update(
        type=request.app.state.problem_base_url + slug,
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
    )
    return Response(orjson.dumps(body), status, dict(headers or {}), media_type=MEDIA_TYPE)


def request_language(request: Request) -> str:
    """``es`` or ``en``: the ``lang`` query parameter, else Accept-Language, else Spanish."""
    lang = request.query_params.get("lang")
    if lang in ("es", "en"):
        return lang
    accepted = request.headers.get("accept-language", "").strip().lower()
    return "en" if accepted.startswith("en") else "es"


Handler = Callable[[Request, Any], Awaitable[Response]]


async def _edge(request: Request, error: ProblemError) -> Response:
    return problem(
        request,
        error.status,
        error.slug,
        error.title,
        error.detail,
        error.extensions,
        error.headers,
    )


async def _validation(request: Request, error: RequestValidationError) -> Response:
    unparseable = [item for item in error.errors() if item.get("type") == "json_invalid"]
    if unparseable:
        where = unparseable[0].get("ctx", {}).get("error", "")
        return problem(
            request,
            400,
            "malformed-json",
            "Malformed JSON",
            f"The body is not valid JSON ({where or 'cannot be decoded'}); nothing was "
            "applied. Send a JSON object as described in /openapi.json.",
        )
    errors = [
        {"location": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
        for item in error.errors()
    ]
    listed = "; ".join(f"{item['location']}: {item['message']}" for item in errors)
    return problem(
        request,
        422,
        "invalid-request",
        "The request has invalid fields",
        f"Fix these fields and send it again: {listed}",
        {"errors": errors},
    )


async def _invalid_input(request: Request, error: InvalidInput) -> Response:
    errors = [{"location": where, "message": what} for where, what in error.problems]
    return problem(
        request,
        422,
        "invalid-request",
        "The request has invalid fields",
        f"Fix these fields and send it again: {error}. Nothing was applied.",
        {"errors": errors},
    )


async def _http(request: Request, error: StarletteHTTPException) -> Response:
    if error.status_code == 404:
        return problem(
            request,
            404,
            "no-such-route",
            "No such route",
            f"There is no route {request.method} {request.url.path}; "
            "the routes are listed in /openapi.json and /docs.",
        )
    if error.status_code == 405:
        return problem(
            request,
            405,
            "method-not-allowed",
            "Method not allowed",
            f"{request.url.path} does not accept {request.method}; "
            "see /openapi.json for the methods it takes.",
            headers=error.headers,
        )
    return problem(
        request,
        error.status_code,
        "http-error",
        "Request failed",
        str(error.detail),
        headers=error.headers,
    )


async def _not_found(request: Request, error: NotFound) -> Response:
    return problem(request, 404, "not-found", "Not found", str(error))


async def _unknown_kind(request: Request, error: UnknownKind) -> Response:
    return problem(request, 422, "unknown-kind", "Unknown process kind", str(error))


async def _invalid_start(request: Request, error: InvalidStart) -> Response:
    return problem(
        request, 422, "invalid-start", "The process cannot start with these inputs", str(error)
    )


async def _key_in_use(request: Request, error: KeyInUse) -> Response:
    return problem(request, 409, "key-in-use", "Correlation key in use", str(error))


async def _unknown_control(request: Request, error: UnknownControl) -> Response:
    return problem(request, 404, "unknown-control", "Unknown control", str(error))


async def _refused(request: Request, error: ActionRefused) -> Response:
    lang = request_language(request)
    refusal = error.as_json(lang)
    title = "Action refused" if lang == "en" else "Acción rechazada"
    detail = refusal["reason"]
    if refusal["problems"]:
        detail += " " + " ".join(f"{p['field']}: {p['message']}" for p in refusal["problems"])
    # Inputs out of bounds are unprocessable; anything else conflicts with the process's state.
    if error.code == "invalid_params":
        return problem(request, 422, "invalid-params", title, detail, {"refusal": refusal})
    return problem(request, 409, "refused", title, detail, {"refusal": refusal})


async def _store_unavailable(request: Request, error: StoreUnavailable) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, error)
    return problem(
        request,
        503,
        "store-unavailable",
        "Database unavailable",
        f"The database cannot serve this request now ({error.reason}). Send it again in "
        f"{error.retry_after} s: nothing of it was applied unless the connection broke while "
        "committing, and a resent event or action (same id) is recognised and applied once. "
        "If it lasts, tell the people who run this service.",
        headers={"Retry-After": str(error.retry_after)},
    )


async def _write_conflict(request: Request, error: ConcurrencyConflict) -> Response:
    log.warning("writers kept conflicting on %s %s: %s", request.method, request.url.path, error)
    return problem(
        request,
        503,
        "write-conflict",
        "Too many concurrent changes",
        "Other requests kept changing the same processes at the same moment and this one "
        "gave way each time; nothing of it was applied. Send it again.",
        headers={"Retry-After": str(WRITE_CONFLICT_RETRY_AFTER)},
    )


class CatchUnexpected:
    """ASGI middleware answering any unhandled error with a 500 problem.

    Starlette's own last-resort handler re-raises after answering, and the server then
    closes the connection: a client keeping connections alive would see its next request
    reset. This middleware answers and swallows the error (it is logged with its traceback),
    so the connection stays usable. An error after the answer has started cannot be answered
    any more and goes on up.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app; turn an unhandled error before the answer starts into a 500 problem."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as error:
            if started:
                raise
            request = Request(scope)
            log.exception(
                "unhandled error on %s %s", request.method, request.url.path, exc_info=error
            )
            response = problem(
                request,
                500,
                "internal-error",
                "Internal error",
                "Something failed on our side and it is logged; if it keeps failing, "
                "tell the people who run this service the time of the request.",
            )
            await response(scope, receive, send)


HANDLERS: dict[type[Exception], Handler] = {
    ProblemError: _edge,
    RequestValidationError: _validation,
    InvalidInput: _invalid_input,
    StarletteHTTPException: _http,
    NotFound: _not_found,
    UnknownKind: _unknown_kind,
    InvalidStart: _invalid_start,
    KeyInUse: _key_in_use,
    UnknownControl: _unknown_control,
    ActionRefused: _refused,
    StoreUnavailable: _store_unavailable,
    ConcurrencyConflict: _write_conflict,
}


def install(app: FastAPI, base_url: str = DEFAULT_PROBLEM_BASE_URL) -> None:
    """Register every problem handler on ``app`` and document every error answer of its
    OpenAPI document as ``application/problem+json``; each problem's ``type`` is
    ``base_url`` followed by its slug."""
    app.state.problem_base_url = base_url
    for exception, handler in HANDLERS.items():
        app.add_exception_handler(exception, handler)
    app.add_middleware(CatchUnexpected)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = as_problem_documents(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def as_problem_documents(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with every 4xx/5xx answer described as a problem+json ``Problem``."""
    reference = {"$ref": "#/components/schemas/Problem"}
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for status, answer in operation.get("responses", {}).items():
                if status[:1] in ("4", "5"):
                    answer["content"] = {MEDIA_TYPE: {"schema": dict(reference)}}
    return document
