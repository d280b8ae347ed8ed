"""After the click: what each click leads to, step by step, and the clicks that lead nowhere."""

from __future__ import annotations

import math

import ibis

from afterclick.kpis._common import (
    DEEP,
    active_events,
    activity,
    data_bounds,
    day_index,
    epoch_s,
    event_counts,
    purchases,
    safe_ratio,
)
from afterclick.kpis.base import Computation, Params, Tables, block, explain_missing, kpi
from afterclick.results import Direction, Family, Unit

#: The after-click steps, in order, with the windows (days after the click) they must happen in.
STEPS = (
    ("click", "Clicked"),
    ("engaged", "Did something else within 30 minutes"),
    ("value", "Found value: a deep interaction within 7 days"),
    ("relationship", "Came back on a later day within 30 days"),
    ("revenue", "Bought within 30 days"),
    ("loyalty", "Bought again or referred someone within 90 days"),
)
VALUE_DAYS, RETURN_DAYS, REVENUE_DAYS, LOYALTY_DAYS = 7, 30, 30, 90


def _ordered(ev):
    """Order a customer's events by time, a click before anything at the same instant (the order
    among other tied events changes no result)."""
    return [ev.ts, ibis.ifelse(ev.event == "click", 0, 1)]


@block
def clicks(t: Tables, p: Params):
    """One row per click event, with what came after it: customer_id, ts, day, campaign_id,
    next_event (the customer's next event, impressions and purchases aside, when it falls on the
    click's day or within the days ``nowhere_minutes`` reaches; NULL beyond), next_deep,
    next_referral, next_tx and second_tx (the next purchase and the one after it; NULL without
    transactions). Shared by the nowhere rate and the funnel: one ordered pass over the events.
    """
    return _clicks(t, p)


def _clicks(t: Tables, p: Params):
    ev = active_events(t, p).select("customer_id", "ts", "event", "campaign_id")
    ev = ev.mutate(day=day_index(ev.ts))
    # The next event after each click matters only within ``nowhere_minutes``, so it is looked
    # for among the customer's events on the click's day and the days that window reaches: a
    # sort of about a quarter of the events instead of all of them.
    reach_days = max(1, math.ceil(p.nowhere_minutes / (24 * 60)))
    click_days = ev.filter(ev.event == "click").select("customer_id", "day").distinct()
    near = click_days
    for shift in range(1, reach_days + 1):
        near = near.union(click_days.mutate(day=click_days.day + shift))
    nearby = ev.semi_join(near.distinct(), ["customer_id", "day"])
    nearby = nearby.mutate(next_event=nearby.ts.lead().over(
        ibis.window(group_by=nearby.customer_id, order_by=_ordered(nearby))
    ))
    null_ts = ibis.null().cast(ev.ts.type())
    ev = nearby.filter(nearby.event == "click").union(
        ev.filter(ev.event.isin(DEEP)).mutate(next_event=null_ts)
    )
    # the look-aheads over the rows they need: clicks, deep events and purchases
    null_s = ibis.null().cast("string")
    stream = ev.select(
        customer_id=ev.customer_id, ts=ev.ts, event=ev.event, campaign_id=ev.campaign_id,
        next_event=ev.next_event,  # set on clicks only
        deep_ts=ibis.ifelse(ev.event.isin(DEEP), ev.ts, null_ts),
        referral_ts=ibis.ifelse(ev.event == "referral", ev.ts, null_ts),
        tx_ts=null_ts, tx_next=null_ts,
    )
    if "transactions" in t:
        tx = purchases(t, p)
        wt = ibis.window(group_by=tx.customer_id, order_by=[tx.ts, tx.order_id])
        tx = tx.mutate(next_tx=tx.ts.lead().over(wt))
        stream = stream.union(tx.select(
            customer_id=tx.customer_id, ts=tx.ts, event=ibis.literal("purchase"), campaign_id=null_s,
            next_event=null_ts, deep_ts=null_ts, referral_ts=null_ts, tx_ts=tx.ts, tx_next=tx.next_tx,
        ))
    # "from this row on" as a running frame over the reverse order: the same rows (ties only
    # among clicks, which carry none of these times), and cheaper than a frame to the end
    order = [ibis.desc(k) for k in _ordered(stream)]
    w = ibis.window(group_by=stream.customer_id, order_by=order, rows=(None, 0))
    stream = stream.mutate(
        next_deep=stream.deep_ts.min().over(w),
        next_referral=stream.referral_ts.min().over(w),
        next_tx=stream.tx_ts.min().over(w),
        # purchases are in time order, so their successors are too: the smallest is the
        # successor of the first purchase after the click
        second_tx=stream.tx_next.min().over(w),
    )
    c = stream.filter(stream.event == "click")
    return c.select("customer_id", "ts", "campaign_id", "next_event", "next_deep", "next_referral",
                    "next_tx", "second_tx", day=day_index(c.ts))


