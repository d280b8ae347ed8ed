"""The after-click journey funnel."""

from __future__ import annotations

import plotly.graph_objects as go

from afterclick.plots._common import TEAL, VANITY, base_layout, label, message_figure, require, to_list
from afterclick.results import KPIResult

COLUMNS = ("step", "label", "clicks", "share")
STEPS = ("click", "engaged", "value", "relationship", "revenue", "loyalty")
_STEP_COLOURS = {
    "click": VANITY,
    "engaged": "#a7dbd0",
    "value": "#7cc6b7",
    "relationship": "#3e9f8f",
    "revenue": TEAL,
    "loyalty": "#0b524a",
}


def plot_funnel(result: KPIResult) -> go.Figure:
    """Clicks reaching each step: click → engaged → value → relationship → revenue → loyalty.

    The click bar is grey (attention); the steps after it are teal (relationship). Each bar is
    labelled with its count and share of all clicks.
    """
    rows = require(result, COLUMNS)
    if rows.empty:
        return message_figure("No clicks in this period.")
    order = {s: i for i, s in enumerate(STEPS)}
    rows["_order"] = [order.get(str(s), len(STEPS) + i) for i, s in enumerate(rows["step"])]
    rows = rows.sort_values("_order").reset_index(drop=True)
    colours = [_STEP_COLOURS.get(str(s), TEAL) for s in rows["step"]]
    fig = go.Figure(
        go.Funnel(
            y=[label(v) for v in rows["label"]],
            x=to_list(rows["clicks"]),
            customdata=to_list(rows["share"]),
            texttemplate="%{x:,} · %{customdata:.1%}",
            textposition="auto",
            textfont=dict(size=12),
            hovertemplate="%{y}<br>%{x:,} clicks (%{customdata:.1%} of all clicks)<extra></extra>",
            marker=dict(color=colours, line=dict(width=0)),
            connector=dict(fillcolor="#eef1f4", line=dict(width=0)),
        )
    )
    fig.update_layout(**base_layout(height=max(300, 80 + 56 * len(rows)), margin=dict(l=24, r=24, t=40, b=24),
                                    yaxis=dict(automargin=True), showlegend=False))
    return fig
