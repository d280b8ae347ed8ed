"""Monitoring: reference cases of the research (STL vs the original Fortran, Rosner's ESD, SciPy's
MAD doctest, the Nile break), oracle checks against statsmodels / ruptures / SciPy on the same
data, planted events in synthetic series, and the file formats of notes and alert rules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ruptures as rpt
import statsmodels
from scipy import stats
from statsmodels.datasets import nile
from statsmodels.tsa.seasonal import STL

from afterclick.monitor import (
    AnnotationError,
    Check,
    FlagKind,
    JudgeSettings,
    JudgeStatus,
    MinMagnitude,
    RulesError,
    evaluate_rules,
    explain_move,
    find_change_points,
    generalized_esd,
    judge,
    kpi_series,
    load_annotations,
    load_rules,
    robust_sigma,
    robust_z,
    xmr_limits,
)
from afterclick.monitor.changepoints import noise_sigma
from afterclick.monitor.robust import MAD_NORMAL, StlSettings, decompose
from afterclick.monitor.xmr import RunRule, rule_breaks

STL_RESULTS = Path(statsmodels.__file__).parent / "tsa" / "stl" / "tests" / "results"
ROSNER = [float(v) for v in ["-0.25", "0.68", "0.94", "1.15", "1.20", "1.26", "1.26", "1.34", "1.38", "1.43", "1.49", "1.49", "1.55", "1.56", "1.58", "1.65", "1.69", "1.70", "1.76", "1.77", "1.81", "1.91", "1.94", "1.96", "1.99", "2.06", "2.09", "2.10", "2.14", "2.15", "2.23", "2.24", "2.26", "2.35", "2.37", "2.40", "2.47", "2.54", "2.62", "2.64", "2.90", "2.92", "2.92", "2.93", "3.21", "3.26", "3.30", "3.59", "3.68", "4.30", "4.64", "5.34", "5.42", "6.01"]]


def _nile() -> pd.Series:
    data = nile.load_pandas().data
    return pd.Series(data["volume"].to_numpy(float), pd.to_datetime(data["year"].astype(int).astype(str) + "-01-01"))


def _weekly(values, start="2025-01-06") -> pd.Series:
    return pd.Series(values, pd.date_range(start, periods=len(values), freq="7D"))


# --- reference cases ---------------------------------------------------------------------------

def test_b1_stl_matches_the_fortran_baseline():
    y = pd.read_csv(STL_RESULTS / "stl_co2.csv", header=None).iloc[:, 0].to_numpy(float)
    ref = pd.read_csv(STL_RESULTS / "stl_test_results.csv", skipinitialspace=True)
    ref.columns = [c.strip() for c in ref.columns]
    ref = ref[ref["scenario"].str.strip() == "baseline"].sort_values("idx")
    settings = StlSettings(period=12, seasonal=35, trend=19, low_pass=13, seasonal_jump=4, trend_jump=2,
                           low_pass_jump=2, robust=False, outer_iter=2, inner_iter=1)
    dec = decompose(y, settings)
    assert len(y) == 348
    np.testing.assert_allclose(dec.trend, ref["trend"].to_numpy(float), atol=1e-6, rtol=0)
    np.testing.assert_allclose(dec.seasonal, ref["season"].to_numpy(float), atol=1e-6, rtol=0)
    assert dec.trend[0] == pytest.approx(315.55193972532356, abs=1e-6)
    assert dec.seasonal[0] == pytest.approx(-0.13125464336066284, abs=1e-6)
    assert dec.trend[347] == pytest.approx(349.7026916029209, abs=1e-6)
    assert dec.seasonal[347] == pytest.approx(-0.9489819628908843, abs=1e-6)


def test_b2_generalized_esd_on_rosner_values():
    res = generalized_esd(np.array(ROSNER), 10, alpha=0.05)
    # the NIST e-Handbook prints three decimals, cut rather than rounded (R₁ = 3.11891 is "3.118")
    cut = lambda v: math.floor(v * 1000) / 1000
    assert [cut(r) for r in res.statistics] == [3.118, 2.942, 3.179, 2.810, 2.815, 2.848, 2.279, 2.310, 2.101, 2.067]
    assert [cut(c) for c in res.critical] == [3.158, 3.151, 3.143, 3.136, 3.128, 3.120, 3.111, 3.103, 3.094, 3.085]
    assert res.n_outliers == 3
    assert sorted(ROSNER[i] for i in res.outliers) == [5.34, 5.42, 6.01]


def test_b3_mad_matches_the_scipy_doctest():
    x = stats.norm.rvs(size=100, random_state=123456)
    assert robust_sigma(x) / MAD_NORMAL == pytest.approx(0.82832610097857, abs=1e-14)
    big = stats.norm.rvs(size=1_000_000, scale=2, random_state=123456)
    assert robust_sigma(big) / MAD_NORMAL == pytest.approx(1.3487398527041636, abs=1e-12)
    assert robust_sigma(big) == pytest.approx(1.9996446978061115, abs=1e-12)
    assert robust_sigma(x) == pytest.approx(stats.median_abs_deviation(x, scale="normal"), abs=1e-15)


def test_b4_nile_one_break_last_old_year_1898():
    y = _nile()
    cps = find_change_points(y.to_numpy())
    assert cps.breakpoints == (28, 100)
    assert [round(s.mean, 2) for s in cps.segments] == [1097.75, 849.97]
    assert rpt.Dynp(model="l2", min_size=2, jump=1).fit(y.to_numpy()).predict(n_bkps=1) == [28, 100]
    j = judge(kpi_series(y, "year", kpi="nile", name="Nile flow", unit="count"))
    shifts = [f for f in j.flags if f.kind is FlagKind.LEVEL_SHIFT]
    assert len(shifts) == 1 and shifts[0].period.year == 1899
    assert "since 1899: 1,098 → 850" in shifts[0].sentence and "1898 was the last at the old level" in shifts[0].sentence


# --- oracles -----------------------------------------------------------------------------------

def test_pelt_and_penalty_agree_with_ruptures_and_scipy():
    rng = np.random.default_rng(7)
    x = np.r_[rng.normal(10, 1, 40), rng.normal(13, 1, 30), rng.normal(11, 1, 30)]
    sigma = stats.median_abs_deviation(np.diff(x), scale="normal") / np.sqrt(2)
    assert noise_sigma(x) == pytest.approx(sigma, rel=1e-12)
    pen = 3 * sigma**2 * np.log(x.size)
    cps = find_change_points(x)
    assert cps.penalty == pytest.approx(pen, rel=1e-12)
    assert list(cps.breakpoints) == rpt.Pelt(model="l2", min_size=3, jump=1).fit(x).predict(pen=pen)
    assert cps.breaks[0] == 40 and 67 <= cps.breaks[1] <= 73
    assert find_change_points(x, penalty=1e9).breakpoints == (100,)


def test_xmr_limits_and_robust_z_by_hand():
    x = np.array([10.0, 12, 11, 13, 12, 11, 10, 12])
    lim = xmr_limits(x)
    mr = np.abs(np.diff(x)).mean()
    assert (lim.centre, lim.mr_bar) == (pytest.approx(x.mean()), pytest.approx(mr))
    assert lim.upper == pytest.approx(x.mean() + 2.66 * mr) and lim.upper_range == pytest.approx(3.268 * mr)
    z = robust_z(x)
    assert z == pytest.approx((x - np.median(x)) / stats.median_abs_deviation(x, scale="normal"))
    # 3 of 4 beyond the half-way line (centre + 1.33·mR̄ = 13.28), 8 in a row above the centre, one outside
    tail = [13.5, 13.6, 12.0, 13.4, 11.0, 11.6, 11.7, 11.8, 11.6, 11.9, 11.7, 11.6, 11.8, 30.0]
    found = [(b.rule, b.start - 8, b.end - 8) for b in rule_breaks(np.r_[x, tail], lim)]
    assert found == [(RunRule.THREE_OF_FOUR, 0, 3), (RunRule.EIGHT_IN_A_ROW, 5, 13), (RunRule.OUTSIDE, 13, 13)]


def test_seasonal_expectation_is_statsmodels_stl():
    rng = np.random.default_rng(3)
    t = np.arange(140)
    y = 1000 + 150 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 20, t.size)
    j = judge(kpi_series(pd.Series(y, pd.date_range("2026-01-01", periods=t.size, freq="D")), "day", unit="count"))
    res = STL(y, period=7, seasonal=7, seasonal_deg=0).fit()
    assert j.method == "stl+mad" and j.flags == ()
    np.testing.assert_allclose(j.frame["expected"], res.trend + res.seasonal, rtol=1e-12)


# --- planted events ----------------------------------------------------------------------------

def _found(flags, planted, start, step_days=None, months=None):
    """Planted (position, kind) found within one period; the other flags (at most one per year)."""
    def pos(f):
        if months is not None:
            return int(np.flatnonzero(months == f.period)[0])
        return int((f.period - pd.Timestamp(start)).days // step_days)
    got = [(pos(f), f.kind) for f in flags]
    missed = [p for p in planted if not any(k is p[1] and abs(q - p[0]) <= 1 for q, k in got)]
    extra = [g for g in got if not any(g[1] is k and abs(g[0] - q) <= 1 for q, k in planted)]
    return missed, extra


@pytest.mark.parametrize("seed", range(5))
def test_daily_seasonal_counts_spike_and_outage_found(seed):
    rng = np.random.default_rng(11 + seed)
    t = np.arange(365)
    lam = 800 * (1 + 0.3 * np.sin(2 * np.pi * t / 7))
    lam[120] *= 1.8  # a spike
    lam[250:] *= 0.6  # a lasting drop
    y = rng.poisson(lam).astype(float)
    j = judge(kpi_series(pd.Series(y, pd.date_range("2026-01-01", periods=365, freq="D")), "day",
                         kpi="reach.visits", name="Visits", unit="count"))
    missed, extra = _found(j.flags, [(120, FlagKind.ANOMALY), (250, FlagKind.LEVEL_SHIFT)], "2026-01-01", 1)
    assert missed == [] and len(extra) <= 1
    shift = next(f for f in j.flags if f.kind is FlagKind.LEVEL_SHIFT)
    assert shift.relative == pytest.approx(-0.4, abs=0.03)
    if seed == 0:
        assert extra == [] and "level shift since 8 Sep 2026" in shift.sentence


@pytest.mark.parametrize("seed", range(5))
def test_weekly_short_series_xmr_finds_shift_and_spike(seed):
    rng = np.random.default_rng(5 + seed)
    p = np.full(78, 0.41)
    p[45:] = 0.33
    p[20] = 0.50
    y = rng.binomial(4000, p) / 4000
    j = judge(kpi_series(_weekly(y), "week", kpi="retention.return_30d", name="30-day return"))
    assert j.method == "xmr"
    missed, extra = _found(j.flags, [(20, FlagKind.OUTSIDE_LIMITS), (45, FlagKind.LEVEL_SHIFT)], "2025-01-06", 7)
    assert missed == [] and len(extra) <= 1
    if seed == 0:
        # levels are plain means: the old one holds the 50 % spike, (44 · ~41 % + 50 %) / 45
        assert extra == []
        assert "level shift since the week of 17 Nov 2025: 41.2% → 33.0% (−8.2 pts)" in j.flags[-1].sentence


@pytest.mark.parametrize("seed", range(5))
def test_monthly_seasonality_removed_december_dip_not_flagged(seed):
    rng = np.random.default_rng(2 + seed)
    months = pd.date_range("2022-01-01", periods=48, freq="MS")
    csat = 0.82 - 0.06 * (months.month == 12) + rng.normal(0, 0.006, 48)
    quiet = judge(kpi_series(pd.Series(csat, months), "month", name="CSAT"))
    assert quiet.method == "stl+mad" and quiet.flags == ()
    csat[30] -= 0.08  # an unusual July, which also leaks into the other Julys' seasonal estimate
    loud = judge(kpi_series(pd.Series(csat, months), "month", name="CSAT"))
    assert [(f.period, f.kind) for f in loud.flags] == [(months[30], FlagKind.ANOMALY)]
    # without STL the December dips themselves break the limits
    xmr = judge(kpi_series(pd.Series(csat, months), "month", name="CSAT"), JudgeSettings(min_years=5))
    assert xmr.method == "xmr" and any(f.period.month == 12 for f in xmr.flags)


@pytest.mark.parametrize("seed", range(6))
def test_flat_noisy_series_raise_no_flag_and_no_alert(seed):
    rng = np.random.default_rng(100 + seed)
    share = _weekly(rng.binomial(10_000, 0.4, 104) / 10_000)
    counts = pd.Series(rng.poisson(1000 * (1 + 0.2 * np.sin(2 * np.pi * np.arange(365) / 7))).astype(float),
                       pd.date_range("2025-01-01", periods=365, freq="D"))
    judged = [judge(kpi_series(share, "week", kpi="a")), judge(kpi_series(counts, "day", kpi="b", unit="count"))]
    assert [j.flags for j in judged] == [(), ()]
    rules = load_rules({"rule": [{"kpi": k, "checks": ["anomaly", "run", "change_point"]} for k in "ab"]})
    assert not evaluate_rules(rules, judged).fired


def test_without_the_magnitude_gate_noise_is_flagged():
    flagged = 0
    for seed in range(8):
        y = np.random.default_rng(100 + seed).binomial(10_000, 0.4, 104) / 10_000
        flagged += len(judge(kpi_series(_weekly(y), "week"), JudgeSettings(min_magnitude=MinMagnitude(0))).flags)
    assert flagged > 0


def test_short_series_say_they_are_too_short():
    j = judge(kpi_series(_weekly([0.4, 0.41, 0.2, 0.39, 0.4]), "week", name="30-day return"))
    assert j.status is JudgeStatus.TOO_SHORT and j.flags == ()
    assert j.reason == "too short to judge: 5 weeks of data, at least 8 needed"
    report = evaluate_rules(load_rules([{"kpi": "r", "checks": ["anomaly", "below"], "below": 0.3}]), {"r": j})
    assert report.notes == ("rule 'r anomaly/below': 30-day return too short to judge: 5 weeks of data, at least 8 needed",)
    assert [a.check for a in report.alerts] == []  # the last value, 40.0 %, is not below 30 %


def test_series_input_is_checked():
    with pytest.raises(ValueError, match="appears twice"):
        kpi_series(pd.Series([1.0, 2.0], pd.to_datetime(["2026-01-05", "2026-01-05"])), "week")
    with pytest.raises(ValueError, match="not regular week starts"):
        kpi_series(pd.Series([1.0, 2.0], pd.to_datetime(["2026-01-05", "2026-01-08"])), "week")
    with pytest.raises(ValueError, match="Required column 'value' missing"):
        kpi_series(pd.DataFrame({"period": ["2026-01-05"], "rate": [0.1]}), "week")
    s = kpi_series(pd.DataFrame({"period": pd.date_range("2026-01-01", periods=12, freq="MS").delete(4),
                                 "value": 0.5, "n": 100}), "month")
    assert len(s) == 12 and s.gaps == 1 and np.isnan(s.n[4])
    assert "1 month missing: interpolated, never flagged" in judge(s).notes


# --- explaining a move -------------------------------------------------------------------------

def test_mix_and_rate_split_by_hand():
    before = pd.DataFrame({"segment": ["email", "paid social", "search"], "numerator": [300, 80, 120],
                           "denominator": [600, 200, 400]})
    after = pd.DataFrame({"segment": ["email", "paid social", "search"], "numerator": [290, 90, 110],
                          "denominator": [600, 450, 400]})
    m = explain_move(before, after, name="30-day return", labels=("July", "August"), dimension="channel")
    w0, w1 = np.array([600, 200, 400]) / 1200, np.array([600, 450, 400]) / 1450
    r0, r1 = np.array([300, 80, 120]) / np.array([600, 200, 400]), np.array([290, 90, 110]) / np.array([600, 450, 400])
    assert m.rate_before == pytest.approx(500 / 1200) and m.rate_after == pytest.approx(490 / 1450)
    assert m.mix == pytest.approx(((w1 - w0) * (r0 + r1) / 2).sum(), abs=1e-15)  # Kitagawa's mix
    assert m.rate == pytest.approx(((r1 - r0) * (w0 + w1) / 2).sum(), abs=1e-15)
    assert m.mix + m.rate == pytest.approx(m.change, abs=1e-15)
    assert m.top.segment == "paid social"
    assert m.top.rate == pytest.approx(-0.2 * (200 / 1200 + 450 / 1450) / 2)
    assert m.sentence == ("30-day return fell from 41.7% in July to 33.8% in August (−7.9 pts): −6.3 pts from how "
                          "each channel behaved (rate) and −1.6 pts from who came (mix); most from channel "
                          "'paid social' (−5.9 pts: its rate 40.0% → 20.0%, its share 17% → 31%).")


def test_a_new_segment_is_all_mix():
    before = pd.DataFrame({"segment": ["a"], "numerator": [50], "denominator": [100]})
    after = pd.DataFrame({"segment": ["a", "b"], "numerator": [50, 10], "denominator": [100, 100]})
    m = explain_move(before, after)
    new = next(s for s in m.segments if s.segment == "b")
    assert new.rate == 0 and m.rate == 0 and m.mix == pytest.approx(-0.2)
    assert "new in the later period" in m.sentence
    with pytest.raises(ValueError, match="Required column 'denominator' missing"):
        explain_move(before.drop(columns="denominator"), after)


# --- notes and rules ---------------------------------------------------------------------------

def _shifted_weekly(n_after: int = 3):
    rng = np.random.default_rng(9)
    y = np.r_[rng.normal(0.41, 0.004, 40), rng.normal(0.33, 0.004, n_after)]
    return kpi_series(_weekly(y), "week", kpi="retention.return_30d", name="30-day return")


def test_notes_from_toml_and_csv_attach_to_flags(tmp_path):
    (tmp_path / "notes.toml").write_text('[[note]]\ndate = 2025-10-08\ntext = "price change"\n\n'
                                         '[[note]]\ndate = 2025-10-09\ntext = "other KPI"\nkpi = "reach.visits"\n')
    (tmp_path / "notes.csv").write_text("date,text,kpi\n2025-10-08,price change,\n")
    for name in ("notes.toml", "notes.csv"):
        notes = load_annotations(tmp_path / name)
        j = judge(_shifted_weekly(), annotations=notes)
        (shift,) = j.flags
        assert shift.period == pd.Timestamp("2025-10-13")
        assert shift.annotation == "after: price change on 8 Oct 2025"
        assert shift.sentence.endswith("— after: price change on 8 Oct 2025.")
    far = load_annotations([{"date": "2025-09-01", "text": "too early"}])
    assert judge(_shifted_weekly(), annotations=far).flags[0].annotation is None


def test_notes_list_every_problem(tmp_path):
    (tmp_path / "bad.csv").write_text("date,text,colour\nsoon,,red\n2025-01-01,ok,\n")
    with pytest.raises(AnnotationError) as err:
        load_annotations(tmp_path / "bad.csv")
    assert err.value.problems == (
        "note 1: unknown field(s) colour (fields: date, text, kpi)",
        "note 1: date 'soon' is not a date like 2026-09-01",
        "note 1: text is missing",
        "note 2: unknown field(s) colour (fields: date, text, kpi)",
    )


def test_rules_file_lists_every_problem(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nkpi = "a"\nchecks = ["anomly", "above"]\ndirection = "sideways"\n'
                    'min_magnitude = -1\nwithin = 0\n\n[[rule]]\nchecks = "run"\n\n[[rule]]\nkpi = "b"\n'
                    'name = "x"\n\n[[rule]]\nkpi = "c"\nname = "x"\n\n[alerts]\n')
    with pytest.raises(RulesError) as err:
        load_rules(path)
    assert err.value.problems == (
        "unknown table(s) alerts: rules are [[rule]] tables, per-KPI settings [[series]] tables",
        "rule 1 (a): unknown check 'anomly' (checks: anomaly, run, change_point, above, below, change)",
        "rule 1 (a): check 'above' needs above = <value>",
        "rule 1 (a): min_magnitude must be ≥ 0, not -1",
        "rule 1 (a): within must be a whole number of periods ≥ 1, not 0",
        "rule 1 (a): direction 'sideways' is not one of up, down, worse, better, any",
        "rule 2: kpi is missing (a KPI id such as retention.returning_share)",
        "rule name 'x' used twice; names must be unique",
    )


def test_rules_fire_with_sentences_and_json(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text('[[rule]]\nname = "return dropping"\nkpi = "retention.return_30d"\n'
                    'checks = ["change_point", "below", "change"]\ndirection = "down"\nbelow = 0.35\n'
                    'change = 0.02\nseverity = "critical"\n\n'
                    '[[rule]]\nname = "return rising"\nkpi = "retention.return_30d"\nchecks = ["change_point"]\n'
                    'direction = "better"\n\n[[rule]]\nname = "return worse"\nkpi = "retention.return_30d"\n'
                    'checks = ["change_point"]\ndirection = "worse"\nseverity = "info"\n\n'
                    '[[rule]]\nkpi = "reach.visits"\nchecks = ["anomaly"]\n')
    rules = load_rules(path)
    report = evaluate_rules(rules, [judge(_shifted_weekly(3))])
    assert [(a.rule, a.check) for a in report.alerts] == [
        ("return dropping", Check.CHANGE_POINT), ("return dropping", Check.BELOW), ("return worse", Check.CHANGE_POINT)]
    assert report.alerts[0].sentence.startswith("30-day return: level shift since the week of 13 Oct 2025: 41.")
    assert report.alerts[1].sentence == "30-day return in the week of 27 Oct 2025: 32.9%, below the alert level 35.0%."
    assert report.notes == ("rule 'reach.visits anomaly': no series for KPI reach.visits",)
    payload = json.loads(json.dumps(report.to_dict()))
    assert payload["fired"] is True and payload["alerts"][0]["severity"] == "critical"
    assert payload["alerts"][0]["flag"]["kind"] == "level_shift"
    # the same shift, long past, no longer fires; a drop vs the previous period does
    old = evaluate_rules(rules, [judge(_shifted_weekly(20))])
    assert Check.CHANGE_POINT not in [a.check for a in old.alerts]
    y = np.r_[np.full(12, 0.41), 0.37]
    drop = evaluate_rules(rules, [judge(kpi_series(_weekly(y), "week", kpi="retention.return_30d", name="R"))])
    assert [a.sentence for a in drop.alerts if a.check is Check.CHANGE] == [
        "R in the week of 31 Mar 2025: 37.0%, −4.0 pts vs the week of 24 Mar 2025 (41.0%)."]


def test_thin_periods_are_shown_not_flagged_and_results_are_json():
    rng = np.random.default_rng(4)
    y = rng.binomial(10_000, 0.4, 30) / 10_000
    y[-1] = 0.30
    n = np.full(30, 10_000.0)
    frame = pd.DataFrame({"period": pd.date_range("2026-01-05", periods=30, freq="7D"), "value": y, "denominator": n})
    loud = judge(kpi_series(frame, "week", kpi="r", name="R"), JudgeSettings(min_n=100))
    assert [f.kind for f in loud.flags] == [FlagKind.OUTSIDE_LIMITS]
    frame.loc[29, "denominator"] = 40
    quiet = judge(kpi_series(frame, "week", kpi="r", name="R"), JudgeSettings(min_n=100))
    assert quiet.flags == () and "periods with fewer than 100 behind them are not flagged" in quiet.notes
    payload = json.loads(json.dumps(loud.to_dict()))
    assert payload["flags"][0]["kind"] == "outside_limits" and payload["flags"][0]["statistic_name"] == "limit"
    assert payload["flags"][0]["value"] == pytest.approx(0.30)


def test_settings_are_checked_at_once():
    with pytest.raises(ValueError, match=r"z_threshold must be a number > 0, not 0; min_points must be at least 3"):
        JudgeSettings(z_threshold=0, min_points=1)


@pytest.mark.parametrize("days", [14, 21])
def test_daily_series_from_two_weeks_use_stl(days):
    rng = np.random.default_rng(days)
    y = rng.poisson(1000 * (1 + 0.3 * np.sin(2 * np.pi * np.arange(days) / 7))).astype(float)
    periods = pd.date_range("2026-01-01", periods=days, freq="D")
    quiet = judge(kpi_series(pd.Series(y, periods), "day", unit="count"))
    assert quiet.method == "stl+mad" and quiet.flags == ()
    y[-4] *= 1.8
    spiked = judge(kpi_series(pd.Series(y, periods), "day", unit="count"))
    if days == 21:
        assert [(f.period, f.kind) for f in spiked.flags] == [(periods[-4], FlagKind.ANOMALY)]


def test_a_run_below_the_centre_averages_the_values_below_it():
    """"3 of 4 near the lower limit" can span a spike above the centre: the run's level is that of
    its own side (else a run "below" could average above the centre line)."""
    from afterclick.monitor.judge import _run_flag
    from afterclick.monitor.xmr import RuleBreak

    values = [0.10, 0.02, 0.03, 0.02]  # the spike, then three weeks near the lower limit
    s = kpi_series(pd.Series(values, index=pd.date_range("2026-02-09", periods=4, freq="7D")), "week",
                   kpi="journey.clicks_to_nowhere_rate", name="Clicks to nowhere")
    limits = xmr_limits(np.array([0.08, 0.09, 0.07, 0.08, 0.09, 0.08]))
    flag = _run_flag(s, RuleBreak(RunRule.THREE_OF_FOUR, 0, 3, -1), limits, MinMagnitude(0.01))
    assert flag.value == pytest.approx(0.07 / 3) and flag.difference < 0
    assert "averaging 2.3%" in flag.sentence
