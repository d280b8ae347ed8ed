"""B2B: what each campaign's leads became in money, and the pipeline campaigns influenced.

**A year of a campaign's leads** (``b2b.campaign_year``): per source campaign, its leads and
MQLs beside the pipeline and revenue of the deals those leads' accounts (or persons) opened
within 365 days of the lead entering, and the campaign's spend where the campaigns table has it.

**Influenced pipeline** (``b2b.pipeline_influenced``): a deal's *touches* are the campaigns its
contacts met before it was created — the campaign a lead of its account or person names (at the
lead's first status naming it), the campaign of a click by a contact (``customers.account_id``
the deal's account, or the deal's primary contact), and the deal's own source campaign (at the
deal's creation). Each deal's amount is shared across its touches by every attribution model
already in ``afterclick.attribution`` (first and last touch, linear, position-based, Markov,
Shapley), and so is each won deal's amount.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.kpis._common import in_period, safe_ratio
from afterclick.kpis.attribution import TOUCH_EVENTS
from afterclick.kpis.b2b import days_between, lead_kpi, leads
from afterclick.kpis.base import Analysis, Computation, Outcome, Params, Tables, block, kpi
from afterclick.results import Direction, Family, Unit

#: A campaign's leads are credited with the deals opened within this many days of their entry.
YEAR_DAYS = 365


def _lead_deals(t: Tables, p: Params) -> ir.Table:
    """Per lead and deal of its account or person created within ``YEAR_DAYS`` of its entry
    (before the data's end): lead_id, deal_id, amount, won_amount (the amount if the deal was won)."""
    lead = leads(t, p)
    d = t["deals"]
    d = d.select(deal_id=d.deal_id, d_account=d.account_id, d_contact=d.primary_contact_id, created=d.created_at,
                 amount=d.amount.cast("float64").fill_null(0.0),
                 won=(d.outcome == "won").fill_null(False))
    a = lead.select("lead_id", "entered", "as_of", l_account="account_id", l_customer="customer_id")
    parts = [a.join(d, a.l_account == d.d_account), a.join(d, a.l_customer == d.d_contact)]
    m = parts[0].select("lead_id", "entered", "as_of", "deal_id", "created", "amount", "won").union(
        parts[1].select("lead_id", "entered", "as_of", "deal_id", "created", "amount", "won"), distinct=True)
    m = m.filter((m.created >= m.entered) & (m.created < m.as_of) & (days_between(m.created, m.entered) <= YEAR_DAYS))
    return m.select("lead_id", "deal_id", "amount", won_amount=ibis.ifelse(m.won, m.amount, 0.0))


def campaign_year(t: Tables, p: Params) -> ir.Table:
    """Per source campaign: leads, mqls, leads_a_year_old, deals_12m, pipeline_12m and
    revenue_12m (of the year-old leads), spend and the ratios (with campaigns)."""
    lead = leads(t, p)
    ld = _lead_deals(t, p)
    per_lead = ld.group_by("lead_id").aggregate(deals=ld.deal_id.nunique(), pipeline=ld.amount.sum(),
                                               revenue=ld.won_amount.sum())
    j = lead.left_join(per_lead, lead.lead_id == per_lead.lead_id).select(
        lead.campaign_id, lead.mql_ts, lead.age_days, deals=per_lead.deals.fill_null(0),
        pipeline=per_lead.pipeline.fill_null(0.0), revenue=per_lead.revenue.fill_null(0.0))
    old = j.age_days >= YEAR_DAYS
    r = j.group_by("campaign_id").aggregate(
        leads=j.count(), mqls=j.mql_ts.notnull().cast("int64").sum(), leads_a_year_old=old.cast("int64").sum(),
        deals_12m=j.deals.sum(where=old).fill_null(0), pipeline_12m=j.pipeline.sum(where=old).fill_null(0.0),
        revenue_12m=j.revenue.sum(where=old).fill_null(0.0))
    r = r.mutate(pipeline_per_lead=safe_ratio(r.pipeline_12m, r.leads_a_year_old),
                 revenue_per_lead=safe_ratio(r.revenue_12m, r.leads_a_year_old))
    if "campaigns" not in t:
        return r.mutate(spend=ibis.null().cast("float64"), cost_per_mql=ibis.null().cast("float64"),
                        return_on_spend=ibis.null().cast("float64"))
    c = t["campaigns"]
    c = c.group_by(cid=c.campaign_id).aggregate(spend=c.spend.sum())
    r = r.left_join(c, r.campaign_id == c.cid).drop("cid")
    return r.mutate(cost_per_mql=safe_ratio(r.spend, r.mqls),
                    return_on_spend=ibis.ifelse(r.spend > 0, r.revenue_12m / r.spend, ibis.null()))


@lead_kpi("b2b.campaign_year", "Revenue within a year per lead", Unit.CURRENCY, uses=("customers", "campaigns"))
def campaign_year_kpi(t: Tables, p: Params) -> Computation:
    """Revenue per lead = the amounts of the won deals their accounts (or persons) opened within
    365 days of the lead entering / leads at least 365 days old.

    The marketing–sales conversation in one table: per source campaign, leads and MQLs beside the
    deals, pipeline and won revenue of the year after each lead (over the leads old enough for a
    year), the campaign's spend, cost per MQL and revenue per unit of spend (with campaigns). A deal
    counts for every lead of its account or person that entered in the year before it.
    """
    r = campaign_year(t, p)
    lead = leads(t, p)
    value = safe_ratio(r.revenue_12m.sum(), r.leads_a_year_old.sum())
    why = f"No value: no lead entered at least {YEAR_DAYS} days before the data's end."

    def finish(v, rows):
        return Outcome(v, rows, notes=() if v is not None else (why,))

    return Computation(value=value, rows=r, order_by=("campaign_id",), finish=finish,
                       needs=((lead.count(), "no lead entered in the review period"),))


# ------------------------------------------------------------------------------ influence


def _person_touches(t: Tables) -> ir.Table | None:
    """(person, ts, key): the campaigns people met, from any time: a lead's campaign at its first
    status naming it, and clicks carrying a campaign."""
    parts = []
    if "lead_status" in t:
        ls = t["lead_status"]
        ls = ls.filter(ls.campaign_id.notnull() & ls.customer_id.notnull())
        parts.append(ls.group_by(["lead_id", "customer_id", "campaign_id"]).aggregate(ts=ls.ts.min()).select(
            person="customer_id", ts="ts", key="campaign_id"))
    if "events" in t:
        ev = t["events"]
        ev = ev.filter(ev.event.isin(TOUCH_EVENTS) & ev.campaign_id.notnull())
        parts.append(ev.select(person=ev.customer_id, ts=ev.ts, key=ev.campaign_id))
    return parts[0] if len(parts) == 1 else parts[0].union(parts[1], distinct=False) if parts else None


@block
def deal_touches(t: Tables, p: Params) -> ir.Table:
    """One row per touch of a deal created in the review period, at or before its creation
    (see the module's docstring): deal_id, key (campaign_id), position, amount, won, source,
    campaign_name."""

    d = in_period(t["deals"], p, "created_at")
    d = d.select("deal_id", created=d.created_at, amount=d.amount.cast("float64").fill_null(0.0),
                 won=(d.outcome == "won").fill_null(False).cast("int64"), d_account=d.account_id,
                 d_contact=d.primary_contact_id, source=d.source_campaign_id)
    people = d.filter(d.d_contact.notnull()).select("deal_id", person=d.d_contact)
    if "customers" in t:
        cu = t["customers"]
        cu = cu.filter(cu.account_id.notnull()).select(pc="customer_id", pa="account_id")
        people = people.union(d.join(cu, d.d_account == cu.pa).select("deal_id", person=cu.pc), distinct=True)
    touch = d.filter(d.source.notnull()).select("deal_id", ts=d.created, key=d.source)
    pt = _person_touches(t)
    if pt is not None:
        touch = touch.union(people.join(pt, "person").select("deal_id", "ts", "key"), distinct=False)
    if "lead_status" in t:
        ls = t["lead_status"]
        la = ls.filter(ls.campaign_id.notnull() & ls.account_id.notnull())
        la = la.group_by(["lead_id", "account_id", "campaign_id"]).aggregate(ts=la.ts.min())
        touch = touch.union(d.join(la, d.d_account == la.account_id).select("deal_id", "ts", key=la.campaign_id),
                            distinct=False)
    touch = touch.distinct()
    j = touch.join(d, "deal_id")
    j = j.filter(j.ts <= j.created)
    w = ibis.window(group_by=j.deal_id, order_by=[j.ts, j.key])
    j = j.select("deal_id", "key", "amount", "won", "source", position=ibis.row_number().over(w))
    if "campaigns" in t:
        c = t["campaigns"].select(cid="campaign_id", campaign_name="name")
        return j.left_join(c, j.key == c.cid).drop("cid")
    return j.mutate(campaign_name=ibis.null().cast("string"))


@kpi("b2b.pipeline_influenced", name="Pipeline influenced by campaigns", family=Family.B2B, unit=Unit.CURRENCY,
     direction=Direction.HIGHER, requires=("deals",), uses=("lead_status", "customers", "events", "campaigns"))
def pipeline_influenced(t: Tables, p: Params) -> Computation:
    """Influenced pipeline = the amounts of the deals created in the period that at least one
    campaign touched before (or at) their creation.

    Touches: the campaign a lead of the deal's account or contacts names (at the lead's first status
    naming it), clicks carrying a campaign by the deal's contacts (people of its account, its
    primary contact), and the deal's source campaign (at its creation). Rows per attribution model
    (first touch, last touch, linear, position-based 40/20/40, Markov removal effect, simplified
    Shapley) and campaign: deals touched, pipeline sourced (deals naming it as source), credited
    opportunities and pipeline, credited won deals and revenue. Every model shares out the same
    deals, so each model's pipeline column adds up to the headline.
    """
    touches = deal_touches(t, p)
    first = touches.filter(touches.position == 0)

    return Computation(value=first.amount.sum(), rows=touches, finish=Analysis("afterclick.analysis.b2b:influence"),
                       needs=((in_period(t["deals"], p, "created_at").count(), "no deal was created in the review period"),))
