"""Shared fitting machinery: weighted data, the optimisers on log-parameters, validation.

Every model fits by maximum likelihood on the log of its parameters (all are positive), with a
vectorised log-likelihood that returns its gradient too (and its Hessian, for BG/NBD). Customers
with identical inputs are collapsed into one row with a weight when a table can count them
(CDNOW's design: a million customers become ~105,000 rows); exact times, where no two customers
match, are kept row by row rather than hashed for nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from afterclick.clv._newton import newton


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
#: Above this many rows, a column whose sample has no repeated value is kept row by row: hashing
#: a million exact times only to learn they are all different costs more than it saves.
_SAMPLED_ABOVE = 50_000


@dataclass(frozen=True)
class Distinct:
    """Rows with identical inputs collapsed into one each, with the summed weights.

    Per column, ``values`` holds its distinct values and ``codes`` each row's index into them, so
    a term of one column is evaluated once per distinct value; ``codes`` is ``None`` for a column
    kept row by row (``values`` is then the column itself).
    """

    values: dict[str, np.ndarray]
    codes: dict[str, np.ndarray | None]
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.weights)

    def column(self, name: str) -> np.ndarray:
        """The column's value in every row."""
        v, c = self.values[name], self.codes[name]
        return v if c is None else v[c]

    def take(self, rows: np.ndarray | slice) -> Distinct:
        """A subset of the rows (for a warm start on a sample)."""
        values = {n: v if self.codes[n] is not None else v[rows] for n, v in self.values.items()}
        codes = {n: None if c is None else c[rows] for n, c in self.codes.items()}
        return Distinct(values, codes, self.weights[rows])


