"""Realistic demo data: Spanish mobile port-ins in every stage and incident, with a fixed seed.

``seed_demo`` writes only through the real services — ``Hub.start_process``, ``Hub.ingest``
(CloudEvent-like ``Inbound`` batches, timers included) and ``Hub.act`` — so a demo database
holds exactly what production would hold: hash-chained logs, projections, outbox rows,
timers, inbox rows and a few dead letters.

How it works. Each process gets a *profile* (who: customer, number, line type, donor, sales
channel…) and a *story* (what happens: completed first time, donor or central-node
rejection with its cause, customer cancellation, failed port, delayed activation, postponed
date…), drawn in the proportions of ``shared/domain/rules.md`` §8.4. A story is turned into
a *script*: timed back-end messages and customer or agent actions, laid out on the Madrid
portability calendar from the moment the process starts. All scripts are merged into one
timeline that a simulation replays in time order, moving the hub's clock (a ``DemoClock``)
as it goes and firing every timer that falls due on the way, exactly as the worker would.
Nothing dated after ``now`` happens, so recent processes are caught mid-flight.

A handful of stories are *pinned*: their start is chosen so that, at ``now``, they sit in a
given stage or with a given incident open. That guarantees that every stage and incident of
``mobile_port_in`` can be shown, whatever ``now`` is; ``seed_demo`` checks it and raises
rather than produce a demo that silently lacks a case.
"""

from __future__ import annotations

import heapq
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from relevo.domain.calendars import WorkCalendar
from relevo.domain.engine import TIMER_FIRED
from relevo.domain.errors import ActionRefused
from relevo.domain.model import JSON, Action, Outcome, ProcessState, iso, parse_iso
from relevo.services.hub import Hub, Inbound, StartRequest

__all__ = ["KIND", "DemoClock", "DemoCoverageError", "seed_demo"]

KIND = "mobile_port_in"

#: Processes needed before every stage and incident is guaranteed (and checked).
FULL_COVERAGE_FROM = 200
#: How far back process starts are spread.
SPREAD = timedelta(days=21)
#: Back-end messages and timers at most this far apart share one ingest batch.
GATHER = timedelta(minutes=15)
#: Largest ingest batch the simulation sends.
BATCH_LIMIT = 500
#: Share of back-end messages delivered twice (the second copy is answered "duplicate").
DUPLICATE_RATE = 0.015
#: Back-end messages about numbers no process holds: they become dead letters.
STRAY_MESSAGES = 3

TIMER_SOURCE = "relevo.timers"
GATEWAY = "mnp-gateway"
LOGISTICS = "logistics"
BACKOFFICE = "backoffice"
STORE_POS = "store-pos"

# rules.md §8.4, mobile port-in.
PATHS = {
    "completed": 0.87,
    "failed": 0.01,
    "donor_rejected": 0.06,
    "nc_rejected": 0.03,
    "cancelled": 0.03,
}
DONOR_CAUSES = {
    "RECH_IDENT": 0.55,
    "RECH_ICCID": 0.15,
    "RECH_BNUME": 0.15,
    "RECH_PERDI": 0.05,
    "RECH_NORES": 0.07,
    "RECH_FMAYO": 0.03,
}
NC_CODES = {"ENUME": 0.50, "EXIST": 0.35, "FORMA": 0.10, "CUPO1": 0.05}
#: Share of rejected ports resubmitted successfully (rules.md §8.4: 60 %).
RESUBMITTED = 0.60
CHANNELS = {"web": 0.35, "app": 0.20, "store": 0.30, "call_centre": 0.15}
DONORS = {
    "Movistar": 0.24,
    "Vodafone": 0.20,
    "Orange": 0.20,
    "Yoigo": 0.08,
    "Digi": 0.12,
    "MásMóvil": 0.06,
    "Lowi": 0.04,
    "Simyo": 0.03,
    "Pepephone": 0.03,
}
PREPAID_SHARE = 0.30
POSTPONE_SHARE = 0.06
DELAYED_SHARE = 0.02
DOCUMENT_REJECTED_SHARE = 0.25
ENGLISH_SHARE = 0.06
CANARY_SHARE = 0.04

#: Incident codes the back-ends send (the rest, PORT_DELAYED, is opened by a timer).
US_FIXES = frozenset({"RECH_NORES", "RECH_FMAYO", "ENUME", "FORMA", "CUPO1", "FMAYO"})
_NIF_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"
_FOREVER = datetime.max.replace(tzinfo=UTC)


class DemoCoverageError(RuntimeError):
    """The generated demo lacks a stage or an incident it must show; ``str()`` names them."""


class DemoClock:
    """A clock the demo can move.

    It follows the system clock until ``set`` pins it to a moment; ``release`` makes it
    follow the system clock again. Build the hub with one (``Hub(store, catalog, clock)``)
    so that ``seed_demo`` can replay three weeks of history in seconds.
    """

    def __init__(self, moment: datetime | None = None) -> None:
        self._moment: datetime | None = None
        if moment is not None:
            self.set(moment)

    def __call__(self) -> datetime:
        """The current demo moment (aware, UTC)."""
        return self._moment if self._moment is not None else datetime.now(UTC)

    @property
    def pinned(self) -> datetime | None:
        """The moment the clock is pinned to, or ``None`` while it follows the system."""
        return self._moment

    def set(self, moment: datetime) -> None:
        """Pin the clock to ``moment`` (timezone-aware)."""
        if moment.tzinfo is None:
            raise ValueError("DemoClock needs a timezone-aware moment")
        self._moment = moment.astimezone(UTC)

    def release(self) -> None:
        """Follow the system clock again."""
        self._moment = None


