"""Resonance charts: what comments say about each piece of content beside what people did."""

from __future__ import annotations

import plotly.graph_objects as go

from afterclick.plots._common import TEAL, axis, base_layout, label, message_figure, require, share_ticks, to_list
from afterclick.results import KPIResult


def plot_content_resonance(result: KPIResult) -> go.Figure:
    """Per content item: gratitude rate of its comments against its depth ratio (bubble = comments)."""
    rows = require(result, ("content_id", "comments", "gratitude_rate", "thoughtful_rate", "depth_ratio"))
    rows = rows.dropna(subset=["gratitude_rate"]).head(60)
    if rows.empty:
        return message_figure("No comments on content in this period.")
    names = rows["title"] if "title" in rows else rows["content_id"]
    n = to_list(rows["comments"])
    top = max(n) or 1
    fig = go.Figure(go.Scatter(
        x=to_list(rows["depth_ratio"]), y=to_list(rows["gratitude_rate"]), mode="markers",
        marker=dict(size=[8 + 30 * (v / top) ** 0.5 for v in n], color=TEAL, opacity=0.7),
        text=[label(v) for v in names], customdata=list(zip(n, to_list(rows["thoughtful_rate"]), strict=True)),
        hovertemplate="%{text}<br>depth ratio %{x:.2f}<br>grateful comments %{y:.0%}<br>"
                      "thoughtful %{customdata[1]:.0%} of %{customdata[0]:,} comments<extra></extra>",
    ))
    fig.update_layout(**base_layout(showlegend=False, xaxis=axis("depth ratio (deep / shallow interactions)",
                                                                 type="log"),
                                    yaxis=axis("share of comments expressing gratitude",
                                               **share_ticks(rows["gratitude_rate"]))))
    return fig
