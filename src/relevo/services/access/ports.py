"""What the access services need from a store (``AccessStore``) and the records they
exchange with it. Each method is one short transaction of its own; the SQL adapter and the
in-memory one implement it (``relevo.adapters.db.access_store``,
``relevo.adapters.memory.access_store``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from relevo.services.records import OutboxRow

#: A code that can still be tried.
OPEN = "open"
#: A code that did its job (single use).
USED = "used"
#: A code a newer one for the same action replaced.
REPLACED = "replaced"


@dataclass(frozen=True, slots=True)
class CodeRecord:
    """A one-time code as stored: never the code, only its keyed hash."""

    id: str
    process_id: str
    customer_id: str
    control_id: str
    code_hash: str
    #: Where it was sent: ``sms`` or ``email``.
    channel: str
    created_at: str
    expires_at: str
    attempts: int
    status: str


@dataclass(frozen=True, slots=True)
class Purged:
    """How many rows of each kind one purge transaction deleted."""

    link_uses: int
    codes: int
    rate_limits: int


class AccessStore(Protocol):
    """Link uses, one-time codes and rate-limit counts, kept where every server worker
    sees them. Moments are ISO 8601 UTC strings (they compare as moments)."""

    def use_link(
        self, digest: str, process_id: str, expires_at: str, now: str, *, since: str, most: int
    ) -> bool:
        """Count one use of the link whose token has SHA-256 ``digest``; ``True`` when it
        may be used: never used before, or first used at ``since`` or later and used fewer
        than ``most`` times. A refused use is not counted."""
        ...

    def hit(self, bucket: str, window_start: str, limit: int) -> bool:
        """Count one request of ``bucket`` in the window starting ``window_start``;
        ``False`` (and not counted) once ``limit`` requests were counted there."""
        ...

    def enqueue(self, message: OutboxRow, now: str) -> None:
        """Write ``message`` to the outbox (the worker delivers it)."""
        ...

    def hit_and_enqueue(
        self, bucket: str, window_start: str, limit: int, message: OutboxRow | None, now: str
    ) -> bool:
        """``hit`` and, when counted, write ``message`` (if any) to the outbox, in one
        transaction: the same work whether or not there is a message to send."""
        ...

    def add_code(self, code: CodeRecord, message: OutboxRow) -> None:
        """Store ``code`` (replacing the open codes of the same process, customer and
        control) and write ``message`` to the outbox, in one transaction."""
        ...

    def latest_code(self, process_id: str, customer_id: str, control_id: str) -> CodeRecord | None:
        """The newest code of that process, customer and control, whatever its status."""
        ...

    def try_code(self, code_id: str, most: int) -> int | None:
        """Count one attempt on the open code ``code_id``; the attempts made so far, or
        ``None`` when it is no longer open or ``most`` attempts were made already."""
        ...

    def use_code(self, code_id: str) -> bool:
        """Mark the open code ``code_id`` used; ``False`` when it was not open (someone
        used it first)."""
        ...

    def purge(self, expired_before: str, windows_before: str, limit: int) -> Purged:
        """Delete, in one transaction, at most ``limit`` rows of each kind: the uses of
        links and the codes that expired before ``expired_before``, and the request counts
        of windows that started before ``windows_before``."""
        ...
