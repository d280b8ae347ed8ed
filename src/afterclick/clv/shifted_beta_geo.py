"""Shifted-beta-geometric (sBG): churn of subscriptions renewed period by period.

Fader & Hardie (2007), "How to Project Customer Retention", Journal of Interactive Marketing
21(1). Each customer churns at the end of a period with probability θ ~ Beta(α, β).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, hyp2f1

from afterclick.clv._base import Model
from afterclick.clv._fit import maximize, require_columns, weighted_unique

COLUMNS = ("periods", "churned")


def survival_summary(alive: Sequence[float]) -> pd.DataFrame:
    """Survivor counts at the start of periods 0, 1, …, n → the per-cohort summary sBG fits.

    ``alive[0]`` customers start; ``alive[t]`` are still subscribed after t renewals. Rows:
    ``periods`` (t), ``churned`` (True: churned in period t; False: still alive after t periods)
    and ``count``.
    """
    a = np.asarray(alive, dtype=float)
    if a.ndim != 1 or len(a) < 2 or np.any(np.diff(a) > 0) or a[-1] < 0:
        raise ValueError("survival_summary: need at least two non-increasing survivor counts")
    lost = a[:-1] - a[1:]
    n = len(a) - 1
    return pd.DataFrame({
        "periods": [*range(1, n + 1), n],
        "churned": [True] * n + [False],
        "count": [*lost, a[-1]],
    })


class ShiftedBetaGeometric(Model):
    """sBG fitted by maximum likelihood; ``params`` = {alpha, beta} after :meth:`fit`."""

    name = "sBG"
    param_names = ("alpha", "beta")

    def fit(self, summary: pd.DataFrame, weights: str | None = "count") -> ShiftedBetaGeometric:
        """Maximise Σ churned · ln P(T = t) + alive · ln S(t) over ``summary``.

        P(T = t) = B(α+1, β+t−1) / B(α, β) (churn in period t ≥ 1); S(t) = B(α, β+t) / B(α, β)
        (still subscribed after t periods). ``summary``: periods, churned[, count].
        """
        require_columns(summary, COLUMNS, self.name)
        t = summary["periods"].to_numpy(float)
        c = summary["churned"].to_numpy(bool).astype(float)
        if np.any(t < 0) or np.any((c == 1) & (t < 1)):
            raise ValueError(f"{self.name}: periods must be >= 1 for churned rows and >= 0 otherwise")
        w = summary[weights].to_numpy(float) if weights and weights in summary else None
        u, w = weighted_unique({"t": t, "c": c}, w)
        t, c = u["t"], u["c"] == 1

        def neg_ll(z: np.ndarray) -> tuple[float, np.ndarray]:
            a, b = np.exp(z)
            base = betaln(a, b)
            ll = np.where(c, betaln(a + 1, b + t - 1), betaln(a, b + t)) - base
            d_base_a, d_base_b = digamma(a) - digamma(a + b), digamma(b) - digamma(a + b)
            tail = digamma(a + b + t)
            d_a = np.where(c, digamma(a + 1), digamma(a)) - tail - d_base_a
            d_b = np.where(c, digamma(b + np.where(c, t - 1, t)), digamma(b + t)) - tail - d_base_b
            return -float(w @ ll), -np.array([w @ d_a * a, w @ d_b * b])

        self.params, self.info = maximize(
            self.name, self.param_names, neg_ll, np.array([1.0, 1.0]), float(w.sum()), len(w),
            advice="needs churn in at least two different periods",
        )
        return self

    def survival(self, t) -> np.ndarray:
        """S(t) = B(α, β+t) / B(α, β): the share of a starting cohort still subscribed after t periods."""
        a, b = self._p()
        return np.exp(betaln(a, b + np.asarray(t, dtype=float)) - betaln(a, b))

    def retention_rate(self, t) -> np.ndarray:
        """r(t) = S(t) / S(t−1) = (β + t − 1) / (α + β + t − 1): rises with t as the fickle leave."""
        a, b = self._p()
        t = np.asarray(t, dtype=float)
        return (b + t - 1) / (a + b + t - 1)

    def expected_lifetime_value(self, value_per_period: float, discount_rate: float) -> float:
        """Discounted expected lifetime value of a new subscriber paying at the start of each period.

        value · Σ_{t≥0} S(t) / (1+d)^t = value · ₂F₁(1, β; α+β; 1/(1+d))  (Fader & Hardie 2010, DEL).
        """
        if discount_rate <= 0:
            raise ValueError(f"{self.name}: discount_rate must be > 0 (the sum diverges without it)")
        a, b = self._p()
        return float(value_per_period * hyp2f1(1.0, b, a + b, 1.0 / (1.0 + discount_rate)))
