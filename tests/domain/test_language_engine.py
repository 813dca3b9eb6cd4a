"""What the newer constructs of the definitions language do in the engine, on the test
definition ``two_line_port``: conditional effects and parameters, earliest/latest dates,
guards on dates, incidents and tasks, and a correlation key with several values. Every run
ends by folding its log from the start and comparing with the live state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from relevo.domain import validation
from relevo.domain.compiled import Compiled, compile_definition
from relevo.domain.errors import ActionRefused
from relevo.domain.model import Outcome
from scenarios.helpers import Run, madrid, run_templates

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "definitions" / "two_line_port.v1.yaml"
C: Compiled = compile_definition(validation.parse(FIXTURE.read_text("utf-8"), FIXTURE.name))
MONDAY = madrid(2026, 11, 30, 10, 0)
#: Wednesday 9 December 2026: Monday 7 and Tuesday 8 are holidays in the portability calendar.
WINDOW = "2026-12-09"


def started(modality: str = "prepaid", **attributes: Any) -> Run:
    return Run.start(C, MONDAY, attributes={"modality": modality, **attributes})


def accepted(run: Run, **data: Any) -> Run:
    run.send("nc.accepted", {"reference": "NC-1", "window": WINDOW, **data})
    return run


def test_conditional_effects_apply_only_when_their_guard_holds() -> None:
    prepaid = started("prepaid")
    assert prepaid.state.tasks["sim_delivery"]["status"] == "open"
    assert "contract_end" not in prepaid.state.dates
    accepted(prepaid)
    assert "prepaid_tip" in run_templates(prepaid)

    postpaid = started("postpaid", contract_end="2026-12-03")
    assert postpaid.state.tasks == {}
    assert postpaid.date("contract_end") == madrid(2026, 12, 3)
    accepted(postpaid)
    assert "prepaid_tip" not in run_templates(postpaid)
    prepaid.assert_replay_matches()
    postpaid.assert_replay_matches()


def test_a_conditional_block_reads_the_message() -> None:
    run = accepted(started("postpaid"))
    run.send("nc.cancelled", {"cause": "customer"})
    assert "cancelled_technical" not in run_templates(run)
    other = accepted(started("postpaid"))
    other.send("nc.cancelled", {"cause": "technical"})
    assert "cancelled_technical" in run_templates(other)
    other.assert_replay_matches()


def test_earliest_picks_the_commitment_end_when_it_comes_first() -> None:
    without = accepted(started("postpaid"))
    # The portability cut-off: 14:00 of the working day before the window.
    assert without.date("cancel_until") == madrid(2026, 12, 4, 14, 0)
    early_end = accepted(started("postpaid", contract_end="2026-12-03"))
    assert early_end.date("cancel_until") == madrid(2026, 12, 3)
    late_end = accepted(started("postpaid", contract_end="2027-01-31"))
    assert late_end.date("cancel_until") == madrid(2026, 12, 4, 14, 0)
    # latest(window + 5 working days, started + 10 days)
    assert without.date("latest_postponement") == madrid(2026, 12, 16, 2, 0)
    early_end.assert_replay_matches()


def test_a_guard_compares_a_process_date_with_now() -> None:
    run = accepted(started())
    decision = run.send("sim.late")
    assert decision.outcome is Outcome.IGNORED  # the window is more than 8 days away
    assert "NO_SIM" not in run.state.incidents
    run.send("sim.late", at=madrid(2026, 12, 2, 9, 0))
    assert run.state.open_incidents() == ["NO_SIM"]

    run.send("donor.confirmed")
    assert run.state.stage == "donor_check"  # waits for the SIM: the incident is open
    run.send("sim.delivered")
    run.send("donor.confirmed")
    assert run.state.stage == "scheduled"
    assert run.send("port.executed").outcome is Outcome.IGNORED  # before the window
    run.send("port.executed", at=madrid(2026, 12, 9, 6, 0))
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_timers_follow_the_incidents_and_tasks_their_guards_read() -> None:
    run = accepted(started())
    assert "timer:sim_check" in run.state.timers
    assert "notify:sim_reminder" in run.state.timers
    run.send("sim.late", at=madrid(2026, 12, 2, 12, 0))
    assert "timer:sim_check" not in run.state.timers  # NO_SIM is open now
    run.send("sim.delivered")
    assert "notify:sim_reminder" not in run.state.timers  # the task is done
    run.assert_replay_matches()

    postpaid = accepted(started("postpaid"))
    assert "timer:sim_check" not in postpaid.state.timers  # no SIM task at all


def test_a_key_holds_several_values() -> None:
    run = accepted(started(), msisdn="612345678", second_msisdn="698765432")
    assert run.state.keys["msisdn"] == ["612345678", "698765432"]
    assert run.state.keys["nc_reference"] == "NC-1"
    run.send("line.added", {"msisdns": ["711111111", "698765432"]})
    assert run.state.keys["msisdn"] == ["612345678", "698765432", "711111111"]
    run.assert_replay_matches()


def test_a_parameter_is_required_only_under_its_condition() -> None:
    run = accepted(started())
    with pytest.raises(ActionRefused) as refused:
        run.act("postpone", {"new_date": "2026-12-11", "reason": "other"})
    assert [(p.field, p.code) for p in refused.value.problems] == [("detail", "required")]
    run.act("postpone", {"new_date": "2026-12-11", "reason": "travel"})
    assert run.date("switch_window") == madrid(2026, 12, 11, 2, 0)
    run.assert_replay_matches()


def test_a_parameter_bound_differs_under_its_condition() -> None:
    run = accepted(started())
    late = {"new_date": "2026-12-22", "reason": "travel"}
    with pytest.raises(ActionRefused) as refused:
        run.act("postpone", late)
    assert [(p.field, p.code) for p in refused.value.problems] == [("new_date", "too_late")]
    run.send("sim.late", at=madrid(2026, 12, 2, 9, 0))
    run.act("postpone", late)  # without the SIM, the customer may wait longer
    assert run.date("switch_window") == madrid(2026, 12, 22, 2, 0)
    assert run.state.open_incidents() == []  # the conditional block resolved NO_SIM
    run.assert_replay_matches()


def test_the_page_shows_the_parameters_as_they_stand() -> None:
    run = accepted(started())
    row = run.control("postpone")
    assert row["params"]["detail"]["required"] is False
    assert row["allowed"]
    assert run.control("cancel")["allowed"]
    run.send("sim.delivered")
    assert run.control("cancel")["reason_code"] == "not_applicable"  # the SIM task is done
