"""Process states kept in memory between ingest batches, and who owns each one.

Reading a state back means fetching and parsing a JSON document of a few kilobytes; a
process that receives a message every few seconds would pay that on every batch. The cache
keeps recently used states, bounded by a number of entries (about 8 KB each), and trusts an
entry only at the version the store confirms for each batch: whatever wrote the process
meanwhile (another server process, an action, a repair) bumps the stored version, and the
entry simply misses.

Ownership, the one place it is stated (``docs/streamed-ingest.md`` explains the stream):

* An entry in the cache belongs to the cache: nobody modifies it (``peek`` is for looking).
* A state checked out (``take``, ``take_in_flight``) belongs to the one batch that took it,
  which may advance it in place; no other batch can get the same object meanwhile.
* It comes back in one of two ways. ``give_back``: the batch has committed, the state is
  exactly what the store holds. ``hold_in_flight``: a streamed batch handed its rows to the
  writer and has not committed yet; the entry is *in flight* until that batch lands and
  says so with ``committed`` or ``not_written`` (which forgets it). Only a streamed batch
  planned on top of the one in flight may take such an entry (``take_in_flight``); ``take``
  never hands one out, and ``give_back`` never replaces one.
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
        #: The version each uncommitted entry will have once its batch commits, by process.
        self._in_flight: dict[str, int] = {}
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
        """Check out the committed entries whose version equals the stored one.

        ``stored_versions`` maps process ids to their version in the store. Committed
        entries at any other version are dropped; entries in flight stay, and miss. The
        states returned belong to the caller until ``give_back``.
        """
        found: dict[str, ProcessState] = {}
        with self._lock:
            entries = self._entries
            for pid, version in stored_versions.items():
                if pid in self._in_flight:
                    continue
                state = entries.pop(pid, None)
                if state is not None and state.version == version:
                    found[pid] = state
            self.hits += len(found)
            self.misses += len(stored_versions) - len(found)
        return found

    def take_in_flight(self, versions: Mapping[str, int]) -> dict[str, ProcessState] | None:
        """Check out every entry at exactly the version given, in flight or committed
        since (the versions batches in flight give these processes); ``None``, and
        nothing checked out, unless all of them are here."""
        with self._lock:
            entries = self._entries
            missing = sum(
                1
                for pid, version in versions.items()
                if (state := entries.get(pid)) is None or state.version != version
            )
            if missing:
                self.misses += missing
                return None
            self.hits += len(versions)
            return {pid: entries.pop(pid) for pid in versions}

    def give_back(self, states: Iterable[ProcessState]) -> None:
        """Keep ``states``, which must be exactly as now committed to the store.

        An entry in flight or at a newer version stays. The least recently used entries go
        when the cache is over capacity.
        """
        if not self.capacity:
            return
        with self._lock:
            entries = self._entries
            for state in states:
                if state.id in self._in_flight:
                    continue  # the stream's entry until its batch lands
                held = entries.get(state.id)
                if held is not None and held.version > state.version:
                    continue  # a later batch already returned a newer state
                entries[state.id] = state
                entries.move_to_end(state.id)
            self._trim()

    def hold_in_flight(self, states: Iterable[ProcessState]) -> None:
        """Keep ``states`` as a streamed batch leaves them, before it commits (its rows are
        rendered already: changing these objects cannot change what is written)."""
        if not self.capacity:
            return
        with self._lock:
            entries = self._entries
            for state in states:
                self._in_flight[state.id] = state.version
                entries[state.id] = state
                entries.move_to_end(state.id)
            self._trim()

    def committed(self, versions: Mapping[str, int]) -> None:
        """The batch that gave these processes these versions has committed: its entries
        are stored states now (an entry a later batch holds in flight stays in flight)."""
        with self._lock:
            in_flight = self._in_flight
            for pid, version in versions.items():
                if in_flight.get(pid) == version:
                    del in_flight[pid]

    def not_written(self, process_ids: Iterable[str]) -> None:
        """A batch holding these processes in flight was not written: forget their entries
        (the batches planned on top of it are not written either)."""
        with self._lock:
            for pid in process_ids:
                self._entries.pop(pid, None)
                self._in_flight.pop(pid, None)

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()
            self._in_flight.clear()

    def _trim(self) -> None:
        entries = self._entries
        while len(entries) > self.capacity:
            pid, _ = entries.popitem(last=False)
            self._in_flight.pop(pid, None)
