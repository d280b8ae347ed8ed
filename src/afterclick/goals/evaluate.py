"""Judge a goals file against a store: compute each goal's KPI, then its attainment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd

from afterclick.goals.attainment import (
    Attainment,
    Estimate,
    cannot_judge,
    judge,
    tensions,
)
from afterclick.goals.spec import Goals, LastYearTarget
from afterclick.results import KPIResult


@dataclass(frozen=True)
class GoalReview:
    """Every goal's attainment, and the short-term wins that hide long-term losses."""

    attainments: tuple[Attainment, ...]
    tensions: tuple[str, ...]
    results: dict[str, KPIResult]

    def to_record(self) -> dict[str, Any]:
        return {"goals": [a.to_record() for a in self.attainments], "tensions": list(self.tensions)}


def as_of(result: KPIResult) -> date | None:
    """The last day the KPI's headline covers (its period's end is exclusive)."""
    if result.period is None or result.period.end is None:
        return None
    return (pd.Timestamp(result.period.end) - timedelta(microseconds=1)).date()


def estimate(result: KPIResult, day: date | None = None) -> Estimate | None:
    if not result.ok or result.value is None:
        return None
    day = day or as_of(result)
    if day is None:
        return None
    return Estimate(float(result.value), None if result.ci is None else (float(result.ci[0]), float(result.ci[1])), day)


def _a_year_before(moment: datetime) -> datetime:
    return (pd.Timestamp(moment) - pd.DateOffset(years=1)).to_pydatetime()


def last_year_result(ws, result: KPIResult) -> KPIResult | None:
    """The same KPI over the same dates a year earlier (None without a dated period)."""
    p = result.period
    if p is None or p.start is None or p.end is None:
        return None
    return ws.kpi(result.id, start=_a_year_before(p.start), end=_a_year_before(p.end))


def evaluate(ws, goals: Goals, results: Mapping[str, KPIResult] | None = None) -> GoalReview:
    """Compute each goal's KPI on the workspace ``ws`` (once per KPI) and judge it; ``results``
    already computed on ``ws`` (by KPI id) are used as they are."""
    results = dict(results or {})
    out = []
    for goal in goals:
        if goal.kpi not in results:
            results[goal.kpi] = ws.kpi(goal.kpi)
        r = results[goal.kpi]
        if not r.ok:
            out.append(cannot_judge(goal, f"{goal.kpi} was {r.status.value}: {r.reason or 'no reason given'}"))
            continue
        if r.value is None:
            out.append(cannot_judge(goal, f"{goal.kpi} has no value" + (f" ({r.notes[0]})" if r.notes else "")))
            continue
        day = as_of(r)
        est = estimate(r, day or datetime.now(UTC).date())
        ly = None
        if isinstance(goal.target, LastYearTarget):
            p = r.period
            if p is not None and p.start is not None and p.end is not None and (p.end - p.start).days > 366:
                out.append(cannot_judge(goal, f"{goal.kpi} covers {p.label}, more than a year, so it overlaps "
                                              "the same period last year; review a shorter period (--start, --end)"))
                continue
            before = last_year_result(ws, r)
            ly = None if before is None else estimate(before, _a_year_before(datetime.combine(est.as_of, datetime.min.time())).date())
            if ly is None:
                why = "no dated period" if before is None else (before.reason or "no value")
                out.append(cannot_judge(goal, f"no value for {goal.kpi} in the same period last year ({why})"))
                continue
        a = judge(goal, est, r.unit, ly)
        if day is None:
            a = Attainment(**{**a.__dict__, "notes": (*a.notes, "the KPI gives no period: judged as of today")})
        out.append(a)
    return GoalReview(tuple(out), tuple(tensions(out)), {g.kpi: results[g.kpi] for g in goals})
