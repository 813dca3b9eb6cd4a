"""The worker's work list is read in the order of the index: due time, then process id.

The timer worker takes due processes ``ORDER BY next_timer_at, id``. With the index on the
due time alone, a database with many processes due at the same moment sorted all of them on
every pass to pick the first batch; with the id in the index the rows come out in order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ARMED = sa.text("next_timer_at IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_processes_next_timer_at", table_name="processes")
    op.create_index(
        "ix_processes_next_timer_at",
        "processes",
        ["next_timer_at", "id"],
        sqlite_where=ARMED,
        postgresql_where=ARMED,
    )


def downgrade() -> None:
    op.drop_index("ix_processes_next_timer_at", table_name="processes")
    op.create_index(
        "ix_processes_next_timer_at",
        "processes",
        ["next_timer_at"],
        sqlite_where=ARMED,
        postgresql_where=ARMED,
    )
