"""Cohort retention heatmap and lifecycle bars."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from afterclick.plots._common import (
    ACCENT, LOSS, MUTED, RETENTION_SCALE, TEAL, TEAL_LIGHT, VANITY, axis, base_layout, date_labels,
    message_figure, naive_utc, period_ticks, require, result_period_word, to_list,
)
from afterclick.results import KPIResult

COHORT_COLUMNS = ("cohort", "period", "cohort_size", "retention_on", "retention_on_or_after")
LIFECYCLE_COLUMNS = ("period", "new", "returning", "resurrecting", "dormant", "quick_ratio")
_PERIOD0_GREY = [[0.0, "#eef1f4"], [1.0, "#eef1f4"]]
#: The heatmap shows the latest cohorts only; all of them stay in the breakdown table.
MAX_COHORTS = 24


def _matrix(pivot: pd.DataFrame) -> list[list[float | None]]:
    return [[None if pd.isna(v) else float(v) for v in row] for row in pivot.to_numpy()]


def _count(v: object) -> str:
    if v is None or pd.isna(v):
        return "–"
    return f"{int(v):,}"


def _hover_counts(size: pd.Series, active_on: pd.DataFrame | None, active_after: pd.DataFrame | None,
                  n_cohorts: int, n_periods: int) -> list[list[list[str]]]:
    """Per cell: the cohort's size and its customers active on / on or after that period."""
    return [
        [[_count(size.iat[i]),
          _count(active_on.iat[i, j]) if active_on is not None else "–",
          _count(active_after.iat[i, j]) if active_after is not None else "–"]
         for j in range(n_periods)]
        for i in range(n_cohorts)
    ]


def _percent_text(z: list[list[float | None]]) -> list[list[str]]:
    return [["" if v is None else f"{v:.0%}" for v in row] for row in z]


def plot_retention_heatmap(result: KPIResult) -> go.Figure:
    """Cohort (rows, oldest on top) × periods since first touch (columns), coloured by retention.

    Buttons switch between "on" (active in exactly that period) and "on or after" (active in
    that period or any later one). Period 0 (everyone, by definition) is a grey column showing
    the cohort's size, so it does not wash out the colour scale of the periods that matter.
    """
    rows = require(result, COHORT_COLUMNS)
    if rows.empty:
        return message_figure("No cohorts in this period.")
    rows["cohort"] = naive_utc(rows["cohort"])
    rows["period"] = pd.to_numeric(rows["period"]).astype(int)
    word = result_period_word(result, rows["cohort"])
    all_cohorts = sorted(rows["cohort"].dropna().unique())
    cohorts = all_cohorts[-MAX_COHORTS:]
    rows = rows[rows["cohort"].isin(cohorts)]
    periods = list(range(1, int(rows["period"].max()) + 1))
    ylabels = date_labels(pd.Series(cohorts), word)

    def pivot(col: str, cols: list[int]) -> pd.DataFrame:
        return rows.pivot_table(index="cohort", columns="period", values=col, aggfunc="first", dropna=False).reindex(
            index=cohorts, columns=cols)

    size = pivot("cohort_size", [0, *periods]).ffill(axis=1).bfill(axis=1).iloc[:, 0]
    fig = go.Figure()
    # period 0: the cohort itself, in grey, labelled with its size
    fig.add_trace(go.Heatmap(
        z=[[1] for _ in cohorts], x=[0], y=ylabels, text=[[_count(n)] for n in size],
        texttemplate="%{text}", textfont=dict(size=11, color=MUTED), colorscale=_PERIOD0_GREY, showscale=False,
        xgap=2, ygap=2, hovertemplate=f"Cohort %{{y}}: %{{text}} customers first touched in this {word}<extra></extra>",
    ))
    if not periods:
        fig.update_layout(**base_layout(height=max(260, 120 + 30 * len(cohorts))))
        return fig

    z_on = _matrix(pivot("retention_on", periods))
    z_after = _matrix(pivot("retention_on_or_after", periods))
    active_on = pivot("active_on", periods) if "active_on" in rows else None
    active_after = pivot("active_on_or_after", periods) if "active_on_or_after" in rows else None
    custom = _hover_counts(size, active_on, active_after, len(cohorts), len(periods))
    # the scale tops out at the 95th percentile, so one tiny cohort's 100% does not pale the rest
    later = pd.Series([v for row in z_on + z_after for v in row if v is not None], dtype=float)
    zmax = max(float(later.quantile(0.95)) if len(later) else 0.0, 0.05)
    hover = ("Cohort %{{y}} (%{{customdata[0]}} customers)<br>{w} %{{x}}: %{{z:.1%}} {what}"
             "<br>(%{{customdata[{i}]}} customers)<extra></extra>")
    hover_on = hover.format(w=word, what=f"active in that {word}", i=1)
    hover_after = hover.format(w=word, what="active then or later", i=2)
    fig.add_trace(go.Heatmap(
        z=z_on, x=periods, y=ylabels, text=_percent_text(z_on), texttemplate="%{text}", textfont=dict(size=11),
        customdata=custom, hovertemplate=hover_on, colorscale=RETENTION_SCALE, zmin=0, zmax=zmax,
        xgap=2, ygap=2, hoverongaps=False,
        colorbar=dict(title=dict(text="retained", side="top", font=dict(size=11, color=MUTED)),
                      tickformat=".0%", thickness=10, len=min(0.8, 300 / (26 * len(cohorts))),
                      outlinewidth=0, yanchor="top", y=1),
    ))
    buttons = [
        dict(label=f'Active in that {word} ("on")', method="restyle",
             args=[{"z": [z_on], "text": [_percent_text(z_on)], "hovertemplate": [hover_on]}, [1]]),
        dict(label='Active then or later ("on or after")', method="restyle",
             args=[{"z": [z_after], "text": [_percent_text(z_after)], "hovertemplate": [hover_after]}, [1]]),
    ]
    if len(all_cohorts) > len(cohorts):
        fig.add_annotation(x=1, y=1.02, xref="paper", yref="paper", xanchor="right", yanchor="bottom",
                           showarrow=False, font=dict(size=11, color=MUTED),
                           text=f"latest {len(cohorts)} of {len(all_cohorts)} cohorts; every one is in the CSV/JSON export")
    fig.update_layout(
        **base_layout(
            height=max(300, 130 + 26 * len(cohorts)),
            margin=dict(l=96, r=24, t=64, b=56),
            updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0, xanchor="left",
                              y=1.02, yanchor="bottom", showactive=True, pad=dict(r=6, t=0, b=6),
                              bgcolor="#f5f7fa", bordercolor="#cbd2d9", font=dict(size=12))],
            xaxis=axis(f"{word.capitalize()}s since first touch (0 = the cohort's own {word}, showing its size)",
                       showgrid=False, dtick=1, showline=False),
            yaxis=axis(f"First-touch cohort ({word} starting)", showgrid=False, type="category",
                       autorange="reversed", showline=False),
        )
    )
    return fig


