"""B2B: the hand-off from marketing to sales, and what sales-rejected leads did next.

Leads, opportunities and the data's end as in ``b2b``. An MQL is a lead with an ``mql`` status;
sales **touch** it with its first sal, sql or rejected status at or after the MQL, or with the
first deal of its account or person created since then, whichever comes first.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.kpis._common import safe_ratio
from afterclick.kpis.b2b import (
    DAY_S,
    NOT_READY_DAYS,
    as_of,
    days_between,
    deals_after,
    lead_kpi,
    lead_outcomes,
    leads,
    with_interval,
)
from afterclick.kpis.base import (
    Analysis,
    Computation,
    Params,
    Skip,
    Tables,
    block,
    explain_missing,
)
from afterclick.results import Direction, Unit

#: A lead not followed up within this many days of becoming an MQL was left waiting.
FOLLOW_UP_DAYS = 7
#: Statuses that show sales acting on a lead (accepting, qualifying or rejecting it).
TOUCH_STATUSES = ("sal", "sql", "rejected")
#: Follow-up speed bands: (label, upper bound in days, inclusive); None: any later touch.
SPEED_BANDS = (("within 1 day", 1), ("1 to 7 days", FOLLOW_UP_DAYS), ("after 7 days", None))
NOT_FOLLOWED = "not followed up"


@block
def follow_ups(t: Tables, p: Params) -> ir.Table:
    """Per lead that became an MQL: :func:`leads` with follow_up_days (MQL to the first sales
    touch: a sal, sql or rejected status, or an opportunity, at or after the MQL; NULL: none yet)
    and days_to_deal from the MQL."""

    lead = leads(t, p)
    m = lead.filter(lead.mql_ts.notnull())
    ls = t["lead_status"]
    tl = ls.filter(ls.status.isin(TOUCH_STATUSES)).select(tid="lead_id", tts="ts")
    tj = m.join(tl, m.lead_id == tl.tid).filter(lambda r: r.tts >= r.mql_ts)
    touch = tj.group_by("tid").aggregate(status_touch=tj.tts.min())
    m = m.left_join(touch, m.lead_id == touch.tid).select(m, touch.status_touch)
    if "deals" in t:
        m = deals_after(t, p, m.mutate(at=m.mql_ts)).drop("at")
    else:
        m = m.mutate(first_deal=ibis.null().cast("timestamp"), first_won=ibis.null().cast("timestamp"))
    first = ibis.least(m.status_touch.fill_null(m.first_deal), m.first_deal.fill_null(m.status_touch))
    return m.mutate(follow_up_days=days_between(first, m.mql_ts), days_to_deal=days_between(m.first_deal, m.mql_ts),
                    mql_age_days=days_between(m.as_of, m.mql_ts))


_NO_MQL = "no lead in the review period became an MQL (status mql)"


def _has_mqls(t: Tables, p: Params) -> tuple[ir.Scalar, str]:
    return follow_ups(t, p).count(), _NO_MQL


@lead_kpi("b2b.follow_up_time", "Time from MQL to first sales touch (median)", Unit.SECONDS,
           Direction.LOWER, requires=("lead_status",), uses=("customers", "deals"))
def follow_up_time(t: Tables, p: Params) -> Computation:
    """Median time from a lead becoming an MQL to sales' first touch, in seconds.

    A touch is the first sal, sql or rejected status at or after the MQL, or the first deal of
    the lead's account or person created since then, whichever comes first. Only followed-up
    leads count (``b2b.untouched_leads`` says how many were not). Rows per lead owner: MQLs,
    followed up, median and 90th percentile.
    """
    f = follow_ups(t, p)
    a = f.filter(f.follow_up_days.notnull())
    secs = a.follow_up_days * DAY_S
    rows = f.group_by("owner").aggregate(
        mqls=f.count(), followed_up=f.follow_up_days.notnull().cast("int64").sum(),
        median_s=(f.follow_up_days * DAY_S).median(), p90_s=(f.follow_up_days * DAY_S).quantile(0.9),
    )
    return Computation(value=secs.median(), rows=rows, needs=(_has_mqls(t, p),), order_by=("owner",))


@lead_kpi("b2b.untouched_leads", "MQLs not followed up within 7 days", Unit.FRACTION, Direction.LOWER,
           requires=("lead_status",), uses=("customers", "deals"))
def untouched_leads(t: Tables, p: Params) -> Computation:
    """Untouched share = MQLs with no sales touch within 7 days / MQLs at least 7 days old.

    A touch as in ``b2b.follow_up_time`` (a sal, sql or rejected status, or an opportunity).
    Rows per lead owner: MQLs old enough, untouched, and the share.
    """
    f = follow_ups(t, p)
    e = f.filter(f.mql_age_days >= FOLLOW_UP_DAYS)
    e = e.mutate(untouched=~(e.follow_up_days <= FOLLOW_UP_DAYS).fill_null(False))
    rows = e.group_by("owner").aggregate(mqls=e.count(), untouched=e.untouched.cast("int64").sum())
    rows = rows.mutate(untouched_share=safe_ratio(rows.untouched, rows.mqls))
    value = safe_ratio(e.untouched.cast("int64").sum(), e.count())
    return Computation(value=value, rows=rows, needs=(_has_mqls(t, p),), order_by=("owner",),
                       finish=with_interval("untouched", "mqls", missing=f"No value: no MQL is {FOLLOW_UP_DAYS} days old yet."))


@lead_kpi("b2b.conversion_by_follow_up", "Conversion of leads left a week, relative to those followed up",
           Unit.RATIO, Direction.NEUTRAL)
def conversion_by_follow_up(t: Tables, p: Params) -> Computation:
    """Relative conversion = opportunity rate of MQLs not followed up within 7 days / that of
    MQLs followed up within 7 days (opportunity within 90 days of the MQL; MQLs at least 90 days old).

    0.5: leads left waiting a week convert at half the rate. An association, not cause: sales
    may follow the promising leads first. Rows per follow-up speed (within 1 day, 1 to 7 days,
    after 7 days, not followed up): MQLs, opportunities and the opportunity rate. The 95% interval
    is Katz's log interval for a ratio of two proportions (statsmodels).
    """
    f = follow_ups(t, p)
    e = f.filter(f.mql_age_days >= NOT_READY_DAYS)
    fd = e.follow_up_days
    band = ibis.cases(*((fd <= hi, label) for label, hi in SPEED_BANDS if hi is not None),
                      (fd.notnull(), SPEED_BANDS[-1][0]), else_=NOT_FOLLOWED)
    order = ibis.cases(*((band == label, i) for i, (label, _) in enumerate(SPEED_BANDS)), else_=len(SPEED_BANDS))
    e = e.mutate(speed=band, speed_order=order, fast=(fd <= FOLLOW_UP_DAYS).fill_null(False),
                 converted=(e.days_to_deal <= NOT_READY_DAYS).fill_null(False))
    rows = e.group_by(["speed_order", "speed"]).aggregate(mqls=e.count(), opportunities=e.converted.cast("int64").sum())
    rows = rows.mutate(opportunity_rate=safe_ratio(rows.opportunities, rows.mqls))
    conv = e.converted.cast("int64")
    fast_rate = safe_ratio(conv.sum(where=e.fast), e.fast.cast("int64").sum())
    slow_rate = safe_ratio(conv.sum(where=~e.fast), (~e.fast).cast("int64").sum())
    value = ibis.ifelse(fast_rate == 0, ibis.null(), slow_rate / fast_rate)
    return Computation(value=value, rows=rows, needs=(_has_mqls(t, p),), order_by=("speed_order",),
                       finish=_ratio_interval(explain_missing("No value: needs MQLs at least 90 days old both "
                                                              "followed up within 7 days (with some converting) "
                                                              "and not.")))


def _ratio_interval(then) -> Analysis:
    """``then``, with the 95% interval of the ratio of two independent proportions (Katz's log
    interval, ``afterclick.analysis.b2b.ratio_interval``) from the speed bands' counts."""
    return Analysis("afterclick.analysis.b2b:ratio_interval", (("then", then),))


