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
import ibis.expr.types as ir

from afterclick.kpis._common import (
    BLOCK_MONTHS,
    activity,
    bit_or,
    in_last_complete_period,
    in_period,
    integers,
    month_base,
    period_index,
    purchases,
    safe_ratio,
)
from afterclick.kpis._exposure import exposure_bits
from afterclick.kpis.base import Computation, Params, Tables, block, kpi
from afterclick.results import Direction, Family, Unit

STAGES = ("aware", "engaged", "trusting", "loyal", "advocate")
WINDOW_MONTHS = 3
HABIT_DAYS = 10


@block
def customer_stages(t: Tables, p: Params):
    """One row per (customer, month on the ladder) for customers with any active event,
    transaction or survey answer in the window: customer_id, idx, period, stage, rank."""
    return _customer_stages(t, p)


@block
def ladder_months(t: Tables, p: Params):
    """The months the ladder is drawn for: every month with any activity or impression."""

    a = activity(t, p)
    am = a.select("day_ts").distinct()  # a few hundred days, each truncated to its month once
    am = am.select(period=am.day_ts.truncate("M").cast("timestamp")).distinct()
    am = am.select(idx=period_index(am.period, "month"), period=am.period)
    em = _exposure_per_month(t, p)
    em = em.filter(em.shown)
    em = em.select(idx=em.idx, period=ibis.date(em.idx // 12, em.idx % 12 + 1, 1).cast("timestamp"))
    return am.union(em, distinct=True)


def _customer_stages(t: Tables, p: Params):
    zero = ibis.literal(0).cast("int64")
    one = ibis.literal(1).cast("int64")
    a = activity(t, p)
    # which rules a row meets on its own, as bits: 0 advocacy, 1 purchase, 2 deep, 3 engaged (a
    # customer-month, and a window, meets a rule when any of its rows does)
    sig = a.select(
        customer_id=a.customer_id, m=period_index(a.day_ts, "month"),
        flags=sum(((c > 0).cast("int64") * (1 << i) for i, c in ((0, a.advocacy), (2, a.deep), (3, a.engaged))),
                  start=zero),
        buys=zero, days=one,
    )
    if "transactions" in t:
        tx = purchases(t, p)
        sig = sig.union(tx.select(
            customer_id=tx.customer_id, m=period_index(tx.ts, "month"), flags=ibis.literal(1 << 1).cast("int64"),
            buys=one, days=zero,
        ))
    if "responses" in t:
        r = in_period(t["responses"], p)
        r = r.filter((r.survey == "nps") & (r.score >= 9))
        sig = sig.union(r.select(
            customer_id=r.customer_id, m=period_index(r.ts, "month"), flags=one, buys=zero, days=zero,
        ))
    # bit_or and counts with a condition, not sums: DuckDB sums 64-bit integers in 128 bits, which
    # cost this grouping half its time
    cm = sig.group_by(["customer_id", "m"]).aggregate(
        flags=bit_or(sig.flags), buys=sig.count(where=sig.buys == 1), days=sig.count(where=sig.days == 1),
    )
    # A customer's window months idx = m + j (j < WINDOW_MONTHS) of each active month m: each
    # idx is drawn from the latest active month m <= idx (one row, no regrouping), whose window
    # holds the months m + j - 2 .. m; the active months before m in it are read with lag, so
    # one sort per customer serves the whole window.
    w = ibis.window(group_by=cm.customer_id, order_by=cm.m)
    lags = range(1, WINDOW_MONTHS)
    cm = cm.mutate(
        bought_to_date=cm.buys.sum().over(ibis.window(group_by=cm.customer_id, order_by=cm.m, rows=(None, 0))),
        next_m=cm.m.lead().over(w),
        **{f"{c}{k}": cm[c].lag(k).over(w) for k in lags for c in ("m", "flags", "days")},
    )
    j = cm.cross_join(integers(t, p, WINDOW_MONTHS, "j"))
    j = j.filter((j.j == 0) | j.next_m.isnull() | (j.next_m > j.m + j.j))
    flags, days = j.flags, j.days
    for k in lags:
        inside = j[f"m{k}"].notnull() & (j[f"m{k}"] > j.m + j.j - WINDOW_MONTHS)
        flags = flags | ibis.ifelse(inside, j[f"flags{k}"], 0)
        days = days + ibis.ifelse(inside, j[f"days{k}"], 0)
    w = j.select("customer_id", "bought_to_date", idx=j.m + j.j, flags=flags, days=days)
    w = w.join(ladder_months(t, p), "idx")

    def has(bit: int) -> ir.BooleanValue:
        return (w.flags & (1 << bit)) != 0

    stage = ibis.cases(
        (has(0), "advocate"),
        (((w.bought_to_date >= 2) & has(1)) | (w.days >= HABIT_DAYS), "loyal"),
        (has(2) | has(1), "trusting"),
        (has(3), "engaged"),
        else_="aware",
    )
    rank = ibis.cases(*[(stage == s, i) for i, s in enumerate(STAGES)])
    return w.select("customer_id", "idx", "period", stage=stage, rank=rank.cast("int64"))


@block
def seen_only(t: Tables, p: Params):
    """Per month (idx, period, seen_only): see _seen_only."""
    return _seen_only(t, p)


def _seen_only(t: Tables, p: Params):
    """Per month: people on the ladder only through impressions (no row in customer_stages).

    |seen in the window| − |seen in the window and active in it|, both read off the per-person
    bits of impression months (see ``_exposure.exposure_bits``), so each person is counted once
    without a row per customer-month.
    """
    ext = _exposure_windows(t, p)
    base = month_base(t, p)
    cs = customer_stages(t, p).cross_join(base)
    cs = cs.filter(cs.idx >= cs.base)  # nobody saw an impression before the first event
    r = cs.idx - cs.base
    cs = cs.select("customer_id", "idx", block=(r // BLOCK_MONTHS).cast("int64"),
                   k=(r % BLOCK_MONTHS).cast("int64"))
    both = cs.join(ext, ["customer_id", "block"])
    both = both.filter(((both.ext >> both.k) & _WINDOW_BITS) != 0)
    overlap = both.group_by("idx").aggregate(active_seen=both.count())
    per = _exposure_per_month(t, p)
    out = ladder_months(t, p).left_join(per, "idx").left_join(overlap, "idx")
    return out.select(
        out.idx, out.period, seen_only=out.seen.fill_null(0) - out.active_seen.fill_null(0)
    )


#: Bits of a month's window in ``ext`` (see _exposure_windows) shifted down to bit 0: the month
#: and the two before it.
_WINDOW_BITS = ibis.literal(7).cast("int64")


@block
def _exposure_per_month(t: Tables, p: Params):
    """Per month index ``idx``: ``seen``, people with an impression in the month's window (the
    month and the two before it), and ``shown``, whether anyone saw an impression in the month
    itself. Months of blocks without impressions have no row."""

    ext = _exposure_windows(t, p)
    # people sharing a pattern of months are counted together (a hundred thousand patterns for a
    # million people on the large demo), so the per-month tests below run once per pattern
    ext = ext.group_by("block", "ext").aggregate(n=ext.count())
    per = ext.cross_join(integers(t, p, BLOCK_MONTHS))
    # months with any impression: bit k + 2 of a pattern
    per = per.group_by("block", "k").aggregate(
        seen=ibis.ifelse(((per.ext >> per.k) & _WINDOW_BITS) != 0, per.n, 0).sum(),
        shown=(((per.ext >> (per.k + 2)) & 1) != 0).any(),
    )
    per = per.cross_join(month_base(t, p))
    return per.select(idx=per.base + per.block * BLOCK_MONTHS + per.k, seen=per.seen, shown=per.shown)


@block
def _exposure_windows(t: Tables, p: Params):
    """Per customer and block: ``ext``, whose bit j + 2 is an impression in month j of the block,
    j from −2 (the last two months of the block before, which fall in the first windows)."""

    ex = exposure_bits(t, p)
    carry = ex.filter((ex.months >> (BLOCK_MONTHS - 2)) != 0)
    carry = carry.select(c_id=carry.customer_id, c_block=carry.block + 1,
                         carried=carry.months >> (BLOCK_MONTHS - 2))
    # nothing is carried into the first block: only the later ones (none, usually) go through
    # the join, not the row of every person who saw an impression
    first = ex.filter(ex.block == 0)
    first = first.select("customer_id", block=first.block.cast("int64"), ext=(first.months << 2).cast("int64"))
    later = ex.filter(ex.block > 0)
    j = later.outer_join(carry, [later.customer_id == carry.c_id, later.block == carry.c_block])
    own = j.months.fill_null(0)
    return first.union(j.select(
        customer_id=j.customer_id.coalesce(j.c_id), block=j.block.coalesce(j.c_block).cast("int64"),
        ext=((own << 2) | j.carried.fill_null(0)).cast("int64"),
    ))


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
    rows = _movement_rows(t, p)
    latest = in_last_complete_period(rows, t, p, "month")
    return Computation(value=latest.net_up.max(), rows=rows.drop("idx"), order_by=("period",))


@block
def _movement_rows(t: Tables, p: Params):
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
    return rows.mutate(net_up=rows.up - rows.down)
