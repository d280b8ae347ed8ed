"""Community charts: who takes part and comes back, who answers whom, how deep people are in."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from afterclick.plots._common import (
    ACCENT,
    EXTRA_COLOURS,
    LADDER_COLOURS,
    TEAL,
    TEAL_LIGHT,
    VANITY,
    axis,
    base_layout,
    label,
    message_figure,
    naive_utc,
    period_ticks,
    result_period_word,
    require,
    to_list,
)
from afterclick.results import KPIResult

PARTICIPANT_COLUMNS = ("period", "participants", "new_participants", "repeat_participants", "ugc_creators")
REPLY_COLUMNS = ("period", "replies", "member_to_member", "brand_replies")
LEVEL_COLUMNS = ("period", "level", "name", "members", "share")
NETWORK_COLUMNS = ("period", "participants", "members_connected", "largest_group", "groups")
#: Orbit 1 (advocates) darkest, orbit 4 (observers) lightest.
_LEVEL_COLOURS = {1: LADDER_COLOURS["advocate"], 2: LADDER_COLOURS["loyal"], 3: LADDER_COLOURS["trusting"],
                  4: LADDER_COLOURS["engaged"]}


def _periods(result: KPIResult, columns: tuple[str, ...], empty: str):
    rows = require(result, columns)
    if rows.empty:
        return None, message_figure(empty), ""
    rows["period"] = naive_utc(rows["period"])
    rows = rows.sort_values("period").reset_index(drop=True)
    return rows, None, result_period_word(result, rows["period"])


def _time_layout(fig: go.Figure, x: list, word: str, y_title: str, **kw) -> go.Figure:
    fig.update_layout(**base_layout(
        hovermode="x unified",
        xaxis=axis(f"{word.capitalize()} starting", showgrid=False, hoverformat="%d %b %Y", **period_ticks(x, word)),
        yaxis=axis(y_title, tickformat=",", rangemode="tozero"),
        **kw,
    ))
    return fig


def plot_participants(result: KPIResult) -> go.Figure:
    """Per period: active participants as bars (repeat ones, who also took part the period
    before, in the darker part; new and returning-after-a-gap in the lighter), UGC creators as a line."""
    rows, empty, word = _periods(result, PARTICIPANT_COLUMNS, "No community messages in this period.")
    if rows is None:
        return empty
    x = list(rows["period"])
    rep = pd.to_numeric(rows["repeat_participants"]).fillna(0)
    rest = pd.to_numeric(rows["participants"]).fillna(0) - rep
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=to_list(rep), name=f"repeat (also the {word} before)",
                         marker=dict(color=TEAL, line=dict(width=0)),
                         hovertemplate="repeat: %{y:,}<extra></extra>"))
    fig.add_trace(go.Bar(x=x, y=to_list(rest), name="new or back after a gap",
                         marker=dict(color=TEAL_LIGHT, line=dict(width=0)),
                         hovertemplate="new or back after a gap: %{y:,}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=to_list(rows["ugc_creators"]), name="UGC creators (posts, reviews)",
                             mode="lines+markers", line=dict(color=ACCENT, width=2), marker=dict(size=5),
                             hovertemplate="UGC creators: %{y:,}<extra></extra>"))
    return _time_layout(fig, x, word, "Members taking part", barmode="stack", bargap=0.25)


def plot_member_replies(result: KPIResult) -> go.Figure:
    """Replies per period: members answering members (teal), the brand's replies (grey), and the
    rest (members answering the brand or themselves)."""
    rows, empty, word = _periods(result, REPLY_COLUMNS, "No replies in this period.")
    if rows is None:
        return empty
    x = list(rows["period"])
    m2m = pd.to_numeric(rows["member_to_member"]).fillna(0)
    brand = pd.to_numeric(rows["brand_replies"]).fillna(0)
    other = (pd.to_numeric(rows["replies"]).fillna(0) - m2m - brand).clip(lower=0)
    fig = go.Figure()
    for y, name, colour in ((m2m, "member to member", TEAL), (brand, "the brand replying", VANITY),
                            (other, "to the brand or oneself", "#cfd6dd")):
        fig.add_trace(go.Bar(x=x, y=to_list(y), name=name, marker=dict(color=colour, line=dict(width=0)),
                             hovertemplate=f"{name}: %{{y:,}}<extra></extra>"))
    return _time_layout(fig, x, word, "Replies", barmode="stack", bargap=0.25)


def plot_engagement_levels(result: KPIResult) -> go.Figure:
    """Members per Orbit-style level, month by month: advocates (1, darkest) at the bottom of
    each bar, observers (4, lightest) on top."""
    rows = require(result, LEVEL_COLUMNS)
    rows["members"] = pd.to_numeric(rows["members"], errors="coerce").fillna(0)
    if rows.empty or rows["members"].sum() == 0:
        return message_figure("Nobody was active in the community in this period.")
    rows["period"] = naive_utc(rows["period"])
    rows = rows.sort_values(["period", "level"]).reset_index(drop=True)
    x = sorted(rows["period"].unique())
    fig = go.Figure()
    for lv, g in rows.groupby("level", sort=True):
        name = f"{int(lv)} · {label(g['name'].iloc[0])}"
        g = g.set_index("period").reindex(x)
        fig.add_trace(go.Bar(
            x=x, y=to_list(g["members"].fillna(0)), name=name, customdata=to_list(g["share"]),
            marker=dict(color=_LEVEL_COLOURS.get(int(lv), EXTRA_COLOURS[0]), line=dict(width=0)),
            hovertemplate=f"{name}: %{{y:,}} (%{{customdata:.0%}})<extra></extra>",
        ))
    return _time_layout(fig, x, "month", "Members (trailing three months)", barmode="stack", bargap=0.25)


def plot_reply_network(result: KPIResult) -> go.Figure:
    """Per period: members tied to another by a member-to-member reply (bars) and the size of the
    largest connected group (line): a community, rather than a crowd, has a big connected core."""
    rows, empty, word = _periods(result, NETWORK_COLUMNS, "No community messages in this period.")
    if rows is None:
        return empty
    x = list(rows["period"])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=x, y=to_list(rows["participants"]), name="participants",
                         marker=dict(color="#e4e7eb", line=dict(width=0)),
                         hovertemplate="participants: %{y:,}<extra></extra>"))
    fig.add_trace(go.Bar(x=x, y=to_list(rows["members_connected"]), name="connected by replies",
                         marker=dict(color=TEAL_LIGHT, line=dict(width=0)),
                         customdata=to_list(rows["groups"]),
                         hovertemplate="connected: %{y:,} in %{customdata:,} group(s)<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=to_list(rows["largest_group"]), name="largest connected group",
                             mode="lines+markers", line=dict(color=TEAL, width=2), marker=dict(size=5),
                             hovertemplate="largest group: %{y:,}<extra></extra>"))
    return _time_layout(fig, x, word, "Members", barmode="overlay", bargap=0.25)
