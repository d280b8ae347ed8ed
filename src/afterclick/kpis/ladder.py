"""The commitment ladder: where each customer stands, month by month, and how they move.

Stages, highest first; a customer takes the highest whose rule holds over the trailing window
(the month and the two before it, about 90 days):

- **advocate**: referred someone or shared (``referral``/``share`` events), or answered an NPS
  survey with 9–10 (when ``responses`` exist);
- **loyal**: has bought at least twice to date with a purchase in the window, or was active on
  10 or more distinct days in the window (a habit);
- **trusting**: a deep interaction (save, download, signup, subscribe, lead, review_read,
  tutorial_view) or a purchase in the window;
- **engaged**: any click, like, follow or visit in the window;
- **aware**: only impressions in the window.

Customers with no event at all in the window are not on the ladder that month. People who only
ever saw impressions are counted on the "aware" rung without a row each (there can be millions);
the per-customer stages, and so the movement between rungs, cover everyone who did more.
"""

from __future__ import annotations

import ibis

from afterclick.kpis._common import (
    EXPOSURE,
    activity,
    events,
    in_last_complete_period,
    in_period,
    period_index,
    safe_ratio,
)
from afterclick.kpis.base import Computation, Params, Tables, kpi
from afterclick.results import Direction, Family, Unit

STAGES = ("aware", "engaged", "trusting", "loyal", "advocate")
WINDOW_MONTHS = 3
HABIT_DAYS = 10


def customer_stages(t: Tables, p: Params):
    """One row per (customer, month on the ladder) for customers with any active event,
    transaction or survey answer in the window: customer_id, idx, period, stage, rank."""
    return t.shared(("ladder", p.start, p.end), lambda: _customer_stages(t, p))


def impression_months(t: Tables, p: Params):
    """Distinct (customer_id, m, period) months in which a customer saw an impression."""

    def build():
        ev = events(t, p)
        imp = ev.filter(ev.event.isin(EXPOSURE))
        return imp.select(customer_id=imp.customer_id, m=period_index(imp.ts, "month"),
                          period=imp.ts.truncate("M")).distinct()

    return t.shared(("impression_months", p.start, p.end), build)


def ladder_months(t: Tables, p: Params):
    """The months the ladder is drawn for: every month with any activity or impression."""
    a = activity(t, p)
    im = impression_months(t, p)
    return a.select(idx=period_index(a.day_ts, "month"), period=a.day_ts.truncate("M").cast("timestamp")).union(
        im.select(idx=im.m, period=im.period.cast("timestamp")), distinct=True
    )


def _customer_stages(t: Tables, p: Params):
    zero = ibis.literal(0).cast("int64")
    one = ibis.literal(1).cast("int64")
    a = activity(t, p)
    sig = a.select(
        customer_id=a.customer_id, m=period_index(a.day_ts, "month"),
        eng=a.engaged, deep=a.deep, adv=a.advocacy, buys=zero, days=one,
    )
    if "transactions" in t:
        tx = in_period(t["transactions"], p)
        sig = sig.union(tx.select(
            customer_id=tx.customer_id, m=period_index(tx.ts, "month"),
            eng=zero, deep=zero, adv=zero, buys=one, days=zero,
        ))
    if "responses" in t:
        r = in_period(t["responses"], p)
        r = r.filter((r.survey == "nps") & (r.score >= 9))
        sig = sig.union(r.select(
            customer_id=r.customer_id, m=period_index(r.ts, "month"),
            eng=zero, deep=zero, adv=one, buys=zero, days=zero,
        ))
    cm = sig.group_by(["customer_id", "m"]).aggregate(
        eng=sig.eng.sum(), deep=sig.deep.sum(), adv=sig.adv.sum(), buys=sig.buys.sum(),
        days=sig.days.sum(),
    )
    cm = cm.mutate(bought_to_date=cm.buys.sum().over(
        ibis.window(group_by=cm.customer_id, order_by=cm.m, rows=(None, 0))
    ))
    # each customer-month counts towards its own month and the next two: shifted copies and an
    # equi-join, cheaper and more portable than a range join
    shifted = cm.mutate(idx=cm.m)
    for shift in range(1, WINDOW_MONTHS):
        shifted = shifted.union(cm.mutate(idx=cm.m + shift))
    months = ladder_months(t, p)
    j = shifted.join(months, "idx")
    w = j.group_by([j.customer_id, j.idx, j.period]).aggregate(
        eng=j.eng.sum(), deep=j.deep.sum(), adv=j.adv.sum(), buys=j.buys.sum(),
        days=j.days.sum(), bought_to_date=j.bought_to_date.max(),
    )
    stage = ibis.cases(
        (w.adv > 0, "advocate"),
        (((w.bought_to_date >= 2) & (w.buys > 0)) | (w.days >= HABIT_DAYS), "loyal"),
        ((w.deep > 0) | (w.buys > 0), "trusting"),
        (w.eng > 0, "engaged"),
        else_="aware",
    )
    rank = ibis.cases(*[(stage == s, i) for i, s in enumerate(STAGES)])
    return w.select("customer_id", "idx", "period", stage=stage, rank=rank.cast("int64"))


def seen_only(t: Tables, p: Params):
    """Per month (idx, period, seen_only): see _seen_only."""
    return t.shared(("seen_only", p.start, p.end), lambda: _seen_only(t, p))


