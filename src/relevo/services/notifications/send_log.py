"""The send log read from the store: what recorded attempts sent, by business key.

The worker writes it (``SendRecord`` rows, with the attempts that sent them, in one
transaction); the notifier reads it to send a business key once and to count the daily cap.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from relevo.domain.model import iso
from relevo.services.unit_of_work import Store


class StoreSendLog:
    """The ``SendLog`` over a store; each call is one short read-only transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def sent_keys(self, keys: Iterable[str]) -> set[str]:
        """The business keys among ``keys`` already sent."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.sent_keys(keys)

    def count_since(self, recipient: str, since: datetime) -> int:
        """How many messages were sent to ``recipient`` from ``since`` on."""
        with self.store.unit_of_work(read_only=True) as uow:
            return uow.count_sends(recipient, iso(since))
