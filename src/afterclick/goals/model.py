"""The goal objects a goals file describes (validation lives in :mod:`afterclick.goals.spec`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from itertools import pairwise

from afterclick.results import Direction


class Horizon(StrEnum):
    SHORT = "short"
    LONG = "long"


@dataclass(frozen=True)
class ConstantTarget:
    value: float

    def describe(self) -> str:
        return "a constant"


@dataclass(frozen=True)
class PathTarget:
    """Dated points, linear between them; before the first point the first value holds."""

    points: tuple[tuple[date, float], ...]

    def at(self, day: date) -> float:
        pts = self.points
        if day <= pts[0][0]:
            return pts[0][1]
        for (d0, v0), (d1, v1) in pairwise(pts):
            if day <= d1:
                return v0 + (v1 - v0) * (day - d0).days / (d1 - d0).days
        return pts[-1][1]

    def describe(self) -> str:
        return f"a path of {len(self.points)} dated points"


@dataclass(frozen=True)
class LastYearTarget:
    """The KPI over the same period a year earlier, changed by ``change`` (relative: ×(1+change))."""

    change: float
    relative: bool

    def from_last_year(self, last_year: float) -> float:
        return last_year * (1 + self.change) if self.relative else last_year + self.change

    def change_text(self, as_points: bool = False) -> str:
        """The change in words: "+5 %" relative; absolute "+0.02", or "+2 pts" for a share."""
        if self.relative:
            return f"{self.change * 100:+g} %"
        return f"{self.change * 100:+g} pts" if as_points else f"{self.change:+g}"

    def describe(self) -> str:
        return f"the same period last year {self.change_text()}"


Target = ConstantTarget | PathTarget | LastYearTarget
THRESHOLD_NAMES = ("minimum", "good", "excellent")


@dataclass(frozen=True)
class Goal:
    id: str
    kpi: str
    direction: Direction
    horizon: Horizon
    owner: str
    objective: str
    deadline: date
    target: Target
    thresholds: dict[str, float] = field(default_factory=dict)
    cumulative: bool = False
    start: date | None = None
    start_value: float = 0.0
    fed_by: tuple[str, ...] = ()
    note: str = ""
    line: int | None = None

    @property
    def higher(self) -> bool:
        return self.direction is Direction.HIGHER

    def path(self) -> PathTarget | None:
        """The path progress is paced against: the path target, or for a cumulative goal with a
        constant target the straight line from (start, start_value) to (deadline, target)."""
        if isinstance(self.target, PathTarget):
            return self.target
        if self.cumulative and isinstance(self.target, ConstantTarget) and self.start is not None:
            return PathTarget(((self.start, self.start_value), (self.deadline, self.target.value)))
        return None


@dataclass(frozen=True)
class Goals:
    goals: tuple[Goal, ...]
    source: str = ""
    #: The industry template the file follows (``template = "saas"`` at its top), if any.
    template: str | None = None

    def __iter__(self):
        return iter(self.goals)

    def __len__(self) -> int:
        return len(self.goals)

    def by_id(self) -> dict[str, Goal]:
        return {g.id: g for g in self.goals}
