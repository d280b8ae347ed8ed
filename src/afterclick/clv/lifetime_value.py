"""Expected customer lifetime value: a purchase model times a spend model, discounted.

CLV = Σ_{i=1..n} (E[Y(iℓ)] − E[Y((i−1)ℓ)]) · E[M] / (1+d)^i, where E[Y(t)] is the expected number
of purchases in the next t time units (BG/NBD or Pareto/NBD), E[M] the expected order value
(Gamma-Gamma), ℓ the length of one discounting period in the summary's time unit and d the
discount rate per period (Fader, Hardie & Lee 2005, "RFM and CLV"; the discrete form used by the
``lifetimes`` package).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from afterclick.clv._fit import require_columns, unique_rows
from afterclick.clv.gamma_gamma import GammaGamma


class PurchaseModel(Protocol):
    name: str

    def expected_purchases(self, t, frequency, recency, T) -> np.ndarray: ...


#: Weeks per month (365.2425 / 12 / 7): one discounting period when the summary is in weeks.
WEEKS_PER_MONTH = 4.348125


def expected_value_by_period(
    purchases: PurchaseModel,
    spend: GammaGamma,
    summary: pd.DataFrame,
    periods: int = 12,
    period_length: float = WEEKS_PER_MONTH,
    discount_rate: float = 0.01,
) -> np.ndarray:
    """Discounted expected value of each customer in each of the next ``periods`` periods.

    A (customers × periods) array; its row sums are :func:`expected_clv`, its cumulative sums
    the value recovered by each period (for payback).
    """
    require_columns(summary, ("frequency", "recency", "T", "monetary_value"), "expected_clv")
    if periods < 1 or period_length <= 0 or discount_rate < 0:
        raise ValueError("expected_clv: periods >= 1, period_length > 0 and discount_rate >= 0 please")
    x = summary["frequency"].to_numpy(float)
    order_value = spend.expected_order_value(x, summary["monetary_value"].to_numpy(float))
    # a customer's expected purchases depend on (x, t_x, T) alone: each period's are computed
    # once per distinct triple (a few per cent of the customers) and read back row by row
    (ux, ut, uT), row = distinct_customers(summary)
    out = np.zeros((len(summary), periods))
    before = np.zeros(len(summary))
    for i in range(1, periods + 1):
        now = purchases.expected_purchases(i * period_length, ux, ut, uT)[row]
        out[:, i - 1] = (now - before) * order_value / (1 + discount_rate) ** i
        before = now
    return out


def distinct_customers(summary: pd.DataFrame) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """The distinct (frequency, recency, T) triples of ``summary`` and each row's index into them:
    a purchase model's predictions for a customer depend on these three alone, so they are
    computed once per triple and gathered back (``values[row]``), the same numbers."""
    cols = {c: summary[c].to_numpy(float) for c in ("frequency", "recency", "T")}
    if not all(np.isfinite(a).all() for a in cols.values()):  # kept row by row: NaN has no code
        return (cols["frequency"], cols["recency"], cols["T"]), np.arange(len(summary))
    u, row = unique_rows(cols)
    return (u["frequency"], u["recency"], u["T"]), row


def expected_clv(purchases: PurchaseModel, spend: GammaGamma, summary: pd.DataFrame, periods: int = 12,
                 period_length: float = WEEKS_PER_MONTH, discount_rate: float = 0.01) -> np.ndarray:
    """Discounted expected value of each customer over the next ``periods`` periods.

    ``period_length`` is one period in the summary's time unit (a month in weeks by default);
    ``discount_rate`` is per period (1% a month ≈ 12.7% a year).
    """
    return expected_value_by_period(purchases, spend, summary, periods, period_length, discount_rate).sum(axis=1)
