"""The leading-indicator model: the logistic fit against statsmodels on the same data, the
AUC interval by hand, and the ranking on data with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from afterclick.signals import auc_interval, fit_logistic, leading_indicators


def simulated(n=4000, seed=3):
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=n), rng.binomial(1, 0.3, n), rng.normal(size=n)])
    eta = -0.4 + 0.8 * x[:, 0] + 1.2 * x[:, 1] - 0.5 * x[:, 2]
    y = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    return x, y


def test_unpenalised_limit_matches_statsmodels_logit():
    x, y = simulated()
    ours = fit_logistic(x, y, C=1e12)
    ref = sm.Logit(y, sm.add_constant(x)).fit(disp=0)
    assert ours.intercept == pytest.approx(ref.params[0], rel=1e-6)
    assert ours.coef == pytest.approx(ref.params[1:], rel=1e-6)
    assert ours.intercept_se == pytest.approx(ref.bse[0], rel=1e-5)
    assert ours.se == pytest.approx(ref.bse[1:], rel=1e-5)
    lo, hi = ours.interval()
    ci = ref.conf_int()
    assert lo == pytest.approx(ci[1:, 0], rel=1e-5) and hi == pytest.approx(ci[1:, 1], rel=1e-5)


def test_ridge_matches_statsmodels_elastic_net_with_no_l1():
    # scikit-learn minimises C·Σ logloss + ||b||²/2; statsmodels -loglike/n + alpha·||b||²/2
    # with L1_wt = 0: the same optimum when alpha = 1 / (C n), the intercept unpenalised
    x, y = simulated(n=600, seed=5)
    C = 0.01
    ours = fit_logistic(x, y, C=C)
    alpha = np.r_[0.0, np.full(x.shape[1], 1 / (C * len(y)))]
    ref = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial()).fit_regularized(
        alpha=alpha, L1_wt=0.0, cnvrg_tol=1e-12, maxiter=1000)
    assert ours.intercept == pytest.approx(ref.params[0], rel=1e-4)
    assert ours.coef == pytest.approx(ref.params[1:], rel=1e-4)
    # the penalty shrinks: every slope is smaller than the unpenalised one
    free = fit_logistic(x, y, C=1e12)
    assert np.all(np.abs(ours.coef) < np.abs(free.coef))


def test_auc_interval_by_hand():
    # Hanley & McNeil (1982): AUC 0.5, 10 and 10: Q1 = Q2 = 1/3,
    # var = (0.25 + 9·(1/3 - 1/4) + 9·(1/3 - 1/4)) / 100 = 0.0175
    lo, hi = auc_interval(0.5, 10, 10)
    assert (hi - lo) / 2 == pytest.approx(1.959963985 * np.sqrt(0.0175), rel=1e-9)
    assert auc_interval(0.99, 10, 10)[1] == 1.0  # clipped


def test_constant_outcome_is_a_clear_error():
    with pytest.raises(ValueError, match="never varies"):
        fit_logistic(np.ones((5, 1)), np.zeros(5))


def planted(n=3000, seed=1):
    """Early behaviours where "guide" triples the odds of staying, "like" does nothing, and
    "click" is done by everyone (nothing to learn from it)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "first_ts": pd.date_range("2025-01-01", periods=n, freq="h"),
        "guide": rng.binomial(1, 0.2, n) * rng.integers(1, 4, n),
        "like": rng.binomial(1, 0.5, n) * rng.integers(1, 9, n),
        "visit": rng.binomial(1, 0.6, n),
        "click": np.ones(n, dtype=int),
        "rare": (np.arange(n) < 10).astype(int),
    })
    eta = -1.2 + np.log(3) * (df.guide > 0) + 0.4 * df.visit
    df["retained"] = rng.binomial(1, 1 / (1 + np.exp(-eta)))
    df["spend"] = np.where(df.retained == 1, 40.0, 5.0)
    return df


