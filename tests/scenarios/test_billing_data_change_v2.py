"""``billing_data_change`` v2 (issue #15): a change of holder is a change of contract with the
outgoing holder's consent (M1 T/S, rules.md §3.2 and §6); the root cause of a failed change
is a code from a closed list on the fix task; the customer is told when a bill still carries
the old details and on which bill the new ones first appear.

The request is made on Wednesday 7 October 2026.
"""

from __future__ import annotations

from typing import Any

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

C = load("billing_data_change.v2.yaml")
CONTRACT = "EN-000123456"
WEDNESDAY = madrid(2026, 10, 7, 10, 0)
OLD_ADDRESS = "Calle Mayor 1, 28013 Madrid"
NEW_ADDRESS = "Avenida de América 20, 3º B, 28028 Madrid"
HOLDER_CHANGE = {
    "sector": "energy",
    "change_type": "holder_change",
    "holder_change_mode": "transfer",
    "old_holder_name": "Ana López",
    "old_holder_id": "12345678Z",
    "new_holder_name": "Luis Pérez",
    "new_holder_id": "X1234567L",
}
ADDRESS = {
    "sector": "telecom",
    "change_type": "billing_address",
    "installation_address": OLD_ADDRESS,
    "old_billing_address": OLD_ADDRESS,
    "new_billing_address": NEW_ADDRESS,
}


def updating(attributes: dict[str, Any]) -> Run:
    run = Run.start(C, WEDNESDAY, subject=CONTRACT, attributes=dict(attributes))
    accepted(run.send("request.validated", at=madrid(2026, 10, 7, 12, 0)))
    return run


# -- a holder change is a change of contract --------------------------------------------------


def test_a_holder_change_needs_the_outgoing_holders_consent_before_it_counts_as_done() -> None:
    run = updating(HOLDER_CHANGE)
    assert run.state.requirements["outgoing_consent"]["state"] == "missing"
    assert run.state.requirements["id_document"]["state"] == "missing"
    assert "holder_change_is_a_contract" in run_templates(run)
    assert "send_outgoing_consent" in allowed_controls(run)

    # Applied in our systems without the consent: not done; an agent fixes it.
    accepted(run.send("change.applied"))
    assert run.state.stage == "updating"
    assert run.state.open_incidents() == ["CONSENT_MISSING"]
    assert_incident_view(run, "CONSENT_MISSING")
    assert run.task("fix_billing_data")["status"] == "open"

    event = run.act("send_outgoing_consent", {"document": "consent.pdf"})
    assert event_topics(event) == ["document.submitted"]
    accepted(run.send("document.accepted", {"requirement": "outgoing_consent"}))
    accepted(run.send("change.applied"))
    accepted(run.send("distributor.accepted"))
    assert run.state.stage == "awaiting_bill"
    accepted(
        run.send(
            "bill.issued",
            {"bill_id": "F-1", "holder_id": "X1234567L", "holder_name": "Luis Pérez"},
        )
    )
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_a_data_correction_needs_no_consent() -> None:
    run = updating({**HOLDER_CHANGE, "change_type": "holder_data"})
    assert "outgoing_consent" not in run.state.requirements
    assert "send_outgoing_consent" not in allowed_controls(run)


# -- the root cause on the fix task -----------------------------------------------------------


def test_an_agent_records_the_root_cause_from_a_closed_list_on_the_fix_task() -> None:
    run = updating(ADDRESS)
    assert "record_root_cause" not in allowed_controls(run, "agent")  # no fix task yet
    accepted(run.send("change.applied"))
    accepted(run.send("bill.issued", {"bill_id": "F-1", "billing_address": OLD_ADDRESS}))
    assert run.state.open_incidents() == ["OLD_DATA_ON_BILL"]

    assert "record_root_cause" not in allowed_controls(run, "customer")
    event = run.act("record_root_cause", {"cause": "not_entered"}, role="agent", actor="agent-7")
    assert event_topics(event) == ["billing.root_cause_recorded"]
    assert run.task("fix_billing_data")["code"]["code"] == "not_entered"
    row = next(t for t in run.view("en", "agent")["tasks"] if t["id"] == "fix_billing_data")
    assert row["code"] == {
        "id": "not_entered",
        "title": "The request was never entered",
        "by": "agent-7",
    }
    # A later code replaces it; a code outside the list is refused.
    run.act("record_root_cause", {"cause": "systems_out_of_sync"}, role="agent")
    assert run.task("fix_billing_data")["code"]["code"] == "systems_out_of_sync"
    error = refusal(run, "record_root_cause", {"cause": "gremlins"}, role="agent")
    assert problem_codes(error) == {"cause": "invalid_choice"}
    run.assert_replay_matches()


# -- old data on a bill already cut ----------------------------------------------------------


def test_the_customer_is_told_the_next_bill_still_has_the_old_data_and_when_the_new_appears() -> (
    None
):
    run = updating(ADDRESS)
    accepted(
        run.send(
            "bill.scheduled",
            {
                "date": "2026-10-20",
                "cutoff": "2026-10-09T18:00:00+02:00",
                "following": "2026-11-20",
            },
        )
    )
    dates = {row["id"]: row for row in run.view("en")["dates"]}
    assert dates["next_bill"]["title"] == "Your new details first appear on the bill of"

    run.advance(madrid(2026, 10, 9, 18, 1))  # cut while the change is not applied

    assert "old_data_on_next_bill" in run_templates(run)
    assert run.date("old_data_bill") == madrid(2026, 10, 20)
    assert run.date("next_bill") == madrid(2026, 11, 20)
    dates = {row["id"]: row for row in run.view("en")["dates"]}
    assert dates["old_data_bill"]["title"] == "This bill still shows the old details"

    accepted(run.send("change.applied"))
    # The announced bill with the old address is no incident; the next one is verified.
    accepted(run.send("bill.issued", {"bill_id": "F-1", "billing_address": OLD_ADDRESS}))
    assert run.state.open_incidents() == []
    accepted(run.send("bill.issued", {"bill_id": "F-2", "billing_address": NEW_ADDRESS}))
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_a_change_applied_before_the_cut_reaches_the_next_bill() -> None:
    run = updating(ADDRESS)
    accepted(
        run.send(
            "bill.scheduled",
            {
                "date": "2026-10-20",
                "cutoff": "2026-10-09T18:00:00+02:00",
                "following": "2026-11-20",
            },
        )
    )
    accepted(run.send("change.applied"))
    run.advance(madrid(2026, 10, 9, 18, 1))
    assert "old_data_on_next_bill" not in run_templates(run)
    assert run.date("next_bill") == madrid(2026, 10, 20)
