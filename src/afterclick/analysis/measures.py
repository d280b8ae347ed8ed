"""Per-arm sufficient statistics of the experiment metrics, as Ibis aggregates.

Every metric is measured per assigned customer from the assignment time on. ``customers``
builds one row per customer of one experiment with every per-customer measure (the customer
is the only group key): impressions counted apart, every other event measure in one aggregate
over the active events (its windowed flags one ``bit_or``, its active UTC days bit masks
counted by ``bit_count``, builtins DuckDB and Spark SQL share), orders and survey answers
left-joined; the aggregates group it by (experiment_id, variant) and return sums only (n, Σx,
Σx², cross products), so the same expressions run on any Ibis backend; nothing is pulled into
pandas before the aggregate runs.

Definitions (``DAY`` = 86,400 s, ``Δ`` = event time − assignment time, in seconds with the
microseconds kept, the same double on DuckDB and Spark; "active" = any event but an impression):

* return within N days (7, 30, 90): an active event with 30 minutes < Δ ≤ N days (the session
  gap the KPIs use: the session the customer was assigned in is not a return); only customers
  assigned at least N days before the data's end count for window N. CUPED covariate of the
  30-day return: active in the 30 days before assignment (0/1).
* return curve: days from assignment to the first return, censored at the data's end or at
  ``CURVE_DAYS``; per-day at-risk and event counts for the log-rank test.
* active weeks: distinct weeks (Δ // 7 days) with an active event among the 8 weeks after
  assignment; customers assigned at least 56 days before the end. Covariate: active weeks among
  the 8 weeks before. ``week{k}``: active in exposure week k + 1 (the novelty check).
* repeat purchase within 90 days: two or more orders (amount > 0) with 0 ≤ Δ < 90 days.
* revenue within 90 days: Σ amount with 0 ≤ Δ < 90 days, refunds (negative amounts) included;
  covariate: the same sum over the 90 days before. Both winsorised at pooled percentile caps
  (``revenue_caps``) before they are summed.
* clicks per customer and CTR (Σ clicks ÷ Σ impressions, a ratio metric) with Δ ≥ 0; covariate
  of clicks: clicks in the 90 days before.
* deep interactions per visit within 90 days (a ratio metric): Σ deep events ÷ Σ visits with
  0 < Δ ≤ 90 days, customers assigned at least 90 days before the end.
* commitment-ladder step-up: the customer's ladder rung over the 90 days after assignment is
  above the rung over the 90 days before, by the rules of ``afterclick.kpis.ladder`` (advocate:
  a referral, a share or an NPS 9-10; loyal: 2+ orders to date with one in the window, or 10+
  active UTC days among the 90 before the assignment day (from it on, after); trusting: a deep event or an order; engaged: an engaged event; else none).
* NPS and CSAT (share of 4-5 on 1-5): each customer's first answer after assignment.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir

from afterclick.kpis._common import DEEP, ENGAGED, bit_or, epoch_s

DAY = 86_400
RETURN_WINDOWS = (7, 30, 90)
ACTIVE_WEEKS = 8
VALUE_DAYS = 90
LADDER_DAYS = 90
CURVE_DAYS = 90
#: A return is an active event more than this many seconds after assignment (a new session).
RETURN_GAP_S = 30 * 60
PRE_CLICK_DAYS = 90
#: The pooled percentile revenue is capped at (winsorising; whales dominate a mean otherwise).
CAP_QUANTILE = 0.99
ADVOCACY = ("referral", "share")


def data_end(tables: dict[str, ir.Table]) -> float | None:
    """The latest event or order time (epoch seconds): the data's end, against which windows
    are eligible. One small aggregate per table, executed here."""
    ends = []
    for name in ("events", "transactions"):
        if name in tables:
            v = epoch_s(tables[name].ts.max()).execute()  # the max first: one value to convert
            if v is not None and not math.isnan(v):
                ends.append(float(v))
    return max(ends) if ends else None


def _assigned(tables: dict[str, ir.Table]) -> ir.Table:
    a = tables["assignments"]
    return a.select(a.experiment_id, a.customer_id, a.variant, a_s=epoch_s(a.ts))


def arm_counts(tables: dict[str, ir.Table]) -> ir.Table:
    """Assigned customers per (experiment_id, variant), with the first and last assignment."""
    a = tables["assignments"]
    return a.group_by(["experiment_id", "variant"]).aggregate(
        n=a.count(), first_s=epoch_s(a.ts).min(), last_s=epoch_s(a.ts).max())


@ibis.udf.scalar.builtin(name="bit_count")
def bit_count(x: int) -> int:  # type: ignore[empty-body]
    """Set bits of a 64-bit integer: ``bit_count`` in DuckDB and Spark SQL alike."""


#: Bits of a customer's ``flags`` (one OR over their events instead of twenty-two maxima):
#: active in the 30 days before assignment; engaged, deep, advocacy event in the LADDER_DAYS
#: before (1-3) and after (4-6); active in exposure week k (8 + k) and in week k before (16 + k).
FLAGS = {"pre_active30": 0,
         **{f"{c}_{w}": b + 3 * i for i, w in enumerate(("pre", "post"))
            for b, c in enumerate(("eng", "deep", "adv"), start=1)},
         **{f"week{k}": 8 + k for k in range(ACTIVE_WEEKS)},
         **{f"pre_week{k}": 16 + k for k in range(ACTIVE_WEEKS)}}
WEEK_BITS = sum(1 << (8 + k) for k in range(ACTIVE_WEEKS))
PRE_WEEK_BITS = WEEK_BITS << 8
#: Active UTC days from LADDER_DAYS before the assignment day to LADDER_DAYS after, one bit
#: each, in masks of DAY_BITS (a signed 64-bit integer holds them): distinct days by bit counts.
DAY_BITS = 45


def flag(c: ir.Table, name: str) -> ir.IntegerValue:
    """1 when the customer's ``flags`` has ``name`` (see ``FLAGS``), else 0."""
    return ((c.flags & (1 << FLAGS[name])) != 0).cast("int64")


