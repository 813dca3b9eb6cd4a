"""Telecom move (``telecom_move`` v1, issue #15, rules.md §5.3): coverage at the new address,
the installation appointment, a geographic number kept only within its numbering area, and
commitment periods that keep running.

The customer asks on Monday 5 October 2026; Monday 12 October is a national holiday.
"""

from __future__ import annotations

from typing import Any

import pytest

from relevo.domain.errors import InvalidStart

from .helpers import (
    Run,
    accepted,
    allowed_controls,
    assert_incident_view,
    event_topics,
    load,
    madrid,
    problem_codes,
    refusal,
    run_templates,
)

C = load("telecom_move.v1.yaml")
CONTRACT = "TEL-00012345"
MONDAY = madrid(2026, 10, 5, 10, 0)
NEW_HOME = "Calle de Alcalá 100, 2º A, 28009 Madrid"


def requested(**attributes: Any) -> Run:
    return Run.start(
        C,
        MONDAY,
        subject=CONTRACT,
        attributes={"new_address": NEW_HOME, "fixed_number": "915551234", **attributes},
    )


def booking(**coverage: Any) -> Run:
    run = requested()
    data = {"covered": True, "technology": "FTTH", "same_numbering_area": True, **coverage}
    accepted(run.send("coverage.checked", data, at=madrid(2026, 10, 5, 16, 0)))
    return run


def installation() -> Run:
    run = booking()
    run.act("book_installation", {"slot": "2026-10-14T10:00:00+02:00"})
    accepted(
        run.send(
            "installation.booked",
            {"appointment": "2026-10-14T10:00:00+02:00", "work_order_id": "OT-1"},
        )
    )
    return run


def test_happy_path_coverage_booking_installation_activation() -> None:
    run = booking()
    assert run.state.stage == "booking"
    assert "FTTH" in run.headline("en")
    assert "coverage_ok" in run_templates(run)

    event = run.act("book_installation", {"slot": "2026-10-14T10:00:00+02:00"})
    assert event_topics(event) == ["installation.requested"]
    accepted(
        run.send(
            "installation.booked",
            {"appointment": "2026-10-14T10:00:00+02:00", "work_order_id": "OT-1"},
        )
    )
    assert run.state.stage == "installation"
    assert run.date("cancel_until") == madrid(2026, 10, 13, 14, 0)
    accepted(run.send("installation.done", at=madrid(2026, 10, 14, 12, 0)))
    accepted(run.send("service.activated"))
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_no_coverage_lets_the_customer_end_the_service_or_cancel() -> None:
    run = requested()
    accepted(run.send("coverage.checked", {"covered": False}))
    assert run.state.open_incidents() == ["NO_COVERAGE"]
    assert_incident_view(run, "NO_COVERAGE")
    event = run.act("end_service")
    assert event_topics(event) == ["service.termination_requested"]
    assert run.state.status == "failed"


def test_another_numbering_area_means_a_new_number_the_customer_accepts_first() -> None:
    run = booking(same_numbering_area=False)
    assert "NUMBER_CHANGES" in run.state.open_incidents()
    assert_incident_view(run, "NUMBER_CHANGES")
    row = next(r for r in run.view("en")["incidents"] if r["code"] == "NUMBER_CHANGES")
    assert "only be kept within its own numbering area" in row["what_happened"]
    assert "mobile is not affected" in row["what_happened"]

    event = run.act("accept_new_number")
    assert event_topics(event) == ["number.new_requested"]
    assert run.state.open_incidents() == []
    assert "book_installation" in allowed_controls(run)


def test_a_running_commitment_is_shown_with_its_date() -> None:
    run = booking(commitment_until="2027-03-31")
    dates = {row["id"]: row for row in run.view("en")["dates"]}
    assert dates["commitment_until"]["title"] == "Your commitment runs until"
    assert run.date("commitment_until") == madrid(2027, 3, 31)
    assert "commitment_info" in run_templates(run)


def test_a_missed_installation_is_compensated_as_the_operators_term() -> None:
    run = installation()
    accepted(run.send("installation.missed", {"who": "technician"}))
    assert run.state.stage == "booking"
    assert run.state.open_incidents() == ["TECHNICIAN_NO_SHOW"]
    owed = run.view("en")["compensation"]
    assert owed and owed[0]["right"] == "missed_appointment"
    run.act("book_installation", {"slot": "2026-10-20T09:00:00+02:00"})
    accepted(
        run.send(
            "installation.booked",
            {"appointment": "2026-10-20T09:00:00+02:00", "work_order_id": "OT-2"},
        )
    )
    assert run.state.open_incidents() == []
    run.assert_replay_matches()


def test_the_installation_slot_is_a_working_day_within_hours() -> None:
    run = booking()
    error = refusal(run, "book_installation", {"slot": "2026-10-12T10:00:00+02:00"})
    assert problem_codes(error) == {"slot": "holiday"}  # Fiesta Nacional
    error = refusal(run, "book_installation", {"slot": "2026-10-14T21:00:00+02:00"})
    assert set(problem_codes(error)) == {"slot"}


@pytest.mark.parametrize("bad", ["612345678", "91555", "abc"])
def test_a_number_that_is_not_a_landline_is_refused(bad: str) -> None:
    with pytest.raises(InvalidStart, match="fixed_number"):
        requested(fixed_number=bad)
