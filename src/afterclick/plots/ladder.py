"""The commitment ladder over time: each stage's share of customers per period."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from afterclick.plots._common import (
    EXTRA_COLOURS, LADDER_COLOURS, axis, base_layout, date_labels, label, message_figure, naive_utc,
    period_word, require, to_list,
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
    word = period_word(rows["period"], result.params)
    periods = sorted(rows["period"].dropna().unique())
    share = rows.pivot_table(index="period", columns="stage", values="share", aggfunc="sum").reindex(periods)
    customers = rows.pivot_table(index="period", columns="stage", values="customers", aggfunc="sum").reindex(periods)
    as_area = len(periods) >= 3

    fig = go.Figure()
    extra = iter(EXTRA_COLOURS * 4)
    for stage in stage_order(rows["stage"]):
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
    fig.update_layout(
        **base_layout(
            barmode="stack",
            hovermode="x unified",
            legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0, traceorder="reversed"),
            xaxis=axis(f"{word.capitalize()} starting", showgrid=False, hoverformat="%d %b %Y",
                       **({"tickvals": list(pd.to_datetime(periods)), "ticktext": date_labels(pd.Series(periods), word)}
                          if not as_area else {})),
            yaxis=axis("Share of customers", tickformat=".0%", range=[0, 1]),
        )
    )
    return fig
