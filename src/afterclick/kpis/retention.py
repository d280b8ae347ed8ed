"""Retention: are people coming back?

"Active" means any event except an impression: a person did something. Cohorts are first-touch
cohorts: the period of a customer's first active event.
"""

from __future__ import annotations

import ibis

from afterclick.kpis._common import (
    activity,
    any_activity,
    customer_periods,
    data_bounds,
    epoch_s,
    first_touch,
    in_last_complete_period,
    integers,
    last_complete_period,
    period_index,
    purchases,
    safe_ratio,
)
from afterclick.kpis.base import Computation, Params, Tables, block, explain_missing, kpi, measure
from afterclick.results import Direction, Family, MeasureKind, Unit

#: Which period the cohort headline reads: week 4 for weekly cohorts, month 3 for monthly.
HEADLINE_PERIOD = {"week": 4, "month": 3}


def cohort_matrix(t: Tables, p: Params, grain: str):
    """Rows: cohort, period, cohort_size, active_on, active_on_or_after and the two rates."""
    rows = _cohort_rows(t, p, grain)  # a block: the headline reads the same matrix
    k = HEADLINE_PERIOD[grain]
    at_k = rows.filter(rows.period == k)
    value = safe_ratio(at_k.active_on.sum(), at_k.cohort_size.sum())
    why = (f"No cohort is {k} complete {grain}s old yet: {grain}-{k} retention needs more history.")
    return Computation(value=value, rows=rows, order_by=("cohort", "period"), finish=explain_missing(why),
                       needs=(any_activity(t, p),))


@block
def _cohort_rows(t: Tables, p: Params, grain: str):
    cp = customer_periods(t, p, grain)
    first = cp.group_by("customer_id").aggregate(c_idx=cp.idx.min(), last_idx=cp.idx.max())
    cohorts = cp.join(first, "customer_id").select(
        "customer_id", "c_idx", "last_idx", "idx", "period"
    )
    starts = cohorts.filter(cohorts.idx == cohorts.c_idx).select(
        "c_idx", cohort=cohorts.period
    ).distinct()
    act = cohorts.mutate(k=cohorts.idx - cohorts.c_idx)
    on = act.group_by(["c_idx", "k"]).aggregate(active_on=act.customer_id.nunique())
    sizes = first.group_by("c_idx").aggregate(cohort_size=first.customer_id.count())
    reach_ = first.mutate(span=first.last_idx - first.c_idx).group_by(["c_idx", "span"]).aggregate(
        n=first.customer_id.count()
    )
    # only complete periods: one that runs past the data's last day is still filling up
    end_idx = last_complete_period(t, p, grain)
    ks = integers(t, p, p.max_periods + 1)
    grid = sizes.cross_join(ks).cross_join(end_idx)
    grid = grid.filter(grid.c_idx + grid.k <= grid.last_idx)
    after = grid.join(reach_, [grid.c_idx == reach_.c_idx, reach_.span >= grid.k]).group_by(
        [grid.c_idx, grid.k]
    ).aggregate(active_on_or_after=reach_.n.sum())
    m = (
        grid.left_join(on, ["c_idx", "k"])
        .select(grid.c_idx, grid.k, grid.cohort_size, active_on=on.active_on.fill_null(0))
    )
    m = m.left_join(after, ["c_idx", "k"]).select(
        m.c_idx, m.k, m.cohort_size, m.active_on,
        active_on_or_after=after.active_on_or_after.fill_null(0),
    )
    m = m.join(starts, "c_idx")
    rows = m.select(
        cohort=m.cohort,
        period=m.k,
        cohort_size=m.cohort_size,
        active_on=m.active_on,
        active_on_or_after=m.active_on_or_after,
        retention_on=safe_ratio(m.active_on, m.cohort_size),
        retention_on_or_after=safe_ratio(m.active_on_or_after, m.cohort_size),
    )
    return rows


