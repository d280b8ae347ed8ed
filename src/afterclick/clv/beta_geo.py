"""BG/NBD: the beta-geometric / negative binomial model of repeat purchasing.

Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way: An Alternative to the
Pareto/NBD Model", Marketing Science 24(2). While alive a customer buys at Poisson rate
λ ~ Gamma(r, α); after each purchase they drop out with probability p ~ Beta(a, b).
"""

from __future__ import annotations

import numpy as np
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from afterclick.clv._base import PurchaseModel
from afterclick.clv._fit import codes


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
    """Weighted unique rows and the BG/NBD negative log-likelihood with its gradient.

    Terms that depend on one input only (x, t_x or T) are evaluated once per distinct value.
    """

    def __init__(self, x: np.ndarray, t: np.ndarray, T: np.ndarray, w: np.ndarray):
        self.x, self.w = x, w
        self.xs, self.xi = codes(x)
        self.wx = np.bincount(self.xi, weights=w)
        self.ts, self.ti = codes(t)
        self.Ts, self.Ti = codes(T)
        self.pos = x > 0
        self.wpos = w * self.pos

    def neg_ll(self, z: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(z)
        x, w, xs, wx, pos = self.x, self.w, self.xs, self.wx, self.pos
        # A1 + A2, per distinct x: ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
        ll_x = gammaln(r + xs) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xs) - betaln(a, b)
        d_r_x = digamma(r + xs) - digamma(r) + np.log(alpha)
        d_a_x = digamma(a + b) - digamma(a + b + xs)
        d_b_x = digamma(b + xs) - digamma(b) + d_a_x
        lb_x = np.log(np.where(xs > 0, b + xs - 1, 1.0))  # x = 0 rows have no A4 term
        # A3 (still alive at T) and A4 (dropped out after the last purchase, x > 0 only)
        la_T = np.log(alpha + self.Ts)[self.Ti]
        la_t = np.log(alpha + self.ts)[self.ti]
        rx = r + x
        A3 = -rx * la_T
        A4 = np.where(pos, np.log(a) - lb_x[self.xi] - rx * la_t, -np.inf)
        ll_row = np.logaddexp(A3, A4)
        p4 = expit(A4 - A3)  # the share of the likelihood from "dropped out after t_x"
        ll = float(_dot(wx, ll_x) + _dot(w, ll_row))
        wp4 = w * p4
        inv_T = (1.0 / (alpha + self.Ts))[self.Ti]
        inv_t = (1.0 / (alpha + self.ts))[self.ti]
        g_r = _dot(wx, d_r_x) - _dot(w, la_T) + _dot(wp4, la_T - la_t)
        g_alpha = r / alpha * wx.sum() - _dot(w * rx, inv_T + p4 * (inv_t - inv_T))
        g_a = _dot(wx, d_a_x) + wp4.sum() / a
        with np.errstate(divide="ignore"):
            inv_b = np.where(xs > 0, 1.0 / (b + xs - 1), 0.0)
        g_b = _dot(wx, d_b_x) - _dot(wp4, inv_b[self.xi])
        grad = np.array([g_r * r, g_alpha * alpha, g_a * a, g_b * b])
        return -ll, -grad


def _dot(a: np.ndarray, b: np.ndarray) -> float:
    """Σ a·b without BLAS: threaded BLAS dot products crawl on a busy machine for no gain here."""
    return float(np.sum(a * b))
