"""The notifier at send time: quiet hours on a fixed clock, critical messages, the daily
cap, deduplication, and messages superseded by a later state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifications.support import (
    CONTACT,
    SECRET,
    Recorder,
    envelopes,
    notifier_for,
    record_sends,
)
from relevo.adapters.memory import MemoryStore
from relevo.domain.model import iso
from relevo.services.delivery import DeliveryOutcome
from relevo.services.delivery_records import SendRecord
from relevo.services.notifications.links import verify_token
from relevo.services.notifications.ports import SendFailed
from relevo.services.notifications.send_log import StoreSendLog
from scenarios.helpers import madrid
from scenarios.test_energy_switch import CUPS, C, checking, requested


def contact_run():  # type: ignore[no-untyped-def]
    run = requested(attributes=CONTACT)
    run.send("atr.submitted", {"request_id": "ATR-1"}, at=madrid(2026, 10, 5, 12, 0))
    return run


def scheduled_run():  # type: ignore[no-untyped-def]
    run = contact_run()
    run.send(
        "distributor.accepted",
        {"activation_date": "2026-10-14", "activation_type": "A0", "field_work": False},
        at=madrid(2026, 10, 6, 10, 0),
    )
    return run


def test_the_payload_keeps_what_the_message_is_true_of() -> None:
    run = scheduled_run()
    (envelope,) = envelopes(run, "switch_scheduled")
    payload = envelope.payload
    assert payload["status"] == "active" and payload["stage"] == "scheduled"
    assert payload["dates"] == {"activation_date": run.state.dates["activation_date"]["at"]}
    assert payload["version"] == run.state.version
    assert payload["incidents"] == []


def test_a_message_is_sent_on_every_channel_with_a_signed_link() -> None:
    run = contact_run()
    recorder = Recorder()
    notifier = notifier_for(run, email=recorder, sms=recorder)
    (envelope,) = envelopes(run, "switch_requested")
    delivery = notifier.deliver(envelope, madrid(2026, 10, 5, 12, 1))
    assert delivery.outcome is DeliveryOutcome.SENT
    (email,), (sms,) = recorder.emails, recorder.sms
    assert email.to == "ana@example.com" and sms.to == "+34612345678"
    assert "hacia el martes 13 de octubre" in email.text and email.language == "es"
    token = sms.text.rsplit("/p/", 1)[1]
    claims = verify_token(SECRET, token, madrid(2026, 10, 5, 12, 1))
    assert (claims.process_id, claims.customer_id) == (run.state.id, "cust-1")
    assert claims.expires_at == madrid(2026, 11, 4, 12, 1)
    facts = delivery.facts or {}
    assert facts["channels"]["sms"]["to"] == "+34******678"
    assert facts["channels"]["sms"]["encoding"] == "GSM-7"  # no á í ó ú in this one
    assert facts["channels"]["sms"]["segments"] == 2
    assert facts["channels"]["email"]["to"] == "a***@example.com"


def test_quiet_hours_hold_a_message_until_the_window_ends_in_the_customers_zone() -> None:
    run = contact_run()
    recorder = Recorder()
    notifier = notifier_for(run, email=recorder, sms=recorder)
    (envelope,) = envelopes(run, "switch_requested")
    walk = [
        (madrid(2026, 10, 5, 20, 59), DeliveryOutcome.SENT, None),
        (madrid(2026, 10, 5, 21, 0), DeliveryOutcome.DEFERRED, madrid(2026, 10, 6, 9, 0)),
        (madrid(2026, 10, 6, 3, 0), DeliveryOutcome.DEFERRED, madrid(2026, 10, 6, 9, 0)),
        (madrid(2026, 10, 6, 8, 59), DeliveryOutcome.DEFERRED, madrid(2026, 10, 6, 9, 0)),
        (madrid(2026, 10, 6, 9, 0), DeliveryOutcome.SENT, None),
    ]
    for now, outcome, retry_at in walk:
        fresh = notifier_for(run, email=recorder, sms=recorder)  # no dedup across the walk
        delivery = fresh.deliver(envelope, now)
        assert (delivery.outcome, delivery.retry_at) == (outcome, retry_at), now
    assert len(recorder.emails) == 2
    # A customer in the Canaries is an hour behind: 21:30 in Madrid is 20:30 there.
    run.state.timezone = "Atlantic/Canary"
    assert notifier.deliver(envelope, madrid(2026, 10, 5, 21, 30)).outcome is DeliveryOutcome.SENT


def test_the_customer_can_choose_quiet_hours_and_channels() -> None:
    run = contact_run()
    run.state.attributes["quiet_hours"] = "13:00-15:00"
    run.state.attributes["notify_channels"] = ["email"]
    recorder = Recorder()
    notifier = notifier_for(run, email=recorder, sms=recorder)
    (envelope,) = envelopes(run, "switch_requested")
    held = notifier.deliver(envelope, madrid(2026, 10, 5, 14, 0))
    assert (held.outcome, held.retry_at) == (DeliveryOutcome.DEFERRED, madrid(2026, 10, 5, 15, 0))
    assert notifier.deliver(envelope, madrid(2026, 10, 5, 22, 0)).outcome is DeliveryOutcome.SENT
    assert (len(recorder.emails), len(recorder.sms)) == (1, 0)


def test_a_cut_off_within_a_day_goes_through_quiet_hours() -> None:
    run = scheduled_run()
    run.advance(madrid(2026, 10, 13, 9, 0))  # the reminder fires at cancel_until - 5 hours
    (envelope,) = envelopes(run, "last_day_to_cancel")
    recorder = Recorder()
    notifier = notifier_for(run, email=recorder, sms=recorder, quiet_hours=None)
    # Held for the test in a window that covers the reminder's moment.
    run.state.attributes["quiet_hours"] = "08:00-12:00"
    delivery = notifier.deliver(envelope, madrid(2026, 10, 13, 9, 0))
    assert delivery.outcome is DeliveryOutcome.SENT
    assert (delivery.facts or {})["critical"] is True
    (sms,) = recorder.sms
    assert "hasta el martes 13 de octubre a las 14:00" in sms.text


def test_a_problem_the_customer_must_solve_is_critical() -> None:
    run = checking()
    run.state.attributes.update(CONTACT)
    run.send("distributor.rejected", {"code": "46"}, at=madrid(2026, 10, 6, 22, 0))
    (envelope,) = envelopes(run, "switch_problem")
    assert envelope.payload["incidents"] == ["R46"]
    delivery = notifier_for(run).deliver(envelope, madrid(2026, 10, 6, 22, 0))
    assert delivery.outcome is DeliveryOutcome.SENT


def test_the_daily_cap_defers_to_the_next_morning() -> None:
    run = contact_run()
    store = MemoryStore()
    # Another process of the same customer already wrote to both addresses today.
    record_sends(
        store,
        SendRecord("other:email", "ana@example.com", "email", iso(madrid(2026, 10, 5, 8, 0))),
        SendRecord("other:sms", "+34612345678", "sms", iso(madrid(2026, 10, 5, 0, 0))),
        SendRecord("older:sms", "+34612345678", "sms", iso(madrid(2026, 10, 4, 23, 59))),
    )
    recorder = Recorder()
    log = StoreSendLog(store)
    notifier = notifier_for(run, email=recorder, sms=recorder, log=log, daily_cap=1)
    (envelope,) = envelopes(run, "switch_requested")
    held = notifier.deliver(envelope, madrid(2026, 10, 5, 12, 1))
    assert (held.outcome, held.retry_at) == (DeliveryOutcome.DEFERRED, madrid(2026, 10, 6, 9, 0))
    assert recorder.emails == [] and recorder.sms == []
    sent = notifier.deliver(envelope, madrid(2026, 10, 6, 9, 0))
    assert sent.outcome is DeliveryOutcome.SENT
    assert (len(recorder.emails), len(recorder.sms)) == (1, 1)


def test_a_message_is_sent_once_per_business_key_and_a_retry_skips_sent_channels() -> None:
    run = contact_run()
    recorder = Recorder(failures=[SendFailed("provider down", permanent=False)])
    notifier = notifier_for(run, email=recorder, sms=recorder)
    (envelope,) = envelopes(run, "switch_requested")
    now = madrid(2026, 10, 5, 12, 1)
    first = notifier.deliver(envelope, now)  # e-mail fails, SMS goes
    assert first.outcome is DeliveryOutcome.FAILED_TRANSIENT
    assert "provider down" in first.detail
    again = notifier.deliver(envelope, now + timedelta(minutes=1))
    assert again.outcome is DeliveryOutcome.SENT
    assert (len(recorder.emails), len(recorder.sms)) == (1, 1)
    dup = notifier.deliver(envelope, now + timedelta(minutes=2))
    assert dup.outcome is DeliveryOutcome.SUPERSEDED and "already sent" in dup.detail


def test_a_permanent_failure_on_every_channel_is_permanent() -> None:
    run = contact_run()
    refusals = [SendFailed("550 no such user", permanent=True) for _ in range(2)]
    notifier = notifier_for(
        run, email=Recorder(failures=refusals[:1]), sms=Recorder(failures=refusals[1:])
    )
    (envelope,) = envelopes(run, "switch_requested")
    delivery = notifier.deliver(envelope, madrid(2026, 10, 5, 12, 1))
    assert delivery.outcome is DeliveryOutcome.FAILED_PERMANENT


def test_without_contact_data_a_message_cannot_be_sent() -> None:
    run = requested()
    run.send("atr.submitted", {"request_id": "ATR-1"}, at=madrid(2026, 10, 5, 12, 0))
    (envelope,) = envelopes(run, "switch_requested")
    delivery = notifier_for(run).deliver(envelope, madrid(2026, 10, 5, 12, 1))
    assert delivery.outcome is DeliveryOutcome.FAILED_PERMANENT
    assert "no contact" in delivery.detail


# -- never stale ---------------------------------------------------------------------------


def test_a_message_whose_date_moved_is_superseded_at_send_time() -> None:
    run = scheduled_run()
    (envelope,) = envelopes(run, "switch_scheduled")
    run.act("choose_fixed_date", {"date": "2026-10-20"}, at=madrid(2026, 10, 6, 10, 5))
    delivery = notifier_for(run).deliver(envelope, madrid(2026, 10, 6, 10, 6))
    assert delivery.outcome is DeliveryOutcome.SUPERSEDED
    assert delivery.detail.startswith("date activation_date moved")


def test_a_message_after_a_cancellation_is_superseded_but_the_cancellation_is_told() -> None:
    run = scheduled_run()
    (envelope,) = envelopes(run, "switch_scheduled")
    run.act("cancel", at=madrid(2026, 10, 6, 11, 0))
    delivery = notifier_for(run).deliver(envelope, madrid(2026, 10, 6, 11, 1))
    assert (delivery.outcome, delivery.detail) == (
        DeliveryOutcome.SUPERSEDED,
        "the process is cancelled now",
    )


def test_a_problem_fixed_before_sending_is_superseded() -> None:
    run = checking()
    run.state.attributes.update(CONTACT)
    run.send("distributor.rejected", {"code": "46"}, at=madrid(2026, 10, 6, 11, 0))
    (envelope,) = envelopes(run, "switch_problem")
    run.act("choose_activation_mode", {"mode": "asap"}, at=madrid(2026, 10, 6, 11, 5))
    assert "R46" not in run.state.open_incidents()
    delivery = notifier_for(run).deliver(envelope, madrid(2026, 10, 6, 11, 6))
    assert (delivery.outcome, delivery.detail) == (
        DeliveryOutcome.SUPERSEDED,
        "problem R46 is fixed",
    )


@pytest.mark.parametrize("subject", [CUPS])
def test_a_reminder_whose_stage_was_left_is_superseded(subject: str) -> None:
    run = scheduled_run()
    run.advance(madrid(2026, 10, 13, 9, 0))
    (envelope,) = envelopes(run, "last_day_to_cancel")
    run.send("switch.activated", {"activation_date": "2026-10-13"}, at=madrid(2026, 10, 13, 9, 1))
    assert run.state.stage not in ("distributor_check", "scheduled")
    delivery = notifier_for(run).deliver(envelope, madrid(2026, 10, 13, 9, 2))
    assert delivery.outcome is DeliveryOutcome.SUPERSEDED
    assert "stage was left" in delivery.detail or "moved" in delivery.detail
    assert run.state.subject == subject and C.definition.kind == "energy_switch"
