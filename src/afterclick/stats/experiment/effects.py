"""Two-arm comparisons from sufficient statistics: means (Welch), shares, ratios, CUPED, NPS.

Each test returns a ``Comparison``: the arms' sizes and means with two ``Effect`` results, the
absolute lift (variant − control) and the relative lift ((variant − control)/|control|).
Degenerate input (an arm with fewer than 2 units, no variance in either arm, a control mean of
0 for the relative lift) gives an Effect with a status message and no numbers, never NaN.

* Absolute lift: Var = v_b/n_b + v_a/n_a (Welch 1947).
* Relative lift by the delta method (Deng, Knoblich & Lu 2018, "Applying the Delta Method in
  Metric Analytics", KDD, eq. 5 with independent arms): Var = v_b/(m_a² n_b) + v_a m_b²/(m_a⁴ n_a).
  Its interval is symmetric around the estimate (as GrowthBook's), not built on the log scale
  (as tea-tasting's): it keeps the relative and absolute tests one test, with the same p-value
  sign, and it matches the reference values this package is checked against.
* Ratio metrics Σm/Σd: the per-unit delta variance of ``RatioStats`` in the same formulas.
* CUPED (Deng, Xu, Kohavi & Walker 2013, WSDM): y − θx with θ pooled over both arms; the
  relative variance adds the control-mean term of GrowthBook's
  ``frequentist_variance_relative_cuped``
  (delta method on (ȳ_b − θx̄_b − ȳ_a + θx̄_a)/ȳ_a, with x̄_a ≈ x̄_b by randomisation).
* NPS: the difference of two net scores with Rocks' (2016) trinomial variance, via
  ``afterclick.stats.proportions.nps_difference``; a net score has no relative lift.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from afterclick.stats.experiment.inference import (
    FixedHorizon, Inference, Moments, check_level, sequential, welch_dof,
)
from afterclick.stats.experiment.sufficient import (
    CovariateStats, MeanStats, RatioStats, pooled_theta,
)
from afterclick.stats.proportions import NPS, Proportion, nps_difference


@dataclass(frozen=True)
class Effect:
    """One lift with its interval and p-value; ``status`` is "ok" or says why there are none.

    ``scale`` is "absolute" (variant − control, in the metric's unit) or "relative" (a fraction
    of the control mean). ``p_adjusted``/``correction`` are filled by ``adjust_p_values``.
    """

    scale: str
    estimate: float | None
    low: float | None
    high: float | None
    p_value: float | None
    se: float | None
    level: float
    method: str
    status: str = "ok"
    p_adjusted: float | None = None
    correction: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def p(self) -> float | None:
        """The p-value to judge by: the adjusted one when a correction was applied."""
        return self.p_adjusted if self.p_adjusted is not None else self.p_value

    def significant(self, alpha: float | None = None) -> bool:
        a = 1 - self.level if alpha is None else alpha
        return self.ok and self.p is not None and self.p < a


@dataclass(frozen=True)
class Comparison:
    """Control against one variant on one metric. ``kind`` is mean, proportion, ratio, cuped
    or nps; ``theta`` is CUPED's pooled coefficient (None elsewhere)."""

    kind: str
    method: str
    n_control: int
    n_variant: int
    mean_control: float | None
    mean_variant: float | None
    absolute: Effect
    relative: Effect
    theta: float | None = None

    @property
    def status(self) -> str:
        return self.absolute.status

    @property
    def ok(self) -> bool:
        return self.absolute.ok


def effect_from_moments(m: Moments | None, scale: str, level: float, inference: Inference,
                        method: str, status: str = "ok") -> Effect:
    """An ``Effect`` read from moments by ``inference``; a status instead when ``m`` is None."""
    check_level(level)
    if m is None or status != "ok":
        return Effect(scale, None, None, None, None, None, level, method,
                      status if status != "ok" else "no estimate")
    if not m.variance > 0:
        return Effect(scale, m.estimate, None, None, None, 0.0, level, method,
                      "no variance in either arm: every unit has the same value")
    h = inference.half_width(m, level)
    full = method if isinstance(inference, FixedHorizon) else f"{method}; {inference.name}"
    return Effect(scale, m.estimate, m.estimate - h, m.estimate + h, inference.p_value(m, level),
                  m.se, level, full)


