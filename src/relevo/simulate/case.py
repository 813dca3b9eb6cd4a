"""A simulated case: one customer, the process started for them, and what will happen to it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relevo.domain.model import JSON

#: Channels where an agent acts on the customer's behalf (recorded as the agent).
AGENT_CHANNELS = frozenset({"store", "call_centre", "door_to_door", "social"})


@dataclass
class Customer:
    """Who the process is for, and how they reach us."""

    id: str
    name: str
    id_number: str
    language: str
    timezone: str | None
    channel: str
    agent: str
    city: str
    postcode: str
    address: str
    phone: str
    iban: str

    @property
    def by_agent(self) -> bool:
        """True when an agent acts for the customer (store, call centre, door to door)."""
        return self.channel in AGENT_CHANNELS


@dataclass
class Case:
    """One simulated process from the world's side.

    ``fate`` holds what was drawn for it (path, causes, whether the customer postpones…);
    ``memo`` is the flow's scratchpad (references, windows, documents); ``process_id`` is
    the id the hub (or the model of it) gave the process once started.
    """

    index: int
    kind: str
    rng: random.Random
    customer: Customer
    subject_key: str
    subject: str
    started_at: datetime
    keys: dict[str, str] = field(default_factory=dict)
    attributes: JSON = field(default_factory=dict)
    fate: dict[str, Any] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict)
    forced: bool = False
    process_id: str | None = None
    stopped: bool = False

    @property
    def ref(self) -> str:
        """A short readable reference for logs: kind and index."""
        return f"{self.kind}#{self.index}"

    def keyed(self, **data: Any) -> JSON:
        """``data`` plus the subject's correlation key (how back-ends name the process)."""
        return {self.subject_key: self.subject, **data}
