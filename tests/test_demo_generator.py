"""The demo brand: canonical frames, determinism, and every planted truth checked on the raw frames.

Each planted truth is recomputed here with plain pandas from its definition in docs/demo.md, so a
change to the generator that weakens one of them makes a test fail.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from afterclick import demo
from afterclick.demo.generator import BRAND_TABLES
from afterclick.schemas import EVENT_VOCABULARY, SURVEY_RANGES, TABLES, EventClass

BRAND = {name: TABLES[name] for name in BRAND_TABLES}

DAY = pd.Timedelta(days=1)


@pytest.fixture(scope="module")
def d() -> dict[str, pd.DataFrame]:
    return demo.generate("small", seed=0)


@pytest.fixture(scope="module")
def first_touch(d) -> pd.Series:
    """Each customer's first non-impression event."""
    ev = d["events"]
    return ev[ev.event != "impression"].groupby("customer_id").ts.min()


@pytest.fixture(scope="module")
def last_touch(d) -> pd.Series:
    ev = d["events"]
    return ev[ev.event != "impression"].groupby("customer_id").ts.max()


def _retained(d, first_touch, last_touch, days: int) -> pd.DataFrame:
    """Customers first seen >= `days` before the data end, flagged when active `days`+ later."""
    c = d["customers"].set_index("customer_id")
    c = c.join(first_touch.rename("first")).join(last_touch.rename("last"))
    c = c[c["first"] <= demo.DATA_END - days * DAY]
    c["retained"] = c["last"] >= c["first"] + days * DAY
    return c


@pytest.fixture(scope="module")
def by_campaign(d, first_touch, last_touch) -> pd.DataFrame:
    ev, tx, cu = d["events"], d["transactions"], d["customers"]
    imps = ev[ev.event == "impression"].groupby("campaign_id").size()
    clicks = ev[ev.event == "click"].groupby("campaign_id").size()
    r90 = _retained(d, first_touch, last_touch, 90).groupby("acquisition_campaign_id").retained.mean()
    revenue = cu.set_index("customer_id").join(tx.groupby("customer_id").amount.sum().rename("revenue"))
    revenue["revenue"] = revenue.revenue.fillna(0.0)
    per_acquired = revenue.groupby("acquisition_campaign_id").revenue.mean()
    return pd.DataFrame({"ctr": clicks / imps, "retention_90": r90, "revenue_per_acquired": per_acquired})


# ---------------------------------------------------------------------------- shape of the frames


def test_all_seven_tables_with_canonical_columns_and_types(d):
    assert list(d) == list(BRAND)
    for name, spec in BRAND.items():
        df = d[name]
        assert list(df.columns) == list(spec.columns), name
        assert len(df) > 0, name
        inferred = ibis.memtable(df).schema()
        for col in spec.columns:
            want, got = spec.schema[col], inferred[col]
            if want.is_timestamp():
                assert got.is_timestamp(), (name, col, got)
                assert str(df[col].dtype) == "datetime64[us, UTC]", (name, col, df[col].dtype)
            else:
                assert got == want, (name, col, got, want)


def test_required_columns_have_no_nulls_and_keys_are_unique(d):
    for name, spec in BRAND.items():
        df = d[name]
        for col in spec.required:
            assert not df[col].isna().any(), (name, col)
        assert not df.duplicated(list(spec.key)).any(), name


def test_fixed_calendar_and_clean_vocabulary(d):
    for name, spec in BRAND.items():
        for col in spec.timestamps:
            if name in ("content", "campaigns"):
                continue  # product pages were published before the data starts
            assert d[name][col].min() >= demo.DATA_START, (name, col)
            assert d[name][col].max() < demo.DATA_END, (name, col)
    assert set(d["events"].event.unique()) <= set(EVENT_VOCABULARY)
    assert set(d["messages"].kind.unique()) == {"comment", "reply", "dm", "review", "mention",
                                                "community_post", "support"}
    assert 150_000 <= len(d["events"]) <= 250_000
    assert 2_500 <= len(d["customers"]) <= 4_000