def test_planted_indicator_ranks_first_with_its_odds_ratio():
    df = planted()
    li = leading_indicators(df, ["like", "guide", "visit", "click", "rare"], spend="spend")
    t = li.table.set_index("indicator")
    assert li.table.indicator.iloc[0] == "guide"
    assert t.loc["guide", "or_low"] < 3 < t.loc["guide", "or_high"]
    assert t.loc["like", "ci_low"] < 0 < t.loc["like", "ci_high"]
    assert set(li.dropped) == {"click", "rare"}
    assert li.n_train == 2100 and li.n_test == 900
    assert 0.55 < li.auc < 0.75 and li.auc_ci[0] < li.auc < li.auc_ci[1]
    assert t.loc["guide", "spend_doers"] > t.loc["guide", "spend_others"]
    assert list(li.table["rank"]) == [1, 2, 3]
    assert li.table.or_low.is_monotonic_decreasing  # ranked by what the data are sure of


def test_time_split_uses_later_customers_for_the_test():
    df = planted().sample(frac=1, random_state=0)  # shuffled rows: the split still follows time
    li = leading_indicators(df, ["guide", "like", "visit"])
    assert li.test_from == df.first_ts.sort_values().iloc[li.n_train]


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(features=["guide", "nope"]), "required column(s) ['nope'] missing"),
    (dict(features=["click"]), "no behaviour is done by at least 30"),
    (dict(features=["guide"], train_share=1.5), "train_share must be between 0 and 1"),
])
def test_bad_input_gives_one_clear_line(kwargs, message):
    with pytest.raises(ValueError) as err:
        leading_indicators(planted(), **kwargs)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_indicator_chart_ranks_top_first_and_shows_auc():
    from afterclick.views.registry import plot
    from afterclick.results import Direction, Family, KPIResult, Status, Unit

    li = leading_indicators(planted(), ["like", "guide", "visit"])
    result = KPIResult(id="signals.leading_indicators", name="n", family=Family.SIGNALS, unit=Unit.SCORE,
                       direction=Direction.HIGHER, definition="d", status=Status.COMPUTED, value=li.auc,
                       ci=li.auc_ci, rows=li.table)
    fig = plot(result)
    (dots,) = fig.data
    assert list(dots.y)[-1] == "Guide"  # drawn bottom-up: the top rank is the last category
    assert dots.marker.color[-1] != dots.marker.color[0]  # guide clears 1, like does not
    assert any(f"AUC on later cohorts {li.auc:.2f}" in a.text for a in fig.layout.annotations)


def test_sentences_name_the_top_indicator_and_the_relationship_leader():
    from afterclick.analysis.attribution import credit
    from afterclick.report.narrative import sentence
    from afterclick.results import Direction, Family, KPIResult, Status, Unit

    li = leading_indicators(planted(), ["like", "guide", "visit"])
    common = dict(name="n", unit=Unit.SCORE, direction=Direction.HIGHER, definition="d", status=Status.COMPUTED)
    r = KPIResult(id="signals.leading_indicators", family=Family.SIGNALS, value=li.auc, rows=li.table, **common)
    text = sentence(r)
    assert text.startswith("Customers who did \u201cGuide\u201d in their first 14 days had ")
    assert f"AUC {li.auc:.2f}" in text
    assert "the odds to be active 90-180 days on" in text  # the outcome window, named
    value = KPIResult(id="signals.value_indicators", family=Family.SIGNALS, value=li.auc, rows=li.table, **common)
    assert "the odds to buy between day 14 and day 180" in sentence(value)  # after the first 14 days
    touches = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "position": [0, 0, 0, 0],
                            "key": ["academy", "academy", "giveaway", "giveaway"],
                            "converted": [1, 1, 1, 0], "value": [0.0] * 4})
    rel = KPIResult(id="attribution.relationship_campaigns", family=Family.ATTRIBUTION,
                    rows=credit(touches, label="campaign_id", with_value=False), **common)
    assert sentence(rel) == ("Per journey it touched, academy brings the most customers still active 90 days on "
                             "(1.00 under the Markov model) and giveaway the fewest (0.50).")


