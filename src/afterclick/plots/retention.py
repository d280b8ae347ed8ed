"""Cohort retention heatmap and lifecycle bars."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from afterclick.plots._common import (
    ACCENT, LOSS, MUTED, RETENTION_SCALE, TEAL, TEAL_LIGHT, VANITY, axis, base_layout, date_labels,
    message_figure, naive_utc, period_word, require, to_list,
)
from afterclick.results import KPIResult

COHORT_COLUMNS = ("cohort", "period", "cohort_size", "retention_on", "retention_on_or_after")
LIFECYCLE_COLUMNS = ("period", "new", "returning", "resurrecting", "dormant", "quick_ratio")


def _matrix(pivot: pd.DataFrame) -> list[list[float | None]]:
    return [[None if pd.isna(v) else float(v) for v in row] for row in pivot.to_numpy()]


def plot_retention_heatmap(result: KPIResult) -> go.Figure:
    """Cohort (rows, oldest on top) × periods since first touch (columns), coloured by retention.

    Buttons switch between "on" (active in exactly that period) and "on or after" (active in
    that period or any later one). The colour scale tops out at the best period-1+ value, so
    period 0 (always 100%) does not wash out the rest.
    """
    rows = require(result, COHORT_COLUMNS)
    if rows.empty:
        return message_figure("No cohorts in this period.")
    rows["cohort"] = naive_utc(rows["cohort"])
    rows["period"] = pd.to_numeric(rows["period"]).astype(int)
    word = period_word(rows["cohort"], result.params)
    cohorts = sorted(rows["cohort"].dropna().unique())
    periods = list(range(0, int(rows["period"].max()) + 1))
    ylabels = date_labels(pd.Series(cohorts), word)

    def pivot(col: str) -> pd.DataFrame:
        return rows.pivot_table(index="cohort", columns="period", values=col, aggfunc="first").reindex(
            index=cohorts, columns=periods)

    z_on, z_after = _matrix(pivot("retention_on")), _matrix(pivot("retention_on_or_after"))
    size = pivot("cohort_size").ffill(axis=1).bfill(axis=1)
    active_on = pivot("active_on") if "active_on" in rows else None
    active_after = pivot("active_on_or_after") if "active_on_or_after" in rows else None
    custom = []
    for i in range(len(cohorts)):
        line = []
        for j in range(len(periods)):
            n = size.iat[i, j]
            a = active_on.iat[i, j] if active_on is not None else None
            b = active_after.iat[i, j] if active_after is not None else None
            line.append([_count(n), _count(a), _count(b)])
        custom.append(line)

    def text(z: list[list[float | None]]) -> list[list[str]]:
        return [["" if v is None else f"{v:.0%}" for v in row] for row in z]

    later = [v for row in z_on + z_after for j, v in enumerate(row) if j > 0 and v is not None]
    zmax = max(max(later, default=0.0), 0.05)
    unit = word if word != "period" else "period"
    hover_on = (f"Cohort %{{y}} (%{{customdata[0]}} customers)<br>{unit} %{{x}}: %{{z:.1%}} active in that {unit}"
                "<br>(%{customdata[1]} customers)<extra></extra>")
    hover_after = (f"Cohort %{{y}} (%{{customdata[0]}} customers)<br>{unit} %{{x}}: %{{z:.1%}} active then or later"
                   "<br>(%{customdata[2]} customers)<extra></extra>")

    fig = go.Figure(
        go.Heatmap(
            z=z_on, x=periods, y=ylabels, text=text(z_on), texttemplate="%{text}",
            textfont=dict(size=11), customdata=custom, hovertemplate=hover_on,
            colorscale=RETENTION_SCALE, zmin=0, zmax=zmax, xgap=2, ygap=2, hoverongaps=False,
            colorbar=dict(title=dict(text="retained", side="top", font=dict(size=11, color=MUTED)),
                          tickformat=".0%", thickness=10, len=0.8, outlinewidth=0),
        )
    )
    buttons = [
        dict(label='Active in that period ("on")', method="restyle",
             args=[{"z": [z_on], "text": [text(z_on)], "hovertemplate": [hover_on]}]),
        dict(label='Active then or later ("on or after")', method="restyle",
             args=[{"z": [z_after], "text": [text(z_after)], "hovertemplate": [hover_after]}]),
    ]
    fig.update_layout(
        **base_layout(
            height=max(300, 120 + 30 * len(cohorts)),
            margin=dict(l=96, r=24, t=64, b=56),
            updatemenus=[dict(type="buttons", direction="right", buttons=buttons, x=0, xanchor="left",
                              y=1.02, yanchor="bottom", showactive=True, pad=dict(r=6, t=0, b=4),
                              bgcolor="#f5f7fa", bordercolor="#cbd2d9", font=dict(size=12))],
            xaxis=axis(f"{unit.capitalize()}s since first touch", showgrid=False, dtick=1, side="bottom"),
            yaxis=axis(f"First-touch cohort ({word})", showgrid=False, type="category", autorange="reversed"),
        )
    )
    return fig


def _count(v: object) -> str:
    if v is None or pd.isna(v):
        return "–"
    return f"{int(v):,}"


def plot_lifecycle(result: KPIResult) -> go.Figure:
    """Per period: returning, new and resurrecting customers up, dormant ones down (negative).

    The quick ratio, (new + resurrecting) / dormant, is the line on the right axis; above 1 the
    active base grows.
    """
    rows = require(result, LIFECYCLE_COLUMNS)
    if rows.empty:
        return message_figure("No lifecycle periods in this review.")
    rows["period"] = naive_utc(rows["period"])
    rows = rows.sort_values("period").reset_index(drop=True)
    word = period_word(rows["period"], result.params)
    x = list(rows["period"])
    fig = go.Figure()
    for col, colour in (("returning", TEAL), ("new", TEAL_LIGHT), ("resurrecting", "#9cc98a")):
        fig.add_trace(go.Bar(x=x, y=to_list(rows[col].fillna(0)), name=col, marker=dict(color=colour, line=dict(width=0)),
                             hovertemplate=f"{col}: %{{y:,}}<extra></extra>"))
    dormant = rows["dormant"].fillna(0)
    fig.add_trace(go.Bar(x=x, y=to_list(-dormant), name="dormant", customdata=to_list(dormant),
                         marker=dict(color=LOSS, line=dict(width=0)), hovertemplate="dormant: %{customdata:,}<extra></extra>"))
    qr = pd.to_numeric(rows["quick_ratio"], errors="coerce")
    fig.add_trace(go.Scatter(x=x, y=to_list(qr), name="quick ratio (right axis)", yaxis="y2", mode="lines+markers",
                             line=dict(color=ACCENT, width=2), marker=dict(size=6), connectgaps=False,
                             hovertemplate="quick ratio: %{y:.2f}<extra></extra>"))
    qr_top = max(float(qr.max()) if qr.notna().any() else 1.0, 1.0) * 1.25
    fig.add_shape(type="line", xref="paper", x0=0, x1=1, yref="y2", y0=1, y1=1,
                  line=dict(color=ACCENT, width=1, dash="dot"))
    fig.update_layout(
        **base_layout(
            barmode="relative",
            bargap=0.25,
            hovermode="x unified",
            margin=dict(l=72, r=64, t=48, b=56),
            xaxis=axis(f"{word.capitalize()} starting", showgrid=False, hoverformat="%d %b %Y"),
            yaxis=axis("Customers (dormant below zero)", zeroline=True, zerolinecolor=VANITY, tickformat=","),
            yaxis2=axis("Quick ratio", overlaying="y", side="right", showgrid=False, range=[0, qr_top],
                        title_color=ACCENT),
        )
    )
    return fig
