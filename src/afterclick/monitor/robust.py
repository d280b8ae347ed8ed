"""Robust building blocks: MAD scale, robust z, the generalised ESD test and STL.

Sources
-------
* MAD with the normal consistency constant 1/Φ⁻¹(3/4) ≈ 1.4826 (SciPy ``scale="normal"``);
  robust z = (x − median) / (1.4826 · MAD), the Iglewicz–Hoaglin modified z up to their 0.6745
  (NIST/SEMATECH e-Handbook §1.3.5.17).
* Generalised ESD: B. Rosner (1983), "Percentage points for a generalized ESD many-outlier
  procedure", Technometrics 25(2): Rᵢ = max|x − x̄|/s after removing i−1 points,
  λᵢ = (n−i)·t / √((n−i−1+t²)(n−i+1)), t = t_{1−α/(2(n−i+1)), n−i−1}; the number of outliers is
  the largest i with Rᵢ > λᵢ.
* STL: R. B. Cleveland, W. S. Cleveland, J. E. McRae, I. Terpenning (1990), "STL: a
  seasonal-trend decomposition procedure based on loess", J. Official Statistics 6(1), as
  implemented by statsmodels (a port of the original Fortran).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as _st
from statsmodels.tsa.seasonal import STL

#: 1/Φ⁻¹(0.75): the MAD of a normal sample times this estimates its standard deviation.
MAD_NORMAL = float(1 / _st.norm.ppf(0.75))


def robust_sigma(values: np.ndarray) -> float:
    """1.4826 · MAD of the finite values; when over half are equal (MAD 0), the mean absolute
    deviation from the median times √(π/2) (Iglewicz & Hoaglin's fallback); 0 if all are equal."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return float("nan")
    dev = np.abs(x - np.median(x))
    mad = float(np.median(dev))
    if mad > 0:
        return MAD_NORMAL * mad
    return float(np.mean(dev) * np.sqrt(np.pi / 2))


def robust_z(values: np.ndarray) -> np.ndarray:
    """(x − median) / robust_sigma; zeros when the values do not vary, NaN stays NaN."""
    x = np.asarray(values, dtype=float)
    sigma = robust_sigma(x)
    if not np.isfinite(sigma) or sigma == 0:
        return np.where(np.isfinite(x), 0.0, np.nan)
    return (x - np.nanmedian(x)) / sigma


@dataclass(frozen=True)
class EsdResult:
    """Rosner's generalised ESD: test statistics ``R`` and critical values ``lam`` for i = 1..r,
    the number of outliers and their positions in the input (most extreme first)."""

    statistics: tuple[float, ...]
    critical: tuple[float, ...]
    n_outliers: int
    outliers: tuple[int, ...]
    alpha: float


def generalized_esd(values: np.ndarray, max_outliers: int, alpha: float = 0.05) -> EsdResult:
    """Rosner's (1983) generalised extreme studentised deviate test for up to ``max_outliers``."""
    x = np.asarray(values, dtype=float)
    n = x.size
    if not 0 < max_outliers < n - 2:
        raise ValueError(f"max_outliers must be between 1 and n − 3 = {n - 3}, not {max_outliers}")
    keep = np.ones(n, dtype=bool)
    stats_, crit, removed = [], [], []
    for i in range(1, max_outliers + 1):
        sub = x[keep]
        dev = np.abs(sub - sub.mean())
        j = int(np.argmax(dev))
        stats_.append(float(dev[j] / sub.std(ddof=1)))
        p = 1 - alpha / (2 * (n - i + 1))
        t = _st.t.ppf(p, n - i - 1)
        crit.append(float((n - i) * t / np.sqrt((n - i - 1 + t * t) * (n - i + 1))))
        idx = int(np.flatnonzero(keep)[j])
        removed.append(idx)
        keep[idx] = False
    above = [i for i in range(max_outliers) if stats_[i] > crit[i]]
    k = above[-1] + 1 if above else 0
    return EsdResult(tuple(stats_), tuple(crit), k, tuple(removed[:k]), alpha)


@dataclass(frozen=True)
class StlSettings:
    """STL's smoothing settings (statsmodels names). ``trend``/``low_pass`` None take STL's
    defaults; ``robust`` turns on STL's bisquare robustness weights (the judge leaves it off: with
    them most residuals shrink towards zero and the MAD scale with them, so ordinary values pass the
    threshold; it takes spikes out of the fit by refitting instead)."""

    period: int
    seasonal: int = 7
    trend: int | None = None
    low_pass: int | None = None
    seasonal_deg: int = 1
    trend_deg: int = 1
    low_pass_deg: int = 1
    seasonal_jump: int = 1
    trend_jump: int = 1
    low_pass_jump: int = 1
    robust: bool = False
    inner_iter: int | None = None
    outer_iter: int | None = None


@dataclass(frozen=True, eq=False)
class Decomposition:
    trend: np.ndarray
    seasonal: np.ndarray
    resid: np.ndarray
    weights: np.ndarray


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """Linear interpolation over NaN gaps (ends take the nearest value); a copy."""
    x = np.asarray(values, dtype=float).copy()
    bad = ~np.isfinite(x)
    if bad.any() and (~bad).any():
        idx = np.arange(x.size)
        x[bad] = np.interp(idx[bad], idx[~bad], x[~bad])
    return x


def decompose(values: np.ndarray, settings: StlSettings) -> Decomposition:
    """STL of a gap-filled series: trend, seasonal, residual and robustness weights."""
    y = fill_gaps(values)
    model = STL(y, period=settings.period, seasonal=settings.seasonal, trend=settings.trend,
                low_pass=settings.low_pass, seasonal_deg=settings.seasonal_deg,
                trend_deg=settings.trend_deg, low_pass_deg=settings.low_pass_deg,
                robust=settings.robust, seasonal_jump=settings.seasonal_jump,
                trend_jump=settings.trend_jump, low_pass_jump=settings.low_pass_jump)
    res = model.fit(inner_iter=settings.inner_iter, outer_iter=settings.outer_iter)
    return Decomposition(np.asarray(res.trend), np.asarray(res.seasonal),
                         np.asarray(res.resid), np.asarray(res.weights))


def hampel_clean(values: np.ndarray, threshold: float, half_window: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Replace isolated outliers by their local median (Hampel filter with a global scale).

    A point is an outlier when it is more than ``threshold`` robust sigmas of the
    (value − local median) series from its local median. Returns the cleaned copy and the mask.
    """
    x = fill_gaps(values)
    n = x.size
    med = np.array([np.median(x[max(0, i - half_window): i + half_window + 1]) for i in range(n)])
    dev = x - med
    sigma = robust_sigma(dev)
    if not np.isfinite(sigma) or sigma == 0:
        return x, np.zeros(n, dtype=bool)
    mask = np.abs(dev) > threshold * sigma
    out = x.copy()
    out[mask] = med[mask]
    return out, mask
