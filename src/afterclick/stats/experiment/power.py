"""Power, minimum detectable effect and "how many more days at current traffic".

* Relative lift (GrowthBook's power calculator): per arm n units, metric mean m and variance v;
  the lift's variance by the delta method is (v/m²)(1 + (1 + δ)²)/n; two-sided power
  1 − Φ(z* − δ/se) + Φ(−z* − δ/se) with z* = Φ⁻¹(1 − α/2). The MDE at a target power solves
  (m_b − m)² = z² (v/n)(1 + m_b²/m²) for m_b, z = z* − Φ⁻¹(1 − power) (a quadratic). With the
  always-valid interval (``tuning`` N*) the variance is inflated by (z_seq/z*)², z_seq the
  confidence-sequence half-width in standard errors at N = 2n (Waudby-Smith et al. 2023, eq. 9).
* Absolute effect in standard deviations (Cohen's d), checked against statsmodels, itself
  checked against R ``pwr``: normal power Φ(d/se − z*) + Φ(−d/se − z*) with
  se = √(1/n₁ + 1/n₂); t power from the noncentral t on n₁ + n₂ − 2 degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize as _opt
from scipy import stats as _st

from afterclick.stats.experiment.inference import AlwaysValid, Moments
from afterclick.stats.experiment.sufficient import MeanStats, RatioStats
from afterclick.stats.proportions import Proportion


def lift_variance(var_a: float, mean_a: float, n_a: float, var_b: float, mean_b: float,
                  n_b: float, relative: bool = True) -> float:
    """Variance of the lift estimate: v_b/n_b + v_a/n_a, or by the delta method
    v_b/(m_a² n_b) + v_a m_b²/(m_a⁴ n_a) for the relative lift (Deng et al. 2018, KDD)."""
    if not relative:
        return var_b / n_b + var_a / n_a
    return var_b / (mean_a**2 * n_b) + var_a * mean_b**2 / (mean_a**4 * n_a)


def _z_star(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie between 0 and 1, not {alpha!r}")
    return float(_st.norm.ppf(1 - alpha / 2))


def _sequential_inflation(n_total: float, alpha: float, tuning: float | None) -> float:
    """(z_seq/z*)²: how much wider the always-valid interval is at N units, as a variance factor."""
    if tuning is None:
        return 1.0
    # with a unit per-observation variance the half-width is z_seq/√N
    half = AlwaysValid(tuning).half_width(Moments(0.0, 1.0 / n_total, None, n_total), 1 - alpha)
    return (half * math.sqrt(n_total) / _z_star(alpha)) ** 2


def power_relative(mean: float, variance: float, lift: float, n_per_arm: float,
                   alpha: float = 0.05, tuning: float | None = None) -> float:
    """Two-sided power to detect a relative ``lift`` with ``n_per_arm`` units in each arm."""
    z = _z_star(alpha)
    v = lift_variance(variance, mean, n_per_arm, variance, mean * (1 + lift), n_per_arm)
    se = math.sqrt(v * _sequential_inflation(2 * n_per_arm, alpha, tuning))
    return float(_st.norm.sf(z - lift / se) + _st.norm.cdf(-z - lift / se))


def mde_relative(mean: float, variance: float, n_per_arm: float, power: float = 0.8,
                 alpha: float = 0.05, tuning: float | None = None) -> float | None:
    """Smallest positive relative lift detected with ``power``; None when no lift can be (the
    arms are too small for the metric's noise)."""
    if not alpha < power < 1:
        raise ValueError(f"power must lie between alpha ({alpha}) and 1, not {power!r}")
    z = _z_star(alpha) - float(_st.norm.ppf(1 - power))
    v = variance * _sequential_inflation(2 * n_per_arm, alpha, tuning)
    if n_per_arm <= v * z**2 / mean**2:
        return None
    s2 = v / n_per_arm
    a, b, c = 1 - z**2 * s2 / mean**2, -2 * mean, mean**2 - z**2 * s2
    m_b = (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return (m_b - mean) / mean


def power_absolute(effect_size: float, n_control: float, n_variant: float | None = None,
                   alpha: float = 0.05, t_test: bool = False) -> float:
    """Two-sided power for a standardised difference d (Cohen's d) with n₁ and n₂ units."""
    n_b = n_control if n_variant is None else n_variant
    z = _z_star(alpha)
    nc = effect_size / math.sqrt(1 / n_control + 1 / n_b)
    if not t_test:
        return float(_st.norm.sf(z - nc) + _st.norm.cdf(-z - nc))
    df = n_control + n_b - 2
    crit = float(_st.t.ppf(1 - alpha / 2, df))
    return float(_st.nct.sf(crit, df, nc) + _st.nct.cdf(-crit, df, nc))


def n_for_power(effect_size: float, power: float = 0.8, alpha: float = 0.05,
                t_test: bool = False, ratio: float = 1.0) -> float:
    """Units in the control arm (the variant has ``ratio`` times as many) for ``power``."""
    if effect_size == 0:
        raise ValueError("an effect size of 0 cannot be detected with any sample")

    def gap(n: float) -> float:
        return power_absolute(effect_size, n, n * ratio, alpha, t_test) - power

    hi = 4.0
    while gap(hi) < 0:
        hi *= 2
    return float(_opt.brentq(gap, 2.0 + 1e-9 if t_test else 1e-6, hi, xtol=1e-10))


@dataclass(frozen=True)
class PowerPlan:
    """Where a running test stands: its power for ``lift`` now, the lift it can detect now, and
    the units per arm and days at current traffic it still needs to reach ``target``."""

    lift: float
    power: float | None
    mde: float | None
    n_per_arm: float
    n_needed_per_arm: float | None
    days_more: int | None
    target: float
    method: str
    status: str = "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def enough(self) -> bool:
        return self.ok and self.power is not None and self.power >= self.target


def plan(mean: float, variance: float, lift: float, n_per_arm: float, daily_per_arm: float,
         power: float = 0.8, alpha: float = 0.05, tuning: float | None = None) -> PowerPlan:
    """Power now, MDE now, and the days at ``daily_per_arm`` new units per arm until a relative
    ``lift`` reaches ``power`` (the smallest such n by root finding on ``power_relative``)."""
    method = ("normal approximation, two-sided, relative lift by the delta method"
              + ("" if tuning is None else f", always-valid (N*={tuning:g})"))
    if mean == 0 or not variance > 0 or lift == 0:
        why = ("the control mean is 0" if mean == 0 else "the metric has no variance"
               if not variance > 0 else "a lift of 0 cannot be detected")
        return PowerPlan(lift, None, None, n_per_arm, None, None, power, method, why)
    now = power_relative(mean, variance, lift, n_per_arm, alpha, tuning) if n_per_arm >= 2 else 0.0
    mde = mde_relative(mean, variance, n_per_arm, power, alpha, tuning) if n_per_arm >= 2 else None

    def gap(n: float) -> float:
        return power_relative(mean, variance, lift, n, alpha, tuning) - power

    hi = max(4.0, n_per_arm)
    while gap(hi) < 0:
        hi *= 2
    needed = math.ceil(_opt.brentq(gap, 2.0, hi, xtol=1e-6)) if gap(2.0) < 0 else 2
    if needed <= n_per_arm:
        return PowerPlan(lift, now, mde, n_per_arm, needed, 0, power, method)
    if not daily_per_arm > 0:
        return PowerPlan(lift, now, mde, n_per_arm, needed, None, power, method,
                         "no new units are arriving: the test cannot reach its power")
    days = math.ceil((needed - n_per_arm) / daily_per_arm)
    return PowerPlan(lift, now, mde, n_per_arm, needed, days, power, method)


def plan_for(control: MeanStats | Proportion | RatioStats, lift: float, daily_per_arm: float,
             n_per_arm: float | None = None, power: float = 0.8, alpha: float = 0.05,
             tuning: float | None = None) -> PowerPlan:
    """``plan`` with the mean and per-unit variance read from the control arm's sufficient
    statistics (a share's variance is p(1 − p); a ratio's is its delta-method variance);
    ``n_per_arm`` defaults to the control arm's size."""
    if isinstance(control, Proportion):
        mean = control.share
        var = None if mean is None else mean * (1 - mean)
    elif isinstance(control, RatioStats):
        mean, var = control.ratio, control.variance
    else:
        mean, var = control.mean, control.variance
    n = control.n if n_per_arm is None else n_per_arm
    if mean is None or var is None:
        return PowerPlan(lift, None, None, n, None, None, power, "normal approximation",
                         "the control arm has fewer than 2 units or no denominator")
    return plan(mean, var, lift, n, daily_per_arm, power, alpha, tuning)
