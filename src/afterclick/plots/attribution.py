"""Attribution: each channel's (or campaign's) credit under every model, side by side."""

from __future__ import annotations

import plotly.graph_objects as go

from afterclick.plots._common import (
    ACCENT, SHARE_FORMAT, TEAL, VANITY, axis, base_layout, display_names, label, message_figure, require, shorten, to_list,
)
from afterclick.results import KPIResult
from afterclick.engine.specs import param

MODEL_NAMES = {
    "first_touch": "First touch", "last_touch": "Last touch", "linear": "Linear",
    "position_based": "Position-based", "markov": "Markov", "shapley": "Shapley",
}
#: Single-touch rules in greys (the click-centred view), multi-touch models in teals.
MODEL_COLOURS = {
    "first_touch": "#cfd6dd", "last_touch": VANITY, "linear": "#a7dbd0",
    "position_based": "#5eb8a8", "markov": TEAL, "shapley": "#0b524a",
}


def plot_attribution(result: KPIResult) -> go.Figure:
    """Grouped bars: one group per channel or campaign (by name, in full on hover), one bar per model.

    Purchase KPIs show each model's share of all credited conversions; relationship KPIs show
    credited outcomes per journey that touched the channel (who brings people who stay). The
    Markov removal effect (how much conversion would be lost without it) is drawn as a diamond
    on the right axis.
    """
    rows = require(result, ("model", "journeys", "share", "per_journey", "removal_effect"))
    key = "campaign_id" if "campaign_id" in rows.columns else "channel"
    if key not in rows.columns:
        raise ValueError(f"cannot plot {result.id}: rows have neither channel nor campaign_id")
    if rows.empty:
        return message_figure("No journeys to attribute in this period.")
    per_journey = "relationship" in result.id
    measure = "per_journey" if per_journey else "share"
    # order groups by Markov credit, largest first
    markov = rows[rows.model == "markov"].set_index(key)
    order = list(markov.sort_values(measure, ascending=False).index) if len(markov) else sorted(rows[key].unique())
    names = display_names(rows, key)
    ticks = [label(shorten(names[v], 28)) for v in order]
    full = [label(names[v]) for v in order]
    fig = go.Figure()
    for model, name in MODEL_NAMES.items():
        part = rows[rows.model == model].set_index(key).reindex(order)
        if part[measure].isna().all():
            continue
        fig.add_bar(
            x=ticks, y=to_list(part[measure]), name=name,
            marker=dict(color=MODEL_COLOURS[model], line=dict(width=0)),
            customdata=list(zip(to_list(part["journeys"]), full, strict=True)),
            hovertemplate=(f"%{{customdata[1]}}<br>{name}: %{{y:.3f}} per journey" if per_journey
                           else f"%{{customdata[1]}}<br>{name}: %{{y:.1%}} of credit")
                          + "<br>%{customdata[0]:,} journeys<extra></extra>",
        )
    if len(markov):
        fig.add_scatter(
            x=ticks, y=to_list(markov.reindex(order)["removal_effect"]), customdata=full,
            name="Markov removal effect", mode="markers", yaxis="y2",
            marker=dict(symbol="diamond", size=10, color=ACCENT, line=dict(color="white", width=1)),
            hovertemplate="%{customdata}<br>removal effect %{y:.1%}<extra></extra>",
        )
    ytitle = (f"Credited customers still active {param(result, 'retention_days')} days on, per journey" if per_journey
              else "Share of credited first purchases")
    fig.update_layout(**base_layout(
        barmode="group", bargap=0.25, bargroupgap=0.05,
        height=460,
        xaxis=axis(None, showgrid=False),
        yaxis=axis(ytitle, rangemode="tozero", **({"tickformat": ".2f"} if per_journey else {"tickformat": SHARE_FORMAT})),
        yaxis2=axis("Removal effect", overlaying="y", side="right", tickformat=SHARE_FORMAT, rangemode="tozero",
                    showgrid=False, title_color=ACCENT),
        margin=dict(l=64, r=64, t=56, b=72),
    ))
    return fig
