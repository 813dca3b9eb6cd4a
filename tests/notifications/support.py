"""Shared pieces of the notification tests: a notifier over a scenario run, recording
senders, and envelopes made from the outbox entries the run's events wrote."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from relevo.adapters.memory import MemoryStore
from relevo.domain.model import ProcessState
from relevo.notify_config import NotifySettings
from relevo.services.catalog import Catalog
from relevo.services.delivery import Envelope
from relevo.services.delivery_records import SENT, AttemptRow, SendRecord
from relevo.services.notifications.notifier import Notifier
from relevo.services.notifications.ports import (
    EmailSender,
    OutgoingEmail,
    OutgoingSms,
    SendFailed,
    SendLog,
    SmsSender,
)
from relevo.services.notifications.send_log import StoreSendLog
from relevo.services.unit_of_work import Store
from scenarios.helpers import Run

SECRET = "test-link-secret"
CATALOG = Catalog.load()
CONTACT = {"contact_email": "ana@example.com", "contact_phone": "612 345 678"}
_outbox_ids = itertools.count(1)


@dataclass
class Recorder:
    """Keeps what it is asked to send; fails as told first."""

    emails: list[OutgoingEmail] = field(default_factory=list)
    sms: list[OutgoingSms] = field(default_factory=list)
    failures: list[SendFailed] = field(default_factory=list)

    def send_email(self, email: OutgoingEmail) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.emails.append(email)
        return "250 ok"

    def send_sms(self, sms: OutgoingSms) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.sms.append(sms)
        return f"sms-{len(self.sms)}"


def settings(**changes: Any) -> NotifySettings:
    """Notify settings for the tests (a link secret, the default quiet hours and cap)."""
    return NotifySettings(link_secret=SECRET, **changes)


def notifier_for(
    run: Run,
    *,
    email: EmailSender | None = None,
    sms: SmsSender | None = None,
    log: SendLog | None = None,
    **changes: Any,
) -> Notifier:
    """A notifier reading ``run``'s live state (the send log of an empty store unless
    ``log`` is given)."""

    def states(ids: Iterable[str]) -> dict[str, ProcessState]:
        return {run.state.id: run.state} if run.state.id in ids else {}

    recorder = Recorder()
    return Notifier(
        catalog=CATALOG,
        states=states,
        email=email or recorder,
        sms=sms or recorder,
        log=log or StoreSendLog(MemoryStore()),
        settings=settings(**changes),
    )


def envelopes(run: Run, template: str | None = None) -> list[Envelope]:
    """An envelope for every notification request the run's events wrote (of
    ``template`` only, when given), oldest first."""
    found = []
    for event in run.events:
        for message in event.effects.get("outbox", []):
            payload = message["payload"]
            if message["topic"] != "notification.requested":
                continue
            if template is not None and payload["template"] != template:
                continue
            found.append(
                Envelope(
                    outbox_id=next(_outbox_ids),
                    message_id=message["key"],
                    process_id=payload["process_id"],
                    topic=message["topic"],
                    payload=payload,
                    created_at=datetime.fromisoformat(event.recorded_at),
                    attempt=1,
                )
            )
    return found


def record_sends(store: Store, *sends: SendRecord) -> None:
    """Record ``sends`` as the worker does: with the attempt that made them."""
    attempt = AttemptRow(
        0,
        "p",
        "notification.requested",
        1,
        sends[0].at,
        SENT,
        "",
        None,
        SENT,
        1,
        sends[0].at,
        sends,
    )
    with store.unit_of_work() as uow:
        uow.record_attempts("seeding", [attempt])
        uow.commit()
