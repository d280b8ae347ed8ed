"""₂F₁(k, b; k+1; z) with its derivatives in k, b and z, for the Pareto/NBD likelihood.

Pareto/NBD needs F = ₂F₁(r+s+x, b; r+s+x+1; z(τ)) on every distinct (x, τ) pair, where b and k
depend on x alone and z on τ. Its power series, ₂F₁ = Σₙ (b)ₙ/n! · k/(k+n) · zⁿ, is then a
polynomial in z whose coefficients are shared by all pairs with the same x: for each x the
coefficients (and those of ∂/∂k, ∂/∂b, ∂/∂z, which are analytic term by term) are computed once,
and one matrix product evaluates all four at every pair of that x. Every term is positive, so the
sum is accurate to a few units of rounding. Where the series would need too many terms
(z near 1, or a large b·z), or for a group of few pairs (where the per-group work would cost
more than it saves), the caller falls back to SciPy's ``hyp2f1`` (values) and differences.
"""

from __future__ import annotations

import numpy as np

#: Most terms a group's series may take; beyond, the group is left to SciPy.
MAX_TERMS = 300
#: Largest z the series handles (its terms shrink about like zⁿ).
MAX_Z = 0.7
#: Fewest pairs for which a group's series beats SciPy's six evaluations (value, ∂z, differences).
MIN_PAIRS = 256
#: Terms are summed until the next would change no sum by more than this, relative to F ≥ 1.
_TOL = 1e-17


class Groups:
    """Pairs grouped by x: the sort order, each group's slice of it and its x."""

    def __init__(self, x: np.ndarray):
        self.order = np.argsort(x, kind="stable")
        xs = x[self.order]
        starts = np.flatnonzero(np.r_[True, xs[1:] != xs[:-1]]) if len(xs) else np.zeros(0, dtype=np.int64)
        self.bounds = list(zip(starts, np.r_[starts[1:], len(xs)]))
        self.x = xs[starts] if len(xs) else xs


def _terms(b: float, z_max: float) -> int:
    """How many terms the series needs at z_max (0 when more than MAX_TERMS)."""
    if z_max <= 0.0:
        return 2
    n = np.arange(1, MAX_TERMS)
    log_c = np.cumsum(np.log((b + n - 1) * z_max / n))  # ln[(b)ₙ zⁿ / n!]
    harmonic = np.cumsum(1.0 / (b + n - 1))
    # the largest term of any of the four sums, bounded by cₙ · (n+1)(1+Hₙ)/z
    log_bound = log_c + np.log(n + 1.0) + np.log1p(harmonic) - np.log(z_max)
    big = np.flatnonzero(log_bound >= np.log(_TOL))
    if not len(big):
        return 2
    last = int(big[-1]) + 1  # index into n = last + 1
    return 0 if last + 2 >= MAX_TERMS else last + 2


def _coefficients(k: float, b: float, N: int) -> np.ndarray:
    """N × 4: the coefficients of zⁿ in F, ∂F/∂k, ∂F/∂b and ∂F/∂z."""
    n = np.arange(N, dtype=float)
    ratio = np.ones(N)
    ratio[1:] = (b + n[1:] - 1) / n[1:]
    c = np.cumprod(ratio)  # (b)ₙ / n!
    e = k / (k + n)
    harmonic = np.zeros(N)
    harmonic[1:] = np.cumsum(1.0 / (b + n[:-1]))  # Hₙ = Σ_{j<n} 1/(b+j) = ∂ ln (b)ₙ/∂b
    C = np.empty((N, 4))
    C[:, 0] = c * e
    C[:, 1] = c * n / (k + n) ** 2
    C[:, 2] = c * e * harmonic
    C[:-1, 3] = n[1:] * C[1:, 0]
    C[-1, 3] = 0.0
    return C


def series(groups: Groups, k_of_x: np.ndarray, b_of_x: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F, ∂F/∂k, ∂F/∂b, ∂F/∂z (4 × pairs, in the pairs' order) and a mask of the pairs done.

    ``k_of_x`` and ``b_of_x`` hold k and b for each group (``groups.x``); ``z`` is per pair.
    """
    out = np.full((4, len(z)), np.nan)
    done = np.zeros(len(z), dtype=bool)
    for (lo, hi), k, b in zip(groups.bounds, k_of_x, b_of_x):
        if hi - lo < MIN_PAIRS:
            continue
        rows = groups.order[lo:hi]
        zg = z[rows]
        z_max = float(zg.max())
        N = _terms(b, z_max) if z_max <= MAX_Z else 0
        if N == 0:
            continue
        V = np.empty((N, len(rows)))  # powers of z, one row per power
        V[0] = 1.0
        for n in range(1, N):
            np.multiply(V[n - 1], zg, out=V[n])
        out[:, rows] = _coefficients(k, b, N).T @ V
        done[rows] = True
    return out, done
