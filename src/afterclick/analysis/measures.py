"""Per-arm sufficient statistics of the experiment metrics, as Ibis aggregates.

Every metric is measured per assigned customer from the assignment time on. The queries group
by (experiment_id, variant) and return sums only (n, Σx, Σx², cross products), so the same
expressions run on any Ibis backend; nothing is pulled into pandas before the aggregate runs.

Definitions (``DAY`` = 86,400 s, ``Δ`` = event time − assignment time, in seconds with the
microseconds kept, the same double on DuckDB and Spark):

* return within N days (7, 30, 90): a non-impression event with 0 < Δ ≤ N days; only customers
  assigned at least N days before the data's end count for window N.
* active weeks: distinct weeks (Δ // 7 days) with a non-impression event among the 8 weeks
  after assignment; customers assigned at least 56 days before the end.
* repeat purchase within 90 days: two or more orders (amount > 0) with 0 ≤ Δ < 90 days.
* revenue within 90 days: Σ amount with 0 ≤ Δ < 90 days, refunds (negative amounts) included.
* clicks per customer and CTR (Σ clicks ÷ Σ impressions, a ratio metric) with Δ ≥ 0.
* NPS and CSAT (share of 4-5 on 1-5): each customer's first answer after assignment.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir

from afterclick.kpis._common import epoch_s

DAY = 86_400
RETURN_WINDOWS = (7, 30, 90)
ACTIVE_WEEKS = 8
VALUE_DAYS = 90


def data_end(tables: dict[str, ir.Table]) -> float | None:
    """The latest event or order time (epoch seconds): the data's end, against which windows
    are eligible. One small aggregate per table, executed here."""
    ends = []
    for name in ("events", "transactions"):
        if name in tables:
            v = epoch_s(tables[name].ts).max().execute()
            if v is not None and not math.isnan(v):
                ends.append(float(v))
    return max(ends) if ends else None


def _assigned(tables: dict[str, ir.Table]) -> ir.Table:
    a = tables["assignments"]
    return a.select(a.experiment_id, a.customer_id, a.variant, a_s=epoch_s(a.ts))


def arm_counts(tables: dict[str, ir.Table]) -> ir.Table:
    """Assigned customers per (experiment_id, variant), with the first and last assignment."""
    a = tables["assignments"]
    return a.group_by(["experiment_id", "variant"]).aggregate(
        n=a.count(), first_s=epoch_s(a.ts).min(), last_s=epoch_s(a.ts).max())


def _per_customer(a: ir.Table, facts: ir.Table, metrics: dict) -> ir.Table:
    """Left-join per-customer aggregates of ``facts`` (joined on customer with its Δ) onto ``a``."""
    rest = [facts[c] for c in facts.columns if c != "customer_id"]
    j = a.join(facts, a.customer_id == facts.customer_id).select(
        a.experiment_id, a.customer_id, *rest, d=facts.f_s - a.a_s)
    per = j.group_by(["experiment_id", "customer_id"]).aggregate(**metrics(j))
    out = a.left_join(per, (a.experiment_id == per.experiment_id)
                      & (a.customer_id == per.customer_id))
    return out.select(a.experiment_id, a.customer_id, a.variant, a.a_s,
                      *[per[c] for c in metrics(j)])


def event_sums(tables: dict[str, ir.Table], end: float) -> ir.Table:
    """Return windows, active weeks, clicks and impressions, summed per arm."""
    e = tables["events"]
    facts = e.select(e.customer_id, e.event, f_s=epoch_s(e.ts))

    def metrics(j: ir.Table) -> dict:
        visit = (j.event != "impression") & (j.d > 0)
        return {
            "ret_s": ibis.ifelse(visit, j.d, None).min(),
            "weeks": ibis.ifelse(visit & (j.d < ACTIVE_WEEKS * 7 * DAY), (j.d // (7 * DAY)).cast("int64"),
                                 None).nunique(),
            "clicks": ((j.event == "click") & (j.d >= 0)).cast("int64").sum(),
            "impressions": ((j.event == "impression") & (j.d >= 0)).cast("int64").sum(),
        }

    c = _per_customer(_assigned(tables), facts, metrics)
    age = end - c.a_s
    clicks, imps = c.clicks.fill_null(0), c.impressions.fill_null(0)
    weeks = c.weeks.fill_null(0)
    weeks_ok = (age >= ACTIVE_WEEKS * 7 * DAY).cast("int64")
    aggs = {"n_all": c.count(), "clicks_sum": clicks.sum(), "clicks_ss": (clicks * clicks).sum(),
            "imps_sum": imps.sum(), "imps_ss": (imps * imps).sum(),
            "ci_cross": (clicks * imps).sum(), "weeks_n": weeks_ok.sum(),
            "weeks_sum": (weeks * weeks_ok).sum(), "weeks_ss": (weeks * weeks * weeks_ok).sum()}
    for w in RETURN_WINDOWS:
        ok = age >= w * DAY
        aggs[f"ret{w}_n"] = ok.cast("int64").sum()
        aggs[f"ret{w}_k"] = (ok & c.ret_s.notnull() & (c.ret_s <= w * DAY)).cast("int64").sum()
    return c.group_by(["experiment_id", "variant"]).aggregate(**aggs)


def order_sums(tables: dict[str, ir.Table], end: float) -> ir.Table:
    """Repeat purchase and revenue within 90 days, summed per arm (eligible customers only)."""
    t = tables["transactions"]
    facts = t.select(t.customer_id, t.amount, f_s=epoch_s(t.ts))

    def metrics(j: ir.Table) -> dict:
        inside = (j.d >= 0) & (j.d < VALUE_DAYS * DAY)
        return {"orders": (inside & (j.amount > 0)).cast("int64").sum(),
                "revenue": ibis.ifelse(inside, j.amount, 0.0).sum()}

    c = _per_customer(_assigned(tables), facts, metrics)
    ok = (end - c.a_s) >= VALUE_DAYS * DAY
    rev = ibis.ifelse(ok, c.revenue.fill_null(0.0), 0.0)
    return c.group_by(["experiment_id", "variant"]).aggregate(
        value_n=ok.cast("int64").sum(),
        repeat_k=(ok & (c.orders.fill_null(0) >= 2)).cast("int64").sum(),
        rev_sum=rev.sum(), rev_ss=(rev * rev).sum())


def survey_sums(tables: dict[str, ir.Table]) -> ir.Table:
    """NPS categories and CSAT satisfied among customers who answered after assignment."""
    r = tables["responses"]
    r = r.filter(r.survey.isin(["nps", "csat"]) & r.score.notnull())
    a = _assigned(tables)
    j = a.join(r, a.customer_id == r.customer_id).select(
        a.experiment_id, a.customer_id, a.variant, r.survey, r.score, d=epoch_s(r.ts) - a.a_s)
    j = j.filter(j.d >= 0)
    first = j.group_by(["experiment_id", "customer_id", "variant", "survey"]).aggregate(
        score=j.score.argmin(j.d))
    nps, csat = first.survey == "nps", first.survey == "csat"

    def count(cond: ir.BooleanValue) -> ir.IntegerScalar:
        return cond.cast("int64").sum()

    return first.group_by(["experiment_id", "variant"]).aggregate(
        promoters=count(nps & (first.score >= 9)),
        passives=count(nps & (first.score >= 7) & (first.score < 9)),
        detractors=count(nps & (first.score < 7)),
        csat_n=count(csat), csat_k=count(csat & (first.score >= 4)))
