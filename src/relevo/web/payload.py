"""Reading the body of ``POST /v1/events``: size limit, media type, JSON decoding.

A body that cannot be decoded is answered with a 400 problem and kept as a dead letter, so
nothing a back-end sent is lost without trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from relevo.services.hub import Hub
from relevo.services.limits import KEPT_BYTES, size_text
from relevo.web.problems import ProblemError

SINGLE = frozenset({"application/cloudevents+json", "application/json"})
BATCH = "application/cloudevents-batch+json"
#: The route whose body is read here, bounded by its own (larger) limit.
EVENTS_PATH = "/v1/events"
MAX_BATCH = 20_000


@dataclass
class Received:
    """The decoded items of a request and whether it was a batch."""

    batch: bool
    items: list[Any]


async def receive(request: Request, hub: Hub, limit: int) -> Received:
    """The CloudEvents in ``request`` (body at most ``limit`` bytes); raises ProblemError
    (400, 413, 415) when unusable."""
    media = _media_type(request)
    if request.headers.get("ce-specversion") is not None:
        raise ProblemError(
            415,
            "unsupported-media-type",
            "Binary content mode not supported",
            "Send each event in structured mode: the whole CloudEvent as the JSON body with "
            f"Content-Type application/cloudevents+json, or an array with {BATCH}.",
        )
    if media != BATCH and media not in SINGLE:
        raise ProblemError(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"Content-Type {media or '(none)'!r} is not accepted here; use "
            f"application/cloudevents+json (or application/json) for one event and {BATCH} "
            "for a JSON array of events.",
        )
    body = await _read(request, limit)
    if not body.strip():
        raise ProblemError(
            400, "empty-body", "Empty body", "The request has no body: send a CloudEvent."
        )
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        reason = f"the body is not valid JSON: {error}"
        text = body[:KEPT_BYTES].decode("utf-8", errors="replace")
        await run_in_threadpool(hub.refuse, {"raw": text}, reason)
        raise ProblemError(
            400,
            "malformed-json",
            "Malformed JSON",
            f"{reason[0].upper()}{reason[1:]}. Nothing was applied; the body is kept as a dead "
            "letter. Fix the JSON and send it again.",
        ) from None
    if isinstance(decoded, list):
        if len(decoded) > MAX_BATCH:
            raise ProblemError(
                413,
                "batch-too-large",
                "Batch too large",
                f"The batch has {len(decoded)} events; send at most {MAX_BATCH} per request.",
            )
        return Received(True, decoded)
    if media == BATCH:
        reason = f"a {BATCH} body must be a JSON array of events"
        raw = decoded if isinstance(decoded, dict) else {"value": decoded}
        await run_in_threadpool(hub.refuse, raw, reason)
        raise ProblemError(
            400,
            "not-a-batch",
            "Batch is not an array",
            f"{reason[0].upper()}{reason[1:]}; send a single event as "
            "application/cloudevents+json instead. The body is kept as a dead letter.",
        )
    return Received(False, [decoded])


def _media_type(request: Request) -> str:
    header = request.headers.get("content-type", "application/json")
    return header.split(";", 1)[0].strip().lower()


async def _read(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ProblemError:
    return ProblemError(
        413,
        "body-too-large",
        "Body too large",
        f"The body is larger than {size_text(limit)}; split it into several batches.",
    )