def test_collapsed_patterns_fit_and_score_as_the_rows_themselves():
    # binary flags collapse to their distinct (flags, outcome) patterns with counts: the weighted
    # fit, its Wald SEs and the weighted AUC equal the fit and AUC on every row
    from sklearn.metrics import roc_auc_score

    from afterclick.signals.model import _patterns

    rng = np.random.default_rng(11)
    n = 20000
    x = rng.binomial(1, [0.1, 0.4, 0.7, 0.05, 0.5], size=(n, 5)).astype(float)
    y = rng.binomial(1, 1 / (1 + np.exp(-(-0.3 + x @ np.array([1.0, -0.6, 0.4, 1.5, 0.0])))))
    xs, ys, ws = _patterns(x, y.astype(float))
    assert len(xs) <= 2**6 and ws.sum() == n
    mu, sd = x.mean(axis=0), x.std(axis=0)
    for C in (1.0, 0.001):
        rows = fit_logistic((x - mu) / sd, y, C=C)
        pats = fit_logistic((xs - mu) / sd, ys, C=C, sample_weight=ws)
        assert pats.intercept == pytest.approx(rows.intercept, rel=1e-7)
        assert pats.coef == pytest.approx(rows.coef, rel=1e-7)
        assert pats.se == pytest.approx(rows.se, rel=1e-9)
        assert pats.intercept_se == pytest.approx(rows.intercept_se, rel=1e-9)
    full_auc = roc_auc_score(y, rows.predict_proba((x - mu) / sd))
    pattern_auc = roc_auc_score(ys, rows.predict_proba((xs - mu) / sd), sample_weight=ws)
    assert pattern_auc == pytest.approx(full_auc, rel=1e-12)
    # and the Mann-Whitney U over every row, each scored as its pattern (ties count a half)
    _, which = np.unique(x, axis=0, return_inverse=True)
    score = rows.predict_proba((np.unique(x, axis=0) - mu) / sd)[which.ravel()]
    u = stats.mannwhitneyu(score[y == 1], score[y == 0]).statistic
    assert pattern_auc == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()), rel=1e-12)


def test_weighted_fit_matches_statsmodels_freq_weights():
    x, y = simulated(n=500, seed=8)
    w = np.random.default_rng(2).integers(1, 5, len(y)).astype(float)
    ours = fit_logistic(x, y, C=1e12, sample_weight=w)
    ref = sm.GLM(y, sm.add_constant(x), family=sm.families.Binomial(), freq_weights=w).fit()
    assert ours.coef == pytest.approx(ref.params[1:], rel=1e-6)
    assert ours.se == pytest.approx(ref.bse[1:], rel=1e-5)


@pytest.mark.parametrize("n", [*range(1, 25), 35, 45, 95, 105])
def test_engine_patterns_split_where_the_per_customer_model_does(n):
    # the engine folds customers into patterns and keeps the place of those beside the cut; the
    # analysis rounds the cut as leading_indicators does (Python's round: 3.5 -> 4, 10.5 -> 10)
    import ibis

    from afterclick.analysis.signals import time_split
    from afterclick.kpis.signals import BEHAVIOURS, fold_patterns

    rng = np.random.default_rng(n)
    day = pd.Timestamp("2025-01-01")
    summary = pd.DataFrame({
        "customer_id": [f"c{i:03d}" for i in rng.permutation(n)],
        "first_ts": day + pd.to_timedelta(rng.integers(0, 4, n), unit="D"),  # many ties on time
        **{b: rng.integers(0, 2, n) * rng.integers(1, 3, n) for b in BEHAVIOURS},
        "retained": rng.integers(0, 2, n), "bought_later": rng.integers(0, 2, n),
        "spend_180": rng.integers(0, 50, n).astype(float),
    })
    patterns = ibis.duckdb.connect().execute(fold_patterns(ibis.memtable(summary)))
    assert patterns["customers"].sum() == n and len(patterns) <= n
    train, test_from = time_split(patterns, 0.7)
    ordered = summary.sort_values(["first_ts", "customer_id"], kind="stable").reset_index(drop=True)
    n_train = int(round(n * 0.7))
    assert patterns["customers"][train].sum() == n_train
    assert test_from == (ordered["first_ts"].iloc[n_train] if n_train < n else None)
    # the training side holds exactly the earliest customers' flags and outcomes
    flags = [*BEHAVIOURS, "retained"]
    early = (ordered[flags].head(n_train).clip(upper=1).value_counts().sort_index())
    folded = patterns[train].groupby(flags)["customers"].sum().sort_index()
    assert early.to_dict() == folded.to_dict()
