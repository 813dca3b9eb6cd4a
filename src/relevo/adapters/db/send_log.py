"""The notification send log in the SQL database (table ``notification_sends``)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from relevo.adapters.db.tables import notification_sends as sends
from relevo.domain.model import iso


class SqlSendLog:
    """What was sent, by business key; each call is its own short transaction."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def was_sent(self, business_key: str) -> bool:
        """True once ``business_key`` was recorded."""
        query = sa.select(sends.c.business_key).where(sends.c.business_key == business_key)
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def count_since(self, recipient: str, since: datetime) -> int:
        """How many sends to ``recipient`` are recorded from ``since`` on."""
        query = (
            sa.select(sa.func.count())
            .select_from(sends)
            .where(sends.c.recipient == recipient, sends.c.sent_at >= iso(since))
        )
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def record(self, business_key: str, recipient: str, channel: str, at: datetime) -> None:
        """Record a send; a key recorded before (another worker) is left as it was."""
        insert = sa.insert(sends).values(
            business_key=business_key, recipient=recipient, channel=channel, sent_at=iso(at)
        )
        try:
            with self.engine.begin() as connection:
                connection.execute(insert)
        except sa.exc.IntegrityError:
            pass  # another worker recorded the same send first