# -- who and what ---------------------------------------------------------------------------


@dataclass
class Profile:
    """Who the process is for: the customer and line data a sale captures."""

    index: int
    customer_id: str
    msisdn: str
    modality: str
    donor: str
    channel: str
    id_type: str
    language: str
    timezone: str | None
    crm_order_id: str
    contract_code: str
    iccid: str | None
    agent: str

    @property
    def remote(self) -> bool:
        """True when the SIM travels by courier (not handed over in a store)."""
        return self.channel != "store"

    @property
    def by_agent(self) -> bool:
        """True when the customer deals with an agent (store, call centre)."""
        return self.channel in ("store", "call_centre")


@dataclass
class Story:
    """What happens to one process.

    ``path`` is the main outcome; ``cause`` the rejection code on rejected paths; ``after``
    how a rejection ends (``resubmit``, ``cancel``, ``new_number``, ``waiting``); ``delayed``
    is ``late`` (activated after the legal deadline) or ``open`` (still not activated);
    ``pin`` names the situation the process must be in at ``now`` (see ``_PINS``).
    """

    path: str
    cause: str | None = None
    after: str = "resubmit"
    postpone: bool = False
    delayed: str | None = None
    document_rejected: bool = False
    pin: str | None = None
    label: str = ""


@dataclass
class Step:
    """One scripted moment: a start, a back-end message or a customer/agent action.

    ``kind`` is ``start``, ``send`` (``type`` is the event type) or ``act`` (``type`` is
    the control); ``by_subject`` messages name the process id instead of a key.
    """

    at: datetime
    kind: str
    process: int
    type: str = ""
    data: JSON = field(default_factory=dict)
    source: str = ""
    message_id: str = ""
    by_subject: bool = False


@dataclass
class Script:
    """A story laid out in time: its steps and the named moments (``marks``) it passes."""

    profile: Profile
    story: Story
    steps: list[Step]
    marks: dict[str, datetime]


# -- the public entry point -----------------------------------------------------------------


def seed_demo(hub: Hub, *, processes: int = 400, seed: int = 7, now: datetime) -> dict[str, Any]:
    """Fill an empty database with ``processes`` mobile port-ins, as of ``now``.

    Contract:

    * ``hub.clock`` must be a ``DemoClock``: the simulation moves it through the last three
      weeks and gives it back in the mode it found it (pinned moment, or following the
      system clock).
    * ``now`` is timezone-aware; starts are spread over the 21 days before it, on Spanish
      working hours, and nothing dated after it happens.
    * The same ``seed``, ``processes`` and ``now`` give the same stories, counts and
      outcomes (process ids, being random by design, differ).
    * With ``processes >= 200`` every stage and every incident code of ``mobile_port_in``
      appears (stage: some process is in it now; incident: some process had it, most have it
      open now); otherwise ``DemoCoverageError`` is raised.
    * The database must not hold ``mobile_port_in`` processes yet (``ValueError``).

    Returns JSON-ready counts: per status, current stage, incident (ever / open now), channel,
    line type, ingest outcome, action and timer, plus ``examples``: one process id per stage
    (``stage:<id>``), incident (``incident:<code>``), status and notable story, to link to.
    """
    if now.tzinfo is None:
        raise ValueError("seed_demo needs a timezone-aware 'now'")
    if processes < 1:
        raise ValueError("seed_demo needs at least one process")
    clock = hub.clock
    if not isinstance(clock, DemoClock):
        raise TypeError(
            "seed_demo moves the hub's clock: build the Hub with relevo.demo.DemoClock "
            "(e.g. Hub(store, catalog, DemoClock()))"
        )
    with hub.store.unit_of_work(read_only=True) as uow:
        existing = uow.count_processes(kind=KIND)
    if existing:
        raise ValueError(
            f"seed_demo fills an empty database; this one already holds {existing} "
            f"{KIND} processes (use a new database file)"
        )
    compiled = hub.catalog.latest(KIND)
    calendar = compiled.calendar
    now = now.astimezone(UTC)
    rng = random.Random(f"relevo-demo:{seed}")
    profiles = _profiles(rng, processes)
    stories = _stories(rng, processes)
    for profile, story in zip(profiles, stories, strict=True):
        if story.cause == "RECH_ICCID":
            _make_prepaid(profile, rng)
    scripts = [
        _place(profile, story, calendar, now, seed, rng)
        for profile, story in zip(profiles, stories, strict=True)
    ]
    previous = clock.pinned
    simulation = _Simulation(hub, clock, scripts, now, rng)
    try:
        simulation.run()
    finally:
        if previous is None:
            clock.release()
        else:
            clock.set(previous)
    summary = simulation.summary()
    if processes >= FULL_COVERAGE_FROM:
        _check_coverage(
            summary, [s.id for s in compiled.definition.stages], list(compiled.definition.incidents)
        )
    return summary


# -- drawing profiles and stories -----------------------------------------------------------


