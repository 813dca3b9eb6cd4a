"""Cutting long lists into pieces: IN-lists of bounded size, transactions of bounded size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    """Consecutive slices of ``items`` of at most ``size`` items each, in order."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