#: Statuses by which sales accept a lead.
ACCEPTED_STATUSES = ("sal", "sql")


@lead_kpi("b2b.lead_funnel", "MQLs accepted by sales", uses=("customers", "deals"))
def lead_funnel(t: Tables, p: Params) -> Computation:
    """Acceptance rate = MQLs with a sal or sql status at or after the MQL / MQLs.

    The demand waterfall, followed to the data's end rather than a quarter. Rows per source
    campaign: leads, MQLs, accepted by sales (sal or sql after the MQL), sql, rejected, leads with
    an opportunity since they entered, and with a won deal (as in ``b2b.lead_to_won``).
    """
    lead = lead_outcomes(t, p)
    ls = t["lead_status"]
    m = lead.select("lead_id", "mql_ts")
    sl = ls.select(sid="lead_id", sts="ts", status="status")
    st = m.join(sl, m.lead_id == sl.sid)
    after = st.filter(st.mql_ts.notnull() & (st.sts >= st.mql_ts))
    flags = after.group_by(fid="lead_id").aggregate(
        accepted=after.status.isin(ACCEPTED_STATUSES).any(), reached_sql=(after.status == "sql").any())
    j = lead.left_join(flags, lead.lead_id == flags.fid).select(
        lead.campaign_id, mql=lead.mql_ts.notnull(), accepted=flags.accepted.fill_null(False),
        sql=flags.reached_sql.fill_null(False), rejected=lead.rejected_ts.notnull(),
        opportunity=lead.days_to_deal.notnull(), won=lead.days_to_won.notnull())
    n = {c: j[c].cast("int64").sum() for c in ("mql", "accepted", "sql", "rejected", "opportunity", "won")}
    rows = j.group_by("campaign_id").aggregate(leads=j.count(), mqls=n["mql"], accepted=n["accepted"], sql=n["sql"],
                                               rejected=n["rejected"], opportunity=n["opportunity"], won=n["won"])
    rows = rows.mutate(accepted_share=safe_ratio(rows.accepted, rows.mqls))
    return Computation(value=safe_ratio(n["accepted"], n["mql"]), rows=rows, order_by=("campaign_id",),
                       needs=(_has_mqls(t, p),), finish=with_interval("accepted", "mqls"))


