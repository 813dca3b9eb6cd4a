"""Messages that arrive before the stage that accepts them: parked, then applied or expired.

A back-end message can overtake the one it follows (the donor's confirmation before the
central node's acceptance). When its type is one a later stage reachable from the current
one accepts (``Compiled.awaited_in``), the engine does not ignore it for good: it records a
``message.parked`` fact that keeps the message in ``ProcessState.parked`` with an expiry
(received + time-to-live) and arms the ``park:<key>`` timer for that moment.

After every applied event the engine tries the parked messages again, in arrival order,
against the new state (``settle``): one that now applies becomes its own event (with its
original occurred_at, source and id) and leaves the parked list; one that can no longer
apply (the process ended, or moved past every stage that accepts it) and one whose timer
fires (``expire``) leave it as a ``message.expired`` fact whose effects ask ingest to keep
the message as a dead letter with the reason, so nothing is lost.

Everything here is pure; the time-to-live is a parameter (``RELEVO_PARK_TTL_HOURS``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta

from relevo.domain.compiled import Compiled
from relevo.domain.decision import Decision
from relevo.domain.fold import apply
from relevo.domain.model import (
    EXPIRED,
    PARKED,
    Event,
    Message,
    Outcome,
    ProcessState,
    iso,
    parse_iso,
)
from relevo.domain.shapes import DeadLetterRequest, EventEffects, ParkedMessage

#: How long a parked message waits for its stage unless configured otherwise.
DEFAULT_PARK_TTL = timedelta(hours=72)
#: Prefix of the timer that expires a parked message (``park:<key>``).
PARK_TIMER = "park"
#: Ends the reason of every dead letter of a parked message: its id was received once (it
#: waited on the process), so replaying it under that id can only be a duplicate.
LET_GO = "(received, waited for its stage, then let go)"

#: The reason code a parked message is answered with (its outcome is ``accepted``).
PARKED_CODE = "parked"

#: Decides a message against a state without parking it (the engine's own ``decide``).
DecideNow = Callable[[Compiled, ProcessState, Message, datetime], Decision]


def can_wait(c: Compiled, state: ProcessState, message_type: str) -> bool:
    """Whether a later stage reachable from the current one accepts ``message_type``."""
    return state.active and message_type in c.awaited_in(state.stage)


def park(
    state: ProcessState, message: Message, now: datetime, ttl: timedelta, detail: str
) -> Decision:
    """The ``message.parked`` fact keeping ``message`` on ``state`` until ``now + ttl``
    (``state`` is only read); answered ``accepted`` with reason code ``parked``."""
    key = str(state.version + 1)
    expires_at = iso(now + ttl)
    entry: ParkedMessage = {
        "key": key,
        "type": message.type,
        "data": dict(message.data),
        "occurred_at": iso(message.occurred_at),
        "received_at": iso(now),
        "expires_at": expires_at,
        "source": message.source,
        "message_id": message.id,
        "actor": message.actor,
        "channel": message.channel,
    }
    reason = f"{detail}; kept waiting until {expires_at}"
    event = Event(
        type=PARKED,
        occurred_at=entry["occurred_at"],
        recorded_at=entry["received_at"],
        actor=message.actor,
        channel=message.channel,
        data={
            "type": message.type,
            "key": key,
            "reason_code": PARKED_CODE,
            "reason": reason,
            "expires_at": expires_at,
            "data": dict(message.data),
        },
        effects={"parked": {"add": entry}, "timers": {"set": {timer_name(key): expires_at}}},
        source=message.source,
        message_id=message.id,
    )
    return Decision(Outcome.ACCEPTED, [event], reason=reason, reason_code=PARKED_CODE)


def timer_name(key: str) -> str:
    """The name of the timer that expires the parked message ``key``."""
    return f"{PARK_TIMER}:{key}"


def expire(
    state: ProcessState,
    key: str,
    now: datetime,
    code: str,
    reason: str,
    cause: Message | None = None,
) -> Event | None:
    """The ``message.expired`` fact letting go of parked message ``key`` (``None`` when it
    is not parked): it leaves the state and ingest keeps it as a dead letter with ``reason``.
    ``cause`` is the timer message that expired it, if one did."""
    entry = next((e for e in state.parked if e["key"] == key), None)
    if entry is None:
        return None
    effects: EventEffects = {
        "parked": {"remove": [key]},
        "dead_letter": _dead_letter(state, entry, f"{code}: {reason} {LET_GO}"),
    }
    if timer_name(key) in state.timers:
        effects["timers"] = {"cancel": [timer_name(key)]}
    stamp = iso(now)
    return Event(
        type=EXPIRED,
        occurred_at=stamp,
        recorded_at=stamp,
        actor="system",
        channel="timer" if cause is not None else "system",
        data={
            "type": entry["type"],
            "key": key,
            "reason_code": code,
            "reason": reason,
            "source": entry["source"],
            "message_id": entry["message_id"],
        },
        effects=effects,
        source=cause.source if cause is not None else None,
        message_id=cause.id if cause is not None else None,
    )


def _dead_letter(state: ProcessState, entry: ParkedMessage, reason: str) -> DeadLetterRequest:
    """The parked message as the CloudEvent it came as, addressed to its process."""
    return {
        "source": entry["source"] or "",
        "message_id": entry["message_id"],
        "type": entry["type"],
        "payload": {
            "specversion": "1.0",
            "id": entry["message_id"],
            "source": entry["source"],
            "type": entry["type"],
            "subject": state.id,
            "time": entry["occurred_at"],
            "data": entry["data"],
            "relevoactor": entry["actor"],
            "relevochannel": entry["channel"],
        },
        "reason": reason,
    }


def settle(
    c: Compiled, state: ProcessState, events: list[Event], now: datetime, decide_now: DecideNow
) -> list[Event]:
    """The events that follow ``events`` for the messages parked on ``state``: each parked
    message that applies once ``events`` (and the follow-ups before it) are applied, and each
    that no longer can. ``state`` is only read; the result is empty when nothing is parked."""
    if not state.parked or not events:
        return []
    trial = ProcessState.from_json(copy.deepcopy(state.to_json()))
    for each in events:
        apply(trial, each)
    follow_ups: list[Event] = []
    moved = True
    while moved and trial.parked:
        moved = False
        # Arrival order, from the oldest again after every change: the state moved on.
        for entry in trial.parked:
            follow_up = _retry(c, trial, entry, now, decide_now)
            if follow_up is not None:
                apply(trial, follow_up)
                follow_ups.append(follow_up)
                moved = True
                break
    return follow_ups


def _retry(
    c: Compiled, state: ProcessState, entry: ParkedMessage, now: datetime, decide_now: DecideNow
) -> Event | None:
    """What parked ``entry`` leads to in ``state``: its event, its expiry, or ``None``
    while it keeps waiting."""
    key = entry["key"]
    if not state.active:
        return expire(
            state, key, now, "process_finished", f"process {state.id} ended ({state.status})"
        )
    if not _accepted_in(c, state.stage, entry["type"]):
        if can_wait(c, state, entry["type"]):
            return None
        return expire(
            state,
            key,
            now,
            "no_longer_expected",
            f"{entry['type']} is no longer expected: the process is in stage {state.stage!r}",
        )
    decision = decide_now(c, state, _message(entry), now)
    if decision.outcome is Outcome.ACCEPTED and decision.events:
        event = decision.events[0]
        _release(state, event, key)
        return event
    if decision.outcome is Outcome.IGNORED and can_wait(c, state, entry["type"]):
        return None
    return expire(
        state, key, now, decision.reason_code or "not_applied", decision.reason or "not applied"
    )


def _accepted_in(c: Compiled, stage: str, message_type: str) -> bool:
    return any(
        stage in transition.from_ or "*" in transition.from_
        for _, transition in c.transitions.get(message_type, ())
    )


def _release(state: ProcessState, event: Event, key: str) -> None:
    """Make ``event`` (the parked message applied) also take it off the parked list."""
    effects = event.effects
    effects["parked"] = {"remove": [key]}
    name = timer_name(key)
    if name in state.timers:
        plan = effects.setdefault("timers", {})
        if name not in plan.get("cancel", ()):
            plan["cancel"] = [*plan.get("cancel", ()), name]


def _message(entry: ParkedMessage) -> Message:
    return Message(
        type=entry["type"],
        data=entry["data"],
        occurred_at=parse_iso(entry["occurred_at"]),
        source=entry["source"] or "",
        id=entry["message_id"] or "",
        actor=entry["actor"],
        channel=entry["channel"],
    )
