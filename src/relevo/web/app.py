"""The FastAPI application: routes, API-key checks and problem answers over one hub."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from relevo.config import (
    DEFAULT_BACKLOG_STUCK_SECONDS,
    DEFAULT_KEY_CACHE_SECONDS,
    DEFAULT_PROBLEM_BASE_URL,
    DEFAULT_UPLOAD_DIR,
)
from relevo.services import limits
from relevo.services.access.ports import AccessStore
from relevo.services.hub import Hub
from relevo.services.keys import KeyCache
from relevo.web import api, docs, health, metrics, outbox_api, pages, payload, problems
from relevo.web.body_limit import BodyLimit

DESCRIPTION = """\
relevo keeps every customer process (switching provider, moving home, leaving, …) as one
live process and shows every channel the same truth.

* Back-ends send CloudEvents to `POST /v1/events` (one, or a batch of thousands).
* Channels start processes, read their status view in Spanish or English and use controls.
* Every error is an RFC 9457 problem (`application/problem+json`).

Authenticate with an API key: `Authorization: Bearer rlv_…` or `X-API-Key: rlv_…`.
"""


def create_app(
    hub: Hub,
    *,
    keys: KeyCache | None = None,
    key_cache_seconds: float = DEFAULT_KEY_CACHE_SECONDS,
    max_body_bytes: int = limits.DEFAULT_BODY_BYTES,
    max_events_body_bytes: int = limits.DEFAULT_EVENTS_BODY_BYTES,
    problem_base_url: str = DEFAULT_PROBLEM_BASE_URL,
    backlog_stuck_seconds: float = DEFAULT_BACKLOG_STUCK_SECONDS,
    link_secret: str | None = None,
    upload_dir: Path = DEFAULT_UPLOAD_DIR,
    access: AccessStore | None = None,
    access_clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The API over ``hub`` (``relevo.bootstrap.build_app`` builds one from settings).

    ``keys`` verifies API keys; by default verified keys are remembered for
    ``key_cache_seconds``. ``POST /v1/events`` takes bodies up to
    ``max_events_body_bytes``, every other route up to ``max_body_bytes``; every error's
    ``type`` is ``problem_base_url`` followed by the problem's slug
    (``Settings.problem_base_url``). ``/readyz`` answers 503 once the oldest due outbox
    message has waited ``backlog_stuck_seconds``. With a ``link_secret`` it also serves
    the customer's pages (``relevo.web.pages``), keeping uploads under ``upload_dir`` and
    link uses, codes and rate limits in ``access`` (required with a ``link_secret``), timed
    by ``access_clock`` (default: the hub's).
    """
    app = FastAPI(
        title="relevo",
        version="1",
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        # Served by ``docs.install`` from vendored assets: the default pages load from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    app.state.hub = hub
    app.state.keys = keys or KeyCache(hub.store, ttl=key_cache_seconds)
    app.state.max_events_body_bytes = max_events_body_bytes
    app.state.backlog_stuck_seconds = backlog_stuck_seconds
    problems.install(app, problem_base_url)
    app.add_middleware(
        BodyLimit,
        limit=max_body_bytes,
        own_limits={payload.EVENTS_PATH},
        # A customer's document upload, with room for the form around it.
        prefix_limits={pages.PREFIX: max(max_body_bytes, pages.MAX_UPLOAD_BYTES + 64 * 1024)},
    )
    # Routes are matched in the order they are added, one after the other: the busiest
    # (back-ends' events and channels' status reads, then customers' pages) come before
    # the operator's own (outbox, health, metrics, docs).
    app.include_router(api.router)
    if link_secret:
        if access is None:
            raise ValueError("the customer's pages need an access store (bootstrap.build_access)")
        pages.install(app, hub, link_secret, upload_dir, access, access_clock)
    app.include_router(outbox_api.router)
    app.include_router(health.router)
    app.include_router(metrics.router)
    docs.install(app)
    return app
