"""``move_home`` v2 (issue #15): the new home supplied by another retailer in the previous
occupant's name (switch and holder change at once, ATR C2, rules.md §3.2 and §5.1), and the
liability of an old supply left active for the next occupant (rules.md §5.1 (b)).

The customer plans the move on Thursday 1 October 2026: out on Friday 30 October, in on
Monday 26 October.
"""

from __future__ import annotations

from .helpers import (
    Run,
    accepted,
    allowed_controls,
    event_topics,
    load,
    madrid,
    run_templates,
)

C = load("move_home.v2.yaml")
OLD_CUPS = "ES0031405000000001XY"
NEW_CUPS = "ES0021000000987654ZZ"
THURSDAY = madrid(2026, 10, 1, 10, 0)


def planned(route: str = "switch_and_holder", old_supply: str = "deactivate") -> Run:
    run = Run.start(C, THURSDAY, subject=OLD_CUPS, attributes={"supply_type": "electricity"})
    run.act("set_move_out_date", {"date": "2026-10-30", "old_supply": old_supply})
    run.act("set_move_in_date", {"date": "2026-10-26"})
    run.act("choose_route", {"route": route, "new_cups": NEW_CUPS})
    return run


def moved_out(old_supply: str) -> Run:
    run = planned(old_supply=old_supply)
    run.act("confirm_plan")
    accepted(run.send("new_supply.requested", {"request_id": "C2-1"}))
    accepted(run.send("old_supply.requested", {"request_id": "B1-1"}))
    accepted(
        run.send(
            "new_supply.activated", {"activation_date": "2026-10-26"}, at=madrid(2026, 10, 26, 8)
        )
    )
    run.advance(madrid(2026, 10, 31, 9, 0))
    assert run.state.stage == "move_out"
    return run


def test_a_home_with_another_company_in_the_previous_occupants_name_is_one_c2_request() -> None:
    run = planned()
    route = next(
        p for p in C.definition.controls["choose_route"].params.values() if p.type == "choice"
    )
    assert "switch_and_holder" in route.choices
    assert "another company" in route.choices["switch_and_holder"].en
    assert run.state.attributes["route"] == "switch_and_holder"

    event = run.act("confirm_plan")
    assert event_topics(event) == ["move.requested"]
    accepted(run.send("new_supply.requested", {"request_id": "C2-1"}))
    assert run.state.keys["new_request_id"] == "C2-1"
    run.assert_replay_matches()


def test_the_customer_is_told_an_old_supply_left_active_keeps_them_liable() -> None:
    text = C.definition.controls["set_move_out_date"]
    assert "you pay for what is used there" in text.description.en
    assert "pagas lo que se consuma" in text.description.es

    run = moved_out("leave_active")
    # Reminded three days before the move-out day and a week after it.
    assert run_templates(run).count("still_liable_before") == 1
    run.advance(madrid(2026, 11, 6, 23, 59))
    assert "still_liable_after" in run_templates(run)
    # … and can stop it after all.
    assert "deactivate_old_supply" in allowed_controls(run)
    event = run.act("deactivate_old_supply")
    assert event_topics(event) == ["old_supply.deactivation_requested"]
    assert run.state.attributes["old_supply_end"] == "deactivate"
    run.assert_replay_matches()


def test_no_liability_reminder_when_the_old_supply_is_deactivated() -> None:
    run = moved_out("deactivate")
    run.advance(madrid(2026, 11, 6, 23, 59))
    assert "still_liable_before" not in run_templates(run)
    assert "still_liable_after" not in run_templates(run)
    assert "deactivate_old_supply" not in allowed_controls(run)


def test_running_v1_processes_keep_their_routes() -> None:
    v1 = load("move_home.v1.yaml")
    assert v1.definition.attributes["route"].choices == ["transfer", "subrogation", "new_supply"]
    assert C.definition.version == 2
