"""Timers move onto the process row: ``processes.next_timer_at`` replaces the timers table.

A process's armed timers were already part of its state; the table repeated them, and
keeping it in step cost three or four index pages per ingested event. The worker's work
list is now the partial index on ``processes.next_timer_at`` (the earliest pending due
time). Pending timers of existing databases carry over into the new column.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")
ARMED = sa.text("next_timer_at IS NOT NULL")


def upgrade() -> None:
    op.add_column("processes", sa.Column("next_timer_at", sa.String(40), nullable=True))
    op.execute(
        "UPDATE processes SET next_timer_at = ("
        "SELECT min(due_at) FROM timers"
        " WHERE timers.process_id = processes.id AND timers.status = 'pending')"
    )
    op.create_index(
        "ix_processes_next_timer_at",
        "processes",
        ["next_timer_at"],
        sqlite_where=ARMED,
        postgresql_where=ARMED,
    )
    op.drop_table("timers")


def downgrade() -> None:
    op.create_table(
        "timers",
        sa.Column("process_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("due_at", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        sa.Column("claimed_until", sa.String(40), nullable=True),
        sa.PrimaryKeyConstraint("process_id", "name", name="pk_timers"),
    )
    op.create_index(
        "ix_timers_pending", "timers", ["due_at"], sqlite_where=PENDING, postgresql_where=PENDING
    )
    # The armed timers are in each state's "timers" object: {name: due time}.
    if op.get_bind().dialect.name == "postgresql":
        timers = "json_each_text(processes.state::json -> 'timers') AS t"
    else:
        timers = "json_each(processes.state, '$.timers') AS t"
    op.execute(
        "INSERT INTO timers (process_id, name, due_at, status)"
        f" SELECT processes.id, t.key, t.value, 'pending' FROM processes, {timers}"
    )
    op.drop_index("ix_processes_next_timer_at", table_name="processes")
    with op.batch_alter_table("processes") as batch:
        batch.drop_column("next_timer_at")
