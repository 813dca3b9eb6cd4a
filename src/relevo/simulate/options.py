"""What a simulation run is asked for: one options object for every entry point.

``relevo simulate`` (and ``relevo demo``) build a ``SimulationOptions`` once and hand it to
``populate``, ``generate``, ``drive_http``, ``run_in_process`` or ``trickle``. Every field
left at ``None`` falls back to the configuration (``[run]`` for a history run, ``[live]``
for a live one), so ``SimulationOptions()`` is the documented default run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from relevo.services.catalog import Catalog
from relevo.simulate.config import SimConfig, load_config


@dataclass(frozen=True)
class SimulationOptions:
    """The inputs of one run; with the same options the world is the same.

    ``now`` is the moment a history run is as of, or where a live run starts (default: the
    current time, or the hub's clock for ``trickle``). ``days`` bounds the simulated span
    (default: each kind's ``window_days`` for a history run, ``live.days`` for a live one).
    ``speed`` paces a live run on the wall clock. ``run_tag`` sets the world apart from an
    earlier run with the same seed (event ids ``sim-<seed>-<tag>-<n>``).
    """

    processes: int | None = None
    seed: int | None = None
    now: datetime | None = None
    days: float | None = None
    speed: float | None = None
    config: SimConfig | None = None
    catalog: Catalog | None = None
    run_tag: str = ""
    #: New processes per simulated hour of ``trickle`` (default ``live.processes_per_hour``).
    processes_per_hour: float | None = None

    def moment(self) -> datetime:
        """``now`` in UTC (the current time when not given)."""
        return (self.now or datetime.now(UTC)).astimezone(UTC)

    def resolved(self) -> Resolved:
        """The configuration and the run's process count and seed (defaults from ``[run]``)."""
        config = self.config or load_config()
        run = config.section("run")
        return Resolved(
            config,
            run.integer("processes") if self.processes is None else self.processes,
            run.integer("seed") if self.seed is None else self.seed,
        )

    def the_catalog(self) -> Catalog:
        """``catalog``, else the shipped one."""
        return self.catalog or Catalog.load()


class Resolved(NamedTuple):
    """The options' configuration, process count and seed once defaults are applied."""

    config: SimConfig
    processes: int
    seed: int


__all__ = ["Resolved", "SimulationOptions"]
