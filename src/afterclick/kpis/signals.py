"""Early signals of a budding relationship: what people do in their first two weeks that
predicts they will still be around, and buying, months later.

The engine builds one row per customer (pure Ibis); the model (regularised logistic regression,
validated on later cohorts) fits on that summary in ``afterclick.analysis.signals``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.core.periods import SECONDS_PER_DAY
from afterclick.kpis._common import (
    active_events,
    activity,
    any_activity,
    data_bounds,
    epoch_s,
    first_touch,
    purchases,
)
from afterclick.kpis.base import Analysis, Computation, Params, Tables, block, kpi
from afterclick.results import Direction, Family, Unit
from afterclick.schemas import EVENT_VOCABULARY, EventClass

DAY = SECONDS_PER_DAY
#: The first days whose behaviour is read, and the later window whose outcome is predicted.
EARLY_DAYS, OUTCOME_FROM_DAYS, OUTCOME_TO_DAYS = 14, 90, 180
#: Every non-exposure event of the vocabulary, and an early purchase.
BEHAVIOURS = (*(name for name, c in EVENT_VOCABULARY.items() if c is not EventClass.EXPOSURE), "purchase")
#: The models fit on the earliest 70% of customers by first touch and are scored on the rest.
TRAIN_SHARE = 0.7
#: Customers this close to the cut keep their place in the patterns: the model rounds the cut
#: itself (``round(n * TRAIN_SHARE)``), so the engine never has to round exactly as Python does.
NEAR_CUT = 2


@block
def early_patterns(t: Tables, p: Params) -> ir.Table:
    """The early summary folded into its distinct patterns, what the models read: one 0/1 flag
    per behaviour (did it at all), ``retained``, ``bought_later``, ``train`` (among the earliest
    ``TRAIN_SHARE`` of customers by first touch, ties broken by customer_id), ``position`` (the
    customer's place in that order, from 0, kept only for the few customers beside the cut,
    whose side the model decides exactly; NULL for the others), ``customers`` (how many share
    the pattern), ``spend_180`` (their summed spend) and ``first_ts`` (the earliest first touch).

    A few thousand rows instead of one per customer: the fits and the AUC are weighted sums over
    customers, so they read the same numbers (``afterclick.signals.model``)."""
    return fold_patterns(early_summary(t, p))


def fold_patterns(s: ir.Table) -> ir.Table:
    """:func:`early_patterns` of an early summary ``s``."""
    order = ibis.window(order_by=[s.first_ts, s.customer_id])
    place = ibis.row_number().over(order)  # from 0
    cut = (s.customer_id.count().over(ibis.window()).cast("float64") * TRAIN_SHARE).floor().cast("int64")
    near = (place >= cut - NEAR_CUT) & (place <= cut + NEAR_CUT + 1)
    s = s.mutate(train=place < cut - NEAR_CUT, position=ibis.ifelse(near, place, ibis.null().cast("int64")))
    flags = {b: (s[b] > 0).cast("int64") for b in BEHAVIOURS}
    return s.group_by(**flags, retained=s.retained, bought_later=s.bought_later, train=s.train,
                      position=s.position).aggregate(
        customers=s.count(), spend_180=s.spend_180.sum(), first_ts=s.first_ts.min())


def early_summary(t: Tables, p: Params) -> ir.Table:
    """One row per customer first active at least 180 days before the data end: customer_id,
    first_ts, one count per behaviour in their first 14 days (event names, and ``purchase`` =
    orders), ``retained`` (1 if active between day 90 and day 180), ``bought_later`` (1 if
    they ordered between day 14 and day 180) and ``spend_180`` (order amounts in the first 180
    days). Days count from the first active (non-impression) event."""
    ft = first_touch(t, p).cross_join(data_bounds(t, p))
    first_s = epoch_s(ft.first_ts)
    people = ft.filter((epoch_s(ft.data_end) - first_s) >= OUTCOME_TO_DAYS * DAY).select(
        "customer_id", "first_ts", first_s=first_s)

    ev = active_events(t, p).select("customer_id", "ts", "event")
    ev = ev.inner_join(people, "customer_id")
    ev = ev.filter((epoch_s(ev.ts) - ev.first_s) < EARLY_DAYS * DAY)
    # counts, not sums of 0/1: DuckDB sums integers into 128 bits, which come back as decimals
    # that pandas holds as Python objects (0.5 s of conversion on a million customers)
    counts = ev.group_by("customer_id").aggregate(
        **{name: ev.count(where=ev.event == name) for name in BEHAVIOURS if name != "purchase"})

    # a customer-day holds events in [day 90, day 180) exactly when its last event is on or after
    # day 90 and its first before day 180 (a day is shorter than the window)
    a = activity(t, p).inner_join(people, "customer_id")
    a = a.filter(((epoch_s(a.last_ts) - a.first_s) >= OUTCOME_FROM_DAYS * DAY)
                 & ((epoch_s(a.first_ts) - a.first_s) < OUTCOME_TO_DAYS * DAY))
    kept = a.select("customer_id").distinct().mutate(retained=ibis.literal(1, "int64"))

    out = people.left_join(counts, "customer_id").select(
        people, **{name: counts[name].fill_null(0) for name in BEHAVIOURS if name != "purchase"})
    out = out.left_join(kept, "customer_id").select(out, retained=kept.retained.fill_null(0))
    if "transactions" in t:
        tx = purchases(t, p).select("customer_id", "ts", amount="net").inner_join(people, "customer_id")
        off = epoch_s(tx.ts) - tx.first_s
        tx = tx.filter((off >= 0) & (off < OUTCOME_TO_DAYS * DAY))
        off = epoch_s(tx.ts) - tx.first_s
        money = tx.group_by("customer_id").aggregate(
            purchase=tx.count(where=off < EARLY_DAYS * DAY),
            bought_later=(off >= EARLY_DAYS * DAY).cast("int64").max(),
            spend_180=tx.amount.sum(),
        )
        out = out.left_join(money, "customer_id").select(
            out, purchase=money.purchase.fill_null(0), bought_later=money.bought_later.fill_null(0),
            spend_180=money.spend_180.fill_null(0.0))
    else:
        zero = ibis.literal(0, "int64")
        out = out.mutate(purchase=zero, bought_later=zero, spend_180=ibis.null().cast("float64"))
    return out.drop("first_s")


def _indicators(t: Tables, p: Params, outcome: str, what: str) -> Computation:
    """The early patterns, and the model fitted on them in ``afterclick.analysis.signals``."""
    features = tuple(b for b in BEHAVIOURS if not (b == "purchase" and "transactions" not in t))
    fit = Analysis("afterclick.analysis.signals:indicators",
                   (("outcome", outcome), ("what", what), ("features", features), ("train_share", TRAIN_SHARE)))
    return Computation(value=None, rows=early_patterns(t, p), finish=fit, needs=(any_activity(t, p),))


# the AUC reads best with two decimals, as ratios are shown
_COMMON = dict(family=Family.SIGNALS, unit=Unit.RATIO, direction=Direction.HIGHER, uses=("transactions",))


@kpi("signals.leading_indicators", name="Leading indicators of a relationship",
     value_label="AUC on later cohorts", **_COMMON)
def leading_indicators(t: Tables, p: Params) -> Computation:
    """First-14-day behaviours ranked by how strongly they predict being active 90-180 days on.

    Cohort: customers first active (non-impression event) at least 180 days before the data
    end. Features: did each event (and a purchase) in the first 14 days, as 0/1, standardised.
    Outcome: any active event between day 90 and day 180. Model: L2-regularised logistic
    regression (C = 1), 95% Wald intervals; ranked by the lower end of each behaviour's odds-ratio
    interval (doing it vs not, others held fixed: what the data are sure of). Headline:
    AUC on the latest 30% of customers by first-touch time, the model fitted on the earlier 70%,
    with the Hanley-McNeil (1982) interval.
    """
    return _indicators(t, p, "retained", "activity 90-180 days on")


@kpi("signals.value_indicators", name="Leading indicators of value", headline=False,
     value_label="AUC on later cohorts", **_COMMON)
def value_indicators(t: Tables, p: Params) -> Computation:
    """First-14-day behaviours ranked by how strongly they predict buying between day 14 and day 180.

    As signals.leading_indicators, with the outcome any order 14 to 180 days after the first
    active event; each row also shows mean spend in the first 180 days of doers and others.
    Headline: AUC on the later cohorts.
    """
    return _indicators(t, p, "bought_later", "buying 14-180 days on")
