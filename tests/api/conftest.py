"""An API over an emptied, migrated database (SQLite, and PostgreSQL when configured) and a
clock the test moves by hand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from relevo.adapters.db.store import SqlStore
from relevo.bootstrap import build_hub
from relevo.config import Settings
from relevo.services.keys import create_key
from relevo.web.app import create_app

from .builders import START, Api, Clock, TestClient


@pytest.fixture
def api(db_url: str, store: SqlStore) -> Iterator[Api]:
    """A fresh API on an emptied, migrated database, with one key per scope."""
    clock = Clock(START)
    hub = build_hub(Settings(database_url=db_url), clock=clock)
    keys = {
        scope: create_key(hub.store, f"{scope}-key", [scope])[1]
        for scope in ("ingest", "channel", "admin")
    }
    with TestClient(create_app(hub), raise_server_exceptions=True) as client:
        yield Api(client, hub, clock, keys)
    hub.store.engine.dispose()