def _any_clicks(t: Tables, p: Params):
    """The check both journey KPIs make first: with no click at all there is nothing to follow
    (which is not a lack of history)."""
    c = event_counts(t, p)  # the shared per-event counts: no pass over the events of its own
    return (ibis.ifelse(c.event == "click", c.n, 0).sum().fill_null(0),
            "no clicks in this store's events: there is no click to follow")


def eligible_clicks(t: Tables, p: Params, window_s: float):
    """Clicks old enough to have had the whole window before the latest event in the data."""
    c = clicks(t, p).cross_join(data_bounds(t, p))
    return c.filter(epoch_s(c.data_end) - epoch_s(c.ts) >= window_s).drop("data_start", "data_end")


@kpi("journey.clicks_to_nowhere_rate", name="Clicks to nowhere", family=Family.JOURNEY,
     unit=Unit.FRACTION, direction=Direction.LOWER)
def clicks_to_nowhere_rate(t: Tables, p: Params) -> Computation:
    """Clicks to nowhere = clicks followed by no other event of the same customer (impressions
    aside) within the next 30 minutes / all clicks.

    A click at the same instant as another event counts as followed by it; clicks in the last
    30 minutes of the data are left out. Rows per campaign.
    """
    c = eligible_clicks(t, p, p.nowhere_minutes * 60)
    gap = epoch_s(c.next_event) - epoch_s(c.ts)
    n = (c.next_event.isnull() | (gap > p.nowhere_minutes * 60)).cast("int64")
    rows = c.group_by(campaign_id=c.campaign_id.fill_null("(none)")).aggregate(
        clicks=c.count(), nowhere=n.sum()
    )
    rows = rows.mutate(nowhere_rate=safe_ratio(rows.nowhere, rows.clicks))
    why = (f"Every click is within the last {p.nowhere_minutes} minutes of the data: none has had the "
           "time to be followed yet.")
    return Computation(value=safe_ratio(n.sum(), c.count()), rows=rows, order_by=("campaign_id",),
                       needs=(_any_clicks(t, p),), finish=explain_missing(why))


def click_steps(t: Tables, p: Params):
    """One row per click with a boolean column per step (each step requires the previous)."""
    c = eligible_clicks(t, p, LOYALTY_DAYS * 86400)
    cd = activity(t, p).select("customer_id", "day")
    cd = cd.mutate(next_day=cd.day.lead().over(ibis.window(group_by=cd.customer_id, order_by=cd.day)))
    c = c.left_join(cd, ["customer_id", "day"]).select(c, next_day=cd.next_day)

    def within(col, days):
        return col.notnull() & (epoch_s(col) - epoch_s(c.ts) <= days * 86400)

    engaged = within(c.next_event, p.nowhere_minutes / (24 * 60))
    value = engaged & within(c.next_deep, VALUE_DAYS)
    relationship = value & c.next_day.notnull() & (c.next_day - c.day <= RETURN_DAYS)
    revenue = relationship & within(c.next_tx, REVENUE_DAYS)
    loyalty = revenue & (within(c.second_tx, LOYALTY_DAYS) | within(c.next_referral, LOYALTY_DAYS))
    return c, dict(engaged=engaged, value=value, relationship=relationship, revenue=revenue,
                   loyalty=loyalty)


@block
def _funnel_counts(t: Tables, p: Params):
    """One row of counts, computed once: the funnel's rows and its headline both read it."""
    c, steps = click_steps(t, p)
    return c.aggregate(click=c.count(), **{k: v.cast("int64").sum() for k, v in steps.items()})


@kpi("journey.funnel", name="Clicks that grew into a relationship", family=Family.JOURNEY, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("events", "transactions"))
def funnel(t: Tables, p: Params) -> Computation:
    """The journey after the click: share of clicks that reach each step, each step requiring
    the previous one.

    click → engaged (another event within 30 minutes: not a click to nowhere) → value (a deep
    interaction — save, share, download, signup… — within 7 days) → relationship (active again
    on a later UTC day within 30 days) → revenue (a purchase within 30 days) → loyalty (a second
    purchase or a referral within 90 days). Only clicks at least 90 days before the latest event
    count, so every click had the time to reach every step. Headline: share of clicks reaching
    "relationship".
    """
    agg = _funnel_counts(t, p)
    parts = [
        agg.select(order=ibis.literal(i), step=ibis.literal(step), label=ibis.literal(label),
                   clicks=agg[step].cast("int64"), total=agg.click)
        for i, (step, label) in enumerate(STEPS)
    ]
    rows = parts[0]
    for part in parts[1:]:
        rows = rows.union(part)
    rows = rows.mutate(share=safe_ratio(rows.clicks, rows.total)).drop("total")
    value = safe_ratio(agg.relationship.sum(), agg.click.sum())
    why = f"No click is {LOYALTY_DAYS} days old yet: the journey after the click needs more history."
    return Computation(value=value, rows=rows, order_by=("order",), needs=(_any_clicks(t, p),),
                       finish=explain_missing(why, lambda v, r: (v, r.drop(columns="order"))))
