"""Building blocks shared by the KPI families: pure Ibis, portable to every backend.

Periods come from the one calendar, ``afterclick.core.periods``: weeks start on Monday (DuckDB
and Spark agree), and period indices are integers so that "the next period" is ``idx + 1`` on
every engine, without interval arithmetic. The review period's rows and the data's time bounds
(``in_period``, ``day_index``, ``data_bounds``, ``review_end``) live in ``afterclick.engine.bounds``,
which dates every result; they are importable from here too.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.core.orders import counted_orders
from afterclick.core.periods import index_expr as period_index
from afterclick.core.periods import start_expr as period_start
from afterclick.core.periods import utc as as_utc  # noqa: F401 (the families read it from here)
from afterclick.engine.bounds import (
    Clock,
    data_bounds,
    day_index,
    in_period,
    review_end,
)
from afterclick.kpis.base import Params, Tables, block
from afterclick.schemas import EventClass, events_of

EXPOSURE = events_of(EventClass.EXPOSURE)
DEEP = events_of(EventClass.DEEP)
ENGAGED = (*events_of(EventClass.SHALLOW), *events_of(EventClass.VISIT))


def events(t: Tables, p: Params) -> ir.Table:
    return in_period(t["events"], p)


@block
def purchases(t: Tables, p: Params) -> ir.Table:
    """The period's orders that count as purchases: transactions with ``amount`` >= 0, less those
    their refunds (rows naming them in ``refund_of``) take to 0 or below; ``net`` is the amount
    after those refunds (``afterclick.core.orders.counted_orders``). Refund rows are not purchases."""
    return counted_orders(in_period(t["transactions"], p))


def refund_facts(t: Tables, p: Params) -> dict[str, ir.Scalar]:
    """How many refunds (rows with a negative amount) the period holds, how much they took back,
    and the gross sales they are set against: the facts of :func:`refund_notes`."""
    tx = in_period(t["transactions"], p)
    neg = tx.amount < 0
    return {"refunds": neg.cast("int64").sum(),
            "refunded": ibis.ifelse(neg, -tx.amount, 0.0).sum(),
            "gross": ibis.ifelse(neg, 0.0, tx.amount).sum()}


#: How the refund note starts, so the report can find it among a KPI's notes.
REFUND_NOTE_PREFIX = "Net of "


def refund_notes(facts: dict, _value=None) -> tuple[str, ...]:
    """"Net of 3 refunds or cancellations (120.00, 2.4% of gross sales of 5,000.00)."""
    n = int(facts.get("refunds") or 0)
    if n == 0:
        return ()
    refunded, gross = float(facts.get("refunded") or 0.0), float(facts.get("gross") or 0.0)
    share = f", {refunded / gross:.1%} of gross sales of {gross:,.2f}" if gross > 0 else ""
    return (f"{REFUND_NOTE_PREFIX}{n:,} refund{'s' if n != 1 else ''} or cancellation{'s' if n != 1 else ''} "
            f"taking back {refunded:,.2f}{share}.",)


def active_events(t: Tables, p: Params) -> ir.Table:
    """Events that show a person acting: everything except exposures (impressions)."""
    ev = events(t, p)
    return ev.filter(~ev.event.isin(EXPOSURE))


def any_activity(t: Tables, p: Params) -> tuple[ir.Scalar, str]:
    """A ``Computation.needs`` check: without any active event (only impressions) there is no
    customer to follow, which is not a lack of history."""
    c = event_counts(t, p)  # the shared per-event counts: no pass over the events of its own
    return (ibis.ifelse(c.event.isin(EXPOSURE), 0, c.n).sum().fill_null(0),
            "no activity in this store's events (only impressions): there is no customer to follow")


_EPOCH = ibis.timestamp("1970-01-01 00:00:00")


def epoch_s(ts: ir.TimestampValue) -> ir.FloatingValue:
    """Seconds since 1970-01-01 (UTC), microseconds kept: for differences between event times.

    Not ``epoch_seconds()``: DuckDB's ``epoch`` keeps the fraction while Spark's
    ``unix_timestamp`` drops it, so gaps and spans between sub-second times (a 30-minute gap
    that is really 1800.4 s) came out differently. The exact microsecond count over 10**6 is the
    same double on both, and bit for bit what DuckDB's ``epoch`` returns.
    """
    return ts.delta(_EPOCH, unit="microsecond").cast("float64") / 1_000_000


