"""The notifications sent to customers, by business key (deduplication, daily cap).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_sends",
        sa.Column("business_key", sa.String(400), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("sent_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("business_key", name="pk_notification_sends"),
    )
    op.create_index(
        "ix_notification_sends_recipient_sent_at",
        "notification_sends",
        ["recipient", "sent_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_notification_sends_recipient_sent_at", table_name="notification_sends")
    op.drop_table("notification_sends")
