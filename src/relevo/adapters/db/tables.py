"""Table definitions (SQLAlchemy Core) shared by the store and the migrations.

Portable types only, so that one schema serves SQLite and PostgreSQL:

* JSON payloads are ``Text``; the store serialises them with orjson itself.
* Every timestamp is an ISO 8601 UTC string (``String(40)``); such strings sort and compare
  the same way on both databases, which ``DateTime`` columns would not.
"""

from __future__ import annotations

import sqlalchemy as sa

#: Autoincrement keys are BIGINT on PostgreSQL; SQLite only autoincrements an
#: ``INTEGER PRIMARY KEY`` (the rowid alias), hence the variant.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> sa.String:
    return sa.String(40)


def _moment() -> sa.String:
    return sa.String(40)


events = sa.Table(
    "events",
    metadata,
    sa.Column("position", BigId, primary_key=True, autoincrement=True),
    sa.Column("process_id", _id(), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("type", sa.String(100), nullable=False),
    sa.Column("occurred_at", _moment(), nullable=False),
    sa.Column("recorded_at", _moment(), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(40), nullable=False),
    sa.Column("source", sa.String(200)),
    sa.Column("message_id", sa.String(200)),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("effects", sa.Text, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    # Optimistic concurrency: two writers appending the same version to one process clash here.
    sa.UniqueConstraint("process_id", "version"),
)

processes = sa.Table(
    "processes",
    metadata,
    sa.Column("id", _id(), primary_key=True),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("definition_version", sa.Integer, nullable=False),
    sa.Column("customer_id", sa.String(100), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("stage", sa.String(100), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", _moment(), nullable=False),
    sa.Column("updated_at", _moment(), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    #: The earliest due time among the process's armed timers (the timers themselves live
    #: in ``state``): the timer worker's work list, kept on the row every ingest write
    #: touches anyway instead of in a table of its own that would cost extra index pages
    #: per event.
    sa.Column("next_timer_at", _moment()),
    sa.Index(None, "customer_id"),
    sa.Index(None, "subject"),
    sa.Index(None, "kind", "status"),
    sa.Index(None, "kind", "stage"),
)

# Only processes with an armed timer are in the index, so it stays as small as the work; the
# id is in it because the worker reads the work list in that order (due time, then id).
sa.Index(
    "ix_processes_next_timer_at",
    processes.c.next_timer_at,
    processes.c.id,
    sqlite_where=processes.c.next_timer_at.is_not(None),
    postgresql_where=processes.c.next_timer_at.is_not(None),
)

correlation_keys = sa.Table(
    "correlation_keys",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(100), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("process_id", _id(), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Index(None, "process_id"),
    # Searches come by (name, value) without the kind, and must also find released keys.
    sa.Index(None, "name", "value"),
)

# An active key belongs to one process of a kind; released keys may repeat freely.
sa.Index(
    "uq_correlation_keys_active",
    correlation_keys.c.kind,
    correlation_keys.c.name,
    correlation_keys.c.value,
    unique=True,
    sqlite_where=correlation_keys.c.active,
    postgresql_where=correlation_keys.c.active,
)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("message_id", sa.String(200), primary_key=True),
    sa.Column("process_id", _id()),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("received_at", _moment(), nullable=False),
    #: The digest of the message's content, to tell a re-sent message from a different one
    #: under the same id; empty for actions' request ids and rows older than the column.
    sa.Column("digest", sa.String(32)),
)

dead_letters = sa.Table(
    "dead_letters",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("received_at", _moment(), nullable=False),
    sa.Column("source", sa.String(200), nullable=False),
    sa.Column("message_id", sa.String(200)),
    sa.Column("type", sa.String(100)),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("resolved_at", _moment()),
    sa.Column("resolution", sa.Text),
    #: The content's digest while the dead letter is open (cleared when it is resolved):
    #: the same refused message received again adds no second open dead letter.
    sa.Column("digest", sa.String(64)),
    sa.Index(None, "status"),
    sa.Index(None, "digest", unique=True),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("process_id", _id(), nullable=False),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    # Unique by construction (one event, one version, written once); receivers dedupe on it.
    sa.Column("idempotency_key", sa.String(200), nullable=False),
    sa.Column("created_at", _moment(), nullable=False),
    sa.Column("available_at", _moment(), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("claimed_by", sa.String(100)),
    sa.Column("claimed_until", _moment()),
    sa.Column("sent_at", _moment()),
    sa.Column("last_error", sa.Text),
)

# Workers poll "pending and due"; the partial index stays as small as the backlog.
sa.Index(
    "ix_outbox_pending",
    outbox.c.available_at,
    sqlite_where=outbox.c.status == "pending",
    postgresql_where=outbox.c.status == "pending",
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("prefix", sa.String(12), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("created_at", _moment(), nullable=False),
    sa.Column("revoked_at", _moment()),
    sa.Index(None, "prefix"),
)

#: Customer notifications sent, one row per business key (process, template, what it
#: announces, channel): a key is sent once, and the rows per recipient and day feed the
#: daily cap.
notification_sends = sa.Table(
    "notification_sends",
    metadata,
    sa.Column("business_key", sa.String(400), primary_key=True),
    sa.Column("recipient", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("sent_at", _moment(), nullable=False),
    sa.Index(None, "recipient", "sent_at"),
)

delivery_attempts = sa.Table(
    "delivery_attempts",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("outbox_id", sa.BigInteger, nullable=False),
    # Kept beside the outbox id so a process's notifications are found without an index
    # on the outbox, whose every extra index page ingest would pay for.
    sa.Column("process_id", _id(), nullable=False),
    sa.Column("topic", sa.String(100), nullable=False),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("at", _moment(), nullable=False),
    sa.Column("outcome", sa.String(20), nullable=False),
    sa.Column("detail", sa.Text, nullable=False),
    sa.Column("facts", sa.Text),
    sa.Index(None, "outbox_id"),
    sa.Index(None, "process_id"),
)

webhook_subscriptions = sa.Table(
    "webhook_subscriptions",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("url", sa.Text, nullable=False),
    sa.Column("event_types", sa.Text, nullable=False),
    # The receiver verifies with the same secret, so it is kept as given, not hashed.
    sa.Column("secret", sa.String(100), nullable=False),
    sa.Column("previous_secret", sa.String(100)),
    sa.Column("previous_until", _moment()),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("created_at", _moment(), nullable=False),
)

#: Where a reader of the event log got to (the CRM milestone deriver), moved on with a
#: conditional update so two workers never derive the same events twice.
log_cursors = sa.Table(
    "log_cursors",
    metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("position", sa.BigInteger, nullable=False),
)

#: Each customer link opened, by the SHA-256 of its token (never the token): how many times
#: it was exchanged for a session and since when, so a link is used a bounded number of
#: times (``relevo.services.access.links``). Rows past ``expires_at`` say nothing any more.
access_link_uses = sa.Table(
    "access_link_uses",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
    sa.Column("process_id", _id(), nullable=False),
    sa.Column("first_used_at", _moment(), nullable=False),
    sa.Column("uses", sa.Integer, nullable=False),
    sa.Column("expires_at", _moment(), nullable=False),
)

#: One-time codes asked for before an irreversible action: only a keyed hash of the code,
#: its expiry, the attempts made and whether it was used (or replaced by a newer one).
access_codes = sa.Table(
    "access_codes",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("process_id", _id(), nullable=False),
    sa.Column("customer_id", sa.String(100), nullable=False),
    sa.Column("control_id", sa.String(100), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(20), nullable=False),
    sa.Column("created_at", _moment(), nullable=False),
    sa.Column("expires_at", _moment(), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Index(None, "process_id", "customer_id", "control_id"),
)

#: Requests counted per bucket (who or what asks: a client address, a customer, a typed
#: reference) and fixed window, so limits hold across every server worker.
access_rate_limits = sa.Table(
    "access_rate_limits",
    metadata,
    sa.Column("bucket", sa.String(200), primary_key=True),
    sa.Column("window_start", _moment(), primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
)
