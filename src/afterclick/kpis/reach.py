"""Reach: the vanity metrics, kept for context beside the relationship KPIs."""

from __future__ import annotations

import ibis

from afterclick.kpis._common import (
    event_counts,
    exposure,
    exposure_channels,
    safe_ratio,
)
from afterclick.kpis.base import Computation, Params, Tables, kpi
from afterclick.results import Direction, Family, Unit


def _count_kpi(name: str):
    def compute(t: Tables, p: Params) -> Computation:
        c = event_counts(t, p)
        c = c.filter(c.event == name)
        by = c.group_by("channel").aggregate(events=c.n.sum())
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
    ex, ec = exposure(t, p), exposure_channels(t, p)
    by = ec.group_by("channel").aggregate(people=ec.customer_id.nunique())
    return Computation(value=ex.customer_id.nunique(), rows=by, order_by=("channel",))


@kpi("reach.clicks", name="Clicks", family=Family.REACH, unit=Unit.COUNT, direction=Direction.NEUTRAL)
def clicks(t: Tables, p: Params) -> Computation:
    """Clicks: the number of ``click`` events; rows per channel."""
    return _count_kpi("click")(t, p)


@kpi("reach.ctr", name="Click-through rate", family=Family.REACH, unit=Unit.FRACTION,
     direction=Direction.NEUTRAL)
def ctr(t: Tables, p: Params) -> Computation:
    """Click-through rate = clicks / impressions (``click`` over ``impression`` events).

    A fraction, NULL without impressions; rows per channel. High CTR with low retention is the
    signature of "clicks to nowhere".
    """
    c = event_counts(t, p)
    c = c.filter(c.event.isin(("impression", "click")))
    zero = ibis.literal(0).cast("int64")
    imp = ibis.ifelse(c.event == "impression", c.n, zero)
    clk = ibis.ifelse(c.event == "click", c.n, zero)
    by = c.group_by("channel").aggregate(impressions=imp.sum(), clicks=clk.sum())
    by = by.mutate(ctr=safe_ratio(by.clicks, by.impressions))
    return Computation(value=safe_ratio(clk.sum().fill_null(0), imp.sum().fill_null(0)), rows=by,
                       order_by=("channel",))


@kpi("reach.likes", name="Likes", family=Family.REACH, unit=Unit.COUNT, direction=Direction.NEUTRAL)
def likes(t: Tables, p: Params) -> Computation:
    """Likes: the number of ``like`` events; rows per channel."""
    return _count_kpi("like")(t, p)


@kpi("reach.follows", name="Follows", family=Family.REACH, unit=Unit.COUNT, direction=Direction.NEUTRAL)
def follows(t: Tables, p: Params) -> Computation:
    """Follows: the number of ``follow`` events; rows per channel."""
    return _count_kpi("follow")(t, p)
