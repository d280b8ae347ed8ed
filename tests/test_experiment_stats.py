"""Experiment statistics: reference cases A1-A8 and A10 (and A11) of the act-and-review research,
oracles (scipy, statsmodels) for each hand-written statistic, degenerate input, and A/A and
coverage simulations on directly simulated sufficient statistics."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from scipy import stats as st

from afterclick.stats.experiment import (
    NPS, AlwaysValid, CovariateStats, MeanStats, Proportion, RatioStats, RiskTable,
    adjust_p_values, adjusted_p_values, cuped_test, lift_variance, logrank_test, mde_relative,
    n_for_power, novelty_check, nps_test, percentile_caps, plan, plan_for, pooled_theta, power_absolute,
    power_relative, pre_period_balance, proportion_test, ratio_test, srm_test, two_proportion_z,
    verdict, welch_test,
)
from afterclick.stats.proportions import nps_difference


def r(x: float, digits: int) -> float:
    return round(float(x), digits)


# ---------------------------------------------------------------- reference cases (research §A)
A1_A = MeanStats(3407, 1396.87, 52377.9767)
A1_B = MeanStats(3461, 2422.7, 134698.29)
DIM_A, DIM_B = MeanStats(100, 270, 848.79), MeanStats(120, 300, 869)


def test_a1_welch_relative_and_absolute():
    c = welch_test(A1_A, A1_B)
    rel, ab = c.relative, c.absolute
    assert (r(rel.estimate, 5), r(rel.low, 5), r(rel.high, 5)) == (0.70732, -0.03526, 1.44989)
    assert (r(rel.p_value, 5), r(rel.se, 5)) == (0.06191, 0.37879)
    assert (r(ab.estimate, 2), r(ab.low, 5), r(ab.high, 5)) == (0.29, 0.04538, 0.53462)
    assert (r(ab.p_value, 5), r(ab.se, 5)) == (0.02016, 0.12478)
    dim = welch_test(DIM_A, DIM_B)  # GrowthBook's multi-dimension count case
    assert (r(dim.mean_control, 9), r(dim.mean_variant, 9)) == (2.7, 2.5)
    assert (r(dim.relative.estimate, 9), r(dim.relative.p_value, 9)) == (-0.074074074, 0.145219005)


def test_a2_proportions_relative():
    rel = proportion_test(Proportion(14, 28), Proportion(16, 30)).relative
    assert (r(rel.estimate, 5), r(rel.low, 5), r(rel.high, 5)) == (0.06667, -0.47767, 0.61101)
    assert (r(rel.p_value, 5), r(rel.se, 4)) == (0.80707, 0.2717)


def test_a3_cuped_pooled_theta():
    control = CovariateStats(3001, 300, 600, 210, 415, -20)
    variant = CovariateStats(3000, 222, 555, 120, 405, -10)
    c = cuped_test(control, variant)
    assert r(c.theta, 5) == -0.07321
    assert (r(c.relative.estimate, 9), r(c.relative.p_value, 9)) == (-0.281707154, 0.003732549)
    assert (r(c.mean_control, 9), r(c.mean_variant, 9)) == (0.099966678, 0.074)  # unadjusted


def test_a4_ratio_delta_method():
    c = ratio_test(RatioStats(100, 270, 848.79, 510, 810, -900),
                   RatioStats(120, 300, 869, 500, 800, -905))
    assert (r(c.mean_control, 9), r(c.mean_variant, 9)) == (0.529411765, 0.6)
    assert (r(c.relative.estimate, 9), r(c.relative.p_value, 9)) == (0.133333333, 0.610663339)


def test_a5_always_valid_intervals():
    rel = welch_test(dataclasses.replace(A1_A, n=3000), A1_B, tuning=1000).relative
    assert (r(rel.low, 5), r(rel.high, 5)) == (-0.55844, 1.56516)
    rel = proportion_test(Proportion(1396, 3000), Proportion(2422, 3461), tuning=5000).relative
    assert (r(rel.estimate, 5), r(rel.low, 5), r(rel.high, 5)) == (0.50386, 0.40098, 0.60675)
    rel = welch_test(DIM_A, DIM_B, tuning=600).relative
    assert (r(rel.p_value, 9), r(rel.low, 9)) == (0.892332229, -0.233322085)
    assert "always-valid" in rel.method


def test_a6_power_and_mde():
    var, n = 3909.9997749994377, 400000 / 3
    assert r(power_relative(10, var, 0.05, n), 5) == 0.52144
    assert r(mde_relative(10, var, n, 0.8), 5) == 0.07027
    assert r(power_relative(10, var, 0.05, n, tuning=5000), 5) == 0.20596
    assert r(mde_relative(10, var, n, 0.8, tuning=5000), 5) == 0.12821
    assert r(lift_variance(2, 7, 4, 0.5, 5, 15, relative=False), 5) == 0.53333
    assert r(lift_variance(2, 7, 4, 0.5, 5, 15, relative=True), 5) == 0.00589


def test_a7_sample_ratio_mismatch_three_ways():
    assert srm_test([53, 47], method="binomial").p_value == pytest.approx(0.6172994135892521, rel=1e-12)
    assert srm_test([53, 47], method="normal_cc").p_value == pytest.approx(0.6170750774519738, rel=1e-12)
    assert srm_test([53, 47]).p_value == pytest.approx(0.5485062355001472, rel=1e-12)
    assert r(srm_test([2023, 1977], method="normal_cc").p_value, 3) == 0.477
    assert r(srm_test([2023, 1977]).p_value, 3) == 0.467
    big = srm_test([821588, 815482])
    assert f"{big.p_value:.2g}" == "1.8e-06" and big.flagged
    assert f"{srm_test([600, 400]).p_value:.3g}" == "2.54e-10"
    small = srm_test([44000, 45000])
    assert r(small.p_value, 4) == 0.0008 and small.flagged
    assert not srm_test([2023, 1977]).flagged
    assert "χ²" in srm_test([1, 2]).method and "binomial" in srm_test([1, 2], method="binomial").method


def test_a8_two_proportion_z():
    a, b = Proportion(19, 53), Proportion(13, 47)
    assert two_proportion_z(a, b, continuity=True).p_value == pytest.approx(0.5083165530405196, rel=1e-12)
    assert two_proportion_z(a, b).p_value == pytest.approx(0.3809096823118986, rel=1e-12)


def test_a10_power_against_r_pwr():
    assert power_absolute(0.3, 80) == pytest.approx(0.475100870572638, rel=1e-12)
    assert power_absolute(1, 30, t_test=True) == pytest.approx(0.967708258242517, rel=1e-12)
    assert r(n_for_power(0.5, 0.8, t_test=True), 4) == 63.7656


def _a11_tables():
    t1, e1 = [3, 1, 2, 3, 2, 1, 5, 3], [0, 1, 1, 1, 0, 0, 1, 0]
    t2, e2 = [1, 1, 2, 3, 7, 1, 5, 3, 9], [0, 1, 0, 0, 1, 0, 1, 0, 1]
    return RiskTable.from_durations(t1, e1), RiskTable.from_durations(t2, e2)


def test_a11_logrank_matches_r_survdiff():
    res = logrank_test(*_a11_tables())
    assert (r(res.statistic, 5), r(res.p_value, 5)) == (2.14673, 0.14287)
    assert res.low < res.estimate < res.high and res.ok


# ---------------------------------------------------------------- oracles


def test_sufficient_statistics_add_and_match_numpy():
    rng = np.random.default_rng(1)
    x, y = rng.gamma(2.0, 3.0, 400), rng.gamma(2.0, 3.0, 300)
    both = MeanStats.from_values(x) + MeanStats.from_values(y)
    z = np.concatenate([x, y])
    assert both.n == 700 and both.variance == pytest.approx(z.var(ddof=1), rel=1e-10)
    m, d = rng.poisson(3, 500).astype(float), rng.poisson(6, 500).astype(float) + 1
    rs = RatioStats.from_values(m[:200], d[:200]) + RatioStats.from_values(m[200:], d[200:])
    whole = RatioStats.from_values(m, d)
    assert dataclasses.astuple(rs) == pytest.approx(dataclasses.astuple(whole), rel=1e-12)
    assert rs.covariance == pytest.approx(np.cov(m, d)[0, 1], rel=1e-10)
    cs = CovariateStats.from_values(x[:300], y)
    assert cs.covariance == pytest.approx(np.cov(x[:300], y)[0, 1], rel=1e-10)
    assert (NPS(1, 2, 3) + NPS(4, 5, 6)).n == 21 and (Proportion(1, 3) + Proportion(2, 5)).n == 8


def test_welch_against_scipy_and_statsmodels():
    rng = np.random.default_rng(2)
    from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

    a, b = rng.normal(10, 2, 60), rng.lognormal(2.3, 0.5, 45)
    c = welch_test(MeanStats.from_values(a), MeanStats.from_values(b))
    assert c.absolute.p_value == pytest.approx(st.ttest_ind(b, a, equal_var=False).pvalue, rel=1e-9)
    low, high = CompareMeans(DescrStatsW(b), DescrStatsW(a)).tconfint_diff(usevar="unequal")
    assert (c.absolute.low, c.absolute.high) == pytest.approx((low, high), rel=1e-9)


def test_ratio_variance_is_the_linearised_variance():
    rng = np.random.default_rng(3)
    m, d = rng.poisson(4, 300) + rng.normal(0, 1, 300), rng.poisson(8, 300) + 1.0
    s = RatioStats.from_values(m, d)
    ratio = m.sum() / d.sum()
    linear = (m - ratio * d) / d.mean()  # Deng et al. (2018): the influence function of Σm/Σd
    assert s.variance == pytest.approx(linear.var(ddof=1), rel=1e-9)
    m2, d2 = m[:250] * 1.1, d[:250]
    c = ratio_test(s, RatioStats.from_values(m2, d2))
    l2 = (m2 - m2.sum() / d2.sum() * d2) / d2.mean()
    oracle = st.ttest_ind_from_stats(m2.sum() / d2.sum(), l2.std(ddof=1), 250, ratio,
                                     linear.std(ddof=1), 300, equal_var=False)
    assert c.absolute.p_value == pytest.approx(oracle.pvalue, rel=1e-9)


def test_cuped_against_ols_theta_and_scipy_on_adjusted_values():
    rng = np.random.default_rng(4)
    import statsmodels.api as sm

    pre_a, pre_b = rng.normal(50, 10, 400), rng.normal(50, 10, 350)
    post_a = 0.8 * pre_a + rng.normal(0, 5, 400)
    post_b = 0.8 * pre_b + 2 + rng.normal(0, 5, 350)
    a, b = CovariateStats.from_values(post_a, pre_a), CovariateStats.from_values(post_b, pre_b)
    pre, post = np.concatenate([pre_a, pre_b]), np.concatenate([post_a, post_b])
    theta = sm.OLS(post, sm.add_constant(pre)).fit().params[1]
    assert pooled_theta(a, b) == pytest.approx(theta, rel=1e-9)
    c = cuped_test(a, b)
    oracle = st.ttest_ind(post_b - theta * pre_b, post_a - theta * pre_a, equal_var=False)
    assert c.absolute.p_value == pytest.approx(oracle.pvalue, rel=1e-7)
    plain = welch_test(a.post, b.post)
    assert c.absolute.se < 0.6 * plain.absolute.se  # ρ ≈ 0.85: variance cut by ~ρ²


def test_two_proportion_z_against_statsmodels_and_chi2():
    from statsmodels.stats.proportion import proportions_ztest

    a, b = Proportion(230, 1000), Proportion(270, 1010)
    _, p = proportions_ztest([270, 230], [1010, 1000])
    assert two_proportion_z(a, b).p_value == pytest.approx(p, rel=1e-10)
    table = [[230, 770], [270, 740]]
    yates = st.chi2_contingency(table, correction=True)
    assert two_proportion_z(a, b, continuity=True).p_value == pytest.approx(yates.pvalue, rel=1e-10)


def test_srm_against_scipy_with_unequal_planned_split():
    counts, weights = [5210, 2480, 2310], [50, 25, 25]
    expected = np.array(weights) / 100 * sum(counts)
    res = srm_test(counts, weights)
    assert res.p_value == pytest.approx(st.chisquare(counts, expected).pvalue, rel=1e-12)
    assert res.statistic == pytest.approx(st.chisquare(counts, expected).statistic)
    assert srm_test([700, 300], [0.7, 0.3]).p_value == pytest.approx(1.0)
    with pytest.raises(ValueError, match="two arms"):
        srm_test(counts, weights, method="binomial")


def test_corrections_against_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = [0.001, 0.04, 0.03, 0.2, 0.012, 0.8, 0.049]
    for ours, theirs in (("holm", "holm"), ("bh", "fdr_bh")):
        assert adjusted_p_values(p, ours) == pytest.approx(list(multipletests(p, method=theirs)[1]))
    effects = [welch_test(A1_A, A1_B).absolute, welch_test(A1_A, A1_B).relative,
               welch_test(MeanStats(1, 1, 1), A1_B).absolute]
    adjusted = adjust_p_values(effects, "holm")
    assert adjusted[0].correction == "Holm over 2 tests" and adjusted[2].p_adjusted is None
    assert adjusted[0].p == pytest.approx(2 * effects[0].p_value)  # 0.0403: still below 0.05
    assert adjusted[1].p == pytest.approx(effects[1].p_value)  # step-down: max(0.0403, 0.0619)
    assert adjusted[0].significant() and not adjusted[1].significant()
    four = [dataclasses.replace(effects[0], p_value=q) for q in (0.01, 0.02, 0.03, 0.04)]
    four = adjust_p_values(four, "bh")
    assert [e.p for e in four] == pytest.approx([0.04] * 4) and four[0].correction.startswith("Benjamini")


def test_nps_difference_reuses_rocks_variance():
    a, b = NPS(120, 180, 100), NPS(160, 150, 90)
    c = nps_test(a, b)
    d = nps_difference(b, a)
    assert (c.absolute.estimate, c.absolute.p_value, c.absolute.low) == (d.difference, d.p_value, d.low)
    assert c.absolute.se**2 == pytest.approx(a.variance + b.variance)
    assert not c.relative.ok and "no relative lift" in c.relative.status
    assert nps_test(a, b, tuning=5000).absolute.high > d.high


def test_logrank_against_statsmodels_survdiff():
    rng = np.random.default_rng(5)
    from statsmodels.duration.survfunc import survdiff

    ta, tb = rng.geometric(0.08, 300), rng.geometric(0.11, 280)
    ca, cb = rng.integers(1, 40, 300), rng.integers(1, 40, 280)
    da, db = np.minimum(ta, ca), np.minimum(tb, cb)
    ea, eb = ta <= ca, tb <= cb
    res = logrank_test(RiskTable.from_durations(da, ea), RiskTable.from_durations(db, eb))
    stat, p = survdiff(np.r_[da, db], np.r_[ea, eb].astype(int), np.r_[np.zeros(300), np.ones(280)])
    assert (res.statistic, res.p_value) == pytest.approx((stat, p), rel=1e-9)
    assert res.estimate > 1  # the variant's events come sooner
    halves = RiskTable.from_durations(da[:100], ea[:100]) + RiskTable.from_durations(da[100:], ea[100:])
    assert halves == RiskTable.from_durations(da, ea)


def test_power_against_statsmodels_on_a_grid():
    from statsmodels.stats.power import NormalIndPower, TTestIndPower

    for d, n in ((0.1, 500), (0.25, 120), (0.6, 20)):
        assert power_absolute(d, n) == pytest.approx(NormalIndPower().power(d, n, 0.05), rel=1e-9)
        t_power = TTestIndPower().power(d, n, 0.05)
        assert power_absolute(d, n, t_test=True) == pytest.approx(t_power, rel=1e-7)
    n_normal = NormalIndPower().solve_power(0.2, nobs1=None, alpha=0.05, power=0.9)
    assert n_for_power(0.2, 0.9) == pytest.approx(n_normal, rel=1e-6)
    mde = mde_relative(5, 20, 3000, 0.8)
    assert power_relative(5, 20, mde, 3000) == pytest.approx(0.8, abs=1e-5)


def test_plan_counts_days_at_current_traffic():
    p = plan(mean=0.30, variance=0.21, lift=0.05, n_per_arm=2000, daily_per_arm=150)
    assert p.ok and not p.enough and p.power < 0.5
    assert power_relative(0.30, 0.21, 0.05, p.n_needed_per_arm) >= 0.8
    assert power_relative(0.30, 0.21, 0.05, p.n_needed_per_arm - 1) < 0.8
    assert p.days_more == math.ceil((p.n_needed_per_arm - 2000) / 150)
    done = plan(0.30, 0.21, 0.05, p.n_needed_per_arm + 10, 150)
    assert done.enough and done.days_more == 0


def test_plan_for_reads_mean_and_variance_from_the_control_arm():
    share = plan_for(Proportion(600, 2000), lift=0.05, daily_per_arm=150)
    assert share == plan(0.30, 0.30 * 0.70, 0.05, 2000, 150)
    ratio = RatioStats(100, 270, 848.79, 510, 810, -900)
    assert plan_for(ratio, 0.1, 10).power == power_relative(ratio.ratio, ratio.variance, 0.1, 100)
    assert "fewer than 2" in plan_for(MeanStats(1, 2.0, 4.0), 0.1, 10).status


def test_pre_period_imbalance_is_named_on_the_verdict_line():
    rng = np.random.default_rng(6)
    pre_a, pre_b = rng.normal(100, 20, 800), rng.normal(108, 20, 800)  # broken randomisation
    a = CovariateStats.from_values(pre_a * 0.5 + rng.normal(0, 5, 800), pre_a)
    b = CovariateStats.from_values(pre_b * 0.5 + rng.normal(0, 5, 800), pre_b)
    bal = pre_period_balance(a, b)
    assert bal.relative.p_value < 1e-6 and bal.method.startswith("pre-period balance")
    line = verdict("B", {"spend": cuped_test(a, b)}, pre_period=bal)
    assert "pre-period imbalance: the variant was already +" in line and bal.relative.low > 0.04
    fine = pre_period_balance(a, CovariateStats.from_values(pre_a[::-1], pre_a[::-1]))
    assert "imbalance" not in verdict("B", {"spend": cuped_test(a, b)}, pre_period=fine)


def _weekly(rng, lifts, n=2000):
    """Relative lifts of a 0/1 return metric among units in their 1st, 2nd, … exposure week."""
    out = []
    for lift in lifts:
        a, b = rng.binomial(n, 0.2), rng.binomial(n, 0.2 * (1 + lift))
        out.append(proportion_test(Proportion(a, n), Proportion(b, n)).relative)
    return out


def test_novelty_trend_against_statsmodels_wls():
    import statsmodels.api as sm

    rng = np.random.default_rng(8)
    weekly = _weekly(rng, [0.30, 0.22, 0.15, 0.08, 0.02])
    res = novelty_check(weekly)
    x = np.arange(1.0, 6.0)
    y = np.array([e.estimate for e in weekly])
    w = 1 / np.array([e.se for e in weekly]) ** 2
    fit = sm.WLS(y, sm.add_constant(x), weights=w).fit(cov_type="fixed scale")
    assert res.estimate == pytest.approx(fit.params[1], rel=1e-10)
    assert res.p_value == pytest.approx(fit.pvalues[1], rel=1e-8)
    assert (res.low, res.high) == pytest.approx(tuple(fit.conf_int()[1]), rel=1e-8)
    assert res.fading() and res.weeks == 5
    line = verdict("B", {"ret": proportion_test(Proportion(2000, 10000), Proportion(2300, 10000))},
                   labels={"ret": "return"}, novelty=res)
    assert "novelty: the lift fades with exposure (−" in line
    steady = novelty_check(_weekly(rng, [0.1] * 5))
    assert not steady.fading() and "novelty" not in verdict("B", {}, novelty=steady)
    assert "at least 3" in novelty_check(weekly[:2]).status


def test_winsorising_caps_both_arms_at_pooled_percentiles():
    rng = np.random.default_rng(7)
    a = np.r_[rng.exponential(50, 990), [20000.0] * 10]
    b = rng.exponential(50, 1000)
    caps = percentile_caps(a, b, upper=0.99)
    assert caps.high == pytest.approx(np.quantile(np.r_[a, b], 0.99))
    assert caps.apply(a).max() == caps.high and caps.n_capped == 20
    raw, capped = welch_test(MeanStats.from_values(b), MeanStats.from_values(a)), welch_test(
        MeanStats.from_values(caps.apply(b)), MeanStats.from_values(caps.apply(a)))
    assert capped.absolute.se < raw.absolute.se / 3
    low = percentile_caps(np.r_[-500.0, b], lower=0.01, upper=None)
    assert low.apply([-500.0]).item() == low.low and low.high is None


# ---------------------------------------------------------------- degenerate input
def _numbers(obj) -> list:
    if dataclasses.is_dataclass(obj):
        return [x for f in dataclasses.fields(obj) for x in _numbers(getattr(obj, f.name))]
    return [obj] if isinstance(obj, float) else []


@pytest.mark.parametrize("result, needle", [
    (welch_test(MeanStats(1, 3.0, 9.0), A1_B), "fewer than 2 units in the control"),
    (welch_test(MeanStats(5, 10.0, 20.0), MeanStats(5, 10.0, 20.0)), "no variance"),
    (welch_test(MeanStats(4, 0.0, 2.0), MeanStats(4, 2.0, 4.0)).relative, "control mean is 0"),
    (proportion_test(Proportion(0, 0), Proportion(3, 9)), "fewer than 2"),
    (ratio_test(RatioStats(5, 1, 1, 0, 0, 0), RatioStats(5, 2, 2, 3, 3, 1)), "denominator sums to 0"),
    (cuped_test(CovariateStats(1, 1, 1, 1, 1, 1), CovariateStats(3, 1, 1, 2, 2, 1)), "fewer than 2"),
    (nps_test(NPS(), NPS(3, 1, 1)), "fewer than 2"),
    (nps_test(NPS(1, 0, 0), NPS(0, 0, 3)), "fewer than 2 units in the control"),
    (nps_test(NPS(5, 0, 0), NPS(7, 0, 0)), "all alike"),
    (two_proportion_z(Proportion(0, 10), Proportion(0, 12)), "same outcome"),
    (logrank_test(RiskTable((3, 3), (0, 0)), RiskTable((2, 2), (0, 0))), "no events"),
    (srm_test([0, 0]), "at least two arms"),
    (plan(0.0, 1.0, 0.05, 100, 10), "control mean is 0"),
])
def test_degenerate_input_gives_a_status_never_nan(result, needle):
    assert needle in result.status and not result.ok
    assert all(math.isfinite(x) for x in _numbers(result))


def test_cuped_without_covariate_variance_falls_back_to_welch():
    a = CovariateStats.from_values([1, 2, 3, 4], [5] * 4)
    b = CovariateStats.from_values([2, 3, 4, 6], [5] * 4)
    c = cuped_test(a, b)
    assert c.theta == 0 and "skipped" in c.method
    assert c.absolute.p_value == welch_test(a.post, b.post).absolute.p_value


# ---------------------------------------------------------------- verdicts
def test_verdict_puts_vanity_beside_relationship_with_srm():
    ctr = proportion_test(Proportion(1000, 20000), Proportion(1180, 20000))
    ret = proportion_test(Proportion(6000, 20000), Proportion(5180, 20000))
    line = verdict("Subject line B", {"return_30d": ret, "ctr": ctr},
                   labels={"ctr": "clicks", "return_30d": "30-day return"}, vanity=["ctr"],
                   display={"ctr": "relative"}, units={"ctr": "CTR"}, srm=srm_test([20000, 20000]))
    assert line.startswith("Subject line B won clicks (+18 % CTR, 95 % interval +8.3 % to +28 %)")
    assert "but lost 30-day return (\u22124.1 points, \u22125.0 to \u22123.2)" in line
    assert line.endswith("split as planned (Pearson χ² goodness of fit p = 1)")
    flipped = verdict("B", {"churn": ret}, lower_is_better=["churn"])
    assert flipped.startswith("B won churn")


def test_verdict_not_enough_data_and_broken_split():
    rev = welch_test(MeanStats.from_values([1, 2, 3, 4] * 100), MeanStats.from_values([1, 2, 3, 4.1] * 100))
    p = plan(2.5, 1.25, 0.05, 400, 20)
    line = verdict("B", {"rev": rev}, labels={"rev": "revenue per customer"},
                   srm=srm_test([5200, 4800]), plan=p)
    assert line.startswith("Do not trust this result: the split is 52.0/48.0 against a planned 50/50")
    assert "B: no clear difference on revenue per customer" in line
    want = f"not enough data yet: {100 * p.power:.0f} % power for a 5 % lift \u2014 about 7 more weeks"
    assert want in line
    broken = verdict("B", {"x": welch_test(MeanStats(1, 1, 1), A1_B)})
    assert "x not measured (fewer than 2 units" in broken


# ---------------------------------------------------------------- simulations (sufficient statistics)
RUNS = 5000


def _mean_stats(rng, n, mu, sd, size):
    """(n, Σx, Σx²) of normal samples: Σx ~ N(nμ, nσ²), (n−1)s² ~ σ²χ²(n−1), independent."""
    s = rng.normal(n * mu, math.sqrt(n) * sd, size)
    ss = sd**2 * rng.chisquare(n - 1, size) + s * s / n
    return [MeanStats(n, a, b) for a, b in zip(s, ss, strict=True)]


def _pair_stats(rng, n, mu, cov, size):
    """Sums and cross products of bivariate normal samples: the sum vector ~ N(nμ, nΣ) and the
    scatter matrix ~ Wishart(n − 1, Σ), independent."""
    sums = rng.multivariate_normal(n * np.asarray(mu), n * np.asarray(cov), size)
    scatter = st.wishart(df=n - 1, scale=cov).rvs(size, random_state=rng)
    sq = scatter[:, [0, 1], [0, 1]] + sums**2 / n
    cross = scatter[:, 0, 1] + sums[:, 0] * sums[:, 1] / n
    return sums, sq, cross


def _rates(compare, truth):
    hits = [compare(i) for i in range(RUNS)]
    reject = np.mean([e.p_value < 0.05 for e, _ in hits])
    cover = np.mean([e.low <= truth <= e.high for _, e in hits])
    return reject, cover


def _check(reject, cover):
    assert 0.04 <= reject <= 0.06, f"A/A false-positive rate {reject:.3%}"
    assert 0.94 <= cover <= 0.96, f"coverage of the planted effect {cover:.3%}"


def test_simulated_welch_error_rate_and_coverage():
    rng = np.random.default_rng(1)
    a, aa, b = (_mean_stats(rng, 200, 10, 3, RUNS), _mean_stats(rng, 300, 10, 6, RUNS),
                _mean_stats(rng, 300, 11, 6, RUNS))
    _check(*_rates(lambda i: (welch_test(a[i], aa[i]).absolute, welch_test(a[i], b[i]).absolute), 1.0))
    _check(*_rates(lambda i: (welch_test(a[i], aa[i]).relative, welch_test(a[i], b[i]).relative), 0.1))


def test_simulated_proportion_error_rate_and_coverage():
    rng = np.random.default_rng(2)
    ka, kaa = rng.binomial(1500, 0.2, RUNS), rng.binomial(1200, 0.2, RUNS)
    kb = rng.binomial(1200, 0.23, RUNS)
    def pair(i):
        return (proportion_test(Proportion(ka[i], 1500), Proportion(kaa[i], 1200)).absolute,
                proportion_test(Proportion(ka[i], 1500), Proportion(kb[i], 1200)).absolute)
    _check(*_rates(pair, 0.03))


def _ratio(n, sums, sq, cross, i):
    return RatioStats(n, sums[i, 0], sq[i, 0], sums[i, 1], sq[i, 1], cross[i])


def test_simulated_ratio_error_rate_and_coverage():
    rng = np.random.default_rng(3)
    cov = [[1.0, 0.5], [0.5, 0.8]]
    a, aa, b = (_pair_stats(rng, 500, [2.0, 5.0], cov, RUNS), _pair_stats(rng, 400, [2.0, 5.0], cov, RUNS),
                _pair_stats(rng, 400, [2.2, 5.0], cov, RUNS))
    def pair(i):
        return (ratio_test(_ratio(500, *a, i), _ratio(400, *aa, i)).absolute,
                ratio_test(_ratio(500, *a, i), _ratio(400, *b, i)).absolute)
    _check(*_rates(pair, 2.2 / 5 - 2 / 5))


def _cov(n, sums, sq, cross, i):
    return CovariateStats(n, sums[i, 0], sq[i, 0], sums[i, 1], sq[i, 1], cross[i])


def test_simulated_cuped_error_rate_and_coverage():
    rng = np.random.default_rng(4)
    cov = [[4.0, 2.8], [2.8, 4.0]]  # ρ = 0.7 between the outcome and its pre-period value
    a, aa, b = (_pair_stats(rng, 300, [10.0, 10.0], cov, RUNS), _pair_stats(rng, 350, [10.0, 10.0], cov, RUNS),
                _pair_stats(rng, 350, [10.5, 10.0], cov, RUNS))
    def pair(i):
        return (cuped_test(_cov(300, *a, i), _cov(350, *aa, i)).absolute,
                cuped_test(_cov(300, *a, i), _cov(350, *b, i)).absolute)
    _check(*_rates(pair, 0.5))


def test_simulated_peeking_every_look_always_valid_holds_fixed_does_not():
    rng = np.random.default_rng(5)
    runs, looks, step = 1000, 10, 400
    def cumulative():
        s = rng.normal(step * 5.0, math.sqrt(step) * 2.0, (runs, looks)).cumsum(axis=1)
        ss = 4.0 * rng.chisquare(step - 1, (runs, looks))
        return s, ss
    (sa, qa), (sb, qb) = cumulative(), cumulative()
    fixed_hits = seq_hits = 0
    for i in range(runs):
        fixed = seq = False
        for k in range(looks):
            n = step * (k + 1)
            # Σx² of the pooled looks: within-look scatter plus the between-look part
            a = MeanStats(n, sa[i, k], qa[i, : k + 1].sum() + _between(sa[i, : k + 1], step))
            b = MeanStats(n, sb[i, k], qb[i, : k + 1].sum() + _between(sb[i, : k + 1], step))
            fixed |= welch_test(a, b).absolute.p_value < 0.05
            seq |= welch_test(a, b, tuning=4000).absolute.p_value < 0.05
        fixed_hits += fixed
        seq_hits += seq
    assert seq_hits / runs <= 0.05, seq_hits
    assert fixed_hits / runs >= 0.10, fixed_hits  # peeking at a fixed-horizon test inflates it


def _between(cum_sums, step):
    """Σ over looks of (look sum)²/step: with the within-look scatter, the pooled Σx²."""
    per_look = np.diff(np.r_[0.0, cum_sums])
    return float((per_look**2).sum() / step)


def test_always_valid_interval_is_wider_than_fixed():
    m = welch_test(A1_A, A1_B)
    seq = welch_test(A1_A, A1_B, tuning=5000)
    assert seq.absolute.high - seq.absolute.low > m.absolute.high - m.absolute.low
    assert seq.absolute.p_value > m.absolute.p_value
    with pytest.raises(ValueError):
        AlwaysValid(0)
