"""The experiment metrics that need more than one aggregate row per arm.

* ``clv_predictions``: predicted 12-month customer lifetime value per buyer, from the
  BG/NBD (or Pareto/NBD) and Gamma-Gamma models the value KPIs fit
  (``afterclick.analysis.value.predictions``, on the buyers' RFM summary to the data's end);
  the assigned customers who have not bought are predicted 0, and the per-arm sums, winsorised
  at the pooled percentile cap of each experiment, are taken in the engine
  (``experiment_sums``).
* ``risk_tables``: each arm's follow-up table for the log-rank test of the return curve, read
  off ``measures.return_days``.
* ``weekly_effects``: the lift in the share active per exposure week, for the novelty check.
* ``named``: a comparison with words added to its method (the cap, the covariate).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri

from afterclick.analysis import measures as M
from afterclick.stats.experiment import (
    Comparison,
    Effect,
    Proportion,
    RiskTable,
    proportion_test,
)


def named(c: Comparison, extra: str) -> Comparison:
    """``c`` with ``extra`` added to its method and to both effects' methods."""
    return replace(c, method=f"{c.method}; {extra}",
                   absolute=replace(c.absolute, method=f"{c.absolute.method}; {extra}"),
                   relative=replace(c.relative, method=f"{c.relative.method}; {extra}"))


def _kpi_tables(ws_or_store: Any, tables: dict):
    from afterclick.kpis.base import Tables
    from afterclick.store.keys import KEYED_COLUMNS

    mine = getattr(ws_or_store, "tables", None)
    if isinstance(mine, Tables):
        return mine
    # a store's kpi_tables(): customers by key when its tables hold the keys
    keyed = any(tables[n][c].type().is_integer() for n, c in KEYED_COLUMNS.items() if n in tables)
    return Tables(tables, ids=ws_or_store.customer_keys() if keyed else None)


def clv_predictions(ws_or_store: Any, tables: dict) -> pd.DataFrame | str:
    """customer_id → clv_12m for every buyer, or the reason no model could be fitted."""
    from afterclick.analysis import value as V
    from afterclick.core.orders import rfm_expr
    from afterclick.kpis._common import in_period
    from afterclick.kpis.base import Params
    from afterclick.kpis.value import _ends

    if "transactions" not in tables:
        return "no transactions table in the store"
    t, p = _kpi_tables(ws_or_store, tables), Params()
    # the models are fitted on the buyers alone: their RFM summary, the rows of the value KPIs'
    # ``customer_value`` that have orders, without its pass over the events for acquisitions
    rows = rfm_expr(in_period(t["transactions"], p), _ends(t, p), "W").execute()
    preds, _ = V.predictions(t, p, rows)
    if preds is None:
        reason = V.too_few(V._buyers(rows))
        return reason or "no lifetime-value model could be fitted on these buyers"
    return preds[["customer_id", "clv_12m"]]


def risk_tables(days: pd.DataFrame) -> dict[tuple[str, str], RiskTable]:
    """Per (experiment_id, variant): the RiskTable of the counts from ``measures.return_days``."""
    out = {}
    for (eid, v), g in days.groupby(["experiment_id", "variant"], sort=True):
        horizon = int(g["day"].max()) + 1
        leaving = np.bincount(g["day"].astype(int), weights=g["n"].astype(float), minlength=horizon)
        hits = g[g["returned"] == 1]
        events = np.bincount(hits["day"].astype(int), weights=hits["n"].astype(float),
                             minlength=horizon)
        at_risk = leaving[::-1].cumsum()[::-1]
        out[(str(eid), str(v))] = RiskTable(tuple(int(x) for x in at_risk),
                                            tuple(int(x) for x in events))
    return out


def weekly_effects(control: pd.Series, variant: pd.Series, level: float = 0.95) -> list[Effect]:
    """The absolute lift in the share active in exposure week 1, 2, … (each week among the
    customers assigned long enough ago to have lived it)."""
    def share(row: pd.Series, k: int) -> Proportion:
        n, got = row.get(f"wk{k}_n"), row.get(f"wk{k}_k")
        return Proportion(0 if pd.isna(got) else int(got), 0 if pd.isna(n) else int(n))

    return [proportion_test(share(control, k), share(variant, k), level).absolute
            for k in range(M.ACTIVE_WEEKS)]


def logrank_comparison(control: RiskTable, variant: RiskTable, level: float = 0.95) -> Comparison:
    """The return curves compared whole: the log-rank test as a ``Comparison``. The absolute
    effect is Peto's log hazard ratio, the relative one the hazard ratio − 1 (+10 %: the variant
    brings customers back 10 % sooner at any moment); the means are the Kaplan–Meier shares
    returned by the end of the follow-up."""
    from afterclick.stats.experiment import logrank_test

    r = logrank_test(control, variant, level)
    method = f"{r.method}; return within {M.CURVE_DAYS} days, censored at the data's end"

    def km(t: RiskTable) -> float | None:
        s = t.survival()
        return 1 - s[-1] if s else None

    if not r.ok:
        bad = Effect("absolute", None, None, None, None, None, level, method, r.status)
        return Comparison("logrank", method, control.n, variant.n, km(control), km(variant), bad,
                          replace(bad, scale="relative"))
    log_hr = float(np.log(r.estimate))
    z = float(ndtri(0.5 + level / 2))
    se = (float(np.log(r.high)) - float(np.log(r.low))) / (2 * z)  # 1/√V
    absolute = Effect("absolute", log_hr, float(np.log(r.low)), float(np.log(r.high)), r.p_value,
                      se, level, method + " (absolute: log hazard ratio)")
    relative = Effect("relative", r.estimate - 1, r.low - 1, r.high - 1, r.p_value, se, level,
                      method + " (relative: hazard ratio − 1)")
    return Comparison("logrank", method, control.n, variant.n, km(control), km(variant),
                      absolute, relative)
