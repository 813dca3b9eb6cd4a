"""Fixtures for the simulator: one catalog, fresh SQLite hubs on a simulated clock, and one
populated database shared by the tests that only read it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from relevo.adapters.db.engine import create_engine
from relevo.adapters.db.migrate import upgrade
from relevo.adapters.db.store import SqlStore
from relevo.services.catalog import Catalog
from relevo.services.hub import Hub
from relevo.simulate import SimClock, SimulationOptions, Summary, populate

from .support import COVERAGE_RUN, NOW


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped catalog, loaded once."""
    return Catalog.load()


HubFactory = Callable[[], Hub]


@pytest.fixture
def new_hub(tmp_path: Path, catalog: Catalog) -> Iterator[HubFactory]:
    """Makes hubs on fresh, migrated SQLite files with a ``SimClock``."""
    hubs: list[Hub] = []

    def make() -> Hub:
        engine = create_engine(f"sqlite:///{tmp_path / f'sim{len(hubs)}.db'}")
        upgrade(engine)
        hub = Hub(SqlStore(engine), catalog, SimClock())
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.store.engine.dispose()


@pytest.fixture(scope="module")
def populated(
    tmp_path_factory: pytest.TempPathFactory, catalog: Catalog
) -> Iterator[tuple[Hub, Summary]]:
    """A database populated with ``COVERAGE_RUN`` processes as of ``NOW`` (seed 7)."""
    path = tmp_path_factory.mktemp("populated") / "relevo.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    hub = Hub(SqlStore(engine), catalog, SimClock())
    summary = populate(hub, SimulationOptions(processes=COVERAGE_RUN, seed=7, now=NOW))
    yield hub, summary
    engine.dispose()