@block
def activity(t: Tables, p: Params) -> ir.Table:
    """One row per customer and UTC day with any active event: the compact table most KPIs read.

    Columns: customer_id, day_ts (the day, as a timestamp), day (days since 1970-01-01),
    first_ts/last_ts (first and last active event that day), events, visits, engaged (clicks,
    likes, follows, visits), deep, advocacy (referrals and shares).
    """
    ev = active_events(t, p)
    # counts with a condition, not sums of 0/1 casts: DuckDB sums those in 128-bit integers,
    # a fifth of this block's time (active events have an event name, so no group sums NULLs)
    a = ev.group_by(customer_id=ev.customer_id, day_ts=ev.ts.truncate("D")).aggregate(
        first_ts=ev.ts.min(),
        last_ts=ev.ts.max(),
        events=ev.count(),
        visits=ev.count(where=ev.event == "visit"),
        engaged=ev.count(where=ev.event.isin(ENGAGED)),
        deep=ev.count(where=ev.event.isin(DEEP)),
        advocacy=ev.count(where=ev.event.isin(("referral", "share"))),
    )
    return a.mutate(day=day_index(a.day_ts))


def customer_periods(t: Tables, p: Params, grain: str | None = None) -> ir.Table:
    """Distinct (customer_id, idx, period) of activity, one row per active customer-period."""
    return _customer_periods(t, p, grain or p.grain)


@block
def _customer_periods(t: Tables, p: Params, grain: str) -> ir.Table:
    a = activity(t, p)
    return a.select(
        customer_id=a.customer_id,
        idx=period_index(a.day_ts, grain),
        period=period_start(a.day_ts, grain),
    ).distinct()


@block
def first_touch(t: Tables, p: Params) -> ir.Table:
    """Per customer: first and last active (non-exposure) event, active days, deep interactions."""

    a = activity(t, p)
    return a.group_by("customer_id").aggregate(
        first_ts=a.first_ts.min(), last_ts=a.last_ts.max(), days=a.count(),
        visit_days=(a.visits > 0).cast("int64").sum(), deep=a.deep.sum(),
    )


def last_complete_period(t: Tables, p: Params, grain: str | None = None, table: Clock = "events") -> ir.Table:
    """One row, ``last_idx``: the last period that ends by :func:`review_end` (of ``table``)."""
    r = review_end(t, p, table)
    return r.select(last_idx=period_index(r.review_end, grain or p.grain) - 1)


def in_last_complete_period(rows: ir.Table, t: Tables, p: Params, grain: str | None = None,
                            table: Clock = "events") -> ir.Table:
    """The rows (keyed by a period ``idx``) of the last complete period: headline values read it."""
    last = last_complete_period(t, p, grain, table)
    return rows.cross_join(last).filter(lambda r: r.idx == r.last_idx).drop("last_idx")


@ibis.udf.agg.builtin(name="bit_or")
def bit_or(x: int) -> int:  # type: ignore[empty-body]
    """Bitwise OR over a group: ``bit_or`` in DuckDB, Spark SQL, PostgreSQL and BigQuery (Ibis
    has the operation but no Spark rule for it, so it is called by name)."""


#: Months per bit block of :func:`exposure`: 60 bits, and two more carried from the block
#: before, fit a signed 64-bit integer.
BLOCK_MONTHS = 60


