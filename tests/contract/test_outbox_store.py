"""Contract of the outbound side of every store: outbox leases, delivery attempts, replays,
backlog figures and webhook subscriptions."""

from __future__ import annotations

import pytest

from relevo.services.delivery_records import (
    DEAD,
    PENDING,
    SENT,
    AttemptRow,
    BacklogCount,
    Subscription,
)
from relevo.services.records import OutboxRow, WriteBatch
from relevo.services.unit_of_work import Store

from .builders import moment


def _write(store: Store, *rows: tuple[str, str, str]) -> None:
    """Outbox rows ``(process_id, topic, available_at)``, written in one batch."""
    batch = WriteBatch(
        outbox=[
            OutboxRow(pid, topic, {"n": i}, f"{pid}:{i}:{topic}", at)
            for i, (pid, topic, at) in enumerate(rows)
        ],
        at=moment(),
    )
    with store.unit_of_work() as uow:
        uow.save(batch)
        uow.commit()


def _claim(
    store: Store, worker: str, now: str, until: str, limit: int = 10, **kw: object
) -> list[int]:
    with store.unit_of_work() as uow:
        claimed = uow.claim_outbox(worker, now, until, limit, **kw)  # type: ignore[arg-type]
        uow.commit()
    return [entry.id for entry in claimed]


def _attempt(entry_id: int, status: str, at: str, *, attempts: int = 1) -> AttemptRow:
    outcome = {SENT: "sent", DEAD: "failed_permanent", PENDING: "failed_transient"}[status]
    return AttemptRow(
        entry_id, "p-1", "t", attempts, at, outcome, "why", {"k": 1}, status, attempts, at
    )


def test_a_claim_leases_due_entries_oldest_first_and_once(any_store: Store) -> None:
    _write(any_store, ("p-1", "a", moment(2)), ("p-1", "a", moment(1)), ("p-2", "b", moment(9)))
    with any_store.unit_of_work(read_only=True) as uow:
        first, second, later = (e.id for e in uow.outbox_entries())

    assert _claim(any_store, "w1", moment(5), moment(6)) == [second, first]
    # Held by w1's lease: nobody else gets them, and the later one is not due yet.
    assert _claim(any_store, "w2", moment(5), moment(6)) == []
    # The lease ran out: w2 takes both over.
    assert sorted(_claim(any_store, "w2", moment(7), moment(8))) == [first, second]
    with any_store.unit_of_work(read_only=True) as uow:
        entry = uow.get_outbox_entry(first)
    assert entry is not None
    assert (entry.claimed_by, entry.claimed_until, entry.status) == ("w2", moment(8), PENDING)
    assert entry.idempotency_key == "p-1:0:a"
    assert entry.payload == {"n": 0}
    # Now the later one is due too, and w2's lease is over as well.
    assert _claim(any_store, "w3", moment(10), moment(11)) == [second, first, later]


def test_a_claim_respects_its_limit_and_skipped_topics(any_store: Store) -> None:
    _write(any_store, *[("p-1", "keep" if i % 2 else "skip", moment(i)) for i in range(6)])
    claimed = _claim(any_store, "w1", moment(9), moment(10), limit=2, skip_topics=["skip"])
    with any_store.unit_of_work(read_only=True) as uow:
        topics = {uow.get_outbox_entry(i).topic for i in claimed}  # type: ignore[union-attr]
    assert len(claimed) == 2
    assert topics == {"keep"}


def test_recording_moves_only_what_the_worker_still_holds(any_store: Store) -> None:
    _write(any_store, ("p-1", "t", moment(0)), ("p-1", "t", moment(0)))
    a, b = _claim(any_store, "w1", moment(1), moment(2))
    assert _claim(any_store, "w2", moment(3), moment(4)) == [a, b]  # w1's lease ran out

    with any_store.unit_of_work() as uow:
        moved = uow.record_attempts("w1", [_attempt(a, SENT, moment(3))])
        moved += uow.record_attempts("w2", [_attempt(b, DEAD, moment(3))])
        uow.commit()

    assert moved == 1
    with any_store.unit_of_work(read_only=True) as uow:
        kept, dead = uow.get_outbox_entry(a), uow.get_outbox_entry(b)
        attempts = uow.delivery_attempts(process_id="p-1")
        by_entry = uow.delivery_attempts(outbox_id=b)
    assert kept is not None and (kept.status, kept.claimed_by) == (PENDING, "w2")
    assert dead is not None and (dead.status, dead.claimed_by, dead.last_error) == (
        DEAD,
        None,
        "why",
    )
    assert [x.outcome for x in attempts] == ["sent", "failed_permanent"]
    assert attempts[0].facts == {"k": 1}
    assert [x.outbox_id for x in by_entry] == [b]


