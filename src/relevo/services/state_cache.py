"""Process states kept in memory between ingest batches.

Reading a state back means fetching and parsing a JSON document of a few kilobytes; a
process that receives a message every few seconds would pay that on every batch. The cache
keeps recently used states, bounded by a number of entries (about 8 KB each), and trusts an
entry only at the version the store confirms for each batch: whatever wrote the process
meanwhile (another server process, an action, a repair) bumps the stored version, and the
entry simply misses. Entries are *checked out* while a batch works on them, so two batches
running at once never share a state object, and they come back only after the batch has
committed (or, in a pipelined stream, as soon as they are handed to the writer: if that
write then fails, its entries are discarded before anything else reads the cache), so an
uncommitted state can never be mistaken for a stored one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from relevo.domain.model import ProcessState

#: About 8 KB of memory per state: 25,000 entries cost about 200 MB.
DEFAULT_CAPACITY = 25_000


class StateCache:
    """A bounded, least-recently-used set of process states, version-checked on use."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 0:
            raise ValueError("the state cache capacity cannot be negative")
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[str, ProcessState] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False when the capacity is zero: every state is read from the store."""
        return self.capacity > 0

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, process_id: str) -> ProcessState | None:
        """The cached state of one process, left in place (for inspection only: it must
        not be modified)."""
        with self._lock:
            return self._entries.get(process_id)

    def take(self, stored_versions: Mapping[str, int]) -> dict[str, ProcessState]:
        """Check out the cached states whose version equals the stored one.

        ``stored_versions`` maps process ids to their version in the store. Entries at any
        other version are dropped. The states returned leave the cache until ``give_back``.
        """
        found: dict[str, ProcessState] = {}
        with self._lock:
            entries = self._entries
            for pid, version in stored_versions.items():
                state = entries.pop(pid, None)
                if state is not None and state.version == version:
                    found[pid] = state
            self.hits += len(found)
            self.misses += len(stored_versions) - len(found)
        return found

    def give_back(self, states: Iterable[ProcessState]) -> None:
        """Keep ``states``, which must be exactly as now committed to the store.

        The least recently used entries go when the cache is over capacity.
        """
        if not self.capacity:
            return
        with self._lock:
            entries = self._entries
            for state in states:
                held = entries.get(state.id)
                if held is not None and held.version > state.version:
                    continue  # a later batch already returned a newer state
                entries[state.id] = state
                entries.move_to_end(state.id)
            while len(entries) > self.capacity:
                entries.popitem(last=False)

    def discard(self, process_ids: Iterable[str]) -> None:
        """Forget the entries of these processes (states of a write that did not happen)."""
        with self._lock:
            for pid in process_ids:
                self._entries.pop(pid, None)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
