"""The B2B section: the marketing–sales conversation in sentences, from the ``b2b.*`` KPIs.

Six cards: each campaign's leads a year on (MQLs and cost beside pipeline and revenue), the
hand-off (how fast sales followed leads up, and what waiting cost), what rejected leads did next,
pipeline and campaign influence, account engagement and awareness, and revenue retention. Every
number comes from a KPI result (computed here when the report was run without it); shares and
money carry their 95% intervals where the KPI gives one. ``build`` returns None when the store
holds none of the B2B tables.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from afterclick.kpis.b2b import late_converters, lead_to_opportunity
from afterclick.kpis.b2b_accounts import (
    account_return_visits,
    buying_committee,
    grr,
    logo_retention,
    nrr,
    pipeline_sourced,
    pipeline_velocity,
    win_rate,
)
from afterclick.kpis.b2b_engagement import (
    account_ladder,
    anonymous_to_known,
    direct_branded_share,
    new_visitors,
)
from afterclick.kpis.b2b_handoff import (
    conversion_by_follow_up,
    follow_up_time,
    lead_funnel,
    rejected_leads,
    untouched_leads,
)
from afterclick.kpis.b2b_influence import campaign_year_kpi, pipeline_influenced
from afterclick.report.format import (
    format_count,
    format_currency,
    format_duration,
    format_percent,
)
from afterclick.report.sections import Card, Section, SectionContext
from afterclick.results import KPIResult
from afterclick.stats import Proportion
from afterclick.views.specs import spec

B2B_TABLES = ("lead_status", "deals", "subscriptions")


class _Reader:
    """KPI results by spec (``get(nrr)``): the report's own, else computed on the workspace; None
    when skipped."""

    def __init__(self, ctx: SectionContext):
        self.ctx, self.currency = ctx, ctx.options.get("currency")

    def __call__(self, compute: Callable) -> KPIResult | None:
        kpi_id = spec(compute).id
        r = self.ctx.results.get(kpi_id)
        if r is None and self.ctx.ws is not None:
            r = self.ctx.ws.kpi(kpi_id)
        return r if r is not None and r.ok and r.rows is not None else None

    def money(self, v) -> str:
        return format_currency(v, self.currency)


def pct(v) -> str:
    return format_percent(v, 0 if v is not None and abs(v) >= 0.095 else 1)


def with_ci(text: str, ci, fmt: Callable = pct) -> str:
    """``text`` followed by its interval in words, when there is one."""
    return text if not ci else f"{text} (95% interval {fmt(ci[0])} to {fmt(ci[1])})"


#: Ratios a reader says in words.
_FRACTIONS = ((0.25, "a quarter of"), (1 / 3, "a third of"), (0.5, "half"), (2 / 3, "two thirds of"),
              (0.75, "three quarters of"), (1.0, "the same as"), (2.0, "twice"))


def ratio_words(r: float, ci: tuple[float, float] | None = None) -> str:
    """A ratio of rates in words: the plain fraction nearest ``r`` that its interval holds
    (0.57 in 0.40 to 0.80 -> "about half the rate"), else within 0.05 of it, else the number."""
    inside = [(abs(r - f), w) for f, w in _FRACTIONS if (ci and ci[0] <= f <= ci[1]) or abs(r - f) <= 0.05]
    if inside:
        return f"about {min(inside)[1]} the rate"
    return f"{r:.2f} times the rate"


# ------------------------------------------------------------------------------ campaigns


def campaign_table(get: _Reader) -> pd.DataFrame | None:
    """Per campaign: MQLs, spend, cost per MQL, opportunity share at 90 and 365 days, late
    converters' share, 12-month pipeline and revenue, revenue per unit of spend."""
    year, opp = get(campaign_year_kpi), get(lead_to_opportunity)
    if year is None or opp is None:
        return None
    w = opp.rows.pivot_table(index="campaign_id", columns="window", values="opportunity_share", aggfunc="first")
    t = year.rows.set_index("campaign_id")[["mqls", "spend", "cost_per_mql", "pipeline_12m", "revenue_12m",
                                            "return_on_spend"]]
    w = w.rename(columns=lambda c: f"opportunity_share_{c}d")
    t = t.join(w[[c for c in ("opportunity_share_90d", "opportunity_share_365d") if c in w.columns]])
    year_rows = opp.rows[opp.rows.window == 365].set_index("campaign_id")
    t["year_ci"] = [Proportion(int(year_rows.opportunity[c]), int(year_rows.leads[c])).wilson().bounds
                    if c in year_rows.index and year_rows.leads[c] else None for c in t.index]
    late = get(late_converters)
    if late is not None:
        t = t.join(late.rows.set_index("campaign_id")[["late_share"]])
    return t[t.index != "(none)"].reset_index()


