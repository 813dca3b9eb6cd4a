"""Reminders follow their date: rescheduled when it moves, dropped when the process ends,
and a reminder already requested is superseded at send time by either."""

from __future__ import annotations

from notifications.support import CONTACT, Recorder, envelopes, notifier_for
from relevo.services.delivery import DeliveryOutcome
from scenarios.helpers import madrid, run_templates
from scenarios.test_energy_switch import requested

REMINDER = "notify:last_day_to_cancel"


def scheduled():  # type: ignore[no-untyped-def]
    run = requested(attributes=CONTACT)
    run.send("atr.submitted", {"request_id": "ATR-1"}, at=madrid(2026, 10, 5, 12, 0))
    run.send(
        "distributor.accepted",
        {"activation_date": "2026-10-14", "activation_type": "A0", "field_work": False},
        at=madrid(2026, 10, 6, 10, 0),
    )
    return run


def test_a_postponement_moves_the_reminder_and_supersedes_the_one_requested() -> None:
    run = scheduled()
    assert run.timer(REMINDER) == madrid(2026, 10, 13, 9, 0)  # cancel_until 14:00 - 5 h
    run.advance(madrid(2026, 10, 13, 9, 0))
    (first,) = envelopes(run, "last_day_to_cancel")
    assert REMINDER not in run.state.timers

    # Before the worker sends it, the customer postpones the switch to Tuesday 20.
    run.act("choose_fixed_date", {"date": "2026-10-20"}, at=madrid(2026, 10, 13, 9, 0))
    assert run.timer(REMINDER) == madrid(2026, 10, 19, 9, 0)
    recorder = Recorder()
    notifier = notifier_for(run, email=recorder, sms=recorder)
    stale = notifier.deliver(first, madrid(2026, 10, 13, 9, 1))
    assert stale.outcome is DeliveryOutcome.SUPERSEDED
    assert stale.detail.startswith("date cancel_until moved")

    run.advance(madrid(2026, 10, 19, 9, 0))
    _, second = envelopes(run, "last_day_to_cancel")
    sent = notifier.deliver(second, madrid(2026, 10, 19, 9, 0))
    assert sent.outcome is DeliveryOutcome.SENT
    (sms,) = recorder.sms
    assert "hasta el lunes 19 de octubre a las 14:00" in sms.text


def test_a_cancellation_drops_pending_reminders_and_supersedes_requested_ones() -> None:
    run = scheduled()
    run.advance(madrid(2026, 10, 8, 9, 0))
    (switch_scheduled,) = envelopes(run, "switch_scheduled")
    assert REMINDER in run.state.timers
    run.act("cancel", at=madrid(2026, 10, 8, 9, 0))
    assert run.state.status == "cancelled"
    assert run.state.timers == {}
    run.advance(madrid(2026, 10, 30, 0, 0))
    assert "last_day_to_cancel" not in run_templates(run)
    notifier = notifier_for(run)
    stale = notifier.deliver(switch_scheduled, madrid(2026, 10, 8, 9, 1))
    assert (stale.outcome, stale.detail) == (
        DeliveryOutcome.SUPERSEDED,
        "the process is cancelled now",
    )