def _count(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.cast("int64").sum()


def _any(cond: ir.BooleanValue) -> ir.IntegerValue:
    return cond.cast("int64").max()


def _between(d: ir.NumericValue, lo_days: float, hi_days: float) -> ir.BooleanValue:
    """lo ≤ Δ < hi (in days)."""
    return (d >= lo_days * DAY) & (d < hi_days * DAY)


def _bit(cond: ir.BooleanValue, shift: ir.IntegerValue) -> ir.IntegerValue:
    """2**shift where ``cond`` holds, else 0 (the shift is only taken where it holds)."""
    one, zero = ibis.literal(1).cast("int64"), ibis.literal(0).cast("int64")
    return ibis.ifelse(cond, one << shift.cast("int32"), zero)


#: What an event is, as bits of one small integer computed once per event (``KIND``): an
#: integer test per measure instead of a string comparison.
ENG, DEEP_BIT, ADV, CLICK, VISIT, IMP, ACT = 1, 2, 4, 8, 16, 32, 64


def _kind(name: str) -> int:
    return ((ENG if name in ENGAGED else 0) | (DEEP_BIT if name in DEEP else 0)
            | (ADV if name in ADVOCACY else 0) | (CLICK if name == "click" else 0)
            | (VISIT if name == "visit" else 0) | (IMP if name == "impression" else ACT))


KIND = {n: _kind(n) for n in ("impression", "click", "visit", *ENGAGED, *DEEP, *ADVOCACY)}


def _event_facts(e: ir.Table) -> ir.Table:
    """Each event reduced to numbers before the join: its time, UTC day and ``kind`` (the
    bits of ``KIND``; a name outside the vocabulary is active and nothing more)."""
    f_s = epoch_s(e.ts)
    kind = ibis.ifelse(e.event.isnull(), 0, e.event.substitute(KIND, else_=ACT))
    return e.select(e.customer_id, f_s=f_s, f_day=(f_s // DAY).cast("int64"),
                    kind=kind.cast("int64"))


def _is(j: ir.Table, bit: int) -> ir.BooleanValue:
    return (j.kind & bit) != 0


def _event_metrics(j: ir.Table) -> dict:
    """Every per-customer measure of the active events in one aggregate (``d``: Δ in
    seconds, ``dd``: UTC days since the assignment day)."""
    d, act = j.d, _is(j, ACT)
    week, pre_week = (d // (7 * DAY)).cast("int64"), ((-d) // (7 * DAY)).cast("int64")
    in90 = (d > 0) & (d <= VALUE_DAYS * DAY)
    zero = ibis.literal(0, type="int64")
    cls = j.kind & (ENG | DEEP_BIT | ADV)
    window = ibis.ifelse(_between(d, -LADDER_DAYS, 0), cls * 2,
                         ibis.ifelse(_between(d, 0, LADDER_DAYS), cls * 16, zero))
    flags = (ibis.ifelse(act & _between(d, -30, 0), 1, zero) + window
             + _bit(act & (d > 0) & (week < ACTIVE_WEEKS), week + 8)
             + _bit(act & (d < 0) & (pre_week < ACTIVE_WEEKS), pre_week + 16))
    idx = j.dd + LADDER_DAYS
    out = {
        "ret_s": ibis.ifelse(act & (d > RETURN_GAP_S), d, None).min(),
        "clicks": _count(_is(j, CLICK) & (d >= 0)),
        "pre_clicks": _count(_is(j, CLICK) & _between(d, -PRE_CLICK_DAYS, 0)),
        "deep90": _count(_is(j, DEEP_BIT) & in90),
        "visits90": _count(_is(j, VISIT) & in90),
        "flags": bit_or(flags),
    }
    for m in range(2 * LADDER_DAYS // DAY_BITS):
        lo = m * DAY_BITS
        out[f"days{m}"] = bit_or(_bit(act & (idx >= lo) & (idx < lo + DAY_BITS), idx - lo))
    return out


def _order_metrics(j: ir.Table) -> dict:
    buy = j.amount > 0
    inside = _between(j.d, 0, VALUE_DAYS)
    return {"orders": _count(inside & buy),
            "revenue": ibis.ifelse(inside, j.amount, 0.0).sum(),
            "pre_revenue": ibis.ifelse(_between(j.d, -VALUE_DAYS, 0), j.amount, 0.0).sum(),
            "orders_before": _count(buy & (j.d < 0)),
            "buy_pre": _any(buy & _between(j.d, -LADDER_DAYS, 0)),
            "buy_post": _any(buy & _between(j.d, 0, LADDER_DAYS))}


def _promoter_metrics(j: ir.Table) -> dict:
    promoter = (j.survey == "nps") & (j.score >= 9)
    return {"prom_pre": _any(promoter & _between(j.d, -LADDER_DAYS, 0)),
            "prom_post": _any(promoter & _between(j.d, 0, LADDER_DAYS))}


def _per_customer(a: ir.Table, facts: ir.Table, metrics) -> ir.Table:
    """Per-customer aggregates of ``facts`` joined on customer with Δ (``d``) and, for facts
    with a UTC day, the days since the assignment day (``dd``)."""
    rest = [facts[c] for c in facts.columns if c not in ("customer_id", "f_s", "f_day")]
    extra = {"dd": facts.f_day - a.a_day} if "f_day" in facts.columns else {}
    j = a.join(facts, a.customer_id == facts.customer_id).select(
        a.customer_id, *rest, d=facts.f_s - a.a_s, **extra)
    return j.group_by("customer_id").aggregate(**metrics(j))


def customers(tables: dict[str, ir.Table], experiment_id: str) -> ir.Table:
    """One row per customer assigned in ``experiment_id`` with every per-customer measure.

    The impressions (most events) are counted apart; every other measure of the active events
    comes from one aggregate (flags and active days as bits), and the orders and survey
    answers from one each; all are reduced per customer and then joined on. A table the store
    lacks leaves its measures out (the metrics that need them are skipped with a reason)."""
    a = tables["assignments"]
    a = a.filter(a.experiment_id == experiment_id)
    a_s = epoch_s(a.ts)
    a = a.select(a.customer_id, a.variant, a_s=a_s, a_day=(a_s // DAY).cast("int64"))
    parts = []
    if "events" in tables:
        e = tables["events"]
        imps = e.filter(e.event == "impression")
        parts.append(_per_customer(a, imps.select(imps.customer_id, f_s=epoch_s(imps.ts)),
                                   lambda j: {"impressions": _count(j.d >= 0)}))
        act = e.filter(e.event != "impression")
        parts.append(_per_customer(a, _event_facts(act), _event_metrics))
    if "transactions" in tables:
        t = tables["transactions"]
        parts.append(_per_customer(a, t.select(t.customer_id, t.amount, f_s=epoch_s(t.ts)),
                                   _order_metrics))
    if "responses" in tables:
        r = tables["responses"]
        r = r.filter((r.survey == "nps") & r.score.notnull())
        parts.append(_per_customer(a, r.select(r.customer_id, r.survey, r.score,
                                               f_s=epoch_s(r.ts)), _promoter_metrics))
    out = a.drop("a_day")
    for part in parts:
        out = out.left_join(part, out.customer_id == part.customer_id).select(
            out, *[part[c] for c in part.columns if c != "customer_id"])
    zero = ibis.literal(0).cast("int64")
    for col in ("orders", "orders_before", "buy_pre", "buy_post", "prom_pre", "prom_post"):
        if col not in out.columns and "events" in tables:
            out = out.mutate(**{col: zero})  # the ladder's rules without orders or answers
    keep = ("customer_id", "variant", "a_s", "ret_s")
    out = out.mutate(**{c: out[c].fill_null(0) for c in out.columns if c not in keep})
    if "events" in tables:
        half = LADDER_DAYS // DAY_BITS
        days = [bit_count(out[f"days{m}"]).cast("int64") for m in range(2 * half)]
        out = out.mutate(weeks=bit_count(out.flags & WEEK_BITS).cast("int64"),
                         pre_weeks=bit_count(out.flags & PRE_WEEK_BITS).cast("int64"),
                         days_pre=sum(days[1:half], days[0]),
                         days_post=sum(days[half + 1:], days[half]))
        out = out.drop(*[f"days{m}" for m in range(2 * half)])
    return out.mutate(experiment_id=ibis.literal(experiment_id))


def _sums(prefix: str, x: ir.NumericValue, ok: ir.BooleanValue | None = None,
          pre: ir.NumericValue | None = None) -> dict:
    """n, Σx, Σx² (and Σpre, Σpre², Σx·pre) over the rows where ``ok``."""
    w = x.notnull() if ok is None else ok  # the columns are filled: every row
    w = w.cast("int64")
    xs = x * w
    out = {f"{prefix}_n": w.sum(), f"{prefix}_sum": xs.sum(), f"{prefix}_ss": (xs * x).sum()}
    if pre is not None:
        ps = pre * w
        out |= {f"{prefix}_pre_sum": ps.sum(), f"{prefix}_pre_ss": (ps * pre).sum(),
                f"{prefix}_cross": (xs * pre).sum()}
    return out


def _rung(c: ir.Table, when: str, orders_to_date: ir.IntegerValue) -> ir.IntegerValue:
    adv = (flag(c, f"adv_{when}") > 0) | (c[f"prom_{when}"] > 0)
    buy = c[f"buy_{when}"] > 0
    loyal = ((orders_to_date >= 2) & buy) | (c[f"days_{when}"] >= 10)
    return ibis.cases((adv, 4), (loyal, 3), (buy | (flag(c, f"deep_{when}") > 0), 2),
                      (flag(c, f"eng_{when}") > 0, 1), else_=0)


def revenue_caps(c: ir.Table, end: float, quantile: float = CAP_QUANTILE) -> ir.Table:
    """Per experiment: the pooled ``quantile`` of 90-day revenue and of pre-period revenue over
    the eligible customers of every arm (``quantile_cont``, linear interpolation)."""
    ok = c.filter((end - c.a_s) >= VALUE_DAYS * DAY)
    return ok.group_by("experiment_id").aggregate(rev_cap=ok.revenue.quantile(quantile),
                                                  pre_rev_cap=ok.pre_revenue.quantile(quantile))


def arm_sums(c: ir.Table, end: float) -> ir.Table:
    """Every metric's sufficient statistics per (experiment_id, variant) from ``customers``
    (revenue capped where ``with_caps`` added the caps)."""
    age = end - c.a_s
    cols = set(c.columns)
    aggs: dict = {"n_all": c.count()}
    if "clicks" in cols:
        aggs |= _sums("clicks", c.clicks, pre=c.pre_clicks)
        aggs |= {"imps_sum": c.impressions.sum(), "imps_ss": (c.impressions * c.impressions).sum(),
                 "ci_cross": (c.clicks * c.impressions).sum()}
        aggs |= _sums("weeks", c.weeks, age >= ACTIVE_WEEKS * 7 * DAY, c.pre_weeks)
        for w in RETURN_WINDOWS:
            ok = age >= w * DAY
            aggs[f"ret{w}_n"] = _count(ok)
            aggs[f"ret{w}_k"] = _count(ok & c.ret_s.notnull() & (c.ret_s <= w * DAY))
        got30 = (c.ret_s.notnull() & (c.ret_s <= 30 * DAY)).cast("int64")
        aggs |= _sums("ret30c", got30, age >= 30 * DAY, flag(c, "pre_active30"))
        ok90 = (age >= VALUE_DAYS * DAY).cast("int64")
        deep, visits = c.deep90 * ok90, c.visits90 * ok90
        aggs |= {"deep_n": ok90.sum(), "deep_sum": deep.sum(), "deep_ss": (deep * deep).sum(),
                 "visits_sum": visits.sum(), "visits_ss": (visits * visits).sum(),
                 "dv_cross": (deep * visits).sum()}
        for k in range(ACTIVE_WEEKS):
            ok = age >= (k + 1) * 7 * DAY
            aggs[f"wk{k}_n"], aggs[f"wk{k}_k"] = _count(ok), _count(ok & (flag(c, f"week{k}") > 0))
        before = _rung(c, "pre", c.orders_before)
        after = _rung(c, "post", c.orders_before + c.orders)
        ok = age >= LADDER_DAYS * DAY
        aggs["ladder_n"], aggs["ladder_k"] = _count(ok), _count(ok & (after > before))
    if "revenue" in cols:
        ok = age >= VALUE_DAYS * DAY
        rev, pre = c.revenue, c.pre_revenue
        if "rev_cap" in cols:
            rev = ibis.ifelse(c.rev_cap.notnull() & (rev > c.rev_cap), c.rev_cap, rev)
            pre = ibis.ifelse(c.pre_rev_cap.notnull() & (pre > c.pre_rev_cap), c.pre_rev_cap, pre)
        aggs["value_n"] = _count(ok)
        aggs["repeat_k"] = _count(ok & (c.orders >= 2))
        aggs |= _sums("rev", rev, ok, pre)
    return c.group_by(["experiment_id", "variant"]).aggregate(**aggs)


def with_caps(c: ir.Table, caps: dict[str, tuple[float | None, float | None]]) -> ir.Table:
    """``customers`` with each experiment's revenue caps (executed ``revenue_caps``: experiment
    → (rev_cap, pre_rev_cap)) as columns; an experiment without a cap is left uncapped."""
    def column(i: int) -> ir.FloatingValue:
        pairs = [(c.experiment_id == eid, float(v[i])) for eid, v in caps.items()
                 if v[i] is not None and math.isfinite(v[i])]
        none = ibis.literal(None).cast("float64")
        return ibis.cases(*pairs, else_=none) if pairs else none
    return c.mutate(rev_cap=column(0), pre_rev_cap=column(1))


def return_days(c: ir.Table, end: float, horizon: int = CURVE_DAYS) -> ir.Table:
    """Per (experiment_id, variant, day, returned): customers whose follow-up ends on that day
    since assignment, by a first return (returned = 1) or by censoring (the data's end or the
    horizon). The log-rank test's risk tables are read off these counts."""
    follow = ibis.least(end - c.a_s, horizon * DAY)
    hit = c.ret_s.notnull() & (c.ret_s <= follow)
    t = ibis.ifelse(hit, c.ret_s, follow)
    rows = c.filter(follow >= 0).select(c.experiment_id, c.variant,
                                        day=(t // DAY).cast("int64"), returned=hit.cast("int64"))
    return rows.group_by(["experiment_id", "variant", "day", "returned"]).aggregate(n=rows.count())


def survey_sums(tables: dict[str, ir.Table]) -> ir.Table:
    """NPS categories and CSAT satisfied among customers who answered after assignment."""
    r = tables["responses"]
    r = r.filter(r.survey.isin(["nps", "csat"]) & r.score.notnull())
    a = _assigned(tables)
    j = a.join(r, a.customer_id == r.customer_id).select(
        a.experiment_id, a.customer_id, a.variant, r.survey, r.score, d=epoch_s(r.ts) - a.a_s)
    j = j.filter(j.d >= 0)
    first = j.group_by(["experiment_id", "customer_id", "variant", "survey"]).aggregate(
        score=j.score.argmin(j.d))
    nps, csat = first.survey == "nps", first.survey == "csat"
    return first.group_by(["experiment_id", "variant"]).aggregate(
        promoters=_count(nps & (first.score >= 9)),
        passives=_count(nps & (first.score >= 7) & (first.score < 9)),
        detractors=_count(nps & (first.score < 7)),
        csat_n=_count(csat), csat_k=_count(csat & (first.score >= 4)))
