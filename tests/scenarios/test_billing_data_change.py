"""Billing-data change (``billing_data_change`` v1) through the pure engine.

The request is made on Wednesday 7 October 2026; Monday 12 October (Fiesta Nacional) is a
national holiday. The change is verified on the next bill: ``bill.issued`` carries the data
the billing system printed, and a bill with the old data opens an incident by itself.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from relevo.domain.model import Outcome, parse_iso

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
    send_ignored,
)

C = load("billing_data_change.v1.yaml")
D = C.definition
CONTRACT = "TEL-00012345"
WEDNESDAY = madrid(2026, 10, 7, 10, 0)
OLD_ADDRESS = "Calle Mayor 1, 28013 Madrid"
NEW_ADDRESS = "Avenida de América 20, 3º B, 28028 Madrid"
OLD_IBAN = "ES9121000418450200051332"
NEW_IBAN = "ES7921000813610123456789"

ADDRESS = {
    "sector": "telecom",
    "change_type": "billing_address",
    "installation_address": OLD_ADDRESS,
    "old_billing_address": OLD_ADDRESS,
    "new_billing_address": NEW_ADDRESS,
    "requested_via": "store",
}
IBAN = {"sector": "telecom", "change_type": "iban", "old_iban": OLD_IBAN, "new_iban": NEW_IBAN}
HOLDER = {
    "sector": "energy",
    "change_type": "holder_data",
    "old_holder_name": "Ana López",
    "old_holder_id": "12345678Z",
    "new_holder_name": "Luis Pérez",
    "new_holder_id": "X1234567L",
}


# -- drivers -----------------------------------------------------------------------------


def requested(attributes: dict[str, Any] | None = None, at: datetime = WEDNESDAY) -> Run:
    return Run.start(C, at, subject=CONTRACT, attributes=dict(attributes or ADDRESS))


def updating(attributes: dict[str, Any] | None = None) -> Run:
    run = requested(attributes)
    accepted(run.send("request.validated", at=madrid(2026, 10, 7, 12, 0)))
    return run


def awaiting_bill(attributes: dict[str, Any] | None = None) -> Run:
    run = updating(attributes)
    accepted(run.send("change.applied", at=madrid(2026, 10, 8, 9, 0)))
    if run.state.attributes["sector"] == "energy" and run.state.stage == "updating":
        accepted(run.send("distributor.accepted", at=madrid(2026, 10, 9, 9, 0)))
    assert run.state.stage == "awaiting_bill"
    return run


# -- happy paths -----------------------------------------------------------------------------


def test_billing_address_change_verified_on_the_next_bill() -> None:
    run = requested()
    assert run.state.stage == "requested"
    assert run.date("next_bill") == madrid(2026, 11, 6, 10, 0)
    assert run.view("es")["headline"] == (
        "Hemos recibido tu cambio de datos. Lo comprobaremos en tu próxima factura, hacia el "
        "viernes 6 de noviembre."
    )
    assert run.view("en")["headline"] == (
        "We have your change of details. We will check it on your next bill, around "
        "Friday 6 November."
    )
    assert run_templates(run) == ["change_received"]
    # Five working days skip the Monday 12 October holiday.
    assert run.timer("timer:change_overdue") == madrid(2026, 10, 15, 10, 0)

    accepted(run.send("request.validated", at=madrid(2026, 10, 7, 12, 0)))
    assert run.state.stage == "updating"
    # Billing and service addresses differ: we ask where the paper final bill goes.
    assert run.state.requirements["final_bill_destination"]["state"] == "missing"
    event = run.act("choose_final_bill_address", {"to": "installation_address"})
    assert event_topics(event) == ["billing.final_bill_address_set"]
    assert run.state.requirements["final_bill_destination"]["state"] == "accepted"

    accepted(run.send("bill.scheduled", {"date": "2026-11-02"}))
    assert run.date("next_bill") == madrid(2026, 11, 2)
    assert run.state.dates["next_bill"]["confirmed"] is True
    assert run.timer("timer:bill_not_seen") == madrid(2026, 11, 9)

    accepted(run.send("change.applied", at=madrid(2026, 10, 8, 9, 0)))
    assert run.state.stage == "awaiting_bill"
    assert "timer:change_overdue" not in run.state.timers
    assert run.view("es")["headline"] == (
        "Tus datos ya están cambiados. Lo comprobaremos en tu próxima factura, hacia el lunes "
        "2 de noviembre."
    )
    assert parse_iso(run.view("en")["next"]["when"]) == madrid(2026, 11, 2)

    event = accepted(
        run.send(
            "bill.issued",
            {"bill_id": "F-100", "billing_address": NEW_ADDRESS},
            at=madrid(2026, 11, 2, 8, 0),
        )
    )
    assert (run.state.status, run.state.stage) == ("completed", "verified")
    assert run.date("verified_on") == madrid(2026, 11, 2, 8, 0)
    assert run.state.attributes["last_bill_id"] == "F-100"
    assert run.view("es")["headline"] == "Comprobado: tu factura ya lleva tus datos nuevos."
    assert run.view("en")["headline"] == "Checked: your bill carries your new details."
    assert [row["state"] for row in run.view()["stages"]] == ["done"] * 4
    assert run_templates(run) == ["change_received", "change_applied", "change_verified"]
    assert run.state.timers == {}
    run.assert_replay_matches()


def test_same_billing_and_service_address_asks_nothing_about_the_final_bill() -> None:
    run = updating(
        {**ADDRESS, "new_billing_address": OLD_ADDRESS, "old_billing_address": "Apartado 5"}
    )
    assert run.state.requirements == {}
    row = run.control("choose_final_bill_address", "en")
    assert (row["allowed"], row["reason_code"]) == (False, "not_applicable")
    assert refusal(run, "choose_final_bill_address", {"to": "email"}).code == "not_applicable"
    run.assert_replay_matches()


def test_iban_change_needs_a_new_sepa_mandate() -> None:
    run = updating(IBAN)
    assert run.state.requirements["sepa_mandate"]["state"] == "missing"
    assert run.date("mandate_until") == madrid(2026, 11, 3, 14, 0)
    needed = {row["id"]: row for row in run.view("en")["needed"]}
    assert needed["sepa_mandate"]["action_needed"] is True
    event = run.act("sign_mandate", {"document": "mandate.pdf"})
    assert event_topics(event) == ["sepa.mandate_signed"]
    assert run.state.requirements["sepa_mandate"]["state"] == "submitted"
    accepted(run.send("mandate.rejected", {"reason": "unsigned"}))
    assert run.state.requirements["sepa_mandate"]["state"] == "rejected"
    run.act("sign_mandate", {"document": "mandate-signed.pdf"})
    accepted(run.send("mandate.accepted"))
    assert run.state.requirements["sepa_mandate"]["state"] == "accepted"
    accepted(run.send("change.applied", at=madrid(2026, 10, 9, 9, 0)))
    accepted(
        run.send("bill.issued", {"bill_id": "F-7", "iban": NEW_IBAN}, at=madrid(2026, 11, 6, 9, 0))
    )
    assert run.state.status == "completed"
    run.assert_replay_matches()


def test_mandate_reminder_the_day_before_its_date() -> None:
    run = updating(IBAN)
    fired = run.advance(madrid(2026, 11, 2, 14, 0))
    assert "mandate_reminder" in run_templates(run)
    assert any(d.events[0].type == "reminder.due" for d in fired)
    run.assert_replay_matches()


@pytest.mark.parametrize("order", ["ours_first", "distributor_first"])
def test_energy_holder_change_waits_for_our_system_and_the_distributor(order: str) -> None:
    run = updating(HOLDER)
    assert run.state.requirements["id_document"]["state"] == "missing"
    run.act("send_id_document", {"document": "nie.pdf"})
    accepted(run.send("document.accepted", {"requirement": "id_document"}))
    first, second = ("change.applied", "distributor.accepted")
    if order == "distributor_first":
        first, second = second, first
    accepted(run.send(first, at=madrid(2026, 10, 13, 9, 0)))
    assert run.state.stage == "updating"
    accepted(run.send(second, at=madrid(2026, 10, 14, 9, 0)))
    assert run.state.stage == "awaiting_bill"
    accepted(
        run.send(
            "bill.issued", {"bill_id": "L-1", "holder_id": "X1234567L", "holder_name": "Luis Pérez"}
        )
    )
    assert run.state.status == "completed"
    run.assert_replay_matches()


# -- verification on the bill ------------------------------------------------------------------


def test_store_request_that_silently_never_happened_is_caught_on_the_next_bill() -> None:
    run = updating()  # asked in a store; nothing else ever reaches us
    run.advance(madrid(2026, 10, 15, 10, 0))
    assert run.state.open_incidents() == ["CHANGE_DELAYED"]
    assert_incident_view(run, "CHANGE_DELAYED")
    assert run.state.tasks["chase_change"]["team"] == "back_office"

    accepted(
        run.send(
            "bill.issued",
            {"bill_id": "F-200", "billing_address": OLD_ADDRESS},
            at=madrid(2026, 11, 6, 8, 0),
        )
    )
    assert run.state.status == "active"
    assert "OLD_DATA_ON_BILL" in run.state.open_incidents()
    assert_incident_view(run, "OLD_DATA_ON_BILL")
    assert run.view("es")["headline"] == (
        "Tu factura F-200 salió con tus datos antiguos. Lo estamos corrigiendo."
    )
    rows = {row["code"]: row for row in run.view("en")["incidents"]}
    assert rows["OLD_DATA_ON_BILL"]["what_happened"] == (
        "We checked your bill F-200 and it still carries the old details: the change you "
        "asked for was not applied in time."
    )
    task = run.state.tasks["fix_billing_data"]
    assert (task["status"], task["team"]) == ("open", "billing_ops")
    assert [i.id for i in D.tasks["fix_billing_data"].checklist] == [
        "apply_change",
        "reissue_bill",
        "refund_charges",
        "call_customer",
    ]

    # The corrected bill closes everything.
    accepted(run.send("change.applied", at=madrid(2026, 11, 6, 12, 0)))
    accepted(run.send("bill.issued", {"bill_id": "F-201", "billing_address": NEW_ADDRESS}))
    assert run.state.status == "completed"
    assert all(i["status"] == "resolved" for i in run.state.incidents.values())
    assert run.state.tasks["fix_billing_data"]["status"] == "done"
    run.assert_replay_matches()


@pytest.mark.parametrize(
    ("attributes", "printed"),
    [
        (ADDRESS, {"billing_address": OLD_ADDRESS}),
        (ADDRESS, {}),  # the billing system did not say which address it printed
        (IBAN, {"iban": OLD_IBAN}),
        (HOLDER, {"holder_id": "12345678Z", "holder_name": "Ana López"}),
        (HOLDER, {"holder_id": "X1234567L", "holder_name": "Ana López"}),  # half changed
    ],
)
def test_a_bill_with_old_data_opens_an_incident_by_itself(
    attributes: dict[str, Any], printed: dict[str, Any]
) -> None:
    run = awaiting_bill(attributes)
    accepted(run.send("bill.issued", {"bill_id": "F-9", **printed}))
    assert run.state.stage == "awaiting_bill"
    assert run.state.open_incidents() == ["OLD_DATA_ON_BILL"]
    assert run.state.attributes["last_bill_id"] == "F-9"
    run.assert_replay_matches()


def test_a_bill_with_the_new_data_before_anything_else_still_verifies() -> None:
    run = requested()
    accepted(run.send("bill.issued", {"bill_id": "F-1", "billing_address": NEW_ADDRESS}))
    assert (run.state.status, run.state.stage) == ("completed", "verified")
    run.assert_replay_matches()


def test_bill_without_its_id_is_rejected_not_recorded() -> None:
    run = awaiting_bill()
    decision = run.send("bill.issued", {"billing_address": NEW_ADDRESS})
    assert decision.outcome is Outcome.REJECTED
    assert decision.reason_code == "missing_data"
    assert run.state.status == "active"


def test_no_bill_five_working_days_after_its_date_opens_a_check() -> None:
    run = awaiting_bill()
    run.advance(madrid(2026, 11, 13, 10, 0))  # estimate Friday 6 + 5 working days
    task = run.state.tasks["check_billing"]
    assert (task["status"], task["team"]) == ("open", "billing_ops")
    run.assert_replay_matches()


def test_customer_reports_a_bill_with_old_data() -> None:
    run = awaiting_bill()
    event = run.act("report_old_data")
    assert event_topics(event) == ["billing.complaint_opened"]
    assert run.state.open_incidents() == ["OLD_DATA_REPORTED"]
    assert_incident_view(run, "OLD_DATA_REPORTED")
    assert run.state.tasks["fix_billing_data"]["status"] == "open"
    assert refusal(requested(), "report_old_data").code == "not_in_stage"
    run.assert_replay_matches()


# -- validation and distributor rejections --------------------------------------------------------


@pytest.mark.parametrize(
    ("attributes", "cause", "control", "bad", "good", "attribute"),
    [
        (
            ADDRESS,
            "ADDRESS_INVALID",
            "correct_address",
            {"address": "x"},
            {"address": "Calle de Alcalá 100, 28009 Madrid"},
            "new_billing_address",
        ),
        (
            IBAN,
            "IBAN_INVALID",
            "correct_iban",
            {"iban": "1234"},
            {"iban": "ES6000491500051234567892"},
            "new_iban",
        ),
    ],
)
def test_invalid_data_corrected_by_the_customer(
    attributes: dict[str, Any],
    cause: str,
    control: str,
    bad: dict[str, Any],
    good: dict[str, Any],
    attribute: str,
) -> None:
    run = requested(attributes)
    accepted(run.send("request.invalid", {"cause": cause}))
    assert run.state.stage == "requested"
    assert_incident_view(run, cause)
    error = refusal(run, control, bad)
    assert problem_codes(error) == {next(iter(bad)): "invalid_format"}
    event = run.act(control, good)
    assert event_topics(event) == ["change.data_corrected"]
    assert run.state.attributes[attribute] == next(iter(good.values()))
    assert run.state.incidents[cause]["status"] == "resolved"
    assert refusal(run, control, good).code == "no_incident"
    accepted(run.send("request.validated"))
    assert run.state.stage == "updating"
    run.assert_replay_matches()


def test_distributor_g1_asks_for_the_kind_of_holder_change() -> None:
    run = updating(HOLDER)
    accepted(run.send("distributor.rejected", {"code": "G1"}))
    assert_incident_view(run, "RG1")
    assert problem_codes(refusal(run, "choose_holder_change", {"mode": "gift"})) == {
        "mode": "invalid_choice"
    }
    event = run.act("choose_holder_change", {"mode": "subrogation"})
    assert event_topics(event) == ["change.m1_type_chosen"]
    assert run.state.attributes["m1_type"] == "subrogation"
    assert run.state.tasks["resend_m1"]["status"] == "open"
    accepted(run.send("m1.resubmitted", {"request_id": "M1-2"}))
    assert run.state.incidents["RG1"]["status"] == "resolved"
    assert run.state.keys["m1_request_id"] == "M1-2"
    assert run.state.tasks["resend_m1"]["status"] == "done"
    run.assert_replay_matches()


def test_distributor_55_same_holder_corrected() -> None:
    run = updating(HOLDER)
    accepted(run.send("distributor.rejected", {"code": "55"}))
    assert_incident_view(run, "R55")
    assert problem_codes(refusal(run, "correct_holder_id", {"holder_id": "Z"})) == {
        "holder_id": "invalid_format"
    }
    run.act("correct_holder_id", {"holder_id": "Y7654321G"})
    assert run.state.attributes["new_holder_id"] == "Y7654321G"
    run.assert_replay_matches()


def test_distributor_messages_do_not_apply_to_telecom() -> None:
    run = updating()
    assert send_ignored(run, "distributor.rejected", {"code": "G1"}) == "out_of_order"
    assert send_ignored(run, "distributor.accepted") == "out_of_order"
    assert run.state.open_incidents() == []
    run.assert_replay_matches()


@pytest.mark.parametrize(
    "control", ["correct_address", "correct_iban", "choose_holder_change", "correct_holder_id"]
)
def test_correction_controls_need_their_incident(control: str) -> None:
    run = (
        requested(HOLDER)
        if control in ("choose_holder_change", "correct_holder_id")
        else requested()
    )
    if control in ("choose_holder_change", "correct_holder_id"):
        run.send("request.validated")
    assert refusal(run, control, {}).code == "no_incident"


# -- other controls ------------------------------------------------------------------------------


def test_mandate_and_id_document_only_for_their_kind_of_change() -> None:
    run = updating()
    assert refusal(run, "sign_mandate", {"document": "m.pdf"}).code == "not_applicable"
    assert refusal(run, "send_id_document", {"document": "d.pdf"}).code == "not_applicable"
    assert refusal(requested(IBAN), "sign_mandate", {"document": "m.pdf"}).code == "not_in_stage"


@pytest.mark.parametrize("stage", ["requested", "updating"])
def test_cancel_before_the_change_is_applied(stage: str) -> None:
    run = requested() if stage == "requested" else updating()
    event = run.act("cancel")
    assert event_topics(event) == ["change.cancel_requested"]
    assert run.state.status == "cancelled"
    assert run.view("en")["headline"] == "You cancelled the change. Your details stay as they were."
    assert send_ignored(run, "bill.issued", {"bill_id": "F-1"}) == "process_finished"
    run.assert_replay_matches()


def test_cancel_is_refused_once_the_change_is_applied() -> None:
    run = awaiting_bill()
    error = refusal(run, "cancel")
    assert error.code == "not_in_stage"
    assert error.instead is not None and "another change" in error.instead.en


def test_controls_offered_in_each_stage() -> None:
    run = requested()
    assert allowed_controls(run) == {"choose_final_bill_address", "cancel"}
    run.send("request.validated")
    assert allowed_controls(run) == {"choose_final_bill_address", "report_old_data", "cancel"}
    run.send("change.applied")
    assert allowed_controls(run) == {"choose_final_bill_address", "report_old_data"}
    run = updating(IBAN)
    assert allowed_controls(run) == {"sign_mandate", "report_old_data", "cancel"}
    run = updating(HOLDER)
    assert allowed_controls(run) == {"send_id_document", "report_old_data", "cancel"}
    run.assert_replay_matches()
