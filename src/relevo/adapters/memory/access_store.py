"""The access records in memory (tests, the in-memory hub), behaving as the SQL ones do
(``relevo.adapters.db.access_store``)."""

from __future__ import annotations

import dataclasses
import threading

from relevo.adapters.memory.store import MemoryStore
from relevo.services.access.ports import OPEN, REPLACED, USED, CodeRecord, Purged
from relevo.services.records import OutboxRow, WriteBatch


class MemoryAccessStore:
    """Access records kept in this process beside a ``MemoryStore`` (whose outbox takes
    the messages); one lock makes every call atomic."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        #: digest → (first used at, uses)
        self._links: dict[str, tuple[str, int]] = {}
        #: digest → when the link expires
        self._link_expiry: dict[str, str] = {}
        self._hits: dict[tuple[str, str], int] = {}
        #: Codes in the order they were added (the last of a kind is the newest).
        self._codes: list[CodeRecord] = []

    def use_link(
        self, digest: str, process_id: str, expires_at: str, now: str, *, since: str, most: int
    ) -> bool:
        """Count one use of a link unless it is used up (see the Protocol)."""
        with self._lock:
            first, uses = self._links.get(digest, (now, 0))
            if uses >= most or (uses and first < since):
                return False
            self._links[digest] = (first, uses + 1)
            self._link_expiry[digest] = expires_at
            return True

    def hit(self, bucket: str, window_start: str, limit: int) -> bool:
        """Count one request of ``bucket`` unless its window is full."""
        with self._lock:
            hits = self._hits.get((bucket, window_start), 0)
            if hits >= limit:
                return False
            self._hits[(bucket, window_start)] = hits + 1
            return True

    def hit_and_enqueue(
        self, bucket: str, window_start: str, limit: int, message: OutboxRow | None, now: str
    ) -> bool:
        """Count one request of ``bucket`` unless its window is full, and when counted
        write ``message`` to the outbox."""
        with self._lock:
            hits = self._hits.get((bucket, window_start), 0)
            if hits >= limit:
                return False
            self._hits[(bucket, window_start)] = hits + 1
            if message is not None:
                self.enqueue(message, now)
            return True

    def enqueue(self, message: OutboxRow, now: str) -> None:
        """Write ``message`` to the store's outbox."""
        with self.store.unit_of_work() as uow:
            uow.save(WriteBatch(outbox=[message], at=now))
            uow.commit()

    def add_code(self, code: CodeRecord, message: OutboxRow) -> None:
        """Store ``code`` over the open ones it replaces, and its message."""
        with self._lock:
            self.enqueue(message, code.created_at)
            same = (code.process_id, code.customer_id, code.control_id)
            self._codes = [
                dataclasses.replace(c, status=REPLACED)
                if c.status == OPEN and (c.process_id, c.customer_id, c.control_id) == same
                else c
                for c in self._codes
            ]
            self._codes.append(code)

    def latest_code(self, process_id: str, customer_id: str, control_id: str) -> CodeRecord | None:
        """The newest code of that process, customer and control."""
        wanted = (process_id, customer_id, control_id)
        with self._lock:
            found = [
                c for c in self._codes if (c.process_id, c.customer_id, c.control_id) == wanted
            ]
        return found[-1] if found else None

    def try_code(self, code_id: str, most: int) -> int | None:
        """Count one attempt on an open code with tries left."""
        with self._lock:
            index = self._open(code_id)
            if index is None or self._codes[index].attempts >= most:
                return None
            code = self._codes[index]
            self._codes[index] = dataclasses.replace(code, attempts=code.attempts + 1)
            return code.attempts + 1

    def use_code(self, code_id: str) -> bool:
        """Mark an open code used."""
        with self._lock:
            index = self._open(code_id)
            if index is None:
                return False
            self._codes[index] = dataclasses.replace(self._codes[index], status=USED)
            return True

    def purge(self, expired_before: str, windows_before: str, limit: int) -> Purged:
        """Delete a chunk of expired link uses and codes and of ended request counts."""
        with self._lock:
            old_links = [d for d, at in self._link_expiry.items() if at < expired_before][:limit]
            for digest in old_links:
                del self._links[digest], self._link_expiry[digest]
            old_codes = {c.id for c in self._codes if c.expires_at < expired_before}
            gone_codes = set(sorted(old_codes)[:limit])
            self._codes = [c for c in self._codes if c.id not in gone_codes]
            old_counts = [key for key in self._hits if key[1] < windows_before][:limit]
            for key in old_counts:
                del self._hits[key]
        return Purged(len(old_links), len(gone_codes), len(old_counts))

    def _open(self, code_id: str) -> int | None:
        return next(
            (i for i, c in enumerate(self._codes) if c.id == code_id and c.status == OPEN), None
        )