@kpi("retention.cohort_weekly", name="Week-4 retention (weekly cohorts)", family=Family.RETENTION,
     unit=Unit.FRACTION, direction=Direction.HIGHER)
def cohort_weekly(t: Tables, p: Params) -> Computation:
    """First-touch weekly cohort retention, "on" and "on or after".

    Cohort = the Monday week of a customer's first active event. For week k after it:
    retention_on = customers active in week k / cohort size; retention_on_or_after = customers
    active in week k or later / cohort size. Only complete weeks are shown (not the one holding
    the latest event). Headline: week-4 "on" retention pooled over the cohorts that reached it.
    """
    return cohort_matrix(t, p, "week")


@kpi("retention.cohort_monthly", name="Month-3 retention (monthly cohorts)", family=Family.RETENTION,
     unit=Unit.FRACTION, direction=Direction.HIGHER)
def cohort_monthly(t: Tables, p: Params) -> Computation:
    """First-touch monthly cohort retention, "on" and "on or after".

    Cohort = the calendar month of a customer's first active event. For month k after it:
    retention_on = active in month k / cohort size; retention_on_or_after = active in month k or
    later / cohort size. Only complete months are shown. Headline: month-3 "on" retention pooled
    over the cohorts that reached it.
    """
    return cohort_matrix(t, p, "month")


@block
def lifecycle_counts(t: Tables, p: Params):
    """Per period: new, returning, resurrecting, dormant counts and the quick ratio."""
    return _lifecycle_counts(t, p)


def _lifecycle_counts(t: Tables, p: Params):
    cp = customer_periods(t, p)
    w = ibis.window(group_by=cp.customer_id, order_by=cp.idx)
    cp = cp.mutate(prev=cp.idx.lag().over(w), nxt=cp.idx.lead().over(w))
    state = (
        ibis.cases(
            (cp.prev.isnull(), "new"),
            (cp.prev == cp.idx - 1, "returning"),
            else_="resurrecting",
        )
    )
    cp = cp.mutate(state=state)
    active = cp.group_by("idx").aggregate(
        new=(cp.state == "new").sum(),
        returning=(cp.state == "returning").sum(),
        resurrecting=(cp.state == "resurrecting").sum(),
    )
    # Dormant in period i+1: active in i, not active in i+1.
    gone = cp.filter(cp.nxt.isnull() | (cp.nxt > cp.idx + 1))
    step = ibis.interval(weeks=1) if p.grain == "week" else ibis.interval(months=1)
    gone = gone.mutate(idx=gone.idx + 1, period=gone.period + step)
    dormant = gone.group_by("idx").aggregate(dormant=gone.customer_id.count())
    # periods with activity, and those where someone went dormant (possibly nobody active)
    periods = cp.select("idx", "period").union(gone.select("idx", "period"), distinct=True)
    b = data_bounds(t, p)
    last = b.select(max_idx=period_index(b.data_end, p.grain))
    rows = (
        periods.left_join(active, "idx")
        .select(periods.idx, periods.period, active.new, active.returning, active.resurrecting)
    )
    rows = rows.left_join(dormant, "idx").select(
        rows.idx, rows.period,
        new=rows.new.fill_null(0), returning=rows.returning.fill_null(0),
        resurrecting=rows.resurrecting.fill_null(0), dormant=dormant.dormant.fill_null(0),
    )
    rows = rows.cross_join(last).filter(lambda r: r.idx <= r.max_idx).drop("max_idx")
    return rows.mutate(quick_ratio=safe_ratio(rows.new + rows.resurrecting, rows.dormant))


@kpi("retention.lifecycle", name="Lifecycle quick ratio", family=Family.RETENTION, unit=Unit.RATIO,
     direction=Direction.HIGHER, span="last_complete")
