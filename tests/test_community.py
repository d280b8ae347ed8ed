"""Community KPIs on hand-made threads, every answer worked out by hand in the comments.

Weeks start on Monday: W1 = 2025-01-06, W2 = 2025-01-13, W3 = 2025-01-20. The latest event falls
in W3, so headlines read W2 (the last complete week).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import afterclick
from afterclick.ingest import ingest
from afterclick.results import Status
from afterclick.store import Store

# id, author, ts, kind, parent, is_brand, content_id
THREADS = [
    ("m1", "alice", "2025-01-06 10:00", "community_post", None, False, None),
    ("m2", "bob", "2025-01-06 11:00", "reply", "m1", False, None),        # member -> member
    ("m3", "brand", "2025-01-06 14:00", "reply", "m1", True, None),       # brand answers m1 after 4 h
    ("m4", "alice", "2025-01-06 15:00", "reply", "m2", False, None),      # alice thanks bob: m2m
    ("m5", "carol", "2025-01-07 09:00", "comment", None, False, "p1"),
    ("m6", "dave", "2025-01-07 10:00", "reply", "m5", False, None),       # m2m
    ("m7", "erin", "2025-01-07 12:00", "dm", None, False, None),          # private
    ("m8", "brand", "2025-01-07 13:30", "dm", "m7", True, None),          # answers the DM after 1.5 h
    ("m9", "frank", "2025-01-08 08:00", "review", None, False, "p1"),
    ("m10", "carol", "2025-01-08 09:00", "reply", "m3", False, None),     # a member answering the brand
    ("m11", "dave", "2025-01-08 10:00", "reply", "m6", False, None),      # dave answers himself
    ("m12", "bob", "2025-01-13 09:00", "community_post", None, False, None),
    ("m13", "alice", "2025-01-13 10:00", "reply", "m12", False, None),    # m2m
    ("m14", "gina", "2025-01-14 09:00", "community_post", None, False, None),
    ("m20", "gina", "2025-01-14 12:00", "reply", "m13", False, None),     # m2m
    ("m15", "brand", "2025-01-14 19:00", "reply", "m14", True, None),     # answers m14 after 10 h
    ("m16", "brand", "2025-01-15 09:00", "reply", "m14", True, None),     # a second answer
    ("m17", "hank", "2025-01-15 10:00", "reply", "m99", False, None),     # parent unknown
    ("m18", "erin", "2025-01-16 10:00", "support", None, False, None),    # never answered
    ("m19", "ivan", "2025-01-20 09:00", "mention", None, False, None),
]
EVENTS = [
    ("alice", "2025-01-09 10:00", "share"),
    ("zoe", "2025-01-21 10:00", "visit"),  # the latest event: W3 is incomplete
]


def make_store(folder, messages, events):
    src = folder / "src"
    src.mkdir(parents=True)
    m = pd.DataFrame(messages, columns=["message_id", "author_id", "ts", "kind", "parent_id", "is_brand",
                                        "content_id"])
    m["ts"] = pd.to_datetime(m["ts"], utc=True)
    m["text"] = "hello " + m["message_id"]
    m.to_parquet(src / "messages.parquet", index=False)
    e = pd.DataFrame(events, columns=["customer_id", "ts", "event"])
    e["ts"] = pd.to_datetime(e["ts"], utc=True)
    e.to_parquet(src / "events.parquet", index=False)
    path = folder / "c.duckdb"
    with Store(path) as store:
        summary = ingest(store, src)
    assert summary.adds_up and summary.quarantined == 0
    return path


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    w = afterclick.open(make_store(tmp_path_factory.mktemp("community"), THREADS, EVENTS), read_only=True)
    yield w
    w.close()


def close(a, b):
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def result(ws, kpi_id, **params):
    r = ws.kpi(kpi_id, **params)
    assert r.status is Status.COMPUTED, r.reason
    return r


def table(df, *cols):
    return [tuple(None if pd.isna(v) else v for v in rec) for rec in df[list(cols)].itertuples(index=False)]


def test_active_and_repeat_participants(ws):
    r = result(ws, "community.active_participants")
    # W1 members with public messages: alice, bob, carol, dave, frank (erin only wrote a DM);
    # W2: bob, alice, gina, hank (erin's support request is private); W3: ivan
    assert table(r.rows, "participants", "new_participants", "repeat_participants", "ugc_creators") == [
        (5, 5, 0, 2),  # UGC: alice's post, frank's review
        (4, 2, 2, 2),  # new: gina, hank; repeat: bob, alice; UGC: bob's and gina's posts
        (1, 1, 0, 0),
    ]
    assert r.value == 4
    rep = result(ws, "community.repeat_participants")
    assert close(rep.value, 2 / 4)
    assert list(rep.rows["repeat_share"]) == [0.0, 0.5, 0.0]


def test_ugc_creators(ws):
    r = result(ws, "community.ugc_creators")
    assert r.value == 4  # alice, frank, bob, gina
    assert table(r.rows, "creators", "community_posts", "reviews") == [(2, 1, 1), (2, 2, 0)]


def test_member_reply_share(ws):
    r = result(ws, "community.member_reply_share")
    # replies with a known parent (m17's is unknown; m8 is a private DM): m2 m3 m4 m6 m10 m11
    # in W1, m13 m20 m15 m16 in W2 = 10; member to member: m2 m4 m6 m13 m20 = 5 (m11 answers
    # himself, m10 answers the brand)
    assert close(r.value, 5 / 10)
    assert table(r.rows, "replies", "member_to_member", "brand_replies", "replies_to_brand") == [
        (6, 3, 1, 1), (4, 2, 2, 0),
    ]


def test_brand_response_rate_and_time(ws):
    r = result(ws, "community.brand_response_rate")
    # top-level member messages: m1 m5 m7 m9 m12 m14 m18 m19 = 8; answered m1 (4 h), m7 (1.5 h),
    # m14 (10 h; the second answer does not count)
    assert close(r.value, 3 / 8)
    by = r.rows.set_index("kind")
    assert by.loc["community_post", "messages"] == 3 and by.loc["community_post", "answered"] == 2
    assert close(by.loc["community_post", "median_response_h"], 7.0)  # median of 4 h and 10 h
    assert close(by.loc["dm", "response_rate"], 1.0) and close(by.loc["support", "response_rate"], 0.0)
    t = result(ws, "community.time_to_first_response")
    assert close(t.value, 4 * 3600)  # median of 1.5, 4 and 10 hours
    assert table(t.rows, "answered", "median_s") == [(2, 2.75 * 3600), (1, 10 * 3600)]


def test_reply_network(ws):
    r = result(ws, "community.reply_network")
    # W1 ties: alice-bob (m2, m4), carol-dave (m6): two groups of two among 5 participants;
    # W2 ties: alice-bob (m13), gina-alice (m20): one group of three among 4 participants
    assert table(r.rows, "participants", "members_connected", "ties", "groups", "largest_group") == [
        (5, 4, 2, 2, 2), (4, 3, 2, 1, 3), (1, 0, 0, 0, 0),
    ]
    assert list(r.rows["largest_share"]) == [0.4, 0.75, 0.0]
    assert r.value == 3


def test_network_of_every_period_at_once_equals_scipy_on_each_period_alone():
    """The summary finds every period's groups in one graph of (period, member) nodes; SciPy's
    connected_components run on each period's own graph must give the same counts."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    from afterclick.analysis.community import network_summary

    rng = np.random.default_rng(4)
    people = [f"p{i}" for i in range(40)]
    ties = {(i, tuple(sorted(rng.choice(people, 2, replace=False)))) for i in (3, 5, 6) for _ in range(25)}
    rows = pd.DataFrame([(i, a, b) for i, (a, b) in sorted(ties)], columns=["idx", "a", "b"])
    quiet = pd.DataFrame({"idx": [4], "a": [None], "b": [None]})  # a period without ties
    rows = pd.concat([rows, quiet], ignore_index=True).sort_values("idx", kind="stable")
    rows["period"] = pd.Timestamp("2025-01-06", tz="UTC") + pd.to_timedelta(7 * (rows["idx"] - 3), unit="D")
    rows["participants"], rows["last_idx"] = 50, 5
    got = network_summary(None, rows)
    for (i, g), r in zip(rows.groupby("idx"), got.rows.itertuples(), strict=True):
        e = g.dropna(subset=["a", "b"])
        members = pd.Index(pd.unique(pd.concat([e.a, e.b])))
        n_groups, sizes = 0, np.array([0])
        if len(members):
            graph = coo_matrix((np.ones(len(e)), (members.get_indexer(e.a), members.get_indexer(e.b))),
                               shape=(len(members), len(members)))
            n_groups, labels = connected_components(graph, directed=False)
            sizes = np.bincount(labels)
        assert (r.members_connected, r.ties, r.groups, r.largest_group) == (len(members), len(e), n_groups, sizes.max())
        assert r.largest_share == sizes.max() / 50
        if i == 5:
            assert got.value == sizes.max()
    assert got.rows.groups.tolist()[1] == 0 and got.rows.groups.gt(0).sum() == 3