#: Rejected leads are followed for a year: did they buy within it?
REJECTED_YEAR_DAYS = 365


def _after_rejection(t: Tables, p: Params, r: ir.Table, table: str, keep) -> ir.Table:
    """(lead_id, xts): rows of ``table`` (filtered by ``keep``) of the rejected lead's person,
    after its rejection and before the data's end."""
    x = t[table].cross_join(as_of(t, p))
    x = x.filter(keep(x) & (x.ts < x.as_of)).select(xc="customer_id", xts="ts")
    j = r.join(x, r.customer_id == x.xc).filter(lambda q: q.xts > q.rejected_ts)
    return j.select("lead_id", "xts")


def rejected_outcomes(t: Tables, p: Params) -> ir.Table:
    """Per lead of the period that sales rejected: lead_id, reason, age_days (from the first
    rejection to the data's end), first_buy (its first won deal or purchase after the rejection;
    NULL: none), engaged (an active event after it; NULL without events)."""
    lead = leads(t, p)
    r = lead.filter(lead.rejected_ts.notnull()).select("lead_id", "customer_id", "account_id", "reason",
                                                       "rejected_ts", "as_of")
    buys = []
    if "deals" in t:
        d = deals_after(t, p, r.mutate(at=r.rejected_ts))
        buys.append(d.filter(d.first_won.notnull()).select("lead_id", xts="first_won"))
    if "transactions" in t:
        buys.append(_after_rejection(t, p, r, "transactions", lambda x: x.amount > 0))
    b = buys[0] if len(buys) == 1 else buys[0].union(buys[1], distinct=False)
    first = b.group_by(bid="lead_id").aggregate(first_buy=b.xts.min())
    r = r.left_join(first, r.lead_id == first.bid).select(r, first.first_buy)
    if "events" in t:
        seen = _after_rejection(t, p, r, "events", lambda x: x.event != "impression").select(eid="lead_id").distinct()
        r = r.left_join(seen, r.lead_id == seen.eid).select(r, engaged=seen.eid.notnull())
    else:
        r = r.mutate(engaged=ibis.null().cast("boolean"))
    return r.mutate(age_days=days_between(r.as_of, r.rejected_ts))


@lead_kpi("b2b.rejected_leads", "Sales-rejected leads that bought within a year", requires=("lead_status",),
          uses=("customers", "deals", "transactions", "events"))
def rejected_leads(t: Tables, p: Params) -> Computation:
    """Bought anyway = rejected leads that bought within 365 days of the rejection (a won deal of
    their account or person created since, or a purchase of the person) / leads rejected at least
    365 days before the data's end.

    What rejected leads did next, per rejection reason (the ``reason`` of their first rejected
    status): rejected, engaged afterwards (an active event of the person since; with events),
    bought by the data's end, and, of those rejected a year ago or more, bought within the year.
    """
    if "deals" not in t and "transactions" not in t:
        raise Skip("no deals and no orders in this store: nothing says whether a rejected lead bought")
    r = rejected_outcomes(t, p)
    old = r.age_days >= REJECTED_YEAR_DAYS
    in_year = (old & (days_between(r.first_buy, r.rejected_ts) <= REJECTED_YEAR_DAYS)).fill_null(False)
    r = r.mutate(old=old, in_year=in_year)
    rows = r.group_by("reason").aggregate(
        rejected=r.count(), engaged=r.engaged.cast("int64").sum(), bought=r.first_buy.notnull().cast("int64").sum(),
        rejected_a_year_ago=r.old.cast("int64").sum(), bought_within_year=r.in_year.cast("int64").sum())
    rows = rows.mutate(engaged_share=safe_ratio(rows.engaged, rows.rejected),
                       bought_share=safe_ratio(rows.bought, rows.rejected),
                       bought_within_year_share=safe_ratio(rows.bought_within_year, rows.rejected_a_year_ago))
    value = safe_ratio(r.in_year.cast("int64").sum(), r.old.cast("int64").sum())
    return Computation(value=value, rows=rows, order_by=("-rejected", "reason"),
                       needs=((r.count(), "no lead in the review period was rejected by sales (status rejected)"),),
                       finish=with_interval("bought_within_year", "rejected_a_year_ago", missing=(
                           f"No value: no lead was rejected at least {REJECTED_YEAR_DAYS} days before the data's end "
                           "(the rows show what the later ones did so far).")))