def _table(t: pd.DataFrame) -> pd.DataFrame:
    return t.drop(columns=["year_ci"])


def campaign_sentences(t: pd.DataFrame, get: _Reader) -> list[str]:
    out: list[str] = []
    t = t.set_index("campaign_id")
    total = t.mqls.sum()
    has = {c: c in t.columns and t[c].notna().any() for c in ("opportunity_share_90d", "opportunity_share_365d")}
    top = t.mqls.idxmax() if total else None
    if top is not None and has["opportunity_share_365d"] and pd.notna(t.opportunity_share_365d[top]):
        y = t.opportunity_share_365d
        rank = int((y.dropna() < y[top]).sum()) + 1  # 1: the lowest share
        s = (f"{top} brought the most MQLs ({format_count(t.mqls[top])}, {pct(t.mqls[top] / total)} of all)")
        if rank == 1 and len(y.dropna()) > 1:
            s += (" but the fewest opportunities: " + with_ci(f"{pct(y[top])} of its leads", t.year_ci[top]) +
                  f" reached one within a year, against {pct(y.max())} for {y.idxmax()}")
        else:
            s += f"; {pct(y[top])} of its leads reached an opportunity within a year"
        if pd.notna(t.cost_per_mql[top]):
            s += (f"; it cost {get.money(t.cost_per_mql[top])} per MQL, and its leads won "
                  f"{get.money(t.revenue_12m[top])} of revenue within a year")
        out.append(s + ".")
    if has["opportunity_share_90d"] and has["opportunity_share_365d"]:
        a, b = t.opportunity_share_90d.dropna(), t.opportunity_share_365d.dropna()
        best = b.idxmax()
        if best in a and a[best] < a.max():
            late = (f"; {pct(t.late_share[best])} of its leads not ready at 90 days reached an opportunity later"
                    if "late_share" in t and pd.notna(t.late_share[best]) else "")
            out.append(f"{best} converts slowly but more: at 90 days its leads looked weaker ({pct(a[best])} "
                       f"reached an opportunity, against {pct(a.max())} for {a.idxmax()}), but a year on they are "
                       f"the strongest, at {with_ci(pct(b[best]), t.year_ci[best])}{late}. A report that stops at the "
                       "quarter writes them off.")
    if "return_on_spend" in t and t.return_on_spend.notna().any():
        r = t.return_on_spend.dropna().sort_values(ascending=False)
        out.append("Won revenue within a year per unit of spend: " + ", ".join(
            f"{c} {v:,.1f}" for c, v in r.items()) + ".")
    return out


def campaign_card(get: _Reader) -> Card | None:
    t = campaign_table(get)
    if t is None or t.empty:
        return None
    fig = None
    cols = [c for c in ("opportunity_share_90d", "opportunity_share_365d") if c in t.columns]
    if cols:
        fig = go.Figure([go.Bar(name=f"opportunity within {c.rsplit('_', 1)[1].removesuffix('d')} days",
                                x=t.campaign_id, y=t[c]) for c in cols])
        fig.update_layout(barmode="group", yaxis_tickformat=".0%", title="Leads reaching an opportunity")
    return Card(title="Each campaign's leads, a year on", sentences=tuple(campaign_sentences(t, get)), figure=fig,
                table=_table(t), notes=(("Pipeline and revenue count the deals a lead's account (or the lead) opened within "
                                "365 days of the lead entering, over leads at least a year old."),))


# ------------------------------------------------------------------------------ hand-off


