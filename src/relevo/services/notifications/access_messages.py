"""The notifier's part of access messages (``relevo.services.access.messages``): a new link
or a one-time code, sent at once to the contact on file.

They skip quiet hours and the daily cap — the customer asked and is waiting on the page —
and the re-checks of ordinary notifications. (A code that arrives late is refused when
typed: whether it expired is judged by the clock of the pages, not the worker's.) The code
is derived only now (``codes.code_for``), and no record keeps it: the facts name the
channel and the masked address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from relevo.domain.compiled import Compiled
from relevo.domain.model import ProcessState, iso
from relevo.services.access.codes import CODE_LIFETIME, code_for
from relevo.services.access.messages import CODE, reach
from relevo.services.delivery import Delivery, DeliveryOutcome, Envelope
from relevo.services.delivery_records import SendRecord
from relevo.services.notifications.policy import mask
from relevo.services.notifications.ports import (
    EmailSender,
    OutgoingEmail,
    OutgoingSms,
    SendFailed,
    SmsSender,
)
from relevo.services.notifications.render import LABELS, RenderedEmail, environment

#: How the message id of every access message starts (the demo prints those it sends).
ACCESS_MESSAGE_PREFIX = "access."

#: The words of access messages: (Spanish, English).
WORDS: dict[str, tuple[str, str]] = {
    "code_subject": ("Tu código para confirmar", "Your code to confirm"),
    "code_text": (
        "Tu código es {code}. Sirve una sola vez y caduca en {minutes} minutos. "
        "No lo compartas: nunca te lo pediremos.",
        "Your code is {code}. It works once and expires in {minutes} minutes. "
        "Do not share it: we will never ask you for it.",
    ),
    "link_subject": ("Tu nuevo enlace", "Your new link"),
    "link_text": (
        "Nos has pedido un nuevo enlace para ver tu trámite. Si no has sido tú, ignora "
        "este mensaje.",
        "You asked for a new link to see your request. If it was not you, ignore this message.",
    ),
}


@dataclass(frozen=True, slots=True)
class Channels:
    """Where access messages leave: the notifier's senders, and whether a business key
    was sent already (its send log, with the sends not recorded yet)."""

    email: EmailSender
    sms: SmsSender
    was_sent: Callable[[str], bool]


def deliver_access(
    c: Compiled,
    state: ProcessState,
    envelope: Envelope,
    channels: Channels,
    *,
    secret: str,
    link: str,
    now: datetime,
) -> Delivery:
    """Send the access message ``envelope`` carries for ``state`` (``link``: a fresh
    link to its page); never raises for a delivery failure."""
    payload = envelope.payload
    if payload.get("customer_id") != state.customer_id:
        return Delivery(DeliveryOutcome.SUPERSEDED, "the process changed hands")
    is_code = payload.get("access") == CODE
    where = reach(state.attributes, str(payload["channel"]) if is_code else None)
    if where is None:
        return Delivery(DeliveryOutcome.FAILED_PERMANENT, "no contact on file")
    channel, to = where
    key = f"access:{envelope.message_id}:{channel}"
    facts: dict[str, Any] = {"to": mask(to), "channel": channel, "access": payload["access"]}
    if channels.was_sent(key):
        return Delivery(DeliveryOutcome.SUPERSEDED, "already sent", facts=facts)
    lang = "en" if payload.get("language") == "en" else "es"
    code = code_for(secret, str(payload["code_id"])) if is_code else None
    message_id = f"{ACCESS_MESSAGE_PREFIX}{envelope.message_id}.{channel}"
    try:
        if channel == "sms":
            text = _sms(lang, code, link)
            receipt = channels.sms.send_sms(OutgoingSms(to, text, message_id))
        else:
            mail = _email(c, state, lang, code, link)
            receipt = channels.email.send_email(
                OutgoingEmail(to, mail.subject, mail.text, mail.html, message_id, lang)
            )
    except SendFailed as failure:
        outcome = (
            DeliveryOutcome.FAILED_PERMANENT
            if failure.permanent
            else DeliveryOutcome.FAILED_TRANSIENT
        )
        return Delivery(outcome, failure.reason, facts=facts)
    sent = SendRecord(key, to, channel, iso(now))
    return Delivery(
        DeliveryOutcome.SENT, "sent", facts={**facts, "receipt": receipt}, sends=(sent,)
    )


def words(lang: str) -> Mapping[str, str]:
    """The access messages' words in ``lang``."""
    index = 1 if lang == "en" else 0
    minutes = str(int(CODE_LIFETIME.total_seconds() // 60))
    return {key: pair[index].replace("{minutes}", minutes) for key, pair in WORDS.items()}


def _sms(lang: str, code: str | None, link: str) -> str:
    said = words(lang)
    if code is not None:
        return said["code_text"].replace("{code}", code)
    return f"{said['link_text']} {link}"


def _email(
    c: Compiled, state: ProcessState, lang: str, code: str | None, link: str
) -> RenderedEmail:
    said = words(lang)
    subject = said["code_subject" if code is not None else "link_subject"]
    body = said["code_text"].replace("{code}", code) if code is not None else said["link_text"]
    context = {
        "lang": lang,
        "labels": LABELS[lang],
        "subject": subject,
        "body": body,
        "link": link,
        "code": code,
        "reference": state.id,
        "title": c.definition.title.get(lang),
    }
    env = environment()
    name = "access_code" if code is not None else "notification"
    html = env.get_template(f"{name}.html").render(context)
    text = env.get_template(f"{name}.txt").render(context)
    return RenderedEmail(subject, text, html)
