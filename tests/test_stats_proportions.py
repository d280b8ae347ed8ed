"""NPS and CSAT statistics: hand-computed values, scipy's Wilson interval, and simulated coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from afterclick.stats import NPS, Proportion, nps_difference
from afterclick.stats.proportions import nps_change_z, nps_intervals, wilson_intervals


def test_nps_counts_and_score_by_hand():
    # 0-6 detractors, 7-8 passives, 9-10 promoters
    n = NPS.from_scores([10, 9, 9, 8, 7, 6, 0, 3, 10, None, float("nan")])
    assert (n.promoters, n.passives, n.detractors) == (4, 2, 3)
    assert n.score == pytest.approx(1 / 9)
    assert NPS(1, 2, 3) + NPS(4, 5, 6) == NPS(5, 7, 9)


def test_nps_variance_is_the_variance_of_plus_minus_one_scores():
    rng = np.random.default_rng(3)
    x = rng.choice([-1, 0, 1], size=517, p=[0.25, 0.3, 0.45])
    n = NPS(int((x == 1).sum()), int((x == 0).sum()), int((x == -1).sum()))
    # population variance of the -1/0/+1 variable over n: an independent route to Var(NPS)
    assert n.variance == pytest.approx(np.var(x) / x.size, rel=1e-12)


def test_nps_intervals_by_hand():
    n = NPS(promoters=50, passives=30, detractors=20)
    # Var = (0.5 + 0.2 - 0.3^2) / 100 = 0.0061; 1.959964 * sqrt(0.0061) = 0.153078
    w = n.interval(method="wald")
    assert (w.estimate, w.low, w.high) == pytest.approx((0.3, 0.146922, 0.453078), abs=1e-6)
    # adjusted Wald: 50.75 promoters, 20.75 detractors of 103: centre 30/103 = 0.291262,
    # Var = (71.5/103 - (30/103)^2) / 103 = 0.00591594, half-width 0.150752
    a = n.interval()
    assert a.estimate == pytest.approx(0.3)
    assert (a.low, a.high) == pytest.approx((0.140510, 0.442014), abs=1e-5)
    assert not a.too_few and NPS(5, 5, 5).interval().too_few


def test_nps_difference_by_hand():
    a, b = NPS(50, 30, 20), NPS(30, 40, 30)
    t = nps_difference(a, b)
    # Var_a = 0.0061, Var_b = 0.6 / 100 = 0.006; se = 0.11; z = 0.3 / 0.11
    assert t.se == pytest.approx(0.11)
    assert t.z == pytest.approx(2.727273, abs=1e-6)
    assert t.p_value == pytest.approx(0.0063861, abs=1e-6)
    assert (t.low, t.high) == pytest.approx((0.3 - 1.959964 * 0.11, 0.3 + 1.959964 * 0.11), abs=1e-6)


def test_degenerate_input_gives_a_status_not_nan():
    e = NPS().interval()
    assert e.estimate is None and e.low is None and e.status == "no answers"
    allpro = NPS(12, 0, 0)
    w = allpro.interval(method="wald")
    assert (w.low, w.high) == (1.0, 1.0) and not w.ok
    a = allpro.interval()
    assert a.ok and a.low < 1 and a.high == 1.0
    d = nps_difference(NPS(), NPS(3, 0, 0))
    assert d.difference is None and not d.ok
    same = nps_difference(NPS(5, 0, 0), NPS(4, 0, 0))
    assert same.difference == 0 and same.p_value is None and not same.ok
    assert Proportion(0, 0).wilson().status == "no answers"
    with pytest.raises(ValueError, match="0..10"):
        NPS.from_scores([11])
    with pytest.raises(ValueError, match="successes"):
        Proportion(5, 3)


@pytest.mark.parametrize(("k", "n"), [(8, 10), (0, 7), (40, 40), (173, 211), (1, 3000)])
def test_wilson_matches_scipy(k, n):
    ref = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    got = Proportion(k, n).wilson()
    assert got.estimate == pytest.approx(k / n)
    assert (got.low, got.high) == pytest.approx((ref.low, ref.high), abs=1e-12)


def _coverage_nps(p, n, method, sims=4000, seed=0):
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n, p, size=sims)  # promoters, passives, detractors
    truth = p[0] - p[2]
    hits = 0
    for pro, pas, det in counts:
        iv = NPS(int(pro), int(pas), int(det)).interval(method=method)
        hits += iv.low <= truth <= iv.high
    return hits / sims


@pytest.mark.parametrize("method", ["wald", "adjusted_wald"])
def test_nps_interval_coverage_is_nominal(method):
    cov = _coverage_nps(np.array([0.45, 0.35, 0.20]), 150, method)
    # 4,000 simulations: the standard error of a 95% coverage estimate is 0.0034
    assert 0.935 <= cov <= 0.965, cov


def test_adjusted_wald_keeps_coverage_where_wald_fails():
    p = np.array([0.9, 0.08, 0.02])
    adj = _coverage_nps(p, 20, "adjusted_wald", seed=1)
    wald = _coverage_nps(p, 20, "wald", seed=1)
    assert adj >= 0.93 and wald < 0.90, (adj, wald)


def test_nps_difference_test_has_its_size():
    rng = np.random.default_rng(5)
    p = [0.4, 0.35, 0.25]
    a = rng.multinomial(200, p, size=3000)
    b = rng.multinomial(300, p, size=3000)
    rejected = np.mean([nps_difference(NPS(*x), NPS(*y)).p_value < 0.05 for x, y in zip(a, b, strict=True)])
    assert 0.035 <= rejected <= 0.065, rejected


def test_wilson_coverage():
    rng = np.random.default_rng(2)
    k = rng.binomial(80, 0.8, size=4000)
    cov = np.mean([(iv := Proportion(int(x), 80).wilson()).low <= 0.8 <= iv.high for x in k])
    assert 0.93 <= cov <= 0.97, cov
    assert math.isclose(Proportion(3, 4).share, 0.75)


# ------------------------------------------------------------------------------ many rows at once



def _counts(seed: int, rows: int = 60) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = rng.integers(0, 400, rows)
    n[:3] = (0, 1, 2)
    pro = rng.binomial(n, 0.45)
    det = rng.binomial(n - pro, 0.4)
    return np.column_stack([pro, n - pro - det, det])


def test_nps_intervals_of_many_rows_are_the_adjusted_wald_of_each():
    counts = _counts(7)
    score, low, high = nps_intervals(counts[:, 0], counts[:, 1], counts[:, 2])
    z = stats.norm.ppf(0.975)
    for (pro, pas, det), s, lo, hi in zip(counts, score, low, high, strict=True):
        if pro + pas + det == 0:
            assert np.isnan(s) and np.isnan(lo) and np.isnan(hi)
            continue
        # an independent route: the weighted variance of the -1/0/+1 variable with Rocks' 3/4, 3/2, 3/4
        # added answers, around the adjusted mean
        w = np.array([pro + 0.75, pas + 1.5, det + 0.75])
        x = np.array([1.0, 0.0, -1.0])
        centre = np.average(x, weights=w)
        half = z * math.sqrt(np.average((x - centre) ** 2, weights=w) / w.sum())
        assert s == pytest.approx((pro - det) / (pro + pas + det), rel=1e-12)
        assert (lo, hi) == pytest.approx((max(-1, centre - half), min(1, centre + half)), rel=1e-9, abs=1e-12)
        one = NPS(int(pro), int(pas), int(det)).interval()
        assert (one.estimate, one.low, one.high) == (s, lo, hi)
    _, low, high = nps_intervals([50], [30], [20])  # test_nps_intervals_by_hand's
    assert (low[0], high[0]) == pytest.approx((0.140510, 0.442014), abs=1e-5)


def test_wilson_intervals_of_many_rows_match_scipy():
    rng = np.random.default_rng(4)
    n = rng.integers(0, 300, 40)
    k = rng.binomial(n, 0.8)
    share, low, high = wilson_intervals(k, n)
    for s, lo, hi, kk, nn in zip(share, low, high, k, n, strict=True):
        if nn == 0:
            assert np.isnan(s) and np.isnan(lo) and np.isnan(hi)
            continue
        ref = stats.binomtest(int(kk), int(nn)).proportion_ci(confidence_level=0.95, method="wilson")
        assert (s, lo, hi) == pytest.approx((kk / nn, ref.low, ref.high), abs=1e-12)
    with pytest.raises(ValueError, match="successes"):
        wilson_intervals([5], [3])


def test_nps_change_z_is_the_difference_test_of_each_month_and_the_one_before():
    counts = _counts(9, 30)
    z = nps_change_z(counts[:, 0], counts[:, 1], counts[:, 2])
    assert np.isnan(z[0])
    for i in range(1, len(counts)):
        t = nps_difference(NPS(*map(int, counts[i])), NPS(*map(int, counts[i - 1])))
        assert (np.isnan(z[i]) and t.z is None) or z[i] == t.z
    # two months by hand (as test_nps_difference_by_hand): z = 0.3 / 0.11
    assert nps_change_z([30, 50], [40, 30], [30, 20])[1] == pytest.approx(2.727273, abs=1e-6)
    assert np.isnan(nps_change_z([5, 4], [0, 0], [0, 0])[1])  # all promoters twice: nothing to test
