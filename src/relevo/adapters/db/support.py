"""Small helpers shared by the store modules: JSON encoding and IN-list chunking."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

import orjson

from relevo.domain.model import ProcessState

#: Largest IN-list sent in one query; keeps statements well under every driver's limits.
CHUNK = 500

_T = TypeVar("_T")


def dump_json(value: Any) -> str:
    """Serialise a JSON-ready value compactly (orjson)."""
    return orjson.dumps(value).decode()


def load_state(text: str) -> ProcessState:
    """Parse a ``processes.state`` column back into a ``ProcessState``."""
    return ProcessState.from_json(orjson.loads(text))


def chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """Consecutive slices of at most ``CHUNK`` items."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]
