"""The demo brand's planted truths (docs/demo.md), recovered by the KPIs themselves.

The demo goes through the same path as real data: Parquet files -> ingest -> store -> KPIs.
"""

from __future__ import annotations

import pytest

from afterclick.demo import (
    CLICK_BAIT_CAMPAIGN,
    DEEP_GUIDE,
    RELATIONSHIP_CAMPAIGN,
    VIRAL_POST,
)
from afterclick.results import Status

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ws(demo_ws):
    return demo_ws  # the small demo, seed 11, built once per session (conftest.py)


@pytest.fixture(scope="module")
def campaigns(ws):
    r = ws.kpi("campaigns.clicks_vs_commitment")
    assert r.status is Status.COMPUTED
    return r.rows.set_index("campaign_id")


def test_click_bait_wins_clicks_but_not_commitment(campaigns):
    c = campaigns
    assert c["ctr"].idxmax() == CLICK_BAIT_CAMPAIGN
    assert c["retention_90d"].idxmin() == CLICK_BAIT_CAMPAIGN
    # little revenue per acquired customer: in the bottom two
    assert CLICK_BAIT_CAMPAIGN in c["revenue_per_customer"].nsmallest(2).index


def test_relationship_campaign_has_modest_clicks_and_strong_retention(campaigns):
    c = campaigns
    assert c.loc[RELATIONSHIP_CAMPAIGN, "ctr"] < c["ctr"].median()
    assert c["retention_90d"].idxmax() == RELATIONSHIP_CAMPAIGN
    assert c["revenue_per_customer"].idxmax() == RELATIONSHIP_CAMPAIGN
    assert c.loc[RELATIONSHIP_CAMPAIGN, "retention_90d"] > 3 * c.loc[CLICK_BAIT_CAMPAIGN, "retention_90d"]


def test_liked_post_versus_saved_guide(ws):
    rows = ws.kpi("resonance.depth_ratio").rows.set_index("content_id")
    assert rows["likes"].idxmax() == VIRAL_POST
    assert rows.loc[DEEP_GUIDE, "likes"] < rows.loc[VIRAL_POST, "likes"] / 3
    assert rows.loc[DEEP_GUIDE, "saves"] > 5 * max(rows.loc[VIRAL_POST, "saves"], 1)
    assert rows.loc[DEEP_GUIDE, "downloads"] > 5 * max(rows.loc[VIRAL_POST, "downloads"], 1)
    assert rows.loc[DEEP_GUIDE, "depth_ratio"] > 10 * rows.loc[VIRAL_POST, "depth_ratio"]


def test_every_kpi_computes_on_the_demo(ws):
    results = ws.kpis()
    # the brand has no B2B side (its KPIs are checked on the B2B brand, tests/test_b2b_demo.py):
    # the B2B KPIs that need leads, deals, subscriptions or accounts are skipped; the awareness
    # ones that read events alone (new visitors, direct and branded share) compute like any other
    awareness = {"b2b.new_visitors", "b2b.direct_branded_share"}
    bad = {r.id: r.reason for r in results if r.status is not Status.COMPUTED
           and (not r.id.startswith("b2b.") or r.id in awareness)}
    assert not bad
    assert all(r.status is Status.SKIPPED for r in results if r.id.startswith("b2b.") and r.id not in awareness)
    values = {r.id: r.value for r in results}
    # sanity of scale: rates are fractions
    for kpi_id in ("reach.ctr", "retention.repeat_visit_rate", "journey.clicks_to_nowhere_rate",
                   "retention.cohort_weekly", "ladder.commitment_ladder"):
        assert 0 <= values[kpi_id] <= 1, kpi_id


def test_some_clicks_lead_nowhere_mostly_on_the_click_bait(ws):
    r = ws.kpi("journey.clicks_to_nowhere_rate")
    assert 0 < r.value < 0.9
    by = r.rows.set_index("campaign_id")["nowhere_rate"]
    assert by.idxmax() == CLICK_BAIT_CAMPAIGN
