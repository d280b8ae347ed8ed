"""The advocacy family's hand-written statistic, the t interval of a mean from n, Σx and Σx²
(``afterclick.analysis.advocacy.mean_ci``, behind CES), against scipy on the raw answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st

from afterclick.analysis.advocacy import ces, mean_ci


@pytest.mark.parametrize("n", [2, 7, 40, 500])
def test_the_t_interval_from_sums_is_scipy_s_on_the_values(n):
    x = np.random.default_rng(n).integers(1, 8, size=n).astype(float)
    x[0] = 1.0 if x[1] != 1.0 else 7.0  # never all equal: scipy gives NaN for a zero spread
    got = mean_ci(n, x.sum(), (x * x).sum())
    assert got == pytest.approx(st.t.interval(0.95, n - 1, loc=x.mean(), scale=st.sem(x)), rel=1e-9)


def test_no_interval_below_two_answers():
    assert mean_ci(1, 5.0, 25.0) == (None, None)
    assert mean_ci(0, 0.0, 0.0) == (None, None)


def test_ces_rows_and_headline_carry_the_scipy_intervals():
    rng = np.random.default_rng(3)
    months = {pd.Timestamp("2026-01-01", tz="UTC"): rng.integers(1, 8, 35).astype(float),
              pd.Timestamp("2026-02-01", tz="UTC"): rng.integers(1, 8, 12).astype(float)}
    rows = pd.DataFrame({"period": list(months), "answers": [len(v) for v in months.values()],
                         "total": [v.sum() for v in months.values()],
                         "total_sq": [(v * v).sum() for v in months.values()]})
    everyone = np.concatenate(list(months.values()))
    done = ces(float(everyone.mean()), rows)
    for (_, got), v in zip(done.rows.iterrows(), months.values(), strict=True):
        lo, hi = st.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=st.sem(v))
        assert (got["ces"], got["ci_low"], got["ci_high"]) == pytest.approx((v.mean(), lo, hi), rel=1e-9)
    assert list(done.rows["too_few"]) == [False, True]  # under 30 answers in February
    whole = st.t.interval(0.95, len(everyone) - 1, loc=everyone.mean(), scale=st.sem(everyone))
    assert done.ci == pytest.approx(whole, rel=1e-9)
    assert "total" not in done.rows.columns and any("Feb 2026" in n for n in done.notes)


def test_the_t_intervals_of_many_months_at_once_are_scipy_s():
    from afterclick.analysis.advocacy import mean_cis

    rng = np.random.default_rng(8)
    samples = [rng.integers(1, 8, size=k).astype(float) for k in (1, 2, 3, 30, 250)]
    samples[1][:] = (2.0, 6.0)
    low, high = mean_cis([len(x) for x in samples], [x.sum() for x in samples], [(x * x).sum() for x in samples])
    assert np.isnan(low[0]) and np.isnan(high[0])  # one answer: no interval
    for x, lo, hi in zip(samples[1:], low[1:], high[1:], strict=True):
        assert (lo, hi) == pytest.approx(st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x)), rel=1e-9)


@pytest.mark.parametrize("finish", ["nps", "csat", "ces"])
def test_a_survey_kpi_without_answers_is_skipped_with_its_reason(finish):
    from afterclick.analysis import advocacy
    from afterclick.kpis.base import Skip

    columns = {"nps": ["period", "answers", "promoters", "passives", "detractors"],
               "csat": ["period", "answers", "satisfied"], "ces": ["period", "answers", "total", "total_sq"]}
    empty = pd.DataFrame({c: [] for c in columns[finish]})
    args = {"nps": {"key": "period", "compare_last": True}, "csat": {"key": "period"}, "ces": {}}[finish]
    with pytest.raises(Skip, match="no answers here"):
        getattr(advocacy, finish)(None, empty, empty="no answers here", **args)
