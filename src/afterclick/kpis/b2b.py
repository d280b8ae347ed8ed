"""B2B leads: what they became over a year, and the hand-off from marketing to sales.

Reads ``lead_status`` (one row per status a lead reached: inquiry, mql, sal, sql, rejected,
recycled; the demand waterfall) and ``deals``. A **lead** enters on its first status row; its
campaign and owner are those its rows name (the first alphabetically where rows differ), its
account the one its rows name, else its person's ``customers.account_id``. An **opportunity** of a
lead is a deal of its account, or naming its person as ``primary_contact_id``, created at or after
the moment measured from; a **won deal** is such a deal with outcome ``won``, won when it closed.
Outcomes are followed to the data's end (``as_of``: midnight after the latest lead status or deal
date, or the review's end where that comes first), and a lead counts in a window's denominator only
when it is old enough for the window. Leads are those entering in the review period.

The hand-off from marketing to sales is in ``b2b_handoff``; pipeline, account engagement and
revenue retention in ``b2b_accounts``.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from afterclick.core.periods import SECONDS_PER_DAY
from afterclick.kpis._common import as_utc, epoch_s, in_period, period_index, safe_ratio
from afterclick.kpis.base import (
    ABSENT,
    Analysis,
    Computation,
    FinishFn,
    Params,
    Tables,
    block,
    explain_missing,
    kpi,
)
from afterclick.results import Direction, Family, Unit

# What a missing B2B table means, in the words the skipped KPIs give.
ABSENT.update({
    "lead_status": "no lead history in this store",
    "deals": "no deals in this store",
    "subscriptions": "no subscriptions in this store",
    "accounts": "no accounts table in this store",
})

#: Days after a lead enters at which its outcome is read.
WINDOWS = (30, 90, 180, 365)
#: A lead without an opportunity in this many days "was not ready".
NOT_READY_DAYS = 90
DAY_S = float(SECONDS_PER_DAY)


def with_interval(k: str, n: str | tuple[str, ...], where: tuple[str, Any] | None = None,
                  missing: str | None = None) -> FinishFn:
    """A ``finish`` giving a share's 95% Wilson interval from the breakdown's counts: ``k`` over
    ``n`` (one column, or several summed), summed over the rows whose column ``where[0]`` equals
    ``where[1]`` (all rows without ``where``); with ``missing``, says why there is no value when
    there is none (``afterclick.analysis.b2b.wilson``)."""
    finish = Analysis("afterclick.analysis.b2b:wilson", (("k", k), ("n", n), ("where", where)))
    return explain_missing(missing, finish) if missing else finish


def days_between(later: ir.TimestampValue, earlier: ir.TimestampValue) -> ir.FloatingValue:
    """Days from ``earlier`` to ``later`` (fractional, microseconds kept)."""
    return (epoch_s(later) - epoch_s(earlier)) / DAY_S


@block
def as_of(t: Tables, p: Params) -> ir.Table:
    """One row, ``as_of``: midnight after the latest lead status or deal date (created or closed),
    or the review's end where that comes first; outcomes are followed up to it."""

    parts = [t["lead_status"].select("ts")] if "lead_status" in t else []
    if "deals" in t:
        d = t["deals"]
        parts += [d.select(ts=d.created_at), d.filter(d.closed_at.notnull()).select(ts=d.closed_at)]
    rows = parts[0]
    for more in parts[1:]:
        rows = rows.union(more, distinct=False)
    b = rows.aggregate(last_ts=rows.ts.max())
    end = b.last_ts.truncate("D") + ibis.interval(days=1)
    if p.end is not None:
        stop = as_utc(p.end).tz_localize(None).to_pydatetime()
        end = ibis.least(end, ibis.literal(stop, type="timestamp"))
    return b.select(as_of=end)


