"""Content charts: attention against depth per item, goals met, and what engaged people did later."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from afterclick.kpis.content import ANY_CONTENT
from afterclick.plots._common import (
    EXTRA_COLOURS, GRID, INK, LOSS, MUTED, TEAL, TEAL_LIGHT, VANITY, axis, base_layout, label,
    label_positions, message_figure, require, share_ticks, shorten, to_list,
)
from afterclick.results import KPIResult
from afterclick.engine.specs import param

VALUE_COLUMNS = ("content_id", "shallow", "deep", "quadrant")
GOAL_COLUMNS = ("content_id", "goal", "goal_rate", "reach", "goal_people")
ENGAGED_COLUMNS = ("content_id", "engaged", "comparable", "retention_diff", "retention_diff_low",
                   "retention_diff_high")
QUADRANT_COLOURS = {"star": TEAL, "hidden gem": TEAL_LIGHT, "vanity": LOSS, "quiet": VANITY}
MAX_LABELS = 12
MAX_ITEMS = 25


def _title(row: pd.Series) -> str:
    title = row.get("title")
    return str(title) if isinstance(title, str) and title.strip() else str(row["content_id"])


def _name(row: pd.Series, width: int = 34) -> str:
    """The item's title (its id without one), shortened at a word boundary, escaped."""
    return label(shorten(_title(row), width))


def _log_ticks(top: float) -> dict:
    """Ticks for counts drawn at count + 1 on a log axis (so zero has a place)."""
    vals, text, v = [1], ["0"], 1
    while v <= top:
        vals.append(v + 1)
        text.append(f"{v:,}")
        v *= 10
    return dict(type="log", tickmode="array", tickvals=vals, ticktext=text)


