"""CLV models on cases small enough to check by hand or by an independent formula."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.integrate import quad
from scipy.special import beta as B
from scipy.special import gamma as G

from afterclick import clv


def one(x: float, t: float, T: float, m: float = 0.0) -> pd.DataFrame:
    return pd.DataFrame({"frequency": [x], "recency": [t], "T": [T], "monetary_value": [m]})


def with_params(cls, **params):
    model = cls()
    model.params = dict(params)
    return model


@pytest.mark.parametrize("x,t,T", [(0, 0, 10), (1, 4, 10), (5, 9.5, 12), (3, 12, 12)])
def test_bgnbd_likelihood_equals_the_paper_formula(x, t, T):
    r, alpha, a, b = 0.3, 5.0, 0.8, 2.5
    direct = B(a, b + x) / B(a, b) * G(r + x) * alpha**r / (G(r) * (alpha + T) ** (r + x))
    if x > 0:
        direct += B(a + 1, b + x - 1) / B(a, b) * G(r + x) * alpha**r / (G(r) * (alpha + t) ** (r + x))
    model = with_params(clv.BetaGeo, r=r, alpha=alpha, a=a, b=b)
    assert model.log_likelihood(one(x, t, T)) == pytest.approx(math.log(direct), rel=1e-12)


@pytest.mark.parametrize("alpha,beta", [(10.0, 4.0), (4.0, 10.0), (6.0, 6.0)])
@pytest.mark.parametrize("x,t,T", [(0, 0, 20), (2, 7, 20), (6, 19, 20), (1, 20, 20)])
def test_pareto_likelihood_equals_numerical_integration(alpha, beta, x, t, T):
    """L = Γ(r+x)α^r β^s/Γ(r) · [(α+T)^−(r+x) (β+T)^−s + s ∫_{t_x}^T (α+τ)^−(r+x) (β+τ)^−(s+1) dτ]:
    the lifetime integrated out directly (both branches of the ₂F₁ form, and α = β)."""
    r, s = 0.6, 0.7
    integral = quad(lambda u: (alpha + u) ** -(r + x) * (beta + u) ** -(s + 1), t, T, epsabs=0, epsrel=1e-13)[0]
    direct = G(r + x) * alpha**r * beta**s / G(r) * ((alpha + T) ** -(r + x) * (beta + T) ** -s + s * integral)
    model = with_params(clv.ParetoNBD, r=r, alpha=alpha, s=s, beta=beta)
    assert model.log_likelihood(one(x, t, T)) == pytest.approx(math.log(direct), rel=1e-9)
    alive = G(r + x) * alpha**r * beta**s / G(r) * (alpha + T) ** -(r + x) * (beta + T) ** -s / direct
    assert model.probability_alive(x, t, T) == pytest.approx(alive, rel=1e-9)


def test_probability_alive_without_repeat_purchases_is_one_for_bgnbd():
    m = with_params(clv.BetaGeo, r=0.24, alpha=4.4, a=0.79, b=2.4)
    assert m.probability_alive(np.array([0.0]), np.array([0.0]), np.array([30.0]))[0] == 1.0
    # the longer since the last purchase, the less likely alive
    p = m.probability_alive([3, 3, 3], [29, 20, 5], [30, 30, 30])
    assert p[0] > p[1] > p[2]


@pytest.mark.parametrize("cls,params", [
    (clv.BetaGeo, dict(r=0.4, alpha=6.0, a=0.9, b=3.0)),
    (clv.ParetoNBD, dict(r=0.6, alpha=9.0, s=0.7, beta=12.0)),
])
def test_expected_purchases_of_a_new_customer_by_simulation(cls, params):
    """E[X(t)] against a Monte-Carlo of the model's own story (200,000 customers)."""
    rng = np.random.default_rng(1)
    n, horizon = 200_000, 20.0
    p = params
    lam = rng.gamma(p["r"], 1 / p["alpha"], n)
    if cls is clv.BetaGeo:
        drop = rng.beta(p["a"], p["b"], n)
        count, now = np.zeros(n), np.zeros(n)
        alive = np.ones(n, bool)
        while alive.any():
            now[alive] += rng.exponential(1 / lam[alive])
            bought = alive & (now <= horizon)
            count[bought] += 1
            alive = bought & (rng.random(n) >= drop)
    else:
        life = rng.exponential(1 / rng.gamma(p["s"], 1 / p["beta"], n))
        count = rng.poisson(lam * np.minimum(life, horizon))
    expected = with_params(cls, **params).expected_purchases_new(horizon)
    assert count.mean() == pytest.approx(expected, rel=0.02)


