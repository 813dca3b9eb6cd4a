"""What every process kind's flow shares: configuration, delays, and the common parties.

A ``Flow`` knows one process kind: who starts it and when (``start_moment``), what the case
is about and what will happen to it (``draw``: subject, keys, attributes, *fate*), the first
back-end steps (``begin``), and how the parties answer relevo's integration messages.
What every kind repeats is data, its ``KindShape`` (``shapes.toml``: outbox topic → method,
coverage fates, plain fate values, who starts it). Flows read the process's state
(``self.w.state``) before acting, so a party never answers for a process that has already
ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from relevo.domain.calendars import WorkCalendar
from relevo.domain.model import JSON, ProcessState, iso
from relevo.simulate import people
from relevo.simulate.case import Case, Customer
from relevo.simulate.config import SimConfig
from relevo.simulate.draws import Delay, chance, pick
from relevo.simulate.hours import shares_of
from relevo.simulate.kinds.shape import KindShape, shape_of
from relevo.simulate.schedule import Result

if TYPE_CHECKING:
    from relevo.simulate.world import World

Handler = Callable[[Case, JSON], None]

#: Topics every kind emits that monitoring takes in (SLA breaches go to dashboards).
MONITORED = frozenset({"sla.breached"})


class Flow:
    """The simulated world around one process kind (subclass per kind)."""

    kind: ClassVar[str]

    def __init__(self, world: World) -> None:
        self.w = world
        #: What the kind repeats as data: topics, coverage fates, plain fate values…
        self.shape: KindShape = shape_of(self.kind)
        self.cfg: SimConfig = world.config.section("kinds", self.kind)
        self.parties: SimConfig = world.config.section("parties")
        self.compiled = world.catalog.latest(self.kind)
        self.definition = self.compiled.definition
        self.calendar: WorkCalendar = self.compiled.calendar
        self.subject_key = self.definition.subject.key
        self._delays: dict[str, Delay] = {}

    # -- to write per kind -------------------------------------------------------------------
    def coverage(self) -> list[dict[str, Any]]:
        """Fates given to the first cases of the kind so that every incident and stage shows
        up; ``age_days: [lo, hi]`` places such a case's start that many days before the end
        of a history run, and ``freeze_at: <stage>`` leaves its process stuck in that stage
        (nobody around it acts once it arrives). By default the fates of ``shapes.toml``."""
        return self.shape.fates(self.cfg)

    def draw(self, case: Case, forced: dict[str, Any]) -> None:
        """Fill the case: subject, keys, attributes and fate (``forced`` overrides draws)."""
        raise NotImplementedError

    def begin(self, case: Case) -> None:
        """Schedule what happens first, once the process has started."""
        raise NotImplementedError

    def settle(self, case: Case, fate: dict[str, Any], forced: dict[str, Any]) -> None:
        """Apply a coverage case's forced fate (over the shape's ``plain``) to a drawn
        ``fate``, and give the case its fate."""
        if case.forced:
            fate.update(self.shape.plain)
            fate.update(forced)
        case.fate = fate

    # -- defaults a kind may override --------------------------------------------------------
    def channels(self) -> dict[str, float]:
        """Channel mix of the customers who start this kind."""
        return self.cfg.weights("channels")

    def start_moment(self, case: Case, earliest: datetime, latest: datetime) -> datetime:
        """When the process starts: a moment the customer's channel is open, shaped by the
        hourly sales curve (or any moment in the span if it never opens)."""
        moment = self.w.hours.sales_moment(
            case.rng, case.customer.channel, self.calendar, earliest, latest
        )
        return moment or earliest + (latest - earliest) * case.rng.random()

    def start_channel(self, case: Case) -> str:
        """The channel recorded on the start (the shape's, else the customer's)."""
        return self.shape.start_channel or case.customer.channel

    def start_actor(self, case: Case) -> str:
        """Who starts the process: the shape's starter, else the agent in a shop or call
        centre, else the customer."""
        return self.shape.start_actor or case.customer.agent or case.customer.id

    # -- integration messages ----------------------------------------------------------------
    def on_message(self, case: Case, topic: str, payload: JSON) -> bool:
        """Answer one integration message; False when no party handles ``topic``."""
        name = self.shape.topics.get(topic)
        if name is not None:
            handler: Handler = getattr(self, name)
            handler(case, payload)
            return True
        if topic == "contact.call_requested" and "call.completed" in self.definition.events:
            self.call_back(case, payload)
            return True
        return topic in self.shape.consumed or topic in MONITORED

    def call_back(self, case: Case, payload: JSON) -> None:
        """An agent calls the customer at the time they asked for."""
        params = payload.get("params", {})
        when = _moment(params.get("call_at")) or self.after("agent_call", self.w.now, case)
        agent = f"agt_call_centre_{case.rng.randrange(1, 80):03d}"
        self.when(
            case, when, lambda c: self.send(c, self.w.now, "crm", "call.completed", actor=agent)
        )

    def requirement_of(self, payload: JSON) -> str | None:
        """The requirement a ``document.submitted`` message is about (from the control)."""
        control_id = str(payload.get("event_type", "")).removeprefix("action.")
        control = self.definition.controls.get(control_id)
        if control is None:
            return None
        for param in control.params.values():
            if param.requirement:
                return param.requirement
        return None

    def review(
        self,
        case: Case,
        payload: JSON,
        accepted: Callable[[Case], None] | None = None,
        rejected: Callable[[Case], None] | None = None,
        *,
        with_requirement: bool = True,
    ) -> None:
        """The back office reviews a submitted document: rejects the first one of a case
        whose fate says so (``doc_rejected``), accepts otherwise; then calls the follow-up."""
        requirement = self.requirement_of(payload)
        at = self.after("document_review", self.w.now, case, party=True)
        reject = bool(case.fate.get("doc_rejected")) and not case.memo.get("doc_rejected_done")

        def decide(c: Case) -> None:
            data: JSON = {"requirement": requirement} if with_requirement and requirement else {}
            if reject:
                c.memo["doc_rejected_done"] = True
                reason = c.rng.choice(["illegible", "expired", "incomplete", "wrong_document"])
                self.send(
                    c,
                    self.w.now,
                    "backoffice",
                    "document.rejected",
                    {**data, "reason": reason},
                    then=_then(rejected),
                )
            else:
                self.send(
                    c, self.w.now, "backoffice", "document.accepted", data, then=_then(accepted)
                )

        self.when(case, at, decide)

    # -- helpers -----------------------------------------------------------------------------
    def send(
        self,
        case: Case,
        at: datetime,
        party: str,
        type: str,
        data: JSON | None = None,
        *,
        then: Callable[[Case, Result], None] | None = None,
        actor: str | None = None,
    ) -> None:
        """A back-end event (see ``World.send``)."""
        self.w.send(case, at, party, type, data, then=then, actor=actor)

    def act(
        self,
        case: Case,
        at: datetime,
        control: str,
        params: JSON | None = None,
        *,
        then: Callable[[Case, Result], None] | None = None,
        agent: bool | None = None,
    ) -> None:
        """The customer (or their agent) uses a control (see ``World.act``)."""
        self.w.act(case, at, control, params, then=then, agent=agent)

    def emit_at(
        self,
        case: Case,
        at: datetime,
        party: str,
        type: str,
        data: JSON | None = None,
        *,
        stages: Iterable[str] | None = None,
        then: Callable[[Case, Result], None] | None = None,
        actor: str | None = None,
    ) -> None:
        """``party`` sends a back-end event at ``at`` if the process is still active then
        (and in ``stages``, if given)."""

        def emit(c: Case) -> None:
            self.send(c, self.w.now, party, type, data, then=then, actor=actor)

        self.when(case, at, emit, stages)

    def when(
        self,
        case: Case,
        at: datetime,
        fn: Callable[[Case], None],
        stages: Iterable[str] | None = None,
    ) -> None:
        """Run ``fn`` at ``at`` if the process is still active (and in ``stages``, if given)."""
        wanted = frozenset(stages) if stages is not None else None

        def check(c: Case) -> None:
            state = self.w.state(c)
            if state is None or not state.active:
                return
            if wanted is not None and state.stage not in wanted:
                return
            fn(c)

        self.w.later(case, at, check)

    def customer_acts(
        self,
        case: Case,
        at: datetime,
        control: str,
        params: JSON | Callable[[Case], JSON | None] | None = None,
        *,
        then: Callable[[Case, Result], None] | None = None,
        stages: Iterable[str] | None = None,
        incident: str | None = None,
    ) -> None:
        """The customer uses ``control`` at the first moment they are around after ``at``,
        if the process is still active (in ``stages``, with ``incident`` open, if given).
        ``params`` may be computed then (return None to give up)."""
        moment = self.w.awake(case, at)

        def go(c: Case) -> None:
            if incident is not None and incident not in self.open_incidents(c):
                return
            values = params(c) if callable(params) else params
            if callable(params) and values is None:
                return
            self.act(c, self.w.now, control, values, then=then)

        self.when(case, moment, go, stages)

    def after(self, name: str, at: datetime, case: Case, *, party: bool = False) -> datetime:
        """``at`` plus a draw of the delay ``kinds.<kind>.delays.<name>`` (or
        ``parties.delays.<name>`` when ``party``), on this kind's calendar."""
        key = f"{'parties' if party else self.kind}.{name}"
        delay = self._delays.get(key)
        if delay is None:
            table = self.parties if party else self.cfg
            delay = table.section("delays").delay(name)
            self._delays[key] = delay
        return delay.after(at, case.rng, self.calendar)

    def numbered(self, case: Case, pool: str, prefix: str, digits: int) -> str:
        """``prefix`` and ``digits`` random digits, unique in the run among the ``pool``."""
        rng = case.rng
        return self.w.unique.draw(pool, lambda: f"{prefix}{people.digits(rng, digits)}")

    def order_id(self, case: Case) -> str:
        """A unique CRM sales order number (``SO-`` and eight digits)."""
        return self.numbered(case, "order", "SO-", 8)

    def doc_rejected(self, case: Case) -> bool:
        """Whether the back office refuses the first document the case sends
        (``parties.document_rejected_share``)."""
        return case.rng.random() < self.parties.share("document_rejected_share")

    @staticmethod
    def id_type(customer: Customer) -> str:
        """``NIE`` for a foreigner's identity number, else ``NIF``."""
        return "NIE" if customer.id_number[0] in "XYZ" else "NIF"

    def share(self, name: str) -> float:
        """The share ``kinds.<kind>.<name>``."""
        return self.cfg.share(name)

    def chance(self, case: Case, name: str) -> bool:
        """True with the probability ``kinds.<kind>.<name>``."""
        return chance(case.rng, self.cfg.share(name))

    def pick(self, case: Case, name: str, allowed: Iterable[str] | None = None) -> str:
        """One name of the share table ``kinds.<kind>.<name>`` (restricted to ``allowed``)."""
        weights = self.cfg.weights(name)
        if allowed is not None:
            weights = shares_of(weights, list(allowed))
        return pick(case.rng, weights)

    def state(self, case: Case) -> ProcessState | None:
        """The latest known state of the case's process."""
        return self.w.state(case)

    def stage(self, case: Case) -> str | None:
        """The current stage, or None when unknown or finished."""
        state = self.w.state(case)
        return state.stage if state is not None and state.active else None

    def open_incidents(self, case: Case) -> list[str]:
        """Codes of the incidents open now."""
        state = self.w.state(case)
        return state.open_incidents() if state is not None else []

    def local(self, moment: datetime) -> datetime:
        """``moment`` in the kind's calendar zone."""
        return self.calendar.local(moment)

    def day_at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """Local ``hour:minute`` on ``day``, as a UTC moment."""
        return datetime.combine(day, time(hour, minute), tzinfo=self.calendar.tz).astimezone(UTC)

    def working_day_on_or_after(self, day: date) -> date:
        """``day`` if it is a working day, else the next one."""
        while not self.calendar.is_working_day(day):
            day += timedelta(days=1)
        return day

    def slot(self, case: Case, earliest: datetime, hours: tuple[int, ...]) -> datetime:
        """An appointment slot starting at one of ``hours`` on the first working day on or
        after ``earliest`` that still has one."""
        day = self.local(earliest).date()
        for _ in range(60):
            day = self.working_day_on_or_after(day)
            options = [h for h in hours if self.day_at(day, h) >= earliest]
            if options:
                return self.day_at(day, case.rng.choice(options))
            day += timedelta(days=1)
        return self.day_at(day, hours[0])

    def date_text(self, moment: datetime) -> str:
        """The local calendar date of ``moment`` as ``YYYY-MM-DD``."""
        return self.local(moment).date().isoformat()

    @staticmethod
    def stamp(moment: datetime) -> str:
        """``moment`` as an ISO 8601 UTC string."""
        return iso(moment)


def _then(fn: Callable[[Case], None] | None) -> Callable[[Case, Result], None] | None:
    if fn is None:
        return None

    def follow(case: Case, result: Result) -> None:
        if result.ok:
            fn(case)

    return follow


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