def lifecycle(t: Tables, p: Params) -> Computation:
    """Lifecycle per period: new, returning, resurrecting, dormant; quick ratio.

    For each period (week by default): new = first active this period; returning = active this
    and the previous period; resurrecting = active this period, not the previous, not new;
    dormant = active the previous period but not this one. Quick ratio = (new + resurrecting) /
    dormant (> 1: the active base grows). Headline: the last complete period.
    """
    rows = lifecycle_counts(t, p)
    value = in_last_complete_period(rows, t, p).quick_ratio.max()
    return Computation(value=value, rows=rows.drop("idx"), order_by=("period",))


@kpi("retention.returning_share", name="Returning share of active customers", family=Family.RETENTION,
     unit=Unit.FRACTION, direction=Direction.HIGHER, span="last_complete")
def returning_share(t: Tables, p: Params) -> Computation:
    """Returning share = (returning + resurrecting) / all active customers, per period.

    The share of a period's active customers who had been active before. Headline: the last
    complete period (week by default).
    """
    lc = lifecycle_counts(t, p)
    rows = lc.select(
        "idx", "period",
        active=lc.new + lc.returning + lc.resurrecting,
        returning_share=safe_ratio(lc.returning + lc.resurrecting, lc.new + lc.returning + lc.resurrecting),
    )
    value = in_last_complete_period(rows, t, p).returning_share.max()
    return Computation(value=value, rows=rows.drop("idx"), order_by=("period",), finish=explain_missing(
        f"Nobody was active in the last complete {p.grain}, or there is no complete {p.grain} yet."))


@kpi("retention.repeat_visit_rate", name="Repeat-visit rate", family=Family.RETENTION,
     unit=Unit.FRACTION, direction=Direction.HIGHER)
def repeat_visit_rate(t: Tables, p: Params) -> Computation:
    """Repeat-visit rate = visitors with ``visit`` events on 2+ distinct UTC days / all visitors.

    Visitors are customers with at least one ``visit`` event. Rows: visitors by number of
    distinct visit days (1, 2, 3, 4, 5+).
    """
    ft = first_touch(t, p)
    per = ft.filter(ft.visit_days > 0).select("customer_id", days=ft.visit_days)
    value = safe_ratio((per.days >= 2).sum(), per.count())
    bucket = ibis.ifelse(per.days >= 5, "5+", per.days.cast("string"))
    rows = per.group_by(visit_days=bucket).aggregate(visitors=per.count())
    return Computation(value=value, rows=rows, order_by=("visit_days",))


@measure("retention.repeat_visit_rate", MeasureKind.PROPORTION)
def _repeat_visitors(t: Tables, p: Params):
    """Per visitor: x = 1 with visit events on 2+ distinct UTC days."""
    ft = first_touch(t, p)
    per = ft.filter(ft.visit_days > 0)
    return per.select("customer_id", x=(per.visit_days >= 2).cast("int64"))


@kpi("retention.churn_rate", name="Churn (lapsed customers)", family=Family.RETENTION,
     unit=Unit.FRACTION, direction=Direction.LOWER)
def churn_rate(t: Tables, p: Params) -> Computation:
    """Churn = customers with no activity in the last ``churn_days`` (90) / customers at risk.

    At risk: customers whose first active event is at least ``churn_days`` before the latest
    event in the data (so everyone counted had the chance to lapse). Rows per first-touch month.
    """
    per = first_touch(t, p).cross_join(data_bounds(t, p))
    end_s = epoch_s(per.data_end)
    horizon = p.churn_days * 86400
    per = per.filter(end_s - epoch_s(per.first_ts) >= horizon)
    lapsed = ((end_s - epoch_s(per.last_ts)) > horizon).cast("int64")
    per = per.mutate(lapsed=lapsed, cohort=per.first_ts.truncate("M"))
    rows = per.group_by("cohort").aggregate(at_risk=per.count(), lapsed=per.lapsed.sum())
    rows = rows.mutate(churn_rate=safe_ratio(rows.lapsed, rows.at_risk))
    why = (f"Nobody was first active {p.churn_days} days or more before the latest event yet: churn "
           "needs more history.")
    return Computation(value=safe_ratio(per.lapsed.sum(), per.count()), rows=rows, order_by=("cohort",),
                       finish=explain_missing(why), needs=(any_activity(t, p),))


