"""The composition root: the only place that names concrete adapters."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import datetime

from relevo.adapters.clock import system_clock
from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.store import SqlStore
from relevo.config import Settings
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub


def tune_runtime() -> None:
    """Process-wide tuning for a service that allocates many short-lived JSON objects.

    Ingest builds and drops thousands of small dicts per batch, none of them in reference
    cycles; with the default thresholds the cycle collector runs hundreds of times per batch
    and walks every live object (catalog, SQLAlchemy) each time — about a fifth of ingest
    time. Collecting young objects every 50,000 allocations keeps it out of the way.
    """
    gc.set_threshold(50_000, 20, 100)


def build_hub(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Hub:
    """A Hub over the configured database and catalog (the schema must be migrated)."""
    tune_runtime()
    engine = create_engine(settings.database_url)
    catalog = Catalog.load(settings.catalog_dir)
    return Hub(
        SqlStore(engine),
        catalog,
        clock or system_clock,
        state_cache=settings.state_cache,
        stream_writer=settings.ingest_writer,
    )