def test_monthly_grain(ws):
    r = result(ws, "community.active_participants", grain="month")
    # January holds every message and the latest event: no complete month, no headline
    assert r.value is None
    assert table(r.rows, "participants") == [(8,)]  # alice bob carol dave frank gina hank ivan


LEVEL_MESSAGES = [
    # pat: two posts a month in January, February and March: 30 points over March's window
    # (January-March), present in all three months -> advocate in March
    *[(f"p{m}{k}", "pat", f"2025-0{m}-15 10:0{k}", "community_post", None, False, None)
      for m in (1, 2, 3) for k in range(2)],
    # quinn: a post in February and in March: 10 points in two months -> contributor in March
    ("q1", "quinn", "2025-02-10 10:00", "community_post", None, False, None),
    ("q2", "quinn", "2025-03-10 10:00", "community_post", None, False, None),
    # ria: 10 points, all in March -> only a participant
    ("r1", "ria", "2025-03-20 10:00", "community_post", None, False, None),
    ("r2", "ria", "2025-03-21 10:00", "community_post", None, False, None),
    # sam: a comment in December (outside March's window) and a mention in March -> observer
    ("s1", "sam", "2024-12-05 10:00", "comment", None, False, None),
    ("s2", "sam", "2025-03-05 10:00", "mention", None, False, None),
    # the brand and private messages never count
    ("b1", "brand", "2025-03-16 10:00", "reply", "p30", True, None),
    ("d1", "vic", "2025-03-17 10:00", "dm", None, False, None),
]
LEVEL_EVENTS = [
    ("tom", "2025-03-12 10:00", "save"),  # 1 point -> observer
    ("uma", "2025-03-12 10:00", "like"),  # likes and visits weigh nothing
    ("uma", "2025-03-13 10:00", "visit"),
    ("zoe", "2025-04-02 10:00", "visit"),  # the latest event: April is incomplete
]


