"""The limits received values are checked against are what the SQL columns hold."""

from __future__ import annotations

import sqlalchemy as sa

from relevo.adapters.db import tables as t
from relevo.services import limits
from relevo.services.cloudevents import LONGEST


def _length(column: sa.Column[object]) -> int:
    length = getattr(column.type, "length", None)
    assert isinstance(length, int), column
    return length


def test_every_text_limit_is_the_length_of_the_columns_it_guards() -> None:
    guarded = {
        limits.MESSAGE_ID: [
            t.inbox.c.message_id,
            t.events.c.message_id,
            t.dead_letters.c.message_id,
        ],
        limits.SOURCE: [t.inbox.c.source, t.events.c.source, t.dead_letters.c.source],
        limits.EVENT_TYPE: [t.events.c.type, t.dead_letters.c.type],
        limits.ACTOR: [t.events.c.actor],
        limits.CHANNEL: [t.events.c.channel],
        limits.PROCESS_ID: [t.processes.c.id, t.events.c.process_id],
        limits.KIND: [t.processes.c.kind, t.correlation_keys.c.kind],
        limits.CUSTOMER_ID: [t.processes.c.customer_id],
        limits.SUBJECT: [t.processes.c.subject, t.correlation_keys.c.value],
        limits.KEY_NAME: [t.correlation_keys.c.name],
        limits.KEY_VALUE: [t.correlation_keys.c.value],
    }
    for limit, columns in guarded.items():
        assert {_length(column) for column in columns} == {limit}, columns


def test_stored_cloudevent_attributes_are_bounded_by_their_columns() -> None:
    assert LONGEST["id"] == _length(t.inbox.c.message_id)
    assert LONGEST["source"] == _length(t.inbox.c.source)
    assert LONGEST["type"] == _length(t.events.c.type)
    assert LONGEST["relevoactor"] == _length(t.events.c.actor)
    assert LONGEST["relevochannel"] == _length(t.events.c.channel)
    assert LONGEST["subject"] == _length(t.processes.c.id)
