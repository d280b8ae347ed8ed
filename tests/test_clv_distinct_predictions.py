"""Predictions computed once per distinct (frequency, recency, T) and gathered back to the
customers are the very numbers the models give row by row (the lifetimes package is the outside
reference for the models themselves: tests/test_clv_cdnow.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from afterclick import clv
from afterclick.clv.lifetime_value import distinct_customers


def _summary(n: int = 3000, seed: int = 3) -> pd.DataFrame:
    """Weekly summaries as the engine makes them: whole days over 7, many customers alike."""
    rng = np.random.default_rng(seed)
    x = rng.poisson(1.2, n).astype(float)
    T = rng.integers(1, 60, n) / 7.0
    t = np.where(x > 0, np.floor(rng.uniform(0, 1, n) * T * 7) / 7.0, 0.0)
    m = np.where(x > 0, rng.gamma(3.0, 20.0, n), 0.0)
    return pd.DataFrame({"frequency": x, "recency": t, "T": T, "monetary_value": m})


def _models(s):
    bg = clv.BetaGeo()
    bg.params = {"r": 0.4, "alpha": 6.0, "a": 0.7, "b": 2.2}
    pn = clv.ParetoNBD()
    pn.params = {"r": 0.5, "alpha": 8.0, "s": 0.6, "beta": 9.0}
    gg = clv.GammaGamma()
    gg.params = {"p": 6.0, "q": 3.8, "gamma": 15.0}
    return bg, pn, gg


def _row_by_row(model, gg, s, periods, length, d):
    x, t, T = (s[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    value = gg.expected_order_value(x, s["monetary_value"].to_numpy(float))
    out, before = np.zeros((len(s), periods)), np.zeros(len(s))
    for i in range(1, periods + 1):  # the loop as it was before the collapse
        now = model.expected_purchases(i * length, x, t, T)
        out[:, i - 1] = (now - before) * value / (1 + d) ** i
        before = now
    return out


@pytest.mark.parametrize("which", [0, 1])
def test_value_by_period_equals_row_by_row(which):
    s = _summary()
    model, gg = _models(s)[which], _models(s)[2]
    (ux, _, _), _ = distinct_customers(s)
    assert len(ux) < 0.6 * len(s)  # customers alike are computed once
    got = clv.expected_value_by_period(model, gg, s, 36, clv.WEEKS_PER_MONTH, 0.01)
    # the same elementwise operations on the same inputs: equal to the last bit
    np.testing.assert_array_equal(got, _row_by_row(model, gg, s, 36, clv.WEEKS_PER_MONTH, 0.01))


def test_distinct_customers_gathers_every_row_back():
    s = _summary(500)
    (x, t, T), row = distinct_customers(s)
    np.testing.assert_array_equal(x[row], s["frequency"].to_numpy())
    np.testing.assert_array_equal(t[row], s["recency"].to_numpy())
    np.testing.assert_array_equal(T[row], s["T"].to_numpy())
    assert len(set(zip(x, t, T))) == len(x)


def test_missing_inputs_stay_row_by_row():
    s = _summary(50)
    s.loc[3, "recency"] = np.nan
    _, row = distinct_customers(s)
    np.testing.assert_array_equal(row, np.arange(50))
    bg, _, gg = _models(s)
    got = clv.expected_value_by_period(bg, gg, s, 3, 4.0, 0.0)
    assert np.isnan(got[3]).all() and np.isfinite(np.delete(got, 3, axis=0)).all()


def test_no_customers():
    s = _summary(0)
    bg, _, gg = _models(s)
    assert clv.expected_value_by_period(bg, gg, s, 4).shape == (0, 4)