def test_engagement_levels(tmp_path):
    with afterclick.open(make_store(tmp_path, LEVEL_MESSAGES, LEVEL_EVENTS), read_only=True) as w:
        r = result(w, "community.engagement_levels")
    rows = r.rows.assign(month=r.rows["period"].dt.strftime("%Y-%m"))
    by_month = {m: g["members"].tolist() for m, g in rows.groupby("month")}  # levels 1, 2, 3, 4
    assert by_month == {
        "2024-12": [0, 0, 0, 1],  # sam's comment (2)
        "2025-01": [0, 0, 1, 1],  # pat 10 in one month: participant; sam's comment still in the window
        "2025-02": [0, 1, 1, 1],  # pat 20 over two months: contributor; quinn 5; sam 2
        "2025-03": [1, 1, 1, 2],  # pat 30 over three: advocate; quinn 10 over two; ria 10 in one; sam, tom
        "2025-04": [0, 2, 1, 2],  # the window February-April: pat 20 and quinn 10 in two months
    }
    march = rows[rows["month"] == "2025-03"]
    assert march["name"].tolist() == ["advocates", "contributors", "participants", "observers"]
    assert march["share"].tolist() == [0.2, 0.2, 0.2, 0.4]
    assert r.value == 2  # March, the last complete month: pat and quinn


