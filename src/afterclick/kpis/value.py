"""Customer value: what a relationship is worth, and which campaigns started the valuable ones.

The per-customer RFM summary is pure Ibis (it runs on the store's backend); the CLV models
(BG/NBD for purchases, Gamma-Gamma for spend; ``afterclick.clv``) are fitted once per workspace
in the ``finish`` steps of ``afterclick.analysis.value``, on the executed summary, and shared by
every value KPI. Time unit: weeks; the observation ends on the day of the latest transaction.

Amounts are net of refunds. In ``transactions`` a negative amount is a refund or cancellation;
``refund_of``, when given, names the order it takes back. A *purchase* (an order) is a row with
amount >= 0 that its refunds do not take to 0 or below; *net revenue* is the sum of every amount,
refunds included; a *buyer* is a customer with at least one purchase. The CLV inputs net each
refund against the purchase day it takes back (``afterclick.core.orders``), so a customer who
bought and cancelled everything is left with no purchase to predict from.
"""

from __future__ import annotations

import ibis

from afterclick.core.orders import day_number, holdout_expr, net_purchase_days, rfm_expr
from afterclick.kpis._common import (
    data_bounds,
    first_touch,
    in_period,
    last_complete_period,
    period_index,
    purchases,
    refund_facts,
    refund_notes,
    safe_ratio,
)
from afterclick.kpis.base import Analysis, Computation, Params, Tables, block, kpi, measure
from afterclick.kpis.campaigns import acquisitions
from afterclick.results import Direction, Family, MeasureKind, Unit

#: Predicted value horizon (months), and the horizon credited to campaigns as "lifetime".
HORIZON_MONTHS = 12
LIFETIME_MONTHS = 36
#: Discount rate per month (1% ≈ 12.7% a year).
MONTHLY_DISCOUNT = 0.01
#: Holdout length for the model check: 26 weeks, or half the data when it spans under a year.
HOLDOUT_DAYS = 182
VALUE = ("transactions",)


def _ends(t: Tables, p: Params):
    b = data_bounds(t, p, "transactions")
    return b.select(end_day=day_number(b.data_end))


def _acquired(t: Tables, p: Params):
    """customer_id, campaign_id of campaign-acquired customers: from the events' first clicks and
    the customers table (``campaigns.acquisitions``), or the customers table alone without events."""
    if "events" in t:
        return acquisitions(t, p).select("customer_id", "campaign_id")
    if "customers" in t:
        cu = t["customers"]
        cu = cu.filter(cu.acquisition_campaign_id.notnull())
        return cu.select("customer_id", campaign_id=cu.acquisition_campaign_id)
    return None


@block
def customer_value(t: Tables, p: Params):
    """One row per buyer and per campaign-acquired customer: the RFM summary (weeks, net of
    refunds) to the latest transaction, revenue, first_revenue, orders, segment and acquisition
    campaign_id."""
    tx = in_period(t["transactions"], p)
    # the end is the latest transaction's day: no filter, and the purchase days already netted
    rfm = rfm_expr(tx, _ends(t, p), "W", filtered=False, days=net_days(t, p))
    acq = _acquired(t, p)
    if acq is None:
        rows = rfm.mutate(campaign_id=ibis.null().cast("string"))
    else:
        ids = rfm.select("customer_id").union(acq.select("customer_id"), distinct=True)
        rows = ids.left_join(rfm, "customer_id").select(ids.customer_id, *[rfm[c] for c in rfm.columns if c != "customer_id"])
        rows = rows.left_join(acq, "customer_id").select(rows, acq.campaign_id)
    if "customers" in t:
        cu = t["customers"].select("customer_id", "segment")
        rows = rows.left_join(cu, "customer_id").select(rows, cu.segment)
    else:
        rows = rows.mutate(segment=ibis.null().cast("string"))
    return rows.mutate(orders=rows.orders.fill_null(0), revenue=rows.revenue.fill_null(0.0),
                       first_revenue=rows.first_revenue.fill_null(0.0))


@block
def net_days(t: Tables, p: Params):
    """Per buyer and purchase day that counts: ``core.orders.net_purchase_days`` of the period's
    transactions, netted once for the CLV summary and the holdout check."""
    return net_purchase_days(in_period(t["transactions"], p))


def _model(name: str, t: Tables, p: Params) -> Analysis:
    """The ``finish`` step ``name`` of ``afterclick.analysis.value``: the CLV models fitted on the
    executed summary once per workspace and period (hence the tables and parameters)."""
    return Analysis(f"afterclick.analysis.value:{name}", (("t", t), ("p", p)))


