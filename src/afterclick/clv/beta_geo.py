"""BG/NBD: the beta-geometric / negative binomial model of repeat purchasing.

Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24(2). While alive a customer buys at Poisson rate
λ ~ Gamma(r, α); after each purchase they drop out with probability p ~ Beta(a, b).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, log_expit, polygamma

from afterclick.clv._base import PurchaseModel
from afterclick.clv._fit import Distinct, distinct_rows


class BetaGeo(PurchaseModel):
    """BG/NBD fitted by maximum likelihood; ``params`` = {r, alpha, a, b} after :meth:`fit`.

    Likelihood per customer (eq. 6 of the paper):
    L = B(a, b+x)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+T)^(r+x))
        + 1[x>0] · B(a+1, b+x−1)/B(a, b) · Γ(r+x) α^r / (Γ(r) (α+t_x)^(r+x)).
    Time is in the summary's unit (weeks for CDNOW): predictions over ``t`` use that unit too.
    """

    name = "BG/NBD"
    param_names = ("r", "alpha", "a", "b")
    advice = "try a longer calibration period or a coarser time unit (weeks, not days)"
    start, time_scaled = (0.5, 0.1, 1.0, 2.0), ("alpha",)

    def _data(self, x, t, T, w):
        return _Data(x, t, T, w)


    def probability_alive(self, frequency, recency, T) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / (1 + 1[x>0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))  (eq. 11)."""
        r, alpha, a, b = self._p()
        x, t, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        with np.errstate(divide="ignore", invalid="ignore"):
            log_ratio = np.log(a) - np.log(b + x - 1) + (r + x) * (np.log(alpha + T) - np.log(alpha + t))
        return np.where(x > 0, 1.0 / (1.0 + np.exp(np.where(x > 0, log_ratio, 0.0))), 1.0)

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray:
        """E[purchases in (T, T+t] | x, t_x, T]  (eq. 10).

        = (a+b+x−1)/(a−1) · [1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁(r+x, b+x; a+b+x−1; t/(α+T+t))]
          · P(alive).
        """
        r, alpha, a, b = self._p()
        x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        t = np.asarray(t, dtype=float)
        z = t / (alpha + T + t)
        f = hyp2f1(r + x, b + x, a + b + x - 1, z)
        inner = 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * f
        return (a + b + x - 1) / (a - 1) * inner * self.probability_alive(x, tx, T)

    def expected_purchases_new(self, t) -> np.ndarray:
        """E[X(t)] for a customer just acquired: (a+b−1)/(a−1) · [1 − (α/(α+t))^r ₂F₁(r, b; a+b−1; t/(α+t))]."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=float)
        return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))


class _Data:
    """Weighted distinct rows and the BG/NBD negative log-likelihood, gradient and Hessian.

    Per customer, ln L = A(x) + B(x, T) + softplus(y) with, on log scale,
      A = ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)     (once per distinct x),
      B = −(r+x) ln(α+T)                                                (once per distinct T),
      y = ln a − ln(b+x−1) + (r+x) [ln(α+T) − ln(α+t_x)]                (x > 0 rows only),
    y being the log-odds of "dropped out after t_x" against "alive at T". Only the softplus term is
    evaluated row by row: two gathered logarithms, one exponential and one log1p per row.
    """

    def __init__(self, x: np.ndarray, t: np.ndarray, T: np.ndarray, w: np.ndarray,
                 rows: Distinct | None = None):
        # rows are collapsed only when a table can count them: hashing a million rows costs
        # more than the few passes of per-row work it would save
        d = rows if rows is not None else distinct_rows({"x": x, "t": t, "T": T}, w, hashed=False)
        self.distinct, w = d, d.weights
        self.rows, self.customers = len(d), float(w.sum())
        self.xs, xi = d.values["x"], d.codes["x"]
        self.wx = w if xi is None else np.bincount(xi, weights=w, minlength=len(self.xs))
        x = d.column("x")
        self.Ts, Ti = d.values["T"], d.codes["T"]
        # "alive at T" per distinct T: Σw and Σw·x of its rows
        self.WT = w if Ti is None else np.bincount(Ti, weights=w, minlength=len(self.Ts))
        self.XT = w * x if Ti is None else np.bincount(Ti, weights=w * x, minlength=len(self.Ts))
        self.mean_T = _dot(self.WT, self.Ts) / max(float(self.WT.sum()), 1e-300)
        pos = np.flatnonzero(x > 0)
        self.ts, ti = d.values["t"], d.codes["t"]
        self.p_x, self.p_w = x[pos], w[pos]
        self.p_xi = np.arange(len(pos)) if xi is None else xi[pos]
        self.p_xs = x[pos] if xi is None else self.xs
        self.p_Ti = pos if Ti is None else Ti[pos]
        self.p_t = self.ts[pos] if ti is None else None  # exact times: kept per row
        self.p_ti = None if ti is None else ti[pos]
        # per-row derivatives of y, filled at each evaluation (see _dropout); row 2 stays 1
        self._J = np.empty((7, len(pos)))
        self._J[2] = 1.0

    def sample(self, k: int) -> _Data:
        """Every ``k``-th distinct row, for a cheap warm start."""
        return _Data(np.empty(0), np.empty(0), np.empty(0), np.empty(0), rows=self.distinct.take(slice(None, None, k)))

    def _per_x(self, r, alpha, a, b):
        """A: value, gradient and Hessian in (r, α, a, b), summed over distinct x."""
        xs, wx = self.xs, self.wx
        W = wx.sum()
        ll = _dot(wx, gammaln(r + xs) - gammaln(r) + betaln(a, b + xs) - betaln(a, b)) + W * r * np.log(alpha)
        d_ab = _dot(wx, digamma(a + b) - digamma(a + b + xs))
        g = np.array([_dot(wx, digamma(r + xs) - digamma(r)) + W * np.log(alpha), W * r / alpha, d_ab,
                      _dot(wx, digamma(b + xs) - digamma(b)) + d_ab])
        h_ab = _dot(wx, polygamma(1, a + b) - polygamma(1, a + b + xs))
        H = np.zeros((4, 4))
        H[0, 0] = _dot(wx, polygamma(1, r + xs) - polygamma(1, r))
        H[0, 1] = H[1, 0] = W / alpha
        H[1, 1] = -W * r / alpha**2
        H[2, 2] = H[2, 3] = H[3, 2] = h_ab
        H[3, 3] = _dot(wx, polygamma(1, b + xs) - polygamma(1, b)) + h_ab
        return ll, g, H

    def _alive(self, r, alpha, uT, iT):
        """B, summed per distinct T (uT = ln(α+T), iT = 1/(α+T))."""
        c = r * self.WT + self.XT
        g = np.array([-_dot(self.WT, uT), -_dot(c, iT), 0.0, 0.0])
        H = np.zeros((4, 4))
        H[0, 1] = H[1, 0] = -_dot(self.WT, iT)
        H[1, 1] = _dot(c, iT * iT)
        return -_dot(c, uT), g, H

    def _dropout(self, r, alpha, a, b, uT, iT):
        """softplus(y) over the rows with x > 0, with its gradient and Hessian.

        ∂y/∂(r, α, a, b) = (d, (r+x)·di, 1/a, −1/(b+x−1)) with d = ln(α+T) − ln(α+t_x) and
        di = 1/(α+T) − 1/(α+t_x); ∂softplus = p ∂y and ∂²softplus = p ∂²y + p(1−p) ∂y ∂yᵀ, with
        p = expit(y). The rows of J hold what the sums need, so two matrix products take them all.
        """
        if self.p_ti is None:
            v, it = np.log(alpha + self.p_t), 1.0 / (alpha + self.p_t)
        else:
            v, it = np.log(alpha + self.ts)[self.p_ti], (1.0 / (alpha + self.ts))[self.p_ti]
        u, iu = uT[self.p_Ti], iT[self.p_Ti]
        with np.errstate(divide="ignore", invalid="ignore"):  # at x = 0, which no row here has
            ib_x = 1.0 / (b + self.p_xs - 1.0)
            c_x = np.log(a) + np.log(ib_x)
        rx = self.p_x + r
        J = self._J
        d, rdi, ib = np.subtract(u, v, out=J[0]), J[1], np.take(ib_x, self.p_xi, out=J[3])
        di = np.subtract(iu, it, out=J[4])
        np.multiply(rx, di, out=rdi)
        np.multiply(rdi, np.add(iu, it, out=J[5]), out=J[5])  # (r+x)·di·(1/(α+T) + 1/(α+t_x))
        np.multiply(ib, ib, out=J[6])
        y = c_x[self.p_xi] + rx * d
        p = expit(y)
        wp = self.p_w * p
        q = wp - wp * p  # w·p(1−p)
        s = J @ wp  # Σwp·(d, rdi, 1, ib, di, rdi(iu+it), ib²)
        J4 = J[:4]
        scale = np.array([1.0, 1.0, 1.0 / a, -1.0])
        g = scale * s[:4]
        H = np.outer(scale, scale) * ((J4 * q) @ J4.T)
        H[0, 1] += s[4]
        H[1, 0] = H[0, 1]
        H[1, 1] -= s[5]
        H[2, 2] -= s[2] / a**2
        H[3, 3] += s[6]
        return -_dot(self.p_w, log_expit(-y)), g, H

    def fgh(self, z: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        """Negative log-likelihood, gradient and Hessian in the log-parameters ``z``."""
        theta = np.exp(z)
        r, alpha, a, b = theta
        uT, iT = np.log(alpha + self.Ts), 1.0 / (alpha + self.Ts)
        parts = [self._per_x(r, alpha, a, b), self._alive(r, alpha, uT, iT), self._dropout(r, alpha, a, b, uT, iT)]
        ll = sum(float(p[0]) for p in parts)
        g = sum(p[1] for p in parts)
        H = sum(p[2] for p in parts)
        # chain rule to z = ln θ: ∂/∂z = θ ∂/∂θ; ∂²/∂z² = θθᵀ ∂²/∂θ² + diag(θ ∂/∂θ)
        return -ll, -theta * g, -(np.outer(theta, theta) * H + np.diag(theta * g))

    def neg_ll(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log-likelihood and its gradient in the log-parameters."""
        f, g, _ = self.fgh(z)
        return f, g


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b without BLAS: threaded BLAS dot products crawl on a busy machine for no gain here."""
    return float(np.sum(a * b))