def _seen_only(t: Tables, p: Params):
    """Per month: people on the ladder only through impressions (no row in customer_stages).

    |seen in the window| − |seen in the window and active in it|. The first is counted without
    expanding each customer-month three times: a month m in which a customer saw an impression
    covers the months from m up to (not including) their next such month, at most
    WINDOW_MONTHS of them, so +1 at m and −1 at the end of that stretch, summed in month order,
    counts each person once.
    """
    im = impression_months(t, p)
    nxt = im.m.lead().over(ibis.window(group_by=im.customer_id, order_by=im.m))
    cover = ibis.ifelse(nxt.isnull() | (nxt - im.m > WINDOW_MONTHS), WINDOW_MONTHS, nxt - im.m)
    im2 = im.mutate(stop=im.m + cover)
    months = ladder_months(t, p)
    deltas = (
        im2.select(idx=im2.m, d=ibis.literal(1).cast("int64"))
        .union(im2.select(idx=im2.stop, d=ibis.literal(-1).cast("int64")))
        .union(months.select("idx", d=ibis.literal(0).cast("int64")))
    )
    per = deltas.group_by("idx").aggregate(d=deltas.d.sum())
    per = per.mutate(seen=per.d.sum().over(ibis.window(order_by=per.idx, rows=(None, 0))))
    cs = customer_stages(t, p)
    both = cs.join(im, [cs.customer_id == im.customer_id, im.m <= cs.idx, im.m > cs.idx - WINDOW_MONTHS])
    both = both.select(cs.customer_id, cs.idx).distinct()
    overlap = both.group_by("idx").aggregate(active_seen=both.count())
    out = per.join(months, "idx").left_join(overlap, "idx")
    return out.select(out.idx, out.period, seen_only=out.seen - out.active_seen.fill_null(0))


@kpi("ladder.commitment_ladder", name="Customers trusting or above", family=Family.LADDER,
     unit=Unit.FRACTION, direction=Direction.HIGHER, span="last_complete_month")
def commitment_ladder(t: Tables, p: Params) -> Computation:
    """Share of customers at trusting or above; each month, how many stand on each rung.

    Rungs over a trailing three-month window, highest rule first: advocate = referred someone or
    shared, or answered NPS 9–10; loyal = bought twice or more to date with a purchase in the
    window, or active on 10+ days in it; trusting = a deep interaction (save, download, signup,
    subscribe, lead, review_read, tutorial_view) or a purchase; engaged = a click, like, follow
    or visit; aware = only impressions. Rows: period, stage, customers, share of that month's
    ladder. Headline: the share at trusting or above in the last complete month.
    """
    cs = customer_stages(t, p)
    counts = cs.group_by(["idx", "stage", "rank"]).aggregate(customers=cs.count())
    extra = seen_only(t, p)
    # people who only saw impressions stand on the aware rung
    counts = counts.union(extra.select(
        "idx", stage=ibis.literal("aware"), rank=ibis.literal(0).cast("int64"), customers=extra.seen_only
    )).group_by(["idx", "stage", "rank"]).aggregate(customers=lambda s: s.customers.sum())
    pop = counts.group_by("idx").aggregate(total=counts.customers.sum())
    pop = pop.join(extra.select("idx", "period"), "idx")
    rows = counts.join(pop, "idx")
    rows = rows.filter(rows.customers > 0)
    rows = rows.mutate(share=safe_ratio(rows.customers, rows.total))
    latest = in_last_complete_period(rows, t, p, "month")
    value = safe_ratio(
        ibis.ifelse(latest["rank"] >= 2, latest.customers, 0).sum(), latest.total.max()
    )
    return Computation(
        value=value, rows=rows.select("period", "stage", "rank", "customers", "share"),
        order_by=("period", "rank"), finish=lambda v, r: (v, r.drop(columns="rank")),
    )


@kpi("ladder.movement", name="Net movement up the ladder", family=Family.LADDER, unit=Unit.COUNT,
     direction=Direction.HIGHER, value_label="Moved up minus moved down, last complete month",
     span="last_complete_month")
def movement(t: Tables, p: Params) -> Computation:
    """How the ladder moves month to month: customers who moved up, down, stayed, joined or
    dropped off (not on the ladder the month after).

    Covers customers who did more than see impressions; only consecutive months are compared.
    Headline: moved up − moved down in the last complete month.
    """
    cs = customer_stages(t, p)
    w = ibis.window(group_by=cs.customer_id, order_by=cs.idx)
    cs = cs.mutate(prev_idx=cs.idx.lag().over(w), prev_rank=cs["rank"].lag().over(w),
                   next_idx=cs.idx.lead().over(w))
    consecutive = cs.prev_idx == cs.idx - 1
    move = ibis.cases(
        (~consecutive | cs.prev_idx.isnull(), "joined"),
        (cs["rank"] > cs.prev_rank, "up"),
        (cs["rank"] < cs.prev_rank, "down"),
        else_="stayed",
    )
    cs = cs.mutate(move=move)
    per = cs.group_by(["idx", "period"]).aggregate(
        up=(cs.move == "up").cast("int64").sum(),
        down=(cs.move == "down").cast("int64").sum(),
        stayed=(cs.move == "stayed").cast("int64").sum(),
        joined=(cs.move == "joined").cast("int64").sum(),
    )
    gone = cs.filter(cs.next_idx.isnull() | (cs.next_idx > cs.idx + 1))
    dropped = gone.group_by(idx=gone.idx + 1).aggregate(dropped=gone.count())
    rows = per.left_join(dropped, "idx").select(per, dropped=dropped.dropped.fill_null(0))
    rows = rows.mutate(net_up=rows.up - rows.down)
    latest = in_last_complete_period(rows, t, p, "month")
    return Computation(value=latest.net_up.max(), rows=rows.drop("idx"), order_by=("period",))