@block
def exposure_channels(t: Tables, p: Params) -> ir.Table:
    """Who saw impressions, on which channel and in which months.

    One row per customer, channel ("(none)" when missing) and block of 60 months. Columns:
    customer_id, channel, block, months (bit ``k`` set: an impression in month
    ``base + 60·block + k``, where ``base`` is the month of the first event in the period, see
    :func:`month_base`). Six million impressions fold into a row per person and
    channel (a block only adds rows when the data spans more than five years), so "seen in
    these months" is a bit test instead of a distinct over every customer-month.
    """
    ev = events(t, p)
    imp = ev.filter(ev.event.isin(EXPOSURE)).cross_join(month_base(t, p))
    r = period_index(imp.ts, "month") - imp.base
    one = ibis.literal(1).cast("int64")
    return imp.group_by(
        customer_id=imp.customer_id, channel=imp.channel.fill_null("(none)"),
        block=(r // BLOCK_MONTHS).cast("int64"),
    ).aggregate(months=bit_or((one << (r % BLOCK_MONTHS)).cast("int64")))


@block
def exposure(t: Tables, p: Params) -> ir.Table:
    """:func:`exposure_channels` over all channels: customer_id, block, months."""

    ec = exposure_channels(t, p)
    return ec.group_by("customer_id", "block").aggregate(months=bit_or(ec.months))


@block
def event_counts(t: Tables, p: Params) -> ir.Table:
    """Events per (event, channel): n, a missing channel reading "(none)". One pass over the
    events, shared by the counts of the reach family and the click-through rate."""

    ev = events(t, p)
    return ev.group_by(event=ev.event, channel=ev.channel.fill_null("(none)")).aggregate(n=ev.count())


@block
def content_event_counts(t: Tables, p: Params) -> ir.Table:
    """Events per (content_id, event) for events that name a content item: n."""

    ev = events(t, p)
    ev = ev.filter(ev.content_id.notnull())
    return ev.group_by("content_id", "event").aggregate(n=ev.count())


def month_base(t: Tables, p: Params) -> ir.Table:
    """A one-row table, ``base``: the month index of the first event in the period."""
    b = data_bounds(t, p)
    return b.select(base=period_index(b.data_start, "month"))


def integers(t: Tables, p: Params, n: int, name: str = "k") -> ir.Table:
    """A table of one int64 column ``name``: 0, 1, …, n − 1.

    Unnested from an array rather than an in-memory table, which a building block that is
    materialized on Spark could not see.
    """
    b = data_bounds(t, p)
    r = b.select(**{name: ibis.range(0, n).unnest()})
    return r.select(r[name].cast("int64").name(name))  # Spark takes no cast around the unnest


def safe_ratio(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    """num / den, NULL (never NaN or an error) when den is 0."""
    return ibis.ifelse(den == 0, ibis.null(), num.cast("float64") / den.cast("float64"))


@block
def sessions(t: Tables, p: Params) -> ir.Table:
    """One row per session: customer_id, start, visits, duration_s, timed.

    A session is the source's ``session_id`` where given; the customer's active events without
    one form runs with no gap longer than ``session_gap_minutes`` between them (30 by default,
    the web-analytics convention). Duration is the sum of the source's ``duration_s`` where the session has any,
    else the time from its first to its last event; ``timed`` says it has a length at all (a
    measured duration, or two events or more), unlike a lone event's 0 s.
    """
    return _sessions(t, p)


def _sessions(t: Tables, p: Params) -> ir.Table:
    ev = active_events(t, p)
    # only the columns sessions need: windows carry every input column through their sort
    ev = ev.select("customer_id", "ts", "event", "session_id", "duration_s")
    # Events with the source's session id need no ordering at all; only the rest (usually a
    # small minority: likes, follows) go through the sorted gap pass, among themselves.
    gap = ev.filter(ev.session_id.isnull())
    # ties on ts need no tie-break: tied events share a session whatever their order
    w = ibis.window(group_by=gap.customer_id, order_by=gap.ts)
    gap_s = epoch_s(gap.ts) - epoch_s(gap.ts.lag().over(w))
    gap = gap.mutate(_new=ibis.ifelse(gap_s.isnull() | (gap_s > p.session_gap_minutes * 60), 1, 0))
    w2 = ibis.window(group_by=gap.customer_id, order_by=gap.ts, rows=(None, 0))
    gap = gap.mutate(gap_session=gap._new.sum().over(w2).cast("int64"))

    def per_session(e: ir.Table, key: str) -> ir.Table:
        return e.group_by(["customer_id", key]).aggregate(
            start=e.ts.min(), end=e.ts.max(), measured_s=e.duration_s.sum(),
            n_measured=e.duration_s.count(), visits=e.count(where=e.event == "visit"), events=e.count(),
        ).drop(key)

    # each kind of session grouped on its own key, and the sessions (not the events) put together;
    # only the columns the KPIs read are kept: the block is written out as a table
    s = per_session(ev.filter(ev.session_id.notnull()), "session_id").union(per_session(gap, "gap_session"))
    span = epoch_s(s.end) - epoch_s(s.start)
    return s.select("customer_id", "start", "visits",
                    duration_s=ibis.ifelse(s.n_measured > 0, s.measured_s, span),
                    # a length was measured, or there are two events to measure it between
                    timed=(s.n_measured > 0) | (s.events > 1))
