"""The world's exchange with relevo: what one wave sends through the port (starts, a batch
of events and due timers, actions) and what comes back (states, integration messages).

``Exchange`` is the part of ``World`` that talks to the port; it counts every answer in the
run's ``Stats`` and queues the continuations the answers call for.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from relevo.domain.model import JSON, Action, ProcessState, parse_iso
from relevo.services.processes import StartRequest
from relevo.simulate.case import Case
from relevo.simulate.envelopes import act_line, start_line
from relevo.simulate.ports.base import ActOp, EventOp, Port, StartOp, TimerOp
from relevo.simulate.schedule import Act, Fire, Item, Recorder, Result, Send, Stats, Then

if TYPE_CHECKING:
    from relevo.simulate.kinds.base import Flow

#: Continuations to call once a wave's answers are in.
Follow = list[tuple[Then, Case, Result]]


class Exchange:
    """Sends a wave's operations to ``port`` and takes in its feedback (a ``World`` part)."""

    port: Port
    stats: Stats
    record: Recorder | None
    cases: dict[int, Case]
    states: dict[int, ProcessState]
    flows: dict[str, Flow]
    now: datetime
    _armed: set[tuple[int, str, str]]

    def _push(self, at: datetime, item: Item) -> None:
        raise NotImplementedError

    def _next_id(self) -> str:
        raise NotImplementedError

    def _clock(self, at: datetime) -> datetime:
        if at > self.now:
            self.now = at
        return self.now

    def _start(self, case: Case, now: datetime, follow: Follow) -> None:
        flow = self.flows[case.kind]
        request = StartRequest(
            kind=case.kind,
            customer_id=case.customer.id,
            subject=case.subject,
            keys=dict(case.keys),
            attributes=_with_contact(case),
            language=case.customer.language,
            channel=flow.start_channel(case),
            actor=flow.start_actor(case),
            timezone=case.customer.timezone,
        )
        line = start_line(self._next_id(), request, now)
        error = self.port.start(StartOp(case, now, request, line), now)
        if error is not None:
            case.stopped = True
            self.stats.start_failures[f"{case.kind}: {error}"] += 1
            return
        self.stats.started[case.kind] += 1
        if self.record is not None:
            self.record(line)
        follow.append((lambda c, _r: flow.begin(c), case, Result(True, "started", None, now)))

    def _deliver(self, batch: list[tuple[datetime, Send | Fire]], follow: Follow) -> None:
        ops: list[EventOp | TimerOp] = []
        items: list[Send | Fire] = []
        for at, item in batch:
            if isinstance(item, Fire):
                state = self.states.get(item.case.index)
                if state is None or not state.active or state.timers.get(item.name) != item.due:
                    continue  # cancelled or re-armed meanwhile: a worker would skip it too
                ops.append(TimerOp(item.case, at, item.name, item.due))
            else:
                ops.append(EventOp(item.case, at, item.envelope))
            items.append(item)
        if not ops:
            return
        now = self._clock(max(op.at for op in ops))
        results = self.port.deliver(ops, now)
        self.stats.batches += 1
        for item, result in zip(items, results, strict=True):
            kind = item.case.kind if item.case is not None else "-"
            if isinstance(item, Fire):
                if result.outcome == "accepted":
                    self.stats.timers[(kind, item.name.partition(":")[0])] += 1
                continue
            if self.record is not None:
                self.record(item.envelope)
            event_type = str(item.envelope["type"])
            self.stats.events[kind] += 1
            self.stats.outcomes[result.outcome] += 1
            if result.outcome == "ignored":
                self.stats.ignored[(kind, event_type, result.reason_code or "")] += 1
            elif result.outcome == "rejected":
                self.stats.rejected[(kind, event_type, result.reason_code or "")] += 1
            if item.then is not None and item.case is not None:
                ok = result.outcome == "accepted"
                follow.append(
                    (item.then, item.case, Result(ok, result.outcome, result.reason_code, now))
                )

    def _act(self, item: Act, now: datetime, follow: Follow) -> None:
        case = item.case
        by_agent = case.customer.by_agent if item.agent is None else item.agent
        request_id = self._next_id()
        action = Action(
            control=item.control,
            params=item.params,
            actor=(case.customer.agent or "agt_backoffice_001") if by_agent else case.customer.id,
            channel=case.customer.channel,
            role="agent" if by_agent else "customer",
            request_id=request_id,
        )
        line = act_line(request_id, case.kind, {case.subject_key: case.subject}, action, now)
        refusal = self.port.act(ActOp(case, now, action, line), now)
        if self.record is not None:
            self.record(line)
        if refusal is None:
            self.stats.actions[(case.kind, item.control)] += 1
        else:
            self.stats.refused[(case.kind, item.control, refusal)] += 1
        if item.then is not None:
            outcome = "done" if refusal is None else "refused"
            follow.append((item.then, case, Result(refusal is None, outcome, refusal, now)))

    def _absorb(self) -> None:
        feedback = self.port.collect()
        for index in sorted(feedback.states):  # a stable order whatever the port returns
            state = feedback.states[index]
            self.states[index] = state
            if not state.active:
                continue
            case = self.cases[index]
            for name, due in state.timers.items():
                key = (index, name, due)
                if key not in self._armed:
                    self._armed.add(key)
                    self._push(max(parse_iso(due), self.now), Fire(case, name, due))
        for index, topic, payload in feedback.messages:
            case = self.cases[index]
            handled = self.flows[case.kind].on_message(case, topic, payload)
            counter = self.stats.answered if handled else self.stats.unanswered
            counter[(case.kind, topic)] += 1


def _with_contact(case: Case) -> JSON:
    """The case's attributes, with the customer's mobile on file as the CRM would send it
    (notifications, new links and one-time codes go there)."""
    phone = case.customer.phone
    return {"contact_phone": phone, **case.attributes} if phone else dict(case.attributes)
