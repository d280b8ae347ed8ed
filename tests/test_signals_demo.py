"""Planted truths of the demo brand (docs/demo.md) recovered by the attribution and signals KPIs."""

from __future__ import annotations

import pytest

from afterclick.attribution import MODELS
from afterclick.demo import CLICK_BAIT_CAMPAIGN, EARLY_SIGNAL_DAYS, EARLY_SIGNAL_EVENT, RELATIONSHIP_CAMPAIGN
from afterclick.kpis.signals import EARLY_DAYS
from afterclick.results import Status

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def indicators(demo_ws):
    r = demo_ws.kpi("signals.leading_indicators")
    assert r.status is Status.COMPUTED, r.reason
    return r


def test_planted_early_signal_ranks_first(indicators):
    assert EARLY_DAYS == EARLY_SIGNAL_DAYS
    top = indicators.rows.iloc[0]
    assert top["indicator"] == EARLY_SIGNAL_EVENT
    assert top["ci_low"] > 0 and top["or_low"] > 1
    # clearly ahead, not a coin toss with the runner-up
    assert top["or_low"] > 1.5 * indicators.rows.iloc[1]["or_low"]
    assert top["retained_doers"] > 2 * top["retained_others"]
    assert top["spend_doers"] > 3 * top["spend_others"]


def test_model_predicts_later_cohorts(indicators):
    lo, hi = indicators.ci
    assert 0.6 < lo < indicators.value < hi <= 1
    assert any("AUC" in n for n in indicators.notes)


def test_value_indicators_computed(demo_ws):
    r = demo_ws.kpi("signals.value_indicators")
    assert r.status is Status.COMPUTED, r.reason
    assert r.value > 0.6
    top3 = set(r.rows.indicator.head(3))
    assert EARLY_SIGNAL_EVENT in top3


def test_relationship_credit_goes_to_the_relationship_campaign(demo_ws):
    """Per journey it touched, the multi-touch models credit the Academy e-mails with the most
    customers still active 90 days on (Markov: among the top two), and the giveaway with the
    fewest (Markov, Shapley) or nearly (a single-touch rule can put the short summer sale below)."""
    rows = demo_ws.kpi("attribution.relationship_campaigns").rows
    assert set(rows.model) == set(MODELS)
    for model, g in rows.groupby("model"):
        per = g.set_index("campaign_id").per_journey
        if model in ("shapley", "linear", "position_based"):
            assert per.idxmax() == RELATIONSHIP_CAMPAIGN, model
        else:
            assert RELATIONSHIP_CAMPAIGN in per.nlargest(2).index, model
        assert CLICK_BAIT_CAMPAIGN in per.nsmallest(2).index, model
        if model in ("markov", "shapley"):
            assert per.idxmin() == CLICK_BAIT_CAMPAIGN, model


def test_first_purchase_credit_adds_up(demo_ws):
    r = demo_ws.kpi("attribution.channels")
    assert r.status is Status.COMPUTED, r.reason
    totals = r.rows.groupby("model").conversions.sum()
    assert totals.max() - totals.min() < 1e-9
    assert r.rows.groupby("model").share.sum().tolist() == pytest.approx([1.0] * len(MODELS))


def test_report_has_attribution_and_signals_sections_with_their_charts(demo_ws):
    from afterclick.views.registry import PLOTS
    from afterclick.report import render_report

    ids = [k for k in PLOTS if k.startswith(("attribution.", "signals."))]
    assert len(ids) == 6
    results = demo_ws.kpis(ids)
    html = render_report(results, title="t")
    for kpi_id in ids:
        assert 'id="kpi-' + kpi_id.replace(".", "-").replace("_", "-") + '"' in html
    assert "Attribution" in html and "Early signals of a relationship" in html
    assert "\u201cTutorial view\u201d in their first 14 days" in html and "tutorial_view in" not in html
    # the breakdown table and the notes name behaviours as the chart does
    assert "<td>Tutorial view</td>" in html and "<td>tutorial_view</td>" not in html
    assert "Too few doers (or non-doers) to read: Lead, Referral." in html


def test_campaign_attribution_names_each_campaign_from_the_campaigns_table(demo_ws):
    from afterclick.report.narrative import sentence

    names = demo_ws.table("campaigns").set_index("campaign_id")["name"]
    for kpi_id in ("attribution.campaigns", "attribution.relationship_campaigns"):
        r = demo_ws.kpi(kpi_id)
        named = r.rows[r.rows.campaign_id.isin(names.index)]
        assert len(named) and (named.name == named.campaign_id.map(names)).all()
        text = sentence(r)
        assert any(n in text for n in names) and not any(c in text for c in names.index), text


def test_kpi_on_patterns_equals_the_model_on_one_row_per_customer(demo_ws, indicators):
    """The KPI fits on the engine's folded patterns; the public model on the per-customer early
    summary must give the same AUC, table and split."""
    import pandas as pd

    from afterclick.engine.executed import utc_times
    from afterclick.kpis.signals import BEHAVIOURS, early_summary
    from afterclick.signals import leading_indicators

    summary = utc_times(demo_ws.store.con.execute(early_summary(demo_ws.tables, demo_ws.review_params())))
    summary = summary.sort_values(["first_ts", "customer_id"], kind="stable")
    li = leading_indicators(summary, list(BEHAVIOURS), outcome="retained", spend="spend_180")
    assert indicators.value == pytest.approx(li.auc, rel=1e-12)
    assert indicators.ci == pytest.approx(li.auc_ci, rel=1e-12)
    ours = indicators.rows.rename(columns={"retained_doers": "rate_doers", "retained_others": "rate_others"})
    pd.testing.assert_frame_equal(ours, li.table, check_exact=False, rtol=1e-9)
    assert f"on the {li.n_test:,} customers first seen from {li.test_from:%Y-%m-%d}" in indicators.notes[0]
