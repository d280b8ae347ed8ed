"""Reach: the vanity metrics, kept for context beside the relationship KPIs."""

from __future__ import annotations

import ibis

from afterclick.kpis._common import (
    event_counts,
    events,
    safe_ratio,
)
from afterclick.kpis._exposure import exposure_bits, people_per_channel, people_reached
from afterclick.kpis.base import Computation, Outcome, Params, Tables, kpi, measure
from afterclick.results import Direction, Family, MeasureKind, Unit


def _count_kpi(name: str):
    def compute(t: Tables, p: Params) -> Computation:
        c = event_counts(t, p)
        c = c.filter(c.event == name)
        by = c.select("channel", events=c.n)
        return Computation(value=c.n.sum().fill_null(0), rows=by, order_by=("channel",))

    return compute


@kpi("reach.impressions", name="Impressions", family=Family.REACH, unit=Unit.COUNT,
     direction=Direction.NEUTRAL)
def impressions(t: Tables, p: Params) -> Computation:
    """Impressions: the number of ``impression`` events; rows per channel.

    Exposure only: says nothing about whether anyone cared.
    """
    return _count_kpi("impression")(t, p)


@kpi("reach.reach", name="Reach (people exposed)", family=Family.REACH, unit=Unit.COUNT,
     direction=Direction.NEUTRAL)
def reach(t: Tables, p: Params) -> Computation:
    """Reach: distinct customers with at least one ``impression``; rows per channel."""
    return Computation(value=people_reached(t, p), rows=people_per_channel(t, p), order_by=("channel",))


@kpi("reach.clicks", name="Clicks", family=Family.REACH, unit=Unit.COUNT, direction=Direction.NEUTRAL)
def clicks(t: Tables, p: Params) -> Computation:
    """Clicks: the number of ``click`` events; rows per channel."""
    return _count_kpi("click")(t, p)


@kpi("reach.ctr", name="Click-through rate", family=Family.REACH, unit=Unit.FRACTION,
     direction=Direction.NEUTRAL)
def ctr(t: Tables, p: Params) -> Computation:
    """Click-through rate = clicks / impressions (``click`` over ``impression`` events).

    A fraction; skipped without impressions (saying so); rows per channel. High CTR with low retention is the
    signature of "clicks to nowhere". A channel with more clicks than impressions (clicks whose
    impressions were not tracked) is named in a note.
    """
    c = event_counts(t, p)
    c = c.filter(c.event.isin(("impression", "click")))
    zero = ibis.literal(0).cast("int64")
    imp = ibis.ifelse(c.event == "impression", c.n, zero)
    clk = ibis.ifelse(c.event == "click", c.n, zero)
    by = c.group_by("channel").aggregate(impressions=imp.sum(), clicks=clk.sum())
    by = by.mutate(ctr=safe_ratio(by.clicks, by.impressions))
    return Computation(value=safe_ratio(clk.sum().fill_null(0), imp.sum().fill_null(0)), rows=by,
                       order_by=("channel",), finish=_flag_untracked,
                       needs=((imp.sum().fill_null(0), "no impressions in this store's events: a click-through "
                               "rate needs the impressions the clicks came from"),))


def _flag_untracked(value, rows) -> Outcome:
    """A note where clicks outnumber impressions: those clicks came without tracked impressions,
    and a "rate" above 100% is not a click-through rate."""
    over = rows[rows["clicks"] > rows["impressions"]]
    notes = ()
    if len(over):
        notes = ("More clicks than impressions on " + ", ".join(map(str, over["channel"]))
                 + ": clicks there came without tracked impressions, so no click-through rate can "
                 "be read there.",)
    return Outcome(value, rows, notes=notes)


@kpi("reach.likes", name="Likes", family=Family.REACH, unit=Unit.COUNT, direction=Direction.NEUTRAL)
def likes(t: Tables, p: Params) -> Computation:
    """Likes: the number of ``like`` events; rows per channel."""
    return _count_kpi("like")(t, p)


@kpi("reach.follows", name="Follows", family=Family.REACH, unit=Unit.COUNT, direction=Direction.NEUTRAL)
def follows(t: Tables, p: Params) -> Computation:
    """Follows: the number of ``follow`` events; rows per channel."""
    return _count_kpi("follow")(t, p)


# -- per-customer sufficient statistics: these KPIs by any grouping of the customers -----------
def _per_customer(t: Tables, p: Params, **sums):
    ev = events(t, p)
    return ev.group_by("customer_id").aggregate(**{k: v(ev).cast("int64").sum() for k, v in sums.items()})


def _event_count(name: str):
    def per_unit(t: Tables, p: Params):
        """Per customer: x = their events of this kind (customers with none add nothing to a count)."""
        per = _per_customer(t, p, x=lambda ev: ev.event == name)
        return per.filter(per.x > 0)

    return per_unit


for _name in ("impression", "click", "like", "follow"):
    measure(f"reach.{_name}s", MeasureKind.COUNT)(_event_count(_name))


@measure("reach.reach", MeasureKind.COUNT)
def _reached(t: Tables, p: Params):
    """Per customer with an impression: x = 1."""
    e = exposure_bits(t, p)
    return e.select("customer_id").distinct().mutate(x=ibis.literal(1).cast("int64"))


@measure("reach.ctr", MeasureKind.RATIO)
def _clicks_per_impression(t: Tables, p: Params):
    """Per customer with an impression or a click: num = clicks, den = impressions."""
    per = _per_customer(t, p, num=lambda ev: ev.event == "click", den=lambda ev: ev.event == "impression")
    return per.filter((per.num > 0) | (per.den > 0))