# -- descriptive value, pure Ibis --------------------------------------------------------------
def _net(t: Tables, p: Params, **kw) -> Computation:
    """A computation whose notes say how much was refunded in the period."""
    return Computation(**kw, facts=_refunds(t, p), explain=_refund_notes)


def _sums(num: str, den: str, hide: tuple[str, ...] = ()) -> Analysis:
    """The headline Σ num / Σ den read off the executed rows, which hold both sums (by month,
    segment…): one query for rows and headline instead of a second pass for the headline."""
    return Analysis("afterclick.analysis.headline:ratio_of_sums", (("num", num), ("den", den), ("hide", hide)))


def _refunds(t: Tables, p: Params) -> dict[str, ibis.Scalar]:
    """The facts of the refund note (``refund_facts``) as one struct: one query, not three."""
    return {"refunds": ibis.struct(refund_facts(t, p))}


def _refund_notes(facts: dict, value=None) -> tuple[str, ...]:
    return refund_notes(facts.get("refunds") or {}, value)


@kpi("value.purchase_frequency", name="Purchase frequency (orders per buyer)", family=Family.VALUE,
     unit=Unit.RATIO, direction=Direction.HIGHER, requires=VALUE)
def purchase_frequency(t: Tables, p: Params) -> Computation:
    """Purchase frequency = orders / buyers in the period.

    An order is a transaction with amount >= 0 whose refunds (rows naming it in ``refund_of``)
    do not take it to 0 or below; a buyer is a customer with at least one. Rows: buyers by
    number of orders (1, 2, 3, 4, 5+), with their share.
    """
    tx = purchases(t, p)
    per = tx.group_by("customer_id").aggregate(orders=tx.count())
    bucket = ibis.ifelse(per.orders >= 5, "5+", per.orders.cast("string"))
    rows = per.group_by(orders=bucket).aggregate(buyers=per.count(), all_orders=per.orders.sum())
    rows = rows.mutate(share=rows.buyers.cast("float64") / rows.buyers.sum().as_scalar())
    return _net(t, p, rows=rows, order_by=("orders",), finish=_sums("all_orders", "buyers", hide=("all_orders",)))


@kpi("value.average_order_value", name="Average order value", family=Family.VALUE, unit=Unit.CURRENCY,
     direction=Direction.HIGHER, requires=VALUE)
def average_order_value(t: Tables, p: Params) -> Computation:
    """Average order value = net revenue / orders, in the period.

    Net revenue = Σ amount over every transaction, refunds (negative amounts) included; orders
    as in ``value.purchase_frequency`` (amount >= 0, not refunded to 0 or below). Rows per month:
    orders, refunds, refunded (amount taken back), revenue (net) and the month's average.
    """
    tx = in_period(t["transactions"], p)
    buys = purchases(t, p)
    orders = buys.group_by(month=buys.ts.truncate("M")).aggregate(orders=buys.count())
    neg = tx.amount < 0
    money = tx.group_by(month=tx.ts.truncate("M")).aggregate(
        refunds=neg.cast("int64").sum(), refunded=ibis.ifelse(neg, -tx.amount, 0.0).sum(),
        revenue=tx.amount.sum())
    rows = money.left_join(orders, "month").select(money.month, orders=orders.orders.fill_null(0),
                                                   refunds=money.refunds, refunded=money.refunded,
                                                   revenue=money.revenue)
    rows = rows.mutate(average_order_value=safe_ratio(rows.revenue, rows.orders))
    # every order's month holds transactions, so the months add up to the whole period
    return _net(t, p, rows=rows, order_by=("month",), finish=_sums("revenue", "orders"),
                needs=((buys.count(), "no purchases in this store's transactions (only refunds)"),))


@kpi("value.repeat_purchase_rate", name="Repeat-purchase rate", family=Family.VALUE, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=VALUE)
def repeat_purchase_rate(t: Tables, p: Params) -> Computation:
    """Repeat-purchase rate = buyers who bought on 2+ distinct days / all buyers.

    Orders as in ``value.purchase_frequency`` (refund rows and orders refunded to 0 or below do
    not count); orders on the same UTC day count once (the CLV models' convention). Rows per
    month of the first purchase: buyers, repeat buyers, rate (recent months have had less time
    to repeat).
    """
    tx = purchases(t, p)
    s = tx.group_by("customer_id").aggregate(cohort=tx.ts.min().truncate("M"), days=day_number(tx.ts).nunique())
    s = s.mutate(repeat=(s.days >= 2).cast("int64"))
    rows = s.group_by("cohort").aggregate(buyers=s.count(), repeat_buyers=s.repeat.sum())
    rows = rows.mutate(repeat_purchase_rate=safe_ratio(rows.repeat_buyers, rows.buyers))
    return _net(t, p, rows=rows, order_by=("cohort",), finish=_sums("repeat_buyers", "buyers"))


