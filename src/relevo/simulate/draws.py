"""Random draws the simulator makes: weighted picks, quotas and delays with a median and p90.

Everything takes the ``random.Random`` to draw from, so a run is a pure function of its seed.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from relevo.domain.calendars import WorkCalendar

#: z-score of the 90th percentile of a standard normal distribution.
_Z90 = 1.2815515655446004

UNITS = ("minutes", "hours", "days", "working_hours", "working_days")


def pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    """One key of ``weights``, drawn in proportion to its weight (zero weights never win)."""
    keys = [key for key, weight in weights.items() if weight > 0]
    if not keys:
        raise ValueError(f"no positive weight among {sorted(weights)}")
    return rng.choices(keys, [weights[key] for key in keys])[0]


def chance(rng: random.Random, share: float) -> bool:
    """True with probability ``share``."""
    return rng.random() < share


def quota(weights: Mapping[str, float], total: int) -> dict[str, int]:
    """Split ``total`` in the proportions of ``weights`` (largest remainder, deterministic)."""
    scale = sum(w for w in weights.values() if w > 0)
    if total <= 0 or scale <= 0:
        return dict.fromkeys(weights, 0)
    exact = {key: total * max(w, 0.0) / scale for key, w in weights.items()}
    counts = {key: int(value) for key, value in exact.items()}
    left = total - sum(counts.values())
    for key in sorted(exact, key=lambda k: (counts[k] - exact[k], k))[:left]:
        counts[key] += 1
    return counts


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson-distributed count with the given mean (Knuth's method; fine for small means)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


@dataclass(frozen=True)
class Delay:
    """A delay drawn from a log-normal distribution fixed by its median and 90th percentile.

    ``unit`` says how the number is spent: plain ``minutes``/``hours``/``days``, or
    ``working_hours``/``working_days`` on a calendar (working hours run between the
    calendar's opening and closing times on working days). ``low``/``high`` clamp the draw.
    """

    median: float
    p90: float
    unit: str
    low: float = 0.0
    high: float = math.inf

    @classmethod
    def parse(cls, raw: Any, where: str) -> Delay:
        """A delay from its configuration table ``{median, p90, unit, min?, max?}``."""
        if not isinstance(raw, Mapping):
            raise ValueError(f"{where}: a delay is a table {{median, p90, unit}}, not {raw!r}")
        unknown = set(raw) - {"median", "p90", "unit", "min", "max"}
        if unknown:
            raise ValueError(f"{where}: unknown delay field(s) {sorted(unknown)}")
        try:
            median, p90 = float(raw["median"]), float(raw["p90"])
            unit = str(raw["unit"])
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"{where}: a delay needs numbers median and p90, and a unit") from None
        if unit not in UNITS:
            raise ValueError(f"{where}: unit {unit!r} is not one of {', '.join(UNITS)}")
        if median <= 0 or p90 < median:
            raise ValueError(f"{where}: need 0 < median <= p90, got {median} and {p90}")
        return cls(median, p90, unit, float(raw.get("min", 0.0)), float(raw.get("max", math.inf)))

    def amount(self, rng: random.Random) -> float:
        """A number of ``unit`` drawn from the distribution and clamped to [low, high]."""
        sigma = math.log(self.p90 / self.median) / _Z90
        value = self.median if sigma == 0 else rng.lognormvariate(math.log(self.median), sigma)
        return min(max(value, self.low), self.high)

    def after(self, moment: datetime, rng: random.Random, calendar: WorkCalendar) -> datetime:
        """``moment`` plus one draw of this delay."""
        value = self.amount(rng)
        if self.unit == "minutes":
            return moment + timedelta(minutes=value)
        if self.unit == "hours":
            return moment + timedelta(hours=value)
        if self.unit == "days":
            return moment + timedelta(days=value)
        if self.unit == "working_hours":
            return calendar.add_working_hours(moment, value)
        whole = int(value)
        moved = calendar.add_working_days(moment, whole) if whole else moment
        # The fraction of a working day is spent as working hours of that day.
        hours = (value - whole) * _day_hours(calendar)
        return calendar.add_working_hours(moved, hours) if hours > 0 else moved


def _day_hours(calendar: WorkCalendar) -> float:
    start, end = calendar.work_start, calendar.work_end
    return (end.hour - start.hour) + (end.minute - start.minute) / 60
