"""Initial schema: event log, state projection, keys, inbox, dead letters, outbox, timers,
API keys.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A migration is a frozen snapshot, so it spells its types out instead of importing tables.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PENDING = sa.text("status = 'pending'")


def _moment(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(40), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("position", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("process_id", sa.String(40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        _moment("occurred_at"),
        _moment("recorded_at"),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("effects", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_events"),
        sa.UniqueConstraint("process_id", "version", name="uq_events_process_id_version"),
    )

    op.create_table(
        "processes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("definition_version", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("stage", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _moment("created_at"),
        _moment("updated_at"),
        sa.Column("state", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_processes"),
    )
    op.create_index("ix_processes_customer_id", "processes", ["customer_id"])
    op.create_index("ix_processes_subject", "processes", ["subject"])
    op.create_index("ix_processes_kind_status", "processes", ["kind", "status"])
    op.create_index("ix_processes_kind_stage", "processes", ["kind", "stage"])

    op.create_table(
        "correlation_keys",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("process_id", sa.String(40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_correlation_keys"),
    )
    op.create_index("ix_correlation_keys_process_id", "correlation_keys", ["process_id"])
    op.create_index("ix_correlation_keys_name_value", "correlation_keys", ["name", "value"])
    op.create_index(
        "uq_correlation_keys_active",
        "correlation_keys",
        ["kind", "name", "value"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )

    op.create_table(
        "inbox",
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("process_id", sa.String(40), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        _moment("received_at"),
        sa.PrimaryKeyConstraint("source", "message_id", name="pk_inbox"),
    )

    op.create_table(
        "dead_letters",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        _moment("received_at"),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("type", sa.String(100), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        _moment("resolved_at", nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_dead_letters"),
    )
    op.create_index("ix_dead_letters_status", "dead_letters", ["status"])

    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("process_id", sa.String(40), nullable=False),
        sa.Column("topic", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        _moment("created_at"),
        _moment("available_at"),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        _moment("claimed_until", nullable=True),
        _moment("sent_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("idempotency_key", name="uq_outbox_idempotency_key"),
    )
    op.create_index(
        "ix_outbox_pending",
        "outbox",
        ["available_at"],
        sqlite_where=PENDING,
        postgresql_where=PENDING,
    )

    op.create_table(
        "timers",
        sa.Column("process_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        _moment("due_at"),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("claimed_by", sa.String(100), nullable=True),
        _moment("claimed_until", nullable=True),
        sa.PrimaryKeyConstraint("process_id", "name", name="pk_timers"),
    )
    op.create_index(
        "ix_timers_pending", "timers", ["due_at"], sqlite_where=PENDING, postgresql_where=PENDING
    )

    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(12), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        _moment("created_at"),
        _moment("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_keys"),
    )
    op.create_index("ix_api_keys_prefix", "api_keys", ["prefix"])


def downgrade() -> None:
    # Dropping a table drops its indexes.
    for table in (
        "api_keys",
        "timers",
        "outbox",
        "dead_letters",
        "inbox",
        "correlation_keys",
        "processes",
        "events",
    ):
        op.drop_table(table)
