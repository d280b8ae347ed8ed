"""Clicks vs commitment: each campaign's click-through rate against the share of its customers kept."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from afterclick.plots._common import (
    LOSS, LOSS_FILL, MUTED, PLOT_H, PLOT_W, TEAL, VANITY, axis, base_layout, label, label_positions,
    message_figure, require, share_ticks, to_list,
)
from afterclick.results import KPIResult
from afterclick.engine.specs import param, retention_column

#: Columns read besides the retention column, whose name follows ``retention_days`` (retention_90d).
COLUMNS = ("name", "ctr")
_HOVER_COLUMNS = (
    "channel", "objective", "impressions", "clicks", "acquired", "eligible", "retained",
    "revenue", "revenue_per_customer", "spend",
)
MAX_LABELS = 25


def overall_rates(rows: pd.DataFrame, kept: str = "kept") -> tuple[float | None, float | None]:
    """Pooled CTR (Σ clicks / Σ impressions) and retention (Σ retained / Σ eligible, column ``kept``).

    Pooled, not averaged, so a tiny campaign does not move the reference lines; falls back to
    the median of the per-campaign rates when the counts are absent.
    """

    def pooled(num: str, den: str, rate: str) -> float | None:
        if num in rows and den in rows:
            n, d = pd.to_numeric(rows[num]).sum(), pd.to_numeric(rows[den]).sum()
            if d and d > 0:
                return float(n / d)
        vals = pd.to_numeric(rows[rate], errors="coerce").dropna()
        return float(vals.median()) if len(vals) else None

    return pooled("clicks", "impressions", "ctr"), pooled("retained", "eligible", kept)


def plot_clicks_vs_commitment(result: KPIResult) -> go.Figure:
    """Scatter of CTR (x, vanity) against retention ``retention_days`` on (y, relationship), one bubble
    per campaign.

    Bubble area follows revenue per acquired customer. The shaded lower-right quadrant holds the
    campaigns with above-average CTR and below-average retention: clicks but no commitment.
    """
    column, days = retention_column(result), param(result, "retention_days")
    rows = require(result, (*COLUMNS, column))
    if rows.empty:
        return message_figure("No campaigns in this period.")
    rows["ctr"] = pd.to_numeric(rows["ctr"], errors="coerce")
    rows["kept"] = pd.to_numeric(rows[column], errors="coerce")
    x_ref, y_ref = overall_rates(rows)
    shown = rows.dropna(subset=["ctr", "kept"]).reset_index(drop=True)
    left_out = len(rows) - len(shown)
    if shown.empty:
        return message_figure(f"No campaign has both a click-through rate and customers {days} days on yet.")

    sizes = _bubble_sizes(shown)
    no_commitment = (
        (shown["ctr"] >= x_ref) & (shown["kept"] < y_ref)
        if x_ref is not None and y_ref is not None
        else pd.Series(False, index=shown.index)
    )
    colours = [LOSS if flag else TEAL for flag in no_commitment]

    custom, hovertemplate = _hover(shown, days)
    text = _labels(shown)

    x_max = max(float(shown["ctr"].max()) * 1.18, (x_ref or 0) * 1.3, 0.005)
    y_max = min(max(float(shown["kept"].max()) * 1.18, (y_ref or 0) * 1.3, 0.05), 1.05)
    fig = go.Figure(
        go.Scatter(
            x=to_list(shown["ctr"]),
            y=to_list(shown["kept"]),
            mode="markers+text",
            text=text,
            textposition=label_positions(to_list(shown["ctr"]), to_list(shown["kept"]), sizes, text,
                                          x_max, y_max, _reference_boxes(x_ref, y_ref, x_max, y_max)),
            textfont=dict(size=12, color="#3e4c59"),
            marker=dict(size=sizes, color=colours, opacity=0.82, line=dict(width=1, color="white")),
            customdata=custom,
            hovertemplate=hovertemplate,
            showlegend=False,
            cliponaxis=False,
        )
    )
    notes = _references(fig, x_ref, y_ref, x_max, y_max, days)
    if left_out:
        notes.append(f"{left_out} campaign{'s' if left_out != 1 else ''} not shown: "
                     f"no impressions, or no customers {days} days on yet")
    if notes:
        fig.add_annotation(x=0, y=0, yshift=-52, xref="paper", yref="paper", xanchor="left", yanchor="top",
                           align="left", showarrow=False, font=dict(size=11, color=MUTED), text="<br>".join(notes))
    fig.add_annotation(x=0, y=1.01, xref="paper", yref="paper", xanchor="left", yanchor="bottom", showarrow=False,
                       text="Bubble size: revenue per acquired customer", font=dict(size=11, color=MUTED))
    fig.update_layout(
        **base_layout(
            height=500,
            margin=dict(l=72, r=32, t=36, b=60 + 16 * len(notes)),
            xaxis=axis("Click-through rate (clicks ÷ impressions): attention", **share_ticks([x_max]),
                       range=[0, x_max], title_color=VANITY),
            yaxis=axis(f"Customers still active {days} days on: commitment", **share_ticks([y_max]),
                       range=[0, y_max], title_color=TEAL),
        )
    )
    return fig


def _bubble_sizes(shown: pd.DataFrame) -> list[float]:
    """Bubble diameters: area follows revenue per acquired customer."""
    if "revenue_per_customer" in shown:
        rpc = pd.to_numeric(shown["revenue_per_customer"], errors="coerce").fillna(0).clip(lower=0)
    else:
        rpc = pd.Series(0.0, index=shown.index)
    top = float(rpc.max()) if len(rpc) else 0.0
    return [14 + 34 * math.sqrt(v / top) if top > 0 else 18 for v in rpc]


def _labels(shown: pd.DataFrame) -> list[str]:
    """Campaign names on the bubbles; past MAX_LABELS, only the leaders on either axis (the rest on hover)."""
    names = [label(n) for n in shown["name"]]
    if len(shown) <= MAX_LABELS:
        return names
    k = MAX_LABELS // 2
    keep = set(shown["ctr"].nlargest(k).index) | set(shown["kept"].nlargest(k).index)
    return [n if i in keep else "" for i, n in enumerate(names)]


def _hover(shown: pd.DataFrame, days: int) -> tuple[list[list[str]], str]:
    """Each bubble's hover data (its name, then the hover columns it has) and the hover template."""
    hover_cols = [c for c in _HOVER_COLUMNS if c in shown.columns]
    custom = [[label(r["name"])] + [_hover_value(c, r[c]) for c in hover_cols] for _, r in shown.iterrows()]
    lines = ["<b>%{customdata[0]}</b>", f"CTR %{{x:.1%}} · kept {days} days on %{{y:.1%}}"]
    for i, c in enumerate(hover_cols, start=1):
        lines.append(f"{c.replace('_', ' ')}: %{{customdata[{i}]}}")
    return custom, "<br>".join(lines) + "<extra></extra>"