def _profiles(rng: random.Random, count: int) -> list[Profile]:
    numbers: set[str] = set()
    profiles = []
    for index in range(count):
        msisdn = _msisdn(rng)
        while msisdn in numbers:
            msisdn = _msisdn(rng)
        numbers.add(msisdn)
        modality = "prepaid" if rng.random() < PREPAID_SHARE else "postpaid"
        channel = _pick(rng, CHANNELS)
        english = rng.random() < ENGLISH_SHARE
        profiles.append(
            Profile(
                index=index,
                customer_id="cus_" + "".join(rng.choices("abcdefghjkmnpqrstuvwxyz23456789", k=12)),
                msisdn=msisdn,
                modality=modality,
                donor=_pick(rng, DONORS),
                channel=channel,
                id_type=(
                    "NIE"
                    if english or rng.random() < 0.12
                    else "PAS"
                    if rng.random() < 0.02
                    else "NIF"
                ),
                language="en" if english else "es",
                timezone="Atlantic/Canary" if rng.random() < CANARY_SHARE else None,
                crm_order_id=f"SO-{rng.randrange(10**7, 10**8)}",
                contract_code=f"735{rng.randrange(10**7, 10**8)}",
                iccid=_iccid(rng) if modality == "prepaid" else None,
                agent=(
                    f"agt_{'tienda' if channel == 'store' else 'cc'}_{rng.randrange(1, 60):03d}"
                ),
            )
        )
    return profiles


def _make_prepaid(profile: Profile, rng: random.Random) -> None:
    # RECH_ICCID only happens to prepaid lines (rules.md §8.4).
    profile.modality = "prepaid"
    profile.iccid = profile.iccid or _iccid(rng)


def _stories(rng: random.Random, count: int) -> list[Story]:
    """Pinned stories first (as many as fit), then the rest, so that together they follow
    the §8.4 proportions (largest remainder; the pinned ones count towards their share)."""
    stories = [Story(**vars(s)) for s in _PINNED_STORIES[:count]]
    paths = _quota(PATHS, count)
    buckets: Counter[tuple[str, str | None]] = Counter()
    for path, n in paths.items():
        mix = {"donor_rejected": DONOR_CAUSES, "nc_rejected": NC_CODES}.get(path)
        if mix is None:
            buckets[(path, None)] += n
        else:
            for cause, m in _quota(mix, n).items():
                buckets[(path, cause)] += m
    for story in stories:
        buckets[(story.path, story.cause)] -= 1
    # Pinned stories beyond their share (FMAYO has none) are paid for by completions.
    excess = sum(-n for n in buckets.values() if n < 0)
    buckets[("completed", None)] = max(0, buckets[("completed", None)] - excess)
    drawn: list[Story] = []
    for (path, code), n in sorted(buckets.items(), key=lambda item: (item[0][0], item[0][1] or "")):
        for _ in range(max(0, n)):
            drawn.append(_rejected(rng, path, code) if code else Story(path=path))
    drawn = drawn[: max(0, count - len(stories))]  # only tiny demos have fewer completions
    for story in drawn:
        if story.path == "completed":
            if rng.random() < DELAYED_SHARE:
                story.delayed = "late" if rng.random() < 0.8 else "open"
            story.postpone = rng.random() < POSTPONE_SHARE
    rng.shuffle(drawn)
    return stories + drawn


def _rejected(rng: random.Random, path: str, cause: str) -> Story:
    story = Story(path=path, cause=cause)
    if cause in US_FIXES:
        story.after = "resubmit"  # we fix these ourselves
    elif rng.random() < RESUBMITTED:
        story.after = "resubmit"
    else:
        options = (
            ["cancel", "waiting", "new_number"] if cause == "RECH_BNUME" else ["cancel", "waiting"]
        )
        story.after = rng.choice(options)
    story.document_rejected = rng.random() < DOCUMENT_REJECTED_SHARE
    return story


def _quota(weights: dict[str, float], total: int) -> dict[str, int]:
    """Split ``total`` in the proportions of ``weights`` (largest remainder, deterministic)."""
    scale = sum(weights.values())
    exact = {k: total * w / scale for k, w in weights.items()}
    counts = {k: int(v) for k, v in exact.items()}
    left = total - sum(counts.values())
    for k in sorted(exact, key=lambda k: (counts[k] - exact[k], k))[:left]:
        counts[k] += 1
    return counts


_PINNED_STORIES = (
    Story("completed", pin="requested", label="just requested"),
    Story("completed", pin="donor_check", label="donor checking"),
    Story("completed", postpone=True, pin="scheduled", label="postponed and scheduled"),
    Story("completed", delayed="open", pin="overdue", label="activation overdue"),
    Story("completed", pin="active", label="completed"),
    Story("completed", delayed="late", pin="active", label="completed late"),
    Story("cancelled", pin="ended", label="cancelled by the customer"),
    Story("failed", pin="ended", label="port failed"),
    Story("donor_rejected", "RECH_IDENT", after="waiting", pin="incident"),
    Story(
        "donor_rejected",
        "RECH_IDENT",
        document_rejected=True,
        pin="ended",
        label="document rejected then accepted",
    ),
    Story("donor_rejected", "RECH_ICCID", pin="review", label="SIM photo waiting for review"),
    Story("donor_rejected", "RECH_BNUME", after="waiting", pin="incident"),
    Story(
        "donor_rejected", "RECH_BNUME", after="new_number", pin="ended", label="took a new number"
    ),
    Story("donor_rejected", "RECH_PERDI", after="waiting", pin="incident"),
    Story("donor_rejected", "RECH_NORES", pin="incident"),
    Story("donor_rejected", "RECH_FMAYO", pin="incident"),
    Story("nc_rejected", "ENUME", pin="incident"),
    Story("nc_rejected", "EXIST", after="waiting", pin="incident"),
    Story("nc_rejected", "FORMA", pin="incident"),
    Story("nc_rejected", "CUPO1", pin="incident"),
    Story("nc_rejected", "FMAYO", pin="incident"),
)

