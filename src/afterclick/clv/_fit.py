"""Shared fitting machinery: weighted data, log-parameter L-BFGS-B, validation of the result.

Every model fits by maximum likelihood on the log of its parameters (all are positive), with a
vectorised log-likelihood that returns its gradient too. Customers with identical inputs are
collapsed into one row with a weight (``count``): on real and simulated data alike that shrinks
a million customers to a few hundred thousand rows or fewer, which is what makes fits fast.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits


class ConvergenceError(RuntimeError):
    """A fit that did not reach a maximum of the likelihood; the message says what to try."""


@dataclass(frozen=True)
class FitInfo:
    """How a fit went: log-likelihood at the optimum, iterations, rows fitted and customers."""

    log_likelihood: float
    iterations: int
    rows: int
    customers: float


def require_columns(summary: pd.DataFrame, columns: Sequence[str], model: str) -> None:
    """Fail in one line when the summary lacks a column a model needs."""
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise ValueError(
            f"{model}: required column(s) {missing} missing from the summary "
            f"(it has {list(summary.columns)}); build it with afterclick.clv.rfm_summary"
        )


#: Days per time unit (and hours per day, week): RFM times are whole days (or hours) over one.
_SCALES = (1.0, 7.0, 30.436875, 365.2425, 24.0, 168.0)


def _column_codes(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Integer codes of a column's values and how many codes there can be.

    Whole numbers (frequencies) and times that are whole days in some unit (recency and T in
    weeks are days / 7) are coded arithmetically, with no hashing; other values by factorizing.
    """
    if len(a):
        for scale in _SCALES:
            whole = np.rint(a * scale)
            lo, hi = float(whole.min()), float(whole.max())
            # exact round trip: every value is precisely (whole number) / scale
            if hi - lo < 1e7 and np.array_equal(whole / scale if scale != 1.0 else whole, a):
                return (whole - lo).astype(np.int64), int(hi - lo) + 1
    code, uniques = pd.factorize(a)
    return code.astype(np.int64), len(uniques)


def unique_rows(columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` (same keys) and each input row's index into them.

    Each column is coded as integers (:func:`_column_codes`) and the codes combined into one key;
    far faster on a million rows than sorting or hashing float rows.
    """
    names = list(columns)
    arrays = [np.asarray(columns[n], dtype=float) for n in names]
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    size = 1
    for a in arrays:
        code, n = _column_codes(a)
        if size * n >= 2**62:
            key, uniques = pd.factorize(key)  # renumber densely before the key could overflow
            key, size = key.astype(np.int64), len(uniques)
        key = key * n + code
        size *= n
    if size <= 4 * len(key) + 1024:
        # dense key space: a lookup table instead of a hash table
        present = np.zeros(size, dtype=bool)
        present[key] = True
        index = np.cumsum(present) - 1
        inverse = index[key]
        n_unique = int(present.sum())
    else:
        inverse, uniques = pd.factorize(key)
        n_unique = len(uniques)
    # any row of a group represents it (they are identical): the last one written wins here
    rep = np.empty(n_unique, dtype=np.int64)
    rep[inverse] = np.arange(len(key))
    return {n: a[rep] for n, a in zip(names, arrays)}, inverse


def weighted_unique(columns: dict[str, np.ndarray], weights: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Collapse identical rows of ``columns`` into one each, with the summed weights."""
    uniq, inverse = unique_rows(columns)
    w = np.ones(len(inverse)) if weights is None else np.asarray(weights, dtype=float)
    return uniq, np.bincount(inverse, weights=w, minlength=len(next(iter(uniq.values()))))


def codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and each element's index into them (to evaluate a term once per value)."""
    u, inv = np.unique(values, return_inverse=True)
    return u, inv.reshape(-1)


def check_inputs(model: str, **arrays: np.ndarray) -> None:
    """Finite, non-negative inputs, or one line naming the column and the first bad row."""
    for name, a in arrays.items():
        bad = ~np.isfinite(a) | (a < 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{model}: column {name!r} must be finite and >= 0 (row {i} holds {a[i]!r})")


def maximize(
    model: str,
    names: Sequence[str],
    neg_ll: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    customers: float,
    rows: int,
    max_iter: int = 500,
    advice: str = "",
) -> tuple[dict[str, float], FitInfo]:
    """Minimise ``neg_ll`` over log-parameters with L-BFGS-B and validate the optimum.

    ``neg_ll(log_params)`` returns the negative log-likelihood and its gradient with respect to
    the log-parameters. Raises :class:`ConvergenceError` (one line, with advice) when the
    optimiser stops without converging or lands on non-finite or degenerate values.
    """
    # Scaled per customer so tolerances mean the same for 2,000 customers and for a million.
    scale = 1.0 / max(customers, 1.0)

    def f(z: np.ndarray) -> tuple[float, np.ndarray]:
        v, g = neg_ll(z)
        if not np.isfinite(v) or not np.all(np.isfinite(g)):
            # steer the line search away from overflow instead of stopping there
            return 1e300, np.zeros_like(z)
        return v * scale, g * scale

    # L-BFGS-B calls BLAS on vectors of 3-4 numbers; a threaded BLAS wakes its threads for each
    # call, which on a busy machine made the optimiser's own steps cost more than the likelihood
    with threadpool_limits(limits=1, user_api="blas"):
        res = minimize(f, np.log(start), jac=True, method="L-BFGS-B",
                       bounds=[(-12.0, 12.0)] * len(start),
                       options={"maxiter": max_iter, "ftol": 1e-13, "gtol": 1e-7, "maxls": 50})
    params = np.exp(res.x)
    ll = -res.fun / scale
    what = advice or "try other starting values or check the summary's time unit"
    if not np.all(np.isfinite(params)) or not np.isfinite(ll) or res.fun >= 1e299:
        raise ConvergenceError(f"{model} fit failed: the log-likelihood is not finite at the optimum; {what}")
    at_bound = np.abs(res.x) >= 11.9
    if at_bound.any():
        which = ", ".join(n for n, b in zip(names, at_bound) if b)
        raise ConvergenceError(
            f"{model} fit did not converge: {which} ran off to {'0' if res.x[at_bound][0] < 0 else 'infinity'} "
            f"(the data cannot identify it); {what}"
        )
    if not res.success and np.max(np.abs(res.jac)) > 1e-4:
        raise ConvergenceError(f"{model} fit did not converge ({res.message}); {what}")
    return dict(zip(names, (float(p) for p in params))), FitInfo(float(ll), int(res.nit), rows, float(customers))