@block
def leads(t: Tables, p: Params) -> ir.Table:
    """One row per lead entering in the review period: lead_id, customer_id, account_id,
    campaign_id ("(none)" when unnamed), owner ("(none)"), entered, mql_ts (NULL: never an MQL),
    rejected_ts and reason (of its first rejection), age_days (to ``as_of``)."""

    ls = t["lead_status"]
    rej = ls.status == "rejected"
    g = ls.group_by("lead_id").aggregate(
        customer_id=ls.customer_id.min(), lead_account=ls.account_id.max(),
        campaign_id=ls.campaign_id.min(), owner=ls.owner.min(), entered=ls.ts.min(),
        mql_ts=ls.ts.min(where=ls.status == "mql"), rejected_ts=ls.ts.min(where=rej),
    )
    # the reason given with the first rejection (the first alphabetically if two share its time)
    r = ls.filter(rej).select(rid="lead_id", rts="ts", reason=ls.reason)
    reasons = r.group_by(["rid", "rts"]).aggregate(reason=r.reason.min())
    g = g.left_join(reasons, [g.lead_id == reasons.rid, g.rejected_ts == reasons.rts]).select(
        g, reason=reasons.reason.fill_null("(no reason given)"))
    if "customers" in t:
        cu = t["customers"].select(cid="customer_id", person_account="account_id")
        g = g.left_join(cu, g.customer_id == cu.cid).select(
            g, account_id=g.lead_account.fill_null(cu.person_account))
    else:
        g = g.mutate(account_id=g.lead_account)
    g = in_period(g, p, "entered").cross_join(as_of(t, p))
    return g.select(
        "lead_id", "customer_id", "account_id", "entered", "mql_ts", "rejected_ts", "reason",
        campaign_id=g.campaign_id.fill_null("(none)"), owner=g.owner.fill_null("(none)"),
        age_days=days_between(g.as_of, g.entered), as_of=g.as_of,
    )


def deals_after(t: Tables, p: Params, anchors: ir.Table) -> ir.Table:
    """``anchors`` (lead_id, customer_id, account_id, at) with first_deal and first_won: the
    first deal of the lead's account or person created at or after ``at``, and the first such
    deal won (when it closed), before ``as_of``; NULL when none."""
    d = t["deals"].cross_join(as_of(t, p))
    d = d.filter(d.created_at < d.as_of)
    won_at = d.closed_at.fill_null(d.created_at)
    dd = d.select(d_account=d.account_id, d_contact=d.primary_contact_id, created=d.created_at,
                  won_at=ibis.ifelse((d.outcome == "won") & (won_at < d.as_of), won_at, ibis.null()))
    a = anchors.select(aid="lead_id", a_customer="customer_id", a_account="account_id", a_at="at")
    by_account = a.join(dd, a.a_account == dd.d_account).select("aid", "a_at", "created", "won_at")
    by_person = a.join(dd, a.a_customer == dd.d_contact).select("aid", "a_at", "created", "won_at")
    m = by_account.union(by_person, distinct=False)
    m = m.filter(m.created >= m.a_at)
    first = m.group_by("aid").aggregate(first_deal=m.created.min(), first_won=m.won_at.min())
    return anchors.left_join(first, anchors.lead_id == first.aid).select(anchors, first.first_deal, first.first_won)


@block
def lead_outcomes(t: Tables, p: Params) -> ir.Table:
    """Per lead: :func:`leads` with days_to_deal and days_to_won from entry (NULL: none yet)."""

    lead = leads(t, p)
    if "deals" not in t:
        return lead.mutate(days_to_deal=ibis.null().cast("float64"), days_to_won=ibis.null().cast("float64"))
    j = deals_after(t, p, lead.mutate(at=lead.entered))
    return j.mutate(days_to_deal=days_between(j.first_deal, j.entered),
                    days_to_won=days_between(j.first_won, j.entered)).drop("at", "first_deal", "first_won")


