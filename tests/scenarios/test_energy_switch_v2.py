"""``energy_switch`` v2 (issue #15): the legal switching clock with its date and incidents,
the C2 route (a holder or power change with the switch) and both 2.0TD power periods.

Sources: Ley 24/2013 art. 43.3 (21 days), Ley 34/1998 arts. 74.1, 81.2 (gas, 3 weeks),
Directive (EU) 2019/944 art. 12(1) (rules.md §0.2, §3.4); gestionatr C1/C2 step deadlines
(rules.md §3.3, ⚠ verify); TABLA_27 power codes and TABLA_28 field incidences (rules.md §3.5).
The request is made on Monday 5 October 2026; Monday 12 October is a national holiday.
"""

from __future__ import annotations

from typing import Any

import pytest

from relevo.domain.errors import InvalidStart

from .helpers import (
    Run,
    accepted,
    assert_incident_view,
    event_templates,
    ignored_reason,
    load,
    madrid,
    problem_codes,
    refusal,
    run_templates,
)

C = load("energy_switch.v2.yaml")
V1 = load("energy_switch.v1.yaml")
CUPS = "ES0021000000123456AB"
MONDAY = madrid(2026, 10, 5, 10, 0)
POWERS = {"power_p1": "4,6", "power_p2": "5.75"}


def requested(changes: str = "none", **attributes: Any) -> Run:
    return Run.start(
        C,
        MONDAY,
        subject=CUPS,
        attributes={"supply_type": "electricity", "changes": changes, **POWERS, **attributes},
    )


def checking(changes: str = "none", **attributes: Any) -> Run:
    run = requested(changes, **attributes)
    accepted(run.send("atr.submitted", {"request_id": "ATR-1"}, at=madrid(2026, 10, 5, 12, 0)))
    return run


def scheduled(changes: str = "none", field_work: bool = False) -> Run:
    run = checking(changes)
    accepted(
        run.send(
            "distributor.accepted",
            {"activation_date": "2026-10-14", "activation_type": "A0", "field_work": field_work},
            at=madrid(2026, 10, 6, 10, 0),
        )
    )
    return run


# -- the legal clock -------------------------------------------------------------------------


def test_the_customer_sees_the_legal_deadline_of_21_days_in_the_dates_and_the_headline() -> None:
    run = requested()

    assert run.date("switch_due") == madrid(2026, 10, 26, 23, 59)
    dates = {row["id"]: row for row in run.view("en")["dates"]}
    assert dates["switch_due"]["title"] == "Your switch must be done by"
    assert "By law your switch must be done by" in run.headline("en")
    assert "26" in run.headline("en") and "{" not in run.headline("es")
    run.assert_replay_matches()


def test_a_later_fixed_date_the_customer_chooses_becomes_the_deadline() -> None:
    run = requested()
    run.act("choose_fixed_date", {"date": "2026-11-02"})

    assert run.date("switch_due") == madrid(2026, 11, 2, 23, 59)
    # Passing the old 21 days does not open the legal-deadline incident.
    run.advance(madrid(2026, 10, 28, 9, 0))
    assert "SWITCH_OVERDUE" not in run.state.open_incidents()


def test_a_distributor_silent_past_5_working_days_opens_an_incident_and_tells_the_customer() -> (
    None
):
    run = checking()
    # Submitted Monday 5 Oct; 5 working days skip Monday 12 October (holiday).
    assert run.date("distributor_answer_due") == madrid(2026, 10, 13, 12, 0)
    assert "must answer by" in run.headline("en")

    fired = run.advance(madrid(2026, 10, 13, 12, 1))

    assert run.state.open_incidents() == ["DISTRIBUTOR_SILENT"]
    assert_incident_view(run, "DISTRIBUTOR_SILENT")
    assert "distributor_late" in [t for d in fired for e in d.events for t in event_templates(e)]
    assert run.task("chase_distributor")["status"] == "open"
    assert "chasing it" in run.headline("en")
    # The late answer ends it.
    accepted(run.send("distributor.rejected", {"code": "03"}))
    assert run.state.open_incidents() == ["R03"]
    run.assert_replay_matches()


