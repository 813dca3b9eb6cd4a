"""Every access store (SQL on SQLite and PostgreSQL, in memory) counts link uses, requests
and code attempts the same way, and a code checks out once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from relevo.bootstrap import build_access
from relevo.domain.model import ProcessState, iso
from relevo.services.access import codes, limits, retention
from relevo.services.access.limits import RateLimit, RateLimited
from relevo.services.access.ports import AccessStore
from relevo.services.access.retention import purge_expired
from relevo.services.unit_of_work import Store

NOW = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
SECRET = "access-test-secret"


def _state(store: Store) -> ProcessState:
    return ProcessState(
        id="prc_1",
        kind="mobile_port_in",
        definition_version=1,
        customer_id="cust-1",
        subject="612345678",
        language="es",
        timezone="Europe/Madrid",
        channel="web",
        created_at=iso(NOW),
        updated_at=iso(NOW),
        attributes={"contact_phone": "612345678"},
    )


def _outbox(store: Store) -> list[str]:
    with store.unit_of_work(read_only=True) as uow:
        return [str(m.payload.get("access")) for m in uow.outbox_messages()]


def test_a_link_is_used_at_most_so_many_times_within_the_grace(any_store: Store) -> None:
    access = build_access(any_store)

    def use(at: datetime) -> bool:
        since = iso(at - timedelta(minutes=10))
        return access.use_link(
            "d" * 64, "prc_1", iso(NOW + timedelta(days=1)), iso(at), since=since, most=3
        )

    assert use(NOW) and use(NOW + timedelta(minutes=1))
    assert not use(NOW + timedelta(minutes=11))  # past the grace: refused, not counted
    assert use(NOW + timedelta(minutes=2))
    assert not use(NOW + timedelta(minutes=3))  # the fourth


def test_requests_are_counted_per_bucket_and_window(any_store: Store) -> None:
    access = build_access(any_store)
    limit = RateLimit("test", 2, timedelta(hours=1))
    limits.take(access, [(limit, "a")], NOW)
    limits.take(access, [(limit, "a")], NOW + timedelta(minutes=5))
    with pytest.raises(RateLimited) as limited:
        limits.take(access, [(limit, "a")], NOW + timedelta(minutes=6))
    assert limited.value.retry_at == NOW + timedelta(hours=1)
    limits.take(access, [(limit, "b")], NOW)
    limits.take(access, [(limit, "a")], NOW + timedelta(hours=1))


def test_a_code_checks_out_once(any_store: Store) -> None:
    access = build_access(any_store)
    state = _state(any_store)
    code = codes.request_code(
        access, SECRET, state, "cancel", client="10.0.0.1", lang="es", now=NOW
    )
    assert _outbox(any_store) == ["code"]
    typed = codes.code_for(SECRET, code.id)
    assert code.code_hash != typed and typed not in code.code_hash
    first = codes.check_code(access, SECRET, state, "cancel", typed, NOW)
    again = codes.check_code(access, SECRET, state, "cancel", typed, NOW)
    assert (first.outcome, again.outcome) == (codes.Check.OK, codes.Check.USED)


def test_a_new_code_replaces_the_open_one(any_store: Store) -> None:
    access = build_access(any_store)
    state = _state(any_store)
    old = codes.request_code(access, SECRET, state, "cancel", client="c", lang="es", now=NOW)
    new = codes.request_code(access, SECRET, state, "cancel", client="c", lang="es", now=NOW)
    latest = access.latest_code("prc_1", "cust-1", "cancel")
    assert latest is not None and latest.id == new.id
    assert access.try_code(old.id, 5) is None
    assert access.use_code(new.id) and not access.use_code(new.id)


def test_attempts_stop_at_the_limit(any_store: Store) -> None:
    access: AccessStore = build_access(any_store)
    state = _state(any_store)
    code = codes.request_code(access, SECRET, state, "cancel", client="c", lang="es", now=NOW)
    assert [access.try_code(code.id, 2) for _ in range(3)] == [1, 2, None]


def test_two_workers_counting_at_once_never_pass_a_limit_together(any_store: Store) -> None:
    access = build_access(any_store)
    passed: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        allowed = access.hit("race", iso(NOW), 5)
        with lock:
            passed.append(allowed)

    threads = [threading.Thread(target=ask) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert passed.count(True) == 5


def _use(access: AccessStore, digest: str, expires: datetime, at: datetime) -> bool:
    since = iso(at - timedelta(minutes=10))
    return access.use_link(digest * 64, "prc_1", iso(expires), iso(at), since=since, most=1)


def test_purge_deletes_only_what_can_no_longer_decide_anything(any_store: Store) -> None:
    access = build_access(any_store)
    state = _state(any_store)
    long_ago = NOW - timedelta(days=3)
    # A link that expired two days ago, and one still valid but already used up.
    assert _use(access, "a", NOW - timedelta(days=2), long_ago)
    assert _use(access, "b", NOW + timedelta(days=1), long_ago)
    old = codes.request_code(access, SECRET, state, "cancel", client="c", lang="es", now=long_ago)
    current = codes.request_code(access, SECRET, state, "postpone", client="c", lang="es", now=NOW)
    assert access.hit("old", iso(long_ago), 5) and access.hit("now", iso(NOW), 1)

    purged = purge_expired(access, lambda: NOW, timedelta(hours=24))

    assert purged == {
        "before": iso(NOW - timedelta(hours=24)),
        "link_uses": 1,
        "codes": 1,
        # "old", and the two limits the old code's request counted in (customer, address).
        "rate_limits": 3,
    }
    # The used-up link that is still valid stays used up.
    assert not _use(access, "b", NOW + timedelta(days=1), NOW)
    # The current code and the current window's count are untouched.
    latest = access.latest_code("prc_1", "cust-1", "postpone")
    assert latest is not None and latest.id == current.id
    assert access.latest_code("prc_1", "cust-1", "cancel") is None and old.id != current.id
    assert not access.hit("now", iso(NOW), 1)
    # Nothing is left to purge.
    again = purge_expired(access, lambda: NOW, timedelta(hours=24))
    assert (again["link_uses"], again["codes"], again["rate_limits"]) == (0, 0, 0)


def test_purge_goes_on_chunk_after_chunk(any_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    access = build_access(any_store)
    monkeypatch.setattr(retention, "PURGE_CHUNK", 2)
    for index in range(5):
        assert _use(access, str(index), NOW - timedelta(days=2), NOW - timedelta(days=3))
        assert access.hit(f"bucket-{index}", iso(NOW - timedelta(days=3)), 5)
    purged = purge_expired(access, lambda: NOW, timedelta(hours=1))
    assert (purged["link_uses"], purged["rate_limits"]) == (5, 5)


def test_purge_needs_a_positive_retention(any_store: Store) -> None:
    with pytest.raises(ValueError, match="positive"):
        purge_expired(build_access(any_store), lambda: NOW, timedelta(0))
