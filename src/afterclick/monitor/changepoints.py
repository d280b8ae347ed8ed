"""Change points in a KPI's level: PELT (R. Killick, P. Fearnhead, I. A. Eckley (2012), "Optimal
detection of changepoints with a linear computational cost", JASA 107(500)) from ``ruptures``.

Cost ``l2`` (sum of squared deviations from each segment's mean), every period a candidate
(``jump=1``; ruptures' default ``jump=5`` only considers multiples of 5), ``min_size`` periods per
segment.

Penalty (the sensitivity): for Gaussian noise of variance σ², the l2 cost is σ² times −2 log
likelihood, and BIC charges ln T per parameter; a break adds two (its place and the new mean), so
BIC's penalty is 2·σ²·ln T. σ is estimated from first differences, 1.4826·MAD(Δx)/√2, which a
level shift barely moves. The default factor is 3 (3·σ²·ln T), a little stricter than BIC: on
flat Gaussian noise of 104 periods it found a false break in 3 % of series against 15 % with BIC's
2, while finding the Nile's one break (1898/1899) at any factor from 2 to 4. There is no rule that
fits every data set (ruptures issues #4, #275): pass ``penalty`` (absolute) or ``penalty_factor``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import ruptures as rpt

from afterclick.monitor.robust import MAD_NORMAL


class CostL2Sums(rpt.base.BaseCost):
    """ruptures' ``l2`` cost from running sums: Σx² − (Σx)²/n per segment in constant time, the
    same cost as ``CostL2`` (which recomputes a variance per call), so PELT stays fast on a few
    years of daily values. The series is centred first to keep the sums small."""

    model = "l2_sums"
    min_size = 1

    def fit(self, signal):
        x = np.asarray(signal, dtype=float).ravel()
        self.signal = x.reshape(-1, 1)
        x = x - x.mean()
        self.s1 = np.r_[0.0, np.cumsum(x)]
        self.s2 = np.r_[0.0, np.cumsum(x * x)]
        return self

    def error(self, start, end):
        if end - start < self.min_size:
            raise rpt.NotEnoughPoints
        s = self.s1[end] - self.s1[start]
        return max(self.s2[end] - self.s2[start] - s * s / (end - start), 0.0)


DEFAULT_PENALTY_FACTOR = 3.0
DEFAULT_MIN_SIZE = 3


def noise_sigma(values: np.ndarray) -> float:
    """σ of the noise around a piecewise-constant level: 1.4826·MAD(first differences)/√2."""
    d = np.diff(np.asarray(values, dtype=float))
    d = d[np.isfinite(d)]
    if d.size == 0:
        return 0.0
    return float(MAD_NORMAL * np.median(np.abs(d - np.median(d))) / np.sqrt(2))


def default_penalty(values: np.ndarray, factor: float = DEFAULT_PENALTY_FACTOR) -> float:
    """``factor``·σ²·ln T with σ from :func:`noise_sigma` (see the module docstring)."""
    x = np.asarray(values, dtype=float)
    return float(factor * noise_sigma(x) ** 2 * np.log(max(x.size, 2)))


@dataclass(frozen=True)
class Segment:
    """Positions ``start`` (inclusive) to ``end`` (exclusive) at one level (their mean)."""

    start: int
    end: int
    mean: float

    @property
    def n(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class ChangePoints:
    """Breakpoints in ruptures' convention (exclusive segment ends, the last equal to T): a break
    at 28 means position 27 is the last of the old level and 28 the first of the new."""

    breakpoints: tuple[int, ...]
    segments: tuple[Segment, ...]
    penalty: float
    sigma: float

    @property
    def breaks(self) -> tuple[int, ...]:
        return self.breakpoints[:-1]


def find_change_points(
    values: np.ndarray,
    *,
    penalty: float | None = None,
    penalty_factor: float = DEFAULT_PENALTY_FACTOR,
    min_size: int = DEFAULT_MIN_SIZE,
) -> ChangePoints:
    """PELT (``l2`` cost, ``jump=1``) on a gap-free series; no break when the noise is zero."""
    x = np.asarray(values, dtype=float)
    if not np.isfinite(x).all():
        raise ValueError("change points need a series without gaps; fill them first")
    sigma = noise_sigma(x)
    pen = default_penalty(x, penalty_factor) if penalty is None else float(penalty)
    if x.size < 2 * min_size or pen <= 0:
        bkps = [x.size]
    else:
        cost = CostL2Sums()
        cost.min_size = min_size
        bkps = rpt.Pelt(custom_cost=cost, min_size=min_size, jump=1).fit(x).predict(pen=pen)
    return ChangePoints(tuple(int(b) for b in bkps), segments_of(x, bkps), pen, sigma)


def segments_of(values: np.ndarray, breakpoints) -> tuple[Segment, ...]:
    x = np.asarray(values, dtype=float)
    starts = [0, *breakpoints[:-1]]
    return tuple(Segment(int(s), int(e), float(np.nanmean(x[s:e]))) for s, e in zip(starts, breakpoints))
