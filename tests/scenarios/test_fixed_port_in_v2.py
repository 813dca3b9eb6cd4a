"""What ``fixed_port_in`` v2 adds (issue 15): the installation incidents an operator sees
every day and postponing the port window. Processes started on v1 stay on v1.

Sources: rules.md §2 (the access may be ordered from a wholesale provider before the
technician installs; the port runs within 1 working day of the installation; básico ports
can be cancelled until 19:00 of the working day before) and the portability working day of
rules.md's conventions. Building permission and riser access are operator practice, written
without a legal claim.
"""

from __future__ import annotations

import pytest

from .helpers import (
    allowed_controls,
    assert_incident_view,
    event_templates,
    load,
    madrid,
    problem_codes,
    refusal,
    run_templates,
)
from .test_fixed_port_in import SLOT, booking, installation, porting

C = load("fixed_port_in.v2.yaml")


@pytest.mark.parametrize("cause", ["BUILDING_PERMISSION", "NO_RISER_ACCESS"])
def test_a_building_problem_at_the_visit_asks_the_customer_and_a_new_day(cause: str) -> None:
    run = installation()
    event = run.send("visit.blocked", {"cause": cause}, at=madrid(2026, 12, 3, 11, 0))
    assert event_templates(event.events[0]) == ["installation_blocked"]
    assert run.state.stage == "booking"
    assert "installation_appointment" not in run.state.dates
    assert run.state.open_incidents() == [cause]
    assert_incident_view(run, cause)
    run.act("book_installation", {"slot": "2026-12-10T09:00:00+01:00"})
    assert run.state.stage == "installation"
    run.assert_replay_matches()


def test_an_unknown_building_cause_is_rejected_not_recorded() -> None:
    run = installation()
    decision = run.send("visit.blocked", {"cause": "ROOF"})
    assert decision.outcome.value == "rejected"
    assert run.state.open_incidents() == []


def test_a_failed_wholesale_order_puts_the_installation_on_hold_and_says_so() -> None:
    run = installation()
    run.send("wholesale.order_failed", {"reason": "NEBA order refused"}, at=madrid(2026, 12, 1, 9))
    assert run.state.stage == "booking"
    assert "installation_appointment" not in run.state.dates
    assert run.state.open_incidents() == ["WHOLESALE_ORDER_FAILED"]
    assert_incident_view(run, "WHOLESALE_ORDER_FAILED")
    assert run.task("reorder_access")["team"] == "provisioning"
    assert run_templates(run)[-1] == "installation_on_hold"
    run.send("wholesale.order_reissued", at=madrid(2026, 12, 1, 15, 0))
    assert run.state.incidents["WHOLESALE_ORDER_FAILED"]["status"] == "resolved"
    assert run.task("reorder_access")["status"] == "done"
    assert "book_installation" in allowed_controls(run)
    # Back in booking after a failure: no second "good news, there is coverage" message.
    assert run_templates(run).count("coverage_confirmed") == 1
    run.assert_replay_matches()


def test_a_failed_wholesale_order_before_booking_keeps_the_stage() -> None:
    run = booking()
    run.send("wholesale.order_failed", {"reason": "indirect fibre not available"})
    assert (run.state.stage, run.state.open_incidents()) == ("booking", ["WHOLESALE_ORDER_FAILED"])


def test_the_port_window_can_be_postponed_until_the_cut_off() -> None:
    run = porting()  # installed Thursday 3 Dec 12:00: the window estimate is Friday 4 Dec
    assert run.date("port_window") == madrid(2026, 12, 4, 8, 0)
    assert "postpone_port" in allowed_controls(run)
    error = refusal(run, "postpone_port", {"new_date": "2026-12-05"})
    assert problem_codes(error) == {"new_date": "weekend"}
    run.act("postpone_port", {"new_date": "2026-12-10", "reason": "viaje"})
    assert run.date("port_window") == madrid(2026, 12, 10, 8, 0)
    assert run.date("cancel_until") == madrid(2026, 12, 9, 19, 0)
    assert run.state.dates["port_window"]["confirmed"] is False
    event = run.send("er.window_changed", {"window": "2026-12-10"})
    assert event_templates(event.events[0]) == ["port_window_confirmed"]
    assert run.state.dates["port_window"]["confirmed"] is True
    run.advance(madrid(2026, 12, 9, 19, 0))
    error = refusal(run, "postpone_port", {"new_date": "2026-12-14"})
    assert error.code == "cutoff_passed"
    assert error.instead is not None and "goes ahead on the planned day" in error.instead.en
    run.assert_replay_matches()


def test_an_installation_after_hours_counts_the_window_from_the_next_working_day() -> None:
    run = installation(SLOT)
    run.send("visit.completed", at=madrid(2026, 12, 3, 21, 0))  # Thursday after 20:00
    # Counts from Friday, so the estimate is Monday 7 December... a Madrid holiday, and 8
    # December too: Wednesday 9 December.
    assert run.date("port_window") == madrid(2026, 12, 9, 8, 0)
