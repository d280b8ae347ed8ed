"""What counts as a purchase, and the per-customer RFM summary, as Ibis expressions.

Pure Ibis, portable to every backend: the KPIs (``kpis/``) build on them, and so do the CLV
models' pandas entry points (``afterclick.clv.rfm``, which runs them on a pandas table).

The RFM summary (:func:`rfm_expr`) runs on the store's backend, so only the small summary
reaches NumPy.

Conventions of the CDNOW literature (and the ``lifetimes`` package): purchases on the same UTC
day count as one; ``frequency`` = purchase days after the first; ``recency`` = time from the
first to the last purchase day; ``T`` = time from the first purchase day to the end of
observation; ``monetary_value`` = mean amount of the repeat purchase days (0 without any).

Refunds are netted, not dropped. A row with a negative ``amount`` is a refund or cancellation;
when the table has ``refund_of`` (and ``order_id``), a refund naming an order takes back from that
order, and an order its refunds take to 0 or below no longer counts (:func:`counted_orders`). A
refund naming no known order takes back from the customer's latest purchase day on or before its
own. A purchase day counts when it has a counting order and, if refunds took from it, something
is left; its amount is what is left (:func:`net_purchase_days`). A customer who bought and
cancelled everything therefore has no purchase day left, or only earlier ones.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

#: Days per time unit: day, week, month (mean Gregorian month), year.
UNITS = {"D": 1.0, "W": 7.0, "M": 30.436875, "Y": 365.2425}

_EPOCH = ibis.timestamp("1970-01-01 00:00:00")


def day_number(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole UTC days since 1970-01-01 (portable: DuckDB and Spark agree)."""
    return ts.truncate("D").delta(_EPOCH, unit="day").cast("int64")


def _unit_days(unit: str) -> float:
    try:
        return UNITS[unit]
    except KeyError:
        raise ValueError(f"time unit must be one of {', '.join(UNITS)} (day, week, month, year), not {unit!r}") from None


def counted_orders(tx: ir.Table) -> ir.Table:
    """The purchases among transactions: rows with ``amount`` >= 0, less the orders that their
    refunds (rows naming them in ``refund_of``) take to 0 or below. Adds ``net`` (the amount after
    those refunds) and ``refunded`` (how much they took back, 0 without any)."""
    buys = tx.filter(tx.amount >= 0)
    if "refund_of" not in tx.columns or "order_id" not in tx.columns:
        return buys.mutate(net=buys.amount, refunded=ibis.literal(0.0))
    r = tx.filter((tx.amount < 0) & tx.refund_of.notnull())
    back = r.group_by(_oid=r.refund_of).aggregate(_back=r.amount.sum())
    j = buys.left_join(back, buys.order_id == back._oid)
    j = j.select(buys, net=buys.amount + back._back.fill_null(0.0), refunded=-back._back.fill_null(0.0),
                 _linked=back._oid.notnull())
    return j.filter(~(j._linked & (j.net <= 0))).drop("_linked")


def net_purchase_days(tx: ir.Table) -> ir.Table:
    """One row per customer and purchase day that counts: customer_id, day (days since 1970),
    amount (net of the refunds that took from it), orders (counting orders that day).

    A refund naming an order (``refund_of``) takes from that order's day; any other refund from
    the customer's latest purchase day on or before its own (none: it only lowers revenue). A day
    whose refunds leave nothing (net <= 0) does not count. See the module docstring.
    """
    buys = counted_orders(tx)
    days = buys.group_by(customer_id=buys.customer_id, day=day_number(buys.ts)).aggregate(
        gross=buys.net.sum(), orders=buys.count(), linked=buys.refunded.sum())
    refunds = tx.filter(tx.amount < 0)
    if "refund_of" in tx.columns and "order_id" in tx.columns:
        # a refund naming any stored order has been netted against it (a cancelled one included)
        orders = tx.filter(tx.amount >= 0)
        refunds = refunds.anti_join(orders, refunds.refund_of == orders.order_id)
    rd = refunds.group_by(customer_id=refunds.customer_id, rday=day_number(refunds.ts)).aggregate(
        refund=refunds.amount.sum())
    pd_ = days.select(pcid="customer_id", pday="day")
    j = rd.inner_join(pd_, [rd.customer_id == pd_.pcid, pd_.pday <= rd.rday])
    target = j.group_by(["customer_id", "rday"]).aggregate(day=j.pday.max(), refund=j.refund.max())
    taken = target.group_by(["customer_id", "day"]).aggregate(unlinked=target.refund.sum())
    d = days.left_join(taken, ["customer_id", "day"]).select(
        days.customer_id, days.day, days.orders, days.gross, days.linked, unlinked=taken.unlinked)
    d = d.mutate(amount=d.gross + d.unlinked.fill_null(0.0),
                 _took=(d.linked > 0) | d.unlinked.notnull())
    d = d.filter(~d._took | (d.amount > 0))
    return d.select("customer_id", "day", "amount", "orders")


