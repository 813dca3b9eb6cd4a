"""The deliverer of ``notification.requested``: re-check, hold or send one notification.

At send time the notifier re-reads the process, supersedes a message a later state made
wrong, holds a non-critical one in the customer's quiet hours or over their daily cap
(DEFERRED, with the moment to try again), then renders and sends it on each channel the
notification declares and the customer accepts. Each channel's send is remembered under a
business key (process, template, the dates it announces or the request's version, channel),
so a retry never sends a channel twice and the same announcement is sent once: the sends
travel back in the ``Delivery`` and the worker records them with the attempt, in one
transaction. An access message (a new link or a one-time code the customer asked for) goes
at once, on one channel (``access_messages``).

Told a claimed batch first (``prepare``), the notifier reads the states of its processes
and the send log of its business keys in one query each instead of one per message. What it
read serves for at most ``state_max_age`` of the clock (a slow channel makes it read the
batch again), so the state a message is checked against is never older than that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from relevo.domain.compiled import Compiled
from relevo.domain.model import JSON, ProcessState, iso
from relevo.notify_config import NotifySettings
from relevo.services.catalog import Catalog
from relevo.services.delivery import Delivery, DeliveryOutcome, Envelope
from relevo.services.delivery_records import SendRecord
from relevo.services.notifications.access_messages import Channels, deliver_access
from relevo.services.notifications.freshness import stale_reason
from relevo.services.notifications.links import page_link, sign_token
from relevo.services.notifications.policy import (
    Preferences,
    day_start,
    is_critical,
    mask,
    next_day,
    preferences_for,
    quiet_until,
)
from relevo.services.notifications.ports import (
    EmailSender,
    OutgoingEmail,
    OutgoingSms,
    SendFailed,
    SendLog,
    SmsSender,
)
from relevo.services.notifications.render import body_text, render_email, render_sms

StateReader = Callable[[Iterable[str]], Mapping[str, ProcessState]]

#: How long states and send-log entries read ahead for a batch may serve its messages.
STATE_MAX_AGE = timedelta(milliseconds=250)


@dataclass(frozen=True, slots=True)
class _ReadAhead:
    """What was read for the rest of a batch at ``read_at``: its processes' states and
    which of its business keys were sent; ``envelopes`` in delivery order."""

    envelopes: Sequence[Envelope]
    read_at: datetime
    ids: frozenset[str]
    keys: frozenset[str]
    states: Mapping[str, ProcessState]
    sent: set[str]
    position: dict[int, int]


class Notifier:
    """Sends customer notifications by e-mail and SMS (a ``Deliverer``)."""

    def __init__(
        self,
        *,
        catalog: Catalog,
        states: StateReader,
        email: EmailSender,
        sms: SmsSender,
        log: SendLog,
        settings: NotifySettings,
        state_max_age: timedelta = STATE_MAX_AGE,
    ) -> None:
        """``states`` reads current process states by id (``Hub.states``); ``log``
        tells what was sent. Raises ValueError without a link secret."""
        if not settings.link_secret:
            raise ValueError(
                "RELEVO_LINK_SECRET is not set: customer links cannot be signed "
                "(set a long random value, e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`)"
            )
        self.catalog = catalog
        self.states = states
        self.email = email
        self.sms = sms
        self.log = log
        self.settings = settings
        self.state_max_age = state_max_age
        self._ahead: _ReadAhead | None = None
        #: Sends made since the last ``prepare`` (the worker has not recorded them yet):
        #: business key → (recipient, moment).
        self._unrecorded: dict[str, tuple[str, datetime]] = {}
        self._last_link: tuple[object, str] = (None, "")
        self._last_body: tuple[object, str] = (None, "")

    def prepare(self, envelopes: Sequence[Envelope], now: datetime) -> None:
        """Read the states and sent business keys of ``envelopes`` in one query each. The
        sends of the previous batch are recorded by now, so they are read back here."""
        self._unrecorded.clear()
        self._ahead = self._read(envelopes, now)

    def _read(self, envelopes: Sequence[Envelope], now: datetime) -> _ReadAhead:
        ids = frozenset(e.process_id for e in envelopes)
        keys = frozenset(
            business_key(e.payload, str(channel))
            for e in envelopes
            for channel in e.payload.get("channels") or ()
        )
        position = {e.outbox_id: n for n, e in enumerate(envelopes)}
        states, sent = self.states(ids), self.log.sent_keys(keys)
        return _ReadAhead(envelopes, now, ids, keys, states, sent, position)

    def _refresh(self, envelope: Envelope, now: datetime) -> None:
        """Read the rest of the batch again, from ``envelope`` on, once what was read is
        older than ``state_max_age``."""
        ahead = self._ahead
        if ahead is None or now - ahead.read_at <= self.state_max_age:
            return
        at = ahead.position.get(envelope.outbox_id)
        self._ahead = None if at is None else self._read(ahead.envelopes[at:], now)

    def _state(self, process_id: str) -> ProcessState | None:
        ahead = self._ahead
        if ahead is not None and process_id in ahead.ids:
            return ahead.states.get(process_id)
        return self.states([process_id]).get(process_id)

    def _was_sent(self, key: str) -> bool:
        if key in self._unrecorded:
            return True
        ahead = self._ahead
        if ahead is not None and key in ahead.keys:
            return key in ahead.sent
        return bool(self.log.sent_keys([key]))

    def _count_since(self, recipient: str, since: datetime) -> int:
        unrecorded = sum(
            1 for to, at in self._unrecorded.values() if to == recipient and at >= since
        )
        return self.log.count_since(recipient, since) + unrecorded

    def deliver(self, envelope: Envelope, now: datetime) -> Delivery:
        """Send the notification ``envelope`` asks for, or say why not (see module doc)."""
        payload = envelope.payload
        self._refresh(envelope, now)
        state = self._state(envelope.process_id)
        if state is None:
            return Delivery(DeliveryOutcome.SUPERSEDED, "the process no longer exists")
        c = self.catalog.get(state.kind, state.definition_version)
        if payload.get("access"):
            channels = Channels(self.email, self.sms, self._was_sent)
            link = self.customer_link(state, now)
            delivery = deliver_access(
                c, state, envelope, channels, secret=self.settings.link_secret, link=link, now=now
            )
            for sent in delivery.sends:
                self._unrecorded[sent.business_key] = (sent.recipient, now)
            return delivery
        reason = stale_reason(c, payload, state, now)
        if reason is not None:
            return Delivery(DeliveryOutcome.SUPERSEDED, reason)
        prefs = preferences_for(state, self.settings)
        critical = is_critical(c, payload, state, now)
        if not critical:
            until = quiet_until(now, prefs)
            if until is not None:
                return Delivery(DeliveryOutcome.DEFERRED, "quiet hours", retry_at=until)
        targets = _targets(payload, prefs, critical)
        if not targets:
            return Delivery(
                DeliveryOutcome.FAILED_PERMANENT,
                f"no contact for channels {', '.join(payload.get('channels') or [])}",
            )
        results = {
            channel: self._send_one(c, state, payload, channel, to, prefs, critical, now, envelope)
            for channel, to in targets
        }
        return _summary(results, critical)

    def _send_one(
        self,
        c: Compiled,
        state: ProcessState,
        payload: Mapping[str, Any],
        channel: str,
        to: str,
        prefs: Preferences,
        critical: bool,
        now: datetime,
        envelope: Envelope,
    ) -> Delivery:
        """One channel's attempt (its outcome, as if it were the only one)."""
        key = business_key(payload, channel)
        facts: JSON = {"to": mask(to), "business_key": key}
        if self._was_sent(key):
            return Delivery(DeliveryOutcome.SUPERSEDED, "already sent", facts=facts)
        capped = not critical and prefs.daily_cap
        if capped and self._count_since(to, day_start(now, prefs)) >= prefs.daily_cap:
            return Delivery(
                DeliveryOutcome.DEFERRED,
                "daily cap reached",
                retry_at=next_day(now, prefs),
                facts=facts,
            )
        template, lang = str(payload["template"]), prefs.language
        link = self.customer_link(state, now)
        body = self._body(c, state, template, lang)
        message_id = f"{envelope.message_id}.{channel}"
        try:
            if channel == "email":
                mail = render_email(c, state, template, lang, link, body)
                receipt = self.email.send_email(
                    OutgoingEmail(to, mail.subject, mail.text, mail.html, message_id, lang)
                )
                facts["subject"] = mail.subject
            else:
                sms = render_sms(c, state, template, lang, link, body)
                receipt = self.sms.send_sms(OutgoingSms(to, sms.text, message_id))
                facts.update(encoding=sms.encoding, units=sms.units, segments=sms.segments)
        except SendFailed as failure:
            outcome = (
                DeliveryOutcome.FAILED_PERMANENT
                if failure.permanent
                else DeliveryOutcome.FAILED_TRANSIENT
            )
            return Delivery(outcome, failure.reason, facts=facts)
        self._unrecorded[key] = (to, now)
        facts["receipt"] = receipt
        sent = SendRecord(key, to, channel, iso(now))
        return Delivery(DeliveryOutcome.SENT, "sent", facts=facts, sends=(sent,))

    def _body(self, c: Compiled, state: ProcessState, template: str, lang: str) -> str:
        """The notification's sentence, rendered once for the channels of one message (a
        process at one version is one state, so the version names what it says)."""
        made = (state.id, state.version, template, lang)
        if self._last_body[0] != made:
            self._last_body = (made, body_text(c, state, template, lang))
        return self._last_body[1]

    def customer_link(self, state: ProcessState, now: datetime) -> str:
        """A signed link to ``state``'s customer page, valid for the configured days (the
        message's channels share one: signing is kept for the last process and moment)."""
        made = (state.id, state.customer_id, now)
        if self._last_link[0] == made:
            return self._last_link[1]
        expires = now + timedelta(days=self.settings.link_days)
        token = sign_token(self.settings.link_secret, state.id, state.customer_id, expires)
        link = page_link(self.settings.public_base_url, token)
        self._last_link = (made, link)
        return link


