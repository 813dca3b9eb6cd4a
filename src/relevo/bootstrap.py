"""The composition root: the only place that names concrete adapters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from relevo.adapters.clock import system_clock
from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.store import SqlStore
from relevo.config import Settings
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub


def build_hub(settings: Settings, *, clock: Callable[[], datetime] | None = None) -> Hub:
    """A Hub over the configured database and catalog (the schema must be migrated)."""
    engine = create_engine(settings.database_url)
    return Hub(SqlStore(engine), Catalog.load(settings.catalog_dir), clock or system_clock)