def _whole_codes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Codes and distinct values of a column of whole numbers in some time unit, by arithmetic.

    Frequencies are whole numbers; recency and T in weeks are whole days / 7. Each candidate unit
    is tried on a sample first, then on the whole column (an exact round trip). ``None`` when no
    unit fits.
    """
    if not len(a):
        return None
    probe = a[:: max(1, len(a) // 2048)]
    for scale in _SCALES:
        if not np.array_equal(np.rint(probe * scale) / scale, probe):
            continue
        whole = np.rint(a * scale)
        lo, hi = float(whole.min()), float(whole.max())
        if hi - lo >= 1e7 or not np.array_equal(whole / scale, a):
            continue
        code = (whole - lo).astype(np.int64)
        present = np.bincount(code, minlength=int(hi - lo) + 1) > 0
        if not present.all():
            code = (np.cumsum(present) - 1)[code]
        return code, (lo + np.flatnonzero(present)) / scale
    return None


def _looks_distinct(a: np.ndarray) -> bool:
    """True when a large column's sample of ~4,000 values has no value twice."""
    if len(a) <= _SAMPLED_ABOVE:
        return False
    sample = a[:: len(a) // 4096]
    return len(np.unique(sample)) == len(sample)


def _coded(a: np.ndarray, whole: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Codes and distinct values of a column: arithmetic for whole numbers in a unit, else hashed."""
    whole = whole or _whole_codes(a)
    if whole is not None:
        return whole
    code, uniques = pd.factorize(a)
    return code.astype(np.int64), np.asarray(uniques, dtype=float)


def _group(coded: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Each row's index among the distinct combinations of integer codes, and one row of each.

    The codes are combined arithmetically into one key; a lookup table numbers the keys when they
    are dense, a hash table otherwise (far faster on a million rows than sorting float rows).
    """
    key = np.zeros(len(coded[0][0]), dtype=np.int64)
    size = 1
    for code, n in coded:
        if size * n >= 2**62:
            key, uniques = pd.factorize(key)  # renumber densely before the key could overflow
            key, size = key.astype(np.int64), len(uniques)
        key = key * n + code
        size *= n
    if size <= 4 * len(key) + 1024:
        present = np.zeros(size, dtype=bool)
        present[key] = True
        inverse, n_unique = (np.cumsum(present) - 1)[key], int(present.sum())
    else:
        inverse, uniques = pd.factorize(key)
        n_unique = len(uniques)
    # any row of a group represents it (they are identical): the last one written wins here
    rep = np.empty(n_unique, dtype=np.int64)
    rep[inverse] = np.arange(len(key))
    return inverse, rep


def distinct_rows(columns: dict[str, np.ndarray], weights: np.ndarray | None = None, hashed: bool = True) -> Distinct:
    """Collapse identical rows of ``columns`` (see :class:`Distinct`).

    Columns of whole numbers in a time unit are coded arithmetically, others by hashing. Rows are
    collapsed by counting their combined codes in a table when the combinations are few enough
    for one (at most 4 slots a row), else by hashing, or, with ``hashed=False``, not at all: a
    model whose per-row work is cheaper than a hash of every row keeps the rows (only their
    columns coded). When a large column looks all distinct (exact timestamps), no row can repeat:
    the rows stay as they are, and only the arithmetically coded columns keep their codes.
    """
    arrays = {n: np.asarray(a, dtype=float) for n, a in columns.items()}
    w = np.ones(len(next(iter(arrays.values())))) if weights is None else np.asarray(weights, dtype=float)
    whole = {n: _whole_codes(a) for n, a in arrays.items()}
    if any(whole[n] is None and _looks_distinct(a) for n, a in arrays.items()):
        return Distinct({n: a if whole[n] is None else whole[n][1] for n, a in arrays.items()},
                        {n: None if whole[n] is None else whole[n][0] for n in arrays}, w)
    coded = {n: _coded(a, whole[n]) for n, a in arrays.items()}
    values = {n: v for n, (c, v) in coded.items()}
    dense = _dense_distinct({n: (c, len(v)) for n, (c, v) in coded.items()}, None if weights is None else w)
    if dense is not None:
        return Distinct(values, *dense)
    if not hashed:
        return Distinct(values, {n: c for n, (c, v) in coded.items()}, w)
    inverse, rep = _group([(c, len(v)) for c, v in coded.values()])
    return Distinct(values, {n: c[rep] for n, (c, v) in coded.items()},
                    np.bincount(inverse, weights=w, minlength=len(rep)))


def _dense_distinct(coded: dict[str, tuple[np.ndarray, int]], w: np.ndarray | None
                    ) -> tuple[dict[str, np.ndarray], np.ndarray] | None:
    """Distinct rows by counting combined keys in a table: each column's code per distinct row
    and the weights, or ``None`` when the key space would need more than 4 slots a row.

    Columns are combined fewest values first; when the next product would be too large, the key
    so far is renumbered to the combinations present (CDNOW's design on a million customers: 52
    frequencies × 84 T × 273 recencies → 1.2M slots).
    """
    order = sorted(coded, key=lambda n: coded[n][1])
    key, size = coded[order[0]][0], coded[order[0]][1]
    limit = 4 * len(key) + 1024
    steps = []
    for name in order[1:]:
        code, n = coded[name]
        table = None
        if size * n > limit:
            present = np.bincount(key, minlength=size) > 0
            table = np.flatnonzero(present)
            key, size = (np.cumsum(present) - 1)[key], len(table)
            if size * n > limit:
                return None
        key, size = key * n + code, size * n
        steps.append((name, n, table))
    counts = np.bincount(key, minlength=size)
    k = np.flatnonzero(counts)
    weights = counts[k].astype(float) if w is None else np.bincount(key, weights=w, minlength=size)[k]
    out = {}
    for name, n, table in reversed(steps):  # peel the codes off the combined key, last column first
        k, out[name] = np.divmod(k, n)
        if table is not None:
            k = table[k]
    out[order[0]] = k
    return out, weights


def unique_rows(columns: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The distinct rows of ``columns`` (same keys) and each input row's index into them."""
    coded = [_coded(np.asarray(a, dtype=float)) for a in columns.values()]
    inverse, rep = _group([(c, len(v)) for c, v in coded])
    return {n: v[c[rep]] for n, (c, v) in zip(columns, coded)}, inverse


def weighted_unique(columns: dict[str, np.ndarray], weights: np.ndarray | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Collapse identical rows of ``columns`` into one each, with the summed weights."""
    d = distinct_rows(columns, weights)
    return {n: d.column(n) for n in columns}, d.weights


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
    fgh: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]] | None = None,
    hess_inv0: np.ndarray | None = None,
) -> tuple[dict[str, float], FitInfo]:
    """Minimise ``neg_ll`` over log-parameters and validate the optimum.

    ``neg_ll(log_params)`` returns the negative log-likelihood and its gradient with respect to
    the log-parameters; ``fgh``, when the model has it, returns the Hessian too, and Newton's
    method runs first (:mod:`afterclick.clv._newton`), L-BFGS-B only if Newton does not converge.
    Given ``hess_inv0``, an inverse Hessian per customer near ``start`` (from a fit on a sample),
    BFGS starts with it and converges in a few steps, L-BFGS-B again the fallback.
    Raises :class:`ConvergenceError` (one line, with advice) when the optimiser stops without
    converging or lands on non-finite or degenerate values.
    """
    # Scaled per customer so tolerances mean the same for 2,000 customers and for a million.
    scale = 1.0 / max(customers, 1.0)
    what = advice or "try other starting values or check the summary's time unit"

    def f(z: np.ndarray) -> tuple[float, np.ndarray]:
        v, g = neg_ll(z)
        if not np.isfinite(v) or not np.all(np.isfinite(g)):
            # steer the line search away from overflow instead of stopping there
            return 1e300, np.zeros_like(z)
        return v * scale, g * scale

    # The optimisers call BLAS on vectors of 3-4 numbers; a threaded BLAS wakes its threads for
    # each call, which on a busy machine made the optimiser's own steps cost more than the likelihood
    with threadpool_limits(limits=1, user_api="blas"):
        if fgh is not None:
            res = newton(lambda z: tuple(v * scale for v in fgh(z)), np.log(start), max_iter=min(max_iter, 60))
            if res.success and np.all(np.abs(res.x) < 11.9):
                return _checked(model, names, res, scale, rows, customers, what)
        elif hess_inv0 is not None:
            res = minimize(f, np.log(start), jac=True, method="BFGS",
                           options={"hess_inv0": hess_inv0, "gtol": 1e-7, "maxiter": max_iter})
            if res.success and np.all(np.abs(res.x) < 11.9) and res.fun < 1e299:
                return _checked(model, names, res, scale, rows, customers, what)
        res = minimize(f, np.log(start), jac=True, method="L-BFGS-B",
                       bounds=[(-12.0, 12.0)] * len(start),
                       options={"maxiter": max_iter, "ftol": 1e-13, "gtol": 1e-7, "maxls": 50})
    return _checked(model, names, res, scale, rows, customers, what)


def inverse_hessian(neg_ll: Callable[[np.ndarray], tuple[float, np.ndarray]], z: np.ndarray,
                    customers: float, step: float = 1e-4) -> np.ndarray | None:
    """Inverse Hessian per customer of ``neg_ll`` at ``z``, by forward differences of its gradient;
    ``None`` unless positive definite (then no use as BFGS's first guess)."""
    g0 = neg_ll(z)[1]
    H = np.array([(neg_ll(z + e)[1] - g0) / step for e in np.eye(len(z)) * step]) / max(customers, 1.0)
    H = (H + H.T) / 2
    if not np.all(np.isfinite(H)) or np.linalg.eigvalsh(H)[0] <= 0:
        return None
    inv = np.linalg.inv(H)
    return (inv + inv.T) / 2


def _checked(model: str, names: Sequence[str], res, scale: float, rows: int, customers: float,
             what: str) -> tuple[dict[str, float], FitInfo]:
    """The parameters and fit information of an optimiser's result, or a ConvergenceError."""
    params = np.exp(res.x)
    ll = -res.fun / scale
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
