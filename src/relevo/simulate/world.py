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
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from relevo.domain.model import JSON, ProcessState
from relevo.services.catalog import Catalog
from relevo.simulate import people
from relevo.simulate.case import Case
from relevo.simulate.config import SimConfig
from relevo.simulate.customers import draw_customer
from relevo.simulate.draws import chance, poisson, quota
from relevo.simulate.envelopes import cloudevent
from relevo.simulate.exchange import Exchange, Follow
from relevo.simulate.hours import Hours
from relevo.simulate.ports.base import Port
from relevo.simulate.schedule import (
    PHASE,
    Act,
    Call,
    Fire,
    Item,
    Recorder,
    Result,
    Send,
    Start,
    Stats,
    Then,
    Tick,
)

if TYPE_CHECKING:
    from relevo.simulate.kinds.base import Flow


class World(Exchange):
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
        self._queue: list[tuple[datetime, int, Item]] = []
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
            self._push(at, Send(None, envelope, None))
            self.stats.strays += 1

    def live(self, processes_per_hour: float) -> None:
        """Keep starting new processes (Poisson, shaped by the hour of day) from now on."""
        self._live_rate = processes_per_hour
        self._push(self.now, Tick())

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
        customer = draw_customer(
            rng,
            flow.channels(),
            self.unique,
            english_share=self.english_share,
            canary_share=self.canary_share,
        )
        case = Case(index, kind, rng, customer, flow.subject_key, "", earliest)
        case.forced = forced is not None
        case.started_at = flow.start_moment(case, earliest, latest)
        flow.draw(case, forced or {})
        self.cases[index] = case
        self._push(case.started_at, Start(case))
        return case

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
        self._push(at, Send(case, envelope, then))
        if chance(case.rng, self.duplicate_share):
            self._push(at + timedelta(minutes=case.rng.uniform(1, 30)), Send(case, envelope, None))
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
        self._push(max(at, self.now), Act(case, control, dict(params or {}), then, agent))

    def later(self, case: Case, at: datetime, fn: Callable[[Case], None]) -> None:
        """Run ``fn(case)`` at ``at`` (world logic, e.g. a decision taken on the state then)."""
        self._push(max(at, self.now), Call(case, fn))

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
            window: list[tuple[datetime, Item]] = []
            while self._queue and self._queue[0][0] <= limit and len(window) < self.batch_limit:
                at, _, item = heapq.heappop(self._queue)
                window.append((at, item))
            self._window(window)
        if until > self.now:
            self.now = until

    def _window(self, pending: list[tuple[datetime, Item]]) -> None:
        while pending:
            starts: list[tuple[datetime, Start]] = []
            batch: list[tuple[datetime, Send | Fire]] = []
            acts: list[tuple[datetime, Act]] = []
            calls: list[tuple[datetime, Call]] = []
            rest: list[tuple[datetime, Item]] = []
            phase: dict[int, int] = {}
            blocked: set[int] = set()
            for at, item in pending:
                if isinstance(item, Tick):
                    self._arrivals(at)
                    continue
                case = item.case
                if case is not None:
                    if case.stopped or (not isinstance(item, Fire) and self._frozen(case)):
                        continue
                    level = PHASE[type(item)]
                    if case.index in blocked or level < phase.get(case.index, -1):
                        blocked.add(case.index)
                        rest.append((at, item))
                        continue
                    phase[case.index] = level
                if isinstance(item, Start):
                    starts.append((at, item))
                elif isinstance(item, Send | Fire):
                    batch.append((at, item))
                elif isinstance(item, Act):
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

    def _wave(
        self,
        starts: list[tuple[datetime, Start]],
        batch: list[tuple[datetime, Send | Fire]],
        acts: list[tuple[datetime, Act]],
        calls: list[tuple[datetime, Call]],
    ) -> None:
        follow: Follow = []
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
        self._push(hour, Tick())

    # -- plumbing ----------------------------------------------------------------------------
    def _push(self, at: datetime, item: Item) -> None:
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


__all__ = ["Recorder", "Result", "Stats", "Then", "World", "quota_shares"]
