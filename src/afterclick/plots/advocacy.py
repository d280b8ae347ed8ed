"""Advocacy and satisfaction charts: NPS and CSAT over time with intervals, themes, drivers."""

from __future__ import annotations

import plotly.graph_objects as go

from afterclick.plots._common import (
    LOSS, MUTED, TEAL, TEAL_LIGHT, VANITY, axis, base_layout, label, message_figure, naive_utc, require, share_ticks,
    to_list,
)
from afterclick.results import KPIResult
from afterclick.stats import MIN_ANSWERS


def _over_time(result: KPIResult, column: str, title: str, fraction: bool) -> go.Figure:
    """The monthly value with its 95% interval as a band. Months with fewer than MIN_ANSWERS
    answers are drawn apart: hollow markers with their own interval bar and legend entry
    ("n < 30"), joined by a dotted line, so they never look as solid as the well-read months."""
    rows = require(result, ("period", "answers", column, "ci_low", "ci_high", "too_few"))
    rows = rows.dropna(subset=[column])
    if rows.empty:
        return message_figure("No answers in this period.")
    x = to_list(naive_utc(rows["period"]))
    y = to_list(rows[column])
    lo, hi = to_list(rows["ci_low"]), to_list(rows["ci_high"])
    few = [bool(v) for v in rows["too_few"]]
    answers = to_list(rows["answers"])
    fmt = ".0%" if fraction else "+.1f"
    hover = (f"%{{x|%b %Y}}<br>{title} %{{y:{fmt}}} (95%: %{{customdata[1]:{fmt}}} to "
             f"%{{customdata[2]:{fmt}}})<br>%{{customdata[0]:,}} answers")
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x + x[::-1], y=hi + lo[::-1], fill="toself", fillcolor="rgba(15, 118, 110, 0.12)",
                             line=dict(width=0), hoverinfo="skip", name="95% interval"))
    # a dotted line through every month; the solid one only between well-read months
    fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line=dict(color=TEAL_LIGHT, width=1.5, dash="dot"),
                             hoverinfo="skip", showlegend=False))

    def part(keep: bool) -> dict:
        pick = [f is keep for f in few]
        return dict(x=[v for v, k in zip(x, pick) if k], y=[v for v, k in zip(y, pick) if k],
                    customdata=[c for c, k in zip(zip(answers, lo, hi), pick) if k])

    if not all(few):
        solid = [None if f else v for v, f in zip(y, few, strict=True)]
        fig.add_trace(go.Scatter(
            x=x, y=solid, mode="lines+markers", name=title, connectgaps=False, line=dict(color=TEAL, width=2),
            marker=dict(size=8, color=TEAL, line=dict(color=TEAL, width=2)),
            customdata=list(zip(answers, lo, hi, strict=True)), hovertemplate=hover + "<extra></extra>",
        ))
    if any(few):
        thin = part(True)
        ys = thin["y"]
        fig.add_trace(go.Scatter(
            **thin, mode="markers", name=f"{title}, n < {MIN_ANSWERS} answers: too few to read",
            marker=dict(symbol="circle-open", size=9, color=TEAL, line=dict(color=TEAL, width=2)),
            error_y=dict(type="data", symmetric=False, color=TEAL_LIGHT, thickness=1.5, width=5,
                         array=[None if h is None else h - v for (_, _, h), v in zip(thin["customdata"], ys)],
                         arrayminus=[None if lw is None else v - lw for (_, lw, _), v in zip(thin["customdata"], ys)]),
            hovertemplate=hover + f" (fewer than {MIN_ANSWERS}: too few to read)<extra></extra>",
        ))
        fig.add_annotation(text=f"hollow, dotted: fewer than {MIN_ANSWERS} answers (n < {MIN_ANSWERS}), too few to "
                                "read; the bar and band still show their 95% interval",
                           x=0, y=-0.18, xref="paper", yref="paper", showarrow=False, xanchor="left",
                           font=dict(size=11, color=MUTED))
    fig.update_layout(**base_layout(
        xaxis=axis(None, type="date"),
        yaxis=axis(title + (" (share of 4-5)" if fraction else " (points)"),
                   **(share_ticks([*y, *lo, *hi], lo=None) if fraction else {})),
    ))
    return fig


def plot_nps_over_time(result: KPIResult) -> go.Figure:
    """NPS per month with its 95% interval (band); months with too few answers hollow."""
    return _over_time(result, "nps", "NPS", fraction=False)


def plot_csat_over_time(result: KPIResult) -> go.Figure:
    """CSAT per month with its 95% Wilson interval (band); months with too few answers hollow."""
    return _over_time(result, "csat", "CSAT", fraction=True)


def plot_themes(result: KPIResult) -> go.Figure:
    """Themes by volume; each bar coloured by where its NPS answers sit (red: detractors)."""
    rows = require(result, ("label", "volume", "share", "nps", "examples"))
    if rows.empty:
        return message_figure("Too few comments for themes.")
    rows = rows.sort_values("volume")
    colours = [VANITY if v is None or v != v else (LOSS if v < 0 else TEAL if v >= 30 else TEAL_LIGHT)
               for v in rows["nps"]]
    quotes = [label(q).replace(" | ", "<br>") for q in rows["examples"]]
    fig = go.Figure(go.Bar(
        y=[label(v) for v in rows["label"]], x=to_list(rows["volume"]), orientation="h",
        marker=dict(color=colours), customdata=list(zip(to_list(rows["share"]), to_list(rows["nps"]), quotes,
                                                        strict=True)),
        hovertemplate="%{y}<br>%{x:,} comments (%{customdata[0]:.0%})<br>NPS of its answers: "
                      "%{customdata[1]:+.0f}<br>%{customdata[2]}<extra></extra>",
    ))
    fig.update_layout(**base_layout(height=max(300, 90 + 42 * len(rows)), showlegend=False,
                                    xaxis=axis("comments"), yaxis=axis(None, showgrid=False)))
    return fig


def plot_drivers(result: KPIResult) -> go.Figure:
    """Each theme's NPS gap (mentioning minus not mentioning) with its 95% interval."""
    rows = require(result, ("label", "difference", "ci_low", "ci_high", "mentions"))
    rows = rows.dropna(subset=["difference"])
    if rows.empty:
        return message_figure("Too few NPS answers with comments for drivers.")
    rows = rows.sort_values("difference", ascending=False)
    d = to_list(rows["difference"])
    fig = go.Figure(go.Scatter(
        x=d, y=[label(v) for v in rows["label"]], mode="markers",
        marker=dict(size=11, color=[LOSS if v < 0 else TEAL for v in d]),
        error_x=dict(type="data", symmetric=False, color=MUTED,
                     array=[h - v for h, v in zip(to_list(rows["ci_high"]), d, strict=True)],
                     arrayminus=[v - lo for v, lo in zip(d, to_list(rows["ci_low"]), strict=True)]),
        customdata=to_list(rows["mentions"]),
        hovertemplate="%{y}<br>NPS gap %{x:+.0f} points<br>%{customdata:,} answers mention it<extra></extra>",
    ))
    fig.add_vline(x=0, line=dict(color="#cbd2d9", width=1))
    fig.update_layout(**base_layout(height=max(300, 90 + 42 * len(rows)), showlegend=False,
                                    xaxis=axis("NPS of those who mention it minus the others (points)"),
                                    yaxis=axis(None, showgrid=False)))
    return fig