def _size_status(n_a: int, n_b: int) -> str:
    for arm, n in (("control", n_a), ("variant", n_b)):
        if n < 2:
            return f"fewer than 2 units in the {arm} arm ({n}): nothing to compare yet"
    return "ok"


def _compare(kind: str, method: str, n_a: int, n_b: int, m_a: float | None, m_b: float | None,
             v_a: float | None, v_b: float | None, level: float, inference: Inference,
             use_t: bool = True, rel_variance: float | None = None,
             rel_base: float | None = None, theta: float | None = None,
             means: tuple[float | None, float | None] | None = None) -> Comparison:
    """Absolute and relative Effects from per-arm means and per-unit variances."""
    status = _size_status(n_a, n_b)
    shown = means if means is not None else (m_a, m_b)
    if status == "ok" and (m_a is None or m_b is None or v_a is None or v_b is None):
        status = "a denominator sums to 0 in one arm: the metric is not defined there"
    if status != "ok":
        bad = effect_from_moments(None, "absolute", level, inference, method, status)
        rel = replace(bad, scale="relative")
        return Comparison(kind, method, n_a, n_b, *shown, bad, rel, theta)
    dof = welch_dof(v_a, n_a, v_b, n_b) if use_t else None
    n = n_a + n_b
    absolute = effect_from_moments(Moments(m_b - m_a, v_b / n_b + v_a / n_a, dof, n), "absolute",
                                   level, inference, method)
    base = m_a if rel_base is None else rel_base
    rel_method = f"{method}; relative lift by the delta method"
    if base == 0:
        relative = effect_from_moments(None, "relative", level, inference, rel_method,
                                       "the control mean is 0: no relative lift, "
                                       "read the absolute one")
    else:
        var = rel_variance
        if var is None:
            var = v_b / (base**2 * n_b) + v_a * m_b**2 / (base**4 * n_a)
        relative = effect_from_moments(Moments((m_b - m_a) / abs(base), var, dof, n), "relative",
                                       level, inference, rel_method)
    return Comparison(kind, method, n_a, n_b, *shown, absolute, relative, theta)


def welch_test(control: MeanStats, variant: MeanStats, level: float = 0.95,
               tuning: float | None = None) -> Comparison:
    """Welch's t test of two means; ``tuning`` (N*) switches to always-valid intervals."""
    return _compare("mean", "Welch t", control.n, variant.n, control.mean, variant.mean,
                    control.variance, variant.variance, level, sequential(tuning))


def proportion_test(control: Proportion, variant: Proportion, level: float = 0.95,
                    tuning: float | None = None) -> Comparison:
    """Two shares compared as means of 0/1 with the unpooled variance p(1 − p) per arm and
    Welch's ν (GrowthBook's frequentist proportion test); the absolute lift is in share points."""
    def var(p: Proportion) -> float | None:
        return None if p.share is None else p.share * (1 - p.share)
    return _compare("proportion", "two-proportion t (unpooled)", control.n, variant.n,
                    control.share, variant.share, var(control), var(variant), level,
                    sequential(tuning))


def ratio_test(control: RatioStats, variant: RatioStats, level: float = 0.95,
               tuning: float | None = None) -> Comparison:
    """Ratio metrics Σm/Σd per arm, each variance by the delta method, then Welch's t."""
    return _compare("ratio", "ratio of means, delta method, Welch t", control.n, variant.n,
                    control.ratio, variant.ratio, control.variance, variant.variance, level,
                    sequential(tuning))


