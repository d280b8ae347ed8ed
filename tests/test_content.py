"""Content value KPIs: a hand-made brand with every answer worked out by hand, the interval
statistics against statsmodels, and the demo's planted content truths."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

import afterclick
from afterclick.demo import DEEP_GUIDE, VIRAL_POST
from afterclick.ingest import ingest
from afterclick.analysis.content import mh_risk_difference
from afterclick.kpis.content import ANY_CONTENT
from afterclick.results import Status
from afterclick.store import Store

A0 = pd.Timestamp("2025-01-10 09:00")  # first touch of stratum A (January, email)
B0 = pd.Timestamp("2025-03-10 09:00")  # first touch of stratum B (March, social)
DAY = pd.Timedelta(days=1)


def brand() -> dict[str, pd.DataFrame]:
    """Stratum A: 30 people visit guide g1 the day after their first click (18 come back after
    100 days, 9 buy within 90 days, 10 download the guide); 40 do not (10 come back, 4 buy; on
    day 50 they like post p1 and 2 share it). Stratum B: 20 visit g1 (6 come back), 20 do not
    (2 come back; on day 50 ten of them visit guide g2 and one downloads it)."""
    ev, tx = [], []

    def add(cid, ts, event, channel=None, content=None):
        ev.append(dict(customer_id=cid, ts=ts, event=event, channel=channel, content_id=content))

    def group(prefix, t0, channel, n, engaged, retained, bought):
        ids = [f"{prefix}-{i:02d}" for i in range(n)]
        for i, cid in enumerate(ids):
            add(cid, t0, "click", channel)
            if engaged:
                add(cid, t0 + DAY, "visit", "web", "g1")
            if i < retained:
                add(cid, t0 + 100 * DAY, "visit", "web")
            if i < bought:
                tx.append(dict(order_id=f"o-{cid}", customer_id=cid, ts=t0 + 10 * DAY, amount=20.0))
        return ids

    a_eng = group("A-e", A0, "email", 30, True, 18, 9)
    a_not = group("A-n", A0, "email", 40, False, 10, 4)
    group("B-e", B0, "social", 20, True, 6, 0)
    b_not = group("B-n", B0, "social", 20, False, 2, 0)
    for cid in a_eng[:10]:
        add(cid, A0 + DAY, "download", "web", "g1")
    for i, cid in enumerate(a_not):
        add(cid, A0 + 50 * DAY, "like", "social", "p1")
        if i < 2:
            add(cid, A0 + 50 * DAY, "share", "social", "p1")
    for i, cid in enumerate(b_not[:10]):
        add(cid, B0 + 50 * DAY, "visit", "web", "g2")
        if i == 0:
            add(cid, B0 + 50 * DAY, "download", "web", "g2")
    for cid in ("x1", "x2", "x3", "x4", "x5"):
        add(cid, A0, "impression", "display", "p2")
    add("zz", pd.Timestamp("2025-12-31 12:00"), "impression", "display")  # the data end
    content = pd.DataFrame({
        "content_id": ["g1", "g2", "p1", "p2"], "kind": ["guide", "guide", "post", "post"],
        "title": ["Guide one", "Guide two", "A post", "An ad"], "goal": ["download", "Download", "share", None],
    })
    events = pd.DataFrame(ev)
    events["ts"] = pd.to_datetime(events["ts"], utc=True)
    transactions = pd.DataFrame(tx)
    transactions["ts"] = pd.to_datetime(transactions["ts"], utc=True)
    return {"events": events, "transactions": transactions, "content": content}


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("content")
    (folder / "src").mkdir()
    for name, df in brand().items():
        df.to_parquet(folder / "src" / f"{name}.parquet", index=False)
    with Store(folder / "c.duckdb") as store:
        summary = ingest(store, folder / "src")
    assert summary.adds_up and summary.quarantined == 0 and not summary.unknown_goals
    w = afterclick.open(folder / "c.duckdb", read_only=True)
    yield w
    w.close()


def close(a, b):
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def computed(ws, kpi_id):
    r = ws.kpi(kpi_id)
    assert r.status is Status.COMPUTED, r.reason
    return r


def test_value_per_item_and_quadrants(ws):
    r = computed(ws, "content.value")
    rows = r.rows.set_index("content_id")
    # p2 had impressions only: no interaction, no row
    assert list(rows.index) == ["p1", "g1", "g2"]
    assert rows.loc["g1", ["reach", "shallow", "visits", "deep", "downloads"]].tolist() == [50, 0, 50, 10, 10]
    assert rows.loc["p1", ["reach", "shallow", "likes", "deep", "shares"]].tolist() == [40, 40, 40, 2, 2]
    assert pd.isna(rows.loc["g1", "depth_ratio"]) and close(rows.loc["p1", "depth_ratio"], 2 / 40)
    # medians over the three items: shallow {40, 0, 0} -> 0, deep {2, 10, 1} -> 2
    assert rows["quadrant"].to_dict() == {"p1": "vanity", "g1": "hidden gem", "g2": "quiet"}
    assert close(r.value, 13 / (13 + 40))  # 10 + 2 + 1 deep against 40 likes (clicks name no content)
    assert rows.loc["g1", "title"] == "Guide one"


def test_goal_attainment(ws):
    r = computed(ws, "content.goal_attainment")
    rows = r.rows.set_index("content_id")
    assert list(rows.index) == ["g1", "g2", "p1"]  # p2 declares no goal; "Download" was lower-cased
    assert rows["goal"].tolist() == ["download", "download", "share"]
    assert rows["reach"].tolist() == [50, 10, 40] and rows["goal_people"].tolist() == [10, 1, 2]
    assert rows["goal_rate"].tolist() == [0.2, 0.1, 0.05]
    # download peers: median of 0.2 and 0.1 = 0.15
    assert close(rows.loc["g1", "attainment_index"], 0.2 / 0.15)
    assert close(rows.loc["g2", "attainment_index"], 0.1 / 0.15)
    assert close(rows.loc["p1", "attainment_index"], 1.0)
    assert close(r.value, 13 / 100)
    assert r.notes == ()


def test_engaged_vs_not_stratified(ws):
    r = computed(ws, "content.engaged_vs_not")
    rows = r.rows.set_index("content_id")
    assert list(rows.index) == [ANY_CONTENT, "g1"]  # nobody engaged with p1 or g2 within 30 days
    g1 = rows.loc["g1"]
    assert (g1["engaged"], g1["comparable"]) == (50, 60)
    assert close(g1["retention_engaged"], 24 / 50) and close(g1["retention_comparable"], 12 / 60)
    assert close(g1["retention_diff_raw"], 24 / 50 - 12 / 60)
    # Mantel-Haenszel: A: w = 30*40/70, RD = 18/30 - 10/40 = 0.35; B: w = 20*20/40 = 10,
    # RD = 6/20 - 2/20 = 0.2 -> (6 + 2) / (1200/70 + 10) = 28/95
    assert close(g1["retention_diff"], 28 / 95)
    # conversion: A 9/30 vs 4/40 (RD 0.2), B 0 vs 0 -> (1200/70 * 0.2) / (1900/70) = 12/95
    assert close(g1["conversion_diff"], 12 / 95)
    assert close(r.value, 28 / 95)
    assert r.ci == (rows.loc[ANY_CONTENT, "retention_diff_low"], rows.loc[ANY_CONTENT, "retention_diff_high"])
    assert r.ci[0] < r.value < r.ci[1]
    assert any("association, not cause" in n.lower() for n in r.notes)
    # the unadjusted interval is Newcombe's, from statsmodels on the pooled counts
    lo, hi = confint_proportions_2indep(24, 50, 12, 60, method="newcomb", compare="diff")
    assert close(g1["retention_diff_raw_low"], lo) and close(g1["retention_diff_raw_high"], hi)


def test_mantel_haenszel_difference_by_hand_and_against_statsmodels():
    # one stratum: the plain difference with the Wald interval statsmodels gives
    rd, lo, hi = mh_risk_difference([50], [24], [60], [12])
    ref_lo, ref_hi = confint_proportions_2indep(24, 50, 12, 60, method="wald", compare="diff")
    assert close(rd, 0.28) and close(lo, ref_lo) and close(hi, ref_hi)
    # two strata by hand: weights 1200/70 and 10, variances p(1-p)/n per group
    rd, lo, hi = mh_risk_difference([30, 20], [18, 6], [40, 20], [10, 2])
    w = np.array([1200 / 70, 10.0])
    var = np.array([0.6 * 0.4 / 30 + 0.25 * 0.75 / 40, 0.3 * 0.7 / 20 + 0.1 * 0.9 / 20])
    half = 1.959963984540054 * math.sqrt(float((w**2 * var).sum()) / w.sum() ** 2)
    assert close(rd, 28 / 95) and close(lo, 28 / 95 - half) and close(hi, 28 / 95 + half)
    # strata lacking a group carry no weight; none usable is an error, not NaN
    assert mh_risk_difference([30, 5], [18, 5], [40, 0], [10, 0])[0] == pytest.approx(0.35)
    with pytest.raises(ValueError, match="no stratum"):
        mh_risk_difference([5], [1], [0], [0])


def test_every_item_at_once_equals_each_item_alone_against_statsmodels():
    """compare() computes all items' intervals in one call per statistic: each item's numbers
    are statsmodels' own on that item's pooled counts, and the Mantel-Haenszel difference of its
    strata alone; an item without comparable people is left out and said so."""
    from statsmodels.stats.proportion import proportion_confint

    from afterclick.analysis.content import compare, mh_risk_differences

    rng = np.random.default_rng(7)
    rows = []
    for item in ("a", "b", ANY_CONTENT, "d"):
        for s in range(5):
            # item d has no comparable people in any stratum
            n1, n0 = int(rng.integers(1, 60)), 0 if item == "d" else int(rng.integers(1, 80))
            rows.append({"content_id": item, "cohort": s, "channel": "web", "title": f"T{item}", "kind": "k",
                         "n1": n1, "retained1": int(rng.integers(0, n1 + 1)), "converted1": int(rng.integers(0, n1 + 1)),
                         "n0": n0, "retained0": int(rng.integers(0, n0 + 1)), "converted0": int(rng.integers(0, n0 + 1))})
    rows = pd.DataFrame(rows)
    out = compare(None, rows)
    got = out.rows.set_index("content_id")
    assert got.index[0] == ANY_CONTENT and set(got.index) == {"a", "b", ANY_CONTENT}
    assert any("1 item(s)" in n for n in out.notes)
    for item, g in rows[rows["content_id"] != "d"].groupby("content_id"):
        n1, n0 = int(g["n1"].sum()), int(g["n0"].sum())
        assert got.loc[item, "title"] == f"T{item}" and (got.loc[item, "engaged"], got.loc[item, "comparable"]) == (n1, n0)
        for o, col in (("retention", "retained"), ("conversion", "converted")):
            x1, x0 = int(g[f"{col}1"].sum()), int(g[f"{col}0"].sum())
            lo, hi = proportion_confint(x1, n1, alpha=0.05, method="wilson")
            assert close(got.loc[item, f"{o}_engaged_low"], lo) and close(got.loc[item, f"{o}_engaged_high"], hi)
            lo, hi = proportion_confint(x0, n0, alpha=0.05, method="wilson")
            assert close(got.loc[item, f"{o}_comparable_low"], lo) and close(got.loc[item, f"{o}_comparable_high"], hi)
            lo, hi = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff")
            assert close(got.loc[item, f"{o}_diff_raw_low"], lo) and close(got.loc[item, f"{o}_diff_raw_high"], hi)
            rd, lo, hi = mh_risk_difference(g["n1"], g[f"{col}1"], g["n0"], g[f"{col}0"])
            assert close(got.loc[item, f"{o}_diff"], rd) and close(got.loc[item, f"{o}_diff_low"], lo)
    # the grouped Mantel-Haenszel: one row per key with a usable stratum
    many = mh_risk_differences(rows["content_id"], rows["n1"], rows["retained1"], rows["n0"], rows["retained0"])
    assert list(many.index) == sorted(["a", "b", ANY_CONTENT])
    # without transactions the conversion columns stay empty, retention is unchanged
    none = compare(None, rows.assign(converted1=None, converted0=None)).rows.set_index("content_id")
    assert none["conversion_diff"].isna().all() and none["retention_diff"].equals(got["retention_diff"])


def test_no_goals_says_so(tmp_path):
    tables = brand()
    tables["content"]["goal"] = None
    (tmp_path / "src").mkdir()
    for name, df in tables.items():
        df.to_parquet(tmp_path / "src" / f"{name}.parquet", index=False)
    with Store(tmp_path / "c.duckdb") as store:
        ingest(store, tmp_path / "src")
    with afterclick.open(tmp_path / "c.duckdb", read_only=True) as w:
        r = computed(w, "content.goal_attainment")
    assert r.value is None and r.rows.empty
    assert "no content item declares a goal" in r.notes[0].lower()


# ------------------------------------------------------------------------------ the demo


@pytest.fixture(scope="module")
def demo(demo_ws):
    return demo_ws


@pytest.mark.slow
def test_demo_viral_post_is_vanity_and_the_guide_has_depth(demo):
    rows = computed(demo, "content.value").rows.set_index("content_id")
    assert rows.loc[VIRAL_POST, "quadrant"] == "vanity"
    assert rows.loc[DEEP_GUIDE, "quadrant"] in ("hidden gem", "star")
    assert rows["likes"].idxmax() == VIRAL_POST
    assert rows["saves"].idxmax() == DEEP_GUIDE and rows["downloads"].idxmax() == DEEP_GUIDE


@pytest.mark.slow
def test_demo_goals(demo):
    rows = computed(demo, "content.goal_attainment").rows.set_index("content_id")
    # the guide does its job (downloads) better than any other guide, by far
    guides = rows[rows["goal"] == "download"]
    assert guides["goal_rate"].idxmax() == DEEP_GUIDE
    assert guides.loc[DEEP_GUIDE, "attainment_index"] > 3
    # the meme is meant to be shared: hardly anyone does, for all its likes
    assert rows.loc[VIRAL_POST, "goal"] == "share"
    assert rows.loc[VIRAL_POST, "goal_rate"] < 0.01
    assert rows.loc[VIRAL_POST, "likes"] > 30 * rows.loc[VIRAL_POST, "goal_events"]


@pytest.mark.slow
def test_demo_tutorial_viewers_are_retained_better(demo):
    r = computed(demo, "content.engaged_vs_not")
    rows = r.rows.set_index("content_id")
    tutorials = rows[rows["kind"] == "tutorial"]
    assert len(tutorials) >= 4
    # the planted early signal (tutorial_view): every tutorial's adjusted interval lies above 0
    assert (tutorials["retention_diff_low"] > 0).all()
    assert tutorials["retention_diff"].mean() > rows.loc[VIRAL_POST, "retention_diff"]
    assert r.ci[0] < r.value < r.ci[1]