def handoff_card(get: _Reader) -> Card | None:
    untouched, conv, time = get(untouched_leads), get(conversion_by_follow_up), get(follow_up_time)
    if untouched is None or untouched.value is None:
        return None
    s = [with_ci(f"Sales left {pct(untouched.value)} of MQLs without a touch for a week", untouched.ci) + "."]
    if time is not None and time.value is not None:
        s.append(f"The median time from MQL to a first sales touch is {format_duration(time.value)}.")
    table = None
    if conv is not None and conv.value is not None:
        rows = conv.rows
        table = rows.drop(columns=[c for c in ("speed_order",) if c in rows.columns])
        ratio = f"ratio {conv.value:.2f}" + (f", 95% interval {conv.ci[0]:.2f} to {conv.ci[1]:.2f}" if conv.ci else "")
        s.append(f"Leads left waiting a week reached an opportunity within 90 days at "
                 f"{ratio_words(conv.value, conv.ci)} of those followed up within 7 days ({ratio}). An "
                 "association, not proof: sales may pick the promising leads first.")
    fig = None
    funnel = get(lead_funnel)
    if funnel is not None and funnel.value is not None:
        tot = funnel.rows[["leads", "mqls", "accepted", "sql", "rejected", "opportunity", "won"]].sum()
        s.insert(0, with_ci(f"Of {format_count(tot.mqls)} MQLs, sales accepted {pct(funnel.value)}", funnel.ci) +
                 f" and rejected {pct(tot.rejected / tot.mqls)}; by the data's end {pct(tot.opportunity / tot.leads)} "
                 f"of the leads had reached an opportunity and {pct(tot.won / tot.leads)} a won deal.")
        stages = [(label, tot[c]) for label, c in (("leads", "leads"), ("MQLs", "mqls"), ("accepted by sales", "accepted"),
                                                   ("sales-qualified", "sql"), ("opportunity", "opportunity"),
                                                   ("won", "won")) if tot[c] > 0]
        fig = go.Figure(go.Funnel(y=[a for a, _ in stages], x=[int(b) for _, b in stages]))
        fig.update_layout(title="The demand waterfall, followed to the data's end")
    return Card(title="The hand-off: how fast sales followed up", sentences=tuple(s), table=table, figure=fig,
                notes=("A touch is the first sal, sql or rejected status after the MQL, or an opportunity.",))


def rejected_card(get: _Reader) -> Card | None:
    r = get(rejected_leads)
    if r is None:
        return None
    rows = r.rows
    s = [f"Sales rejected {format_count(rows.rejected.sum())} leads."]
    if r.value is not None:
        s.append(with_ci(f"Of those rejected a year ago or more, {pct(r.value)} bought within a year anyway", r.ci)
                 + ": a rejection is often a timing question, not a verdict.")
    if rows.engaged.notna().any() and rows.rejected.sum():
        s.append(f"{pct(rows.engaged.sum() / rows.rejected.sum())} came back to the brand after the rejection.")
    top = rows.sort_values("rejected", ascending=False).iloc[0]
    if pd.notna(top.bought_within_year_share):
        s.append(f"The most common reason, \u201c{top.reason}\u201d, covers {format_count(top.rejected)} leads; "
                 f"{pct(top.bought_within_year_share)} of those old enough bought within a year.")
    return Card(title="What rejected leads did next", sentences=tuple(s), table=rows)


# ------------------------------------------------------------------------------ pipeline


def pipeline_card(get: _Reader) -> Card | None:
    v, win, sourced, infl = (get(k) for k in (pipeline_velocity, win_rate, pipeline_sourced,
                                              pipeline_influenced))
    s, table = [], None
    if v is not None and v.value is not None:
        rows = v.rows
        s.append(with_ci(f"Pipeline velocity is {get.money(v.value)} a day", v.ci, get.money) +
                 f": {format_count(rows.opportunities.sum())} opportunities, the average won deal, the win rate and "
                 "the sales cycle together.")
    if win is not None and win.value is not None:
        s.append(with_ci(f"Sales win {pct(win.value)} of the deals they close", win.ci) + ".")
    if sourced is not None and infl is not None and infl.value is not None:
        s.append(f"Campaigns sourced {get.money(sourced.value)} of pipeline and touched deals worth "
                 f"{get.money(infl.value)} before they were created.")
        lin = infl.rows[infl.rows.model == "linear"].sort_values("revenue", ascending=False)
        if len(lin) and lin.revenue.sum() > 0:
            top = lin.iloc[0]
            s.append(f"Shared linearly across every campaign a deal's contacts met, {top.campaign_id} earns "
                     f"{pct(top.pipeline / lin.pipeline.sum())} of the pipeline and "
                     f"{pct(top.revenue / lin.revenue.sum())} of the won revenue; the table gives every model.")
        table = infl.rows
    if not s:
        return None
    return Card(title="Pipeline, and the campaigns that moved it", sentences=tuple(s), table=table)


