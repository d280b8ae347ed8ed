"""The statistics behind the B2B lead and deal KPIs (``kpis/b2b*.py``), on the breakdowns the engine
executed: a share's Wilson interval from its counts, the log interval of a ratio of two
proportions, and the campaigns' credit for influenced pipeline. Each function is a ``finish`` step
named by a spec (``kpis.base.Analysis``); the NRR, GRR and velocity intervals are in
``afterclick.analysis.b2b_intervals``."""

from __future__ import annotations

from typing import Any

import pandas as pd

from afterclick.analysis.attribution import credit
from afterclick.kpis.b2b_handoff import SPEED_BANDS
from afterclick.kpis.base import Outcome
from afterclick.stats.proportions import Proportion

LEVEL = 0.95


def wilson(value, rows: pd.DataFrame | None, *, k: str, n: str | tuple[str, ...],
           where: tuple[str, Any] | None = None) -> Outcome:
    """The headline share with its Wilson interval from the breakdown's counts: ``k`` over ``n``
    (one column, or several summed) over the rows whose column ``where[0]`` equals ``where[1]``
    (all rows without ``where``)."""
    r = rows if rows is None or where is None else rows[rows[where[0]] == where[1]]
    ci = None
    if value is not None and r is not None and len(r):
        total = sum(r[c].fillna(0).astype("int64").sum() for c in ((n,) if isinstance(n, str) else n))
        ci = Proportion(int(r[k].fillna(0).astype("int64").sum()), int(total)).wilson(LEVEL).bounds
    return Outcome(value, rows, ci=ci)


def ratio_interval(value, rows: pd.DataFrame | None, *, then) -> Outcome:
    """``then``, with the 95% interval of the ratio of two independent proportions, the slow bands'
    opportunity rate over the fast ones' (Katz's log interval, as statsmodels computes it)."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    done = then(value, rows)
    if done.value is None or rows is None or not len(rows):
        return done
    fast = rows["speed"].isin([label for label, hi in SPEED_BANDS if hi is not None])
    k1, n1 = int(rows.opportunities[~fast].sum()), int(rows.mqls[~fast].sum())
    k0, n0 = int(rows.opportunities[fast].sum()), int(rows.mqls[fast].sum())
    if min(k1, k0) == 0:  # the log interval needs a conversion on each side
        return done
    lo, hi = confint_proportions_2indep(k1, n1, k0, n0, compare="ratio", method="log")
    return Outcome(done.value, done.rows, ci=(float(lo), float(hi)), notes=done.notes)


#: Columns of the influence breakdown, in order.
INFLUENCE_COLUMNS = ("model", "campaign_id", "name", "deals", "sourced_pipeline", "opportunities", "pipeline",
                     "won", "revenue")


def influence_table(rows: pd.DataFrame) -> pd.DataFrame:
    """Executed touch rows -> per model and campaign: deals touched, pipeline sourced (deals naming
    it), credited opportunities and pipeline, credited won deals and revenue."""
    j = rows.rename(columns={"deal_id": "customer_id"})
    pipe = credit(j.assign(converted=1, value=j.amount), label="campaign_id", with_value=True)
    money = (credit(j.assign(converted=j.won, value=j.amount * j.won), label="campaign_id", with_value=True)
             if j.won.sum() else pipe.assign(conversions=0.0, value=0.0))
    per_deal = j.drop_duplicates("customer_id")
    sourced = per_deal.groupby("source").amount.sum()
    out = pipe.rename(columns={"journeys": "deals", "conversions": "opportunities", "value": "pipeline"})
    won = money.set_index(["model", "campaign_id"])
    key = list(zip(out.model, out.campaign_id, strict=True))
    out["won"] = [won.conversions.get(k, 0.0) for k in key]
    out["revenue"] = [won.value.get(k, 0.0) for k in key]
    out["sourced_pipeline"] = out.campaign_id.map(sourced).fillna(0.0)
    return out[list(INFLUENCE_COLUMNS)]


def influence(value, rows: pd.DataFrame | None) -> Outcome:
    """The ``finish`` step of ``b2b.pipeline_influenced``: :func:`influence_table`, with notes."""
    if rows is None or not len(rows):
        return Outcome(value, None, notes=(("No deal of the period was touched by a campaign before it was "
                                           "created, so there is no pipeline to share out."),))
    return Outcome(value, influence_table(rows), notes=(
        ("Each deal's amount is shared across the campaigns its contacts met before it was created; "
         "won revenue likewise over the won deals. Markov is the removal effect of a first-order "
         "chain; Shapley is the simplified Shapley value (Zhao et al. 2018)."),))
