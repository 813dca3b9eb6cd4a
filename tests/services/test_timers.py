"""Timers are fired by relevo only, when due, once: ``Hub.fire_due_timers`` and the trusted
path behind it, on every store."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta

import pytest

from relevo.domain.model import Outcome
from relevo.services.catalog import Catalog
from relevo.services.hub import DueTimer, Hub, Inbound, StartRequest
from relevo.services.timer_messages import TIMER_SOURCE, timer_message
from relevo.services.unit_of_work import Store

from .test_ingest import MONDAY, WINDOW, Clock

CATALOG = functools.cache(Catalog.load)


@pytest.fixture
def hub(any_store: Store) -> Hub:
    return Hub(any_store, CATALOG(), Clock(MONDAY))


def move(hub: Hub, now: datetime) -> None:
    """Set the hub's clock to ``now``."""
    clock = hub.clock
    assert isinstance(clock, Clock)
    clock.now = now


def scheduled(hub: Hub, n: int = 1) -> str:
    """A mobile port-in the donor confirmed, its new SIM delivered: scheduled, its window
    timer armed."""
    msisdn = f"61234567{n}"
    view = hub.start_process(
        StartRequest(
            kind="mobile_port_in",
            customer_id=f"cus_{n}",
            subject=msisdn,
            keys={"crm_order_id": f"O-{n}"},
            attributes={"modality": "postpaid"},
            channel="web",
        )
    )
    data = {"msisdn": msisdn, "reference": f"NC-{n}", "window": WINDOW}
    results = hub.ingest(
        [
            Inbound("nc", f"a-{n}", "nc.accepted", data, MONDAY),
            Inbound("nc", f"c-{n}", "donor.confirmed", {"msisdn": msisdn}, MONDAY),
            # The new SIM is there, so the SIM watch (mobile_port_in v2) stays quiet.
            Inbound("courier", f"s-{n}", "sim.delivered", {"msisdn": msisdn}, MONDAY),
        ]
    )
    assert [r.outcome for r in results] == [Outcome.ACCEPTED] * 3
    return str(view["id"])


def window(hub: Hub, pid: str) -> DueTimer:
    return DueTimer(pid, "timer:window_opens", hub.states([pid])[pid].timers["timer:window_opens"])


def test_due_timers_fire_earliest_first_and_only_once(hub: Hub) -> None:
    pid = scheduled(hub)
    armed = hub.states([pid])[pid].timers
    assert hub.fire_due_timers().fired == 0
    move(hub, datetime(2026, 12, 2, 3, 0, tzinfo=UTC))

    done = hub.fire_due_timers()

    due = sorted((at, name) for name, at in armed.items() if at <= "2026-12-02T03")
    assert [r.id for r in done.results] == [f"{pid}:{name}:{at}" for at, name in due]
    assert {r.source for r in done.results} == {TIMER_SOURCE}
    assert (done.fired, done.skipped) == (len(due), 0)
    assert hub.states([pid])[pid].stage == "porting"
    assert hub.fire_due_timers().fired == 0


def test_a_timer_fired_twice_is_applied_once(hub: Hub) -> None:
    pid = scheduled(hub)
    timer = window(hub, pid)
    move(hub, datetime(2026, 12, 2, 3, 0, tzinfo=UTC))

    first = hub.fire_timers([timer])
    version = hub.states([pid])[pid].version
    again = hub.fire_timers([timer, timer])  # a second worker, a retry after a crash

    assert first.fired == 1
    assert (again.fired, again.skipped) == (0, 2)
    assert {r.reason_code for r in again.results} == {"duplicate"}
    assert hub.states([pid])[pid].version == version


def test_a_timer_whose_process_moved_on_is_skipped_and_recorded_nowhere(hub: Hub) -> None:
    pid = scheduled(hub)
    timer = window(hub, pid)
    move(hub, datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    version = hub.states([pid])[pid].version
    re_armed = timer._replace(due="2026-12-01T00:00:00+00:00")

    done = hub.fire_timers([re_armed])

    [result] = done.results
    assert (result.outcome, result.reason_code) == (Outcome.IGNORED, "timer_moved_on")
    assert (done.fired, done.skipped) == (0, 1)
    assert hub.states([pid])[pid].version == version
    # Nothing was recorded: the armed timer still fires.
    assert hub.fire_timers([timer]).fired == 1


def test_a_timer_never_fires_before_its_due_moment(hub: Hub) -> None:
    pid = scheduled(hub)
    timer = window(hub, pid)

    done = hub.fire_timers([timer])

    [result] = done.results
    assert (result.outcome, result.reason_code) == (Outcome.REJECTED, "timer_not_due")
    assert hub.states([pid])[pid].stage == "scheduled"
    assert len(hub.dead_letters()) == 1
    # Fired early again, it is a duplicate: one dead letter, not one per attempt.
    assert hub.fire_timers([timer]).results[0].reason_code == "duplicate"
    assert len(hub.dead_letters()) == 1


def test_a_pass_reads_at_most_limit_processes(hub: Hub) -> None:
    first, second = scheduled(hub, 1), scheduled(hub, 2)
    move(hub, MONDAY + timedelta(days=30))

    done = hub.fire_due_timers(limit=1)

    [one] = {r.process_id for r in done.results}
    [other] = {first, second} - {one}
    assert hub.states([other])[other].stage == "scheduled"
    assert other in {r.process_id for r in hub.fire_due_timers().results}
    with pytest.raises(ValueError, match="at least 1"):
        hub.fire_due_timers(limit=0)


def test_untrusted_ingest_refuses_a_timer_whatever_its_path(hub: Hub) -> None:
    pid = scheduled(hub)
    forged = timer_message(*window(hub, pid))
    move(hub, datetime(2026, 12, 2, 3, 0, tzinfo=UTC))  # even when due

    direct = hub.ingest([forged])
    [streamed] = [r for batch in hub.ingest_stream([[forged], [forged]]) for r in batch][:1]

    for result in (direct[0], streamed):
        assert (result.outcome, result.reason_code) == (Outcome.REJECTED, "reserved_namespace")
    assert hub.states([pid])[pid].stage == "scheduled"
    assert hub.fire_due_timers().fired >= 1  # the forgery did not use up the timer's id
    assert hub.states([pid])[pid].stage == "porting"
