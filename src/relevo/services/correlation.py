"""Correlation: which process an inbound message addresses.

A message names its process by its CloudEvent ``subject`` (a relevo process id) or by a
correlation key in its data (``msisdn``, ``nc_reference``…). A process may hold several
values under one key name (two numbers ported together); a message naming any of them
reaches it, and a message may name several values in a list. A key may have been held by
several processes over time; the newest holder whose definition understands the message's
event type wins, and released keys still route late messages to the finished process that
held them, where they are recorded as ignored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from relevo.services.catalog import Catalog
from relevo.services.records import Holders
from relevo.services.unit_of_work import UnitOfWork


class Addressed(Protocol):
    """What correlation reads of an inbound message."""

    @property
    def subject(self) -> str | None: ...

    @property
    def type(self) -> str: ...

    @property
    def data(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Correlation:
    """Where a batch's messages go, and the key lookups that decided it."""

    targets: list[str | None]
    #: Every correlation key looked up, and who held each at the time: a batch decided
    #: on a snapshot is still right if the store says the same when it is written.
    pairs: list[tuple[str, str]]
    holders: Holders


class Correlator:
    """Finds the process each inbound message addresses, for one catalog."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._key_names = sorted(catalog.correlation_key_names())
        self._key_set = frozenset(self._key_names)
        # The catalog never changes after it is built: which event types each kind's newest
        # definition understands can be looked up once instead of once per key holder.
        self._understood = {
            kind: frozenset(catalog.latest(kind).definition.events) for kind in catalog.kinds()
        }

    def resolve(self, uow: UnitOfWork, items: Sequence[Addressed]) -> Correlation:
        """The process id each item addresses (``None`` where no process holds its keys),
        with the lookups behind them.

        An item with a subject addresses that id as given (whether it exists is the
        caller's concern); otherwise its correlation keys are looked up in the store.
        """
        # Each item's pairs are computed once, for the lookup and for the pick alike.
        wanted = [None if item.subject is not None else self.pairs(item) for item in items]
        pairs = list(dict.fromkeys(pair for found in wanted if found for pair in found))
        holders = uow.key_holders(pairs)
        targets = [
            item.subject if item_pairs is None else self._holder(item.type, item_pairs, holders)
            for item, item_pairs in zip(items, wanted, strict=True)
        ]
        return Correlation(targets, pairs, holders)

    def pairs(self, item: Addressed) -> list[tuple[str, str]]:
        """The ``(name, value)`` correlation keys in ``item``'s data, sorted by name; a list
        of values gives one pair each (a process holding any of them is addressed)."""
        names = self._key_set
        pairs: list[tuple[str, str]] = []
        for name, value in item.data.items():
            if name in names and value is not None:
                if isinstance(value, list):
                    pairs.extend((name, str(each)) for each in value if each is not None)
                else:
                    pairs.append((name, str(value)))
        if len(pairs) > 1:
            pairs.sort()
        return pairs

    def pick(self, item: Addressed, found: Holders) -> str | None:
        """The process ``item`` addresses among the key holders in ``found`` (keys added
        earlier in the same batch, say), or ``None``."""
        return self._holder(item.type, self.pairs(item), found)

    def why_uncorrelated(self, item: Addressed) -> str:
        """Why ``item`` reaches no process, and what the sender can do about it."""
        if item.subject is not None:
            return (
                f"no process with id {item.subject!r} (the CloudEvent subject must be a relevo "
                "process id; send a correlation key in data instead if you do not know it)"
            )
        pairs = self.pairs(item)
        if not pairs:
            return (
                "the event names no process: set 'subject' to the process id or include one "
                f"of the correlation keys ({', '.join(self._key_names)}) in data"
            )
        shown = ", ".join(f"{name}={value!r}" for name, value in pairs)
        return (
            f"no process holds the correlation key {shown}; it is kept as a dead letter and "
            "can be replayed once the process exists"
        )

    def _holder(self, event_type: str, pairs: list[tuple[str, str]], found: Holders) -> str | None:
        for pair in pairs:
            holders = found.get(pair)
            if not holders:
                continue
            # Prefer the process whose definition understands this event type.
            for kind, pid in holders:
                if self._understands(kind, event_type):
                    return pid
            return holders[0][1]
        return None

    def _understands(self, kind: str, event_type: str) -> bool:
        known = self._understood.get(kind)
        if known is None:
            # A kind the catalog lacks: let it raise UnknownKind, as it always did.
            return event_type in self.catalog.latest(kind).definition.events
        return event_type in known
