"""A judged KPI series as a chart: the values, the expected band, the flags and the dated notes.

:func:`series_figure` draws one judgement; :func:`add_band` adds the band, flags and notes of a
judgement to any time chart of the same KPI (for the report's KPI charts: its x axis must hold the
period starts), so every time chart can show what is expected and what was flagged.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go

from afterclick.monitor.annotations import Annotation
from afterclick.monitor.flags import FlagKind, Judgement
from afterclick.monitor.series import format_level, period_label
from afterclick.results import Unit

BAND = "rgba(99, 110, 250, 0.14)"
LINE = "#3b4cc0"
FLAG = "#d62728"
NOTE = "#7f7f7f"
_SYMBOL = {FlagKind.ANOMALY: "circle-open", FlagKind.OUTSIDE_LIMITS: "circle-open", FlagKind.RUN: "square-open",
           FlagKind.LEVEL_SHIFT: "triangle-down-open"}


def _scale(unit: Unit) -> float:
    return 100.0 if unit in (Unit.FRACTION, Unit.POINTS) else 1.0


def add_band(fig: go.Figure, j: Judgement, notes: Iterable[Annotation] = (), *, row=None, col=None) -> go.Figure:
    """Add ``j``'s expected band (lower to upper), its flags and the notes dated within its periods."""
    frame, k = j.frame, _scale(j.unit)
    where = {} if row is None else {"row": row, "col": col}
    if {"lower", "upper"} <= set(frame.columns) and np.isfinite(frame["upper"].to_numpy(dtype=float)).any():
        x = list(frame["period"])
        fig.add_trace(go.Scatter(x=x, y=frame["upper"] * k, mode="lines", line={"width": 0}, hoverinfo="skip",
                                 showlegend=False), **where)
        fig.add_trace(go.Scatter(x=x, y=frame["lower"] * k, mode="lines", line={"width": 0}, fill="tonexty",
                                 fillcolor=BAND, name="expected range", hoverinfo="skip"), **where)
        fig.add_trace(go.Scatter(x=x, y=frame["expected"] * k, mode="lines", name="expected",
                                 line={"color": LINE, "width": 1, "dash": "dot"}, hoverinfo="skip"), **where)
    values = dict(zip(frame["period"], frame["value"], strict=True))
    for kind in FlagKind:
        flags = [f for f in j.flags if f.kind is kind]
        if not flags:
            continue
        xs = [f.first_period or f.period for f in flags]
        ys = [values.get(x, f.value) * k for x, f in zip(xs, flags, strict=True)]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="markers", name=kind.value.replace("_", " "),
                                 marker={"color": FLAG, "size": 13, "symbol": _SYMBOL[kind], "line": {"width": 2}},
                                 text=[f.sentence for f in flags], hovertemplate="%{text}<extra></extra>"), **where)
    periods = list(frame["period"])
    if periods:
        lo, hi = periods[0].date(), periods[-1].date()
        for note in notes:
            if note.kpi in (None, j.kpi) and lo <= note.date <= hi:
                fig.add_vline(x=note.date.isoformat(), line={"color": NOTE, "dash": "dash", "width": 1}, **where)
                fig.add_annotation(x=note.date.isoformat(), y=1, yref="y domain", text=note.text, showarrow=False,
                                   xanchor="left", yanchor="top", font={"size": 10, "color": NOTE}, **where)
    return fig


def series_figure(j: Judgement, notes: Iterable[Annotation] = (), height: int = 300) -> go.Figure:
    """One KPI's series with its expected band, flags and the dated notes that fall in it."""
    frame, k = j.frame, _scale(j.unit)
    fig = go.Figure()
    add_band(fig, j, notes)
    labels = [f"{period_label(p, j.grain)}: {format_level(v, j.unit)}" for p, v in zip(frame["period"], frame["value"],
                                                                                      strict=True)]
    fig.add_trace(go.Scatter(x=list(frame["period"]), y=frame["value"] * k, mode="lines+markers", name=j.name,
                             line={"color": "#222", "width": 1.5}, marker={"size": 4}, text=labels,
                             hovertemplate="%{text}<extra></extra>"))
    suffix = " (%)" if k == 100.0 else ""
    fig.update_layout(height=height, margin={"l": 50, "r": 20, "t": 20, "b": 40},
                      legend={"orientation": "h", "y": -0.2}, yaxis_title=f"{j.name}{suffix}",
                      plot_bgcolor="white")
    return fig
