"""B2B: awareness as a long-term goal, and the commitment ladder per account.

Awareness reads ``events`` as they are: there is no anonymous visitor id and no referrer or UTM
column, so

- a **visitor** is a ``customer_id`` with an active event (anything but an impression); a **new
  visitor** is one whose first active event ever falls in the review period;
- a **direct** visit is a ``visit`` whose ``channel`` is ``direct``; a **branded** one has a
  channel of branded search (``BRANDED_CHANNELS``); visits with no channel are not counted either
  way (the export did not say where they came from);
- a visitor is **anonymous** until they first appear in ``lead_status`` (a form filled, a lead
  created: the moment marketing learns who they are) and **known** from then; an
  anonymous-to-known conversion is a new visitor who became a lead within 90 days of their first
  visit (of those first seen 90 days before the data's end), and a **returning** one came back on
  another day before becoming known.

The account ladder takes, each month, the highest rung (``kpis.ladder``) any contact of the account
(``customers.account_id``) stands on.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.kpis._common import (
    activity,
    day_index,
    epoch_s,
    first_touch,
    in_last_complete_period,
    in_period,
    safe_ratio,
)
from afterclick.kpis.b2b import DAY_S, as_of
from afterclick.kpis.base import Computation, Params, Tables, block, kpi
from afterclick.kpis.ladder import STAGES, customer_stages
from afterclick.results import Direction, Family, Unit

DIRECT_CHANNELS = ("direct",)
BRANDED_CHANNELS = ("branded_search", "brand_search", "branded")
#: A new visitor who becomes a lead within this many days of the first visit converted.
KNOWN_DAYS = 90


@block
def _first_seen(t: Tables, p: Params) -> ir.Table:
    """Per visitor first active in the review period (ever): customer_id, first_ts, month,
    known_ts (first lead status, NULL: none), anonymous (not known at the first visit), known
    (anonymous, then known within ``KNOWN_DAYS``), returned (anonymous, active on a later day before
    becoming known), eligible (first seen ``KNOWN_DAYS`` before the data's end)."""

    # every active day and every visitor's first and last ever: the shared blocks over all time
    # (the same blocks as the KPIs' when the review period is the whole data), a row per
    # customer-day instead of one per event
    ever = p.with_(start=None, end=None)
    days, ft = activity(t, ever), first_touch(t, ever)
    first = ft.select("customer_id", "first_ts", "days", first_day=day_index(ft.first_ts))
    # the data's end: as the lead KPIs read it where leads are stored, else the last active event
    end = (as_of(t, p).select(data_end="as_of") if "lead_status" in t
           else ft.aggregate(data_end=ft.last_ts.max()))
    f = in_period(first, p, "first_ts").cross_join(end)
    if "lead_status" in t:
        ls = t["lead_status"]
        k = ls.group_by(kid="customer_id").aggregate(known_ts=ls.ts.min())
        f = f.left_join(k, f.customer_id == k.kid).drop("kid")
    else:
        f = f.mutate(known_ts=ibis.null().cast("timestamp"))
    # people known before their first visit were never anonymous visitors
    f = f.mutate(anonymous=f.known_ts.isnull() | (f.known_ts >= f.first_ts))
    # back on a later day before becoming known: never known, any second active day; known, an
    # active day after the first whose first event came before it
    who = f.filter(f.known_ts.notnull() & (f.days > 1))
    who = who.select(bid="customer_id", b_first="first_day", b_known="known_ts")
    back = days.join(who, days.customer_id == who.bid)
    back = back.filter((back.day > back.b_first) & (back.first_ts < back.b_known))
    returned = back.select(rid=back.bid).distinct()
    f = f.left_join(returned, f.customer_id == returned.rid)
    again = f.rid.notnull() | (f.known_ts.isnull() & (f.days > 1))
    f = f.select(f.customer_id, f.first_ts, f.known_ts, f.anonymous, returned=again & f.anonymous,
                 month=f.first_ts.truncate("M"),
                 eligible=(epoch_s(f.data_end) - epoch_s(f.first_ts)) >= KNOWN_DAYS * DAY_S)
    soon = (epoch_s(f.known_ts) - epoch_s(f.first_ts)) <= KNOWN_DAYS * DAY_S
    return f.mutate(known=(f.anonymous & soon).fill_null(False))


def _visits(t: Tables, p: Params) -> ir.Table:
    """Per month of the period: visits, visits with a channel, direct and branded visits."""
    ev = in_period(t["events"], p)
    v = ev.filter(ev.event == "visit")
    # counted per channel and day first: a few thousand rows to read the channels and months of
    v = v.group_by("channel", day=v.ts.date()).aggregate(n=v.count())
    ch = v.channel.lower()

    def visits(which: ir.BooleanValue) -> ir.IntegerValue:
        return ibis.ifelse(which.fill_null(False), v.n, 0).sum()

    return v.group_by(month=v.day.truncate("M").cast("timestamp")).aggregate(
        visits=v.n.sum(), visits_with_channel=visits(v.channel.notnull()),
        direct=visits(ch.isin(DIRECT_CHANNELS)), branded=visits(ch.isin(BRANDED_CHANNELS)))


@block
def awareness_rows(t: Tables, p: Params) -> ir.Table:
    """Per month: new visitors, of them anonymous ones, those anonymous and old enough to read at
    90 days (eligible), returned before known, known within 90 days; visits, direct and branded visits and their share of the visits
    with a channel."""

    f = _first_seen(t, p)
    n = f.group_by(m="month").aggregate(
        new_visitors=f.count(), anonymous=f.anonymous.cast("int64").sum(),
        eligible=(f.eligible & f.anonymous).cast("int64").sum(),
        returned=f.returned.cast("int64").sum(where=f.eligible).fill_null(0),
        became_known=(f.known & f.eligible).cast("int64").sum())
    v = _visits(t, p)
    j = v.outer_join(n, v.month == n.m)
    j = j.select(month=j.month.fill_null(j.m), new_visitors=j.new_visitors.fill_null(0),
                 anonymous=j.anonymous.fill_null(0),
                 eligible=j.eligible.fill_null(0), returned=j.returned.fill_null(0),
                 became_known=j.became_known.fill_null(0), visits=j.visits.fill_null(0),
                 visits_with_channel=j.visits_with_channel.fill_null(0), direct=j.direct.fill_null(0),
                 branded=j.branded.fill_null(0))
    return j.mutate(known_share=safe_ratio(j.became_known, j.eligible),
                    direct_branded_share=safe_ratio(j.direct + j.branded, j.visits_with_channel))


def _awareness_kpi(id: str, name: str, unit: Unit, requires=("events",), uses=("lead_status",)):
    return kpi(id, name=name, family=Family.B2B, unit=unit, direction=Direction.HIGHER, requires=requires,
               uses=uses)


_NO_VISITORS = "nobody was active for the first time in the review period"


@_awareness_kpi("b2b.new_visitors", "New visitors", Unit.COUNT)
def new_visitors(t: Tables, p: Params) -> Computation:
    """New visitors = people whose first active event ever (anything but an impression) falls in
    the review period.

    Awareness as a long-term goal: how many people the brand reaches for the first time. Rows per
    month: new visitors, visits, direct and branded visits and their share, and how many of the new
    visitors became known (a lead) within 90 days (see ``b2b.anonymous_to_known``).
    """
    f = _first_seen(t, p)
    return Computation(value=f.count(), rows=awareness_rows(t, p), order_by=("month",),
                       needs=((f.count(), _NO_VISITORS),))


@_awareness_kpi("b2b.direct_branded_share", "Direct and branded share of visits", Unit.FRACTION)
def direct_branded_share(t: Tables, p: Params) -> Computation:
    """Direct and branded share = visits whose channel is direct or branded search / visits whose
    channel is recorded, in the period.

    People who come straight to the brand, or search for it by name, know it already: a share
    that grows is awareness growing. Channels counted as branded: branded_search, brand_search,
    branded. Visits without a channel are left out of both sides. Rows per month, as for
    ``b2b.new_visitors``.
    """
    r = awareness_rows(t, p)
    value = safe_ratio((r.direct + r.branded).sum(), r.visits_with_channel.sum())
    return Computation(value=value, rows=r, order_by=("month",),
                       needs=((r.visits_with_channel.sum(), "no visit in the review period names its channel"),))


@_awareness_kpi("b2b.anonymous_to_known", "New visitors who became known within 90 days", Unit.FRACTION,
                requires=("events", "lead_status"), uses=())
def anonymous_to_known(t: Tables, p: Params) -> Computation:
    """Anonymous-to-known rate = new visitors of the period who became a lead (their first
    ``lead_status`` row) within 90 days of their first visit / new visitors first seen at least
    90 days before the data's end.

    People already a lead before their first visit are left out (they were never anonymous). Rows
    per month of first visit, as for ``b2b.new_visitors``: those old enough, how many returned
    on another day before becoming known, and how many became known.
    """
    f = _first_seen(t, p)
    e = f.filter(f.eligible & f.anonymous)
    value = safe_ratio(e.known.cast("int64").sum(), e.count())
    return Computation(value=value, rows=awareness_rows(t, p), order_by=("month",),
                       needs=((f.count(), _NO_VISITORS),))


# ------------------------------------------------------------------------------ account ladder


def account_ladder_rows(t: Tables, p: Params) -> ir.Table:
    """Per month and rung: idx, period, stage, rank, accounts (whose highest contact stands
    there), share of the month's accounts on the ladder."""
    cs = customer_stages(t, p)
    cu = t["customers"]
    cu = cu.filter(cu.account_id.notnull()).select(pid="customer_id", account_id="account_id")
    j = cs.join(cu, cs.customer_id == cu.pid)
    top = j.group_by(["account_id", "idx", "period"]).aggregate(rank=j["rank"].max())
    c = top.group_by(["idx", "period", "rank"]).aggregate(accounts=top.count())
    c = c.mutate(stage=ibis.cases(*[(c["rank"] == i, s) for i, s in enumerate(STAGES)]))
    tot = c.group_by(tidx="idx").aggregate(total=c.accounts.sum())
    c = c.join(tot, c.idx == tot.tidx).drop("tidx")
    return c.mutate(share=safe_ratio(c.accounts, c.total))


@kpi("b2b.account_ladder", name="Accounts trusting or above", family=Family.B2B, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("events", "customers"), span="last_complete_month")
def account_ladder(t: Tables, p: Params) -> Computation:
    """Share of accounts at trusting or above = accounts whose highest contact stands on the
    trusting, loyal or advocate rung / accounts with a contact on the ladder, last complete month.

    An account stands each month on the highest rung (``ladder.commitment_ladder``'s rules over a
    trailing three months) any of its contacts (``customers.account_id``) reaches. Rows per month
    and rung: accounts and their share of the month's accounts.
    """
    rows = account_ladder_rows(t, p)
    latest = in_last_complete_period(rows, t, p, "month")
    value = safe_ratio(ibis.ifelse(latest["rank"] >= 2, latest.accounts, 0).sum(), latest.total.max())
    cu = t["customers"]
    return Computation(value=value, rows=rows.select("period", "stage", "rank", "accounts", "share"),
                       order_by=("period", "rank"), finish=lambda v, r: (v, r.drop(columns="rank")),
                       needs=((cu.account_id.count(), "no customer names an account (customers.account_id)"),))
