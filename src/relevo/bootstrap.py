"""The composition root: the only place that names concrete adapters.

Entry points (the web app, the CLI, the demo, the simulator, the benchmarks) build what
they need here and never open a store or an engine themselves.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime

from fastapi import FastAPI

from relevo.adapters.clock import system_clock
from relevo.adapters.db import migrate as migrations
from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.store import SqlStore
from relevo.adapters.memory import MemoryStore
from relevo.config import Settings
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub
from relevo.services.keys import KeyCache
from relevo.services.limits import Limits
from relevo.services.state_cache import DEFAULT_CAPACITY
from relevo.web.app import create_app

Clock = Callable[[], datetime]


def tune_runtime() -> None:
    """Process-wide tuning for a service that allocates many short-lived JSON objects.

    Ingest builds and drops thousands of small dicts per batch, none of them in reference
    cycles; with the default thresholds the cycle collector runs hundreds of times per batch
    and walks every live object (catalog, SQLAlchemy) each time — about a fifth of ingest
    time. Collecting young objects every 50,000 allocations keeps it out of the way.
    Long-running entry points (serve, ingest, demo, simulate) call it once at start.
    """
    gc.set_threshold(50_000, 20, 100)


def build_store(settings: Settings) -> SqlStore:
    """The SQL store over the configured database (not migrated here)."""
    return SqlStore(create_engine(settings.database_url))


def build_hub(settings: Settings, *, clock: Clock | None = None) -> Hub:
    """A Hub over the configured database and catalog (the schema must be migrated).

    ``clock`` defaults to the system clock. Call ``Hub.close`` when done with it.
    """
    return Hub(
        build_store(settings),
        Catalog.load(settings.catalog_dir),
        clock or system_clock,
        state_cache=settings.state_cache,
        stream_writer=settings.ingest_writer,
        limits=Limits(event_bytes=settings.max_event_bytes, json_depth=settings.max_json_depth),
    )


def memory_hub(
    *,
    catalog: Catalog | None = None,
    clock: Clock | None = None,
    state_cache: int = DEFAULT_CAPACITY,
) -> Hub:
    """A Hub over an empty in-memory store (tests, experiments): nothing survives it, and
    streams are ingested one batch at a time."""
    return Hub(
        MemoryStore(),
        catalog or Catalog.load(),
        clock or system_clock,
        state_cache=state_cache,
    )


def app_for(hub: Hub, settings: Settings | None = None) -> FastAPI:
    """The HTTP API over ``hub``, configured by ``settings`` (key cache time, body size
    limits, problem type base URL; the defaults when ``None``)."""
    settings = settings or Settings()
    return create_app(
        hub,
        keys=KeyCache(hub.store, ttl=settings.key_cache_seconds),
        max_body_bytes=settings.max_body_bytes,
        max_events_body_bytes=settings.max_events_body_bytes,
        problem_base_url=settings.problem_base_url,
    )


def build_app(settings: Settings, *, clock: Clock | None = None) -> FastAPI:
    """The HTTP API over the hub ``build_hub`` gives for ``settings``."""
    return app_for(build_hub(settings, clock=clock), settings)


def schema_revisions(settings: Settings) -> tuple[str | None, str | None]:
    """``(the database's schema revision, the one the code needs)``; ``None``: empty."""
    return migrations.current_revision(settings.database_url), migrations.head_revision()


def migrate(settings: Settings) -> str | None:
    """Migrate the configured database to the code's schema; returns the revision it was
    at before (``None``: it was empty)."""
    before = migrations.current_revision(settings.database_url)
    migrations.upgrade(settings.database_url)
    return before
