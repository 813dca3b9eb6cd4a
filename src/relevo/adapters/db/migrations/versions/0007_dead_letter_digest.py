"""Dead letters carry the digest of their content while open, unique: the same refused
message received again (a bad line of a file ingested twice, a sender retrying) keeps one
open dead letter, not one per attempt. Resolving a dead letter clears its digest.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Dead letters kept before have no digest: they stay, and never clash.
    op.add_column("dead_letters", sa.Column("digest", sa.String(64), nullable=True))
    op.create_index("ix_dead_letters_digest", "dead_letters", ["digest"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_dead_letters_digest", table_name="dead_letters")
    with op.batch_alter_table("dead_letters") as batch:
        batch.drop_column("digest")