def test_a_finished_entry_is_replayed_and_a_pending_one_is_not(any_store: Store) -> None:
    _write(any_store, ("p-1", "t", moment(0)), ("p-1", "t", moment(0)))
    a, b = _claim(any_store, "w1", moment(1), moment(2))
    with any_store.unit_of_work() as uow:
        uow.record_attempts("w1", [_attempt(a, DEAD, moment(1), attempts=8)])
        uow.commit()
    with any_store.unit_of_work() as uow:
        replayed = uow.replay_outbox(a, moment(5))
        with pytest.raises(ValueError, match="still pending"):
            uow.replay_outbox(b, moment(5))
        with pytest.raises(LookupError):
            uow.replay_outbox(999_999, moment(5))
        uow.commit()
    assert (replayed.status, replayed.attempts, replayed.available_at) == (PENDING, 0, moment(5))
    assert _claim(any_store, "w2", moment(6), moment(7)) == [b, a]  # b was due first


def test_stats_count_the_backlog_and_the_attempts(any_store: Store) -> None:
    _write(any_store, ("p-1", "a", moment(0)), ("p-1", "a", moment(3)), ("p-1", "b", moment(9)))
    (first,) = _claim(any_store, "w1", moment(1), moment(2))
    with any_store.unit_of_work() as uow:
        uow.record_attempts("w1", [_attempt(first, SENT, moment(1))])
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        stats = uow.outbox_stats(moment(5))
    assert sorted(stats.backlog) == [
        BacklogCount("a", PENDING, 1),
        BacklogCount("a", SENT, 1),
        BacklogCount("b", PENDING, 1),
    ]
    assert stats.attempts == {"sent": 1}
    assert stats.oldest_due == moment(3)


def test_subscriptions_are_stored_listed_and_replaced(any_store: Store) -> None:
    first = Subscription("sub_1", "http://x/1", ("a", "b"), "whsec_1", None, None, True, moment(0))
    second = Subscription("sub_2", "http://x/2", ("*",), "whsec_2", None, None, True, moment(1))
    with any_store.unit_of_work() as uow:
        uow.add_subscription(second)
        uow.add_subscription(first)
        uow.commit()
    rotated = Subscription(
        "sub_1", "http://x/1", ("a", "b"), "whsec_3", "whsec_1", moment(9), False, moment(0)
    )
    with any_store.unit_of_work() as uow:
        uow.update_subscription(rotated)
        with pytest.raises(LookupError):
            uow.update_subscription(Subscription("nope", "u", (), "s", None, None, True, "t"))
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        assert uow.subscriptions() == [rotated, second]


def test_a_log_cursor_moves_only_from_where_it_was(any_store: Store) -> None:
    with any_store.unit_of_work() as uow:
        assert uow.log_cursor("r") == 0
        assert uow.move_log_cursor("r", 0, 5)
        assert not uow.move_log_cursor("r", 0, 7)  # someone moved it first
        assert uow.move_log_cursor("r", 5, 9)
        uow.commit()
    with any_store.unit_of_work(read_only=True) as uow:
        assert (uow.log_cursor("r"), uow.log_cursor("other")) == (9, 0)


def test_a_purge_deletes_the_attempts_of_messages_finished_before_the_cutoff(
    any_store: Store,
) -> None:
    _write(any_store, *[("p-1", "t", moment(0))] * 5)
    old, recent, dead, pending, later = _claim(any_store, "w1", moment(1), moment(2))
    with any_store.unit_of_work() as uow:
        uow.record_attempts(
            "w1",
            [
                _attempt(old, PENDING, moment(1)),
                _attempt(recent, PENDING, moment(1)),
                _attempt(dead, DEAD, moment(1)),
                _attempt(pending, PENDING, moment(1)),
                _attempt(later, SENT, moment(1)),
            ],
        )
        uow.commit()
    assert _claim(any_store, "w1", moment(3), moment(30)) == [old, recent, pending]
    with any_store.unit_of_work() as uow:
        uow.record_attempts(
            "w1",
            [
                _attempt(old, SENT, moment(4), attempts=2),
                _attempt(recent, SENT, moment(20), attempts=2),
            ],
        )
        uow.commit()

    with any_store.unit_of_work() as uow:
        first = uow.purge_attempts(moment(10), limit=1)
        rest = uow.purge_attempts(moment(10), limit=10)
        none_left = uow.purge_attempts(moment(10), limit=10)
        uow.commit()

    # Lowest outbox id first: both attempts of ``old``, then the one of ``later``.
    assert (first, rest, none_left) == ((1, 2), (1, 1), (0, 0))
    with any_store.unit_of_work(read_only=True) as uow:
        left = [a.outbox_id for a in uow.delivery_attempts(process_id="p-1")]
    assert sorted(left) == sorted([recent, recent, dead, pending])
