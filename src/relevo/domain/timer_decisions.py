"""Deciding what a timer falling due means: an SLA breach, a reminder or a deadline.

A ``timer.fired`` message counts only while the process still has that timer armed at
that due moment; otherwise it is a stale timer, recorded as ignored. One that comes before
its due moment is refused: a timer never fires early.
"""

from __future__ import annotations

from datetime import datetime

from relevo.domain import parking
from relevo.domain.compiled import Compiled
from relevo.domain.decision import Decision, ignored, rejected
from relevo.domain.effects import build
from relevo.domain.errors import EffectError
from relevo.domain.model import (
    TIMER_FIRED,
    Event,
    Message,
    Outcome,
    ProcessState,
    iso,
    parse_iso,
)
from relevo.domain.outbox import notification_message
from relevo.domain.shapes import EventEffects


def decide_timer(c: Compiled, state: ProcessState, message: Message, now: datetime) -> Decision:
    """What the ``timer.fired`` ``message`` means for ``state`` at ``now`` (state only read)."""
    name = message.data.get("name")
    due = message.data.get("due")
    if not isinstance(name, str) or not name or not isinstance(due, str) or not due:
        # Without both, an unarmed timer would match (None == None) and fire for nothing.
        return rejected(
            f"{TIMER_FIRED} needs data fields name and due (as armed in the process)",
            "missing_data",
        )
    if not state.active or state.timers.get(name) != due:
        return ignored(
            state,
            message,
            now,
            "stale_timer",
            f"timer {name!r} is no longer armed for this process",
        )
    if parse_iso(due) > now:
        return rejected(
            f"timer {name!r} is due at {due}, not yet: a timer fires only once its moment has come",
            "timer_not_due",
        )
    kind, _, ref = name.partition(":")
    if kind == parking.PARK_TIMER:
        expired = parking.expire(
            state,
            ref,
            now,
            "park_expired",
            f"the process did not reach a stage that accepts it before {due}",
            message,
        )
        return Decision(Outcome.ACCEPTED, [expired] if expired else [])
    version = state.version + 1
    effects: EventEffects
    if kind == "sla":
        event_type = "sla.breached"
        effects = _sla_breach(state, name, ref, due, version)
    elif kind == "notify":
        event_type = "reminder.due"
        effects = {
            "outbox": [notification_message(c, state, ref, version)],
            "timers": {"cancel": [name]},
        }
    else:
        event_type = f"deadline.{ref}"
        try:
            effects = _deadline(c, state, name, ref, now, version, event_type)
        except EffectError as error:
            return rejected(str(error), "invalid_data")
    stamp = iso(now)
    event = Event(
        type=event_type,
        occurred_at=stamp,
        recorded_at=stamp,
        actor="system",
        channel="timer",
        data={"timer": name, "due": due},
        effects=effects,
        source=message.source,
        message_id=message.id,
    )
    return Decision(Outcome.ACCEPTED, [event])


def _sla_breach(state: ProcessState, name: str, stage: str, due: str, version: int) -> EventEffects:
    return {
        "attributes": {f"sla_breached_{stage}": due},
        "outbox": [
            {
                "topic": "sla.breached",
                "key": f"{state.id}:{version}:sla:{stage}",
                "payload": {
                    "process_id": state.id,
                    "kind": state.kind,
                    "stage": stage,
                    "due": due,
                },
            }
        ],
        "timers": {"cancel": [name]},
    }


def _deadline(
    c: Compiled,
    state: ProcessState,
    name: str,
    timer_id: str,
    now: datetime,
    version: int,
    event_type: str,
) -> EventEffects:
    """The effects of the definition's deadline ``timer_id``; the timer that fired is
    cancelled unless those effects arm it again."""
    timer = next(t for t in c.definition.timers if t.id == timer_id)
    effects = build(
        c,
        state,
        timer.then,
        now=now,
        occurred_at=now,
        data={},
        params={},
        label_ref=f"x:{timer_id}",
        version=version,
        event_type=event_type,
    )
    armed = effects.setdefault("timers", {})
    if name not in armed.get("set", {}):
        cancel = armed.setdefault("cancel", [])
        if name not in cancel:
            cancel.append(name)
    return effects
