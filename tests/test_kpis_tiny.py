"""Every KPI against values worked out by hand on the tiny brand of tinyworld.py.

The derivations are in the comments beside each expectation; W-numbers are Monday weeks.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

import afterclick
from afterclick.kpis import REGISTRY
from afterclick.results import Status
from test_b2b import EXPECTED as B2B_EXPECTED
from tinyworld import MESSAGES, build_store

# the reference for sentiment: the vaderSentiment package itself, on the five customer messages
VADER_MEAN = sum(SentimentIntensityAnalyzer().polarity_scores(m[3])["compound"]
                 for m in MESSAGES if not m[7]) / 5


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    path = build_store(tmp_path_factory.mktemp("tiny"))
    w = afterclick.open(path, read_only=True)
    yield w
    w.close()


@pytest.fixture(scope="module")
def ws_events_only(tmp_path_factory):
    path = build_store(tmp_path_factory.mktemp("tiny_ev"), with_transactions=False)
    w = afterclick.open(path, read_only=True)
    yield w
    w.close()


def close(a, b):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


# id -> headline value worked out by hand
EXPECTED_VALUES = {
    "reach.impressions": 5,  # A1, B1, C1, D1, D2
    "reach.reach": 4,  # A, B, C, D saw an impression
    "reach.clicks": 3,  # A, B, C clicked once each
    "reach.ctr": 3 / 5,
    "reach.likes": 1,
    "reach.follows": 1,
    # week-4 "on" retention over cohorts W0 (A,B), W1 (C), W4 (E), W9 (G): nobody active at +4
    "retention.cohort_weekly": 0.0,
    # month 3 of the January cohort would be April, which is not complete: no cohort reaches it
    "retention.cohort_monthly": None,
    # W15 (last complete week; the data ends in W16): A resurrects, F goes dormant
    "retention.lifecycle": 1.0,
    "retention.returning_share": 1.0,  # W15: A is the only active customer and had been before
    # visitors A (4 visit days), C (2), E (1), F (1), G (2)
    "retention.repeat_visit_rate": 3 / 5,
    # at risk (first active >= 90 days before 04-28 10:00): A, B, C; lapsed: B and C
    "retention.churn_rate": 2 / 3,
    # March (last complete month): G on 2 days, 1 customer -> DAU 1 / MAU 1
    "retention.stickiness": 1.0,
    # customer-weeks: A W0 (2 days), A W1, A W3, A W15, B W0, C W1, C W2, E W4, F W14, G W9 (2)
    "retention.active_days_per_week": 12 / 10,
    "retention.engaged_non_buyers": 1,  # G: two active days, never bought
    # 14 sessions: 0,0,0,0,10,20,30,50,90,100,180,240,300,400 (s1 sums 60+120)
    "trust.session_duration_median": 40.0,
    "trust.session_duration_p75": 160.0,  # linear interpolation at position 9.75
    "trust.visits_per_visitor": 10 / 5,
    "trust.pages_per_session": 11 / 10,
    "journey.clicks_to_nowhere_rate": 1 / 3,  # B's click is followed by nothing
    "journey.funnel": 1 / 3,  # only A's click reaches "relationship"
    # March (April is not complete): A advocate, C trusting; B, E, G engaged; D aware
    "ladder.commitment_ladder": 2 / 6,
    "ladder.movement": 0,  # March: nobody moved up or down
    "campaigns.clicks_vs_commitment": 1 / 3,  # eligible A, B, C; only A retained
    # on content: deep = A's save and C's download of g1; shallow = two clicks and a like on p1
    "resonance.depth_ratio": 2 / 3,
    # --- voice of the customer (tinyworld RESPONSES and MESSAGES)
    # NPS answers 10, 6, 8, 3, 9: promoters r1, r5; detractors r2, r4 -> (2 - 2) / 5
    "advocacy.nps": 0.0,
    "advocacy.nps_by_touchpoint": 0.0,
    "advocacy.nps_by_segment": 0.0,
    "advocacy.csat": 2 / 3,  # 5, 2, 4: two of three are 4 or 5
    "advocacy.csat_by_touchpoint": 2 / 3,
    "advocacy.csat_by_segment": 2 / 3,
    "advocacy.ces": 4.5,  # (6 + 3) / 2
    "advocacy.themes": 0,  # four comments and one support message: too few for themes
    "advocacy.drivers": None,
    "advocacy.signal_agreement": 0,  # a handful of answers a month: no change is significant
    # five customer messages (m4 is the brand's): m1 thanks, m5 tells a story and is the only
    # one with 12+ distinct words; C asks for advice (m2), of the writers A, B, C, E
    "resonance.message_sentiment": VADER_MEAN,
    "resonance.gratitude_rate": 1 / 5,
    "resonance.personal_story_rate": 1 / 5,
    "resonance.thoughtful_rate": 1 / 5,
    "trust.advice_seeking_share": 1 / 4,
    # on content: A's save of g1 over two clicks and a like on p1 (visits carry no content_id)
    "resonance.save_rate": 1 / 3,
    "resonance.share_rate": 0.0,
    "resonance.content_resonance": 1 / 3,  # comments on content m1, m2, m3: m1 is grateful
    # deep / (shallow + deep) on content: the save and the download against two clicks and a like
    "content.value": 2 / 5,
    # only A and C engaged with content (fewer than 20 people): no comparison to make
    "content.engaged_vs_not": None,
    # journeys (clicks with a channel): A social → bought, B social → no, C email → bought
    "attribution.channels": 2 / 3,
    "attribution.campaigns": 2 / 3,
    # first active >= 90 days before 04-28 10:00: A, B, C; still active 90+ days on: A
    "attribution.relationship": 1 / 3,
    "attribution.relationship_campaigns": 1 / 3,
    # nobody was first active 180 days before the data end: no outcome to predict yet
    "signals.leading_indicators": None,
    "signals.value_indicators": None,
    # orders: A o1, o2; C o3 -> 3 orders / 2 buyers; (50 + 30 + 20) / 3; A bought on 2 days, C on 1
    "value.purchase_frequency": 3 / 2,
    "value.average_order_value": 100 / 3,
    "value.repeat_purchase_rate": 1 / 2,
    # the last complete month of the transactions (they end on 21 April) is March: nobody bought
    "value.active_buyers": 0,
    "value.historical_revenue_per_customer": 100 / 2,
    # two buyers are too few to fit a lifetime-value model: no value, a note says why
    "value.predicted_clv": None,
    "value.predicted_clv_by_segment": None,
    "value.probability_alive": None,
    "value.campaign_ltv_credit": None,
    "value.engaged_non_buyer_value": None,
    "value.holdout_check": None,
}

#: KPIs that need tables the tiny brand does not have, with the module checking them by hand.
CHECKED_ELSEWHERE = {
    **{k: "tests/test_community.py" for k in (
        "community.active_participants", "community.repeat_participants", "community.ugc_creators",
        "community.member_reply_share", "community.brand_response_rate",
        "community.time_to_first_response", "community.engagement_levels", "community.reply_network")},
    "content.goal_attainment": "tests/test_content.py",
    # the B2B family reads leads, deals and subscriptions, which the tiny brand does not have
    **{k: "tests/test_b2b.py" for k in B2B_EXPECTED},
}


def test_every_kpi_has_a_hand_computed_value():
    assert set(EXPECTED_VALUES) | set(CHECKED_ELSEWHERE) == set(REGISTRY.ids())


@pytest.mark.parametrize("kpi_id", sorted(EXPECTED_VALUES))
def test_headline_value(ws, kpi_id):
    r = ws.kpi(kpi_id)
    assert r.status is Status.COMPUTED, r.reason
    assert close(r.value, EXPECTED_VALUES[kpi_id]), (kpi_id, r.value, EXPECTED_VALUES[kpi_id])


def rows(ws, kpi_id, *cols):
    df = ws.kpi(kpi_id).rows
    return [tuple(None if pd.isna(v) else v for v in rec) for rec in df[list(cols)].itertuples(index=False)]


def test_ctr_per_channel(ws):
    assert rows(ws, "reach.ctr", "channel", "impressions", "clicks", "ctr") == [
        ("display", 2, 0, 0.0), ("email", 1, 1, 1.0), ("social", 2, 2, 1.0)
    ]
    assert ws.kpi("reach.ctr").notes == ()  # no channel has more clicks than impressions


def test_ctr_above_one_is_flagged(tmp_path):
    ev = pd.DataFrame({"customer_id": ["a", "a", "a", "b"], "event": ["impression", "click", "click", "click"],
                       "channel": ["email", "email", "email", "social"],
                       "ts": pd.to_datetime(["2025-01-06 10:00", "2025-01-06 10:01", "2025-01-07 10:00",
                                             "2025-01-07 11:00"], utc=True)})
    (tmp_path / "src").mkdir()
    ev.to_parquet(tmp_path / "src" / "events.parquet", index=False)
    from afterclick.ingest import ingest
    from afterclick.store import Store

    with Store(tmp_path / "s.duckdb") as st:
        assert ingest(st, tmp_path / "src").adds_up
    with afterclick.open(tmp_path / "s.duckdb", read_only=True) as w:
        r = w.kpi("reach.ctr")
    assert r.value == 3.0
    assert len(r.notes) == 1 and "email, social" in r.notes[0] and "without tracked impressions" in r.notes[0]


def test_likes_without_channel_are_grouped(ws):
    assert rows(ws, "reach.likes", "channel", "events") == [("(none)", 1)]


def test_weekly_cohort_matrix(ws):
    df = ws.kpi("retention.cohort_weekly").rows
    # complete weeks end with W15 (W16 holds the latest event): W0 and W1 see 13 periods
    # (0..12), W4 12, W9 7, W14 2
    assert df.groupby("cohort").size().tolist() == [13, 13, 12, 7, 2]
    w0 = df[df.cohort == pd.Timestamp("2025-01-06", tz="UTC")].set_index("period")
    assert w0.cohort_size.unique().tolist() == [2]
    assert w0.active_on.tolist() == [2, 1, 0, 1] + [0] * 9  # A back in W1 and W3
    assert w0.active_on_or_after.tolist() == [2] + [1] * 12  # A is active again in W15
    assert w0.retention_on[3] == 0.5
    w1 = df[df.cohort == pd.Timestamp("2025-01-13", tz="UTC")].set_index("period")
    assert w1.active_on.tolist()[:3] == [1, 1, 0]
    assert w1.active_on_or_after.tolist()[:3] == [1, 1, 0]


def test_monthly_cohort_matrix(ws):
    got = rows(ws, "retention.cohort_monthly", "period", "cohort_size", "active_on", "active_on_or_after")
    # complete months end with March (April holds the latest event); A's April return still
    # counts as "on or after" for the earlier months
    assert got == [
        (0, 3, 3, 3), (1, 3, 1, 1), (2, 3, 0, 1),  # January: A, B, C
        (0, 1, 1, 1), (1, 1, 0, 0),  # February: E
        (0, 1, 1, 1),  # March: G
    ]


def test_lifecycle_rows(ws):
    got = rows(ws, "retention.lifecycle", "period", "new", "returning", "resurrecting", "dormant", "quick_ratio")
    w = {p.strftime("%m-%d"): rest for p, *rest in got}
    assert w == {
        "01-06": [2, 0, 0, 0, None],
        "01-13": [1, 1, 0, 1, 1.0],  # C new, A returning, B dormant
        "01-20": [0, 1, 0, 1, 0.0],  # C returning, A dormant
        "01-27": [0, 0, 1, 1, 1.0],  # A resurrects (referral 02-01), C dormant
        "02-03": [1, 0, 0, 1, 1.0],  # E new, A dormant
        "02-10": [0, 0, 0, 1, 0.0],  # E dormant: a week with nobody active still shows
        "03-10": [1, 0, 0, 0, None],
        "03-17": [0, 0, 0, 1, 0.0],
        "04-14": [1, 0, 0, 0, None],
        "04-21": [0, 0, 1, 1, 1.0],
        "04-28": [0, 0, 0, 1, 0.0],
    }


def test_monthly_lifecycle_uses_the_grain(ws):
    r = ws.kpi("retention.lifecycle", grain="month")
    got = {p.strftime("%m"): (n, ret, res, d) for p, n, ret, res, d in
           rows_of(r.rows, "period", "new", "returning", "resurrecting", "dormant")}
    # Jan: A, B, C new. Feb: A returning, E new; B, C dormant. Mar: G new; A, E dormant.
    # Apr: A resurrects, F new, G dormant. Last complete month = March: (1 + 0) / 2.
    assert got == {"01": (3, 0, 0, 0), "02": (1, 1, 0, 2), "03": (1, 0, 0, 2), "04": (1, 0, 1, 1)}
    assert r.value == 0.5


def rows_of(df, *cols):
    return [tuple(rec) for rec in df[list(cols)].itertuples(index=False)]


def test_repeat_visit_rows(ws):
    assert rows(ws, "retention.repeat_visit_rate", "visit_days", "visitors") == [("1", 2), ("2", 2), ("4", 1)]


def test_stickiness_rows(ws):
    got = rows(ws, "retention.stickiness", "dau", "mau", "stickiness")
    assert got == [(1.0, 3, 1 / 3), (1.0, 2, 0.5), (1.0, 1, 1.0), (1.0, 2, 0.5)]


def test_churn_rows(ws):
    assert rows(ws, "retention.churn_rate", "at_risk", "lapsed") == [(3, 2)]


def test_engaged_non_buyers_rows(ws):
    assert rows(ws, "retention.engaged_non_buyers", "group", "customers") == [
        ("engaged buyers", 2), ("engaged non-buyers", 1)
    ]


def test_nowhere_per_campaign(ws):
    assert rows(ws, "journey.clicks_to_nowhere_rate", "campaign_id", "clicks", "nowhere") == [
        ("c1", 1, 0), ("c2", 2, 1)
    ]


def test_funnel_steps(ws):
    # A: engaged (visit 5 min later), value (save), relationship (back 01-08), revenue (o1 on
    # 01-14), loyalty (referral 26 days on). C: engaged, but the download comes 7 days 45 minutes
    # after the click, outside the 7-day window. B: nowhere.
    assert rows(ws, "journey.funnel", "step", "clicks") == [
        ("click", 3), ("engaged", 2), ("value", 1), ("relationship", 1), ("revenue", 1), ("loyalty", 1)
    ]


def test_ladder_rows(ws):
    got = rows(ws, "ladder.commitment_ladder", "period", "stage", "customers")
    by = {}
    for period, stage, n in got:
        by.setdefault(period.strftime("%m"), {})[stage] = n
    assert by == {
        "01": {"aware": 1, "engaged": 1, "trusting": 2},  # D; B; A (save, bought) and C
        "02": {"aware": 1, "engaged": 2, "trusting": 1, "advocate": 1},  # A referred someone
        "03": {"aware": 1, "engaged": 3, "trusting": 1, "advocate": 1},
        "04": {"aware": 1, "engaged": 3, "advocate": 1},  # B and C fell off the 3-month window
    }


def test_ladder_movement_rows(ws):
    got = rows(ws, "ladder.movement", "up", "down", "stayed", "joined", "dropped")
    # D only ever saw impressions: on the aware rung, but not followed customer by customer
    assert got == [(0, 0, 0, 3, 0), (1, 0, 2, 1, 0), (0, 0, 4, 1, 0), (0, 0, 3, 1, 2)]


def test_clicks_vs_commitment_rows(ws):
    got = rows(ws, "campaigns.clicks_vs_commitment", "campaign_id", "name", "impressions", "clicks",
               "acquired", "eligible", "retained", "revenue", "spend")
    assert got == [("c1", "Flash", 3, 1, 1, 1, 1, 80.0, 100.0), ("c2", "Guides", 2, 2, 2, 2, 0, 20.0, 50.0)]
    df = ws.kpi("campaigns.clicks_vs_commitment").rows.set_index("campaign_id")
    assert df.loc["c2", "ctr"] == 1.0 and df.loc["c2", "retention_90d"] == 0.0
    assert df.loc["c1", "ctr"] == 1 / 3 and df.loc["c1", "retention_90d"] == 1.0
    assert df.loc["c2", "revenue_per_customer"] == 10.0


def test_review_period_bounds_the_data(ws):
    from datetime import datetime, timezone

    r = ws.kpi("reach.impressions", start=datetime(2025, 1, 7, tzinfo=timezone.utc),
               end=datetime(2025, 4, 28, tzinfo=timezone.utc))
    assert r.value == 1  # only D1 (01-10) lies in [01-07, 04-28)


def test_missing_table_skips_with_reason(ws_events_only):
    r = ws_events_only.kpi("journey.funnel")
    assert r.status is Status.SKIPPED
    assert r.reason == "no orders in this store (needs table transactions)"
    assert r.value is None and r.rows is None
    # campaigns only *uses* transactions: it still runs, without revenue
    c = ws_events_only.kpi("campaigns.clicks_vs_commitment")
    assert c.status is Status.COMPUTED and c.rows.revenue.isna().all()
    assert c.rows.name.tolist() == ["c1", "c2"]


def test_depth_ratio_per_content(ws):
    assert rows(ws, "resonance.depth_ratio", "content_id", "shallow", "deep", "likes", "saves",
                "downloads", "depth_ratio") == [("p1", 3, 0, 1, 0, 0, 0.0), ("g1", 0, 2, 0, 1, 1, None)]


def test_acquisition_campaign_comes_from_customers_when_listed(tmp_path):
    ws = afterclick.open(build_store(tmp_path, with_customers=True), read_only=True)
    got = rows(ws, "campaigns.clicks_vs_commitment", "campaign_id", "acquired", "eligible", "retained", "revenue")
    # c1: A (first click, not listed) and C (listed); c2: B is listed as organic -> nobody
    assert got == [("c1", 2, 2, 1, 100.0), ("c2", 0, 0, 0, None)]
    ws.close()


def test_attribution_by_hand(ws):
    # paths "social" (A bought £50, B did not) and "email" (C bought £20). Chain: start→social 2/3,
    # →email 1/3; social→conversion 1/2, email→conversion 1: P = 2/3. Removing either leaves 1/3:
    # both removal effects 1/2, one conversion each. Value: V = 2/3·1/2·50 + 1/3·20 = 70/3;
    # without social 20/3 (RE 5/7), without email 50/3 (RE 2/7): £50 and £20.
    df = ws.kpi("attribution.channels").rows
    assert set(df.model) == {"first_touch", "last_touch", "linear", "position_based", "markov", "shapley"}
    for _, g in df.groupby("model"):
        assert rows_of(g, "channel", "journeys") == [("email", 1), ("social", 2)]
        assert g.conversions.tolist() == pytest.approx([1, 1], rel=1e-12)
        assert g.value.tolist() == pytest.approx([20, 50], rel=1e-12)
    m = df[df.model == "markov"].set_index("channel")
    assert m.removal_effect.tolist() == pytest.approx([0.5, 0.5])
    camp = ws.kpi("attribution.campaigns").rows
    assert sorted(set(camp.campaign_id)) == ["c1", "c2"]  # A's click is c1, B's and C's c2
    # named from the campaigns table, beside the id
    assert dict(zip(camp.campaign_id, camp.name)) == {"c1": "Flash", "c2": "Guides"}
    rel = ws.kpi("attribution.relationship_campaigns").rows
    assert dict(zip(rel.campaign_id, rel.name)) == {"c1": "Flash", "c2": "Guides"}
