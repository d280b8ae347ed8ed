"""Gamma-Gamma: how much a customer spends per purchase.

Fader, Hardie & Lee (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base Analysis",
Journal of Marketing Research 42(4); Fader & Hardie (2013), "The Gamma-Gamma Model of Monetary
Value". Each order value z ~ Gamma(p, ν), ν ~ Gamma(q, γ) across customers; the mean of a
customer's x repeat orders, m_x, is what is observed. Fit on repeat buyers only (x > 0).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from afterclick.clv._base import Model
from afterclick.clv._fit import maximize, require_columns, weighted_unique

COLUMNS = ("frequency", "monetary_value")


class GammaGamma(Model):
    """Gamma-Gamma spend model; ``params`` = {p, q, gamma} after :meth:`fit`."""

    name = "Gamma-Gamma"
    param_names = ("p", "q", "gamma")

    def fit(self, summary: pd.DataFrame, weights: str | None = None) -> GammaGamma:
        """Maximise Σ ln f(m_x | p, q, γ, x) over customers with frequency > 0 and a positive m_x.

        f(m_x) = Γ(px+q) / (Γ(px) Γ(q)) · γ^q m_x^(px−1) x^(px) / (γ + m_x x)^(px+q).
        """
        require_columns(summary, COLUMNS, self.name)
        x = summary["frequency"].to_numpy(float)
        m = summary["monetary_value"].to_numpy(float)
        keep = (x > 0) & (m > 0) & np.isfinite(m)
        if keep.sum() < 3:
            raise ValueError(f"{self.name}: needs repeat buyers with a positive monetary_value; "
                             f"found {int(keep.sum())} (widen the period or skip the spend model)")
        w = summary[weights].to_numpy(float)[keep] if weights else None
        u, w = weighted_unique({"x": x[keep], "m": m[keep]}, w)
        x, m = u["x"], u["m"]
        lm, lx = np.log(m), np.log(x)

        def neg_ll(z: np.ndarray) -> tuple[float, np.ndarray]:
            p, q, g = np.exp(z)
            px = p * x
            lgm = np.log(g + m * x)
            ll = (gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(g)
                  + (px - 1) * lm + px * lx - (px + q) * lgm)
            d_common = digamma(px + q)
            d_p = x * (d_common - digamma(px) + lm + lx - lgm)
            d_q = d_common - digamma(q) + np.log(g) - lgm
            d_g = q / g - (px + q) / (g + m * x)
            grad = np.array([w @ d_p * p, w @ d_q * q, w @ d_g * g])
            return -float(w @ ll), -grad

        mean = float(np.average(m, weights=w))
        start = np.array([1.0, 2.0, mean])
        self.params, self.info = maximize(
            self.name, self.param_names, neg_ll, start, float(w.sum()), len(w),
            advice="check monetary_value is the mean of repeat purchases, in one currency",
        )
        return self

    def expected_order_value(self, frequency, monetary_value) -> np.ndarray:
        """E[M | x, m_x] = (p γ + p x m_x) / (p x + q − 1): a weighted mean of the population mean
        p γ / (q − 1) and the customer's own mean m_x (their x orders weigh p x against q − 1)."""
        p, q, g = self._p()
        x = np.asarray(frequency, dtype=float)
        m = np.where(x > 0, np.nan_to_num(np.asarray(monetary_value, dtype=float)), 0.0)
        return (p * g + p * x * m) / (p * x + q - 1)

    def population_mean(self) -> float:
        """Mean order value across customers, p γ / (q − 1)."""
        p, q, g = self._p()
        return float(p * g / (q - 1))
