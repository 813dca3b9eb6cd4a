"""The access records in the SQL database: link uses, one-time codes and rate-limit counts
(``relevo.services.access.ports.AccessStore``).

Every count moves with a conditional UPDATE after an INSERT that skips an existing row, so
two server workers counting at once never both pass a limit, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa

from relevo.adapters.db import bulk
from relevo.adapters.db import tables as t
from relevo.adapters.db.store import SqlStore
from relevo.services.access.ports import OPEN, REPLACED, USED, CodeRecord, Purged
from relevo.services.records import OutboxRow, WriteBatch

_CODE_COLUMNS = tuple(column.name for column in t.access_codes.columns)


class SqlAccessStore:
    """Access records beside the process store, each call its own transaction."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    def use_link(
        self, digest: str, process_id: str, expires_at: str, now: str, *, since: str, most: int
    ) -> bool:
        """Count one use of a link unless it is used up (see the Protocol)."""
        uses = t.access_link_uses
        with self.store.unit_of_work() as uow:
            conn = uow.connection
            bulk.bulk_insert(
                conn,
                uses,
                ("digest", "process_id", "first_used_at", "uses", "expires_at"),
                [(digest, process_id, now, 0, expires_at)],
                conflict=("digest",),
            )
            counted = conn.execute(
                sa.update(uses)
                .where(uses.c.digest == digest, uses.c.uses < most)
                .where(sa.or_(uses.c.uses == 0, uses.c.first_used_at >= since))
                .values(uses=uses.c.uses + 1)
            ).rowcount
            uow.commit()
        return counted == 1

    def hit(self, bucket: str, window_start: str, limit: int) -> bool:
        """Count one request of ``bucket`` unless its window is full."""
        return self.hit_and_enqueue(bucket, window_start, limit, None, window_start)

    def hit_and_enqueue(
        self, bucket: str, window_start: str, limit: int, message: OutboxRow | None, now: str
    ) -> bool:
        """Count one request of ``bucket`` unless its window is full, and when counted
        write ``message`` to the outbox, in one transaction."""
        limits = t.access_rate_limits
        with self.store.unit_of_work() as uow:
            conn = uow.connection
            bulk.bulk_insert(
                conn,
                limits,
                ("bucket", "window_start", "hits"),
                [(bucket, window_start, 0)],
                conflict=("bucket", "window_start"),
            )
            counted = conn.execute(
                sa.update(limits)
                .where(limits.c.bucket == bucket, limits.c.window_start == window_start)
                .where(limits.c.hits < limit)
                .values(hits=limits.c.hits + 1)
            ).rowcount
            if counted == 1 and message is not None:
                uow.save(WriteBatch(outbox=[message], at=now))
            uow.commit()
        return counted == 1

    def enqueue(self, message: OutboxRow, now: str) -> None:
        """Write ``message`` to the outbox."""
        with self.store.unit_of_work() as uow:
            uow.save(WriteBatch(outbox=[message], at=now))
            uow.commit()

    def add_code(self, code: CodeRecord, message: OutboxRow) -> None:
        """Store ``code`` over the open ones it replaces, and its message, at once."""
        codes = t.access_codes
        with self.store.unit_of_work() as uow:
            conn = uow.connection
            conn.execute(
                sa.update(codes)
                .where(
                    codes.c.process_id == code.process_id,
                    codes.c.customer_id == code.customer_id,
                    codes.c.control_id == code.control_id,
                    codes.c.status == OPEN,
                )
                .values(status=REPLACED)
            )
            conn.execute(sa.insert(codes).values(**{c: getattr(code, c) for c in _CODE_COLUMNS}))
            uow.save(WriteBatch(outbox=[message], at=code.created_at))
            uow.commit()

    def latest_code(self, process_id: str, customer_id: str, control_id: str) -> CodeRecord | None:
        """The newest code of that process, customer and control."""
        codes = t.access_codes
        query = (
            sa.select(*(codes.c[c] for c in _CODE_COLUMNS))
            .where(
                codes.c.process_id == process_id,
                codes.c.customer_id == customer_id,
                codes.c.control_id == control_id,
            )
            # The newest code is open or used (a code is replaced only by a newer one); among
            # codes of the same moment the open one is the newest.
            .order_by(
                codes.c.created_at.desc(),
                sa.case({OPEN: 0, USED: 1}, value=codes.c.status, else_=2),
            )
            .limit(1)
        )
        with self.store.unit_of_work(read_only=True) as uow:
            row = uow.connection.execute(query).first()
        return None if row is None else CodeRecord(*row)

    def try_code(self, code_id: str, most: int) -> int | None:
        """Count one attempt on an open code with tries left."""
        codes = t.access_codes
        with self.store.unit_of_work() as uow:
            counted = uow.connection.execute(
                sa.update(codes)
                .where(codes.c.id == code_id, codes.c.status == OPEN, codes.c.attempts < most)
                .values(attempts=codes.c.attempts + 1)
                .returning(codes.c.attempts)
            ).first()
            uow.commit()
        return None if counted is None else int(counted[0])

    def use_code(self, code_id: str) -> bool:
        """Mark an open code used."""
        codes = t.access_codes
        with self.store.unit_of_work() as uow:
            used = uow.connection.execute(
                sa.update(codes)
                .where(codes.c.id == code_id, codes.c.status == OPEN)
                .values(status=USED)
            ).rowcount
            uow.commit()
        return used == 1

    def purge(self, expired_before: str, windows_before: str, limit: int) -> Purged:
        """Delete a chunk of expired link uses and codes and of ended request counts."""
        uses, codes, limits = t.access_link_uses, t.access_codes, t.access_rate_limits
        old_uses = sa.select(uses.c.digest).where(uses.c.expires_at < expired_before)
        old_codes = sa.select(codes.c.id).where(codes.c.expires_at < expired_before)
        old_counts = sa.select(limits.c.bucket, limits.c.window_start).where(
            limits.c.window_start < windows_before
        )
        with self.store.unit_of_work() as uow:
            conn = uow.connection
            gone_uses = conn.execute(
                sa.delete(uses).where(uses.c.digest.in_(old_uses.limit(limit).scalar_subquery()))
            ).rowcount
            gone_codes = conn.execute(
                sa.delete(codes).where(codes.c.id.in_(old_codes.limit(limit).scalar_subquery()))
            ).rowcount
            # Counts are keyed by (bucket, window): deleted by key, a chunk at a time.
            keys = conn.execute(old_counts.limit(limit)).all()
            gone_counts = 0
            for bucket, window_start in keys:
                gone_counts += conn.execute(
                    sa.delete(limits).where(
                        limits.c.bucket == bucket, limits.c.window_start == window_start
                    )
                ).rowcount
            uow.commit()
        return Purged(gone_uses, gone_codes, gone_counts)