#: Situations a pinned story must be in at ``now``, read from the script's marks.
_PINS: dict[str, Callable[[dict[str, datetime], datetime], bool]] = {
    "requested": lambda m, now: m["started"] <= now < m["submitted"],
    "donor_check": lambda m, now: m["submitted"] <= now < m["donor"],
    "scheduled": lambda m, now: m["rescheduled"] <= now and m["donor"] <= now < m["window"],
    "overdue": lambda m, now: m["overdue"] + timedelta(minutes=30) <= now,
    "active": lambda m, now: m["executed"] <= now,
    "ended": lambda m, now: m["ended"] <= now,
    "incident": lambda m, now: m["incident"] <= now < m.get("resolved", _FOREVER),
    "review": lambda m, now: m["uploaded"] <= now < m["reviewed"],
}


# -- placing a story in time ----------------------------------------------------------------


def _place(
    profile: Profile,
    story: Story,
    calendar: WorkCalendar,
    now: datetime,
    seed: int,
    rng: random.Random,
) -> Script:
    """The script of one process, started at a working-hours moment before ``now``.

    A pinned story tries start moments backwards from ``now`` until its pin holds; if none
    does it starts five or more days back, so that at least its incident has happened.
    """

    def script(start: datetime) -> Script:
        # The script depends on the seed, the process and its start moment only.
        own = random.Random(f"relevo-demo:{seed}:{profile.index}:{start.timestamp():.0f}")
        return _Scripter(profile, story, calendar, own).write(start)

    if story.pin is not None:
        check = _PINS[story.pin]
        moment = now - timedelta(minutes=rng.randint(2, 9))
        earliest = now - SPREAD
        while moment > earliest:
            if _open_for_sales(profile.channel, moment, calendar):
                candidate = script(moment)
                try:
                    if check(candidate.marks, now):
                        return candidate
                except KeyError:
                    pass  # the story did not reach the moments the pin reads
            moment -= timedelta(minutes=rng.randint(3, 8))
        return script(
            _sales_moment(rng, profile.channel, calendar, now - SPREAD, now - timedelta(days=5))
        )
    return script(_sales_moment(rng, profile.channel, calendar, now - SPREAD, now))


def _open_for_sales(channel: str, moment: datetime, calendar: WorkCalendar) -> bool:
    """Shops, call centres and online sales in Spain: weekdays, Saturday mornings for some."""
    local = calendar.local(moment)
    day, hour = local.date(), local.hour + local.minute / 60
    if calendar.is_holiday(day) or day.weekday() == 6:
        return False
    if day.weekday() == 5:
        return channel in ("store", "web", "app") and 10 <= hour < 14
    if channel == "store":
        return 10 <= hour < 21
    if channel == "call_centre":
        return 9 <= hour < 21
    return 8.5 <= hour < 23


#: Sales per hour of the day (local), weekdays: mornings and after work.
_HOUR_WEIGHTS = {
    8: 1,
    9: 3,
    10: 6,
    11: 8,
    12: 8,
    13: 6,
    14: 3,
    15: 4,
    16: 6,
    17: 8,
    18: 9,
    19: 8,
    20: 6,
    21: 3,
    22: 2,
}


def _sales_moment(
    rng: random.Random,
    channel: str,
    calendar: WorkCalendar,
    earliest: datetime,
    latest: datetime,
) -> datetime:
    """A random moment between ``earliest`` and ``latest`` when ``channel`` sells."""
    days = max(1, (latest - earliest).days + 1)
    hours, weights = list(_HOUR_WEIGHTS), list(_HOUR_WEIGHTS.values())
    for _ in range(10_000):
        day = calendar.local(earliest).date() + timedelta(days=rng.randrange(days))
        hour = rng.choices(hours, weights)[0]
        moment = datetime.combine(day, time(hour, rng.randrange(60)), tzinfo=calendar.tz)
        if earliest <= moment < latest and _open_for_sales(channel, moment, calendar):
            return moment.astimezone(UTC)
    raise RuntimeError(f"no {channel} sales moment between {earliest} and {latest}")


