"""The commitment ladder over time: each stage's share of customers per period."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from afterclick.plots._common import (
    EXTRA_COLOURS, LADDER_COLOURS, MUTED, SHARE_FORMAT, axis, base_layout, label, message_figure, naive_utc, period_ticks,
    require, result_period_word, to_list,
)
from afterclick.results import KPIResult

COLUMNS = ("period", "stage", "customers", "share")
#: Bottom to top; stages outside this list are stacked above, in the order they appear.
STAGES = ("aware", "engaged", "trusting", "loyal", "advocate")


def stage_order(stages: pd.Series) -> list[str]:
    seen = [str(s) for s in pd.unique(stages.dropna())]
    return [s for s in STAGES if s in seen] + [s for s in seen if s not in STAGES]


def plot_commitment_ladder(result: KPIResult) -> go.Figure:
    """Stacked area (bars when there are fewer than three periods) of stage shares per period.

    Stages run aware (bottom, grey) to advocate (top, deepest teal); hover shows customers too.
    """
    rows = require(result, COLUMNS)
    if rows.empty:
        return message_figure("No customers on the ladder in this period.")
    rows["period"] = naive_utc(rows["period"])
    word = result_period_word(result, rows["period"])
    periods = sorted(rows["period"].dropna().unique())
    share = rows.pivot_table(index="period", columns="stage", values="share", aggfunc="sum").reindex(periods)
    customers = rows.pivot_table(index="period", columns="stage", values="customers", aggfunc="sum").reindex(periods)
    as_area = len(periods) >= 3

    fig = go.Figure()
    extra = iter(EXTRA_COLOURS * 4)
    order = stage_order(rows["stage"])
    for stage in order:
        colour = LADDER_COLOURS.get(stage) or next(extra)
        y = to_list(share[stage].fillna(0)) if stage in share else [0] * len(periods)
        n = to_list(customers[stage].fillna(0)) if stage in customers else [0] * len(periods)
        common = dict(
            x=list(pd.to_datetime(periods)),
            y=y,
            name=label(stage),
            customdata=n,
            hovertemplate=f"{label(stage)}: %{{y:.1%}} (%{{customdata:,}} customers)<extra></extra>",
        )
        if as_area:
            fig.add_trace(go.Scatter(**common, mode="lines", stackgroup="ladder", line=dict(width=0.6, color=colour),
                                     fillcolor=colour))
        else:
            fig.add_trace(go.Bar(**common, marker=dict(color=colour, line=dict(width=0))))
    menus = []
    y_range = [0, 1]
    if "aware" in order and len(order) > 1:
        # awareness alone often dwarfs the rungs that matter: one click shows the rest at scale
        rest = share.drop(columns=["aware"], errors="ignore").fillna(0).sum(axis=1)
        top = min(1.0, max(float(rest.max()) * 1.15, 0.02))
        # where people who merely saw an ad are most of the ladder, open on the rungs above it
        engaged_first = float(share["aware"].fillna(0).mean()) > 0.5
        if engaged_first:
            fig.update_traces(visible=False, selector=dict(name=label("aware")))
            y_range = [0, top]
        menus.append(dict(active=1 if engaged_first else 0,
            type="buttons", direction="right", x=0, xanchor="left", y=1.02, yanchor="bottom",
            pad=dict(t=0, b=6), bgcolor="#f5f7fa", bordercolor="#cbd2d9", font=dict(size=12), showactive=True,
            buttons=[
                dict(label="All customers", method="update",
                     args=[{"visible": [True] * len(order)}, {"yaxis.range": [0, 1]}]),
                dict(label="Engaged and above", method="update",
                     args=[{"visible": [s != "aware" for s in order]}, {"yaxis.range": [0, top]}]),
            ],
        ))
    fig.update_layout(
        **base_layout(
            updatemenus=menus,
            barmode="stack",
            hovermode="x unified",
            legend=dict(orientation="v", yanchor="top", y=1, xanchor="left", x=1.02, traceorder="reversed",
                        title=dict(text="stage", font=dict(size=11, color=MUTED))),
            margin=dict(l=64, r=24, t=56, b=56),
            xaxis=axis(f"{word.capitalize()} starting", showgrid=False, hoverformat="%d %b %Y",
                       **period_ticks(list(periods), word)),
            yaxis=axis("Share of all customers on the ladder", tickformat=SHARE_FORMAT, range=y_range),
        )
    )
    return fig
