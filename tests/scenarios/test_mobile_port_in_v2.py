"""What ``mobile_port_in`` v2 adds (issue 15), scenario by scenario, with its source.

- rules.md §1.4: the latest postponement date is a day the switch can happen on;
- rules.md §0.4, §1.6 and EECC art. 106: after the port "cancel" is refused with the way
  back, a new port, free, within 14 calendar days, and "go_back" starts it;
- rules.md §1.5: a SIM-number rejection on a postpaid line has its own explanation;
- rules.md §1.4 steps 6-7: the window end (06:00) is watched and an undelivered SIM shows in
  time to postpone; the customer hears of central-node rejections, a confirmed new window and
  a cancellation with its cause.
Processes started on v1 keep v1 (they are pinned to their version).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.services.catalog import Catalog

from .helpers import (
    Run,
    accepted,
    allowed_controls,
    assert_incident_view,
    event_templates,
    event_topics,
    load,
    madrid,
    problem_codes,
    refusal,
    run_templates,
)

C = load("mobile_port_in.v2.yaml")
REFERENCE = "21400000000000000000001"
MONDAY = madrid(2026, 11, 30, 10, 0)


def requested(at: datetime = MONDAY, **attributes: Any) -> Run:
    values = {"modality": "postpaid", "sales_channel": "web", **attributes}
    return Run.start(C, at, attributes=values)


def in_donor_check(**attributes: Any) -> Run:
    run = requested(**attributes)
    accepted(run.send("nc.accepted", {"reference": REFERENCE, "window": "2026-12-02"}))
    return run


def scheduled(**attributes: Any) -> Run:
    run = in_donor_check(**attributes)
    accepted(run.send("donor.confirmed", at=madrid(2026, 11, 30, 16, 0)))
    return run


def ported() -> Run:
    run = scheduled(sales_channel="store")
    accepted(run.send("port.executed", at=madrid(2026, 12, 2, 5, 30)))
    assert (run.state.status, run.state.stage) == ("active", "active")
    return run


# -- the latest postponement date ---------------------------------------------------------------


def test_the_latest_date_offered_is_a_working_day_not_a_sunday() -> None:
    # Friday 4 December + 30 days is Sunday 3 January; 1 January is a holiday, so the latest
    # day the switch can happen on is Thursday 31 December.
    run = Run.start(C, madrid(2026, 12, 4, 10, 0), attributes={"modality": "postpaid"})
    accepted(run.send("nc.accepted", {"reference": REFERENCE, "window": "2026-12-10"}))
    assert run.date("latest_window").date() == madrid(2026, 12, 31).date()
    error = refusal(run, "postpone", {"new_date": "2027-01-04"})
    assert problem_codes(error) == {"new_date": "too_late"}
    assert error.problems[0].message.en == "The latest date is Thursday 31 December."
    run.act("postpone", {"new_date": "2026-12-31", "reason": "travelling"})
    assert run.date("switch_window") == madrid(2026, 12, 31, 2, 0)
    assert run.state.attributes["postpone_reason"] == "travelling"
    run.assert_replay_matches()


def test_a_postponement_asked_after_hours_counts_from_the_next_working_day() -> None:
    run = in_donor_check(sales_channel="store")
    run.advance(madrid(2026, 11, 30, 21, 0))  # Monday after 20:00: counts from Tuesday
    error = refusal(run, "postpone", {"new_date": "2026-12-02"})
    assert problem_codes(error) == {"new_date": "too_early"}
    assert error.problems[0].message.en == "The earliest date is Thursday 3 December."
    run.act("postpone", {"new_date": "2026-12-03"})
    run.assert_replay_matches()


# -- after the port: the way back ---------------------------------------------------------------


def test_after_the_port_cancel_is_refused_with_the_way_back_and_go_back_starts_it() -> None:
    run = ported()
    error = refusal(run, "cancel")
    assert error.code == "not_in_stage"
    assert error.instead is not None
    assert "14 calendar days" in error.instead.en and "free of charge" in error.instead.en
    assert "«Volver a mi compañía anterior»" in error.instead.es
    assert allowed_controls(run) == {"go_back"}
    row = run.control("go_back", "en")
    assert row["title"] == "Go back to my previous provider"
    assert row["until"] == "2026-12-16T22:59:00+00:00"  # 14 calendar days from the port
    assert run.view("en")["next"]["what"] == (
        "If you change your mind, until Wednesday 16 December you can go back to your previous "
        "provider with a new port, free of charge."
    )

    event = run.act("go_back", at=madrid(2026, 12, 10, 18, 0))
    assert event_topics(event) == ["contract.withdrawal_requested"]
    assert event_templates(event) == ["going_back"]
    assert (run.state.status, run.state.stage) == ("active", "going_back")
    assert run.task("handle_withdrawal")["status"] == "open"
    assert "porting is free" in run.view("en")["headline"]

    accepted(run.send("port_back.completed", at=madrid(2026, 12, 14, 6, 0)))
    assert run.state.status == "cancelled"
    page = run.view("en")
    assert page["headline"] == "Your number is with the provider it had before."
    assert page["history"][0]["text"] == "Your number went back to your previous provider"
    run.assert_replay_matches()


def test_the_way_back_closes_with_the_withdrawal_period() -> None:
    run = ported()
    run.advance(madrid(2026, 12, 16, 23, 58))
    assert run.control("go_back")["allowed"] is True
    run.advance(madrid(2026, 12, 16, 23, 59))
    assert run.state.status == "completed"
    assert refusal(run, "go_back").code == "finished"
    run.assert_replay_matches()


# -- explanations that fit the line -------------------------------------------------------------


def test_a_sim_number_rejection_on_a_postpaid_line_is_not_explained_as_prepaid() -> None:
    run = in_donor_check(sales_channel="store")
    accepted(run.send("donor.rejected", {"cause": "RECH_ICCID"}, at=madrid(2026, 11, 30, 17, 0)))
    assert run.state.open_incidents() == ["RECH_ICCID_POSTPAID"]
    assert_incident_view(run, "RECH_ICCID_POSTPAID")
    row = run.view("es")["incidents"][0]
    assert "En las líneas de prepago comprobamos" not in row["what_happened"]
    assert row["what_happened"].startswith("Pediste el cambio de una línea de contrato")
    run.act("correct_iccid", {"iccid": "8934071234567890123", "modality": "prepaid"})
    assert run.state.attributes["modality"] == "prepaid"
    assert run.task("resubmit_request")["status"] == "open"
    run.assert_replay_matches()


def test_a_sim_number_rejection_on_a_prepaid_line_keeps_the_prepaid_wording() -> None:
    run = in_donor_check(modality="prepaid", sales_channel="store")
    accepted(run.send("donor.rejected", {"cause": "RECH_ICCID"}, at=madrid(2026, 11, 30, 17, 0)))
    assert run.state.open_incidents() == ["RECH_ICCID"]
    assert "prepago" in run.view("es")["incidents"][0]["what_happened"]


# -- no silent gaps -------------------------------------------------------------------------------


def test_no_service_at_the_end_of_the_window_opens_service_loss_and_tells_the_customer() -> None:
    run = scheduled(sales_channel="store")
    run.advance(madrid(2026, 12, 2, 2, 0))
    assert run.state.stage == "porting"
    assert run.timer("sla:porting") == madrid(2026, 12, 2, 6, 0)
    run.advance(madrid(2026, 12, 2, 5, 59))
    assert run.state.open_incidents() == []
    run.advance(madrid(2026, 12, 2, 6, 0))
    assert run.state.open_incidents() == ["SERVICE_LOSS"]
    assert_incident_view(run, "SERVICE_LOSS")
    assert run.task("restore_service")["team"] == "portability_desk"
    assert run_templates(run)[-1] == "service_loss"
    # The step is late from 06:00, not only from the activation deadline the next day.
    assert [e.type for e in run.events][-2:] == ["sla.breached", "deadline.window_end"]
    run.advance(madrid(2026, 12, 2, 6, 30))
    assert run.view("en")["headline"].startswith("This step is late")

    accepted(run.send("port.executed", at=madrid(2026, 12, 2, 7, 15)))
    assert run.state.incidents["SERVICE_LOSS"]["status"] == "resolved"
    assert run.task("restore_service")["status"] == "done"
    run.assert_replay_matches()


def test_a_sim_not_delivered_before_the_cut_off_shows_and_proposes_a_postponement() -> None:
    run = scheduled()
    accepted(run.send("sim.shipped", {"tracking": "PK-1"}))
    run.advance(madrid(2026, 12, 1, 11, 59))
    assert run.state.open_incidents() == []
    run.advance(madrid(2026, 12, 1, 12, 0))  # two hours before the 14:00 cut-off
    assert run.state.open_incidents() == ["SIM_NOT_DELIVERED"]
    assert_incident_view(run, "SIM_NOT_DELIVERED")
    assert run.view("en")["headline"] == (
        "Your new SIM has not arrived yet. So you are not left without service, change the "
        "switch date before Tuesday 1 December at 14:00."
    )
    assert run_templates(run)[-1] == "sim_not_delivered"
    assert {"postpone", "cancel"} <= allowed_controls(run)

    run.act("postpone", {"new_date": "2026-12-04"}, at=madrid(2026, 12, 1, 12, 30))
    assert run.state.incidents["SIM_NOT_DELIVERED"]["status"] == "resolved"
    accepted(run.send("nc.window_changed", {"window": "2026-12-04"}))
    assert run_templates(run)[-1] == "window_confirmed"
    accepted(run.send("sim.delivered", at=madrid(2026, 12, 2, 10, 0)))
    run.advance(madrid(2026, 12, 4, 2, 0))
    assert run.state.stage == "porting"
    assert run.state.incidents["SIM_NOT_DELIVERED"]["occurrences"] == 1
    run.assert_replay_matches()


def test_a_delivered_sim_or_a_shop_sale_raises_nothing() -> None:
    delivered = scheduled()
    accepted(delivered.send("sim.delivered", at=madrid(2026, 12, 1, 9, 0)))
    shop = scheduled(sales_channel="store")
    for run in (delivered, shop):
        run.advance(madrid(2026, 12, 2, 1, 0))
        assert run.state.open_incidents() == []


@pytest.mark.parametrize(
    ("code", "template"),
    [
        ("EXIST", "port_action_needed"),
        ("FORMA", "port_resubmitting"),
        ("ENUME", "port_resubmitting"),
    ],
)
def test_the_customer_hears_of_a_central_node_rejection(code: str, template: str) -> None:
    run = requested()
    event = accepted(run.send("nc.rejected", {"code": code}))
    assert event_templates(event) == [template]


@pytest.mark.parametrize(
    ("data", "template", "label", "by"),
    [
        ({"cause": "CANC_ABONA"}, "cancelled_as_asked", "Cancelled at your request", "customer"),
        (
            {"cause": "CANC_TECNI"},
            "cancelled_technical",
            "The central system cancelled the switch for a technical reason",
            "central_node",
        ),
        (
            {"cause": "CANC_ERROR"},
            "cancelled_error",
            "Cancelled because of an error by one of the providers",
            "operator_error",
        ),
        (
            {"cause": "CANC_ABONA", "initiated_by_donor": True},
            "cancelled_by_donor",
            "Your current provider cancelled the switch",
            "current_provider",
        ),
    ],
)
def test_a_cancellation_is_told_with_its_cause(
    data: dict[str, Any], template: str, label: str, by: str
) -> None:
    run = in_donor_check()
    event = accepted(run.send("nc.cancelled", data, at=madrid(2026, 12, 1, 10, 0)))
    assert event_templates(event) == [template]
    assert run.state.status == "cancelled"
    assert (run.state.attributes["cancel_cause"], run.state.attributes["cancelled_by"]) == (
        data["cause"],
        by,
    )
    assert run.view("en")["history"][0]["text"] == label
    if template != "cancelled_as_asked":
        text = " ".join(
            run.view(lang)["headline"] + run.view(lang)["outcome"] for lang in ("es", "en")
        )
        assert "as you asked" not in text and "You cancelled" not in text
    run.assert_replay_matches()


# -- versions ------------------------------------------------------------------------------


def test_new_processes_start_on_v2_and_v1_stays_for_running_ones() -> None:
    catalog = Catalog.load()
    assert catalog.latest("mobile_port_in").version == 2
    v1 = catalog.get("mobile_port_in", 1)
    # A v1 process keeps v1's rules to its end: its window was computed the v1 way.
    late_monday = madrid(2026, 11, 30, 23, 30)
    old = Run.start(v1, late_monday)
    new = Run.start(catalog.latest("mobile_port_in"), late_monday)
    assert old.date("switch_window") == madrid(2026, 12, 2, 2, 0)
    assert new.date("switch_window") == madrid(2026, 12, 3, 2, 0)