class _Scripter:
    """Writes the steps of one story from a start moment (pure: no hub, no clock)."""

    def __init__(
        self, profile: Profile, story: Story, calendar: WorkCalendar, rng: random.Random
    ) -> None:
        self.p = profile
        self.s = story
        self.cal = calendar
        self.rng = rng
        self.steps: list[Step] = []
        self.marks: dict[str, datetime] = {}
        self.sent = 0
        self.reference = ""

    # building blocks ----------------------------------------------------------------------
    def send(
        self,
        at: datetime,
        type_: str,
        data: JSON,
        source: str = GATEWAY,
        *,
        by_subject: bool = False,
    ) -> None:
        self.sent += 1
        self.steps.append(
            Step(
                at,
                "send",
                self.p.index,
                type_,
                data,
                source,
                f"{source}-{self.p.index:05d}-{self.sent:02d}",
                by_subject,
            )
        )

    def act(self, at: datetime, control: str, params: JSON | None = None) -> None:
        self.steps.append(Step(at, "act", self.p.index, control, dict(params or {})))

    def hours(self, at: datetime, low: float, high: float) -> datetime:
        """``at`` plus a random number of working hours (portability calendar)."""
        return self.cal.add_working_hours(at, self.rng.uniform(low, high))

    def minutes(self, at: datetime, low: float, high: float) -> datetime:
        return at + timedelta(minutes=self.rng.uniform(low, high))

    def awake(self, at: datetime) -> datetime:
        """``at``, or the next moment the customer (or the shop) is around to act."""
        opening = 10 if self.p.channel == "store" else 9
        local = self.cal.local(at)
        closing = 21 if self.p.by_agent else 23
        if self.p.by_agent and local.weekday() == 6:
            local = datetime.combine(
                local.date() + timedelta(days=1), time(opening), tzinfo=self.cal.tz
            )
        if local.hour < opening:
            local = local.replace(hour=opening, minute=self.rng.randrange(60))
        elif local.hour >= closing:
            local = datetime.combine(
                local.date() + timedelta(days=1), time(opening), tzinfo=self.cal.tz
            ) + timedelta(minutes=self.rng.randrange(90))
        return local.astimezone(UTC)

    def window_after(self, moment: datetime, extra_days: int = 0) -> datetime:
        """The port window the central node assigns to a request submitted at ``moment``:
        02:00 of the second working day after it (rules.md §1.4), later if asked."""
        day = self.cal.add_working_days(moment, 2 + extra_days)
        return self.cal.at_time(day, time(2, 0)).astimezone(UTC)

    def cancel_until(self, window: datetime) -> datetime:
        return self.cal.at_time(self.cal.add_working_days(window, -1), time(14, 0)).astimezone(UTC)

    def keyed(self, **data: Any) -> JSON:
        return {"msisdn": self.p.msisdn, **data}

    # the story ----------------------------------------------------------------------------
    def write(self, start: datetime) -> Script:
        p, s = self.p, self.s
        self.marks["started"] = start
        self.steps.append(Step(start, "start", p.index))
        delivered = self.sim_logistics(start)
        submitted = self.hours(start, 0.15, 1.5)
        self.marks["submitted"] = submitted
        if s.path == "nc_rejected":
            assert s.cause is not None
            accepted = self.nc_rejection(submitted, s.cause)
            if accepted is None:
                return self.done()
            submitted = accepted
        window = self.window_after(submitted)
        if delivered is not None:
            # The customer picks a later window rather than be left without service
            # while the new SIM is on its way (rules.md §1.4 step 6).
            while delivered > window - timedelta(hours=8):
                window = self.cal.at_time(self.cal.add_working_days(window, 1), time(2, 0))
        self.accepted(submitted, window)
        self.run_from(submitted, window)
        return self.done()

    def done(self) -> Script:
        ended = self.marks.get("ended")
        if ended is not None:
            # An order cancelled before the SIM left the warehouse is not shipped at all.
            unshipped = any(s.type == "sim.shipped" and s.at > ended for s in self.steps)
            if unshipped:
                self.steps = [s for s in self.steps if not s.type.startswith("sim.")]
        return Script(self.p, self.s, self.steps, self.marks)

    def sim_logistics(self, start: datetime) -> datetime | None:
        """Ship and deliver the new SIM; returns when it arrives (``None``: handed in store)."""
        if not self.p.remote:
            self.send(
                self.minutes(start, 3, 15),
                "sim.delivered",
                {"crm_order_id": self.p.crm_order_id, "where": "store"},
                STORE_POS,
            )
            return None
        shipped = self.hours(start, 1, 6)
        tracking = f"PQ{self.rng.randrange(10**12, 10**13)}ES"
        self.send(
            shipped,
            "sim.shipped",
            {"crm_order_id": self.p.crm_order_id, "tracking": tracking},
            LOGISTICS,
        )
        delivered = self.hours(shipped, 5, 16)
        local = self.cal.local(delivered)
        if local.hour < 9:
            delivered += timedelta(hours=9 - local.hour)
        self.send(
            delivered,
            "sim.delivered",
            {"crm_order_id": self.p.crm_order_id, "tracking": tracking},
            LOGISTICS,
        )
        self.marks["sim_delivered"] = delivered
        return delivered

    def accepted(self, at: datetime, window: datetime) -> None:
        self.reference = str(self.rng.randrange(10**22, 10**23))
        self.send(
            at,
            "nc.accepted",
            self.keyed(
                reference=self.reference, window=iso(window), crm_order_id=self.p.crm_order_id
            ),
        )

    def nc_rejection(self, at: datetime, code: str) -> datetime | None:
        """The central node refuses the submission; returns when it is accepted after all
        (``None``: it never is, as of the end of the story)."""
        self.send(at, "nc.rejected", self.keyed(code=code, crm_order_id=self.p.crm_order_id))
        self.marks["incident"] = at
        if code in US_FIXES:
            # ENUME: the real donor comes back with the rejection, we resubmit at once;
            # CUPO1: next band; FORMA, FMAYO: fixed by the back office.
            fixed = self.hours(at, 0.2, 0.8) if code == "ENUME" else self.hours(at, 1, 4)
            self.marks["resolved"] = fixed
            return fixed
        # EXIST: the customer sorts out the other request, then asks us to try again.
        if self.s.after == "resubmit":
            retry = self.awake(self.minutes(at, 20 * 60, 50 * 60))
            self.act(retry, "retry_port")
            fixed = self.hours(retry, 0.3, 2)
            self.marks["resolved"] = fixed
            return fixed
        if self.s.after == "cancel":
            self.cancel(self.awake(self.minutes(at, 24 * 60, 80 * 60)))
        return None

    def run_from(self, submitted: datetime, window: datetime) -> None:
        """From a request the central node accepted, with ``window``, to the end."""
        s = self.s
        donor = self.hours(submitted, 0.5, 5.5)
        rejected_cause = s.cause if s.path == "donor_rejected" else None
        if rejected_cause == "RECH_NORES":
            # No answer from the donor: the SLA breaches, then the NC rejects ex officio.
            donor = self.cal.add_working_days(submitted, 1) + timedelta(
                minutes=self.rng.uniform(5, 70)
            )
        self.marks["donor"] = donor
        until = self.cancel_until(window)
        if s.path == "cancelled" and "ended" not in self.marks:
            latest = min(until - timedelta(hours=1), window - timedelta(hours=13))
            moment = self.awake(
                self.minutes(submitted, 30, max(31.0, (latest - submitted) / timedelta(minutes=1)))
            )
            self.cancel(min(moment, latest))
            return
        if rejected_cause is not None:
            self.send(
                donor,
                "donor.rejected",
                self.keyed(nc_reference=self.reference, cause=rejected_cause),
            )
            self.marks["incident"] = donor
            self.after_rejection(donor, rejected_cause)
            return
        if s.postpone and "rescheduled" not in self.marks:
            window, until = self.postpone(submitted, window, until)
        self.send(donor, "donor.confirmed", self.keyed(nc_reference=self.reference))
        self.marks["window"] = window
        self.execute(window)

    def postpone(
        self, submitted: datetime, window: datetime, until: datetime
    ) -> tuple[datetime, datetime]:
        """The customer moves the switch (travelling, or waiting for the SIM)."""
        latest = until - timedelta(hours=2)
        moment = self.awake(self.minutes(submitted, 40, 300))
        if moment >= latest:
            return window, until
        earliest_day = self.cal.add_working_days(moment, 2).date()
        start = self.marks["started"]
        limit = self.cal.local(start + timedelta(days=30)).date()
        day = max(
            self.cal.local(window).date() + timedelta(days=self.rng.randint(2, 6)), earliest_day
        )
        while not self.cal.is_working_day(day):
            day += timedelta(days=1)
        if day > limit:
            return window, until
        self.act(moment, "postpone", {"new_date": day.isoformat()})
        new_window = datetime.combine(day, time(2, 0), tzinfo=self.cal.tz).astimezone(UTC)
        changed = self.minutes(moment, 10, 80)
        self.send(
            changed,
            "nc.window_changed",
            self.keyed(nc_reference=self.reference, window=iso(new_window)),
        )
        self.marks["rescheduled"] = changed
        return new_window, self.cancel_until(new_window)

    def execute(self, window: datetime) -> None:
        """The night of the window: the timer opens it, the gateway reports the result."""
        s = self.s
        self.send(
            self.minutes(window, 20, 80),
            "sim.activated",
            self.keyed(iccid_new=f"8934{self.rng.randrange(10**14, 10**15)}"),
            "provisioning",
        )
        deadline = self.cal.at_time(self.cal.add_working_days(window, 1), time(20, 0))
        self.marks["overdue"] = deadline.astimezone(UTC)
        if s.path == "failed":
            failed = self.minutes(window, 150, 230)
            reason = self.rng.choice(["routing_not_updated_in_window", "donor_did_not_release"])
            self.send(failed, "port.failed", self.keyed(nc_reference=self.reference, reason=reason))
            self.marks["ended"] = failed
            return
        if s.delayed == "open":
            return
        if s.delayed == "late":
            executed = self.minutes(deadline, 90, 26 * 60)
        else:
            executed = self.minutes(window, 140, 235)
        self.send(executed, "port.executed", self.keyed(nc_reference=self.reference))
        self.marks["executed"] = executed
        self.marks["ended"] = executed

    def cancel(self, at: datetime) -> None:
        self.act(at, "cancel")
        self.marks["ended"] = at

    def after_rejection(self, rejected: datetime, cause: str) -> None:
        """What follows a donor rejection, per cause (rules.md §1.5) and story."""
        s = self.s
        if cause in US_FIXES:
            self.resubmit(self.hours(rejected, 0.5, 3))
            return
        if s.after == "cancel":
            self.cancel(self.awake(self.minutes(rejected, 20 * 60, 90 * 60)))
            return
        if s.after == "waiting":
            return
        if s.after == "new_number":
            moment = self.awake(self.minutes(rejected, 3 * 60, 30 * 60))
            self.act(moment, "take_new_number")
            self.marks["ended"] = moment
            return
        if cause in ("RECH_BNUME", "RECH_PERDI"):
            # The customer sorts it out with the donor, then asks us to try again.
            moment = self.awake(self.minutes(rejected, 18 * 60, 50 * 60))
            self.act(moment, "retry_port")
            self.resubmit(self.hours(moment, 0.3, 2))
            return
        requirement = "id_document" if cause == "RECH_IDENT" else "sim_photo"
        upload = "send_id_document" if cause == "RECH_IDENT" else "send_sim_photo"
        moment = self.awake(self.minutes(rejected, 40, 20 * 60))
        if not s.document_rejected and s.pin != "review" and self.rng.random() < 0.3:
            # Type the right data instead of sending a picture.
            if cause == "RECH_IDENT":
                self.act(moment, "correct_id", {"id_number": _nif(self.rng)})
            else:
                self.act(
                    moment, "correct_iccid", {"iccid": _iccid(self.rng), "modality": "prepaid"}
                )
            self.resubmit(self.hours(moment, 0.5, 3))
            return
        self.upload(moment, upload)
        self.marks["uploaded"] = moment
        reviewed = self.hours(moment, 0.5, 4)
        self.marks["reviewed"] = reviewed
        if s.document_rejected:
            self.send(
                reviewed,
                "document.rejected",
                {"requirement": requirement, "reason": "illegible"},
                BACKOFFICE,
                by_subject=True,
            )
            moment = self.awake(self.minutes(reviewed, 60, 16 * 60))
            self.upload(moment, upload)
            reviewed = self.hours(moment, 0.5, 4)
        self.send(
            reviewed, "document.accepted", {"requirement": requirement}, BACKOFFICE, by_subject=True
        )
        self.resubmit(self.hours(reviewed, 0.3, 2))

    def upload(self, at: datetime, control: str) -> None:
        kind = "dni" if control == "send_id_document" else "sim"
        self.act(at, control, {"document": f"doc_{kind}_{self.rng.randrange(16**10):010x}.jpg"})

    def resubmit(self, at: datetime) -> None:
        """We send a corrected request; the NC answers with a new reference and window."""
        self.marks["resolved"] = at
        window = self.window_after(at)
        self.reference = str(self.rng.randrange(10**22, 10**23))
        self.send(at, "port.resubmitted", self.keyed(reference=self.reference, window=iso(window)))
        self.s = Story(**{**vars(self.s), "path": "completed", "cause": None})
        self.run_from(at, window)


