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


def unique_rows(columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` (same keys) and each input row's index into them.

    Each column is coded by its distinct values and the codes combined into one integer key;
    hash-based factorizing is O(n), where sorting float rows is what used to dominate.
    """
    names = list(columns)
    arrays = [np.asarray(columns[n], dtype=float) for n in names]
    key = np.zeros(len(arrays[0]), dtype=np.int64)
    for a in arrays:
        code, u = pd.factorize(a)
        key = key * len(u) + code  # fits int64: distinct rows <= len(a)**3 < 2**63
    inverse, keys = pd.factorize(key)
    first = np.full(len(keys), len(key), dtype=np.int64)
    np.minimum.at(first, inverse, np.arange(len(key)))
    return {n: a[first] for n, a in zip(names, arrays)}, inverse


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

    res = minimize(f, np.log(start), jac=True, method="L-BFGS-B",
                   bounds=[(-12.0, 12.0)] * len(start),
                   options={"maxiter": max_iter, "ftol": 1e-14, "gtol": 1e-9, "maxls": 50})
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
