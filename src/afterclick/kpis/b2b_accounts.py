"""B2B pipeline, account engagement and recurring-revenue retention (SaaS Capital's NRR and GRR).

Pipeline KPIs read the ``deals`` created in the review period, per source campaign
(``source_campaign_id``, "(none)" when unnamed): a deal is won or lost once ``outcome`` says so,
open before. Account engagement reads the people of each account (``customers.account_id``) and
their active events. Retention reads ``subscriptions``: the recurring revenue of an account (or of
a person, where the row names no account) per month.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.kpis._common import (
    activity,
    in_period,
    period_index,
    safe_ratio,
    sessions,
)
from afterclick.kpis.b2b import days_between, with_interval
from afterclick.kpis.base import Analysis, Computation, Params, Tables, block, explain_missing, kpi
from afterclick.results import Direction, Family, Unit

#: Net and gross revenue retention compare a month with the same month a year before.
RETENTION_MONTHS = 12


# ------------------------------------------------------------------------------ pipeline


@block
def pipeline(t: Tables, p: Params) -> ir.Table:
    """Per source campaign, over the deals created in the review period: opportunities, pipeline
    (their amounts), won, lost, open, won_amount, win_rate, average_deal (mean amount of the won
    deals), cycle_days (mean days from creation to close of the won deals) and velocity."""

    d = in_period(t["deals"], p, "created_at")
    won, lost = d.outcome == "won", d.outcome == "lost"
    d = d.mutate(campaign_id=d.source_campaign_id.fill_null("(none)"), won=won.fill_null(False),
                 lost=lost.fill_null(False), cycle=days_between(d.closed_at, d.created_at))
    r = d.group_by("campaign_id").aggregate(
        opportunities=d.count(), pipeline=d.amount.sum().fill_null(0.0),
        won=d.won.cast("int64").sum(), lost=d.lost.cast("int64").sum(),
        won_amount=d.amount.sum(where=d.won).fill_null(0.0),
        average_deal=d.amount.mean(where=d.won), cycle_days=d.cycle.mean(where=d.won),
        **_velocity_sums(d),
    )
    return _velocity(r.mutate(open=r.opportunities - r.won - r.lost))


def _velocity_sums(d: ir.Table) -> dict[str, ir.Value]:
    """The sums the velocity interval reads (``b2b_intervals.VELOCITY_SUMS``), over the won deals
    with both an amount and a close date."""
    m = d.won & d.amount.notnull() & d.cycle.notnull()
    amount, cycle = d.amount.cast("float64"), d.cycle
    return {"won_measured": m.cast("int64").sum(), "won_amount_sum": amount.sum(where=m).fill_null(0.0),
                "won_amount_ss": (amount * amount).sum(where=m).fill_null(0.0),
                "cycle_sum": cycle.sum(where=m).fill_null(0.0), "cycle_ss": (cycle * cycle).sum(where=m).fill_null(0.0),
                "amount_cycle": (amount * cycle).sum(where=m).fill_null(0.0)}


def _velocity(r: ir.Table) -> ir.Table:
    """win_rate = won / (won + lost); velocity = opportunities × average deal × win rate ÷ cycle days."""
    r = r.mutate(win_rate=safe_ratio(r.won, r.won + r.lost))
    return r.mutate(velocity=ibis.ifelse(r.cycle_days > 0, r.opportunities * r.average_deal * r.win_rate / r.cycle_days,
                                         ibis.null()))


def _totals(t: Tables, p: Params) -> ir.Table:
    """:func:`pipeline` over every campaign at once (one row)."""
    d = in_period(t["deals"], p, "created_at")
    won, lost = (d.outcome == "won").fill_null(False), (d.outcome == "lost").fill_null(False)
    r = d.aggregate(opportunities=d.count(), won=won.cast("int64").sum(), lost=lost.cast("int64").sum(),
                    sourced=d.amount.sum(where=d.source_campaign_id.notnull()).fill_null(0.0),
                    average_deal=d.amount.mean(where=won),
                    cycle_days=days_between(d.closed_at, d.created_at).mean(where=won))
    return _velocity(r)


def _deal_kpi(id: str, name: str, unit: Unit, direction: Direction = Direction.HIGHER, **kw):
    return kpi(id, name=name, family=Family.B2B, unit=unit, direction=direction, requires=("deals",), **kw)


def _has_deals(t: Tables, p: Params) -> tuple[ir.Scalar, str]:
    return in_period(t["deals"], p, "created_at").count(), "no deal was created in the review period"


def _deal_computation(t: Tables, p: Params, column: str, why: str, finish=None) -> Computation:
    return Computation(value=_totals(t, p)[column].max(), rows=pipeline(t, p), needs=(_has_deals(t, p),),
                       order_by=("-pipeline", "campaign_id"),
                       finish=Analysis("afterclick.analysis.b2b_intervals:pipeline",
                                       (("column", column), ("then", finish or explain_missing(why)))))


@_deal_kpi("b2b.pipeline_sourced", "Pipeline sourced by campaigns", Unit.CURRENCY)
def pipeline_sourced(t: Tables, p: Params) -> Computation:
    """Sourced pipeline = the amounts of the deals created in the period that name a source campaign.

    Rows per source campaign (deals without one as "(none)"): opportunities, pipeline, won,
    lost, open, won amount, win rate, average won deal, sales cycle and pipeline velocity.
    """
    return _deal_computation(t, p, "sourced", "No value: no deal names its source campaign.")


@_deal_kpi("b2b.win_rate", "Win rate", Unit.FRACTION)
def win_rate(t: Tables, p: Params) -> Computation:
    """Win rate = deals won / deals closed (won or lost), of the deals created in the period.

    Open deals do not count. Rows per source campaign, as for ``b2b.pipeline_sourced``.
    """
    why = "No value: none of the period's deals is closed yet."
    return _deal_computation(t, p, "win_rate", why, with_interval("won", ("won", "lost"), missing=why))


@_deal_kpi("b2b.sales_cycle", "Sales-cycle length (won deals, mean)", Unit.DAYS, Direction.LOWER)
def sales_cycle(t: Tables, p: Params) -> Computation:
    """Sales cycle = mean days from a deal's creation to its close, over the won deals created in
    the period (the cycle pipeline velocity divides by).

    Rows per source campaign, as for ``b2b.pipeline_sourced``.
    """
    return _deal_computation(t, p, "cycle_days", "No value: no deal of the period was won with a close date.")


@_deal_kpi("b2b.pipeline_velocity", "Pipeline velocity (revenue per day)", Unit.CURRENCY)
def pipeline_velocity(t: Tables, p: Params) -> Computation:
    """Pipeline velocity = opportunities × average deal × win rate ÷ sales-cycle days.

    Over the deals created in the period: opportunities = deals, average deal = mean amount of
    the won ones, win rate = won / closed, cycle = mean days to close of the won ones (50 × 10,000
    × 20 % ÷ 30 = 3,333.33 a day). Rows per source campaign with each factor. The 95% interval
    (headline and per campaign) combines the win rate's binomial error with the delta-method error
    of won amount per cycle day, on the log scale (``b2b_intervals``).
    """
    return _deal_computation(t, p, "velocity", "No value: needs won deals with a close date and amount.")


# ------------------------------------------------------------------------------ accounts


@block
def account_activity(t: Tables, p: Params) -> ir.Table:
    """Per account with people in ``customers``: contacts, active_contacts (an active event in
    the period), active_days and visit_days (days any of them was active, or visited), engaged_s
    (the length of their sessions, as ``_common.sessions`` measures them)."""

    cu = t["customers"]
    people = cu.filter(cu.account_id.notnull()).select("customer_id", "account_id")
    known = people.group_by("account_id").aggregate(contacts=people.count())
    a = activity(t, p)
    j = a.join(people, "customer_id")
    act = j.group_by(aid=j.account_id).aggregate(
        active_contacts=j.customer_id.nunique(), active_days=j.day.nunique(),
        visit_days=j.day.nunique(where=j.visits > 0),
    )
    s = sessions(t, p)
    sj = s.join(people, "customer_id")
    time = sj.group_by(tid=sj.account_id).aggregate(engaged_s=sj.duration_s.sum())
    r = known.left_join(act, known.account_id == act.aid).select(
        known.account_id, known.contacts, active_contacts=act.active_contacts.fill_null(0),
        active_days=act.active_days.fill_null(0), visit_days=act.visit_days.fill_null(0))
    r = r.left_join(time, r.account_id == time.tid).select(r, engaged_s=time.engaged_s.fill_null(0.0))
    r = r.mutate(active_share=safe_ratio(r.active_contacts, r.contacts))
    if "accounts" in t:
        ac = t["accounts"].select(acc="account_id", name="name", size_band="size_band")
        r = r.left_join(ac, r.account_id == ac.acc).drop("acc")
    return r


def _account_kpi(id: str, name: str, unit: Unit, **kw):
    return kpi(id, name=name, family=Family.B2B, unit=unit, direction=Direction.HIGHER,
               requires=("events", "customers"), uses=("accounts",), **kw)


def _has_accounts(t: Tables) -> tuple[ir.Scalar, str]:
    cu = t["customers"]
    return cu.account_id.count(), "no customer names an account (customers.account_id)"


@_account_kpi("b2b.buying_committee", "Active contacts per engaged account", Unit.RATIO)
def buying_committee(t: Tables, p: Params) -> Computation:
    """Buying-committee breadth = mean active contacts per account with any, in the period.

    People belong to an account through ``customers.account_id``; active: any event but an
    impression. Rows per account (with its name and size band where ``accounts`` is stored):
    contacts known, active contacts and their share, active days and visit days.
    """
    r = account_activity(t, p)
    e = r.filter(r.active_contacts > 0)
    return Computation(value=e.active_contacts.mean(), rows=r, needs=(_has_accounts(t),),
                       order_by=("-active_contacts", "account_id"))


@_account_kpi("b2b.account_return_visits", "Accounts that came back", Unit.FRACTION)
def account_return_visits(t: Tables, p: Params) -> Computation:
    """Returning accounts = accounts whose people visited on two days or more / accounts with a visit.

    Visits of every contact of the account count together (two colleagues on two days is a
    return). Rows per account, as for ``b2b.buying_committee``, with return visits (visit days
    after the first).
    """
    r = account_activity(t, p)
    r = r.mutate(return_visits=ibis.greatest(r.visit_days - 1, 0))
    v = r.filter(r.visit_days > 0)
    value = safe_ratio((v.visit_days >= 2).cast("int64").sum(), v.count())
    return Computation(value=value, rows=r, needs=(_has_accounts(t),), order_by=("-visit_days", "account_id"))


@_account_kpi("b2b.account_engaged_time", "Engaged time per active account (median)", Unit.SECONDS)
def account_engaged_time(t: Tables, p: Params) -> Computation:
    """Engaged time per account = the median, over accounts with an active contact in the period,
    of the summed session lengths of all their contacts, in seconds.

    Sessions as in ``trust.session_duration_median`` (the source's ``session_id`` or a 30-minute
    gap; a session's length is its measured ``duration_s``, else first to last event). Rows per
    account, as for ``b2b.buying_committee``.
    """
    r = account_activity(t, p)
    e = r.filter(r.active_contacts > 0)
    return Computation(value=e.engaged_s.median(), rows=r, needs=(_has_accounts(t),),
                       order_by=("-engaged_s", "account_id"))


# ------------------------------------------------------------------------------ revenue retention


@block
def holder_months(t: Tables, p: Params) -> ir.Table:
    """Recurring revenue per holder (an account, or a person without one) and month before the
    review's end: kind, holder, idx, month, mrr; cohort (year of the holder's first paid month)."""

    s = t["subscriptions"]
    if p.end is not None:
        s = s.filter(s.month < p.end)
    s = s.mutate(kind=ibis.ifelse(s.account_id.notnull(), "account", "person"),
                 holder=s.account_id.fill_null(s.customer_id.cast("string")), month=s.month.truncate("M"))
    hm = s.group_by(["kind", "holder", "month"]).aggregate(mrr=s.mrr.sum())
    hm = hm.mutate(idx=period_index(hm.month, "month"))
    paid = hm.filter(hm.mrr > 0)
    first = paid.group_by(fk="kind", fh="holder").aggregate(cohort=paid.month.min().year().cast("int64"))
    return hm.left_join(first, [hm.kind == first.fk, hm.holder == first.fh]).drop("fk", "fh")


def retention_base(t: Tables, p: Params) -> ir.Table:
    """Per holder paying 12 months before the latest month: kind, holder, cohort, size_band,
    month (the latest), month_before, before (MRR then), now (MRR in the latest month, 0 when gone)."""
    hm = holder_months(t, p)
    last = hm.aggregate(last_idx=hm.idx.max(), now_month=hm.month.max())
    base = hm.cross_join(last)
    base = base.filter((base.idx == base.last_idx - RETENTION_MONTHS) & (base.mrr > 0))
    now = hm.select(nk="kind", nh="holder", nidx="idx", now="mrr")
    j = base.left_join(now, [base.kind == now.nk, base.holder == now.nh, base.last_idx == now.nidx])
    j = j.select(base.kind, base.holder, base.cohort, month=base.now_month, month_before=base.month, before=base.mrr,
                 now=j.now.fill_null(0.0))
    if "accounts" in t:
        ac = t["accounts"].select(acc="account_id", band="size_band")
        j = j.left_join(ac, (j.kind == "account") & (j.holder == ac.acc)).select(
            j, size_band=ibis.ifelse(j.kind == "person", "(person)", ac.band.fill_null("(none)")))
    else:
        j = j.mutate(size_band=ibis.ifelse(j.kind == "person", "(person)", "(none)"))
    return j


@block
def retention_rows(t: Tables, p: Params) -> ir.Table:
    """NRR, GRR and logo retention of the latest month over all holders, per cohort and per size band."""

    b = retention_base(t, p)
    b = b.mutate(kept=ibis.least(b.now, b.before), stayed=(b.now > 0).cast("int64"))
    cuts = (("all", ibis.literal("all")), ("cohort", b.cohort.cast("string")), ("size band", b.size_band))
    parts = [b.group_by(breakdown=ibis.literal(name), group=key, month=b.month, month_before=b.month_before).aggregate(
        customers=b.count(), retained=b.stayed.sum(), mrr_before=b.before.sum(),
        mrr_now=b.now.sum(), mrr_kept=b.kept.sum(), ss_before=(b.before * b.before).sum(),
        ss_now=(b.now * b.now).sum(), ss_kept=(b.kept * b.kept).sum(), s_now_before=(b.now * b.before).sum(),
        s_kept_before=(b.kept * b.before).sum()) for name, key in cuts]
    r = parts[0].union(parts[1], distinct=False).union(parts[2], distinct=False)
    return r.mutate(nrr=safe_ratio(r.mrr_now, r.mrr_before), grr=safe_ratio(r.mrr_kept, r.mrr_before),
                    logo_retention=safe_ratio(r.retained, r.customers))


_NO_BASE = (f"No value: nobody paid recurring revenue {RETENTION_MONTHS} months before the latest month "
            "of the subscriptions (needs more than a year of them).")


def _retention(t: Tables, p: Params, column: str, finish=None) -> Computation:
    r = retention_rows(t, p)
    value = r.filter(r.breakdown == "all")[column].max()
    s = t["subscriptions"]
    return Computation(value=value, rows=r, needs=((s.count(), "no subscriptions in this store"),),
                       order_by=("breakdown", "group"),
                       finish=Analysis("afterclick.analysis.b2b_intervals:retention",
                                       (("column", column), ("then", finish or explain_missing(_NO_BASE)))))


def _retention_kpi(id: str, name: str):
    return kpi(id, name=name, family=Family.B2B, unit=Unit.FRACTION, direction=Direction.HIGHER,
               requires=("subscriptions",), uses=("accounts",))


@_retention_kpi("b2b.nrr", "Net revenue retention (12 months)")
def nrr(t: Tables, p: Params) -> Computation:
    """NRR = this month's MRR from customers who paid 12 months before / their MRR then
    (SaaS Capital: "MRR this December from customers who were customers last December ÷ total MRR
    last December"; expansion, cross-sell and price rises count).

    This month is the latest month of the subscriptions; a customer is an account, or a person
    where the row names no account. Rows: all, per cohort (year of the first paid month) and per
    size band (from ``accounts``), with customers, MRR before and now, NRR, GRR and logo retention,
    and the 95% intervals of NRR and GRR (delta method over customers, ``b2b_intervals``).
    """
    return _retention(t, p, "nrr")


@_retention_kpi("b2b.grr", "Gross revenue retention (12 months)")
def grr(t: Tables, p: Params) -> Computation:
    """GRR = Σ min(MRR now, MRR 12 months before) / Σ MRR 12 months before, over customers who
    paid 12 months before (SaaS Capital: NRR without expansion; churn and downgrades count).

    Rows as for ``b2b.nrr``.
    """
    return _retention(t, p, "grr")


@_retention_kpi("b2b.logo_retention", "Logo retention (12 months)")
def logo_retention(t: Tables, p: Params) -> Computation:
    """Logo retention = customers paying 12 months before who still pay this month / customers
    paying 12 months before.

    Rows as for ``b2b.nrr``.
    """
    return _retention(t, p, "logo_retention",
                      with_interval("retained", "customers", ("breakdown", "all"), _NO_BASE))
