"""Checks around a test: sample-ratio mismatch, multiple comparisons, heavy tails.

* SRM (Fabijan, Gupchup, Gupta, Omhover, Qin, Vermeer & Dmitriev 2019, "Diagnosing Sample
  Ratio Mismatch in Online Controlled Experiments", KDD): Pearson's χ² goodness of fit of the
  assigned counts against the planned split, Σ(O − E)²/E on k − 1 degrees of freedom, no
  continuity correction (GrowthBook's way); flagged at p < 0.001 (GrowthBook's default).
  For two arms the exact binomial test and the normal approximation with a continuity
  correction (tea-tasting's ``SampleRatio``) are offered too; the result names its method,
  because 2023 vs 1977 gives 0.467 by χ² and 0.477 with the correction.
* Multiple comparisons over metrics × variants: Holm (1979, Scand. J. Statist. 6) step-down
  family-wise control, or Benjamini & Hochberg (1995, JRSS B 57) step-up false-discovery rate.
* Novelty (Kohavi, Tang & Xu 2020, "Trustworthy Online Controlled Experiments", ch. 23): the
  lift measured separately for customers in their 1st, 2nd, … week of exposure, and the
  inverse-variance weighted least-squares slope of those lifts over the week, w = 1/se²:
  b = Σw(x − x̄_w)(y − ȳ_w)/Σw(x − x̄_w)², Var(b) = 1/Σw(x − x̄_w)², a z test of b = 0.
* Heavy tails: winsorising at pooled percentile caps. The caps are percentiles of both arms
  together (computed once, applied to both), so capping cannot itself create a difference;
  a ratio metric caps its numerator and denominator separately.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
from scipy import stats as _st

from afterclick.stats.experiment.effects import Effect

#: GrowthBook shows its sample-ratio warning below this p-value.
SRM_THRESHOLD = 0.001

SrmMethod = Literal["chi2", "binomial", "normal_cc"]
_SRM_NAMES = {"chi2": "Pearson χ² goodness of fit",
              "binomial": "exact binomial test",
              "normal_cc": "normal approximation with continuity correction"}


@dataclass(frozen=True)
class SampleRatio:
    """Observed units per arm against the planned split; ``flagged`` when p < threshold."""

    counts: tuple[int, ...]
    planned: tuple[float, ...]
    statistic: float | None
    p_value: float | None
    method: str
    threshold: float = SRM_THRESHOLD
    status: str = "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def flagged(self) -> bool:
        return self.ok and self.p_value is not None and self.p_value < self.threshold

    @property
    def observed_shares(self) -> tuple[float, ...]:
        total = sum(self.counts)
        return tuple(c / total for c in self.counts) if total else ()


def srm_test(counts: Sequence[int], planned: Sequence[float] | None = None,
             method: SrmMethod = "chi2", threshold: float = SRM_THRESHOLD) -> SampleRatio:
    """Sample-ratio mismatch: are ``counts`` (units assigned per arm) what ``planned`` (weights
    per arm, any scale; equal by default) would give? ``method``: "chi2" (any number of arms),
    "binomial" or "normal_cc" (two arms)."""
    obs = tuple(int(c) for c in counts)
    weights = tuple(float(w) for w in (planned if planned is not None else [1.0] * len(obs)))
    name = _SRM_NAMES.get(method)
    if name is None:
        raise ValueError(f"SRM method must be one of {sorted(_SRM_NAMES)}, not {method!r}")
    if len(weights) != len(obs):
        raise ValueError(f"{len(obs)} arms counted but {len(weights)} planned weights given")
    if any(c < 0 for c in obs) or any(not w > 0 for w in weights):
        raise ValueError("counts must be ≥ 0 and planned weights > 0")
    total = sum(obs)
    if len(obs) < 2 or total == 0:
        return SampleRatio(obs, weights, None, None, name, threshold,
                           "needs at least two arms and one assigned unit")
    share = np.array(weights) / sum(weights)
    if method == "chi2":
        expected = total * share
        stat = float(((np.array(obs) - expected) ** 2 / expected).sum())
        p = float(_st.chi2.sf(stat, len(obs) - 1))
        return SampleRatio(obs, weights, stat, p, name, threshold)
    if len(obs) != 2:
        raise ValueError(f"the {name} takes two arms; use method='chi2' for {len(obs)}")
    if method == "binomial":
        p = float(_st.binomtest(obs[0], total, float(share[0])).pvalue)
        return SampleRatio(obs, weights, None, p, name, threshold)
    sd = math.sqrt(total * share[0] * (1 - share[0]))
    z = max(0.0, abs(obs[0] - total * share[0]) - 0.5) / sd
    return SampleRatio(obs, weights, z, float(2 * _st.norm.sf(z)), name, threshold)


Correction = Literal["holm", "bh"]
_CORRECTION_NAMES = {"holm": "Holm", "bh": "Benjamini–Hochberg"}


def adjusted_p_values(p_values: Sequence[float], method: Correction = "holm") -> list[float]:
    """Holm: p̃_(i) = max_{j≤i} min(1, (m − j + 1) p_(j)) over the sorted p-values;
    Benjamini–Hochberg: p̃_(i) = min_{j≥i} min(1, m p_(j)/j)."""
    if method not in _CORRECTION_NAMES:
        raise ValueError(f"correction must be 'holm' or 'bh', not {method!r}")
    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return []
    order = np.argsort(p, kind="stable")
    ranked = p[order]
    if method == "holm":
        adj = np.maximum.accumulate(np.minimum(1.0, (m - np.arange(m)) * ranked))
    else:
        adj = np.minimum.accumulate(np.minimum(1.0, m * ranked / np.arange(1, m + 1))[::-1])[::-1]
    out = np.empty(m)
    out[order] = adj
    return [float(x) for x in out]


def adjust_p_values(effects: Sequence[Effect], method: Correction = "holm") -> list[Effect]:
    """Correct a family of effects (every metric × variant of one experiment) together.

    Effects with a status (no p-value) stay out of the family and come back unchanged; the
    others get ``p_adjusted`` and ``correction`` ("Holm over 6 tests")."""
    tested = [i for i, e in enumerate(effects) if e.ok and e.p_value is not None]
    adj = adjusted_p_values([effects[i].p_value for i in tested], method)
    label = f"{_CORRECTION_NAMES[method]} over {len(tested)} tests"
    out = list(effects)
    for i, p in zip(tested, adj, strict=True):
        out[i] = replace(effects[i], p_adjusted=p, correction=label)
    return out


@dataclass(frozen=True)
class Caps:
    """Winsorising bounds, the pooled percentiles they came from, and how many values of the
    pooled sample they moved."""

    low: float | None
    high: float | None
    lower_quantile: float | None
    upper_quantile: float | None
    n_capped: int

    def apply(self, values: np.ndarray | Sequence[float]) -> np.ndarray:
        """The values clipped to [low, high] (a bound of None is left open)."""
        x = np.asarray(values, dtype=float)
        return np.clip(x, -np.inf if self.low is None else self.low,
                       np.inf if self.high is None else self.high)


def percentile_caps(*arms: np.ndarray | Sequence[float], upper: float | None = 0.99,
                    lower: float | None = None) -> Caps:
    """Caps at the ``upper`` (and optional ``lower``) quantile of all arms pooled (linear
    interpolation, numpy's default; the same as DuckDB's ``quantile_cont``)."""
    for q in (upper, lower):
        if q is not None and not 0 < q < 1:
            raise ValueError(f"a cap quantile must lie strictly between 0 and 1, not {q!r}")
    pooled = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arms] or [np.array([])])
    if pooled.size == 0:
        return Caps(None, None, lower, upper, 0)
    hi = float(np.quantile(pooled, upper)) if upper is not None else None
    lo = float(np.quantile(pooled, lower)) if lower is not None else None
    moved = int((pooled > hi).sum() if hi is not None else 0)
    moved += int((pooled < lo).sum() if lo is not None else 0)
    return Caps(lo, hi, lower, upper, moved)


@dataclass(frozen=True)
class Novelty:
    """Trend of the lift over exposure weeks: ``estimate`` is the change per week (in the
    effects' scale), ``fading`` when it runs against the first week's lift and is significant."""

    estimate: float | None
    low: float | None
    high: float | None
    p_value: float | None
    weeks: int
    first_effect: float | None
    level: float
    method: str = "inverse-variance weighted trend of the lift over exposure weeks, z"
    status: str = "ok"

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def fading(self, alpha: float = 0.05) -> bool:
        return (self.ok and self.p_value is not None and self.p_value < alpha
                and self.first_effect is not None and self.estimate * self.first_effect < 0)


def novelty_check(weekly: Sequence[Effect], level: float = 0.95) -> Novelty:
    """Does the lift change with exposure week? ``weekly[i]`` is the lift among units in their
    week i + 1 of exposure (each from the same test on that week's sums); weeks without an
    estimate are left out."""
    rows = [(i + 1.0, e.estimate, e.se) for i, e in enumerate(weekly)
            if e.ok and e.estimate is not None and e.se]
    if len(rows) < 3:
        return Novelty(None, None, None, None, len(rows), None, level,
                       status="needs lifts for at least 3 exposure weeks")
    x, y, se = (np.array(c) for c in zip(*rows, strict=True))
    w = 1 / se**2
    xc = x - (w * x).sum() / w.sum()
    sxx = (w * xc * xc).sum()
    slope = float((w * xc * (y - (w * y).sum() / w.sum())).sum() / sxx)
    sd = math.sqrt(1 / sxx)
    half = float(_st.norm.ppf(0.5 + level / 2)) * sd
    p = float(2 * _st.norm.sf(abs(slope) / sd))
    return Novelty(slope, slope - half, slope + half, p, len(rows), float(y[0]), level)
