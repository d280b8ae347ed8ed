"""Retention curves compared whole: the log-rank test on per-day at-risk and event counts.

A fixed-day proportion ("returned within 30 days") throws away when people returned and who
was still being followed; the log-rank test uses every day and handles customers assigned too
recently to have been followed for the whole horizon (censored).

Per day t with any event: N = N_a + N_b at risk, D = D_a + D_b events; the variant's expected
events E_b = D N_b/N and hypergeometric variance V = D (N_a/N)(N_b/N)(N − D)/(N − 1);
χ² = (ΣD_b − ΣE_b)²/ΣV on 1 degree of freedom (Mantel 1966, Cancer Chemother. Rep. 50; the
same statistic as R ``survival::survdiff``). The hazard ratio variant/control is Peto's
one-step estimate exp((O − E)/V) with interval exp((O − E)/V ± z/√V) (Peto & Peto 1972,
JRSS A 135; Berry, Kitchin & Mock 1991, Stat. Med. 10), good when the ratio is near 1.

The event is whatever the metric counts: a first return visit (a ratio above 1 means the
variant brings people back sooner) or churn (above 1 means they leave sooner).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import zip_longest

import numpy as np
from scipy import stats as _st

from afterclick.stats.experiment.inference import check_level


@dataclass(frozen=True)
class RiskTable:
    """One arm's follow-up: ``at_risk[d]`` units still followed and event-free at the start of
    day d since assignment, ``events[d]`` of them with the event on day d. Tables add by day
    (segments, shards); a shorter table has nobody at risk after its last day."""

    at_risk: tuple[int, ...] = ()
    events: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if len(self.at_risk) != len(self.events):
            raise ValueError("at_risk and events need one count per day each")
        for d, (r, e) in enumerate(zip(self.at_risk, self.events, strict=True)):
            if r < 0 or e < 0 or e > r:
                raise ValueError(f"day {d}: need 0 <= events <= at_risk, got {e} of {r}")

    @classmethod
    def from_durations(cls, durations: Sequence[int], observed: Sequence[bool]) -> RiskTable:
        """From one row per unit: whole days followed and whether the event ended them."""
        t = np.asarray(durations, dtype=int)
        e = np.asarray(observed, dtype=bool)
        if t.shape != e.shape or (t < 0).any():
            raise ValueError("need one non-negative duration and one event flag per unit")
        if t.size == 0:
            return cls()
        horizon = int(t.max()) + 1
        leaving = np.bincount(t, minlength=horizon)
        at_risk = leaving[::-1].cumsum()[::-1]
        events = np.bincount(t[e], minlength=horizon)
        return cls(tuple(int(x) for x in at_risk), tuple(int(x) for x in events))

    def __add__(self, other: RiskTable) -> RiskTable:
        r = tuple(a + b for a, b in zip_longest(self.at_risk, other.at_risk, fillvalue=0))
        e = tuple(a + b for a, b in zip_longest(self.events, other.events, fillvalue=0))
        return RiskTable(r, e)

    @property
    def n(self) -> int:
        return self.at_risk[0] if self.at_risk else 0

    def survival(self) -> list[float]:
        """Kaplan–Meier S(d) at the end of each day: Π (1 − events/at_risk)."""
        s, out = 1.0, []
        for r, e in zip(self.at_risk, self.events, strict=True):
            s *= (1 - e / r) if r else 1.0
            out.append(s)
        return out


@dataclass(frozen=True)
class LogRank:
    """Log-rank test of variant against control, with Peto's hazard ratio and its interval."""

    estimate: float | None
    low: float | None
    high: float | None
    p_value: float | None
    statistic: float | None
    observed: float
    expected: float
    level: float
    method: str = "log-rank (Mantel 1966); hazard ratio by Peto's one-step (O − E)/V"
    status: str = "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def logrank_test(control: RiskTable, variant: RiskTable, level: float = 0.95) -> LogRank:
    """Are the two arms' event curves the same? ``estimate`` is the variant/control hazard ratio."""
    z = float(_st.norm.ppf(0.5 + check_level(level) / 2))
    o = e = v = 0.0
    for ra, rb, da, db in zip_longest(control.at_risk, variant.at_risk, control.events,
                                      variant.events, fillvalue=0):
        n, d = ra + rb, da + db
        if d == 0 or n == 0:
            continue
        o += db
        e += d * rb / n
        if n > 1:
            v += d * (ra / n) * (rb / n) * (n - d) / (n - 1)
    if control.n == 0 or variant.n == 0:
        return LogRank(None, None, None, None, None, o, e, level,
                       status="one of the arms has nobody followed")
    if v == 0:
        return LogRank(None, None, None, None, None, o, e, level,
                       status="no events while both arms were followed: nothing to compare yet")
    stat = (o - e) ** 2 / v
    log_hr = (o - e) / v
    half = z / math.sqrt(v)
    return LogRank(math.exp(log_hr), math.exp(log_hr - half), math.exp(log_hr + half),
                   float(_st.chi2.sf(stat, 1)), stat, o, e, level)
