"""Attainment: is a goal on track, judged with the KPI's interval, in plain words.

Method (stated in every result):

* The KPI's estimate is read as normal, centred on its value, with the standard error its 95 %
  interval implies: se = (high - low) / (2 x 1.96). Asymmetric intervals (Wilson) are thereby
  made symmetric; a KPI without an interval gets a verdict on its point value and no probability.
* **Level** (rates, scores; the default): the probability that the true value is at or past the
  target that applies now, P = Phi((value - target) / se) when higher is better (Phi of the
  negative when lower is). A constant or last-year target applies as it is (the level is assumed to
  hold until the deadline: no trend is extrapolated); a path target applies at its value on the
  day the data ends. A last-year target adds its own uncertainty: se^2 = se_now^2 + ((1+change) se_then)^2.
* **Run rate** (cumulative goals): progress since ``start`` is projected linearly to the deadline,
  projected = start_value + (value - start_value) x total days / elapsed days, with its se scaled by
  the same factor; P = Phi((projected - target) / se_projected). Pacing = progress / the path's
  planned progress by today - 1 ("4 % behind the path").

Verdicts: P >= 0.75 on track, 0.25 <= P < 0.75 at risk, below that off track; once the data
reaches the deadline: met (P >= 0.95), missed (P <= 0.05), too close to call between. Under
this model the probabilities are calibrated: a goal set where P = q is reached with frequency q
(tests/test_goals.py simulates it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from afterclick.core.format import format_value
from afterclick.goals.spec import (
    THRESHOLD_NAMES,
    ConstantTarget,
    Goal,
    LastYearTarget,
    PathTarget,
    bounded_fraction,
)
from afterclick.results import Unit

Z95 = 1.959963984540054
ON_TRACK, AT_RISK = 0.75, 0.25
MET, MISSED = 0.95, 0.05


def phi(z: float) -> float:
    """The standard normal distribution function."""
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@dataclass(frozen=True)
class Estimate:
    """A KPI value with its 95 % interval (or none) and the last day its data covers."""

    value: float
    ci: tuple[float, float] | None
    as_of: date

    @property
    def se(self) -> float | None:
        if self.ci is None:
            return None
        lo, hi = self.ci
        return max(hi - lo, 0.0) / (2 * Z95)


@dataclass(frozen=True)
class Attainment:
    """How one goal stands: a verdict, its probability, and the sentence that says it."""

    goal: Goal
    status: str
    sentence: str
    method: str
    probability: float | None = None
    estimate: Estimate | None = None
    target: float | None = None  # at the deadline
    target_now: float | None = None  # what the goal asks for on the day the data ends
    projected: float | None = None  # run rate: the value projected to the deadline
    pacing: float | None = None  # run rate: + ahead of the path, - behind, as a share
    band: str | None = None
    band_probabilities: dict[str, float] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def good(self) -> bool:
        """Met or on track."""
        return self.status in ("met", "on track")

    @property
    def behind(self) -> bool:
        return self.status in ("missed", "off track", "at risk")

    def to_record(self) -> dict[str, Any]:
        e = self.estimate
        return {
            "goal": self.goal.id, "kpi": self.goal.kpi, "horizon": self.goal.horizon.value,
            "owner": self.goal.owner, "objective": self.goal.objective,
            "deadline": self.goal.deadline.isoformat(), "status": self.status,
            "probability": self.probability, "sentence": self.sentence, "method": self.method,
            "value": None if e is None else e.value, "ci": None if e is None or e.ci is None else list(e.ci),
            "as_of": None if e is None else e.as_of.isoformat(), "target": self.target,
            "target_now": self.target_now, "projected": self.projected, "pacing": self.pacing,
            "band": self.band, "band_probabilities": self.band_probabilities, "notes": list(self.notes),
        }


def judge(goal: Goal, estimate: Estimate, unit: Unit | str = Unit.SCORE,
          last_year: Estimate | None = None) -> Attainment:
    """The attainment of ``goal`` given the KPI's ``estimate`` (and last year's, for such targets)."""
    if goal.cumulative:
        return _run_rate(goal, estimate, unit)
    return _level(goal, estimate, unit, last_year)


def cannot_judge(goal: Goal, why: str) -> Attainment:
    return Attainment(goal, "cannot judge", f"cannot judge: {why}", method="none")


def _prob(diff: float, se: float | None, higher: bool) -> float | None:
    """P(true value is at or past the target) for an estimate ``diff`` above the target."""
    if se is None:
        return None
    signed = diff if higher else -diff
    if se == 0:
        return 1.0 if signed > 0 else 0.0 if signed < 0 else 0.5
    return phi(signed / se)


def _status(p: float | None, past: bool, signed_gap: float) -> str:
    if p is None:  # no interval: the point value decides, without a probability
        ok = signed_gap >= 0
        return ("met" if ok else "missed") if past else ("on track" if ok else "off track")
    if past:
        return "met" if p >= MET else "missed" if p <= MISSED else "too close to call"
    return "on track" if p >= ON_TRACK else "at risk" if p >= AT_RISK else "off track"


def _level(goal: Goal, est: Estimate, unit: Unit | str, last_year: Estimate | None) -> Attainment:
    se, notes = est.se, []
    past = est.as_of >= goal.deadline
    t = goal.target
    if isinstance(t, LastYearTarget):
        if last_year is None:
            return cannot_judge(goal, "no value for the same period last year")
        target = target_now = t.from_last_year(last_year.value)
        factor = (1 + t.change) if t.relative else 1.0
        if se is not None and last_year.se is not None:
            se = math.hypot(se, factor * last_year.se)
        elif se is not None:
            notes.append("last year's value has no interval: the target is taken as exact")
        notes.append(f"target = last year's {format_value(last_year.value, unit)} {t.change_text(Unit(unit) is Unit.FRACTION)}")
        if bounded_fraction(goal.kpi) and not 0 <= target <= 1:
            target = target_now = min(max(target, 0.0), 1.0)
            notes.append(f"a share cannot pass {format_value(target, unit)}: the target is capped there")
    elif isinstance(t, PathTarget):
        target = t.points[-1][1]
        target_now = t.at(min(est.as_of, goal.deadline))
    else:
        target = target_now = t.value
    p = _prob(est.value - target_now, se, goal.higher)
    signed = (est.value - target_now) * (1 if goal.higher else -1)
    status = _status(p, past, signed)
    method = ("level: the estimate read as normal with the se its 95 % interval implies; the level is "
              "assumed to hold until the deadline")
    if se is None:
        method = "point value only: the KPI has no interval"
    sentence = _level_sentence(goal, est, unit, status, p, target, target_now, past)
    band, bands = _bands(goal, est.value, se)
    return Attainment(goal, status, sentence, method, p, est, target, target_now, band=band,
                      band_probabilities=bands, notes=tuple(notes))


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def _pct(p: float) -> str:
    if 0.995 <= p < 1:
        return "> 99 %"
    if 0 < p < 0.005:
        return "< 1 %"
    return f"{p * 100:.0f} %"


def _level_sentence(goal: Goal, est: Estimate, unit, status: str, p: float | None, target: float,
                    target_now: float, past: bool) -> str:
    fv = lambda v: format_value(v, unit)
    reach = "at or above" if goal.higher else "at or below"
    now = (f"{fv(est.value)} on data to {_day(est.as_of)}"
           + (f" (95 % interval {fv(est.ci[0])} to {fv(est.ci[1])})" if est.ci else ""))
    if isinstance(goal.target, PathTarget) and not past:
        aim = (f"being {reach} {fv(target_now)}, the path's value on {_day(est.as_of)}, on the way to "
               f"{fv(target)} by {_day(goal.deadline)}")
    elif past:
        aim = f"having reached {fv(target)} by {_day(goal.deadline)}"
    else:
        aim = f"reaching {fv(target)} by {_day(goal.deadline)}"
    if p is None:
        return f"{status} ({now}, no interval, so no probability of {aim})"
    return f"{status} ({_pct(p)} probability of {aim}); {now}"


def _run_rate(goal: Goal, est: Estimate, unit: Unit | str) -> Attainment:
    path = goal.path()
    if path is None or goal.start is None:
        return cannot_judge(goal, "a cumulative goal needs a start date and a constant or path target")
    elapsed = (min(est.as_of, goal.deadline) - goal.start).days
    total = (goal.deadline - goal.start).days
    if elapsed <= 0:
        return cannot_judge(goal, f"the goal starts on {_day(goal.start)}, after the data ends")
    factor = total / elapsed
    projected = goal.start_value + (est.value - goal.start_value) * factor
    se = None if est.se is None else est.se * factor
    target = path.points[-1][1]
    planned_now = path.at(min(est.as_of, goal.deadline))
    planned_progress = planned_now - goal.start_value
    pacing = None
    if planned_progress != 0:
        pacing = (est.value - goal.start_value) / planned_progress - 1
    past = est.as_of >= goal.deadline
    p = _prob(projected - target, se, goal.higher)
    status = _status(p, past, (projected - target) * (1 if goal.higher else -1))
    fv = lambda v: format_value(v, unit)
    head = (f"{status} ({_pct(p)} probability of reaching {fv(target)} by {_day(goal.deadline)})"
            if p is not None else f"{status} (no interval, so no probability)")
    pace = ""
    if pacing is not None:
        ahead = pacing if goal.higher else -pacing
        pace = (f"; pacing {abs(ahead) * 100:.0f} % {'ahead of' if ahead >= 0 else 'behind'} the path "
                f"({fv(est.value)} against {fv(planned_now)} planned by {_day(est.as_of)})")
    sentence = f"{head}{pace}; at this rate {fv(projected)} by the deadline"
    method = ("run rate: progress since the start projected linearly to the deadline, the estimate's se "
              "scaled by the same factor, read as normal")
    band, bands = _bands(goal, est.value, est.se)
    return Attainment(goal, status, sentence, method, p, est, target, planned_now, projected, pacing,
                      band, bands)


def _bands(goal: Goal, value: float, se: float | None) -> tuple[str | None, dict[str, float]]:
    """The threshold band the value is in, and the probability of being at least at each threshold."""
    if not goal.thresholds:
        return None, {}
    band = "below minimum" if "minimum" in goal.thresholds else None
    probs: dict[str, float] = {}
    for name in THRESHOLD_NAMES:
        if name not in goal.thresholds:
            continue
        level = goal.thresholds[name]
        if (value >= level) if goal.higher else (value <= level):
            band = name
        p = _prob(value - level, se, goal.higher)
        if p is not None:
            probs[name] = p
    return band, probs


def tensions(results: list[Attainment]) -> list[str]:
    """"Short-term wins, long-term losses": each short-term goal met or on track while a long-term
    goal it feeds is behind (off track, at risk or missed)."""
    by_id = {a.goal.id: a for a in results}
    out = []
    for a in results:
        if not a.behind:
            continue
        for fid in a.goal.fed_by:
            s = by_id.get(fid)
            if s is not None and s.good:
                out.append(f"short-term wins, long-term losses: {s.goal.id!r} ({s.goal.kpi}) is {s.status} "
                           f"while {a.goal.id!r} ({a.goal.kpi}), the long-term goal it feeds, is {a.status}"
                           + (f" ({_pct(a.probability)})" if a.probability is not None else ""))
    return out


def target_kind(goal: Goal) -> str:
    t = goal.target
    return "constant" if isinstance(t, ConstantTarget) else "path" if isinstance(t, PathTarget) else "last_year"
