"""Charts of the community and content families, drawn from real results of the demo, and the
report sections they make."""

from __future__ import annotations

import json

import pandas as pd
import plotly.graph_objects as go
import pytest

from afterclick.demo import DEEP_GUIDE, VIRAL_POST
from afterclick.views.registry import PLOTS
from afterclick.plots.content import QUADRANT_COLOURS
from afterclick.report.html import render_report

pytestmark = pytest.mark.slow

IDS = ("community.active_participants", "community.member_reply_share", "community.engagement_levels",
       "community.reply_network", "content.value", "content.goal_attainment", "content.engaged_vs_not")


@pytest.fixture(scope="module")
def results(demo_ws):
    out = {r.id: r for r in demo_ws.kpis(family="community") + demo_ws.kpis(family="content")}
    assert all(r.ok for r in out.values()), {k: r.reason for k, r in out.items() if not r.ok}
    return out


@pytest.mark.parametrize("kpi_id", IDS)
def test_every_chart_draws_and_serialises(results, kpi_id):
    fig = PLOTS[kpi_id](results[kpi_id])
    assert isinstance(fig, go.Figure) and len(fig.data) >= 1
    text = fig.to_json()
    assert "NaN" not in text  # plotly.js would draw nothing for NaN: missing values are null
    json.loads(text)


def test_quadrant_colours_the_viral_post_as_vanity(results):
    fig = PLOTS["content.value"](results["content.value"])
    by_name = {t.name: t for t in fig.data}
    viral_row = results["content.value"].rows.set_index("content_id").loc[VIRAL_POST]
    vanity = by_name["vanity"]
    assert vanity.marker.color == QUADRANT_COLOURS["vanity"]
    # drawn at count + 1 on log axes, so zero deep interactions still has a place
    assert (viral_row["shallow"] + 1, viral_row["deep"] + 1) in set(zip(vanity.x, vanity.y, strict=True))
    assert fig.layout.xaxis.type == "log" and fig.layout.yaxis.type == "log"
    guide = results["content.value"].rows.set_index("content_id").loc[DEEP_GUIDE]
    assert any((guide["shallow"] + 1, guide["deep"] + 1) in set(zip(t.x, t.y, strict=True))
               for t in fig.data if t.name in ("hidden gem", "star"))


def test_engaged_vs_not_whiskers_are_the_intervals(results):
    r = results["content.engaged_vs_not"]
    fig = PLOTS["content.engaged_vs_not"](r)
    trace = fig.data[0]
    rows = r.rows.dropna(subset=["retention_diff"])
    # the any-content row, then the 24 items most people engaged with, by difference (top down)
    items = rows.iloc[1:].nlargest(24, "engaged").sort_values("retention_diff", ascending=False)
    shown = pd.concat([rows.iloc[:1], items]).iloc[::-1].reset_index(drop=True)
    assert len(trace.x) == 25 and rows["retention_diff"].min() < 0 < rows["retention_diff"].max()
    # drawn in percentage points
    assert list(trace.x) == pytest.approx((shown["retention_diff"] * 100).tolist())
    assert list(trace.error_x.array) == pytest.approx(((shown["retention_diff_high"] - shown["retention_diff"]) * 100).tolist())
    assert list(trace.error_x.arrayminus) == pytest.approx(((shown["retention_diff"] - shown["retention_diff_low"]) * 100).tolist())
    assert any("association" in (a.text or "") for a in fig.layout.annotations)


def test_levels_and_replies_keep_their_totals(results):
    lv = results["community.engagement_levels"]
    fig = PLOTS["community.engagement_levels"](lv)
    assert [t.name for t in fig.data] == ["1 · advocates", "2 · contributors", "3 · participants", "4 · observers"]
    assert sum(sum(t.y) for t in fig.data) == lv.rows["members"].sum()
    assert list(fig.data[0].y) == lv.rows[lv.rows["level"] == 1].sort_values("period")["members"].tolist()
    rep = results["community.member_reply_share"]
    fig = PLOTS["community.member_reply_share"](rep)
    assert sum(sum(t.y) for t in fig.data) == rep.rows["replies"].sum()


def test_the_report_has_a_community_and_a_content_section(results):
    html = render_report(list(results.values()), title="Community review")
    assert 'id="section-community"' in html and 'id="section-content"' in html
    assert html.index('id="section-community"') < html.index('id="section-content"')
    for kpi_id in IDS:
        assert 'data-kpi="' + kpi_id + '"' in html
    assert "association, not cause" in html.lower()


def test_sentences_follow_the_rows(results):
    from afterclick.report.narrative import sentences

    said = sentences(results.values())
    rep = results["community.member_reply_share"].rows
    share = rep["member_to_member"].sum() / rep["replies"].sum()
    assert f"{share:.0%}" in said["community.member_reply_share"]
    assert f"{rep['replies'].sum():,}" in said["community.member_reply_share"]
    assert "Me: I don't need another plant" in said["content.value"].split(";")[0]
    assert "rescue guide" in said["content.value"].split(";")[1]
    ev = results["content.engaged_vs_not"]
    assert f"{abs(ev.value) * 100:.0f} points" in said["content.engaged_vs_not"]
    assert "not proof" in said["content.engaged_vs_not"]
