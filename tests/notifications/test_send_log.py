"""The send log, in SQL (SQLite and PostgreSQL) and in memory, behaves the same."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from relevo.adapters.db.send_log import SqlSendLog
from relevo.adapters.db.store import SqlStore
from relevo.adapters.memory.send_log import MemorySendLog
from relevo.services.notifications.ports import SendLog
from scenarios.helpers import madrid


@pytest.fixture(params=["sql", "memory"])
def send_log(request: pytest.FixtureRequest, db_engine: sa.Engine) -> SendLog:
    if request.param == "memory":
        return MemorySendLog()
    store: SqlStore = request.getfixturevalue("sql_store")
    return SqlSendLog(store.engine)


def test_a_key_is_recorded_once_and_counted_per_recipient_and_day(send_log: SendLog) -> None:
    assert not send_log.was_sent("p:t:v1::sms")
    send_log.record("p:t:v1::sms", "+34612345678", "sms", madrid(2026, 10, 5, 23, 59))
    send_log.record("p:t:v1::sms", "+34612345678", "sms", madrid(2026, 10, 6, 10, 0))
    send_log.record("p:u:v2::sms", "+34612345678", "sms", madrid(2026, 10, 6, 10, 0))
    send_log.record("p:u:v2::email", "ana@example.com", "email", madrid(2026, 10, 6, 10, 0))
    assert send_log.was_sent("p:t:v1::sms")
    assert send_log.count_since("+34612345678", madrid(2026, 10, 6)) == 1
    assert send_log.count_since("+34612345678", madrid(2026, 10, 5)) == 2
    assert send_log.count_since("ana@example.com", madrid(2026, 10, 6)) == 1