@measure("value.purchase_frequency", MeasureKind.MEAN)
def _orders_per_buyer(t: Tables, p: Params):
    """Per buyer: x = their orders."""
    tx = purchases(t, p)
    return tx.group_by("customer_id").aggregate(x=tx.count())


@measure("value.average_order_value", MeasureKind.RATIO)
def _revenue_per_order(t: Tables, p: Params):
    """Per customer with a transaction: num = net revenue (refunds included), den = orders."""
    tx = in_period(t["transactions"], p)
    buys = purchases(t, p)
    orders = buys.group_by("customer_id").aggregate(den=buys.count())
    money = tx.group_by("customer_id").aggregate(num=tx.amount.sum())
    j = money.left_join(orders, "customer_id")
    return j.select(money.customer_id, num=j.num, den=j.den.fill_null(0))


@measure("value.repeat_purchase_rate", MeasureKind.PROPORTION)
def _repeat_buyers(t: Tables, p: Params):
    """Per buyer: x = 1 with orders on 2+ distinct UTC days."""
    tx = purchases(t, p)
    s = tx.group_by("customer_id").aggregate(days=day_number(tx.ts).nunique())
    return s.select("customer_id", x=(s.days >= 2).cast("int64"))


@kpi("value.active_buyers", name="Active buyers per month", family=Family.VALUE, unit=Unit.COUNT,
     direction=Direction.HIGHER, requires=VALUE, span="last_complete_month")
def active_buyers(t: Tables, p: Params) -> Computation:
    """Active buyers = distinct customers with at least one purchase in the month.

    Purchases as in ``value.purchase_frequency`` (refund rows and orders refunded to 0 or below
    do not count). Rows per calendar month (UTC): active buyers, of whom new (first purchase that
    month) and returning, and orders. Headline: the last complete month of the transactions.
    """
    tx = purchases(t, p)
    first = tx.group_by("customer_id").aggregate(first_month=tx.ts.min().truncate("M"))
    per = tx.group_by("customer_id", month=tx.ts.truncate("M")).aggregate(orders=tx.count())
    per = per.join(first, "customer_id")
    rows = per.group_by("month").aggregate(
        active_buyers=per.count(), new_buyers=(per.month == per.first_month).cast("int64").sum(),
        orders=per.orders.sum())
    rows = rows.mutate(returning_buyers=rows.active_buyers - rows.new_buyers,
                       idx=period_index(rows.month, "month"))
    # the headline is read off the rows, beside the last complete month (one row: see the finish)
    rows = rows.cross_join(last_complete_period(t, p, table="transactions", grain="month"))
    return _net(t, p, rows=rows, order_by=("month",),
                finish=Analysis("afterclick.analysis.headline:in_last_complete", (("column", "active_buyers"),)),
                needs=((tx.count(), "no purchases in this store's transactions (only refunds)"),))


@kpi("value.historical_revenue_per_customer", name="Revenue per customer to date", family=Family.VALUE,
     unit=Unit.CURRENCY, direction=Direction.HIGHER, requires=VALUE, uses=("customers",))
def historical_revenue_per_customer(t: Tables, p: Params) -> Computation:
    """Historical revenue per customer = net revenue / buyers, in the period.

    Net revenue = Σ amount over every transaction, refunds included; buyers = customers with at
    least one order (as in ``value.purchase_frequency``). Rows per segment
    (``customers.segment``; "unknown" when absent): buyers, net revenue, revenue per buyer.
    """
    tx = in_period(t["transactions"], p)
    buys = purchases(t, p)
    bought = buys.select("customer_id").distinct().mutate(buyer=ibis.literal(1, "int64"))
    per = tx.group_by("customer_id").aggregate(revenue=tx.amount.sum())
    per = per.left_join(bought, "customer_id").select(per, buyer=bought.buyer.fill_null(0))
    if "customers" in t:
        cu = t["customers"].select("customer_id", "segment")
        per = per.left_join(cu, "customer_id").select(per, segment=cu.segment.fill_null("unknown"))
    else:
        per = per.mutate(segment=ibis.literal("unknown"))
    rows = per.group_by("segment").aggregate(buyers=per.buyer.sum(), revenue=per.revenue.sum())
    rows = rows.mutate(revenue_per_buyer=safe_ratio(rows.revenue, rows.buyers))
    return _net(t, p, rows=rows, order_by=("-revenue", "segment"), finish=_sums("revenue", "buyers"))


