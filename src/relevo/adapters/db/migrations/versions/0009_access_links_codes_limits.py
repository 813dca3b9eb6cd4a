"""The customer's access: how often each link was used, one-time codes (hashed) and the
request counts behind the rate limits of new links and codes.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "access_link_uses",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("process_id", sa.String(40), nullable=False),
        sa.Column("first_used_at", sa.String(40), nullable=False),
        sa.Column("uses", sa.Integer, nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_access_link_uses"),
    )
    op.create_table(
        "access_codes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("process_id", sa.String(40), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("control_id", sa.String(100), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_codes"),
    )
    op.create_index(
        "ix_access_codes_process_id_customer_id_control_id",
        "access_codes",
        ["process_id", "customer_id", "control_id"],
    )
    op.create_table(
        "access_rate_limits",
        sa.Column("bucket", sa.String(200), nullable=False),
        sa.Column("window_start", sa.String(40), nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("bucket", "window_start", name="pk_access_rate_limits"),
    )


def downgrade() -> None:
    op.drop_table("access_rate_limits")
    op.drop_index("ix_access_codes_process_id_customer_id_control_id", table_name="access_codes")
    op.drop_table("access_codes")
    op.drop_table("access_link_uses")
