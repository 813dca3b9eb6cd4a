"""Spanish mobile number port-out (``mobile_port_out`` v1): we are the donor.

The central node's request starts the process; we must answer by the regulated deadline with
a confirmation or a cause of the closed list (with its evidence); the customer hears every
step, can report a port they did not ask for, learns that cancelling is the new provider's,
and the contract closes with the final bill and a hand-over to offboarding.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain.errors import EffectError, InvalidStart
from relevo.domain.model import Outcome, parse_iso

from .helpers import (
    Run,
    accepted,
    allowed_controls,
    assert_incident_view,
    load,
    madrid,
    refusal,
    run_outbox_topics,
    run_templates,
)

C = load("mobile_port_out.v1.yaml")
D = C.definition
REFERENCE = "21400000000000000000042"
CLOSED_LIST = ["RECH_IDENT", "RECH_ICCID", "RECH_BNUME", "RECH_PERDI", "RECH_FMAYO"]

MONDAY = madrid(2026, 11, 30, 10, 0)


def attributes(**overrides: Any) -> dict[str, Any]:
    base = {
        "modality": "postpaid",
        "recipient_operator": "Digi",
        "window": "2026-12-02",
        "nc_reference": REFERENCE,
    }
    return {**base, **overrides}


def received(at: datetime = MONDAY, **overrides: Any) -> Run:
    return Run.start(C, at, attributes=attributes(**overrides))


def confirmed(**overrides: Any) -> Run:
    run = received(**overrides)
    accepted(run.send("port_out.confirmed", at=madrid(2026, 11, 30, 11, 0)))
    return run


def closing(**overrides: Any) -> Run:
    run = confirmed(**overrides)
    run.advance(madrid(2026, 12, 2, 2, 0))
    accepted(run.send("port.executed", at=madrid(2026, 12, 2, 4, 30)))
    return run


def assert_explained(run: Run, code: str) -> None:
    """An incident on an ended process still says, in both languages, what happened, what
    we do and what the customer can do, with nothing left untranslated."""
    rows = {
        lang: next(r for r in run.view(lang)["incidents"] if r["code"] == code)
        for lang in ("es", "en")
    }
    for lang, row in rows.items():
        written = D.incidents[code]
        for name in ("title", "what_happened", "what_we_do", "what_you_can_do"):
            assert row[name] == getattr(written, name).get(lang)
    assert rows["es"]["what_happened"] != rows["en"]["what_happened"]


# -- happy path -----------------------------------------------------------------------------


def test_request_to_closed_contract_with_every_customer_message() -> None:
    run = received()
    assert run.state.stage == "validating"
    assert run.state.keys == {"msisdn": "612345678", "nc_reference": REFERENCE}
    assert run.date("switch_window") == madrid(2026, 12, 2, 2, 0)
    # The regulated answer deadline: 14:00 of the working day before the window (§1.4).
    assert run.date("answer_deadline") == madrid(2026, 12, 1, 14, 0)
    assert run.date("cancel_until") == madrid(2026, 12, 1, 14, 0)
    assert run.timer("timer:answer_due_soon") == madrid(2026, 12, 1, 12, 0)
    assert run.task("validate_request")["status"] == "open"
    assert run.view("es")["headline"] == (
        "Tu nueva compañía, Digi, ha pedido tu número. El cambio está previsto el "
        "miércoles 2 de diciembre, entre las 02:00 y las 06:00."
    )
    assert run.view("en")["headline"] == (
        "Your new provider, Digi, has asked for your number. The switch is planned on "
        "Wednesday 2 December, between 02:00 and 06:00."
    )
    dates = {row["id"] for row in run.view("en")["dates"]}
    assert "answer_deadline" not in dates  # internal, not the customer's

    accepted(run.send("port_out.confirmed", at=madrid(2026, 11, 30, 11, 0)))
    assert run.state.stage == "confirmed"
    assert run.state.dates["switch_window"]["confirmed"] is True
    assert run.task("validate_request")["status"] == "done"
    assert "timer:answer_due_soon" not in run.state.timers

    run.advance(madrid(2026, 12, 2, 3, 0))
    assert run.state.stage == "porting"
    accepted(run.send("port.executed", at=madrid(2026, 12, 2, 4, 30)))
    assert (run.state.status, run.state.stage) == ("active", "closing")
    # Billing stops at the port and the rest of the leaving goes to offboarding (§7.1).
    assert run_outbox_topics(run).count("billing.stop_requested") == 1
    assert run_outbox_topics(run).count("offboarding.handover") == 1
    assert run.view("en")["headline"] == (
        "Your number now works with Digi. We will send your final bill by Friday 1 January."
    )

    accepted(run.send("billing.stopped", at=madrid(2026, 12, 2, 9, 0)))
    accepted(run.send("final_invoice.issued", {"amount": "12.40"}, at=madrid(2026, 12, 10, 9)))
    assert (run.state.status, run.state.stage) == ("completed", "closed")
    assert run.state.timers == {}
    assert run_templates(run) == [
        "port_out_requested",
        "port_out_confirmed",
        "port_out_tonight",
        "port_out_done",
        "final_bill_sent",
    ]
    run.assert_replay_matches()


def test_the_request_notification_is_critical_so_quiet_hours_do_not_hold_it() -> None:
    run = received()
    first = run.events[0].effects["outbox"][0]
    assert first["payload"]["template"] == "port_out_requested"
    assert D.notifications[0].template == "port_out_requested"
    assert D.notifications[0].critical is True


def test_a_request_without_the_nc_data_does_not_start() -> None:
    with pytest.raises(InvalidStart):
        Run.start(C, MONDAY, attributes={"modality": "postpaid"})
    with pytest.raises((InvalidStart, EffectError)):
        Run.start(C, MONDAY, attributes=attributes(window="next tuesday"))


# -- our answer: confirm, or a cause of the closed list with its evidence --------------------


@pytest.mark.parametrize("cause", CLOSED_LIST)
def test_a_rejection_names_a_closed_list_cause_and_keeps_its_evidence(cause: str) -> None:
    run = received()
    accepted(
        run.send(
            "port_out.rejected",
            {"cause": cause, "evidence": "DOC-77812"},
            at=madrid(2026, 11, 30, 12, 0),
        )
    )
    assert run.state.status == "failed"
    assert run.state.attributes["rejection_cause"] == cause
    assert run.state.attributes["rejection_evidence"] == "DOC-77812"
    assert cause in run.state.open_incidents()
    assert_explained(run, cause)
    assert "port_out_rejected" in run_templates(run)
    # The process has ended: the outcome leads, true for every cause.
    assert run.view("en")["headline"] == (
        "The switch of your number did not happen. Your line stays with us."
    )
    run.assert_replay_matches()


@pytest.mark.parametrize("cause", ["RECH_DEBT", "RECH_NORES", "UNREQUESTED_PORT"])
def test_a_cause_outside_the_closed_list_is_refused_not_recorded(cause: str) -> None:
    run = received()
    before = run.state.to_json()
    decision = run.send("port_out.rejected", {"cause": cause, "evidence": "x"})
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code == "invalid_data"
    assert "RECH_IDENT" in decision.reason
    assert run.state.to_json() == before


def test_a_rejection_without_evidence_is_refused() -> None:
    run = received()
    decision = run.send("port_out.rejected", {"cause": "RECH_IDENT"})
    assert decision.outcome is Outcome.REJECTED
    assert run.state.status == "active"


def test_the_desk_is_told_to_answer_two_hours_before_the_deadline() -> None:
    run = received()
    run.advance(madrid(2026, 12, 1, 12, 0))
    assert run.task("answer_now")["status"] == "open"
    accepted(run.send("port_out.confirmed", at=madrid(2026, 12, 1, 12, 30)))
    assert run.task("answer_now")["status"] == "done"


def test_the_nc_stopping_an_unanswered_request_is_our_fault_and_said_so() -> None:
    run = received()
    run.advance(madrid(2026, 12, 1, 12, 0))
    accepted(run.send("nc.timeout", at=madrid(2026, 12, 1, 14, 5)))
    assert run.state.status == "failed"
    assert run.state.open_incidents() == ["RECH_NORES"]
    assert run.task("review_missed_answer")["status"] == "open"
    assert_explained(run, "RECH_NORES")
    run.assert_replay_matches()


def test_the_exact_deadline_from_the_nc_overrides_the_rule() -> None:
    run = received()
    accepted(run.send("nc.deadline_set", {"deadline": "2026-12-01T11:00:00+01:00"}))
    assert run.date("answer_deadline") == madrid(2026, 12, 1, 11, 0)
    assert run.timer("timer:answer_due_soon") == madrid(2026, 12, 1, 9, 0)


# -- the customer -------------------------------------------------------------------------------


def test_cancel_is_shown_with_where_to_go_and_never_allowed() -> None:
    run = received()
    row = run.control("cancel", "en")
    assert row["allowed"] is False
    assert "ask your new provider" in row["instead"]
    assert "cancel" not in allowed_controls(run)
    error = refusal(run, "cancel")
    assert error.instead is not None and "nueva compañía" in error.instead.get("es")


def test_an_unrequested_port_is_reported_with_evidence_for_the_donor_cancellation() -> None:
    run = received()
    event = run.act("report_unrequested", {"details": "I never called Digi"})
    assert run.state.open_incidents() == ["UNREQUESTED_PORT"]
    assert run.state.attributes["unrequested_details"] == "I never called Digi"
    assert run.task("review_unrequested")["status"] == "open"
    assert "port_out.cancellation_requested" in [m["topic"] for m in event.effects["outbox"]]
    assert_incident_view(run, "UNREQUESTED_PORT")
    # The NC then cancels on our request; the incident is resolved and the line stays.
    accepted(run.send("nc.cancelled", {"cause": "CANC_ERROR"}))
    assert run.state.status == "cancelled"
    assert run.state.open_incidents() == []
    run.assert_replay_matches()


def test_unrequested_can_no_longer_be_reported_once_the_window_opened() -> None:
    run = confirmed()
    run.advance(madrid(2026, 12, 2, 2, 30))
    error = refusal(run, "report_unrequested")
    assert error.instead is not None and "call us" in error.instead.get("en")


def test_a_prepaid_customer_asks_for_the_balance_and_a_postpaid_one_is_not_offered_it() -> None:
    postpaid = confirmed()
    assert "request_balance_refund" not in allowed_controls(postpaid)
    prepaid = confirmed(modality="prepaid")
    assert "request_balance_refund" in allowed_controls(prepaid)
    event = prepaid.act("request_balance_refund", {"iban": "ES9121000418450200051332"})
    assert "balance.refund_requested" in [m["topic"] for m in event.effects["outbox"]]
    assert prepaid.state.attributes["refund_requested"] is True


@pytest.mark.parametrize(
    ("cause", "template", "label"),
    [
        ("CANC_ABONA", "cancelled_by_customer", "You cancelled the switch with your new provider"),
        ("CANC_TECNI", "cancelled_technical", "The central system cancelled the switch"),
        ("CANC_ERROR", "cancelled_error", "The switch was cancelled because of an error"),
    ],
)
def test_a_cancellation_tells_its_cause_never_as_you_asked_when_nobody_asked(
    cause: str, template: str, label: str
) -> None:
    run = confirmed()
    accepted(run.send("nc.cancelled", {"cause": cause}))
    assert run.state.status == "cancelled"
    assert run.state.attributes["cancel_cause"] == cause
    assert run_templates(run)[-1] == template
    history = [row["text"] for row in run.view("en")["history"]]
    assert any(text.startswith(label) for text in history)
    assert run.view("en")["headline"] == (
        "The switch of your number was cancelled. Your line stays with us."
    )
    run.assert_replay_matches()


def test_a_new_window_is_confirmed_to_the_customer() -> None:
    run = confirmed()
    accepted(run.send("nc.window_changed", {"window": "2026-12-09"}))
    assert run.date("switch_window") == madrid(2026, 12, 9, 2, 0)
    assert run.date("cancel_until") == madrid(2026, 12, 4, 14, 0)  # Tue 8 Dec is a holiday
    assert run_templates(run)[-1] == "window_changed"
    assert run.timer("timer:window_opens") == madrid(2026, 12, 9, 2, 0)


# -- after the window --------------------------------------------------------------------------


def test_a_port_not_done_by_the_deadline_opens_an_incident() -> None:
    run = confirmed()
    run.advance(madrid(2026, 12, 3, 20, 0))
    assert run.state.stage == "porting"
    assert run.state.open_incidents() == ["PORT_STALLED"]
    assert run.task("chase_port")["status"] == "open"
    accepted(run.send("port.executed", at=madrid(2026, 12, 4, 9, 0)))
    assert run.state.open_incidents() == []


def test_a_failed_port_keeps_the_line() -> None:
    run = confirmed()
    run.advance(madrid(2026, 12, 2, 2, 30))
    accepted(run.send("port.failed", {"reason": "routing_update_failed"}))
    assert run.state.status == "failed"
    assert run.view("en")["headline"] == (
        "The switch of your number did not happen. Your line stays with us."
    )
    assert run_templates(run)[-1] == "port_out_failed"


def test_a_late_final_bill_opens_an_incident_and_the_bill_closes_it() -> None:
    run = closing()
    due = run.date("final_bill_due")
    assert due == parse_iso("2027-01-01T01:00:00+00:00")
    run.advance(madrid(2027, 1, 1, 2, 0))
    assert run.state.open_incidents() == ["FINAL_BILL_LATE"]
    accepted(run.send("final_invoice.issued", {"amount": "8.00"}))
    assert run.state.status == "completed"
    assert run.state.open_incidents() == []
    run.assert_replay_matches()