def test_ids_link_up(d):
    ev, cu, tx, msg, rs = d["events"], d["customers"], d["transactions"], d["messages"], d["responses"]
    people = set(cu.customer_id)
    # the customers table lists everyone who did more than see an impression
    assert set(ev.loc[ev.event != "impression", "customer_id"]) == people
    assert set(ev.customer_id) > people  # impression-only people have ids too
    assert set(tx.customer_id) <= people and set(rs.customer_id) <= people
    assert set(msg.loc[~msg.is_brand, "author_id"]) <= people
    assert set(msg.loc[msg.is_brand, "author_id"]) == {demo.BRAND_AUTHOR_ID}
    assert set(ev.content_id.dropna()) <= set(d["content"].content_id)
    assert set(msg.content_id.dropna()) <= set(d["content"].content_id)
    campaigns = set(d["campaigns"].campaign_id)
    assert set(ev.campaign_id.dropna()) <= campaigns and set(tx.campaign_id.dropna()) <= campaigns
    replies = msg[msg.parent_id.notna()]
    parents = msg.set_index("message_id").ts
    assert replies.parent_id.isin(parents.index).all()
    assert (parents.reindex(replies.parent_id).to_numpy() <= replies.ts.to_numpy()).all()


def test_acquisition_is_the_first_click(d):
    ev, cu = d["events"], d["customers"]
    first = ev[ev.event != "impression"].sort_values("ts").groupby("customer_id").head(1).set_index("customer_id")
    clickers = cu[cu.segment != "social_only"].set_index("customer_id")
    f = first.reindex(clickers.index)
    assert (f.event == "click").all()
    same = (f.campaign_id == clickers.acquisition_campaign_id) | (
        f.campaign_id.isna() & clickers.acquisition_campaign_id.isna())
    assert same.all()
    social_only = cu[cu.segment == "social_only"]
    assert social_only.acquisition_campaign_id.isna().all()
    assert set(first.reindex(social_only.customer_id).event) <= {"like", "save", "share", "follow"}


def test_sessions_are_minutes_long_and_hours_apart(d):
    ev = d["events"]
    s = ev[ev.session_id.notna()]
    assert (s.groupby("session_id").customer_id.nunique() == 1).all()
    span = s.groupby("session_id").ts.agg(["min", "max"])
    length = (span["max"] - span["min"]).dt.total_seconds()
    assert length.median() < 600 and length.max() < 3 * 3600
    span["customer"] = s.groupby("session_id").customer_id.first()
    span = span.sort_values(["customer", "min"])
    gap = span["min"] - span.groupby("customer")["max"].shift()
    assert (gap.dropna() < pd.Timedelta(minutes=30)).mean() < 0.02
    assert gap.median() > pd.Timedelta(hours=12)
    visits = ev[ev.event == "visit"]
    assert visits.session_id.notna().all() and (visits.duration_s > 0).all()
    assert ev.loc[ev.event == "impression", "session_id"].isna().all()


# ---------------------------------------------------------------------------- determinism


def test_same_seed_same_data_other_seed_other_data(d):
    again = demo.generate("small", seed=0)
    for name in BRAND:
        pd.testing.assert_frame_equal(d[name], again[name], check_exact=True)
    other = demo.generate("small", seed=1)
    assert not d["events"].equals(other["events"])
    assert not d["transactions"].equals(other["transactions"])
    # the catalogue is the same whatever the seed
    pd.testing.assert_frame_equal(d["content"], other["content"])


def test_unknown_size_is_refused():
    with pytest.raises(ValueError, match="unknown demo size"):
        demo.generate("huge")


def test_write_demo_writes_seven_readable_parquet_files(tmp_path, d):
    paths = demo.write_demo(tmp_path / "demo", size="small", seed=0)
    assert set(paths) == set(BRAND)
    for name, path in paths.items():
        assert path.name == f"{name}.parquet" and path.exists()
        back = pd.read_parquet(path)
        assert list(back.columns) == list(TABLES[name].columns)
        assert len(back) == len(d[name])
    back = pd.read_parquet(paths["events"])
    assert str(back.ts.dtype) == "datetime64[us, UTC]"
    assert back.ts.min() == d["events"].ts.min()


# ---------------------------------------------------------------------------- planted truths


def test_truth1_click_bait_wins_clicks_and_loses_relationships(by_campaign):
    bait = by_campaign.loc[demo.CLICK_BAIT_CAMPAIGN]
    others = by_campaign.drop(demo.CLICK_BAIT_CAMPAIGN)
    assert bait.ctr > 1.5 * others.ctr.max()
    assert bait.retention_90 < 0.6 * others.retention_90.min()
    assert bait.retention_90 < 0.15
    assert bait.revenue_per_acquired < 0.5 * others.revenue_per_acquired.min()


