"""The demo's customers: one per situation worth showing on the customer's page, each built
the way production builds it — a start, then the back-ends' CloudEvents through the normal
intake (the simulator's vocabulary: ``nc.accepted``, ``donor.rejected`` …) and the
customer's own actions through the hub — with due timers fired on the way as the worker
would. The stories are fixed; only their dates follow today, so every run shows the same
situations with dates that make sense now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from relevo.domain import controls
from relevo.domain.calendars import WorkCalendar
from relevo.domain.model import JSON, Action, Outcome
from relevo.services.hub import Hub
from relevo.services.processes import StartRequest
from relevo.simulate.clock import SettableClock
from relevo.simulate.envelopes import cloudevent

KIND = "mobile_port_in"


@dataclass
class Story:
    """One demo line: the steps that bring a process to a situation, from a start day."""

    customer_id: str
    subject: str
    #: How many working days before today the process started.
    days_ago: int
    steps: list[Step] = field(default_factory=list)
    modality: str = "postpaid"


#: ``(working days after the start, local time, what happens)``
Step = tuple[int, time, Callable[["Teller"], None]]


@dataclass(frozen=True)
class Situation:
    """A situation of the demo, the customer living it and the process its link opens."""

    label: str
    customer_id: str
    stories: tuple[Story, ...]


class Teller:
    """Plays one story into the hub with the hub's clock pinned to each step's moment."""

    def __init__(self, hub: Hub, clock: SettableClock, story: Story, now: datetime) -> None:
        self.hub, self.clock, self.story = hub, clock, story
        self.calendar: WorkCalendar = hub.catalog.latest(KIND).calendar
        start_day = self.calendar.add_working_days(now, -story.days_ago)
        self.start = self.calendar.at_time(start_day, time(10, 0))
        self.moment = self.start
        self.process_id = ""
        self.memo: dict[str, str] = {"reference": f"214{story.subject}0000000000000"[:23]}
        self.sent = 0

    def play(self) -> str:
        """Run every step in order; the process id."""
        for days, clock_time, step in self.story.steps:
            day = self.calendar.add_working_days(self.start, days) if days else self.start
            self._at(self.calendar.at_time(day, clock_time))
            step(self)
        return self.process_id

    def _at(self, moment: datetime) -> None:
        """Move the clock to ``moment`` and fire what fell due, as the worker would."""
        self.moment = moment
        self.clock.set(moment)
        self.hub.fire_due_timers()

    def window(self, working_days: int = 2) -> datetime:
        """02:00 of the ``working_days``-th working day after now (rules.md §1.4)."""
        return self.calendar.at_time(
            self.calendar.add_working_days(self.moment, working_days), time(2, 0)
        )

    def begin(self) -> None:
        """The customer asks for the port in the shop."""
        request = StartRequest(
            kind=KIND,
            customer_id=self.story.customer_id,
            subject=self.story.subject,
            keys={"crm_order_id": f"DEMO-{self.story.subject}"},
            attributes={"modality": self.story.modality},
            channel="store",
            actor="store-agent",
        )
        self.process_id = str(self.hub.start_process(request)["id"])

    def send(self, party: str, type: str, data: JSON) -> None:
        """A back-end fact through the same intake as ``POST /v1/events``."""
        self.sent += 1
        item = cloudevent(
            id=f"{self.story.customer_id}-{self.story.subject}-{self.sent}",
            party=party,
            type=type,
            at=self.moment,
            data=data,
        )
        (result,) = self.hub.receive([item])
        if result.outcome not in (Outcome.ACCEPTED, Outcome.DUPLICATE):
            raise RuntimeError(f"demo event {type} was not applied: {result}")

    def act(self, control: str, params: JSON) -> None:
        """The customer uses ``control`` on their page."""
        action = Action(control, params, actor=self.story.customer_id, channel="web")
        self.hub.act(self.process_id, action, "es")

    def postpone_day(self, extra_days: int) -> date:
        """A switch day ``postpone`` accepts now: ``extra_days`` working days after the
        first one allowed, or the last one allowed."""
        state = self.hub.processes.get(self.process_id)
        compiled = self.hub.processes.compiled(state)
        param = compiled.definition.controls["postpone"].params["new_date"]
        low, high = controls.date_bounds(compiled, state, param, self.moment)
        if low is None or high is None:
            raise RuntimeError("the demo's postpone has no bounds")
        days = [low + timedelta(days=n) for n in range((high - low).days + 1)]
        working = [day for day in days if self.calendar.is_working_day(day)]
        return working[min(extra_days, len(working) - 1)]

    def on_day(self, day: date, clock_time: time) -> datetime:
        """``clock_time`` in the calendar's zone on ``day``."""
        noon = self.calendar.at_time(self.moment, time(12))
        shifted = noon + timedelta(days=(day - noon.date()).days)
        return self.calendar.at_time(shifted, clock_time)


# -- the back-ends' part, in the simulator's words --------------------------------------------


def shop_hands_sim(t: Teller) -> None:
    t.begin()
    t.send("store", "sim.delivered", {"crm_order_id": f"DEMO-{t.story.subject}", "where": "store"})