def purchase_days(tx: ir.Table) -> ir.Table:
    """One row per customer and purchase day that counts: customer_id, day, amount (net)."""
    return net_purchase_days(tx).select("customer_id", "day", "amount")


def end_days(end: ir.Table | ir.TimestampScalar | datetime) -> ir.Table:
    """A one-row table holding ``end_day`` (days since 1970) from a time, or a table that has it."""
    if isinstance(end, ir.Table):
        return end.select("end_day")
    return ibis.memtable({"one": [1]}).select(end_day=day_number(ibis.literal(end)))


def rfm_expr(tx: ir.Table, end: ir.Table | ir.TimestampScalar | datetime, unit: str = "W", *,
             filtered: bool = True, days: ir.Table | None = None) -> ir.Table:
    """The RFM summary of transactions (customer_id, ts, amount) up to ``end`` (inclusive day).

    ``end`` is a time, or a one-row table with an ``end_day`` column (days since 1970), so an
    engine-side bound (the latest event) needs no round trip. Columns: customer_id, frequency,
    recency, T, monetary_value, first_day, revenue (net: every amount, refunds included),
    first_revenue (the first purchase day's, net), orders (counting orders on the purchase days
    that count). Only customers with a purchase day that counts have a row. Pure Ibis.

    ``filtered=False`` when no transaction falls after ``end`` (it is their latest day): the
    same summary without the filter, a query a third the size (every reference to the
    transactions would carry it). ``days``: the purchase days of those transactions
    (:func:`net_purchase_days`) when a shared table already holds them, read instead of netting
    the refunds again.
    """
    k = _unit_days(unit)
    bound = end_days(end)
    if filtered:
        tx = tx.filter(day_number(tx.ts) <= bound.end_day.max())  # the one row's day
    net = tx.group_by("customer_id").aggregate(revenue=tx.amount.sum())
    d = (net_purchase_days(tx) if days is None else days).cross_join(bound)
    d = d.mutate(first_day=d.day.min().over(group_by=d.customer_id))
    s = d.group_by("customer_id").aggregate(
        first_day=d.first_day.max(),
        last_day=d.day.max(),
        end_day=d.end_day.max(),
        days=d.count(),
        orders=d.orders.sum(),
        kept=d.amount.sum(),
        first_revenue=ibis.ifelse(d.day == d.first_day, d.amount, 0.0).sum(),
    )
    s = s.left_join(net, "customer_id").select(s, revenue=net.revenue)
    frequency = s.days - 1
    return s.select(
        "customer_id",
        frequency=frequency.cast("float64"),
        recency=(s.last_day - s.first_day).cast("float64") / k,
        T=(s.end_day - s.first_day).cast("float64") / k,
        monetary_value=ibis.ifelse(frequency > 0, (s.kept - s.first_revenue) / frequency.cast("float64"), 0.0),
        first_day=s.first_day,
        revenue=s.revenue.cast("float64"),
        first_revenue=s.first_revenue.cast("float64"),
        orders=s.orders,
    )


def holdout_expr(tx: ir.Table, calibration: ir.Table | datetime, observation_end: ir.Table | datetime,
                 unit: str = "W", days: ir.Table | None = None) -> ir.Table:
    """The RFM summary up to ``calibration`` beside the purchase days after it, to ``observation_end``.

    Both bounds are times or one-row tables with ``end_day``. Adds frequency_holdout,
    holdout_revenue and duration_holdout (in ``unit``) to :func:`rfm_expr`'s columns. ``days``:
    the purchase days of all of ``tx`` (:func:`net_purchase_days`) when a shared table holds them.
    """
    cal = rfm_expr(tx, calibration, unit)
    bounds = end_days(calibration).select(cal_day="end_day").cross_join(end_days(observation_end))
    d = (purchase_days(tx) if days is None else days.select("customer_id", "day", "amount")).cross_join(bounds)
    d = d.filter((d.day > d.cal_day) & (d.day <= d.end_day))
    hold = d.group_by("customer_id").aggregate(frequency_holdout=d.count(), holdout_revenue=d.amount.sum())
    j = cal.left_join(hold, "customer_id").select(
        cal, frequency_holdout=hold.frequency_holdout.fill_null(0).cast("float64"),
        holdout_revenue=hold.holdout_revenue.fill_null(0.0),
    ).cross_join(bounds)
    return j.mutate(duration_holdout=(j.end_day - j.cal_day).cast("float64") / _unit_days(unit)).drop("cal_day", "end_day")