@block
def _stickiness_rows(t: Tables, p: Params):
    a = activity(t, p)
    month_of_day = a.select("customer_id", "day", idx=period_index(a.day_ts, "month"),
                            month=a.day_ts.truncate("M"))
    per_month = month_of_day.group_by(["idx", "month"]).aggregate(
        customer_days=month_of_day.count(),
        days=month_of_day.day.nunique(),
        mau=month_of_day.customer_id.nunique(),
    )
    rows = per_month.mutate(dau=per_month.customer_days.cast("float64") / per_month.days)
    return rows.mutate(stickiness=safe_ratio(rows.dau, rows.mau))


@kpi("retention.stickiness", name="Stickiness (DAU/MAU)", family=Family.RETENTION, unit=Unit.FRACTION,
     direction=Direction.HIGHER, span="last_complete_month")
def stickiness(t: Tables, p: Params) -> Computation:
    """Stickiness = average daily active customers / monthly active customers, per month.

    DAU averaged over the month's days that have any activity; MAU = distinct active customers in
    the calendar month. 1/30 ≈ people come once a month; 1 = every day. Headline: the last
    complete month.
    """
    rows = _stickiness_rows(t, p)  # a block: the headline reads it too
    value = in_last_complete_period(rows, t, p, "month").stickiness.max()
    return Computation(
        value=value, rows=rows.select("month", "dau", "mau", "stickiness"), order_by=("month",)
    )


@block
def _active_weeks(t: Tables, p: Params):
    a = activity(t, p)
    per = a.group_by(["customer_id", a.day_ts.truncate("W").name("week")]).aggregate(days=a.count())
    return per.group_by("week").aggregate(
        active_customers=per.count(), active_days=per.days.mean(), customer_days=per.days.sum()
    )


@kpi("retention.active_days_per_week", name="Active days per active week", family=Family.RETENTION,
     unit=Unit.RATIO, direction=Direction.HIGHER)
def active_days_per_week(t: Tables, p: Params) -> Computation:
    """Active days per week = mean distinct active days over customer-weeks with any activity.

    1 = people drop in once a week; 7 = daily habit. Rows per week.
    """
    w = _active_weeks(t, p)  # a block: the headline reads it too
    value = safe_ratio(w.customer_days.sum(), w.active_customers.sum())
    return Computation(value=value, rows=w.drop("customer_days"), order_by=("week",))


@kpi("retention.engaged_non_buyers", name="Engaged non-buyers", family=Family.RETENTION, unit=Unit.COUNT,
     direction=Direction.HIGHER, requires=("events", "transactions"))
def engaged_non_buyers(t: Tables, p: Params) -> Computation:
    """Engaged non-buyers: customers with a deep interaction (save, share, download, signup…) or
    active on 2+ distinct days, who have not bought (in the review period).

    Relationships that revenue alone does not show. Rows: engaged customers split by buyer /
    non-buyer, with the share.
    """
    per = first_touch(t, p)
    engaged = per.filter((per.deep > 0) | (per.days >= 2))
    tx = purchases(t, p)
    buyers = tx.select("customer_id").distinct().mutate(bought=ibis.literal(1))
    j = engaged.left_join(buyers, "customer_id").select(
        engaged.customer_id, is_buyer=buyers.bought.notnull()
    )
    rows = j.group_by(group=ibis.ifelse(j.is_buyer, "engaged buyers", "engaged non-buyers")).aggregate(
        customers=j.count()
    )
    total = rows.customers.sum().as_scalar()
    rows = rows.mutate(share=rows.customers.cast("float64") / total)
    return Computation(value=(~j.is_buyer).sum(), rows=rows, order_by=("group",))
