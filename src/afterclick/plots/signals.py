"""Early signals: first-days behaviours ranked, with their intervals and the model's AUC."""

from __future__ import annotations

import plotly.graph_objects as go

from afterclick.plots._common import (
    GRID, MUTED, TEAL, VANITY, axis, base_layout, event_label, label, message_figure, require, to_list,
)
from afterclick.results import KPIResult


def plot_leading_indicators(result: KPIResult) -> go.Figure:
    """Odds ratio (doing it in the first days vs not, others held fixed) with its 95% interval,
    best-ranked at the top, on a log scale; teal where the interval clears 1. The title carries
    the AUC on later cohorts."""
    rows = require(result, ("rank", "indicator", "odds_ratio", "or_low", "or_high", "doers"))
    if rows.empty:
        return message_figure("Too few customers with an observed outcome to rank behaviours yet.")
    rows = rows.sort_values("rank", ascending=False)  # plotly draws the first category at the bottom
    clear = rows["or_low"] > 1
    colours = [TEAL if c else VANITY for c in clear]
    fig = go.Figure(go.Scatter(
        x=to_list(rows["odds_ratio"]), y=[label(event_label(v)) for v in rows["indicator"]], mode="markers",
        marker=dict(size=11, color=colours),
        error_x=dict(type="data", symmetric=False, array=to_list(rows["or_high"] - rows["odds_ratio"]),
                     arrayminus=to_list(rows["odds_ratio"] - rows["or_low"]), color=MUTED, thickness=1.5, width=4),
        customdata=list(zip(to_list(rows["or_low"]), to_list(rows["or_high"]), to_list(rows["doers"]), strict=True)),
        hovertemplate=("%{y}: odds ratio %{x:.2f} (95%: %{customdata[0]:.2f}-%{customdata[1]:.2f})"
                       "<br>%{customdata[2]:,} customers did it<extra></extra>"),
        showlegend=False,
    ))
    fig.add_vline(x=1, line=dict(color=GRID, width=2))
    title = "Odds ratio of the outcome, doers vs others (log scale)"
    if result.value is not None:
        auc = f"AUC on later cohorts {result.value:.2f}"
        if result.ci:
            auc += f" (95% {result.ci[0]:.2f}-{result.ci[1]:.2f})"
        fig.add_annotation(text=label(auc), x=1, y=1.06, xref="paper", yref="paper", showarrow=False,
                           xanchor="right", font=dict(size=12, color=MUTED))
    low, high = float(rows["or_low"].min()), float(rows["or_high"].max())
    ticks = [v for v in (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if low / 2 <= v <= high * 2]
    fig.update_layout(**base_layout(
        height=max(280, 80 + 32 * len(rows)),
        xaxis=axis(title, type="log", tickmode="array", tickvals=ticks, ticktext=[f"{v:g}×" for v in ticks]),
        yaxis=axis(None, showgrid=False),
        margin=dict(l=24, r=24, t=56, b=56),
    ))
    return fig