def _targets(
    payload: Mapping[str, Any], prefs: Preferences, critical: bool
) -> list[tuple[str, str]]:
    """(channel, address) for each requested channel the customer accepts and has an
    address for; a critical message uses every requested channel the customer can be
    reached on when none they accept is available."""
    requested = [ch for ch in payload.get("channels") or () if prefs.recipient(ch)]
    accepted = [ch for ch in requested if prefs.channels is None or ch in prefs.channels]
    chosen = accepted or (requested if critical else [])
    return [(ch, str(prefs.recipient(ch))) for ch in chosen]


#: Which channel outcome speaks for the whole message, most urgent first: a transient
#: failure is retried (channels already sent are skipped), then a hold, then a success.
_PRECEDENCE = (
    DeliveryOutcome.FAILED_TRANSIENT,
    DeliveryOutcome.DEFERRED,
    DeliveryOutcome.SENT,
    DeliveryOutcome.SUPERSEDED,
    DeliveryOutcome.FAILED_PERMANENT,
)


def _summary(results: dict[str, Delivery], critical: bool) -> Delivery:
    """One delivery for the message from its channels' results."""
    outcomes = {r.outcome for r in results.values()}
    outcome = next(o for o in _PRECEDENCE if o in outcomes)
    retry = [r.retry_at for r in results.values() if r.retry_at is not None]
    detail = "; ".join(f"{ch}: {r.detail}" for ch, r in results.items())
    facts: JSON = {
        "critical": critical,
        "channels": {
            ch: {"outcome": r.outcome.value, "detail": r.detail, **(r.facts or {})}
            for ch, r in results.items()
        },
    }
    retry_at = min(retry) if outcome is DeliveryOutcome.DEFERRED and retry else None
    sends = tuple(send for r in results.values() for send in r.sends)
    return Delivery(outcome, detail, retry_at=retry_at, facts=facts, sends=sends)


def business_key(payload: Mapping[str, Any], channel: str) -> str:
    """What makes two requests the same announcement on ``channel``: the process, the
    template and the dates it announces (or, naming none, the requesting version), and the
    incidents it reports."""
    dates = dict(payload.get("dates") or {})
    what = ",".join(f"{n}={at}" for n, at in sorted(dates.items())) or f"v{payload.get('version')}"
    incidents = ",".join(payload.get("incidents") or ())
    return f"{payload['process_id']}:{payload['template']}:{what}:{incidents}:{channel}"
