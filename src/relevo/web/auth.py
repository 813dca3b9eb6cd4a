"""API-key authentication and scope checks, as FastAPI dependencies.

A key travels as ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. Missing or
wrong keys answer 401; a valid key without the scope a route needs answers 403 naming it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from relevo.services.keys import ApiKey, KeyCache, looks_like_key
from relevo.web.problems import ProblemError

_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer rlv_…")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: rlv_…")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="relevo"'}
_HOW = (
    "Send your API key as 'Authorization: Bearer rlv_…' or in the 'X-API-Key' header; "
    "an administrator creates keys with 'relevo keys create NAME --scope …'."
)


def _cache(request: Request) -> KeyCache:
    cache: KeyCache = request.app.state.keys
    return cache


#: Query parameters that clients commonly (and wrongly) use to send a key in the URL.
_KEY_PARAMETERS = frozenset({"api_key", "apikey", "api-key", "x-api-key", "access_token", "token"})


def _key_in_query(request: Request) -> str | None:
    """The name of a query parameter that carries an API key, if any."""
    for name, value in request.query_params.multi_items():
        if name.lower() in _KEY_PARAMETERS or looks_like_key(value):
            return name
    return None


Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
Header = Annotated[str | None, Depends(_header)]


async def current_key(request: Request, bearer: Bearer, header: Header) -> ApiKey:
    """The verified key of this request; raises a 401 problem if it is missing or wrong,
    and a 400 problem if a key travels in the URL (URLs are logged and shared).

    Runs on the event loop (a synchronous dependency would cost a trip to the thread pool
    per request); only a key not verified recently is looked up in the store, in a thread.
    """
    parameter = _key_in_query(request)
    if parameter is not None:
        raise ProblemError(
            400,
            "api-key-in-url",
            "API key in the URL",
            f"The query parameter {parameter!r} carries an API key. URLs are written to logs "
            "and kept in histories, so a key there is refused: send it in the "
            "'Authorization: Bearer rlv_…' or 'X-API-Key' header instead, and consider the key "
            "exposed (ask an administrator to revoke it and create a new one).",
            extensions={"parameter": parameter},
        )
    presented = bearer.credentials if bearer is not None else header
    if not presented:
        raise ProblemError(401, "missing-api-key", "API key required", _HOW, headers=_CHALLENGE)
    cache = _cache(request)
    known, key = cache.remembered(presented)
    if not known:
        key = await run_in_threadpool(cache.verify, presented)
    if key is None:
        raise ProblemError(
            401,
            "invalid-api-key",
            "API key not accepted",
            "The API key is unknown, malformed or revoked. Check that you sent the whole key "
            "as shown when it was created (rlv_<prefix>_<secret>), or ask for a new one.",
            headers=_CHALLENGE,
        )
    return key


def scope(name: str) -> Callable[[Request, Bearer, Header], Awaitable[ApiKey]]:
    """A dependency that admits keys carrying scope ``name`` (or ``admin``), else 403."""

    # Calls current_key itself rather than depending on it: FastAPI's resolution of each
    # level of dependencies costs about as much per request as the rest of the check.
    async def admit(request: Request, bearer: Bearer, header: Header) -> ApiKey:
        key = await current_key(request, bearer, header)
        if not key.allows(name):
            held = ", ".join(sorted(key.scopes)) or "none"
            raise ProblemError(
                403,
                "missing-scope",
                "API key lacks a scope",
                f"This route needs an API key with the {name!r} scope (or 'admin'); "
                f"key {key.name!r} has: {held}.",
                extensions={"required_scope": name},
            )
        return key

    return admit


AnyKey = Annotated[ApiKey, Depends(current_key)]
IngestKey = Annotated[ApiKey, Depends(scope("ingest"))]
ChannelKey = Annotated[ApiKey, Depends(scope("channel"))]
AdminKey = Annotated[ApiKey, Depends(scope("admin"))]