def test_truth1_click_bait_clicks_lead_nowhere_most_often(d):
    """A click to nowhere: no other non-impression event of the same person within 30 minutes."""
    ev = d["events"]
    ni = ev.loc[ev.event != "impression", ["customer_id", "ts", "event", "campaign_id"]]
    ni = ni.assign(later=(ni.event != "click").astype(int)).sort_values(["customer_id", "ts", "later"])
    nxt = ni.groupby("customer_id").ts.shift(-1)
    ni = ni.assign(nowhere=nxt.isna() | (nxt - ni.ts > pd.Timedelta(minutes=30)))
    clicks = ni[ni.event == "click"]
    assert 0.03 < clicks.nowhere.mean() < 0.3
    rate = clicks.groupby("campaign_id").nowhere.mean()
    assert rate.idxmax() == demo.CLICK_BAIT_CAMPAIGN
    assert rate[demo.CLICK_BAIT_CAMPAIGN] > 1.5 * rate.drop(demo.CLICK_BAIT_CAMPAIGN).max()


def test_truth2_relationship_campaign_has_modest_ctr_and_best_retention_and_value(by_campaign):
    rel = by_campaign.loc[demo.RELATIONSHIP_CAMPAIGN]
    others = by_campaign.drop(demo.RELATIONSHIP_CAMPAIGN)
    assert rel.ctr < by_campaign.ctr.median()
    assert rel.retention_90 > 1.2 * others.retention_90.max()
    assert rel.retention_90 > 0.55
    assert rel.revenue_per_acquired > 1.25 * others.revenue_per_acquired.max()


def test_truth3_viral_post_gets_likes_deep_guide_gets_saves_downloads_and_thanks(d):
    ev, msg = d["events"], d["messages"]
    counts = ev[ev.content_id.notna()].pivot_table(index="content_id", columns="event", values="ts",
                                                   aggfunc="size", fill_value=0)
    comments = msg[msg.kind == "comment"].groupby("content_id").size().reindex(counts.index, fill_value=0)
    viral, guide = counts.loc[demo.VIRAL_POST], counts.loc[demo.DEEP_GUIDE]
    # the post: most likes of any content, almost no saves, little conversation
    assert counts.like.idxmax() == demo.VIRAL_POST
    assert viral.like > 1.5 * counts.like.drop(demo.VIRAL_POST).max()
    assert viral.save <= 0.005 * viral.like
    assert comments[demo.VIRAL_POST] < 0.03 * viral.like
    # the guide: few likes, most saves and downloads, many grateful comments
    assert guide.like < 0.05 * viral.like
    assert guide.like <= counts.like[counts.like > 0].median()
    assert counts.save.idxmax() == demo.DEEP_GUIDE and counts.download.idxmax() == demo.DEEP_GUIDE
    assert guide.save + guide.download > 50 * guide.like
    assert comments[demo.DEEP_GUIDE] > 2 * comments[demo.VIRAL_POST]
    texts = msg[(msg.kind == "comment") & (msg.content_id == demo.DEEP_GUIDE)].text
    grateful = texts.str.contains(r"thank|helped|grateful|saved|useful|brilliant|rescued|cheers", case=False)
    assert grateful.mean() > 0.6
    assert texts[grateful].nunique() >= 10  # varied wording, not one sentence repeated


def test_truth4_community_members_answer_each_other(d):
    msg = d["messages"]
    by_id = msg.set_index("message_id")
    posts = msg[msg.kind == "community_post"]
    assert len(posts) >= 100 and not posts.is_brand.any()
    replies = msg[msg.kind == "reply"]
    parent_kind = by_id.kind.reindex(replies.parent_id).to_numpy()
    parent_brand = by_id.is_brand.reindex(replies.parent_id).to_numpy(dtype=bool)
    member_to_member = ~replies.is_brand.to_numpy() & ~parent_brand
    in_threads = np.isin(parent_kind, ["community_post", "reply"])
    assert member_to_member[in_threads].mean() > 0.5
    assert member_to_member.sum() > 200
    # the brand answers too, hours later
    brand = msg[msg.is_brand]
    assert brand.parent_id.notna().all() and (brand.author_id == demo.BRAND_AUTHOR_ID).all()
    delay = (brand.ts.to_numpy() - by_id.ts.reindex(brand.parent_id).to_numpy()) / np.timedelta64(1, "h")
    assert 0.5 < np.median(delay) < 12 and (delay > 0).all()
    answered = set(brand.parent_id)
    assert 0.3 < posts.message_id.isin(answered).mean() < 0.8
    for kind in ("dm", "support", "review", "mention"):
        assert (msg.kind == kind).sum() >= 50, kind
    assert msg[(msg.kind == "review")].content_id.notna().all()
    # texts that need escaping and texts carrying personal details
    own = msg[~msg.is_brand].text
    for ch in ("<", "&", '"'):
        assert own.str.contains(ch, regex=False).any(), ch
    assert own.str.contains(r"[\w.+-]+@[\w-]+\.[a-z]{2,}", regex=True).sum() >= 2
    assert own.str.contains(r"(?:\+44 ?|0)7\d{3} ?\d{6}", regex=True).sum() >= 2


