"""The outbox part of an event's effects: integration messages and notification requests.

Every message carries a ``key`` unique per process, version and topic (or template), on which
receivers deduplicate.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from relevo.domain.compiled import Compiled
from relevo.domain.definitions import Effects
from relevo.domain.guards import guard_holds
from relevo.domain.model import ProcessState
from relevo.domain.shapes import EventEffects, OutboxMessage

NOTIFICATION_TOPIC = "notification.requested"


def outbox_messages(
    c: Compiled,
    state: ProcessState,
    preview: ProcessState,
    spec: Effects,
    effects: EventEffects,
    event_type: str,
    version: int,
    params: Mapping[str, Any],
    now: datetime,
) -> list[OutboxMessage]:
    """The topics ``spec`` emits, then the notifications it asks for or that its stage and
    event type trigger, whose guards hold on ``preview`` (the state as it will be)."""
    messages: list[OutboxMessage] = []
    for topic in spec.emit:
        messages.append(
            {
                "topic": topic,
                "key": f"{state.id}:{version}:{topic}",
                "payload": {
                    "process_id": state.id,
                    "kind": state.kind,
                    "subject": state.subject,
                    "keys": {**state.keys, **effects.get("keys", {})},
                    "params": dict(params),
                    "event_type": event_type,
                },
            }
        )
    templates = [*spec.notify, *c.triggered_templates(effects.get("stage"), event_type)]
    guards = c.template_guards
    templates = [t for t in templates if t not in guards or guard_holds(c, guards[t], preview, now)]
    opened = list(effects.get("incidents_opened", ()))
    for template in dict.fromkeys(templates):
        messages.append(notification_message(c, preview, template, version, opened))
    return messages


def notification_message(
    c: Compiled,
    state: ProcessState,
    template: str,
    version: int,
    incidents: list[str] | None = None,
) -> OutboxMessage:
    """The outbox entry that asks the notifier to send ``template`` for ``state``.

    Besides what to send, the payload keeps what the message is true of, so that the
    notifier can tell at send time whether a later state made it wrong: the process version
    and status, its stage, the moments of the dates the template names and the incidents
    the requesting event opened.
    """
    declared = c.template_channels.get(template)
    channels = list(declared) if declared is not None else ["sms", "email"]
    dates = state.dates
    return {
        "topic": NOTIFICATION_TOPIC,
        "key": f"{state.id}:{version}:notify:{template}",
        "payload": {
            "process_id": state.id,
            "kind": state.kind,
            "customer_id": state.customer_id,
            "template": template,
            "channels": channels,
            "language": state.language,
            "version": version,
            "definition_version": state.definition_version,
            "status": state.status,
            "stage": state.stage,
            "dates": {
                name: dates[name]["at"]
                for name in c.template_dates.get(template, ())
                if name in dates
            },
            "incidents": incidents or [],
        },
    }
