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
        dtype = getattr(scores, "dtype", None)
        if isinstance(dtype, np.dtype) and dtype.kind in "fiu":  # an array or Series of numbers: no None in it
            s = np.asarray(scores, dtype=float)
        else:
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
        return float(_trinomial_var(self.promoters, self.detractors, self.n))

    def interval(self, level: float = 0.95, method: Method = "adjusted_wald") -> Interval:
        """Confidence interval of ``score``, clipped to [-1, 1].

        ``adjusted_wald`` (default, Rocks 2016): the trinomial variance of the counts plus 3/4
        promoter, 3/4 detractor, 3/2 passive, centred on the adjusted score; ``wald``: the
        plain trinomial-variance interval around the observed score.
        """
        z = _z(level)
        if not self.n:
            return Interval(None, None, None, level, method, 0, "no answers")
        low, high, half = _nps_bounds(np.array([self.promoters]), np.array([self.detractors]),
                                      np.array([self.n]), z, method)
        status = "ok"
        if half[0] == 0:
            status = "every answer falls in one group: the Wald interval is a point; use adjusted_wald"
        return Interval(self.score, float(low[0]), float(high[0]), level, method, self.n, status)


def _nps_bounds(pro: np.ndarray, det: np.ndarray, n: np.ndarray, z: float,
                method: Method) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Low and high bounds of the NPS interval (see ``NPS.interval``) and its half-width, for arrays of
    promoter and detractor counts and answers (each n > 0)."""
    if method == "adjusted_wald":
        pro, det, n = pro + 0.75, det + 0.75, n + 3
    elif method == "wald":
        pro, det, n = pro.astype(float), det.astype(float), n.astype(float)
    else:
        raise ValueError(f"method must be 'adjusted_wald' or 'wald', not {method!r}")
    centre = (pro - det) / n
    half = z * np.sqrt(_trinomial_var(pro, det, n))
    return np.maximum(-1.0, centre - half), np.minimum(1.0, centre + half), half


def _trinomial_var(pro, det, n):
    """(p_pro + p_det - (p_pro - p_det)^2) / n of counts (numbers or arrays, n > 0)."""
    p, d = pro / n, det / n
    return np.maximum(0.0, p + d - (p - d) ** 2) / n


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
        _z(level)  # the level checked, with the same message as the other intervals
        if not self.n:
            return Interval(None, None, None, level, "wilson", 0, "no answers")
        _, low, high = wilson_intervals([self.successes], [self.n], level)
        return Interval(self.successes / self.n, float(low[0]), float(high[0]), level, "wilson", self.n)


# ------------------------------------------------------------------------------ many rows at once


def _counts(name: str, values) -> np.ndarray:
    a = np.asarray(values, dtype=np.int64)
    if (a < 0).any():
        raise ValueError(f"{name} cannot be negative")
    return a


def nps_intervals(promoters, passives, detractors, level: float = 0.95,
                  method: Method = "adjusted_wald") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``NPS(pro, pas, det).score`` and the bounds of its ``interval(level, method)`` for arrays of
    counts at once (a month's, a segment's…), as fractions; NaN where a row has no answers."""
    z = _z(level)
    pro, pas, det = (_counts("NPS counts", v) for v in (promoters, passives, detractors))
    n = pro + pas + det
    some = n > 0
    score, low, high = (np.full(n.shape, np.nan) for _ in range(3))
    score[some] = (pro[some] - det[some]) / n[some]
    low[some], high[some], _ = _nps_bounds(pro[some], det[some], n[some], z, method)
    return score, low, high


def wilson_intervals(successes, n, level: float = 0.95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share and Wilson (1927) bounds of ``Proportion(s, n).wilson(level)`` for arrays of counts
    at once (statsmodels' ``proportion_confint``, which takes arrays); NaN where n is 0."""
    from statsmodels.stats.proportion import proportion_confint

    _z(level)
    s, m = _counts("successes", successes), _counts("n", n)
    if (s > m).any():
        raise ValueError("need 0 <= successes <= n in every row")
    share, low, high = (np.full(m.shape, np.nan) for _ in range(3))
    some = m > 0
    if some.any():
        share[some] = s[some] / m[some]
        low[some], high[some] = proportion_confint(s[some], m[some], alpha=1 - level, method="wilson")
    return share, low, high


def nps_change_z(promoters, passives, detractors) -> np.ndarray:
    """The z of each row's NPS minus the row before's (``nps_difference(row, row before).z``, Rocks
    2016) for arrays of counts in order (months, say); NaN for the first row and wherever the test
    has nothing to go on (a row without answers, or no variance in either)."""
    pro, pas, det = (_counts("NPS counts", v).astype(float) for v in (promoters, passives, detractors))
    n = pro + pas + det
    z = np.full(n.shape, np.nan)
    both = np.flatnonzero((n[1:] > 0) & (n[:-1] > 0)) + 1
    after, before = both, both - 1
    diff = (pro[after] - det[after]) / n[after] - (pro[before] - det[before]) / n[before]
    se = np.sqrt(_trinomial_var(pro[after], det[after], n[after]) + _trinomial_var(pro[before], det[before], n[before]))
    with np.errstate(divide="ignore", invalid="ignore"):
        z[after] = np.where(se > 0, diff / se, np.nan)
    return z
