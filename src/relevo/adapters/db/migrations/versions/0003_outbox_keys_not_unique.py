"""The outbox's idempotency keys lose their unique index.

Every outbox row is written in the same transaction as the event that emits it, and that
event's ``(process_id, version)`` is unique in the log, so a message can never be stored
twice; the key is for the receivers, who deduplicate on it. The unique index only cost a
random index page per message on every ingest write.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite cannot drop a constraint in place: the batch copies the table.
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("uq_outbox_idempotency_key", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.create_unique_constraint("uq_outbox_idempotency_key", ["idempotency_key"])