def test_the_switch_not_done_in_21_days_opens_the_legal_deadline_incident_with_a_notice() -> None:
    run = scheduled()
    run.advance(madrid(2026, 10, 27, 0, 1))

    assert "SWITCH_OVERDUE" in run.state.open_incidents()
    assert_incident_view(run, "SWITCH_OVERDUE")
    assert "switch_overdue" in run_templates(run)
    accepted(run.send("switch.activated", {"activation_date": "2026-10-27"}))
    assert run.state.open_incidents() == []
    run.assert_replay_matches()


def test_at_the_next_reading_the_customer_chose_to_wait_so_no_legal_deadline_incident() -> None:
    run = requested(activation_mode="next_reading")
    accepted(run.send("atr.submitted", {"request_id": "ATR-1"}))
    accepted(run.send("distributor.accepted", {"activation_date": "2026-11-10"}))
    run.advance(madrid(2026, 10, 28, 9, 0))
    assert "SWITCH_OVERDUE" not in run.state.open_incidents()


# -- the C2 route ----------------------------------------------------------------------------


def test_a_switch_with_a_holder_change_goes_as_c2_and_the_customer_is_told() -> None:
    run = checking("holder", new_holder_id="12345678Z")

    assert run.state.attributes["atr_process"] == "C2"
    assert "holder_change_requested" in run_templates(run)
    assert checking().state.attributes["atr_process"] == "C1"


def test_power_codes_answer_a_c2_power_change_and_go_to_an_agent_on_a_c1() -> None:
    for code in ("14", "47", "48", "52", "65"):
        run = checking("power")
        accepted(run.send("distributor.rejected", {"code": code}))
        assert run.state.open_incidents() == ["R14"]
        assert_incident_view(run, "R14")
        row = next(r for r in run.view("en")["incidents"] if r["code"] == "R14")
        assert "P1 4,6 kW" in row["what_happened"] and "P2 5.75 kW" in row["what_happened"]
        run.act("change_power", {"power_p1": "3.45", "power_p2": "4.6"})
        assert (run.state.attributes["power_p1"], run.state.attributes["power_p2"]) == (
            "3.45",
            "4.6",
        )
        run.assert_replay_matches()

    c1 = checking()
    accepted(c1.send("distributor.rejected", {"code": "14"}))
    assert c1.state.open_incidents() == ["R99"]


def test_field_incidences_are_step_03_of_c2_and_ignored_on_c1() -> None:
    run = scheduled("power", field_work=True)
    accepted(run.send("field.incidence", {"code": "01"}))
    assert run.state.open_incidents() == ["F01"]

    c1 = scheduled()
    assert ignored_reason(c1.send("field.incidence", {"code": "01"}))
    assert c1.state.open_incidents() == []


# -- 2.0TD powers ----------------------------------------------------------------------------


def test_both_2_0td_powers_are_shown_to_the_customer() -> None:
    run = checking()
    assert "powers_requested" in run_templates(run)
    gas = Run.start(C, MONDAY, subject=CUPS, attributes={"supply_type": "gas"})
    accepted(gas.send("atr.submitted", {"request_id": "ATR-2"}))
    assert "powers_requested" not in run_templates(gas)


@pytest.mark.parametrize("bad", ["16", "15.5", "abc", "-3", "4.6 kW"])
def test_a_power_that_is_not_a_2_0td_power_is_refused_at_the_start(bad: str) -> None:
    with pytest.raises(InvalidStart, match="power_p2"):
        requested(power_p2=bad)


def test_a_power_change_with_a_power_above_15_kw_is_refused() -> None:
    run = checking("power")
    accepted(run.send("distributor.rejected", {"code": "47"}))
    error = refusal(run, "change_power", {"power_p1": "4.6", "power_p2": "20"})
    assert problem_codes(error) == {"power_p2": "invalid_format"}


def test_running_v1_processes_keep_their_definition() -> None:
    assert V1.definition.version == 1 and C.definition.version == 2
    old = Run.start(V1, MONDAY, subject=CUPS, attributes={"supply_type": "electricity"})
    assert "switch_due" not in old.state.dates