def cuped_test(control: CovariateStats, variant: CovariateStats, level: float = 0.95,
               tuning: float | None = None, theta: float | None = None) -> Comparison:
    """CUPED: compare ȳ − θx̄ with θ pooled over both arms (``pooled_theta``) unless given.

    θ = 0 (no variance before or after) falls back to ``welch_test`` on the outcome. The means
    shown are the unadjusted ones; the lifts are the adjusted ones.
    """
    th = pooled_theta(control, variant) if theta is None else theta
    if th == 0:
        plain = welch_test(control.post, variant.post, level, tuning)
        return replace(plain, kind="cuped", method="Welch t (CUPED skipped: θ = 0)", theta=0.0)
    inference = sequential(tuning)
    method = f"CUPED (pooled θ = {th:.4g}), Welch t"
    means = (control.post.mean, variant.post.mean)
    status = _size_status(control.n, variant.n)
    if status != "ok":
        return _compare("cuped", method, control.n, variant.n, None, None, None, None, level,
                        inference, theta=th, means=means)
    ma, mb = control.adjusted_mean(th), variant.adjusted_mean(th)
    va, vb = control.adjusted_variance(th), variant.adjusted_variance(th)
    ya, yb = means
    rel_var = None
    if ya:
        c_term = (control.post.variance * yb**2 / ya**2 - 2 * th * control.covariance * yb / ya
                  + th**2 * control.pre.variance)
        rel_var = vb / (variant.n * ya**2) + c_term / (control.n * ya**2)
    return _compare("cuped", method, control.n, variant.n, ma, mb, va, vb, level, inference,
                    rel_variance=rel_var, rel_base=ya, theta=th, means=means)


def nps_test(control: NPS, variant: NPS, level: float = 0.95,
             tuning: float | None = None) -> Comparison:
    """NPS_variant − NPS_control with Rocks' trinomial variance and a z test (fractions in
    [−2, 2]; × 100 for points). No relative lift: a net score can be 0 or negative."""
    inference = sequential(tuning)
    method = "NPS difference, trinomial variance (Rocks 2016), z"
    rel = effect_from_moments(None, "relative", level, inference, method,
                              "a net score has no relative lift: read the difference in points")
    d = nps_difference(variant, control, level)
    status = _size_status(control.n, variant.n)
    if status != "ok" or d.difference is None or d.se is None or d.se == 0:
        if status == "ok":
            status = d.status if d.status != "ok" else "no variance"
        absolute = effect_from_moments(None, "absolute", level, inference, method, status)
        if d.se == 0 and d.difference is not None:
            absolute = replace(absolute, estimate=d.difference, se=0.0)
    elif isinstance(inference, FixedHorizon):
        absolute = Effect("absolute", d.difference, d.low, d.high, d.p_value, d.se, level, method)
    else:
        m = Moments(d.difference, d.se**2, None, control.n + variant.n)
        absolute = effect_from_moments(m, "absolute", level, inference, method)
    return Comparison("nps", method, control.n, variant.n, control.score, variant.score,
                      absolute, rel)


def pre_period_balance(control: CovariateStats, variant: CovariateStats,
                       level: float = 0.95) -> Comparison:
    """Were the arms alike before assignment? Welch's t on the pre-period covariate; a small
    p-value means randomisation (or the assignment log) went wrong, and CUPED then corrects
    only what a linear fit of the covariate can."""
    c = welch_test(control.pre, variant.pre, level)
    return replace(c, kind="pre_period", method="pre-period balance, Welch t")


def two_proportion_z(control: Proportion, variant: Proportion, level: float = 0.95,
                     continuity: bool = False) -> Effect:
    """The classic pooled two-proportion z test (the same p as Pearson's χ² on the 2×2 table;
    with ``continuity``, Yates' correction: |p_b − p_a| − (1/n_a + 1/n_b)/2). The interval is
    the unpooled Wald interval of p_b − p_a."""
    from scipy import stats as st

    method = "pooled two-proportion z"
    if continuity:
        method += " with Yates' continuity correction"
    status = _size_status(control.n, variant.n)
    if status != "ok":
        return Effect("absolute", None, None, None, None, None, level, method, status)
    pa, pb = control.share, variant.share
    pool = (control.successes + variant.successes) / (control.n + variant.n)
    se0 = (pool * (1 - pool) * (1 / control.n + 1 / variant.n)) ** 0.5
    if se0 == 0:
        return Effect("absolute", pb - pa, None, None, None, 0.0, level, method,
                      "every unit in both arms has the same outcome: nothing to test")
    gap = abs(pb - pa) - (0.5 * (1 / control.n + 1 / variant.n) if continuity else 0.0)
    p = float(min(1.0, 2 * st.norm.sf(max(gap, 0.0) / se0)))
    se = (pa * (1 - pa) / control.n + pb * (1 - pb) / variant.n) ** 0.5
    h = float(st.norm.ppf(0.5 + check_level(level) / 2)) * se
    return Effect("absolute", pb - pa, pb - pa - h, pb - pa + h, p, se, level, method)