# -- replaying the scripts through the hub --------------------------------------------------


class _Simulation:
    """Replays every script in time order through the hub, firing due timers on the way."""

    def __init__(
        self,
        hub: Hub,
        clock: DemoClock,
        scripts: list[Script],
        now: datetime,
        rng: random.Random,
    ) -> None:
        self.hub = hub
        self.clock = clock
        self.scripts = scripts
        self.now = now
        self.rng = rng
        self.ids: dict[int, str] = {}
        self.states: dict[str, ProcessState] = {}
        self.queue: list[tuple[datetime, int, str, Any]] = []
        self.seq = 0
        self.armed: set[tuple[str, str, str]] = set()
        self.outcomes: Counter[str] = Counter()
        self.unexpected: Counter[str] = Counter()
        self.actions: Counter[str] = Counter()
        self.refused: list[str] = []
        self.timers: Counter[str] = Counter()
        self.batches = 0
        for script in scripts:
            for step in script.steps:
                self.push(step.at, "step", step)
                if step.kind == "send" and self.rng.random() < DUPLICATE_RATE:
                    # The back-end delivers the same message again a little later.
                    later = step.at + timedelta(minutes=self.rng.uniform(1, 30))
                    self.push(
                        later,
                        "step",
                        Step(
                            later,
                            "send",
                            step.process,
                            step.type,
                            step.data,
                            step.source,
                            step.message_id,
                            step.by_subject,
                        ),
                    )
        for n in range(STRAY_MESSAGES):
            at = now - timedelta(hours=self.rng.uniform(2, 24 * 14))
            stray = Step(
                at,
                "send",
                -1,
                "sim.delivered",
                {"msisdn": _msisdn(self.rng), "tracking": f"PQ{n:012d}ES"},
                LOGISTICS,
                f"{LOGISTICS}-stray-{n}",
            )
            self.push(at, "step", stray)

    def push(self, at: datetime, kind: str, item: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, kind, item))

    def tick(self, moment: datetime) -> None:
        """Move the clock forward to ``moment`` (never backwards)."""
        if moment > self.clock():
            self.clock.set(moment)

    def run(self) -> None:
        self.clock.set(min((entry[0] for entry in self.queue), default=self.now))
        while self.queue and self.queue[0][0] <= self.now:
            at, _, kind, item = heapq.heappop(self.queue)
            if kind == "step" and item.kind == "start":
                self.tick(at)
                self.start(self.scripts[item.process].profile)
            elif kind == "step" and item.kind == "act":
                self.tick(at)
                self.act(item)
            else:
                pending = [(at, kind, item)]
                limit = min(at + GATHER, self.now)
                while (
                    self.queue
                    and len(pending) < BATCH_LIMIT
                    and self.queue[0][0] <= limit
                    and (self.queue[0][2] == "timer" or self.queue[0][3].kind == "send")
                ):
                    nxt, _, k, it = heapq.heappop(self.queue)
                    pending.append((nxt, k, it))
                self.ingest(pending)
        self.tick(self.now)

    def start(self, profile: Profile) -> None:
        attributes: JSON = {
            "modality": profile.modality,
            "donor_operator": profile.donor,
            "id_type": profile.id_type,
            "sales_channel": profile.channel,
        }
        if profile.iccid:
            attributes["iccid"] = profile.iccid
        view = self.hub.start_process(
            StartRequest(
                kind=KIND,
                customer_id=profile.customer_id,
                subject=profile.msisdn,
                keys={"crm_order_id": profile.crm_order_id, "contract_code": profile.contract_code},
                attributes=attributes,
                language=profile.language,
                channel=profile.channel,
                actor=profile.agent if profile.by_agent else profile.customer_id,
                timezone=profile.timezone,
            )
        )
        self.ids[profile.index] = view["id"]
        self.refresh([view["id"]])

    def act(self, step: Step) -> None:
        profile = self.scripts[step.process].profile
        process_id = self.ids[step.process]
        action = Action(
            control=step.type,
            params=step.data,
            actor=profile.agent if profile.by_agent else profile.customer_id,
            channel=profile.channel,
            role="agent" if profile.by_agent else "customer",
            request_id=f"demo-{step.process}-{step.at.timestamp():.0f}",
        )
        try:
            self.hub.act(process_id, action, profile.language)
        except ActionRefused as refused:
            self.refused.append(f"{process_id} {step.type}: {refused.code} ({refused})")
        else:
            self.actions[step.type] += 1
        self.refresh([process_id])

    def ingest(self, pending: list[tuple[datetime, str, Any]]) -> None:
        items: list[Inbound] = []
        latest = pending[0][0]
        for at, kind, item in pending:
            if kind == "timer":
                process_id, name, due = item
                state = self.states[process_id]
                if not state.active or state.timers.get(name) != due:
                    continue  # cancelled or re-armed meanwhile: the worker would skip it
                self.timers[name.partition(":")[0]] += 1
                items.append(
                    Inbound(
                        source=TIMER_SOURCE,
                        id=f"{process_id}:{name}:{due}",
                        type=TIMER_FIRED,
                        data={"name": name, "due": due},
                        occurred_at=at,
                        subject=process_id,
                        actor="system",
                        channel="timer",
                    )
                )
            else:
                step: Step = item
                subject = self.ids.get(step.process) if step.by_subject else None
                items.append(
                    Inbound(
                        source=step.source,
                        id=step.message_id,
                        type=step.type,
                        data=dict(step.data),
                        occurred_at=step.at,
                        subject=subject,
                        actor=f"backend:{step.source}",
                    )
                )
            latest = max(latest, at)
        if not items:
            return
        self.tick(latest)
        results = self.hub.ingest(items)
        self.batches += 1
        touched: list[str] = []
        for item, result in zip(items, results, strict=True):
            self.outcomes[result.outcome.value] += 1
            if result.outcome in (Outcome.IGNORED, Outcome.REJECTED):
                self.unexpected[f"{item.type}: {result.reason_code}"] += 1
            if result.process_id:
                touched.append(result.process_id)
        self.refresh(touched)

    def refresh(self, process_ids: list[str]) -> None:
        """Reload changed states and queue the timers they armed."""
        if not process_ids:
            return
        with self.hub.store.unit_of_work(read_only=True) as uow:
            states = uow.load_states(process_ids)
        for process_id, state in states.items():
            self.states[process_id] = state
            if not state.active:
                continue
            for name, due in state.timers.items():
                key = (process_id, name, due)
                if key not in self.armed:
                    self.armed.add(key)
                    self.push(parse_iso(due), "timer", key)

    # -- the summary -----------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        with self.hub.store.unit_of_work(read_only=True) as uow:
            states = uow.load_states(self.ids.values())
        by_index = {index: states[pid] for index, pid in self.ids.items() if pid in states}
        status: Counter[str] = Counter()
        stage: Counter[str] = Counter()
        active_stage: Counter[str] = Counter()
        seen: Counter[str] = Counter()
        open_now: Counter[str] = Counter()
        channel: Counter[str] = Counter()
        modality: Counter[str] = Counter()
        requirements: Counter[str] = Counter()
        best: dict[str, tuple[tuple[bool, bool], str]] = {}
        events = 0
        for index, state in sorted(by_index.items()):
            story = self.scripts[index].story
            status[state.status] += 1
            stage[state.stage] += 1
            if state.active:
                active_stage[state.stage] += 1
            channel[str(state.attributes.get("sales_channel"))] += 1
            modality[str(state.attributes.get("modality"))] += 1
            events += state.version
            for name, requirement in state.requirements.items():
                requirements[f"{name}:{requirement['state']}"] += 1
            for code, incident in state.incidents.items():
                seen[code] += 1
                if incident["status"] == "open":
                    open_now[code] += 1
            # The best example fits the slot (incident open, process running), pinned first.
            for key, fits in _example_keys(state):
                rank = (fits, story.pin is not None)
                if key not in best or rank > best[key][0]:
                    best[key] = (rank, state.id)
            if story.label:
                best.setdefault(f"story:{story.label}", ((True, True), state.id))
        return {
            "now": iso(self.now),
            "processes": len(by_index),
            "events": events,
            "ingest_batches": self.batches,
            "ingest": dict(sorted(self.outcomes.items())),
            "ignored_or_rejected": dict(sorted(self.unexpected.items())),
            "actions": dict(sorted(self.actions.items())),
            "actions_refused": self.refused,
            "timers_fired": dict(sorted(self.timers.items())),
            "by_status": dict(sorted(status.items())),
            "by_stage": dict(sorted(stage.items())),
            "by_stage_active": dict(sorted(active_stage.items())),
            "incidents_seen": dict(sorted(seen.items())),
            "incidents_open": dict(sorted(open_now.items())),
            "requirements": dict(sorted(requirements.items())),
            "by_channel": dict(sorted(channel.items())),
            "by_modality": dict(sorted(modality.items())),
            "examples": {key: pid for key, (_, pid) in sorted(best.items())},
        }


