"""What a judgement hands on: flags, the minimum business magnitude, settings and the judgement."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from afterclick.monitor.changepoints import (
    DEFAULT_MIN_SIZE,
    DEFAULT_PENALTY_FACTOR,
    ChangePoints,
)
from afterclick.monitor.series import Grain
from afterclick.monitor.xmr import RunRule
from afterclick.results import Direction, Unit


class FlagKind(StrEnum):
    ANOMALY = "anomaly"  # a value far from its seasonal expectation (STL + robust z)
    OUTSIDE_LIMITS = "outside_limits"  # an XmR value outside the natural process limits
    RUN = "run"  # an XmR detection rule on a run of values
    LEVEL_SHIFT = "level_shift"  # a change point (PELT)


class JudgeStatus(StrEnum):
    JUDGED = "judged"
    TOO_SHORT = "too_short"


@dataclass(frozen=True)
class MinMagnitude:
    """The smallest move worth a flag: ``amount`` in the KPI's unit (fractions: 0.02 = 2 points)
    or, when ``relative``, a share of the expected value (0.2 = 20 %)."""

    amount: float
    relative: bool = False

    def __post_init__(self):
        if not (self.amount >= 0 and math.isfinite(self.amount)):
            raise ValueError(f"a minimum magnitude is a number ≥ 0, not {self.amount!r}")

    def size(self, difference: float, expected: float) -> float:
        if not self.relative:
            return abs(difference)
        if expected == 0:
            return math.inf if difference else 0.0
        return abs(difference) / abs(expected)

    def passes(self, difference: float, expected: float) -> bool:
        return self.size(difference, expected) >= self.amount

    def describe(self, unit: Unit) -> str:
        if self.relative:
            return f"{self.amount * 100:g}%"
        if unit in (Unit.FRACTION, Unit.POINTS):
            return f"{self.amount * 100:g} pts"
        return f"{self.amount:g}"


#: Defaults by unit: shares move in percentage points, counts and amounts relative to their level.
DEFAULT_MIN_MAGNITUDE: dict[Unit, MinMagnitude] = {
    Unit.FRACTION: MinMagnitude(0.02),
    Unit.POINTS: MinMagnitude(0.02),
    Unit.COUNT: MinMagnitude(0.20, relative=True),
    Unit.CURRENCY: MinMagnitude(0.10, relative=True),
    Unit.RATIO: MinMagnitude(0.10, relative=True),
    Unit.SECONDS: MinMagnitude(0.10, relative=True),
    Unit.DAYS: MinMagnitude(0.10, relative=True),
    Unit.SCORE: MinMagnitude(0.10, relative=True),
}


@dataclass(frozen=True)
class JudgeSettings:
    """How a series is judged. ``z_threshold`` applies to the robust z of the STL residual (and to
    the spike filter before change points); ``min_points`` observed periods are needed at all,
    ``min_seasons`` full weeks before STL removes weekly seasonality from a daily series and
    ``min_years`` full years before it removes yearly seasonality from weekly or monthly series
    (else XmR). With two years, the seasonal estimate takes in half of every shift and spike
    (each phase has two values): on planted series it then found one to three false shifts per
    series, none from three years on. Daily series keep two weeks as the floor: STL there stays
    quiet on noise (XmR, blind to the weekday pattern, flagged 28 of 30 noisy fortnights) but
    sees a spike only from the third week on (3 of 30 found at 14 days, 30 of 30 at 21). Periods with fewer than ``min_n``
    behind them are shown but never flagged; ``min_magnitude`` None takes the unit's default."""

    z_threshold: float = 4.0
    min_points: int = 8
    min_seasons: int = 2
    min_years: int = 3
    min_n: float = 0.0
    penalty: float | None = None
    penalty_factor: float = DEFAULT_PENALTY_FACTOR
    min_size: int = DEFAULT_MIN_SIZE
    run_rules: tuple[RunRule, ...] = tuple(RunRule)
    stl_seasonal: int = 7
    stl_robust: bool = False
    annotation_window: int = 1
    min_magnitude: MinMagnitude | None = None

    def __post_init__(self):
        problems = [f"{k} must be {why}, not {getattr(self, k)!r}" for k, ok, why in (
            ("z_threshold", self.z_threshold > 0, "a number > 0"),
            ("min_points", self.min_points >= 3, "at least 3"),
            ("min_seasons", self.min_seasons >= 2, "at least 2"),
            ("min_years", self.min_years >= 2, "at least 2"),
            ("min_size", self.min_size >= 2, "at least 2"),
            ("penalty_factor", self.penalty_factor > 0, "a number > 0"),
            ("penalty", self.penalty is None or self.penalty >= 0, "None or a number ≥ 0"),
            ("annotation_window", self.annotation_window >= 0, "0 or more periods"),
        ) if not ok]
        if problems:
            raise ValueError("JudgeSettings: " + "; ".join(problems))


def _num(v: Any) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


@dataclass(frozen=True)
class Flag:
    """One finding. ``difference`` = value − expected (a level shift: new level − old level),
    ``relative`` = difference / |expected|; ``statistic`` is the robust z (anomaly), the limit
    crossed (outside_limits), the number of values in the run (run) or Welch-style z of the two
    levels (level_shift), as ``statistic_name`` says."""

    kpi: str
    period: pd.Timestamp
    kind: FlagKind
    value: float
    expected: float
    difference: float
    relative: float
    statistic: float
    statistic_name: str
    method: str
    sentence: str
    first_period: pd.Timestamp | None = None
    annotation: str | None = None

    @property
    def direction(self) -> str:
        return "up" if self.difference > 0 else "down"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kpi": self.kpi, "period": self.period.date().isoformat(), "kind": self.kind.value,
            "value": _num(self.value), "expected": _num(self.expected),
            "difference": _num(self.difference), "relative": _num(self.relative),
            "statistic": _num(self.statistic), "statistic_name": self.statistic_name,
            "direction": self.direction, "method": self.method, "sentence": self.sentence,
            "first_period": None if self.first_period is None else self.first_period.date().isoformat(),
            "annotation": self.annotation,
        }


@dataclass(frozen=True, eq=False)
class Judgement:
    """A judged series: ``frame`` has period, value, n, expected, lower, upper, z (the band a chart
    draws); ``flags`` the findings in time order; a series too short says so in ``reason``."""

    kpi: str
    name: str
    unit: Unit
    direction: Direction
    grain: Grain
    status: JudgeStatus
    method: str | None
    flags: tuple[Flag, ...]
    frame: pd.DataFrame = field(repr=False)
    min_magnitude: MinMagnitude
    reason: str | None = None
    change_points: ChangePoints | None = None
    notes: tuple[str, ...] = ()

    @property
    def judged(self) -> bool:
        return self.status is JudgeStatus.JUDGED

    @property
    def last_period(self) -> pd.Timestamp | None:
        return None if self.frame.empty else self.frame["period"].iloc[-1]

    @property
    def summary(self) -> str:
        if not self.judged:
            return f"{self.name}: {self.reason}"
        if not self.flags:
            return f"{self.name}: routine variation ({self.method})"
        return " ".join(f.sentence for f in self.flags)

    def to_dict(self) -> dict[str, Any]:
        return {"kpi": self.kpi, "name": self.name, "unit": self.unit.value, "grain": self.grain.value,
                "status": self.status.value, "reason": self.reason, "method": self.method,
                "min_magnitude": {"amount": self.min_magnitude.amount, "relative": self.min_magnitude.relative},
                "flags": [f.to_dict() for f in self.flags], "notes": list(self.notes),
                "summary": self.summary}
