"""The deliverer of ``notification.requested``: re-check, hold or send one notification.

At send time the notifier re-reads the process, supersedes a message a later state made
wrong, holds a non-critical one in the customer's quiet hours or over their daily cap
(DEFERRED, with the moment to try again), then renders and sends it on each channel the
notification declares and the customer accepts. Each channel's send is remembered under a
business key (process, template, the dates it announces or the request's version, channel),
so a retry never sends a channel twice and the same announcement is sent once. An access
message (a new link or a one-time code the customer asked for) goes at once, on one
channel (``access_messages``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from relevo.domain.compiled import Compiled
from relevo.domain.model import JSON, ProcessState
from relevo.notify_config import NotifySettings
from relevo.services.catalog import Catalog
from relevo.services.delivery import Delivery, DeliveryOutcome, Envelope
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
from relevo.services.notifications.render import render_email, render_sms

StateReader = Callable[[Iterable[str]], Mapping[str, ProcessState]]


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
    ) -> None:
        """``states`` reads current process states by id (``Hub.states``); ``log``
        remembers what was sent. Raises ValueError without a link secret."""
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

    def deliver(self, envelope: Envelope, now: datetime) -> Delivery:
        """Send the notification ``envelope`` asks for, or say why not (see module doc)."""
        payload = envelope.payload
        state = self.states([envelope.process_id]).get(envelope.process_id)
        if state is None:
            return Delivery(DeliveryOutcome.SUPERSEDED, "the process no longer exists")
        c = self.catalog.get(state.kind, state.definition_version)
        if payload.get("access"):
            channels = Channels(self.email, self.sms, self.log)
            link = self.customer_link(state, now)
            return deliver_access(
                c, state, envelope, channels, secret=self.settings.link_secret, link=link, now=now
            )
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
        if self.log.was_sent(key):
            return Delivery(DeliveryOutcome.SUPERSEDED, "already sent", facts=facts)
        capped = not critical and prefs.daily_cap
        if capped and self.log.count_since(to, day_start(now, prefs)) >= prefs.daily_cap:
            return Delivery(
                DeliveryOutcome.DEFERRED,
                "daily cap reached",
                retry_at=next_day(now, prefs),
                facts=facts,
            )
        template, lang = str(payload["template"]), prefs.language
        link = self.customer_link(state, now)
        message_id = f"{envelope.message_id}.{channel}"
        try:
            if channel == "email":
                mail = render_email(c, state, template, lang, link)
                receipt = self.email.send_email(
                    OutgoingEmail(to, mail.subject, mail.text, mail.html, message_id, lang)
                )
                facts["subject"] = mail.subject
            else:
                sms = render_sms(c, state, template, lang, link)
                receipt = self.sms.send_sms(OutgoingSms(to, sms.text, message_id))
                facts.update(encoding=sms.encoding, units=sms.units, segments=sms.segments)
        except SendFailed as failure:
            outcome = (
                DeliveryOutcome.FAILED_PERMANENT
                if failure.permanent
                else DeliveryOutcome.FAILED_TRANSIENT
            )
            return Delivery(outcome, failure.reason, facts=facts)
        self.log.record(key, to, channel, now)
        facts["receipt"] = receipt
        return Delivery(DeliveryOutcome.SENT, "sent", facts=facts)

    def customer_link(self, state: ProcessState, now: datetime) -> str:
        """A signed link to ``state``'s customer page, valid for the configured days."""
        expires = now + timedelta(days=self.settings.link_days)
        token = sign_token(self.settings.link_secret, state.id, state.customer_id, expires)
        return page_link(self.settings.public_base_url, token)


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
    return Delivery(outcome, detail, retry_at=retry_at, facts=facts)


def business_key(payload: Mapping[str, Any], channel: str) -> str:
    """What makes two requests the same announcement on ``channel``: the process, the
    template and the dates it announces (or, naming none, the requesting version), and the
    incidents it reports."""
    dates = dict(payload.get("dates") or {})
    what = ",".join(f"{n}={at}" for n, at in sorted(dates.items())) or f"v{payload.get('version')}"
    incidents = ",".join(payload.get("incidents") or ())
    return f"{payload['process_id']}:{payload['template']}:{what}:{incidents}:{channel}"