def test_levels_in_the_threads(ws):
    r = result(ws, "community.engagement_levels")
    # everything in January, present one month: alice 5+3+3+2 (her share), bob 3+5, carol 2+3,
    # dave 3+3, frank 3, gina 5+3, hank 3 -> participants; ivan's mention (2) -> observer
    assert table(r.rows, "members") == [(0,), (0,), (7,), (1,)]
    assert r.value is None  # January holds the latest event: no complete month yet


# ------------------------------------------------------------------------------ the demo


@pytest.fixture(scope="module")
def demo_messages(demo_ws):
    return demo_ws.table("messages")


@pytest.mark.slow
def test_demo_members_answer_each_other(demo_ws, demo_messages):
    m = demo_messages
    # reference computed here in pandas, straight from the messages
    rep = m[m["parent_id"].notna() & ~m["kind"].isin(["dm", "support"])]
    par = m.set_index("message_id")
    rep = rep[rep["parent_id"].isin(par.index)]
    p_author = par.loc[rep["parent_id"], "author_id"].to_numpy()
    p_brand = par.loc[rep["parent_id"], "is_brand"].to_numpy()
    m2m = ~rep["is_brand"].to_numpy() & ~p_brand & (rep["author_id"].to_numpy() != p_author)
    r = result(demo_ws, "community.member_reply_share")
    assert close(r.value, m2m.mean())
    # the planted truth: about 70% of all replies are members answering members
    assert 0.6 < r.value < 0.8
    assert r.rows["replies"].sum() == len(rep)


@pytest.mark.slow
def test_demo_brand_answers_half_the_posts_and_most_support(demo_ws):
    by = result(demo_ws, "community.brand_response_rate").rows.set_index("kind")
    assert 0.4 < by.loc["community_post", "response_rate"] < 0.6
    assert by.loc["support", "response_rate"] > 0.9 and by.loc["dm", "response_rate"] > 0.8
    assert by.loc["review", "answered"] == 0
    t = result(demo_ws, "community.time_to_first_response")
    assert 2 * 3600 < t.value < 10 * 3600  # answers wait for office hours: a few hours


@pytest.mark.slow
def test_demo_ugc_creators_and_network(demo_ws, demo_messages):
    m = demo_messages
    ugc = m[~m["is_brand"] & m["kind"].isin(["community_post", "review"])]
    assert result(demo_ws, "community.ugc_creators").value == ugc["author_id"].nunique()
    net = result(demo_ws, "community.reply_network", grain="month").rows
    # members answering each other connect into groups every month of the community's life
    assert (net["members_connected"] > 0).mean() > 0.9
    assert (net["largest_group"] <= net["members_connected"]).all()
    assert (net["members_connected"] <= net["participants"]).all()
    levels = result(demo_ws, "community.engagement_levels")
    last = levels.rows[levels.rows["period"] == levels.rows["period"].max()]
    assert last.loc[last["level"] == 1, "members"].iloc[0] > 0  # advocates exist
    assert levels.value > 0


def test_cli_lists_the_community_family(tmp_path):
    import json

    from typer.testing import CliRunner

    from afterclick.cli import app

    path = make_store(tmp_path, THREADS, EVENTS)
    out = CliRunner().invoke(app, ["kpis", "--store", str(path), "--family", "community", "--format", "json"])
    assert out.exit_code == 0, out.output
    got = {r["id"]: r for r in json.loads(out.output)}
    assert set(got) == {
        "community.active_participants", "community.repeat_participants", "community.ugc_creators",
        "community.member_reply_share", "community.brand_response_rate", "community.time_to_first_response",
        "community.engagement_levels", "community.reply_network",
    }
    assert got["community.member_reply_share"]["value"] == 0.5 and got["community.reply_network"]["value"] == 3