@measure("value.historical_revenue_per_customer", MeasureKind.RATIO)
def _revenue_per_buyer(t: Tables, p: Params):
    """Per customer with a transaction: num = net revenue (refunds included), den = 1 for a buyer."""
    tx = in_period(t["transactions"], p)
    bought = purchases(t, p).select("customer_id").distinct().mutate(buyer=ibis.literal(1, "int64"))
    per = tx.group_by("customer_id").aggregate(num=tx.amount.sum())
    j = per.left_join(bought, "customer_id")
    return j.select(per.customer_id, num=j.num, den=j.buyer.fill_null(0))


# -- model-based value --------------------------------------------------------------------------
@kpi("value.predicted_clv", name="Predicted 12-month value per customer", family=Family.VALUE,
     unit=Unit.CURRENCY, direction=Direction.HIGHER, requires=VALUE, uses=("customers",))
def predicted_clv(t: Tables, p: Params) -> Computation:
    """Predicted 12-month value per buyer = mean over buyers of E[purchases] × E[order value],
    month by month, discounted at 1% a month.

    E[purchases] from a BG/NBD model (Fader, Hardie & Lee 2005; a Pareto/NBD model when BG/NBD
    cannot converge, named in the note) and E[order value] from a Gamma-Gamma model (Fader &
    Hardie 2013), both fitted on the buyers' RFM summary in weeks, net of refunds: a refund
    takes from the purchase day of the order it names (``refund_of``), else from the customer's
    latest purchase day before it, and a day left with nothing no longer counts. A customer who
    bought and cancelled everything has no purchase left to predict from.
    Rows: one per buyer (frequency, recency, T, monetary_value, revenue, p_alive,
    purchases_12m, order_value, clv_12m, segment, campaign_id), highest value first.
    """
    rows = customer_value(t, p)
    return Computation(rows=rows, finish=_model("predicted_clv", t, p), order_by=("customer_id",), facts=_refunds(t, p),
                       explain=_refund_notes)


@kpi("value.predicted_clv_by_segment", name="Predicted 12-month value by segment", family=Family.VALUE,
     unit=Unit.CURRENCY, direction=Direction.HIGHER, requires=VALUE, uses=("customers",), headline=False,
     value_label="Best segment, per buyer")
def predicted_clv_by_segment(t: Tables, p: Params) -> Computation:
    """Predicted 12-month value per buyer in each segment (``customers.segment``).

    Rows: segment, buyers, revenue per buyer to date, predicted 12-month value per buyer, the
    segment's total predicted value and mean probability alive. Headline: the best segment's
    predicted value per buyer. Models as in ``value.predicted_clv``.
    """
    rows = customer_value(t, p)
    return Computation(rows=rows, finish=_model("by_segment", t, p), order_by=("customer_id",))


#: Bins of the probability-alive matrix: frequency 0..F, recency in whole weeks.
MATRIX_MAX_FREQUENCY = 20


@kpi("value.probability_alive", name="Probability alive (mean over buyers)", family=Family.VALUE,
     unit=Unit.FRACTION, direction=Direction.HIGHER, requires=VALUE, uses=("customers",))
def probability_alive(t: Tables, p: Params) -> Computation:
    """Probability a buyer is still "alive" (will buy again), averaged over buyers.

    BG/NBD: P(alive | x, t_x, T) = 1 / (1 + 1[x>0] · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)). Rows:
    the recency × frequency matrix for a buyer observed as long as the longest-standing one
    (T = max T): frequency (repeat purchase days, 0..20), recency (weeks from first to last
    purchase), p_alive, and how many buyers fall in that cell.
    """
    rows = customer_value(t, p)
    return Computation(rows=rows, finish=_model("probability_alive", t, p), order_by=("customer_id",))


@kpi("value.campaign_ltv_credit", name="Campaign credit: lifetime value vs first sale", family=Family.VALUE,
     unit=Unit.RATIO, direction=Direction.HIGHER, requires=VALUE, uses=("events", "customers", "campaigns"),
     value_label="Lifetime value (to date + 36 months) per unit of first-sale revenue")
