"""XmR (individuals and moving range) charts: natural process limits and detection rules.

Limits (W. A. Shewhart; D. J. Wheeler & D. S. Chambers (1992), *Understanding Statistical
Process Control*, 2nd ed.): centre x̄, average moving range mR̄ = mean|xₜ − xₜ₋₁|, natural process
limits x̄ ± 2.66·mR̄ (2.66 = 3/d₂, d₂ = 1.128) and upper range limit 3.268·mR̄. Moving ranges above
3.5·mR̄ are dropped before averaging once (L. S. Nelson (1982), J. Quality Technology 14(3)), so
one wild point does not widen the limits.

Detection rules (Wheeler & Chambers's three): (1) a value outside the limits; (2) three of four
successive values closer to the same limit than to the centre line; (3) eight successive values
on the same side of the centre line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

E2 = 2.66
D4 = 3.268
NELSON_SCREEN = 3.5


class RunRule(StrEnum):
    OUTSIDE = "outside_limits"
    THREE_OF_FOUR = "three_of_four"
    EIGHT_IN_A_ROW = "eight_in_a_row"


@dataclass(frozen=True)
class XmrLimits:
    centre: float
    mr_bar: float
    lower: float
    upper: float
    upper_range: float
    n: int

    @property
    def sigma(self) -> float:
        return self.mr_bar / 1.128


def average_moving_range(moving_ranges: np.ndarray, *, screen: bool = True) -> float:
    """mR̄ of the finite moving ranges, those above 3.5·mR̄ dropped once when ``screen``."""
    mr = np.asarray(moving_ranges, dtype=float)
    mr = mr[np.isfinite(mr)]
    if mr.size == 0:
        raise ValueError("XmR limits need two successive values")
    mr_bar = float(mr.mean())
    if screen and mr.size > 2 and (mr > NELSON_SCREEN * mr_bar).any():
        mr_bar = float(mr[mr <= NELSON_SCREEN * mr_bar].mean())
    return mr_bar


def xmr_limits(values: np.ndarray, *, screen: bool = True, mr_bar: float | None = None) -> XmrLimits:
    """Natural process limits of the finite values (moving ranges only between neighbours);
    ``mr_bar`` given (e.g. pooled over several levels) replaces the values' own."""
    x = np.asarray(values, dtype=float)
    ok = np.isfinite(x)
    if ok.sum() < 2 and mr_bar is None:
        raise ValueError("XmR limits need at least two values")
    if mr_bar is None:
        mr_bar = average_moving_range(np.abs(np.diff(x)), screen=screen)
    centre = float(x[ok].mean())
    return XmrLimits(centre, mr_bar, centre - E2 * mr_bar, centre + E2 * mr_bar, D4 * mr_bar, int(ok.sum()))


@dataclass(frozen=True)
class RuleBreak:
    """A detection rule broken by values ``start``..``end`` (inclusive positions); ``side`` +1/−1."""

    rule: RunRule
    start: int
    end: int
    side: int


def rule_breaks(values: np.ndarray, limits: XmrLimits, rules: tuple[RunRule, ...] = tuple(RunRule)) -> list[RuleBreak]:
    """Every break of the chosen detection rules; overlapping windows of one rule are merged."""
    x = np.asarray(values, dtype=float)
    side = np.where(np.isfinite(x), np.sign(x - limits.centre), 0).astype(int)
    out: list[RuleBreak] = []
    if RunRule.OUTSIDE in rules:
        for i in np.flatnonzero(np.isfinite(x) & ((x > limits.upper) | (x < limits.lower))):
            out.append(RuleBreak(RunRule.OUTSIDE, int(i), int(i), int(side[i])))
    half = E2 * limits.mr_bar / 2
    if RunRule.THREE_OF_FOUR in rules:
        far = np.where(np.isfinite(x), np.where(x > limits.centre + half, 1,
                                                np.where(x < limits.centre - half, -1, 0)), 0)
        out += _windows(far, 4, 3, RunRule.THREE_OF_FOUR)
    if RunRule.EIGHT_IN_A_ROW in rules:
        out += _windows(side, 8, 8, RunRule.EIGHT_IN_A_ROW)
    return sorted(out, key=lambda b: (b.end, b.rule))


def _windows(marks: np.ndarray, width: int, need: int, rule: RunRule) -> list[RuleBreak]:
    found: list[RuleBreak] = []
    for s in (1, -1):
        hits = [i for i in range(width - 1, marks.size) if (marks[i - width + 1: i + 1] == s).sum() >= need]
        for i in hits:
            start = i - width + 1
            if found and found[-1].side == s and found[-1].rule is rule and start <= found[-1].end:
                found[-1] = RuleBreak(rule, found[-1].start, i, s)
            else:
                found.append(RuleBreak(rule, start, i, s))
    return found
