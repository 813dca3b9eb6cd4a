"""The simulator's output is pinned, and every kind's declared shape fits its flow."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

from relevo.services.catalog import Catalog
from relevo.simulate import SimulationOptions, World, generate, load_config
from relevo.simulate.kinds import FLOWS
from relevo.simulate.kinds.shape import shape_of
from relevo.simulate.ports.model import ModelPort

from .support import NOW

#: sha256 of the JSONL below. A change to it is a change of the simulated world: make it
#: on purpose (the same seed no longer gives the same stream as before), never by accident.
PINNED = "c1bf9a81f4d300ba362db779ed9366a3f2963d52fb6e2bc4a2bf61cb5c5372ee"


def test_a_seed_gives_the_stream_it_always_gave(catalog: Catalog) -> None:
    stream = io.BytesIO()
    generate(stream, SimulationOptions(processes=120, seed=5, now=NOW, catalog=catalog))

    assert len(stream.getvalue().splitlines()) == 747
    assert hashlib.sha256(stream.getvalue()).hexdigest() == PINNED


def test_every_topic_of_a_shape_names_a_method_of_its_flow(catalog: Catalog) -> None:
    world = World(
        config=load_config(),
        catalog=catalog,
        port=ModelPort(catalog),
        seed=1,
        start=datetime(2025, 3, 5, tzinfo=UTC),
    )
    for kind, flow_type in FLOWS.items():
        shape = shape_of(kind)
        for topic, method in shape.topics.items():
            assert callable(getattr(flow_type, method, None)), f"{kind}: {topic} -> {method}"
        assert not set(shape.topics) & shape.consumed, kind
        fates = world.flows[kind].coverage()
        assert fates and all("each" not in fate for fate in fates), kind
