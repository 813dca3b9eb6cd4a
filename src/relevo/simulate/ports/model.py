"""relevo as its own pure engine, in memory: the port behind JSONL files (and HTTP runs).

The world needs to know what relevo would do with each message — which stage a process
reaches, which timers it arms, which integration messages it emits — even when nothing
real is on the other side (writing a file) or when the other side cannot tell it (a remote
server). ``ModelPort`` runs the same ``relevo.domain.engine`` the hub runs, on the same
catalog, with the same validation of each CloudEvent (``parse_event``) and the same
deduplication, so its answers are the hub's answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from relevo.domain import engine
from relevo.domain.errors import ActionRefused, InvalidStart, UnknownControl
from relevo.domain.model import JSON, TERMINAL_STATUSES, Event, Message, Outcome, ProcessState
from relevo.domain.model import parse_iso as parse_moment
from relevo.domain.shapes import key_values, new_key_pairs
from relevo.services import reserved, timer_messages
from relevo.services.catalog import Catalog
from relevo.services.cloudevents import Invalid, parse_event
from relevo.services.inbound import CONFLICTING_DUPLICATE, content_digest
from relevo.simulate.ports.base import (
    NOTIFICATION_TOPIC,
    ActOp,
    Delivered,
    EventOp,
    Feedback,
    StartOp,
    TimerOp,
)

#: The source of the timers relevo fires (``relevo.services.timer_messages``).
TIMER_SOURCE = timer_messages.TIMER_SOURCE


class ModelPort:
    """The engine in memory; process ids are ``<prefix><case index>``."""

    def __init__(self, catalog: Catalog, *, prefix: str = "sim_") -> None:
        self.catalog = catalog
        self.prefix = prefix
        self.states: dict[int, ProcessState] = {}
        self._feedback = Feedback()
        #: Messages received: (source, id) -> content digest (None for timers).
        self._seen: dict[tuple[str, str], str | None] = {}
        #: Active correlation keys: (kind, name, value) -> case index.
        self._keys: dict[tuple[str, str, str], int] = {}

    def start(self, op: StartOp, now: datetime) -> str | None:
        request = op.request
        compiled = self.catalog.latest(request.kind)
        keys = {compiled.definition.subject.key: request.subject, **request.keys}
        for name, value in new_key_pairs({}, keys):
            holder = self._keys.get((request.kind, name, value))
            if holder is not None:
                return f"key_in_use: {name}={value}"
        try:
            state, event = engine.start(
                compiled,
                process_id=f"{self.prefix}{op.case.index}",
                customer_id=request.customer_id,
                subject=request.subject,
                language=request.language,
                channel=request.channel,
                actor=request.actor,
                attributes=request.attributes,
                keys=request.keys,
                now=now,
                timezone=request.timezone,
            )
        except InvalidStart as error:
            return f"invalid_start: {error}"
        op.case.process_id = state.id
        self.states[op.case.index] = state
        self._recorded(op.case.index, state, [event])
        return None

    def deliver(self, ops: Sequence[EventOp | TimerOp], now: datetime) -> list[Delivered]:
        results: list[Delivered] = []
        for op in ops:
            results.append(self._one(op, now))
        return results

    def _one(self, op: EventOp | TimerOp, now: datetime) -> Delivered:
        index = op.case.index if op.case is not None else None
        state = self.states.get(index) if index is not None else None
        if isinstance(op, TimerOp):
            if state is None:
                return Delivered(Outcome.REJECTED.value, "unknown_process")
            if not state.active or state.timers.get(op.name) != op.due:
                # As relevo's worker: a timer its process no longer has armed is skipped.
                return Delivered(Outcome.IGNORED.value, timer_messages.TIMER_MOVED_ON)
            message = Message(
                type=engine.TIMER_FIRED,
                data={"name": op.name, "due": op.due},
                occurred_at=parse_moment(op.due),
                source=TIMER_SOURCE,
                id=timer_messages.timer_message_id(state.id, op.name, op.due),
                actor="system",
                channel="timer",
            )
            digest = None
        else:
            inbound = parse_event(op.envelope, lambda: now)
            if isinstance(inbound, Invalid):
                return Delivered(Outcome.REJECTED.value, "invalid_cloudevent")
            if reserved.refusal(inbound.source, inbound.type) is not None:
                return Delivered(Outcome.REJECTED.value, reserved.REASON_CODE)
            digest = content_digest(inbound)
            key = (inbound.source, inbound.id)
            if key in self._seen:
                same = self._seen[key] in (None, digest)
                code = "duplicate" if same else CONFLICTING_DUPLICATE
                return Delivered(Outcome.DUPLICATE.value, code)
            if state is None or not _names(inbound.data, state):
                return Delivered(Outcome.REJECTED.value, "unknown_process")
            message = Message(
                type=inbound.type,
                data=inbound.data,
                occurred_at=inbound.occurred_at,
                source=inbound.source,
                id=inbound.id,
                actor=inbound.actor,
                channel=inbound.channel,
            )
        assert index is not None and state is not None
        compiled = self.catalog.get(state.kind, state.definition_version)
        decision = engine.decide(compiled, state, message, now)
        if decision.outcome is Outcome.REJECTED:
            return Delivered(decision.outcome.value, decision.reason_code)
        self._seen[(message.source, message.id)] = digest
        for event in decision.events:
            engine.apply(state, event)
        self._recorded(index, state, decision.events)
        return Delivered(decision.outcome.value, decision.reason_code)

    def act(self, op: ActOp, now: datetime) -> str | None:
        state = self.states.get(op.case.index)
        if state is None:
            return "not_found"
        compiled = self.catalog.get(state.kind, state.definition_version)
        try:
            event = engine.decide_action(compiled, state, op.action, now)
        except ActionRefused as refused:
            return refused.code
        except UnknownControl:
            return "unknown_control"
        events = [event, *engine.settle(compiled, state, [event], now)]
        for each in events:
            engine.apply(state, each)
        self._recorded(op.case.index, state, events)
        return None

    def _recorded(self, index: int, state: ProcessState, events: list[Event]) -> None:
        self._feedback.states[index] = state
        for event in events:
            effects = event.effects
            for message in effects.get("outbox", ()):
                if message["topic"] != NOTIFICATION_TOPIC:
                    self._feedback.messages.append((index, message["topic"], message["payload"]))
            for name, value in effects.get("keys", {}).items():
                for each in key_values(value):
                    self._keys[(state.kind, name, each)] = index
            if effects.get("status") in TERMINAL_STATUSES:
                for name, value in state.keys.items():
                    for each in key_values(value):
                        self._keys.pop((state.kind, name, each), None)

    def collect(self) -> Feedback:
        feedback, self._feedback = self._feedback, Feedback()
        return feedback

    def final_states(self) -> dict[int, ProcessState]:
        return dict(self.states)

    def close(self) -> None:
        return None


def _names(data: JSON, state: ProcessState) -> bool:
    """True when ``data`` carries one of the process's correlation keys (how the hub finds
    it); a flow that forgot the key would be caught here as in production."""
    return any(data.get(name) in key_values(value) for name, value in state.keys.items())