def _active_months(t: Tables) -> ir.Table:
    """(kind, holder, idx) of months with recurring revenue (mrr > 0) of an account or a person."""
    s = t["subscriptions"]
    s = s.filter(s.mrr > 0)
    kind = ibis.ifelse(s.account_id.notnull(), "account", "person")
    return s.select(kind=kind, holder=s.account_id.fill_null(s.customer_id.cast("string")),
                    idx=period_index(s.month, "month")).distinct()


@block
def lead_windows(t: Tables, p: Params) -> ir.Table:
    """One row per lead and window (``WINDOWS`` days): campaign_id, window, eligible (old enough),
    deal and won (reached within the window), active (recurring revenue of its account or person
    in the month the window ends; NULL without subscriptions)."""

    lo = lead_outcomes(t, p)
    parts = []
    for w in WINDOWS:
        parts.append(lo.select(
            "lead_id", "customer_id", "account_id", "campaign_id",
            window=ibis.literal(w, type="int64"), eligible=lo.age_days >= w,
            deal=(lo.days_to_deal <= w).fill_null(False), won=(lo.days_to_won <= w).fill_null(False),
            end_idx=period_index(lo.entered + ibis.interval(days=w), "month"),
        ))
    lw = parts[0]
    for more in parts[1:]:
        lw = lw.union(more, distinct=False)
    if "subscriptions" not in t:
        return lw.mutate(active=ibis.null().cast("boolean")).drop("end_idx")
    act = _active_months(t)
    hit = []
    for kind, col in (("account", "account_id"), ("person", "customer_id")):
        a = act.filter(act.kind == kind)
        hit.append(lw.join(a, [a.holder == lw[col].cast("string"), a.idx == lw.end_idx]).select(
            hid="lead_id", hw="window"))
    hits = hit[0].union(hit[1], distinct=True)
    out = lw.left_join(hits, [lw.lead_id == hits.hid, lw.window == hits.hw])
    return out.select(lw, active=hits.hid.notnull()).drop("end_idx")


def _window_rows(t: Tables, p: Params) -> ir.Table:
    """Per campaign and window: eligible leads, with an opportunity, won, active; and the shares."""
    lw = lead_windows(t, p)
    e = lw.filter(lw.eligible)
    r = e.group_by(["campaign_id", "window"]).aggregate(
        leads=e.count(), opportunity=e.deal.cast("int64").sum(), won=e.won.cast("int64").sum(),
        active=e.active.cast("int64").sum(),
    )
    return r.mutate(opportunity_share=safe_ratio(r.opportunity, r.leads), won_share=safe_ratio(r.won, r.leads),
                    active_share=safe_ratio(r.active, r.leads))


def _window_share(t: Tables, p: Params, column: str, window: int) -> ir.Scalar:
    lw = lead_windows(t, p)
    e = lw.filter(lw.eligible & (lw.window == window))
    return safe_ratio(e[column].cast("int64").sum(), e.count())


def _too_young(window: int) -> str:
    return (f"No value: no lead entered at least {window} days before the data's end, so none is old "
            f"enough to read at {window} days (the rows show the shorter windows).")


#: The breakdown column counting each outcome of ``lead_windows``.
_OUTCOME_COLUMN = {"deal": "opportunity", "won": "won", "active": "active"}


def _window_computation(t: Tables, p: Params, outcome: str, window: int) -> Computation:
    """The share of leads old enough for ``window`` with ``outcome`` by then, rows per campaign
    and window, and its interval."""
    return Computation(value=_window_share(t, p, outcome, window), rows=_window_rows(t, p),
                       needs=(_has_leads(t, p),), order_by=("campaign_id", "window"),
                       finish=with_interval(_OUTCOME_COLUMN[outcome], "leads", ("window", window),
                                            _too_young(window)))


def lead_kpi(id: str, name: str, unit: Unit = Unit.FRACTION, direction: Direction = Direction.HIGHER,
              requires: tuple[str, ...] = ("lead_status", "deals"), uses: tuple[str, ...] = ("customers",), **kw):
    return kpi(id, name=name, family=Family.B2B, unit=unit, direction=direction, requires=requires,
               uses=uses, timed_by=("lead_status",), **kw)