def _nice_step(top: float) -> float:
    raw = top / 4
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)


def plot_lifecycle(result: KPIResult) -> go.Figure:
    """Per period: returning, new and resurrecting customers up, dormant ones down (negative).

    The quick ratio, (new + resurrecting) / dormant, is the line on the right axis (its zero
    level with the bars' zero); above the dotted 1 the active base grows.
    """
    rows = require(result, LIFECYCLE_COLUMNS)
    if rows.empty:
        return message_figure("No lifecycle periods in this review.")
    rows["period"] = naive_utc(rows["period"])
    rows = rows.sort_values("period").reset_index(drop=True)
    word = result_period_word(result, rows["period"])
    x = list(rows["period"])
    counts = {c: pd.to_numeric(rows[c], errors="coerce").fillna(0)
              for c in ("returning", "new", "resurrecting", "dormant")}
    fig = go.Figure()
    for col, colour in (("returning", TEAL), ("new", TEAL_LIGHT), ("resurrecting", "#9cc98a")):
        fig.add_trace(go.Bar(x=x, y=to_list(counts[col]), name=col, marker=dict(color=colour, line=dict(width=0)),
                             hovertemplate=f"{col}: %{{y:,}}<extra></extra>"))
    fig.add_trace(go.Bar(x=x, y=to_list(-counts["dormant"]), name="dormant", customdata=to_list(counts["dormant"]),
                         marker=dict(color=LOSS, line=dict(width=0)),
                         hovertemplate="dormant: %{customdata:,}<extra></extra>"))
    qr = pd.to_numeric(rows["quick_ratio"], errors="coerce")
    fig.add_trace(go.Scatter(x=x, y=to_list(qr), name="quick ratio (right axis)", yaxis="y2", mode="lines+markers",
                             line=dict(color=ACCENT, width=2), marker=dict(size=7), connectgaps=False,
                             hovertemplate="quick ratio: %{y:.2f}<extra></extra>"))

    hi = float((counts["returning"] + counts["new"] + counts["resurrecting"]).max()) or 1.0
    lo = -float(counts["dormant"].max())
    y_range = [lo * 1.1, hi * 1.1]
    qr_top = max(float(qr.max()) if qr.notna().any() else 1.0, 1.0) * 1.15
    below = -y_range[0] / (y_range[1] - y_range[0])  # share of the plot below zero, same on both axes
    y2_range = [-below / (1 - below) * qr_top, qr_top]
    step = _nice_step(qr_top)
    y2_ticks = [round(i * step, 6) for i in range(int(qr_top // step) + 1)]
    fig.add_shape(type="line", xref="paper", x0=0, x1=1, yref="y2", y0=1, y1=1,
                  line=dict(color=ACCENT, width=1, dash="dot"))
    fig.add_annotation(xref="paper", x=1, yref="y2", y=1, xanchor="right", yanchor="bottom", showarrow=False,
                       text="quick ratio 1: break-even", font=dict(size=11, color=ACCENT),
                       bgcolor="rgba(255,255,255,0.85)")
    fig.update_layout(
        **base_layout(
            barmode="relative",
            bargap=0.3,
            hovermode="x unified",
            margin=dict(l=72, r=64, t=48, b=56),
            xaxis=axis(f"{word.capitalize()} starting", showgrid=False, hoverformat="%d %b %Y",
                       **period_ticks(x, word)),
            yaxis=axis("Customers (dormant below zero)", zeroline=True, zerolinecolor=VANITY, tickformat=",",
                       range=y_range),
            yaxis2=axis("Quick ratio", overlaying="y", side="right", showgrid=False, range=y2_range,
                        tickmode="array", tickvals=y2_ticks, tickformat=".2~f", showline=False, title_color=ACCENT),
        )
    )
    return fig