def campaign_ltv_credit(t: Tables, p: Params) -> Computation:
    """Each campaign credited with the lifetime value of the customers it acquired, beside their
    first sale.

    Acquisition as in ``campaigns.clicks_vs_commitment``. first_sale = the acquired customers'
    first purchase day's revenue; lifetime_value = their revenue to date + predicted value of the
    next 36 months (BG/NBD × Gamma-Gamma, 1% a month discount; customers who never bought add
    nothing). Where ``spend`` is known: roi_first_sale = first_sale / spend − 1, roi_lifetime =
    lifetime_value / spend − 1, cac = spend / acquired buyers, ltv_to_cac = lifetime value per
    buyer / cac, payback_months = months of predicted value needed (after revenue to date) to
    cover the spend (0: already covered; empty: not within 36 months). Headline: Σ lifetime value
    / Σ first-sale revenue over all campaigns.
    """
    # every buyer (the models fit on all of them), credited below only where a campaign acquired them
    rows = customer_value(t, p)
    if "campaigns" in t:
        c = t["campaigns"]
        rows = rows.left_join(c, "campaign_id").select(rows, name=c.name.coalesce(rows.campaign_id), spend=c.spend)
    else:
        rows = rows.mutate(name=rows.campaign_id, spend=ibis.null().cast("float64"))

    acquired = rows.campaign_id.notnull().cast("int64").sum()
    return Computation(rows=rows, finish=_model("campaign_ltv_credit", t, p), order_by=("customer_id",),
                       needs=((acquired, "no customer was acquired by a campaign: no click carries a campaign_id, "
                               "and no customer has an acquisition_campaign_id"),))


@kpi("value.engaged_non_buyer_value", name="Value of engaged non-buyers", family=Family.VALUE,
     unit=Unit.CURRENCY, direction=Direction.HIGHER, requires=(*VALUE, "events"))
def engaged_non_buyer_value(t: Tables, p: Params) -> Computation:
    """Expected value of engaged non-buyers = engaged non-buyers × conversion rate of engaged
    people so far × (mean first order + predicted 12-month repeat value of a new buyer).

    Engaged: a deep interaction or active on 2+ days (as ``retention.engaged_non_buyers``).
    Conversion = engaged buyers / engaged people; the new buyer's repeat value = E[X(12
    months)] of the BG/NBD model × the Gamma-Gamma mean order value, discounted monthly. An
    estimate that assumes today's non-buyers convert as earlier engaged people did. Rows: engaged
    buyers and engaged non-buyers with their counts and value per person.
    """
    ft = first_touch(t, p)
    engaged = ft.filter((ft.deep > 0) | (ft.days >= 2)).select("customer_id", engaged=ibis.literal(1))
    rows = customer_value(t, p)
    rows = rows.outer_join(engaged, "customer_id").select(
        customer_id=rows.customer_id.coalesce(engaged.customer_id),
        frequency=rows.frequency, recency=rows.recency, T=rows.T, monetary_value=rows.monetary_value,
        orders=rows.orders.fill_null(0), revenue=rows.revenue.fill_null(0.0),
        first_revenue=rows.first_revenue.fill_null(0.0), engaged=engaged.engaged.fill_null(0),
    )

    return Computation(rows=rows, finish=_model("engaged_non_buyer_value", t, p), order_by=("customer_id",))


@kpi("value.holdout_check", name="CLV model check: predicted vs actual purchases", family=Family.VALUE,
     unit=Unit.RATIO, direction=Direction.NEUTRAL, requires=VALUE, headline=False)
def holdout_check(t: Tables, p: Params) -> Computation:
    """Holdout check = predicted / actual repeat purchase days in the last 26 weeks (half the
    data when it spans under a year), from a BG/NBD model fitted on the weeks before (a
    Pareto/NBD model when BG/NBD cannot converge; the note says which).

    1 means the model foresaw exactly as many purchases as happened. Rows per calibration
    frequency (0..7+): buyers, mean predicted and mean actual purchase days in the holdout.
    """
    rows = holdout_rows(t, p)
    return Computation(rows=rows, finish=_model("holdout_check", t, p), order_by=("customer_id",))


@block(table=False)
def holdout_rows(t: Tables, p: Params):
    """Per buyer: calibration frequency, recency and T, and the purchases of the holdout (an
    expression, kept: the KPI's rows and its fitted model's key read the same one)."""
    tx = in_period(t["transactions"], p)
    b = data_bounds(t, p, "transactions")
    ends = b.select(end_day=day_number(b.data_end))
    b = b.select(end_day=day_number(b.data_end), start_day=day_number(b.data_start))
    span = b.end_day - b.start_day
    hold = ibis.ifelse(span >= 2 * HOLDOUT_DAYS, HOLDOUT_DAYS, span // 2)
    cal = b.select(end_day=(b.end_day - hold).cast("int64"))
    rows = holdout_expr(tx, cal, ends, "W", days=net_days(t, p))
    return rows.select("customer_id", "frequency", "recency", "T", "frequency_holdout", "duration_holdout")