_NO_LEADS = "no lead entered in the review period"


def _has_leads(t: Tables, p: Params) -> tuple[ir.Scalar, str]:
    return leads(t, p).count(), _NO_LEADS


@lead_kpi("b2b.lead_to_opportunity", "Leads reaching an opportunity within 90 days")
def lead_to_opportunity(t: Tables, p: Params) -> Computation:
    """Opportunity rate at 90 days = leads with an opportunity (a deal of their account or person)
    created within 90 days of entering / leads at least 90 days old.

    Rows per source campaign and window (30, 90, 180 and 365 days): leads old enough for the
    window, how many reached an opportunity, a won deal and (with subscriptions) an active
    relationship by then, and the shares; the demand-waterfall stages counted over a year rather
    than a quarter.
    """
    return _window_computation(t, p, "deal", NOT_READY_DAYS)


@lead_kpi("b2b.lead_to_won", "Leads won within a year")
def lead_to_won(t: Tables, p: Params) -> Computation:
    """Won rate at 365 days = leads with a won deal (of their account or person, created after the
    lead entered and won within 365 days of it) / leads at least 365 days old.

    Rows as for ``b2b.lead_to_opportunity``: per source campaign and window (30 to 365 days).
    """
    return _window_computation(t, p, "won", 365)


@lead_kpi("b2b.lead_to_relationship", "Leads in an active relationship a year on",
           requires=("lead_status", "subscriptions"), uses=("customers", "deals"))
def lead_to_relationship(t: Tables, p: Params) -> Computation:
    """Relationship rate at 365 days = leads whose account (or person) pays recurring revenue
    (``subscriptions.mrr`` > 0) in the month 365 days after the lead entered / leads at least
    365 days old.

    A state, not a first time: a customer who churned before the year is out does not count.
    Rows per source campaign and window (30 to 365 days), with opportunities and won deals where
    deals are stored.
    """
    return _window_computation(t, p, "active", 365)


@lead_kpi("b2b.late_converters", "Leads not ready at 90 days that converted later")
def late_converters(t: Tables, p: Params) -> Computation:
    """Late conversion = leads with no opportunity in their first 90 days that reached one later
    (before the data's end) / leads at least 90 days old without one in their first 90 days.

    The leads a quarter-bound report writes off. Rows per source campaign: leads not ready at
    90 days, how many reached an opportunity and a won deal later, the median days to that
    opportunity, and the late opportunities' share of all the campaign's opportunities.
    """
    lo = lead_outcomes(t, p)
    old = lo.filter(lo.age_days >= NOT_READY_DAYS)
    late = ~(old.days_to_deal <= NOT_READY_DAYS).fill_null(False)
    nr = old.mutate(not_ready=late, later=late & old.days_to_deal.notnull(),
                    later_won=late & old.days_to_won.notnull())
    rows = nr.group_by("campaign_id").aggregate(
        leads=nr.count(), not_ready=nr.not_ready.cast("int64").sum(),
        converted_later=nr.later.cast("int64").sum(), won_later=nr.later_won.cast("int64").sum(),
        opportunities=nr.days_to_deal.notnull().cast("int64").sum(),
        median_days_to_late_opportunity=ibis.ifelse(nr.later, nr.days_to_deal, ibis.null()).median(),
    )
    rows = rows.mutate(late_share=safe_ratio(rows.converted_later, rows.not_ready),
                       late_share_of_opportunities=safe_ratio(rows.converted_later, rows.opportunities))
    value = safe_ratio(nr.later.cast("int64").sum(), nr.not_ready.cast("int64").sum())
    return Computation(value=value, rows=rows, needs=(_has_leads(t, p),), order_by=("campaign_id",),
                       finish=with_interval("converted_later", "not_ready", missing=_too_young(NOT_READY_DAYS)))
