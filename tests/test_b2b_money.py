"""B2B money: each campaign's year of leads, influenced pipeline by attribution model, and the
intervals of NRR, GRR and pipeline velocity checked against scipy's bootstrap on the same data.

The hand-made B2B world is test_b2b's (its docstring tables the leads and deals).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from test_b2b import build, frames, records

import afterclick
from afterclick.analysis.b2b_intervals import ratio_interval, velocity_interval
from afterclick.stats.experiment.sufficient import RatioStats


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    w = afterclick.open(build(tmp_path_factory.mktemp("b2b_money"), frames()), read_only=True)
    yield w
    w.close()


def test_a_campaigns_year_of_leads(ws):
    # webinar: L1, L2, L6 (too young); L1's D1 won 10,000, L2's D2 lost 5,000. paid: L3, L4, L5, L7;
    # only L3 is a year old, its D3 won 8,000 at 182 days. No campaigns table: no spend.
    assert records(ws, "b2b.campaign_year", "campaign_id", "leads", "mqls", "leads_a_year_old", "deals_12m",
                   "pipeline_12m", "revenue_12m", "spend") == [
        ("paid", 4, 4, 1, 1, 8000.0, 8000.0, None), ("webinar", 3, 3, 2, 2, 15000.0, 10000.0, None),
    ]


def test_influenced_pipeline_per_model(ws):
    r = ws.kpi("b2b.pipeline_influenced")
    rows = r.rows
    assert set(rows.model) == {"first_touch", "last_touch", "linear", "position_based", "markov", "shapley"}
    # every deal met one campaign only: every model agrees. webinar D1, D2, D10; paid D3, D4 and
    # D5 (no source, but its contact p6 was paid's lead L5 a month before)
    for _, m in rows.groupby("model"):
        got = {c: (d, s, round(pl, 6), round(rv, 6)) for c, d, s, pl, rv in
               m[["campaign_id", "deals", "sourced_pipeline", "pipeline", "revenue"]].itertuples(index=False)}
        assert got == {"webinar": (3, 18000.0, 18000.0, 10000.0), "paid": (3, 12000.0, 13000.0, 8000.0)}
        assert math.isclose(m.pipeline.sum(), r.value)


def test_multi_touch_deal_is_shared_by_each_model(tmp_path):
    """One deal of 9,000 (won) whose contacts met campaign a (a lead), then b (a click), and which
    names b as its source: touches a, b, b. First touch gives a all of it, last touch b; linear
    a 1/3; position-based 40/20/40: a 0.4."""
    t = {
        "customers": pd.DataFrame({"customer_id": ["u1", "u2"], "account_id": ["X", "X"]}),
        "lead_status": pd.DataFrame({"lead_id": ["LA"], "customer_id": ["u1"], "ts": ["2025-01-01"],
                                     "status": ["mql"], "campaign_id": ["a"]}),
        "events": pd.DataFrame({"customer_id": ["u2"], "ts": ["2025-01-10"], "event": ["click"],
                                "channel": ["email"], "campaign_id": ["b"]}),
        "deals": pd.DataFrame({"deal_id": ["D"], "account_id": ["X"], "created_at": ["2025-02-01"],
                               "amount": [9000.0], "closed_at": ["2025-03-01"], "outcome": ["won"],
                               "source_campaign_id": ["b"]}),
    }
    with afterclick.open(build(tmp_path, t), read_only=True) as w:
        rows = w.kpi("b2b.pipeline_influenced").rows.set_index(["model", "campaign_id"])
    share = rows.pipeline / 9000.0
    assert share["first_touch", "a"] == 1.0 and share.get(("first_touch", "b"), 0.0) == 0.0
    assert share["last_touch", "b"] == 1.0
    assert math.isclose(share["linear", "a"], 1 / 3) and math.isclose(share["linear", "b"], 2 / 3)
    assert math.isclose(share["position_based", "a"], 0.4)
    assert math.isclose(rows.revenue["linear", "b"], 6000.0)
    assert (rows.sourced_pipeline.xs("b", level="campaign_id") == 9000.0).all()


def _bootstrap(data: tuple[np.ndarray, ...], statistic) -> tuple[float, float]:
    res = st.bootstrap(data, statistic, paired=True, vectorized=False, n_resamples=4000,
                       method="percentile", random_state=np.random.default_rng(11))
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def test_nrr_interval_agrees_with_the_bootstrap():
    rng = np.random.default_rng(3)
    before = rng.gamma(2.0, 500.0, 400)
    now = before * rng.choice([0.0, 0.8, 1.0, 1.0, 1.2, 1.5], 400)
    ours = ratio_interval(RatioStats.from_values(now, before))
    ref = _bootstrap((now, before), lambda n, b: n.sum() / b.sum())
    assert ours is not None
    for a, b in zip(ours, ref, strict=True):
        assert abs(a - b) < 0.015, (ours, ref)  # the width is about 0.12


def test_velocity_interval_agrees_with_the_bootstrap():
    rng = np.random.default_rng(5)
    n = 300
    won = rng.random(n) < 0.3
    amount = rng.gamma(3.0, 4000.0, n)
    cycle = rng.uniform(10, 90, n)

    def velocity(w, a, c):
        w = w.astype(bool)
        return len(w) * a[w].mean() * w.mean() / c[w].mean()

    sums = pd.Series({"won_measured": won.sum(), "won_amount_sum": amount[won].sum(),
                      "won_amount_ss": (amount[won] ** 2).sum(), "cycle_sum": cycle[won].sum(),
                      "cycle_ss": (cycle[won] ** 2).sum(), "amount_cycle": (amount[won] * cycle[won]).sum()})
    v = velocity(won, amount, cycle)
    ours = velocity_interval(n, int(won.sum()), n, sums, v)
    ref = _bootstrap((won.astype(float), amount, cycle), velocity)
    assert ours is not None
    for a, b in zip(ours, ref, strict=True):
        assert abs(a - b) / v < 0.04, (v, ours, ref)  # the width is about 50% of v


def test_intervals_in_the_kpis(ws):
    nrr = ws.kpi("b2b.nrr")
    assert nrr.ci is not None and nrr.ci[0] <= nrr.value <= nrr.ci[1]
    rows = nrr.rows.set_index(["breakdown", "group"])
    assert (rows.grr_high.dropna() <= 1.0).all() and (rows.nrr_low.dropna() >= 0.0).all()
    assert rows.nrr_low.isna()["cohort", "2024"]  # one customer: no interval
    assert not any(c.startswith(("ss_", "s_")) for c in nrr.rows.columns)
    v = ws.kpi("b2b.pipeline_velocity")
    assert v.ci is not None and v.ci[0] < v.value < v.ci[1]
    assert {"velocity_low", "velocity_high"} <= set(v.rows.columns) and "cycle_ss" not in v.rows.columns


def test_follow_up_ratio_carries_katz_interval(ws):
    """Katz et al. (1978): log ratio ± 1.96 √(1/k₁ − 1/n₁ + 1/k₀ − 1/n₀). Waiting: 1 of 3 converted;
    followed up within 7 days: 2 of 3 (test_b2b's world)."""
    r = ws.kpi("b2b.conversion_by_follow_up")
    se = math.sqrt(1 / 1 - 1 / 3 + 1 / 2 - 1 / 3)
    assert r.ci is not None
    assert math.isclose(r.ci[0], 0.5 * math.exp(-1.959964 * se), rel_tol=1e-5)
    assert math.isclose(r.ci[1], 0.5 * math.exp(1.959964 * se), rel_tol=1e-5)


def test_the_b2b_section_is_absent_without_b2b_tables_and_speaks_with_them(ws, tmp_path):
    from afterclick.report.sections import SectionContext
    from afterclick.report.sections import b2b as section

    ev = pd.DataFrame({"customer_id": ["p1"], "ts": ["2025-05-01 10:00"], "event": ["visit"]})
    with afterclick.open(build(tmp_path, {"events": ev}), read_only=True) as plain:
        assert section.build(SectionContext(ws=plain, results={}, strict=True)) is None
    s = section.build(SectionContext(ws=ws, results={}, strict=True, options={"currency": "$"}))
    words = " ".join(x for c in s.cards for x in c.sentences)
    # test_b2b's world: 3 of 7 MQLs waited a week; NRR 7/9; one of one lead rejected a year ago bought
    assert "Sales left 43% of MQLs without a touch for a week" in words
    assert "Net revenue retention is 78%" in words
    assert "Of those rejected a year ago or more, 100% bought within a year anyway" in words


def test_the_b2b_section_speaks_of_what_a_store_holds(tmp_path):
    """Deals alone give the pipeline card; subscriptions alone the retention card; nothing fails."""
    from afterclick.report.sections import SectionContext
    from afterclick.report.sections import b2b as section

    deals = pd.DataFrame({"deal_id": ["d1", "d2", "d3"], "account_id": ["a", "b", "c"],
                          "created_at": ["2026-01-05"] * 3, "amount": [100.0, 200.0, 300.0],
                          "closed_at": ["2026-02-04", "2026-01-20", "2026-02-14"], "outcome": ["won", "lost", "won"],
                          "source_campaign_id": ["s", "s", None]})
    subs = pd.DataFrame({"account_id": ["a", "b", "a", "b"], "month": ["2024-12-01"] * 2 + ["2025-12-01"] * 2,
                         "mrr": [100.0, 200.0, 150.0, 0.0]})
    for name, tables, title in (("deals", {"deals": deals}, "Pipeline, and the campaigns that moved it"),
                                ("subs", {"subscriptions": subs}, "Revenue retention")):
        with afterclick.open(build(tmp_path / name, tables), read_only=True) as w:
            s = section.build(SectionContext(ws=w, results={}, strict=True))
        assert [c.title for c in s.cards] == [title]