def _references(fig: go.Figure, x_ref: float | None, y_ref: float | None, x_max: float, y_max: float,
                days: int) -> list[str]:
    """The all-campaign reference lines and the shaded no-commitment quadrant; returns the notes."""
    notes = []
    if x_ref is not None and y_ref is not None:
        fig.add_shape(type="rect", x0=x_ref, x1=x_max, y0=0, y1=y_ref, fillcolor=LOSS_FILL,
                      line=dict(width=0), layer="below")
        notes.append(f'<span style="color:{LOSS}">■ shaded: clicks but no commitment</span>')
        notes.append(f"(CTR above and {days}-day retention below all campaigns together)")
    if x_ref is not None:
        fig.add_vline(x=x_ref, line=dict(color=VANITY, width=1, dash="dot"))
        fig.add_annotation(x=x_ref, y=y_max, yanchor="top", xanchor="left", showarrow=False,
                           text=f" all campaigns: {x_ref:.1%} CTR", font=dict(size=11, color=MUTED))
    if y_ref is not None:
        fig.add_hline(y=y_ref, line=dict(color=TEAL, width=1, dash="dot"))
        # at the right end: high CTR with high retention is the rarest corner, so the freest
        fig.add_annotation(x=x_max, y=y_ref, xanchor="right", yanchor="bottom", showarrow=False,
                           text=f"all campaigns: {y_ref:.0%} kept", font=dict(size=11, color=TEAL))
    return notes


def _reference_boxes(x_ref: float | None, y_ref: float | None, x_max: float,
                     y_max: float) -> list[tuple[float, float, float, float]]:
    """Where the reference lines' own labels sit (pixels), so campaign labels keep off them."""
    boxes = []
    if y_ref is not None:  # "all campaigns: 31% kept", above the line at the right end
        y = y_ref / y_max * PLOT_H
        boxes.append((PLOT_W - 150, y, PLOT_W, y + 15))
    if x_ref is not None:  # "all campaigns: 3.9% CTR", right of the line at the top
        x = x_ref / x_max * PLOT_W
        boxes.append((x, PLOT_H - 15, x + 150, PLOT_H))
    return boxes


def _hover_value(column: str, value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "–"
    if isinstance(value, str):
        return label(value)
    if column in ("revenue_per_customer", "spend", "revenue"):
        return f"{float(value):,.2f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{float(value):,.2f}"
