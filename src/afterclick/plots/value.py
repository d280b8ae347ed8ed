"""Customer value charts: value distribution, probability-alive matrix, campaign credit (first
sale vs lifetime value) and the CLV model's holdout check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from afterclick.plots._common import (
    LOSS, MUTED, RETENTION_SCALE, TEAL, TEAL_LIGHT, VANITY, amount_label, axis, base_layout, label, message_figure, require,
    to_list,
)
from afterclick.results import KPIResult

DISTRIBUTION_COLUMNS = ("clv_12m",)
MATRIX_COLUMNS = ("frequency", "recency", "p_alive")
CREDIT_COLUMNS = ("name", "first_sale", "lifetime_value")
HOLDOUT_COLUMNS = ("frequency", "predicted", "actual")


def plot_value_distribution(result: KPIResult) -> go.Figure:
    """Histogram of predicted 12-month value per buyer, with the mean and the median marked.

    Value is highly skewed (a few loyal buyers carry much of it), so the bins are logarithmic.
    """
    rows = require(result, DISTRIBUTION_COLUMNS)
    v = pd.to_numeric(rows["clv_12m"], errors="coerce").dropna()
    v = v[v > 0]
    if v.empty:
        return message_figure("No buyers with a predicted value in this period.")
    # four decades are enough: the near-zero tail (buyers long gone) joins the first bin
    lo = max(v.min(), v.max() / 1e4)
    edges = np.unique(np.geomspace(lo, v.max() * 1.0001, 25))
    counts, _ = np.histogram(v.clip(lower=lo), bins=edges)
    mids = np.sqrt(edges[:-1] * edges[1:])
    fig = go.Figure(go.Bar(
        x=mids.tolist(), y=counts.tolist(), width=(edges[1:] - edges[:-1]).tolist(), marker_color=TEAL_LIGHT,
        customdata=np.c_[edges[:-1], edges[1:]].tolist(), name="buyers",
        hovertemplate="%{customdata[0]:,.3~r}–%{customdata[1]:,.3~r}: %{y} buyers<extra></extra>",
    ))
    top = counts.max()
    for x, text, dash in ((v.mean(), f"mean {amount_label(v.mean())}", "solid"),
                          (v.median(), f"median {amount_label(v.median())}", "dot")):
        fig.add_trace(go.Scatter(x=[x, x], y=[0, top * 1.05], mode="lines", line=dict(color=TEAL, dash=dash, width=2),
                                 name=text, hoverinfo="skip"))
    share = v.sort_values(ascending=False)
    top10 = share.iloc[: max(len(share) // 10, 1)].sum() / share.sum() if share.sum() > 0 else None
    if top10 is not None:
        fig.add_annotation(x=1, y=1.02, xref="paper", yref="paper", xanchor="right", yanchor="bottom",
                           showarrow=False, font=dict(size=11, color=MUTED),
                           text=f"the top 10% of buyers hold {top10:.0%} of the predicted value")
    fig.update_layout(**base_layout(
        xaxis=axis("Predicted value over the next 12 months (per buyer, log scale)", type="log"),
        yaxis=axis("Buyers"), bargap=0.05,
    ))
    return fig


def plot_probability_alive_matrix(result: KPIResult) -> go.Figure:
    """Heatmap of P(alive) over recency (weeks from first to last purchase) × frequency (repeat
    purchase days), for a buyer observed as long as the longest-standing one."""
    rows = require(result, MATRIX_COLUMNS)
    if rows.empty:
        return message_figure("No buyers in this period.")
    pivot = rows.pivot_table(index="frequency", columns="recency", values="p_alive", aggfunc="first")
    z = [[None if pd.isna(x) else float(x) for x in r] for r in pivot.to_numpy()]
    hover = "frequency %{y} · recency %{x} weeks<br>P(alive) %{z:.0%}"
    custom = None
    if "customers" in rows:
        n = rows.pivot_table(index="frequency", columns="recency", values="customers", aggfunc="first").reindex_like(pivot)
        custom = [[0 if pd.isna(x) else int(x) for x in r] for r in n.to_numpy()]
        hover += "<br>%{customdata} buyers here"
    fig = go.Figure(go.Heatmap(
        z=z, x=[float(c) for c in pivot.columns], y=[int(i) for i in pivot.index], customdata=custom,
        colorscale=RETENTION_SCALE, zmin=0, zmax=1, hovertemplate=hover + "<extra></extra>",
        colorbar=dict(title=dict(text="P(alive)", font=dict(size=12)), tickformat=".0%", thickness=12),
    ))
    T = rows["T"].iloc[0] if "T" in rows else None
    fig.update_layout(**base_layout(
        xaxis=axis("Recency: weeks from first to last purchase" + (f" (observed {T:.0f} weeks)" if T else "")),
        yaxis=axis("Frequency: repeat purchase days"),
    ))
    return fig


def plot_campaign_credit(result: KPIResult) -> go.Figure:
    """Per campaign: first-sale revenue (grey, what last-click reports credit) beside lifetime
    value (teal: revenue to date + predicted value), with the spend marked."""
    rows = require(result, CREDIT_COLUMNS)
    if rows.empty:
        return message_figure("No campaign acquired a customer in this period.")
    rows = rows.sort_values("lifetime_value", ascending=True)
    names = [label(n) for n in rows["name"]]
    fig = go.Figure()
    fig.add_trace(go.Bar(y=names, x=to_list(rows["first_sale"]), orientation="h", name="first sale", marker_color=VANITY,
                         hovertemplate="%{y}<br>first sale %{x:,.0f}<extra></extra>"))
    fig.add_trace(go.Bar(y=names, x=to_list(rows["lifetime_value"]), orientation="h", name="lifetime value",
                         marker_color=TEAL, hovertemplate="%{y}<br>lifetime value %{x:,.0f}<extra></extra>"))
    if "spend" in rows and rows["spend"].notna().any():
        fig.add_trace(go.Scatter(
            y=names, x=to_list(rows["spend"]), mode="markers", name="spend",
            marker=dict(symbol="line-ns", size=22, line=dict(width=3, color=LOSS)),
            hovertemplate="%{y}<br>spend %{x:,.0f}<extra></extra>",
        ))
    fig.update_layout(**base_layout(
        barmode="group", height=max(320, 60 + 46 * len(rows)),
        xaxis=axis("Revenue credited to the campaign"), yaxis=axis(None, showgrid=False),
    ))
    return fig


def plot_holdout_check(result: KPIResult) -> go.Figure:
    """Predicted vs actual purchase days per buyer in the holdout, by calibration frequency."""
    rows = require(result, HOLDOUT_COLUMNS)
    if rows.empty:
        return message_figure("Not enough purchases to hold some back.")
    x = [str(v) for v in rows["frequency"]]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=to_list(rows["actual"]), mode="lines+markers", name="actual",
                             line=dict(color=MUTED, width=2), hovertemplate="%{x}: actual %{y:.2f}<extra></extra>"))
    fig.add_trace(go.Scatter(x=x, y=to_list(rows["predicted"]), mode="lines+markers", name="predicted",
                             line=dict(color=TEAL, width=2, dash="dash"),
                             hovertemplate="%{x}: predicted %{y:.2f}<extra></extra>"))
    fig.update_layout(**base_layout(
        xaxis=axis("Repeat purchase days before the holdout", type="category"),
        yaxis=axis("Purchase days per buyer in the holdout"),
    ))
    return fig
