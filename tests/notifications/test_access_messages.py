"""Access messages at send time: a one-time code or a new link goes at once — through quiet
hours — on one channel to the contact on file, is sent once per message, and no record
keeps the code."""

from __future__ import annotations

from datetime import datetime

from notifications.support import CONTACT, SECRET, Recorder, notifier_for
from relevo.domain.model import JSON, iso
from relevo.services.access.codes import CODE_LIFETIME, code_for
from relevo.services.access.messages import code_message, link_message
from relevo.services.access.ports import OPEN, CodeRecord
from relevo.services.delivery import DeliveryOutcome, Envelope
from relevo.services.notifications.links import verify_token
from relevo.services.notifications.ports import SendFailed
from relevo.services.records import OutboxRow
from scenarios.helpers import madrid
from scenarios.test_energy_switch import requested

#: 23:30 in Madrid: inside the default quiet hours.
NIGHT = madrid(2026, 10, 5, 23, 30)


def _envelope(row: OutboxRow, at: datetime) -> Envelope:
    return Envelope(1, row.idempotency_key, row.process_id, row.topic, row.payload, at, 1)


def _code(state_id: str, channel: str = "sms") -> CodeRecord:
    return CodeRecord(
        id="otc_test",
        process_id=state_id,
        customer_id="cust-1",
        control_id="cancel",
        code_hash="",
        channel=channel,
        created_at=iso(NIGHT),
        expires_at=iso(NIGHT + CODE_LIFETIME),
        attempts=0,
        status=OPEN,
    )


def test_a_code_goes_by_sms_at_once_even_in_quiet_hours() -> None:
    run = requested(attributes=CONTACT)
    recorder = Recorder()
    notifier = notifier_for(run, email=recorder, sms=recorder)
    row = code_message(_code(run.state.id), "en", NIGHT)
    delivery = notifier.deliver(_envelope(row, NIGHT), NIGHT)
    assert delivery.outcome is DeliveryOutcome.SENT
    [sms] = recorder.sms
    assert not recorder.emails and sms.to == "+34612345678"
    code = code_for(SECRET, "otc_test")
    assert f"Your code is {code}." in sms.text and "/p/" not in sms.text
    assert code not in str(delivery.facts) and code not in str(row.payload)
    assert (delivery.facts or {})["to"] == "+34******678"


def test_a_code_by_email_carries_it_in_both_parts() -> None:
    run = requested(attributes={"contact_email": "ana@example.com"})
    recorder = Recorder()
    notifier = notifier_for(run, email=recorder, sms=recorder)
    row = code_message(_code(run.state.id, "email"), "es", NIGHT)
    assert notifier.deliver(_envelope(row, NIGHT), NIGHT).outcome is DeliveryOutcome.SENT
    [mail] = recorder.emails
    code = code_for(SECRET, "otc_test")
    assert code in mail.text and code in mail.html and mail.subject == "Tu código para confirmar"


def test_a_new_link_is_signed_when_sent_and_sent_once() -> None:
    run = requested(attributes=CONTACT)
    recorder = Recorder()
    notifier = notifier_for(run, email=recorder, sms=recorder)
    row = link_message(run.state, "req1", NIGHT)
    payload: JSON = row.payload
    assert "/p/" not in str(payload)
    first = notifier.deliver(_envelope(row, NIGHT), NIGHT)
    again = notifier.deliver(_envelope(row, NIGHT), NIGHT)
    assert (first.outcome, again.outcome) == (DeliveryOutcome.SENT, DeliveryOutcome.SUPERSEDED)
    [sms] = recorder.sms
    token = sms.text.rsplit("/p/", 1)[1]
    assert verify_token(SECRET, token, NIGHT).process_id == run.state.id


def test_without_a_contact_or_with_a_failing_channel_it_says_so() -> None:
    bare = requested()
    notifier = notifier_for(bare)
    row = code_message(_code(bare.state.id), "es", NIGHT)
    delivery = notifier.deliver(_envelope(row, NIGHT), NIGHT)
    assert delivery.outcome is DeliveryOutcome.FAILED_PERMANENT
    run = requested(attributes=CONTACT)
    recorder = Recorder(failures=[SendFailed("timeout", permanent=False)])
    notifier = notifier_for(run, email=recorder, sms=recorder)
    row = code_message(_code(run.state.id), "es", NIGHT)
    failed = notifier.deliver(_envelope(row, NIGHT), NIGHT)
    assert failed.outcome is DeliveryOutcome.FAILED_TRANSIENT
    assert notifier.deliver(_envelope(row, NIGHT), NIGHT).outcome is DeliveryOutcome.SENT


def test_a_message_for_another_customer_is_not_sent() -> None:
    run = requested(attributes=CONTACT)
    notifier = notifier_for(run)
    row = code_message(_code(run.state.id), "es", NIGHT)
    row.payload["customer_id"] = "someone-else"
    delivery = notifier.deliver(_envelope(row, NIGHT), NIGHT)
    assert delivery.outcome is DeliveryOutcome.SUPERSEDED
