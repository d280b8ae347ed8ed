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


def _customer_sums(tables: dict, end: float, quantile: float):
    """The per-arm sums, the revenue caps and the return-curve counts, all read off one
    per-customer table computed once (cached on the backend: a temporary table)."""
    caps: dict[str, float | None] = {}
    curves: dict[tuple[str, str], RiskTable] = {}
    c = M.customers(tables).cache()
    try:
        if "transactions" in tables:
            cap_frame = M.revenue_caps(c, end, quantile).execute()
            both = {str(r.experiment_id): (_num(r.rev_cap), _num(r.pre_rev_cap))
                    for r in cap_frame.itertuples()}
            caps = {k: v[0] for k, v in both.items()}
            sums = M.arm_sums(M.with_caps(c, both), end).execute()
        else:
            sums = M.arm_sums(c, end).execute()
        if "events" in tables:
            curves = X.risk_tables(M.return_days(c, end).execute())
    finally:
        c.release()
    return sums, caps, curves


def execute(ws_or_store: Any, tables: dict, skipped: dict[str, str], quantile: float) -> Sums:
    """Run the aggregates: one frame keyed by (experiment_id, variant), plus the CLV, the caps
    and the return-curve counts. ``skipped`` (metric → why) gains the CLV's reason if any."""
    skipped = dict(skipped)
    frame = M.arm_counts(tables).execute()
    end = M.data_end(tables) or 0
    caps: dict[str, float | None] = {}
    curves: dict[tuple[str, str], RiskTable] = {}
    if "events" in tables or "transactions" in tables:
        sums, caps, curves = _customer_sums(tables, end, quantile)
        frame = frame.merge(sums, on=["experiment_id", "variant"], how="left")
    if "responses" in tables:
        frame = frame.merge(M.survey_sums(tables).execute(), on=["experiment_id", "variant"],
                            how="left")
    clv: dict[tuple[str, str], MeanStats] = {}
    clv_caps: dict[str, float | None] = {}
    if "clv" not in skipped:
        preds = X.clv_predictions(ws_or_store, tables)
        if isinstance(preds, str):
            skipped["clv"] = preds
        else:
            a = tables["assignments"]
            assigned = a.select(a.experiment_id, a.customer_id, a.variant).execute()
            clv, clv_caps = X.clv_stats(preds, assigned, quantile)
    return Sums(frame, skipped, caps, clv, clv_caps, curves)