SHIPPING = r"deliver|arriv|parcel|ship|courier|tracking|dispatch|waiting|postage|days to get|turned up late"
NAVIGATION = r"find|navigat|checkout|basket|search|menu|maze|clicks|filters|labyrinth|site|lost somewhere"
SUPPORT = r"support|service|staff|replacement|answered|advice|replied|people to deal"


def test_truth5_survey_answers_carry_themes_that_follow_the_score(d):
    rs = d["responses"]
    assert set(rs.survey) == {"nps", "csat", "ces"}
    assert {"post_purchase", "support", "checkout", "onboarding"} <= set(rs.touchpoint)
    for survey, (lo, hi) in SURVEY_RANGES.items():
        s = rs.loc[rs.survey == survey, "score"]
        assert s.between(lo, hi).all() and (s == s.round()).all(), survey
    nps = rs[(rs.survey == "nps") & rs.comment.notna()]
    detractors, promoters = nps[nps.score <= 6].comment, nps[nps.score >= 9].comment
    assert len(detractors) >= 40 and len(promoters) >= 80

    def share(texts, pattern):
        return texts.str.contains(pattern, case=False).mean()

    assert share(detractors, SHIPPING) > 0.25 and share(detractors, SHIPPING) > 5 * share(promoters, SHIPPING)
    assert share(detractors, NAVIGATION) > 0.12 and share(detractors, NAVIGATION) > 5 * share(promoters, NAVIGATION)
    assert share(promoters, SUPPORT) > 0.15 and share(promoters, SUPPORT) > 1.5 * share(detractors, SUPPORT)
    # CES: navigation trouble makes checkout feel hard
    ces = rs[(rs.survey == "ces") & rs.comment.notna()]
    hard = ces.comment.str.contains(NAVIGATION, case=False)
    assert ces[hard].score.mean() < ces[~hard].score.mean() - 1.5
    # varied wording: most comments are not verbatim repeats
    comments = rs.comment.dropna()
    assert comments.nunique() > 0.5 * len(comments)
    assert set(demo.THEMES) >= {"shipping", "navigation", "support"}


def test_truth6_purchases_follow_buy_till_you_die(d):
    tx, cu = d["transactions"], d["customers"]
    per = tx.groupby("customer_id").agg(n=("amount", "size"), mean_value=("amount", "mean"),
                                        first=("ts", "min"), last=("ts", "max"))
    # heterogeneous frequency: many one-off buyers, a long tail of loyal ones
    assert 0.3 < (per.n == 1).mean() < 0.75
    assert per.n.max() >= 10 and 1.8 < per.n.mean() < 4.5
    # Gamma-Gamma: order value independent of frequency among repeat buyers
    rep = per[per.n >= 2]
    assert abs(np.corrcoef(rep.n, rep.mean_value)[0, 1]) < 0.25
    assert 35 < tx.amount.mean() < 65 and (tx.amount > 0).all()
    # the first order carries the acquisition campaign, repeat orders none
    tx = tx.sort_values("ts")
    first = tx.groupby("customer_id").head(1).set_index("customer_id")
    acq = cu.set_index("customer_id").acquisition_campaign_id.reindex(first.index)
    assert ((first.campaign_id == acq) | (first.campaign_id.isna() & acq.isna())).all()
    assert tx.drop(index=tx.groupby("customer_id").head(1).index).campaign_id.isna().all()
    # a buyer is on the site when buying: a page view in the half hour before each order
    ev = d["events"]
    visits = ev.loc[ev.event == "visit", ["customer_id", "ts"]].assign(visit_ts=lambda v: v.ts).sort_values("ts")
    near = pd.merge_asof(tx[["customer_id", "ts"]].sort_values("ts"), visits, on="ts", by="customer_id",
                         direction="backward", tolerance=pd.Timedelta(minutes=30))
    assert near.visit_ts.notna().all()


