"""Sufficient statistics of one experiment arm: what a warehouse aggregate returns.

Each is a small frozen dataclass of sums that add (``a + b`` is the statistic of both slices
together: days, shards, segments), with means, variances and covariances derived. Shares use
``afterclick.stats.proportions.Proportion`` (successes, n) and NPS uses ``NPS`` (promoters,
passives, detractors), so a survey KPI and an experiment metric hold the same counts.

Sample variance (Σx² − (Σx)²/n)/(n − 1); sample covariance (Σxy − ΣxΣy/n)/(n − 1).
A property is None where it is not defined (no rows, fewer than two rows, a zero denominator);
the tests turn that into a status message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


def _raw_variance(n: float, s: float, ss: float) -> float | None:
    return None if n < 2 else (ss - s * s / n) / (n - 1)


def _variance(n: float, s: float, ss: float) -> float | None:
    v = _raw_variance(n, s, ss)
    return None if v is None else max(0.0, v)  # rounding can leave -1e-17


def _covariance(n: float, sx: float, sy: float, sxy: float) -> float | None:
    if n < 2:
        return None
    return (sxy - sx * sy / n) / (n - 1)


def _check_n(n: int) -> None:
    if n < 0:
        raise ValueError(f"a count of units cannot be negative, got n={n}")


@dataclass(frozen=True)
class MeanStats:
    """A per-unit metric (revenue per customer, active weeks): n, Σx, Σx²."""

    n: int = 0
    sum: float = 0.0
    sum_squares: float = 0.0

    def __post_init__(self) -> None:
        _check_n(self.n)

    @classmethod
    def from_values(cls, values: Iterable[float]) -> MeanStats:
        x = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
        return cls(int(x.size), float(x.sum()), float((x * x).sum()))

    def __add__(self, other: MeanStats) -> MeanStats:
        return MeanStats(self.n + other.n, self.sum + other.sum,
                         self.sum_squares + other.sum_squares)

    @property
    def mean(self) -> float | None:
        return self.sum / self.n if self.n else None

    @property
    def variance(self) -> float | None:
        return _variance(self.n, self.sum, self.sum_squares)


@dataclass(frozen=True)
class RatioStats:
    """A ratio of two per-unit sums (deep interactions per session, revenue per order).

    n units; Σm, Σm² of the numerator; Σd, Σd² of the denominator; Σmd, their cross product.
    The metric is Σm/Σd, not the mean of per-unit ratios.
    """

    n: int = 0
    num_sum: float = 0.0
    num_sum_squares: float = 0.0
    den_sum: float = 0.0
    den_sum_squares: float = 0.0
    cross_sum: float = 0.0

    def __post_init__(self) -> None:
        _check_n(self.n)

    @classmethod
    def from_values(cls, numerator: Iterable[float], denominator: Iterable[float]) -> RatioStats:
        m, d = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
        if m.shape != d.shape:
            raise ValueError("numerator and denominator need one value per unit each")
        return cls(int(m.size), float(m.sum()), float((m * m).sum()), float(d.sum()),
                   float((d * d).sum()), float((m * d).sum()))

    def __add__(self, other: RatioStats) -> RatioStats:
        return RatioStats(self.n + other.n, self.num_sum + other.num_sum,
                          self.num_sum_squares + other.num_sum_squares,
                          self.den_sum + other.den_sum,
                          self.den_sum_squares + other.den_sum_squares,
                          self.cross_sum + other.cross_sum)

    @property
    def numerator(self) -> MeanStats:
        return MeanStats(self.n, self.num_sum, self.num_sum_squares)

    @property
    def denominator(self) -> MeanStats:
        return MeanStats(self.n, self.den_sum, self.den_sum_squares)

    @property
    def covariance(self) -> float | None:
        return _covariance(self.n, self.num_sum, self.den_sum, self.cross_sum)

    @property
    def ratio(self) -> float | None:
        return self.num_sum / self.den_sum if self.den_sum else None

    @property
    def variance(self) -> float | None:
        """Per-unit variance of Σm/Σd by the delta method (Deng, Knoblich & Lu 2018, KDD, §3):
        v_m/μ_d² + v_d μ_m²/μ_d⁴ − 2 cov μ_m/μ_d³; divide by n for the variance of the ratio."""
        if self.n < 2 or not self.den_sum:
            return None
        mm, md = self.num_sum / self.n, self.den_sum / self.n
        # the parts are not clipped at 0 one by one, only the sum: GrowthBook's reference sums
        # (not those of any real data) reproduce only so
        vm = _raw_variance(self.n, self.num_sum, self.num_sum_squares)
        vd = _raw_variance(self.n, self.den_sum, self.den_sum_squares)
        c = self.covariance
        return max(0.0, vm / md**2 + vd * mm**2 / md**4 - 2 * c * mm / md**3)


@dataclass(frozen=True)
class CovariateStats:
    """A per-unit metric with a pre-assignment covariate for CUPED (spend in the 90 days before
    assignment beside spend after it): n; Σy, Σy² after; Σx, Σx² before; Σxy."""

    n: int = 0
    sum: float = 0.0
    sum_squares: float = 0.0
    pre_sum: float = 0.0
    pre_sum_squares: float = 0.0
    cross_sum: float = 0.0

    def __post_init__(self) -> None:
        _check_n(self.n)

    @classmethod
    def from_values(cls, post: Iterable[float], pre: Iterable[float]) -> CovariateStats:
        y, x = np.asarray(post, dtype=float), np.asarray(pre, dtype=float)
        if y.shape != x.shape:
            raise ValueError("post and pre need one value per unit each")
        return cls(int(y.size), float(y.sum()), float((y * y).sum()), float(x.sum()),
                   float((x * x).sum()), float((x * y).sum()))

    def __add__(self, other: CovariateStats) -> CovariateStats:
        return CovariateStats(self.n + other.n, self.sum + other.sum,
                              self.sum_squares + other.sum_squares, self.pre_sum + other.pre_sum,
                              self.pre_sum_squares + other.pre_sum_squares,
                              self.cross_sum + other.cross_sum)

    @property
    def post(self) -> MeanStats:
        return MeanStats(self.n, self.sum, self.sum_squares)

    @property
    def pre(self) -> MeanStats:
        return MeanStats(self.n, self.pre_sum, self.pre_sum_squares)

    @property
    def covariance(self) -> float | None:
        return _covariance(self.n, self.sum, self.pre_sum, self.cross_sum)

    def adjusted_mean(self, theta: float) -> float | None:
        """ȳ − θ x̄ (the CUPED mean; the control and variant share one θ)."""
        return None if not self.n else (self.sum - theta * self.pre_sum) / self.n

    def adjusted_variance(self, theta: float) -> float | None:
        """Var(y − θx) = v_y + θ² v_x − 2θ cov (Deng, Xu, Kohavi & Walker 2013, WSDM, eq. 4)."""
        vy, vx, c = self.post.variance, self.pre.variance, self.covariance
        if vy is None or vx is None or c is None:
            return None
        return max(0.0, vy + theta * theta * vx - 2 * theta * c)


def pooled_theta(control: CovariateStats, variant: CovariateStats) -> float:
    """θ = cov(y, x)/var(x) over both arms pooled (Deng et al. 2013, eq. 3; as GrowthBook and
    tea-tasting compute it). 0 when the covariate or the outcome has no variance: the test then
    falls back to the unadjusted comparison."""
    joint = control + variant
    vx, vy, c = joint.pre.variance, joint.post.variance, joint.covariance
    if not vx or not vy or c is None:
        return 0.0
    return c / vx
