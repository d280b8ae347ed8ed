"""The Experiments section: each A/B test judged on relationship outcomes, vanity metrics beside.

One card per experiment: the verdict line per variant (with its guardrails: the split, the
pre-period, novelty), a forest plot of the relative lifts with their 95 % intervals (vanity
metrics grey, relationship metrics teal; a filled marker when the lift holds after the Holm
correction), and the table of rows ``afterclick experiment`` prints. ``build`` returns None when
the store has no assignments. ``ctx.options["experiments_sequential"]`` (True or N*) switches to
always-valid intervals, as ``afterclick experiment --sequential`` does.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

from afterclick.analysis.experiments import (
    LABELS,
    VANITY,
    Analysis,
    ExperimentResult,
    analyse,
)
from afterclick.plots._common import GRID, MUTED, TEAL, axis, base_layout
from afterclick.plots._common import VANITY as GREY
from afterclick.report.sections import Card, Section, SectionContext

#: the lifts the forest plot shows: the relative ones (NPS, a net score, has none)
_NO_RELATIVE = ("nps",)


def _pct(x: float | None) -> str:
    return "—" if x is None or not math.isfinite(x) else f"{100 * x:+.1f} %"


def _num(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:,.3g}" if abs(x) < 1000 else f"{x:,.0f}"


def forest(e: ExperimentResult) -> go.Figure | None:
    """Relative lift per metric and variant with its 95 % interval, vanity metrics first."""
    rows = [r for r in e.results if r.comparison is not None and r.metric not in _NO_RELATIVE
            and r.comparison.relative.ok and r.comparison.relative.low is not None]
    if not rows:
        return None
    order = {m: i for i, m in enumerate(LABELS)}
    rows.sort(key=lambda r: (r.metric not in VANITY, order.get(r.metric, 99), r.variant))
    many = len(e.variants) > 1
    fig = go.Figure()
    for vanity in (True, False):
        mine = [r for r in rows if (r.metric in VANITY) == vanity]
        if not mine:
            continue
        rel = [r.comparison.relative for r in mine]
        colour = GREY if vanity else TEAL
        names = [LABELS[r.metric] + (f" ({r.variant})" if many else "") for r in mine]
        fig.add_trace(go.Scatter(
            x=[100 * x.estimate for x in rel], y=names, mode="markers",
            name="vanity (attention)" if vanity else "relationship",
            marker={"color": colour, "size": 10, "line": {"color": colour, "width": 2},
                        "symbol": ["circle" if x.significant() else "circle-open" for x in rel]},
            error_x={"type": "data", "symmetric": False, "color": colour, "thickness": 2, "width": 0,
                         "array": [100 * (x.high - x.estimate) for x in rel],
                         "arrayminus": [100 * (x.estimate - x.low) for x in rel]},
            hovertemplate="%{y}: %{x:+.1f} %<extra></extra>"))
    fig.add_vline(x=0, line={"color": MUTED, "width": 1})
    fig.update_layout(**base_layout(height=120 + 28 * len(rows), margin={"l": 260, "r": 24, "t": 48, "b": 56}),
                      xaxis=axis(f"lift of {', '.join(e.variants)} over {e.control}, % (95 % interval)",
                                 zeroline=False, gridcolor=GRID),
                      yaxis={"autorange": "reversed", "automargin": True})
    return fig


def table(e: ExperimentResult) -> pd.DataFrame:
    """One row per metric and variant, in words and rounded numbers."""
    out = []
    for r in e.to_rows():
        lift = "—" if r["absolute"] is None else _num(r["absolute"])
        interval = ("—" if r["ci_low"] is None else f"{_num(r['ci_low'])} to {_num(r['ci_high'])}")
        out.append({"metric": LABELS.get(r["metric"], r["metric"]), "variant": r["variant"],
                    "customers (control / variant)": f"{_num(r['n_control'])} / {_num(r['n_variant'])}"
                    if r["n_control"] is not None else "—",
                    "control": _num(r["mean_control"]), "variant value": _num(r["mean_variant"]),
                    "lift": lift, "95 % interval": interval, "relative": _pct(r["relative"]),
                    "p (Holm)": "—" if r["p_adjusted"] is None else f"{r['p_adjusted']:.2g}",
                    "method": r["method"] or r["status"]})
    return pd.DataFrame(out)


def card(e: ExperimentResult) -> Card:
    counts = ", ".join(f"{v} {n:,}" for v, n in e.counts.items())
    sentences = [f"Assigned: {counts} (control {e.control})."]
    sentences += [e.verdicts[v] for v in e.variants]
    notes = [f"Sample ratio: {e.srm.method}, flagged below p = {e.srm.threshold:g}.",
             ("Lifts are compared with the control; p-values are corrected by Holm over every "
             "metric and variant. The plot shows relative lifts; a filled marker holds after "
             "the correction. The log-rank row's relative lift is the hazard ratio − 1.")]
    if e.tuning is not None:
        notes.append(f"Always-valid intervals (N* = {e.tuning:,.0f}): they stay valid however "
                     "often the test is looked at.")
    return Card(title=e.name or e.experiment_id, eyebrow=f"experiment {e.experiment_id}",
                sentences=tuple(sentences), figure=forest(e), table=table(e), notes=tuple(notes))


def section(analysis: Analysis) -> Section | None:
    if not analysis.experiments:
        return None
    return Section(key="experiments", title="Experiments",
                   lede="Each A/B test judged on whether customers came back, stayed and spent, "
                        "with clicks and CTR beside them.",
                   cards=tuple(card(e) for e in analysis.experiments))


def build(ctx: SectionContext) -> Section | None:
    if ctx.ws is None or "assignments" not in ctx.ws.store.tables():
        return None
    return section(analyse(ctx.ws, sequential=ctx.options.get("experiments_sequential")))
