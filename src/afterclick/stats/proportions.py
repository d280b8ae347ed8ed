"""Survey proportions: NPS (a net score of a trinomial) and CSAT-style shares, with intervals.

Sources
-------
* NPS interval and difference test: B. Rocks (2016), "Interval Estimation for the 'Net Promoter
  Score'", The American Statistician 70(4). The NPS is the mean of a variable that is +1
  (promoter), 0 (passive) or -1 (detractor), so Var(NPS) = (p_pro + p_det - (p_pro - p_det)^2) / n.
  His recommended "adjusted Wald" adds 3/4 of a promoter, 3/4 of a detractor and 3/2 of a
  passive (n + 3) before using that variance; it keeps its coverage at small n and when every
  answer falls in one group, where the plain Wald interval collapses to a point.
* Wilson score interval for a binomial share (computed by statsmodels): E. B. Wilson (1927), JASA 22(158);
  centre (p + z^2/2n) / (1 + z^2/n), half-width z sqrt(p(1-p)/n + z^2/4n^2) / (1 + z^2/n).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats as _st

from afterclick.core.scales import is_detractor, is_passive, is_promoter

#: Below this many answers a survey number is shown with a "too few to read" warning.
MIN_ANSWERS = 30

Method = Literal["adjusted_wald", "wald"]


def _z(level: float) -> float:
    if not 0 < level < 1:
        raise ValueError(f"confidence level must be between 0 and 1, not {level!r}")
    return float(_st.norm.ppf(0.5 + level / 2))


@dataclass(frozen=True)
class Interval:
    """An estimate with its interval; ``status`` is "ok" or says in words why there is none."""

    estimate: float | None
    low: float | None
    high: float | None
    level: float
    method: str
    n: int
    status: str = "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def bounds(self) -> tuple[float, float] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)

    @property
    def too_few(self) -> bool:
        """True when there are fewer than ``MIN_ANSWERS`` answers: shown, but not to be read."""
        return self.n < MIN_ANSWERS


@dataclass(frozen=True)
class NPS:
    """Net Promoter Score from the counts of promoters (9-10), passives (7-8), detractors (0-6).

    ``score`` is a fraction in [-1, 1] (multiply by 100 for the usual points). Slices add up:
    ``NPS(...) + NPS(...)`` is the NPS of both groups together.
    """

    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    def __post_init__(self) -> None:
        if min(self.promoters, self.passives, self.detractors) < 0:
            raise ValueError("NPS counts cannot be negative")

    @classmethod
    def from_scores(cls, scores: Iterable[float]) -> NPS:
        """Counts from 0-10 answers (missing values are left out)."""
        s = np.asarray([x for x in scores if x is not None], dtype=float)
        s = s[~np.isnan(s)]
        if ((s < 0) | (s > 10)).any():
            raise ValueError("NPS answers must lie in 0..10")
        return cls(int(is_promoter(s).sum()), int(is_passive(s).sum()), int(is_detractor(s).sum()))

    def __add__(self, other: NPS) -> NPS:
        return NPS(self.promoters + other.promoters, self.passives + other.passives,
                   self.detractors + other.detractors)

    @property
    def n(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def p_promoters(self) -> float | None:
        return self.promoters / self.n if self.n else None

    @property
    def p_detractors(self) -> float | None:
        return self.detractors / self.n if self.n else None

    @property
    def score(self) -> float | None:
        """p_pro - p_det, or None without answers."""
        return (self.promoters - self.detractors) / self.n if self.n else None

    @property
    def variance(self) -> float | None:
        """Var(NPS) = (p_pro + p_det - (p_pro - p_det)^2) / n  (Rocks 2016, eq. 2)."""
        if not self.n:
            return None
        return _trinomial_var(self.promoters, self.detractors, self.n)

    def interval(self, level: float = 0.95, method: Method = "adjusted_wald") -> Interval:
        """Confidence interval of ``score``, clipped to [-1, 1].

        ``adjusted_wald`` (default, Rocks 2016): the trinomial variance of the counts plus 3/4
        promoter, 3/4 detractor, 3/2 passive, centred on the adjusted score; ``wald``: the
        plain trinomial-variance interval around the observed score.
        """
        z = _z(level)
        if not self.n:
            return Interval(None, None, None, level, method, 0, "no answers")
        if method == "adjusted_wald":
            pro, det, n = self.promoters + 0.75, self.detractors + 0.75, self.n + 3
        elif method == "wald":
            pro, det, n = float(self.promoters), float(self.detractors), float(self.n)
        else:
            raise ValueError(f"method must be 'adjusted_wald' or 'wald', not {method!r}")
        centre = (pro - det) / n
        half = z * math.sqrt(_trinomial_var(pro, det, n))
        status = "ok"
        if half == 0:
            status = "every answer falls in one group: the Wald interval is a point; use adjusted_wald"
        return Interval(self.score, max(-1.0, centre - half), min(1.0, centre + half), level, method,
                        self.n, status)


def _trinomial_var(pro: float, det: float, n: float) -> float:
    p, d = pro / n, det / n
    return max(0.0, p + d - (p - d) ** 2) / n


@dataclass(frozen=True)
class DifferenceTest:
    """Difference a - b of two scores with its interval and a two-sided z test."""

    difference: float | None
    se: float | None
    z: float | None
    p_value: float | None
    low: float | None
    high: float | None
    level: float
    status: str = "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def nps_difference(a: NPS, b: NPS, level: float = 0.95) -> DifferenceTest:
    """Test NPS_a = NPS_b for independent samples: z = (NPS_a - NPS_b) / sqrt(Var_a + Var_b).

    Each variance is the trinomial one of Rocks (2016); the interval is the difference
    ± z_(level) times the same standard error.
    """
    zq = _z(level)
    if not a.n or not b.n:
        return DifferenceTest(None, None, None, None, None, None, level, "one of the groups has no answers")
    diff = a.score - b.score  # type: ignore[operator]
    se = math.sqrt(a.variance + b.variance)  # type: ignore[operator]
    if se == 0:
        return DifferenceTest(diff, 0.0, None, None, diff, diff, level,
                              "both groups answered all alike: no variance to test against")
    z = diff / se
    p = float(2 * _st.norm.sf(abs(z)))
    return DifferenceTest(diff, se, z, p, diff - zq * se, diff + zq * se, level)


@dataclass(frozen=True)
class Proportion:
    """A share of successes (e.g. CSAT: answers of 4 or 5 on 1-5) with a Wilson interval."""

    successes: int = 0
    n: int = 0

    def __post_init__(self) -> None:
        if self.n < 0 or not 0 <= self.successes <= self.n:
            raise ValueError(f"need 0 <= successes <= n, got {self.successes} of {self.n}")

    def __add__(self, other: Proportion) -> Proportion:
        return Proportion(self.successes + other.successes, self.n + other.n)

    @property
    def share(self) -> float | None:
        return self.successes / self.n if self.n else None

    def wilson(self, level: float = 0.95) -> Interval:
        """Wilson (1927) score interval; well-behaved at 0, 1 and small n.

        Computed by statsmodels' ``proportion_confint(method="wilson")``: the one implementation
        of the formula in afterclick (checked against scipy's ``binomtest`` in the tests).
        """
        from statsmodels.stats.proportion import proportion_confint

        _z(level)  # the level checked, with the same message as the other intervals
        if not self.n:
            return Interval(None, None, None, level, "wilson", 0, "no answers")
        low, high = proportion_confint(self.successes, self.n, alpha=1 - level, method="wilson")
        return Interval(self.successes / self.n, max(0.0, float(low)), min(1.0, float(high)), level, "wilson",
                        self.n)