def plot_content_quadrant(result: KPIResult) -> go.Figure:
    """Vanity vs depth: shallow interactions (clicks, likes, follows; x) against deep ones (saves,
    downloads, shares...; y) per content item, on log scales (0 at the origin). Dotted lines at
    the median item split the quadrants: vanity (red, attention without depth), star, hidden gem,
    quiet. The leaders on either axis are labelled (titles shortened at a word boundary); every
    item has its full title and numbers on hover."""
    rows = require(result, VALUE_COLUMNS)
    if rows.empty:
        return message_figure("No content interactions in this period.")
    for c in ("shallow", "deep"):
        rows[c] = pd.to_numeric(rows[c], errors="coerce").fillna(0)
    rows = rows.reset_index(drop=True)
    keep = set(rows["shallow"].nlargest(MAX_LABELS // 2).index) | set(rows["deep"].nlargest(MAX_LABELS // 2).index)
    names = [_name(r, 26) for _, r in rows.iterrows()]
    titles = [label(_title(r)) for _, r in rows.iterrows()]
    text = [n if i in keep else "" for i, n in enumerate(names)]
    # labels placed on the log axes' own geometry, away from each other and from the markers
    lx, ly = np.log10(rows["shallow"] + 1), np.log10(rows["deep"] + 1)
    where = label_positions(to_list(lx), to_list(ly), [11.0] * len(rows), text,
                            max(float(lx.max()) * 1.05, 1.0), max(float(ly.max()) * 1.08, 1.0))
    fig = go.Figure()
    for quadrant, colour in QUADRANT_COLOURS.items():
        q = rows.index[rows["quadrant"] == quadrant]
        if not len(q):
            continue
        sub = rows.loc[q]
        fig.add_trace(go.Scatter(
            x=to_list(sub["shallow"] + 1), y=to_list(sub["deep"] + 1), mode="markers+text", name=quadrant,
            text=[text[i] for i in q], textposition=[where[i] for i in q], textfont=dict(size=11, color="#3e4c59"),
            marker=dict(size=11, color=colour, opacity=0.85, line=dict(width=1, color="white")),
            customdata=[[titles[i], int(rows.at[i, "shallow"]), int(rows.at[i, "deep"])] for i in q],
            hovertemplate="<b>%{customdata[0]}</b><br>shallow %{customdata[1]:,} · deep %{customdata[2]:,}"
                          f"<br>{quadrant}<extra></extra>",
            cliponaxis=False,
        ))
    med_s, med_d = float(rows["shallow"].median()), float(rows["deep"].median())
    fig.add_vline(x=med_s + 1, line=dict(color=VANITY, width=1, dash="dot"))
    fig.add_hline(y=med_d + 1, line=dict(color=VANITY, width=1, dash="dot"))
    fig.update_layout(**base_layout(
        height=520,
        xaxis=axis("Shallow interactions (clicks, likes, follows)", **_log_ticks(float(rows["shallow"].max()))),
        yaxis=axis("Deep interactions (saves, downloads, shares…)", **_log_ticks(float(rows["deep"].max()))),
    ))
    return fig


def plot_goal_attainment(result: KPIResult) -> go.Figure:
    """Share of the people each item reached who did what it was made for (its goal), one bar per
    item, coloured by goal; items with the same goal are ranked together."""
    rows = require(result, GOAL_COLUMNS)
    if rows.empty:
        return message_figure("No content item declares a goal.")
    rows["goal_rate"] = pd.to_numeric(rows["goal_rate"], errors="coerce")
    rows = rows.sort_values(["goal", "goal_rate"], ascending=[True, False], kind="stable").head(MAX_ITEMS)
    rows = rows.reset_index(drop=True)
    palette = [TEAL, *EXTRA_COLOURS, TEAL_LIGHT, VANITY]
    colours = {g: palette[i % len(palette)] for i, g in enumerate(pd.unique(rows["goal"]))}
    fig = go.Figure()
    for goal, colour in colours.items():
        sub = rows[rows["goal"] == goal]
        fig.add_trace(go.Bar(
            y=[_name(r) for _, r in sub.iterrows()], x=to_list(sub["goal_rate"]), orientation="h",
            name=label(goal), marker=dict(color=colour, line=dict(width=0)),
            customdata=list(zip(to_list(sub["goal_people"]), to_list(sub["reach"]), strict=True)),
            hovertemplate="%{y}<br>" + label(goal) + ": %{customdata[0]:,} of %{customdata[1]:,} reached"
                          " (%{x:.1%})<extra></extra>",
        ))
    fig.update_layout(**base_layout(
        height=max(300, 90 + 24 * len(rows)), margin=dict(l=24, r=24, t=48, b=48),
        xaxis=axis("Share of people reached who did the goal", **share_ticks(rows["goal_rate"])),
        yaxis=axis(None, autorange="reversed", showgrid=False, type="category"),
    ))
    return fig


def plot_engaged_vs_not(result: KPIResult) -> go.Figure:
    """Dot and whisker: per content item, how many points more (or fewer) of its engaged people
    were still active ``retention_days`` (90) days on than comparable people (same first-touch month and channel),
    with the 95% interval. Association, not cause."""
    rows = require(result, ENGAGED_COLUMNS)
    rows = rows.dropna(subset=["retention_diff"])
    days = param(result, "retention_days")
    if rows.empty:
        return message_figure("Too few people engaged with any item to compare.")
    # the items most people engaged with (whatever their difference), then ranked by it
    first = rows[rows["content_id"] == ANY_CONTENT]
    items = rows[rows["content_id"] != ANY_CONTENT]
    items = items.loc[pd.to_numeric(items["engaged"]).nlargest(MAX_ITEMS - len(first)).index]
    items = items.sort_values("retention_diff", ascending=False, kind="stable")
    rows = pd.concat([first, items]).iloc[::-1].reset_index(drop=True)
    # differences of two shares, drawn in percentage points (never as a percentage of something)
    d = pd.to_numeric(rows["retention_diff"]) * 100
    lo, hi = pd.to_numeric(rows["retention_diff_low"]) * 100, pd.to_numeric(rows["retention_diff_high"]) * 100
    names = [f"<b>{_name(r)}</b>" if r["content_id"] == ANY_CONTENT else _name(r) for _, r in rows.iterrows()]
    colours = [TEAL if low > 0 else (LOSS if high < 0 else VANITY) for low, high in zip(lo, hi, strict=True)]
    fig = go.Figure(go.Scatter(
        x=to_list(d), y=names, mode="markers",
        marker=dict(size=10, color=colours, line=dict(width=1, color="white")),
        error_x=dict(type="data", symmetric=False, array=to_list(hi - d), arrayminus=to_list(d - lo),
                     color="#9aa5b1", thickness=1.5, width=4),
        customdata=list(zip(to_list(rows["engaged"]), to_list(rows["comparable"]), to_list(lo), to_list(hi),
                            strict=True)),
        hovertemplate=f"%{{y}}<br>%{{x:+.1f}} points retained at {days} days (95%: %{{customdata[2]:+.1f}} to "
                      "%{customdata[3]:+.1f})<br>%{customdata[0]:,} engaged vs %{customdata[1]:,} comparable"
                      "<extra></extra>",
        showlegend=False,
    ))
    fig.add_vline(x=0, line=dict(color=INK, width=1))
    left, right = min(float(lo.min()), 0.0), max(float(hi.max()), 0.0)
    pad = max(right - left, 5.0) * 0.06
    fig.update_layout(**base_layout(
        height=max(320, 90 + 26 * len(rows)), margin=dict(l=24, r=24, t=40, b=56),
        xaxis=axis(f"Difference in {days}-day retention, engaged minus comparable (percentage points)",
                   tickformat="+.0f", ticksuffix=" pts", range=[left - pad, right + pad], zeroline=False),
        yaxis=axis(None, showgrid=True, gridcolor=GRID, type="category"),
    ))
    fig.add_annotation(x=1, y=0, xref="paper", yref="paper", xanchor="right", yanchor="bottom",
                       showarrow=False, font=dict(size=11, color=MUTED),
                       text="association, not cause")
    return fig