def test_gamma_gamma_likelihood_and_expectation_by_hand():
    p, q, g = 6.0, 4.0, 15.0
    x, m = 2, 30.0
    density = G(p * x + q) / (G(p * x) * G(q)) * g**q * m ** (p * x - 1) * x ** (p * x) / (g + m * x) ** (p * x + q)
    # 2,000 customers drawn from the model's own story: ν ~ Gamma(q, γ), x orders z ~ Gamma(p, ν)
    rng = np.random.default_rng(5)
    freq = rng.integers(1, 6, 2000)
    nu = rng.gamma(q, 1 / g, 2000)
    mean = np.array([rng.gamma(p, 1 / v, k).mean() for v, k in zip(nu, freq)])
    summary = pd.DataFrame({"frequency": freq, "monetary_value": mean})
    model = clv.GammaGamma().fit(summary)
    # p and γ trade off against each other; the population mean order value p γ/(q−1) does not
    assert model.population_mean() == pytest.approx(p * g / (q - 1), rel=0.1)
    # at its own optimum the fit's log-likelihood is the sum of the hand formula
    pf, qf, gf = (model.params[k] for k in ("p", "q", "gamma"))
    hand = 0.0
    for xi, mi in zip(summary.frequency, summary.monetary_value):
        hand += math.log(G(pf * xi + qf) / (G(pf * xi) * G(qf)) * gf**qf * mi ** (pf * xi - 1) * xi ** (pf * xi)
                         / (gf + mi * xi) ** (pf * xi + qf))
    assert model.info.log_likelihood == pytest.approx(hand, rel=1e-9)
    fixed = with_params(clv.GammaGamma, p=p, q=q, gamma=g)
    # E[M] = (pγ + p x m)/(p x + q − 1) = (90 + 360)/(15) = 30
    assert fixed.expected_order_value([x], [m])[0] == pytest.approx((p * g + p * x * m) / (p * x + q - 1))
    assert fixed.expected_order_value([0], [0])[0] == pytest.approx(p * g / (q - 1)) == fixed.population_mean()
    assert density > 0


# -- sBG: Fader & Hardie (2007), "How to Project Customer Retention", the worked example -----
# Survivors of 1,000 customers at the start of years 0-7. The paper's estimates: Regular
# α = 0.704, β = 1.182; High End α = 0.668, β = 3.806 (the high-end customers stay longer).
REGULAR = [1000, 631, 468, 382, 326, 289, 262, 241]
HIGH_END = [1000, 869, 743, 653, 593, 551, 517, 491]


@pytest.mark.parametrize("alive,alpha,beta", [(REGULAR, 0.704, 1.182), (HIGH_END, 0.668, 3.806)])
def test_sbg_published_estimates(alive, alpha, beta):
    m = clv.ShiftedBetaGeometric().fit(clv.survival_summary(alive))
    assert round(m.params["alpha"], 3) == alpha
    assert round(m.params["beta"], 3) == beta


def test_sbg_survival_retention_and_value_by_hand():
    m = with_params(clv.ShiftedBetaGeometric, alpha=0.7, beta=1.2)
    r = m.retention_rate(np.arange(1, 200))
    # S(t) is the product of the period retention rates
    assert np.allclose(m.survival(np.arange(1, 200)), np.cumprod(r), rtol=1e-12)
    assert m.survival(1) == pytest.approx(1.2 / 1.9)
    # discounted value = Σ S(t)/(1+d)^t, summed far enough out
    t = np.arange(0, 5000)
    assert m.expected_lifetime_value(10.0, 0.1) == pytest.approx(10.0 * np.sum(m.survival(t) / 1.1**t), rel=1e-9)


def test_survival_summary_rows():
    s = clv.survival_summary([10, 7, 5])
    assert s.to_dict("list") == {"periods": [1, 2, 2], "churned": [True, True, False], "count": [3.0, 2.0, 5.0]}