def _example_keys(state: ProcessState) -> Iterator[tuple[str, bool]]:
    """The example slots ``state`` can illustrate, best fits flagged True."""
    yield f"stage:{state.stage}", state.active or state.stage == "active"
    yield f"status:{state.status}", True
    for code, incident in state.incidents.items():
        yield f"incident:{code}", incident["status"] == "open"


def _check_coverage(summary: dict[str, Any], stages: list[str], incidents: list[str]) -> None:
    missing = [f"stage {s}" for s in stages if f"stage:{s}" not in summary["examples"]]
    missing += [f"incident {c}" for c in incidents if c not in summary["incidents_seen"]]
    if summary["actions_refused"]:
        missing.append(f"refused actions {summary['actions_refused']}")
    if missing:
        raise DemoCoverageError("the demo data lacks " + ", ".join(missing))


# -- small generators -----------------------------------------------------------------------


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), list(weights.values()))[0]


def _msisdn(rng: random.Random) -> str:
    """A Spanish mobile number: 9 digits, starting 6 (most) or 7 (71-74)."""
    if rng.random() < 0.85:
        return f"6{rng.randrange(10**8):08d}"
    return f"7{rng.randint(1, 4)}{rng.randrange(10**7):07d}"


def _iccid(rng: random.Random) -> str:
    """A 19-digit Spanish ICC-ID (89 + country 34 + issuer and serial)."""
    return f"8934{rng.randrange(10**15):015d}"


def _nif(rng: random.Random) -> str:
    number = rng.randrange(10**7, 10**8)
    return f"{number:08d}{_NIF_LETTERS[number % 23]}"