# ------------------------------------------------------------------------------ accounts and awareness


def engagement_card(get: _Reader) -> Card | None:
    s = []
    bc, back, ladder = get(buying_committee), get(account_return_visits), get(account_ladder)
    if bc is not None and bc.value is not None:
        s.append(f"An engaged account has {bc.value:.1f} active contacts on average (the buying committee).")
    if back is not None and back.value is not None:
        s.append(f"{pct(back.value)} of the accounts that visited came back on another day.")
    if ladder is not None and ladder.value is not None:
        s.append(f"{pct(ladder.value)} of accounts stood at trusting or above on the commitment ladder last month.")
    new, share, known = get(new_visitors), get(direct_branded_share), get(anonymous_to_known)
    if new is not None and new.value is not None:
        s.append(f"{format_count(new.value)} people visited for the first time in the period.")
    if share is not None and share.value is not None:
        m = share.rows.dropna(subset=["direct_branded_share"])
        trend = ""
        if len(m) >= 6:
            first, last = m.head(3), m.tail(3)
            a = (first.direct + first.branded).sum() / first.visits_with_channel.sum()
            b = (last.direct + last.branded).sum() / last.visits_with_channel.sum()
            trend = f", from {pct(a)} in the first three months to {pct(b)} in the last three"
        s.append(f"{pct(share.value)} of visits came direct or by a search for the brand{trend}: people who "
                 "already know it.")
    if known is not None and known.value is not None:
        s.append(f"{pct(known.value)} of new anonymous visitors became known (a lead) within 90 days.")
    if not s:
        return None
    table = None
    if ladder is not None:  # the last twelve months of the account ladder
        months = sorted(ladder.rows.period.unique())[-12:]
        table = ladder.rows[ladder.rows.period.isin(months)]
    return Card(title="Accounts and awareness", sentences=tuple(s), table=table)


def retention_card(get: _Reader) -> Card | None:
    net, gross, logo = get(nrr), get(grr), get(logo_retention)
    if net is None or net.value is None:
        return None
    s = [with_ci(f"Net revenue retention is {pct(net.value)}", net.ci) +
         ": what the customers paying a year ago pay now, against what they paid then."]
    if gross is not None and gross.value is not None:
        s.append(with_ci(f"Gross revenue retention, without expansion, is {pct(gross.value)}", gross.ci) + ".")
    if logo is not None and logo.value is not None:
        s.append(with_ci(f"{pct(logo.value)} of those customers still pay", logo.ci) + ".")
    bands = net.rows[(net.rows.breakdown == "size band") & (net.rows.customers >= 5)]
    if len(bands) >= 2:
        hi, lo = bands.loc[bands.nrr.idxmax()], bands.loc[bands.nrr.idxmin()]
        s.append(f"By size band NRR runs from {pct(lo.nrr)} ({lo.group}) to {pct(hi.nrr)} ({hi.group}).")
    cohorts = net.rows[(net.rows.breakdown == "cohort") & (net.rows.customers >= 5)]
    if len(cohorts) >= 2:
        s.append("By the year customers first paid: " + "; ".join(
            with_ci(f"{r.group} NRR {pct(r.nrr)}", None if pd.isna(r.nrr_low) else (r.nrr_low, r.nrr_high))
            for r in cohorts.itertuples()) + ".")
    return Card(title="Revenue retention", sentences=tuple(s), table=net.rows,
                notes=(("SaaS Capital's definitions: MRR this month from customers who paid 12 months before, "
                       "over their MRR then."),))


CARDS = (campaign_card, handoff_card, rejected_card, pipeline_card, engagement_card, retention_card)


def build(ctx: SectionContext) -> Section | None:
    counts = ctx.ws.store.counts() if ctx.ws is not None else {}
    if not any(counts.get(t, 0) for t in B2B_TABLES):
        return None
    get = _Reader(ctx)
    cards = tuple(c for c in (make(get) for make in CARDS) if c is not None)
    if not cards:
        return None
    return Section(key="b2b", title="Marketing and sales: leads judged by what they became", cards=cards,
                   lede="Each campaign's leads followed for a year, the hand-off to sales, and the revenue "
                        "relationships keep.")
