"""The send log, written with the attempts that sent and read back by business key, behaves
the same in SQL (SQLite and PostgreSQL) and in memory."""

from __future__ import annotations

from notifications.support import record_sends
from relevo.domain.model import iso
from relevo.services.delivery_records import SendRecord
from relevo.services.notifications.send_log import StoreSendLog
from relevo.services.unit_of_work import Store
from scenarios.helpers import madrid


def test_a_key_is_recorded_once_and_counted_per_recipient_and_day(any_store: Store) -> None:
    log = StoreSendLog(any_store)
    assert log.sent_keys(["p:t:v1::sms"]) == set()
    first = SendRecord("p:t:v1::sms", "+34612345678", "sms", iso(madrid(2026, 10, 5, 23, 59)))
    record_sends(any_store, first)
    record_sends(
        any_store,
        first._replace(at=iso(madrid(2026, 10, 6, 10, 0))),  # the same key again: kept as was
        SendRecord("p:u:v2::sms", "+34612345678", "sms", iso(madrid(2026, 10, 6, 10, 0))),
        SendRecord("p:u:v2::email", "ana@example.com", "email", iso(madrid(2026, 10, 6, 10, 0))),
    )
    wanted = ["p:t:v1::sms", "p:u:v2::email", "p:never::sms", "p:t:v1::sms"]
    assert log.sent_keys(wanted) == {"p:t:v1::sms", "p:u:v2::email"}
    assert log.sent_keys([]) == set()
    assert log.count_since("+34612345678", madrid(2026, 10, 6)) == 1
    assert log.count_since("+34612345678", madrid(2026, 10, 5)) == 2
    assert log.count_since("ana@example.com", madrid(2026, 10, 6)) == 1