@pytest.mark.parametrize("cls", [clv.BetaGeo, clv.ParetoNBD])
def test_analytic_gradient_matches_finite_differences(cls):
    rng = np.random.default_rng(3)
    n = 300
    x = rng.poisson(1.5, n).astype(float)
    T = rng.integers(20, 40, n).astype(float)
    t = np.where(x > 0, np.round(rng.random(n) * T, 1), 0.0)
    data = cls()._data(x, t, T, np.ones(n))
    z = np.log([0.4, 7.0, 0.9, 3.0])
    _, g = data.neg_ll(z)
    h = 1e-6
    num = [(data.neg_ll(z + e)[0] - data.neg_ll(z - e)[0]) / (2 * h) for e in np.eye(4) * h]
    assert np.allclose(g, num, rtol=1e-5, atol=1e-5)


def test_weights_equal_repeated_rows():
    s = pd.DataFrame({"frequency": [0, 1, 4, 2], "recency": [0, 3.0, 20.0, 11.0], "T": [30, 25.0, 30.0, 28.0],
                      "n": [50, 20, 10, 15]})
    by_weight = clv.BetaGeo().fit(s, weights="n")
    repeated = clv.BetaGeo().fit(s.loc[s.index.repeat(s.n)])
    assert by_weight.params == pytest.approx(repeated.params, rel=1e-6)


def test_fit_that_cannot_converge_says_so_in_one_line():
    nobody_returns = pd.DataFrame({"frequency": [0.0] * 50, "recency": [0.0] * 50, "T": np.linspace(5, 30, 50)})
    with pytest.raises(clv.ConvergenceError) as err:
        clv.BetaGeo().fit(nobody_returns)
    msg = str(err.value)
    assert "\n" not in msg and "BG/NBD" in msg and "try" in msg


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"required column\(s\) \['T'\] missing"):
        clv.BetaGeo().fit(pd.DataFrame({"frequency": [1], "recency": [1]}))
    with pytest.raises(ValueError, match="recency must not exceed T"):
        clv.ParetoNBD().fit(one(1, 12, 10))
    with pytest.raises(ValueError, match="'frequency' must be finite"):
        clv.BetaGeo().fit(one(float("nan"), 0, 10))
    with pytest.raises(RuntimeError, match="call .fit"):
        clv.BetaGeo().probability_alive([1], [1], [2])


def test_expected_clv_by_hand():
    bg = with_params(clv.BetaGeo, r=0.3, alpha=5.0, a=0.8, b=2.5)
    gg = with_params(clv.GammaGamma, p=6.0, q=4.0, gamma=15.0)
    s = one(2, 8.0, 10.0, 30.0)
    # one period, no discount: E[Y(ℓ)] · E[M]
    got = clv.expected_clv(bg, gg, s, periods=1, period_length=4.0, discount_rate=0.0)
    assert got[0] == pytest.approx(float(bg.expected_purchases(4.0, 2, 8.0, 10.0)) * 30.0)
    # two periods at 10%: increments discounted one and two periods
    two = clv.expected_clv(bg, gg, s, periods=2, period_length=4.0, discount_rate=0.1)[0]
    e1, e2 = (float(bg.expected_purchases(v, 2, 8.0, 10.0)) for v in (4.0, 8.0))
    assert two == pytest.approx(30.0 * (e1 / 1.1 + (e2 - e1) / 1.21))
    assert bg.expected_clv(gg, s, periods=2, period_length=4.0, discount_rate=0.1)[0] == pytest.approx(two)


def test_rfm_summary_by_hand():
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "c"],
        "ts": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-08 12:00", "2024-01-22 08:30",
                              "2024-01-15 10:00", "2024-02-20 10:00"]),
        "amount": [10.0, 5.0, 20.0, 40.0, 7.0, 99.0],
    })
    s = clv.rfm_summary(tx, "2024-01-29", unit="W").set_index("customer_id")
    assert list(s.index) == ["a", "b"]  # c bought after the end
    a = s.loc["a"]
    # two purchase days after the first (the same-day orders are one); mean repeat value (20+40)/2
    assert (a.frequency, a.recency, a["T"], a.monetary_value) == (2, 3, 4, 30)
    assert (a.revenue, a.orders) == (75, 4)
    b = s.loc["b"]
    assert (b.frequency, b.recency, b["T"], b.monetary_value) == (0, 0, 2, 0)
    days = clv.rfm_summary(tx, "2024-01-29", unit="D").set_index("customer_id")
    assert days.loc["a", "T"] == 28
    with pytest.raises(ValueError, match="time unit"):
        clv.rfm_summary(tx, "2024-01-29", unit="fortnight")
