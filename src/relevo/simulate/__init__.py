"""relevo simulate: a deterministic world of customers and back-ends around relevo.

The world (``World``) draws customers and what will happen to their processes from the
figures of ``shared/domain/rules.md`` §8 (every parameter in ``defaults.toml``), plays the
back-end parties — central portability node, donor operators, distributors, couriers,
technicians, billing, back office — and answers relevo's integration messages, on a
simulated clock with Spanish working days and holidays. It drives one of three relevos:

* a hub in-process — ``populate`` (history as of now) and ``trickle`` (live, in a thread);
* a JSONL file of CloudEvents — ``generate`` (byte-identical for the same inputs);
* a server over HTTP — ``drive_http``.

``relevo simulate`` is the command line over these functions.
"""

from __future__ import annotations

from relevo.simulate.clock import Pace, SimClock
from relevo.simulate.config import SimConfig, load_config
from relevo.simulate.options import SimulationOptions
from relevo.simulate.player import PlayReport, play_file
from relevo.simulate.runner import (
    drive_http,
    generate,
    populate,
    run_in_process,
    trickle,
)
from relevo.simulate.summary import Summary
from relevo.simulate.world import World

__all__ = [
    "Pace",
    "PlayReport",
    "SimClock",
    "SimConfig",
    "SimulationOptions",
    "Summary",
    "World",
    "drive_http",
    "generate",
    "load_config",
    "play_file",
    "populate",
    "run_in_process",
    "trickle",
]
