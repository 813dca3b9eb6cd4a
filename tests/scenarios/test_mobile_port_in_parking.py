"""Mobile port-in: a message that arrives before the stage that accepts it waits for it.

The donor's confirmation can overtake the central node's acceptance. It is parked (answered
``accepted`` with reason code ``parked``), applied as soon as the process reaches the stage
that accepts it, and kept as a dead letter with the reason when it never gets there.
"""

from __future__ import annotations

from datetime import timedelta

from relevo.domain import engine
from relevo.domain.model import Message, Outcome, parse_iso

from .helpers import Run, accepted, load, madrid, parked_reason

C = load("mobile_port_in.v2.yaml")
REFERENCE = "21400000000000000000001"
MONDAY = madrid(2026, 11, 30, 10, 0)


def confirmed_early() -> Run:
    run = Run.start(C, MONDAY)
    assert parked_reason(run.send("donor.confirmed", at=madrid(2026, 11, 30, 10, 5))) == "parked"
    return run


def test_a_confirmation_before_the_acceptance_waits_then_applies() -> None:
    run = confirmed_early()
    (entry,) = run.state.parked
    assert (run.state.stage, run.state.ignored, entry["type"]) == (
        "requested",
        0,
        "donor.confirmed",
    )
    assert parse_iso(entry["expires_at"]) == madrid(2026, 12, 3, 10, 5)
    assert run.timer(f"park:{entry['key']}") == madrid(2026, 12, 3, 10, 5)
    parked_event = run.events[-1]
    assert parked_event.type == "message.parked"
    assert "donor.confirmed is not expected in stage 'requested'" in parked_event.data["reason"]

    decision = run.send(
        "nc.accepted", {"reference": REFERENCE, "window": "2026-12-02"}, at=madrid(2026, 11, 30, 11)
    )
    assert decision.outcome is Outcome.ACCEPTED
    assert [e.type for e in decision.events] == ["nc.accepted", "donor.confirmed"]
    released = decision.events[1]
    # The confirmation keeps when it happened and who sent it.
    assert released.occurred_at == entry["occurred_at"]
    assert (released.source, released.message_id) == (entry["source"], entry["message_id"])
    assert run.state.stage == "scheduled"
    assert run.state.dates["switch_window"]["confirmed"] is True
    assert run.state.parked == []
    assert not any(name.startswith("park:") for name in run.state.timers)
    run.assert_replay_matches()


def test_the_agent_view_shows_the_waiting_message_and_the_customer_view_no_code() -> None:
    run = confirmed_early()
    es = run.view("es", "agent")["history"][0]
    en = run.view("en", "agent")["history"][0]
    assert (es["kind"], es["ref"]) == ("waiting", "donor.confirmed")
    assert es["text"] == (
        "En espera: donor.confirmed llegó antes de tiempo; se aplicará cuando el proceso "
        "llegue al paso que lo admite (espera hasta el jueves 3 de diciembre a las 10:05)."
    )
    assert en["text"] == (
        "Waiting: donor.confirmed arrived early; it applies when the process reaches the step "
        "that accepts it (it waits until Thursday 3 December at 10:05)."
    )
    for lang in ("es", "en"):
        history = run.view(lang)["history"]
        assert all("donor.confirmed" not in row["text"] for row in history)
        assert all(row["kind"] != "waiting" for row in history)


def test_a_message_that_never_finds_its_stage_becomes_a_dead_letter() -> None:
    run = confirmed_early()
    (entry,) = run.state.parked
    fired = run.advance(madrid(2026, 12, 3, 12, 0))
    expiry = next(d for d in fired if d.events and d.events[0].type == "message.expired")
    (event,) = expiry.events
    letter = event.effects["dead_letter"]
    assert letter["reason"] == (
        "park_expired: the process did not reach a stage that accepts it before "
        f"{entry['expires_at']} (received, waited for its stage, then let go)"
    )
    assert (letter["source"], letter["message_id"], letter["type"]) == (
        entry["source"],
        entry["message_id"],
        "donor.confirmed",
    )
    assert letter["payload"]["subject"] == run.state.id
    assert letter["payload"]["time"] == entry["occurred_at"]
    assert run.state.parked == []
    assert run.state.stage == "requested"
    run.assert_replay_matches()


def test_the_time_to_live_is_a_parameter() -> None:
    run = Run.start(C, MONDAY)
    message = Message("donor.confirmed", {}, MONDAY, "donor", "m-1")
    decision = engine.decide(C, run.state, message, MONDAY, timedelta(hours=1))
    (event,) = decision.events
    assert parse_iso(event.data["expires_at"]) == madrid(2026, 11, 30, 11, 0)


def test_a_parked_message_is_let_go_when_the_process_ends() -> None:
    run = confirmed_early()
    decision = run.send("nc.cancelled", {"cause": "CANC_ABONA"})
    assert [e.type for e in decision.events] == ["nc.cancelled", "message.expired"]
    letter = decision.events[1].effects["dead_letter"]
    assert letter["reason"].startswith("process_finished: process ")
    assert run.state.parked == []
    run.assert_replay_matches()


def test_a_cancel_by_the_customer_also_lets_parked_messages_go() -> None:
    run = confirmed_early()
    run.act("cancel")
    assert run.state.status == "cancelled"
    assert run.events[-1].type == "message.expired"
    assert run.state.parked == []
    run.assert_replay_matches()


def test_the_confirmation_applies_after_a_resubmission_too() -> None:
    run = Run.start(C, MONDAY)
    accepted(run.send("nc.rejected", {"code": "FMAYO"}))
    assert parked_reason(run.send("donor.confirmed")) == "parked"
    decision = run.send("port.resubmitted", {"reference": REFERENCE, "window": "2026-12-03"})
    assert [e.type for e in decision.events] == ["port.resubmitted", "donor.confirmed"]
    assert run.state.stage == "scheduled"
    run.assert_replay_matches()
