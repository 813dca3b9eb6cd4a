"""What a run produced: processes per kind and status, stages and incidents reached, what
relevo answered, and which stages or incidents of the catalog no process reached."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from relevo.domain.model import JSON, ProcessState, iso
from relevo.services.catalog import Catalog

if TYPE_CHECKING:
    from relevo.simulate.world import World


@dataclass
class Summary:
    """The outcome of one simulation run (``as_json`` for reports; ``world`` to continue it,
    e.g. with ``trickle``)."""

    seed: int
    mode: str
    started: datetime
    ended: datetime
    wall_seconds: float
    processes: int
    by_kind: dict[str, dict[str, int]]
    stages: dict[str, dict[str, int]]
    incidents_seen: dict[str, dict[str, int]]
    incidents_open: dict[str, dict[str, int]]
    events: int
    outcomes: dict[str, int]
    ignored: dict[str, int]
    rejected: dict[str, int]
    actions: dict[str, int]
    refused: dict[str, int]
    timers: dict[str, int]
    answered: dict[str, int]
    unanswered: dict[str, int]
    start_failures: dict[str, int]
    missing: list[str]
    unsimulated: list[str]
    examples: dict[str, str]
    strays: int = 0
    duplicates: int = 0
    extra: JSON = field(default_factory=dict)
    world: World | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> JSON:
        """Everything but the live world, JSON-ready."""
        data: dict[str, Any] = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name not in ("world", "started", "ended")
        }
        data["started"] = iso(self.started)
        data["ended"] = iso(self.ended)
        return data


def summarize(world: World, mode: str, wall_seconds: float, started: datetime) -> Summary:
    """The summary of ``world`` as it stands (states read through its port)."""
    states = world.port.final_states()
    stats = world.stats
    by_kind: dict[str, Counter[str]] = {}
    stages: dict[str, Counter[str]] = {}
    seen: dict[str, Counter[str]] = {}
    open_now: dict[str, Counter[str]] = {}
    examples: dict[str, str] = {}
    for index in sorted(states):
        state = states[index]
        kind = state.kind
        by_kind.setdefault(kind, Counter())[state.status] += 1
        stages.setdefault(kind, Counter())[state.stage] += 1
        for code, incident in state.incidents.items():
            seen.setdefault(kind, Counter())[code] += 1
            if incident["status"] == "open":
                open_now.setdefault(kind, Counter())[code] += 1
        for key in _example_keys(state):
            examples.setdefault(key, state.id)
    return Summary(
        seed=world.seed,
        mode=mode,
        started=started,
        ended=world.now,
        wall_seconds=round(wall_seconds, 3),
        processes=sum(stats.started.values()),
        by_kind=_plain(by_kind),
        stages=_plain(stages),
        incidents_seen=_plain(seen),
        incidents_open=_plain(open_now),
        events=sum(stats.events.values()),
        outcomes=dict(sorted(stats.outcomes.items())),
        ignored=_joined(stats.ignored),
        rejected=_joined(stats.rejected),
        actions=_joined(stats.actions),
        refused=_joined(stats.refused),
        timers=_joined(stats.timers),
        answered=_joined(stats.answered),
        unanswered=_joined(stats.unanswered),
        start_failures=dict(stats.start_failures),
        missing=missing(world.catalog, list(world.flows), states),
        unsimulated=list(world.unsimulated),
        examples=dict(sorted(examples.items())),
        strays=stats.strays,
        duplicates=stats.duplicates,
        world=world,
    )


def missing(catalog: Catalog, kinds: list[str], states: dict[int, ProcessState]) -> list[str]:
    """``kind stage X`` / ``kind incident Y`` for every stage no process is in and every
    incident no process had, over the latest definition of each simulated kind."""
    stages: set[tuple[str, str]] = set()
    incidents: set[tuple[str, str]] = set()
    for state in states.values():
        stages.add((state.kind, state.stage))
        incidents.update((state.kind, code) for code in state.incidents)
    result: list[str] = []
    for kind in sorted(kinds):
        definition = catalog.latest(kind).definition
        result += [f"{kind} stage {s.id}" for s in definition.stages if (kind, s.id) not in stages]
        result += [
            f"{kind} incident {code}"
            for code in definition.incidents
            if (kind, code) not in incidents
        ]
    return result


def _example_keys(state: ProcessState) -> list[str]:
    keys = [f"{state.kind}:stage:{state.stage}", f"{state.kind}:status:{state.status}"]
    keys += [f"{state.kind}:incident:{code}" for code in state.open_incidents()]
    return keys


def _plain(table: dict[str, Counter[str]]) -> dict[str, dict[str, int]]:
    return {kind: dict(sorted(counts.items())) for kind, counts in sorted(table.items())}


def _joined(counter: Counter[Any]) -> dict[str, int]:
    return {
        " ".join(key) if isinstance(key, tuple) else str(key): n
        for key, n in sorted(counter.items())
    }
