"""Pareto/NBD: purchases at Poisson rate λ ~ Gamma(r, α) while alive, an exponential lifetime
with rate μ ~ Gamma(s, β).

Schmittlein, Morrison & Colombo (1987); the likelihood in the form of Fader & Hardie (2005),
"A Note on Deriving the Pareto/NBD Model and Related Expressions" (eqs. 19-22).
"""

from __future__ import annotations

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

from afterclick.clv._base import PurchaseModel
from afterclick.clv._fit import codes, unique_rows, weighted_unique
from afterclick.clv._hyp2f1 import Groups, series
#: Central-difference step on the log-parameters (see ``_dlog_f``).
_STEP = 1e-5
#: Fewest distinct pairs on which ₂F₁ is summed as a series rather than by SciPy.
_SERIES_PAIRS = 20_000


class ParetoNBD(PurchaseModel):
    """Pareto/NBD fitted by maximum likelihood; ``params`` = {r, alpha, s, beta} after :meth:`fit`.

    Likelihood per customer:
    L = Γ(r+x) α^r β^s / Γ(r) · [ 1/((α+T)^(r+x) (β+T)^s) + s/(r+s+x) · A₀ ], with A₀ from the
    Gauss hypergeometric function taken at max(α, β) so its argument stays in [0, 1).
    """

    name = "Pareto/NBD"
    param_names = ("r", "alpha", "s", "beta")
    advice = "try a longer calibration period, a coarser time unit, or the BG/NBD model"
    start, time_scaled = (0.5, 0.25, 0.5, 0.25), ("alpha", "beta")
    # ₂F₁ is evaluated per row at each step: worth a warm start on fewer rows than BG/NBD
    warm_start_rows, sample_rows = 20_000, 8_000

    def _data(self, x, t, T, w):
        return _Data(x, t, T, w)


    def _log_terms(self, x, t, T):
        r, alpha, s, beta = self._p()
        b1 = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
        b2 = np.log(s) - np.log(r + s + x) + _log_a0(r, alpha, s, beta, x, t, T)
        return b1, b2
    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive | x, t_x, T) = [1/((α+T)^(r+x)(β+T)^s)] / [that + s/(r+s+x) · A₀]  (eq. 18)."""
        x, t, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        b1, b2 = self._log_terms(x, t, T)
        return np.exp(b1 - np.logaddexp(b1, b2))

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[purchases in (T, T+t] | x, t_x, T] = (r+x)(β+T) / ((α+T)(s−1)) ·
        [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive)  (eq. 27)."""
        r, alpha, s, beta = self._p()
        x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        t = np.asarray(t, dtype=float)
        inner = -np.expm1((s - 1) * np.log((beta + T) / (beta + T + t)))
        return (r + x) * (beta + T) / ((alpha + T) * (s - 1)) * inner * self.probability_alive(x, tx, T)

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a new customer = rβ / (α(s−1)) · [1 − (β/(β+t))^(s−1)]  (eq. 17)."""
        r, alpha, s, beta = self._p()
        t = np.asarray(t, dtype=float)
        return r * beta / (alpha * (s - 1)) * -np.expm1((s - 1) * np.log(beta / (beta + t)))


def _hyp(r, alpha, s, beta, x, tau):
    """₂F₁(r+s+x, b; r+s+x+1; z(τ)) with z in [0, 1), and b: s+1 when α ≥ β, else r+x."""
    k = r + s + x
    if alpha >= beta:
        return hyp2f1(k, s + 1, k + 1, (alpha - beta) / (alpha + tau))
    return hyp2f1(k, r + x, k + 1, (beta - alpha) / (beta + tau))


def _log_f(r, alpha, s, beta, x, tau, f=None):
    """ln[₂F₁(·; z(τ)) / (max(α,β)+τ)^(r+s+x)], the two pieces of A₀ (``f``: the ₂F₁ if known)."""
    f = _hyp(r, alpha, s, beta, x, tau) if f is None else f
    return np.log(f) - (r + s + x) * np.log(max(alpha, beta) + tau)


def _dlog_f(z, x, tau, f):
    """∂ ln F(τ) / ∂(ln r, ln α, ln s, ln β), one row per parameter; ``f`` is the ₂F₁ at ``z``.

    α and β enter ₂F₁ only through its argument, whose derivative is d₂F₁(a, b; c; z)/dz =
    ab/c · ₂F₁(a+1, b+1; c+1; z): one more evaluation for both. SciPy has no derivative of ₂F₁
    in its parameters, so r and s take central differences (step 1e-5 on the log-parameters,
    error ~1e-10).
    """
    r, alpha, s, beta = np.exp(z)
    out = np.empty((4, len(x)))
    for i in (0, 2):
        e = np.zeros(4)
        e[i] = _STEP
        out[i] = (_log_f(*np.exp(z + e), x, tau) - _log_f(*np.exp(z - e), x, tau)) / (2 * _STEP)
    k = r + s + x
    if alpha >= beta:
        m, b = alpha + tau, s + 1
        dz = k * b / (k + 1) * hyp2f1(k + 1, b + 1, k + 2, (alpha - beta) / m) / f / m  # ∂ ln ₂F₁/∂z ÷ m
        out[1] = alpha * (dz * (beta + tau) / m - k / m)
        out[3] = -beta * dz
    else:
        m, b = beta + tau, r + x
        dz = k * b / (k + 1) * hyp2f1(k + 1, b + 1, k + 2, (beta - alpha) / m) / f / m
        out[1] = -alpha * dz
        out[3] = beta * (dz * (alpha + tau) / m - k / m)
    return out


def _hyp_grad(z, x, tau, groups: Groups | None):
    """₂F₁ at every (x, τ) pair and ∂ ln F/∂(ln r, ln α, ln s, ln β) (4 × pairs), by the power
    series per x (:mod:`afterclick.clv._hyp2f1`), SciPy and differences where it does not serve
    (everywhere when ``groups`` is None)."""
    r, alpha, s, beta = np.exp(z)
    if groups is None:
        f = _hyp(r, alpha, s, beta, x, tau)
        return f, _dlog_f(z, x, tau, f)
    if alpha >= beta:
        zz, b = (alpha - beta) / (alpha + tau), np.full(len(groups.x), s + 1)
    else:
        zz, b = (beta - alpha) / (beta + tau), r + groups.x
    R, done = series(groups, r + s + groups.x, b, zz)
    f, k, m = R[0], r + s + x, max(alpha, beta) + tau
    with np.errstate(invalid="ignore"):
        Sk, Sb, Sz, lm = R[1] / f, R[2] / f, R[3] / f / m, np.log(m)
        if alpha >= beta:  # b = s + 1, z = (α−β)/(α+τ)
            D = np.array([r * (Sk - lm), alpha * (Sz * (beta + tau) / m - k / m), s * (Sk + Sb - lm), -beta * Sz])
        else:  # b = r + x, z = (β−α)/(β+τ)
            D = np.array([r * (Sk + Sb - lm), -alpha * Sz, s * (Sk - lm), beta * (Sz * (alpha + tau) / m - k / m)])
    if not done.all():
        rest = ~done
        f[rest] = _hyp(r, alpha, s, beta, x[rest], tau[rest])
        D[:, rest] = _dlog_f(z, x[rest], tau[rest], f[rest])
    return f, D


def _log_a0(r, alpha, s, beta, x, t, T):
    """ln A₀ = ln[F(t_x) − F(T)]; −inf when t_x = T (no gap in which to have died)."""
    lt, lT = _log_f(r, alpha, s, beta, x, t), _log_f(r, alpha, s, beta, x, T)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(lT < lt, lt + np.log(-np.expm1(np.minimum(lT - lt, 0.0))), -np.inf)


class _Data:
    """Weighted unique rows. Every term but the last combination depends on (x, t_x) or on
    (x, T) alone, so it is evaluated once per distinct pair (far fewer than the rows), the
    hypergeometric function included; per row only gathers, a difference and a log remain."""

    def __init__(self, x: np.ndarray, t: np.ndarray, T: np.ndarray, w: np.ndarray):
        u, w = weighted_unique({"x": x, "t": t, "T": T}, w)
        x, t, T = u["x"], u["t"], u["T"]
        self.x, self.t, self.T = x, t, T
        self.w, self.rows, self.customers = w, len(w), float(w.sum())
        self.mean_T = float(np.average(T, weights=w)) if len(w) else 0.0
        self.xs, self.xi = codes(x)
        self.wx = np.bincount(self.xi, weights=w)
        self.xt, self.i_t = _pairs(x, t)
        self.xT, self.i_T = _pairs(x, T)
        # the series pays for its per-x set-up only on many pairs (see _hyp2f1.MIN_PAIRS)
        self.g_t, self.g_T = (Groups(p[0]) if len(p[0]) >= _SERIES_PAIRS else None for p in (self.xt, self.xT))

    def sample(self, k: int) -> _Data:
        """Every ``k``-th distinct row, for a cheap warm start."""
        return _Data(self.x[::k], self.t[::k], self.T[::k], self.w[::k])

    def _rows(self, r, alpha, s, beta, f_t=None, f_T=None):
        """Pair-level terms and the per-row log-likelihood (without the per-x part); ``f_t`` and
        ``f_T``: the ₂F₁ values of the pairs, when known."""
        (xt, t), (xT, T) = self.xt, self.xT
        lt = _log_f(r, alpha, s, beta, xt, t, f_t)  # ln F(t_x), per (x, t_x)
        lk = np.log(s) - np.log(r + s + xt)  # ln[s/(r+s+x)], per (x, t_x)
        lT = _log_f(r, alpha, s, beta, xT, T, f_T)  # ln F(T), per (x, T)
        b1 = -(r + xT) * np.log(alpha + T) - s * np.log(beta + T)  # "alive at T", per (x, T)
        gap = np.minimum(lT[self.i_T] - lt[self.i_t], 0.0)  # ≤ 0; 0 when t_x = T (A₀ = 0)
        with np.errstate(divide="ignore"):
            b2 = (lt + lk)[self.i_t] + np.log(-np.expm1(gap))
        B1 = b1[self.i_T]
        with np.errstate(invalid="ignore"):  # NaN far out on a line search: the optimiser backs off
            return lt, lT, gap, B1, b2, np.logaddexp(B1, b2)

    def ll(self, r, alpha, s, beta) -> float:
        ll_x = gammaln(r + self.xs) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        return float(np.sum(self.wx * ll_x) + np.sum(self.w * self._rows(r, alpha, s, beta)[-1]))

    def neg_ll(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log-likelihood and its gradient in the log-parameters.

        Analytic by the chain rule through every term, ₂F₁ included (its power series, summed per
        x, gives its derivatives in its parameters; see :func:`_hyp_grad`), on the distinct
        (x, t_x) and (x, T) pairs only.
        """
        r, alpha, s, beta = np.exp(z)
        (xt, t), (xT, T) = self.xt, self.xT
        w, i_t, i_T = self.w, self.i_t, self.i_T
        f_t, D_t = _hyp_grad(z, xt, t, self.g_t)
        f_T, D_T = _hyp_grad(z, xT, T, self.g_T)
        lt, lT, gap, B1, b2, row = self._rows(r, alpha, s, beta, f_t, f_T)
        ll_x = gammaln(r + self.xs) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        ll = float(np.sum(self.wx * ll_x) + np.sum(w * row))
        q2 = expit(b2 - B1)  # share of each row's likelihood from "died between t_x and T"
        with np.errstate(divide="ignore", invalid="ignore"):
            # d/d gap of ln(1 − e^gap) = e^gap / expm1(gap); no weight where the term is absent
            dgap = np.where(gap < 0, np.exp(gap) / np.expm1(gap), 0.0) * q2
        n_t, n_T = len(xt), len(xT)
        W_t = np.bincount(i_t, weights=w * (q2 - dgap), minlength=n_t)  # weight on ln F(t_x)
        W_k = np.bincount(i_t, weights=w * q2, minlength=n_t)  # on ln[s/(r+s+x)]
        W_T = np.bincount(i_T, weights=w * dgap, minlength=n_T)  # on ln F(T)
        W_1 = np.bincount(i_T, weights=w * (1.0 - q2), minlength=n_T)  # on the "alive" term
        k_t = r + s + xt
        grad = np.array([
            np.sum(self.wx * (digamma(r + self.xs) - digamma(r) + np.log(alpha)))
            - np.sum(W_1 * np.log(alpha + T)) - np.sum(W_k / k_t),
            self.wx.sum() * r / alpha - np.sum(W_1 * (r + xT) / (alpha + T)),
            self.wx.sum() * np.log(beta) - np.sum(W_1 * np.log(beta + T)) + np.sum(W_k * (1.0 / s - 1.0 / k_t)),
            self.wx.sum() * s / beta - np.sum(W_1 * s / (beta + T)),
        ]) * np.exp(z)
        grad += D_t @ W_t + D_T @ W_T
        return -ll, -grad


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Distinct (a, b) pairs and the index of each row's pair."""
    u, idx = unique_rows({"a": a, "b": b})
    return (u["a"], u["b"]), idx
