"""The inbox keeps a digest of each message's content.

A message re-sent under an id already received is a duplicate; one whose content differs
from what was received under that id is a conflicting duplicate, kept for inspection. Rows
received before this column have no digest and are answered as plain duplicates.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("inbox", sa.Column("digest", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("digest")
