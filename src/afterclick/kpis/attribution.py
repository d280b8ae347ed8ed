"""Attribution: which channels and campaigns deserve credit for first sales and for relationships.

Each customer's journey is their ordered *touches* — clicks that carry a channel (ads, e-mails,
posts, organic results): the moments marketing brought the person in. Visits, likes and deep
events are what happens after a touch, not touches, so they earn no credit themselves.
The engine builds one row per touch (pure Ibis: who, position in the journey, channel or
campaign, the journey's outcome); the path models run on that summary in
``afterclick.analysis.attribution``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.core.periods import SECONDS_PER_DAY
from afterclick.kpis._common import data_bounds, epoch_s, events, first_touch, purchases, safe_ratio
from afterclick.kpis.base import Analysis, Computation, Params, Tables, kpi
from afterclick.results import Direction, Family, Unit
from afterclick.schemas import DERIVED_TABLES

#: The events that count as marketing touches.
TOUCH_EVENTS = ("click",)
NO_CAMPAIGN = "(no campaign)"
#: Where predicted lifetime value comes from once the customer-value models store it: the
#: relationship KPIs credit it as their value when this derived table is in the store.
LIFETIME_VALUE_TABLE, LIFETIME_VALUE_COLUMN = "clv", "predicted_clv"


def _touches(t: Tables, p: Params, by: str) -> ir.Table:
    """customer_id, ts and ``key`` (channel, or campaign_id with organic clicks as NO_CAMPAIGN);
    by campaign also ``campaign_name`` (the campaigns table's name, NULL where it has none).

    Without events, the touches are the campaigns the orders name (``transactions.campaign_id``;
    by channel, that campaign's channel in the campaigns table): the only touch data there is."""
    if "events" not in t:
        return _order_touches(t, p, by)
    ev = events(t, p)
    ev = ev.filter(ev.event.isin(TOUCH_EVENTS) & ev.channel.notnull())
    if by == "channel":
        return ev.select("customer_id", "ts", key=ev.channel)
    touches = ev.select("customer_id", "ts", key=ev.campaign_id.fill_null(NO_CAMPAIGN))
    return _named(t, touches)


def _order_touches(t: Tables, p: Params, by: str) -> ir.Table:
    tx = purchases(t, p)
    tx = tx.filter(tx.campaign_id.notnull()).select("customer_id", "ts", key=tx.campaign_id)
    if by == "channel":
        if "campaigns" not in t:  # no channel to name: no touch
            return tx.filter(ibis.literal(False))
        c = t["campaigns"]
        c = c.filter(c.channel.notnull()).select(cid=c.campaign_id, channel=c.channel)
        return tx.join(c, tx.key == c.cid).select("customer_id", "ts", key=c.channel)
    return _named(t, tx)


def _named(t: Tables, touches: ir.Table) -> ir.Table:
    if "campaigns" not in t:
        return touches.mutate(campaign_name=ibis.null().cast("string"))
    c = t["campaigns"]
    c = c.select(cid=c.campaign_id, campaign_name=c.name)
    return touches.left_join(c, touches.key == c.cid).select(touches, "campaign_name")


def _numbered(touches: ir.Table, outcome: ir.Table, before) -> ir.Table:
    """Touches joined to their journey's outcome (customer_id, converted, value, …), those for
    which ``before(row)`` holds, numbered in time order (ties broken by key: engines agree)."""
    j = touches.inner_join(outcome, "customer_id")
    j = j.filter(before(j))
    w = ibis.window(group_by=j.customer_id, order_by=[j.ts, j.key])
    names = ("campaign_name",) if "campaign_name" in touches.columns else ()
    return j.select("customer_id", "key", *names, "converted", "value", position=ibis.row_number().over(w))


def purchase_journeys(t: Tables, p: Params, by: str) -> ir.Table:
    """One row per touch before the customer's first purchase (all touches if none): customer_id,
    position, key, converted (1 if they bought), value (the first order's amount)."""
    touches = _touches(t, p, by)
    people = touches.select("customer_id").distinct()
    if "transactions" in t:
        tx = purchases(t, p)  # refunds are not purchases; a cancelled order is none
        tx = tx.mutate(amount=tx.net)
        w = ibis.window(group_by=tx.customer_id, order_by=[tx.ts, tx.order_id])
        tx = tx.mutate(n=ibis.row_number().over(w))
        first = tx.filter(tx.n == 0).select("customer_id", first_ts=tx.ts, amount=tx.amount)
        o = people.left_join(first, "customer_id").select(people.customer_id, first.first_ts, first.amount)
        outcome = o.select(
            "customer_id", "first_ts",
            converted=o.first_ts.notnull().cast("int64"),
            value=o.amount.fill_null(0.0).cast("float64"),
        )
    else:
        outcome = people.mutate(converted=ibis.literal(0, "int64"), value=ibis.literal(0.0),
                                first_ts=ibis.null().cast("timestamp"))
    # a touch at the purchase instant counts (the click that opened the buying session)
    return _numbered(touches, outcome, lambda j: j.first_ts.isnull() | (j.ts <= j.first_ts))


def relationship_journeys(t: Tables, p: Params, by: str) -> ir.Table:
    """One row per touch in the first ``retention_days`` after a customer's first active event,
    for customers first active at least that long before the data end: converted = still active
    ``retention_days`` or more after the first (as in campaigns.clicks_vs_commitment), value =
    predicted lifetime value when the store holds it, else 0."""
    horizon = p.retention_days * SECONDS_PER_DAY
    ft = first_touch(t, p).cross_join(data_bounds(t, p))
    first_s = epoch_s(ft.first_ts)
    ft = ft.filter((epoch_s(ft.data_end) - first_s) >= horizon)
    outcome = ft.select(
        "customer_id",
        converted=((epoch_s(ft.last_ts) - first_s) >= horizon).cast("int64"),
        first_s=first_s,
    )
    if LIFETIME_VALUE_TABLE in t:
        clv = t[LIFETIME_VALUE_TABLE]
        outcome = outcome.left_join(clv, "customer_id").select(
            outcome, value=clv[LIFETIME_VALUE_COLUMN].fill_null(0.0).cast("float64"))
    else:
        outcome = outcome.mutate(value=ibis.literal(0.0))
    return _numbered(_touches(t, p, by), outcome, lambda j: (epoch_s(j.ts) - j.first_s) < horizon)


def _computation(t: Tables, p: Params, journeys: ir.Table, *, label: str, value_note: str | None) -> Computation:
    per_journey = journeys.filter(journeys.position == 0)
    from_orders = "events" not in t
    value = None if from_orders else safe_ratio(per_journey.converted.sum(), per_journey.count())

    where = ("no order names a campaign" if label == "campaign_id" else
             "no order names a campaign with a channel in the campaigns table")
    why = ("no touches in this store: " + (where if from_orders else "no click carries a channel"))
    finish = Analysis("afterclick.analysis.attribution:credit_journeys",
                      (("label", label), ("from_orders", from_orders), ("value_note", value_note)))
    return Computation(value=value, rows=journeys, finish=finish, needs=((per_journey.count(), why),))


#: Purchases are credited to whatever touch data exists: clicks in the events, or else the
#: campaigns the orders name.
_COMMON = dict(family=Family.ATTRIBUTION, unit=Unit.FRACTION, direction=Direction.HIGHER,
               requires=(), requires_any=("events", "transactions"), uses=("transactions",))


@kpi("attribution.channels", name="Credit for first purchases, by channel",
     value_label="Journeys ending in a first purchase", **_COMMON)
def channels(t: Tables, p: Params) -> Computation:
    """Each channel's credit for first purchases under six models, side by side.

    Journey = a customer's clicks that carry a channel, in time order, up to their first
    purchase (all of them when they never bought); outcome = the first purchase, value = its
    amount. Models: first touch, last touch, linear, position-based (40/20/40), Markov removal
    effect (exact first-order absorbing chain; Anderl et al. 2016) and simplified Shapley
    (Zhao et al. 2018). Headline: share of journeys ending in a purchase.

    Without events the touches are the campaigns the orders name (``transactions.campaign_id``,
    its channel from the campaigns table): each model then gives every channel its share of
    first purchases, and there is no headline rate (every such journey is a purchase).
    """
    return _computation(t, p, purchase_journeys(t, p, "channel"), label="channel", value_note=None)


@kpi("attribution.campaigns", name="Credit for first purchases, by campaign", headline=False,
     value_label="Journeys ending in a first purchase", **dict(_COMMON, uses=("transactions", "campaigns")))
def campaigns(t: Tables, p: Params) -> Computation:
    """attribution.channels with campaigns as the touches' labels (organic clicks as "(no campaign)"),
    each named from the campaigns table.

    Headline: share of journeys ending in a purchase. Without events the touches are the campaigns
    the orders name (as in attribution.channels), with no headline rate.
    """
    return _computation(t, p, purchase_journeys(t, p, "campaign"), label="campaign_id", value_note=None)


_REL = dict(_COMMON, requires=("events",), requires_any=(),
            uses=tuple(n for n in (LIFETIME_VALUE_TABLE,) if n in DERIVED_TABLES))
_NO_LTV = ("Value is credited once predicted lifetime value is available; until then only "
           "retained customers are shared out.")


@kpi("attribution.relationship", name="Credit for relationships (90-day retention), by channel",
     value_label="Journeys still active 90 days on", **_REL)
def relationship(t: Tables, p: Params) -> Computation:
    """Each channel's credit for customers still active 90 days after they first came.

    Journey = a customer's clicks that carry a channel in the first ``retention_days`` (90)
    after their first active event, for customers first active at least that long before the
    data end; outcome = any active event ``retention_days`` or more after the first; value =
    predicted lifetime value when the store holds it. The six models of attribution.channels.
    Headline: share of those journeys that stayed.
    """
    return _computation(t, p, relationship_journeys(t, p, "channel"), label="channel",
                        value_note=None if LIFETIME_VALUE_TABLE in t else _NO_LTV)


@kpi("attribution.relationship_campaigns", name="Credit for relationships (90-day retention), by campaign",
     value_label="Journeys still active 90 days on",
     headline=False, **dict(_REL, uses=(*_REL["uses"], "campaigns")))
def relationship_campaigns(t: Tables, p: Params) -> Computation:
    """attribution.relationship with campaigns as the touches' labels (organic clicks as "(no campaign)"),
    each named from the campaigns table.

    Headline: share of those journeys that stayed.
    """
    return _computation(t, p, relationship_journeys(t, p, "campaign"), label="campaign_id",
                        value_note=None if LIFETIME_VALUE_TABLE in t else _NO_LTV)
