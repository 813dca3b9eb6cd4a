"""The simulated world: customers, back-end parties and a simulated clock around relevo.

A ``World`` is a discrete-event simulation. Flows (one per process kind, ``relevo.simulate
.kinds``) schedule what happens when — process starts, back-end CloudEvents, customer
actions — and react to what relevo does: the integration messages it writes to its outbox
(a postponement request, a cancellation…) and the state each process reaches. Everything it
draws comes from seeded generators (one per case), so a run is a pure function of the seed,
the configuration, the catalog and the reference moment.

Operations run in *windows* of simulated time (``run.gather_minutes``): within a window the
back-end events and due timers of all processes go to relevo as one batch, while each
process's own operations keep their order (start, then events, then actions). Between
windows the port reports what changed and the world reacts.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from relevo.domain.model import JSON, Action, ProcessState, parse_iso
from relevo.services.catalog import Catalog
from relevo.services.processes import StartRequest
from relevo.simulate import people
from relevo.simulate.case import Case, Customer
from relevo.simulate.config import SimConfig
from relevo.simulate.draws import chance, pick, poisson, quota
from relevo.simulate.envelopes import ACT_TYPE, START_TYPE, cloudevent
from relevo.simulate.hours import Hours
from relevo.simulate.ports.base import ActOp, EventOp, Port, StartOp, TimerOp

if TYPE_CHECKING:
    from relevo.simulate.kinds.base import Flow

Recorder = Callable[[JSON], None]


@dataclass
class Result:
    """What became of a scheduled operation, handed to its continuation."""

    ok: bool
    outcome: str
    code: str | None
    at: datetime


Then = Callable[[Case, Result], None]


@dataclass
class _Start:
    case: Case


@dataclass
class _Send:
    case: Case | None
    envelope: JSON
    then: Then | None


@dataclass
class _Act:
    case: Case
    control: str
    params: JSON
    then: Then | None
    agent: bool | None


@dataclass
class _Fire:
    case: Case
    name: str
    due: str


@dataclass
class _Call:
    case: Case
    fn: Callable[[Case], None]


@dataclass
class _Tick:
    """Live arrivals for the coming simulated hour."""

    case: None = None


_Item = _Start | _Send | _Act | _Fire | _Call | _Tick
_PHASE: dict[type, int] = {_Start: 0, _Send: 1, _Fire: 1, _Act: 2, _Call: 3}


@dataclass
class Stats:
    """Counters of one run, by process kind where it matters."""

    started: Counter[str] = field(default_factory=Counter)
    start_failures: Counter[str] = field(default_factory=Counter)
    events: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    ignored: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    rejected: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    actions: Counter[tuple[str, str]] = field(default_factory=Counter)
    refused: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    timers: Counter[tuple[str, str]] = field(default_factory=Counter)
    answered: Counter[tuple[str, str]] = field(default_factory=Counter)
    unanswered: Counter[tuple[str, str]] = field(default_factory=Counter)
    batches: int = 0
    strays: int = 0
    duplicates: int = 0


class World:
    """Cases, the queue of what happens when, and the flows that write it.

    ``start`` is where the simulated clock begins. Operations go to ``port``; when
    ``record`` is given, every start, event and action is also passed to it as the line a
    JSONL file would hold (timers are relevo's own and are not recorded).
    """

    def __init__(
        self,
        *,
        config: SimConfig,
        catalog: Catalog,
        port: Port,
        seed: int,
        start: datetime,
        run_tag: str = "",
        record: Recorder | None = None,
    ) -> None:
        from relevo.simulate.kinds import FLOWS

        self.config = config
        self.catalog = catalog
        self.port = port
        self.seed = seed
        self.run_tag = run_tag
        self.record = record
        self.now = start
        self.hours = Hours(config)
        self.unique = people.Unique()
        run = config.section("run")
        self.gather = timedelta(minutes=run.number("gather_minutes"))
        self.batch_limit = run.integer("batch_limit")
        self.duplicate_share = run.share("duplicate_share")
        self.english_share = run.share("english_share")
        self.canary_share = run.share("canary_share")
        self.rng = random.Random(f"relevo-sim:{seed}:{run_tag}")
        self.stats = Stats()
        self.cases: dict[int, Case] = {}
        self.states: dict[int, ProcessState] = {}
        self.mix = config.weights("mix")
        known = {compiled.kind for compiled in catalog.all()}
        self.flows: dict[str, Flow] = {}
        self.unsimulated = sorted(known - set(FLOWS))
        for kind in self.mix:
            if self.mix[kind] <= 0:
                continue
            if kind not in FLOWS:
                raise ValueError(f"mix.{kind}: the simulator has no flow for this kind")
            if kind in known:
                self.flows[kind] = FLOWS[kind](self)
        self._queue: list[tuple[datetime, int, _Item]] = []
        self._seq = 0
        self._ids = 0
        self._armed: set[tuple[int, str, str]] = set()
        self._live_rate = 0.0
        #: Where the current run is headed (for progress reports); None while open-ended.
        self.horizon: datetime | None = None

    # -- planning ----------------------------------------------------------------------------
    def plan(
        self,
        processes: int,
        start: datetime,
        end: datetime,
        *,
        history: bool,
        days: float | None = None,
    ) -> None:
        """Draw ``processes`` cases, split by ``mix``, whose processes start before ``end``.

        In ``history`` mode each kind's starts spread over the ``days`` before ``end``
        (default ``kinds.<kind>.window_days``; ``start`` is ignored), and the coverage cases
        each flow asks for (one per incident and per stage that could otherwise be empty)
        come first, placed at the age their story needs to have happened by ``end``.
        Otherwise starts spread over ``[start, end)``.
        """
        counts = quota({k: self.mix[k] for k in self.flows}, processes)
        for kind, count in counts.items():
            flow = self.flows[kind]
            window = timedelta(days=days if days is not None else flow.cfg.number("window_days"))
            begin = end - window if history else start
            forced = flow.coverage()
            for n in range(count):
                fate = dict(forced[n]) if n < len(forced) else None
                lo, hi = begin, end
                ages = fate.pop("age_days", None) if fate else None
                if history and ages is not None:
                    lo = max(begin, end - timedelta(days=float(ages[1])))
                    hi = max(lo + timedelta(minutes=1), end - timedelta(days=float(ages[0])))
                elif hi <= lo:
                    hi = lo + timedelta(minutes=1)
                self.new_case(kind, lo, hi, fate)
        if self.cases:
            first = min(case.started_at for case in self.cases.values())
            self.now = min(self.now, first - timedelta(minutes=1))

    def plan_strays(self, count: int, earliest: datetime, latest: datetime) -> None:
        """Back-end events about numbers no process holds: deliberate dead letters."""
        for _ in range(count):
            at = earliest + (latest - earliest) * self.rng.random()
            data = {
                "msisdn": people.msisdn(self.rng),
                "tracking": f"PQ{people.digits(self.rng, 12)}ES",
            }
            envelope = cloudevent(
                id=self._next_id(), party="courier", type="sim.delivered", at=at, data=data
            )
            self._push(at, _Send(None, envelope, None))
            self.stats.strays += 1

    def live(self, processes_per_hour: float) -> None:
        """Keep starting new processes (Poisson, shaped by the hour of day) from now on."""
        self._live_rate = processes_per_hour
        self._push(self.now, _Tick())

    def new_case(
        self,
        kind: str,
        earliest: datetime,
        latest: datetime,
        forced: dict[str, Any] | None = None,
    ) -> Case:
        """A new case of ``kind`` whose process starts between the two moments."""
        flow = self.flows[kind]
        index = len(self.cases)
        rng = random.Random(f"relevo-sim:{self.seed}:{self.run_tag}:{index}")
        customer = self._customer(flow, rng)
        case = Case(index, kind, rng, customer, flow.subject_key, "", earliest)
        case.forced = forced is not None
        case.started_at = flow.start_moment(case, earliest, latest)
        flow.draw(case, forced or {})
        self.cases[index] = case
        self._push(case.started_at, _Start(case))
        return case

    def _customer(self, flow: Flow, rng: random.Random) -> Customer:
        channel = pick(rng, flow.channels())
        english = chance(rng, self.english_share)
        canary = chance(rng, self.canary_share)
        town, postcode = people.city(rng, canary)
        agent = ""
        if channel in ("store", "call_centre", "door_to_door", "social"):
            agent = f"agt_{channel}_{rng.randrange(1, 80):03d}"
        return Customer(
            id=self.unique.draw("customer", lambda: "cus_" + people.token(rng, 12)),
            name=people.person(rng, english),
            id_number=people.nie(rng) if english or chance(rng, 0.12) else people.nif(rng),
            language="en" if english else "es",
            timezone="Atlantic/Canary" if canary else None,
            channel=channel,
            agent=agent,
            city=town,
            postcode=postcode,
            address=people.address(rng, town, postcode),
            phone=self.unique.draw("phone", lambda: people.msisdn(rng)),
            iban=people.iban(rng),
        )

    # -- what flows call ---------------------------------------------------------------------
    def send(
        self,
        case: Case,
        at: datetime,
        party: str,
        type: str,
        data: JSON | None = None,
        *,
        then: Then | None = None,
        actor: str | None = None,
    ) -> None:
        """A back-end event from ``party`` at ``at``, naming the process by its subject key.

        A share of events (``run.duplicate_share``) is delivered a second time a little
        later, as back-ends do; relevo answers the copy "duplicate".
        """
        at = max(at, self.now)
        envelope = cloudevent(
            id=self._next_id(),
            party=party,
            type=type,
            at=at,
            data=case.keyed(**(data or {})),
            actor=actor,
        )
        self._push(at, _Send(case, envelope, then))
        if chance(case.rng, self.duplicate_share):
            self._push(at + timedelta(minutes=case.rng.uniform(1, 30)), _Send(case, envelope, None))
            self.stats.duplicates += 1

    def act(
        self,
        case: Case,
        at: datetime,
        control: str,
        params: JSON | None = None,
        *,
        then: Then | None = None,
        agent: bool | None = None,
    ) -> None:
        """The customer (or an agent for them) uses ``control`` at ``at``."""
        self._push(max(at, self.now), _Act(case, control, dict(params or {}), then, agent))

    def later(self, case: Case, at: datetime, fn: Callable[[Case], None]) -> None:
        """Run ``fn(case)`` at ``at`` (world logic, e.g. a decision taken on the state then)."""
        self._push(max(at, self.now), _Call(case, fn))

    def state(self, case: Case) -> ProcessState | None:
        """The latest known state of the case's process."""
        return self.states.get(case.index)

    def awake(self, case: Case, at: datetime) -> datetime:
        """``at``, or the next moment the customer (or their shop) is around to act."""
        flow = self.flows[case.kind]
        hours = "self_service" if not case.customer.by_agent else case.customer.channel
        return self.hours.opening(hours).next_open(at, flow.calendar, case.rng, spread=2.0)

    def open_at(self, party: str, at: datetime, case: Case) -> datetime:
        """``at``, or the next moment ``party`` (courier, technician…) works."""
        flow = self.flows[case.kind]
        return self.hours.opening(party).next_open(at, flow.calendar, case.rng)

    # -- running -----------------------------------------------------------------------------
    @property
    def next_due(self) -> datetime | None:
        """When the next scheduled operation is due, if any."""
        return self._queue[0][0] if self._queue else None

    def pending(self) -> int:
        """How many operations are scheduled."""
        return len(self._queue)

    def run_until(self, until: datetime) -> None:
        """Perform everything due up to ``until`` (inclusive) and move the clock there."""
        while self._queue and self._queue[0][0] <= until:
            limit = min(self._queue[0][0] + self.gather, until)
            window: list[tuple[datetime, _Item]] = []
            while self._queue and self._queue[0][0] <= limit and len(window) < self.batch_limit:
                at, _, item = heapq.heappop(self._queue)
                window.append((at, item))
            self._window(window)
        if until > self.now:
            self.now = until

    def _window(self, pending: list[tuple[datetime, _Item]]) -> None:
        while pending:
            starts: list[tuple[datetime, _Start]] = []
            batch: list[tuple[datetime, _Send | _Fire]] = []
            acts: list[tuple[datetime, _Act]] = []
            calls: list[tuple[datetime, _Call]] = []
            rest: list[tuple[datetime, _Item]] = []
            phase: dict[int, int] = {}
            blocked: set[int] = set()
            for at, item in pending:
                if isinstance(item, _Tick):
                    self._arrivals(at)
                    continue
                case = item.case
                if case is not None:
                    if case.stopped or (not isinstance(item, _Fire) and self._frozen(case)):
                        continue
                    level = _PHASE[type(item)]
                    if case.index in blocked or level < phase.get(case.index, -1):
                        blocked.add(case.index)
                        rest.append((at, item))
                        continue
                    phase[case.index] = level
                if isinstance(item, _Start):
                    starts.append((at, item))
                elif isinstance(item, _Send | _Fire):
                    batch.append((at, item))
                elif isinstance(item, _Act):
                    acts.append((at, item))
                else:
                    calls.append((at, item))
            self._wave(starts, batch, acts, calls)
            pending = rest

    def _frozen(self, case: Case) -> bool:
        """True once the case reached the stage its fate freezes it in (``freeze_at``): from
        then on nobody around the process acts — a stuck process; relevo's timers still run."""
        stage = case.fate.get("freeze_at")
        if not stage:
            return False
        state = self.states.get(case.index)
        return state is not None and state.stage == stage

    def _clock(self, at: datetime) -> datetime:
        if at > self.now:
            self.now = at
        return self.now

    def _wave(
        self,
        starts: list[tuple[datetime, _Start]],
        batch: list[tuple[datetime, _Send | _Fire]],
        acts: list[tuple[datetime, _Act]],
        calls: list[tuple[datetime, _Call]],
    ) -> None:
        follow: list[tuple[Then, Case, Result]] = []
        for at, start in starts:
            self._start(start.case, self._clock(at), follow)
        if batch:
            self._deliver(batch, follow)
        for at, act in acts:
            self._act(act, self._clock(at), follow)
        self._absorb()
        for then, case, result in follow:
            if not case.stopped:
                then(case, result)
        for _, call in calls:
            if not call.case.stopped:
                call.fn(call.case)

    def _start(self, case: Case, now: datetime, follow: list[tuple[Then, Case, Result]]) -> None:
        flow = self.flows[case.kind]
        request = StartRequest(
            kind=case.kind,
            customer_id=case.customer.id,
            subject=case.subject,
            keys=dict(case.keys),
            attributes=dict(case.attributes),
            language=case.customer.language,
            channel=flow.start_channel(case),
            actor=flow.start_actor(case),
            timezone=case.customer.timezone,
        )
        line = cloudevent(
            id=self._next_id(),
            party=request.channel,
            type=START_TYPE,
            at=now,
            data={
                "kind": request.kind,
                "customer_id": request.customer_id,
                "subject": request.subject,
                "keys": request.keys,
                "attributes": request.attributes,
                "language": request.language,
                "channel": request.channel,
                "actor": request.actor,
                "timezone": request.timezone,
            },
        )
        error = self.port.start(StartOp(case, now, request, line), now)
        if error is not None:
            case.stopped = True
            self.stats.start_failures[f"{case.kind}: {error}"] += 1
            return
        self.stats.started[case.kind] += 1
        if self.record is not None:
            self.record(line)
        follow.append((lambda c, _r: flow.begin(c), case, Result(True, "started", None, now)))

    def _deliver(
        self, batch: list[tuple[datetime, _Send | _Fire]], follow: list[tuple[Then, Case, Result]]
    ) -> None:
        ops: list[EventOp | TimerOp] = []
        items: list[_Send | _Fire] = []
        for at, item in batch:
            if isinstance(item, _Fire):
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
            if isinstance(item, _Fire):
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

    def _act(self, item: _Act, now: datetime, follow: list[tuple[Then, Case, Result]]) -> None:
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
        line = cloudevent(
            id=request_id,
            party=action.channel,
            type=ACT_TYPE,
            at=now,
            data={
                "kind": case.kind,
                "key": {case.subject_key: case.subject},
                "control": action.control,
                "params": action.params,
                "actor": action.actor,
                "channel": action.channel,
                "role": action.role,
                "request_id": request_id,
            },
        )
        refusal = self.port.act(ActOp(case, now, action, line), now)
        if self.record is not None:
            self.record(line)
        if refusal is None:
            self.stats.actions[(case.kind, item.control)] += 1
        else:
            self.stats.refused[(case.kind, item.control, refusal)] += 1
        if item.then is not None:
            follow.append(
                (
                    item.then,
                    case,
                    Result(refusal is None, "done" if refusal is None else "refused", refusal, now),
                )
            )

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
                    self._push(max(parse_iso(due), self.now), _Fire(case, name, due))
        for index, topic, payload in feedback.messages:
            case = self.cases[index]
            handled = self.flows[case.kind].on_message(case, topic, payload)
            counter = self.stats.answered if handled else self.stats.unanswered
            counter[(case.kind, topic)] += 1

    def _arrivals(self, at: datetime) -> None:
        hour = at + timedelta(hours=1)
        weights = self.hours.hour_weights
        mean_weight = sum(weights.values()) / 24
        shares = quota_shares(self.mix, self.flows)
        for kind, share in shares.items():
            flow = self.flows[kind]
            local_hour = flow.calendar.local(at).hour
            factor = weights.get(local_hour, 0.0) / mean_weight if mean_weight else 1.0
            for _ in range(poisson(self.rng, self._live_rate * share * factor)):
                self.new_case(kind, at, hour)
        self._push(hour, _Tick())

    # -- plumbing ----------------------------------------------------------------------------
    def _push(self, at: datetime, item: _Item) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (at, self._seq, item))

    def _next_id(self) -> str:
        self._ids += 1
        tag = f"{self.run_tag}-" if self.run_tag else ""
        return f"sim-{self.seed}-{tag}{self._ids}"


def quota_shares(mix: dict[str, float], flows: dict[str, Any]) -> dict[str, float]:
    """The mix restricted to simulated kinds, normalised to sum 1."""
    total = sum(mix[k] for k in flows)
    return {k: mix[k] / total for k in flows} if total else {}