def nc_accepts(t: Teller) -> None:
    t.memo["window"] = t.window().isoformat()
    data = {
        "reference": t.memo["reference"],
        "window": t.memo["window"],
        "crm_order_id": f"DEMO-{t.story.subject}",
    }
    t.send("nc", "nc.accepted", data)


def donor_confirms(t: Teller) -> None:
    t.send("donor", "donor.confirmed", {"nc_reference": t.memo["reference"]})


def donor_rejects(cause: str) -> Callable[[Teller], None]:
    def step(t: Teller) -> None:
        t.send("donor", "donor.rejected", {"cause": cause, "nc_reference": t.memo["reference"]})

    return step


def sim_comes_alive(t: Teller) -> None:
    iccid = "8934" + t.story.subject + "0000001"
    t.send("provisioning", "sim.activated", {"iccid_new": iccid, "msisdn": t.story.subject})


def port_executed(t: Teller) -> None:
    t.send("nc", "port.executed", {"nc_reference": t.memo["reference"]})


def customer_postpones(t: Teller) -> None:
    t.memo["new_date"] = t.postpone_day(2).isoformat()
    t.act(
        "postpone",
        {"new_date": t.memo["new_date"], "reason": "travelling", "reason_text": "Vuelvo el lunes"},
    )


def nc_moves_window(t: Teller) -> None:
    window = t.on_day(date.fromisoformat(t.memo["new_date"]), time(2))
    data = {"window": window.isoformat(), "nc_reference": t.memo["reference"]}
    t.send("nc", "nc.window_changed", data)


def customer_cancels(t: Teller) -> None:
    t.act("cancel", {})


def _scheduled(customer_id: str, subject: str) -> Story:
    return Story(
        customer_id,
        subject,
        1,
        [
            (0, time(10, 0), shop_hands_sim),
            (0, time(10, 30), nc_accepts),
            (0, time(16, 0), donor_confirms),
        ],
    )


def _rejected(customer_id: str, subject: str, cause: str, modality: str = "postpaid") -> Story:
    return Story(
        customer_id,
        subject,
        2,
        [
            (0, time(10, 0), shop_hands_sim),
            (0, time(10, 30), nc_accepts),
            (1, time(11, 0), donor_rejects(cause)),
        ],
        modality=modality,
    )


def _completed(customer_id: str, subject: str) -> Story:
    return Story(
        customer_id,
        subject,
        8,
        [
            (0, time(10, 0), shop_hands_sim),
            (0, time(10, 30), nc_accepts),
            (1, time(11, 0), donor_confirms),
            (2, time(2, 40), sim_comes_alive),
            (2, time(4, 30), port_executed),
        ],
    )


SITUATIONS: tuple[Situation, ...] = (
    Situation("switch scheduled", "demo-scheduled", (_scheduled("demo-scheduled", "700000101"),)),
    Situation(
        "donor rejected the ID (an incident with options)",
        "demo-rejected-id",
        (_rejected("demo-rejected-id", "700000102", "RECH_IDENT"),),
    ),
    Situation(
        "document missing (photo of the SIM of a prepaid line)",
        "demo-document",
        (_rejected("demo-document", "700000103", "RECH_ICCID", "prepaid"),),
    ),
    Situation(
        "postponed (reason: travelling)",
        "demo-postponed",
        (
            Story(
                "demo-postponed",
                "700000104",
                1,
                [
                    (0, time(10, 0), shop_hands_sim),
                    (0, time(10, 30), nc_accepts),
                    (0, time(13, 0), donor_confirms),
                    (0, time(15, 0), customer_postpones),
                    (0, time(16, 30), nc_moves_window),
                ],
            ),
        ),
    ),
    Situation("completed", "demo-completed", (_completed("demo-completed", "700000105"),)),
    Situation(
        "cancelled",
        "demo-cancelled",
        (
            Story(
                "demo-cancelled",
                "700000106",
                1,
                [
                    (0, time(10, 0), shop_hands_sim),
                    (0, time(10, 30), nc_accepts),
                    (0, time(12, 0), customer_cancels),
                ],
            ),
        ),
    ),
    Situation(
        "a customer with several processes (see /my)",
        "demo-several",
        (
            _scheduled("demo-several", "700000107"),
            _completed("demo-several", "700000108"),
        ),
    ),
)


def build_demo_customers(hub: Hub, clock: SettableClock) -> list[tuple[Situation, str]]:
    """Each situation with the process its link opens (the first story's), building the
    situations not in the database yet; the clock is given back as it was."""
    now = clock()
    pinned = getattr(clock, "pinned", None)
    built: list[tuple[Situation, str]] = []
    try:
        for situation in SITUATIONS:
            existing = hub.find(customer_id=situation.customer_id, limit=10)
            if existing:
                built.append((situation, existing[0]["id"]))
                continue
            ids = [Teller(hub, clock, story, now).play() for story in situation.stories]
            built.append((situation, ids[0]))
    finally:
        # Give the clock back as it was: pinned to the same moment, or following real time.
        if pinned is not None:
            clock.set(pinned)
        elif hasattr(clock, "release"):
            clock.release()
    hub.fire_due_timers()
    return built