def test_truth6_dead_customers_stop_visiting(d):
    """Repeat buyers whose orders stopped long ago (mostly dead) hardly visit after their last order."""
    tx, ev = d["transactions"], d["events"]
    per = tx.groupby("customer_id").agg(n=("amount", "size"), last=("ts", "max"))
    lapsed = per[(per.n >= 2) & (per["last"] < demo.DATA_END - 180 * DAY)]
    assert len(lapsed) >= 30
    visits = ev[(ev.event == "visit") & ev.customer_id.isin(lapsed.index)]
    last = lapsed["last"].reindex(visits.customer_id)
    since = (visits.ts.reset_index(drop=True) - last.reset_index(drop=True)) / DAY
    before = ((since > -90) & (since < -1)).sum()
    after = ((since > 1) & (since < 90)).sum()
    assert after < 0.45 * before
    recent = ev[(ev.event == "visit") & (ev.ts >= demo.DATA_END - 90 * DAY)].customer_id.unique()
    assert lapsed.index.isin(recent).mean() < 0.3


def test_truth7_early_tutorial_view_is_the_strongest_early_signal(d, first_touch, last_touch):
    ev, tx = d["events"], d["transactions"]
    horizon, window = 180, demo.EARLY_SIGNAL_DAYS
    c = _retained(d, first_touch, last_touch, horizon)
    spend = tx.merge(first_touch.rename("first"), left_on="customer_id", right_index=True)
    spend = spend[spend.ts < spend["first"] + horizon * DAY].groupby("customer_id").amount.sum()
    c["spend"] = spend.reindex(c.index, fill_value=0.0)
    ni = ev[ev.event != "impression"].merge(first_touch.rename("first"), left_on="customer_id", right_index=True)
    early = ni[ni.ts < ni["first"] + window * DAY]
    lift = {}
    for name, g in early.groupby("event"):
        did = c.index.isin(g.customer_id.unique())
        if did.sum() >= 50 and (~did).sum() >= 50:  # smaller groups are noise
            lift[name] = (c.retained[did].mean() - c.retained[~did].mean(),
                          c.spend[did].mean() / max(c.spend[~did].mean(), 1e-9))
    assert demo.EARLY_SIGNAL_EVENT == "tutorial_view"
    assert EVENT_VOCABULARY[demo.EARLY_SIGNAL_EVENT] is EventClass.DEEP
    best = max(lift, key=lambda k: lift[k][0])
    assert best == demo.EARLY_SIGNAL_EVENT, lift
    diff, spend_ratio = lift[demo.EARLY_SIGNAL_EVENT]
    runner_up = max(v[0] for k, v in lift.items() if k != demo.EARLY_SIGNAL_EVENT)
    assert diff > 0.25 and diff > 1.2 * runner_up
    assert spend_ratio > 3


def test_truth8_no_unknown_event_names(d):
    assert d["events"].event.isin(list(EVENT_VOCABULARY)).all()
    assert d["events"].event.nunique() == len(EVENT_VOCABULARY)


def test_the_catalogue_data_file_links_up():
    # brand.toml is data: the names the code and docs/demo.md use must be in it, and its ids link up
    from afterclick.demo import brand as B

    campaigns = {c.campaign_id for c in B.CAMPAIGNS}
    content = {c.content_id for c in B.CONTENT}
    assert {B.CLICK_BAIT_CAMPAIGN, B.RELATIONSHIP_CAMPAIGN} <= campaigns
    assert {B.VIRAL_POST, B.DEEP_GUIDE} <= content
    assert len(campaigns) == len(B.CAMPAIGNS) and len(content) == len(B.CONTENT)
    for c in (*B.CAMPAIGNS, B.ORGANIC):
        assert set(c.landing) <= content, c.campaign_id
    assert {c.campaign_id for c in B.CONTENT if c.campaign_id} <= campaigns
    assert len(B.REGIONS) == len(B.REGION_WEIGHTS) and sum(B.REGION_WEIGHTS) == pytest.approx(1.0)
    assert set(B.THEMES) <= set(B.THEME_PHRASES)
