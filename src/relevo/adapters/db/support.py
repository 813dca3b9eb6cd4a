"""Small helpers shared by the store modules: JSON encoding and the IN-list size."""

from __future__ import annotations

from typing import Any

import orjson

from relevo.domain.model import ProcessState

#: Largest IN-list sent in one query; keeps statements well under every driver's limits.
CHUNK = 500


def dump_json(value: Any) -> str:
    """Serialise a JSON-ready value compactly (orjson)."""
    return orjson.dumps(value).decode()


def load_state(text: str) -> ProcessState:
    """Parse a ``processes.state`` column back into a ``ProcessState``."""
    return ProcessState.from_json(orjson.loads(text))
