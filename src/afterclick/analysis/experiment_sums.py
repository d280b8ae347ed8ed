"""Execute an experiment analysis's aggregates: per-arm sums, revenue caps, CLV, return curves.

The expressions are in ``afterclick.analysis.measures`` (pure Ibis); this runs them once each
and keeps what ``afterclick.analysis.experiments`` compares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from afterclick.analysis import experiment_extras as X
from afterclick.analysis import measures as M
from afterclick.stats.experiment import MeanStats, RiskTable


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


@dataclass(frozen=True)
class Sums:
    """Everything executed: the per-arm aggregate frame and what the extra metrics need."""

    frame: pd.DataFrame
    skipped: dict[str, str]
    caps: dict[str, float | None]
    clv: dict[tuple[str, str], MeanStats]
    clv_caps: dict[str, float | None]
    curves: dict[tuple[str, str], RiskTable]


def _clv_sums(c, preds: pd.DataFrame, quantile: float) -> tuple[dict[str, MeanStats], float | None]:
    """Per variant: MeanStats of the predicted CLV (0 for customers who have not bought),
    winsorised at the pooled ``quantile`` of the experiment (``quantile_cont``, linear
    interpolation like numpy's); and the cap."""
    import ibis

    p = ibis.memtable(preds[["customer_id", "clv_12m"]])
    j = c.left_join(p, c.customer_id == p.customer_id).select(c.variant, clv=p.clv_12m.fill_null(0.0))
    cap = _num(j.clv.quantile(quantile).execute())
    x = j.clv if cap is None else ibis.ifelse(j.clv > cap, cap, j.clv)
    rows = j.group_by("variant").aggregate(n=j.count(), s=x.sum(), ss=(x * x).sum()).execute()
    return {str(r.variant): MeanStats(int(r.n), float(r.s), float(r.ss)) for r in rows.itertuples()}, cap


def _customer_sums(tables: dict, eid: str, end: float, quantile: float,
                   preds: pd.DataFrame | None) -> tuple:
    """One experiment's per-arm sums, revenue cap, return-curve counts and CLV, all read off
    one per-customer table computed once (cached on the backend: a temporary table)."""
    cap: float | None = None
    curves: dict[tuple[str, str], RiskTable] = {}
    clv: dict[tuple[str, str], MeanStats] = {}
    clv_cap: float | None = None
    c = M.customers(tables, eid).cache()
    try:
        if "transactions" in tables:
            cap_frame = M.revenue_caps(c, end, quantile).execute()
            both = {str(r.experiment_id): (_num(r.rev_cap), _num(r.pre_rev_cap))
                    for r in cap_frame.itertuples()}
            cap = both.get(eid, (None, None))[0]
            sums = M.arm_sums(M.with_caps(c, both), end).execute()
        else:
            sums = M.arm_sums(c, end).execute()
        if "events" in tables:
            curves = X.risk_tables(M.return_days(c, end).execute())
        if preds is not None:
            arms, clv_cap = _clv_sums(c, preds, quantile)
            clv = {(eid, v): s for v, s in arms.items()}
    finally:
        c.release()
    return sums, cap, curves, clv, clv_cap


def execute(ws_or_store: Any, tables: dict, skipped: dict[str, str], quantile: float) -> Sums:
    """Run the aggregates: one frame keyed by (experiment_id, variant), plus the CLV, the caps
    and the return-curve counts. ``skipped`` (metric → why) gains the CLV's reason if any.
    Each experiment is measured apart: its customers are the group key (one string, not two),
    and the CLV model is fitted once for all."""
    skipped = dict(skipped)
    frame = M.arm_counts(tables).execute()
    end = M.data_end(tables) or 0
    preds = None
    if "clv" not in skipped:
        preds = X.clv_predictions(ws_or_store, tables)
        if isinstance(preds, str):
            skipped["clv"], preds = preds, None
    caps: dict[str, float | None] = {}
    curves: dict[tuple[str, str], RiskTable] = {}
    clv: dict[tuple[str, str], MeanStats] = {}
    clv_caps: dict[str, float | None] = {}
    if "events" in tables or "transactions" in tables:
        parts = []
        for eid in sorted(frame["experiment_id"].astype(str).unique()):
            sums, caps[eid], more, arms, cap = _customer_sums(tables, eid, end, quantile, preds)
            parts.append(sums)
            curves |= more
            clv |= arms
            if preds is not None:
                clv_caps[eid] = cap
        if parts:
            frame = frame.merge(pd.concat(parts, ignore_index=True),
                                on=["experiment_id", "variant"], how="left")
    if "responses" in tables:
        frame = frame.merge(M.survey_sums(tables).execute(), on=["experiment_id", "variant"],
                            how="left")
    if "transactions" not in tables:
        caps = {}
    return Sums(frame, skipped, caps, clv, clv_caps, curves)
