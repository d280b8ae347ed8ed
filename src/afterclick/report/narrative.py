"""Plain-English sentences derived from the results, one per chart.

Every sentence is built from a result's rows and names nothing the rows do not contain; the
report shows each beside its chart, where the definitions of its numbers are at hand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import pandas as pd

from afterclick.kpis.journey import LOYALTY_DAYS
from afterclick.kpis.retention import HEADLINE_PERIOD
from afterclick.kpis.signals import EARLY_DAYS, OUTCOME_FROM_DAYS, OUTCOME_TO_DAYS
from afterclick.plots._common import display_names, event_label, period_word  # one rule for charts and sentences
from afterclick.report.format import format_percent, format_when
from afterclick.results import KPIResult

#: Campaigns with fewer customers old enough to judge are left out of the "who kept the most"
#: comparison (a campaign that kept 3 of 3 customers is not a finding) unless none has this many.
MIN_ELIGIBLE = 20
#: Fewest impressions for a campaign's CTR to count in the headline sentence (unless none has).
MIN_IMPRESSIONS = 100

Narrator = Callable[[KPIResult, Mapping[str, KPIResult]], "str | None"]


def _pct(v: float) -> str:
    """Retention-style percent: whole numbers, one decimal below 1%."""
    return format_percent(v, 1 if 0 < abs(v) < 0.01 else 0)


def _rows(result: KPIResult | None, *columns: str) -> pd.DataFrame | None:
    if result is None or not result.ok or result.rows is None or result.rows.empty:
        return None
    if any(c not in result.rows.columns for c in columns):
        return None
    return result.rows


def _int(v: object) -> int:
    v = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return 0 if pd.isna(v) else int(v)


def _period_word(result: KPIResult, timestamps: pd.Series) -> str:
    return period_word(timestamps, result.params)


def clicks_vs_commitment(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The headline: the campaign with the highest CTR against the one that kept the most customers.

    e.g. "Spring Giveaway won the highest click-through rate (8.1%) but kept only 4% of its
    customers 90 days on; Care Guide Series, with a modest 1.3% CTR, kept 52%."
    """
    rows = _rows(result, "name", "ctr", "retention_90d")
    if rows is None:
        return None
    d = rows.assign(
        ctr=pd.to_numeric(rows["ctr"], errors="coerce"),
        retention_90d=pd.to_numeric(rows["retention_90d"], errors="coerce"),
        _clicks=pd.to_numeric(rows["clicks"], errors="coerce") if "clicks" in rows else 0,
        _eligible=pd.to_numeric(rows["eligible"], errors="coerce").fillna(0) if "eligible" in rows else MIN_ELIGIBLE,
    )
    # more clicks than impressions is no click-through rate (the impressions were not all tracked)
    with_ctr = d.dropna(subset=["ctr"])
    with_ctr = with_ctr[with_ctr["ctr"] <= 1]
    if not with_ctr.empty and "impressions" in rows:
        # a CTR from a handful of impressions is noise: judge attention only on enough exposure
        imps = pd.to_numeric(rows.loc[with_ctr.index, "impressions"], errors="coerce").fillna(0)
        with_ctr = with_ctr[imps >= min(MIN_IMPRESSIONS, float(imps.max()))]
    judged = d.dropna(subset=["retention_90d"])
    if not judged.empty:
        floor = min(MIN_ELIGIBLE, float(judged["_eligible"].max()))
        judged = judged[judged["_eligible"] >= floor]
    keeper = None if judged.empty else judged.sort_values(
        ["retention_90d", "_eligible"], ascending=False, kind="stable").iloc[0]
    if with_ctr.empty:
        if keeper is None:
            return None
        return f"{keeper['name']} kept the most customers 90 days on ({_pct(keeper['retention_90d'])})."
    clicker = with_ctr.sort_values(["ctr", "_clicks"], ascending=False, kind="stable").iloc[0]
    ctr = format_percent(clicker["ctr"], 1)
    if keeper is None:
        return (f"{clicker['name']} won the highest click-through rate ({ctr}); no campaign's customers "
                "are 90 days on yet, so commitment cannot be judged.")
    if keeper.name == clicker.name and keeper["retention_90d"] > 0:  # .name is the row label
        return (f"{clicker['name']} won both the highest click-through rate ({ctr}) and the best 90-day "
                f"retention ({_pct(clicker['retention_90d'])}): attention and commitment together.")
    median_ctr = float(with_ctr["ctr"].median())
    modest = "a modest" if pd.notna(keeper["ctr"]) and keeper["ctr"] <= median_ctr else "a"
    keeper_ctr = (f", with {modest} {format_percent(keeper['ctr'], 1)} CTR," if pd.notna(keeper["ctr"]) else "")
    if pd.isna(clicker["retention_90d"]):
        return (f"{clicker['name']} won the highest click-through rate ({ctr}), but none of its customers "
                f"are 90 days on yet; {keeper['name']}{keeper_ctr} kept {_pct(keeper['retention_90d'])}.")
    only = "only " if clicker["retention_90d"] < keeper["retention_90d"] else ""
    return (f"{clicker['name']} won the highest click-through rate ({ctr}) but kept {only}"
            f"{_pct(clicker['retention_90d'])} of its customers 90 days on; "
            f"{keeper['name']}{keeper_ctr} kept {_pct(keeper['retention_90d'])}.")


#: Stages that count as a relationship on the ladder (the KPI's value uses the same cut).
RELATIONSHIP_STAGES = ("trusting", "loyal", "advocate")


def commitment_ladder(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The share at trusting or above in the month the headline reads, of how many on the ladder.

    e.g. "In the month starting 1 Sep 2026, 5% of the 3,120 customers on the ladder stood at
    trusting or above, up from 1% of 210 in the month starting 1 May 2025."
    """
    rows = _rows(result, "period", "stage", "customers", "share")
    if rows is None:
        return None
    period = pd.to_datetime(rows["period"], utc=True)
    up = rows.assign(_period=period, _up=rows["stage"].isin(RELATIONSHIP_STAGES) * pd.to_numeric(rows["share"]),
                     _n=pd.to_numeric(rows["customers"]))
    by_period = up.groupby("_period")["_up"].sum().sort_index()
    base = up.groupby("_period")["_n"].sum().reindex(by_period.index)
    word = _period_word(result, period)
    at = _headline_row(result, by_period)
    last_at, last = by_period.index[at], by_period.iloc[at]
    lead = (f"In the {word} starting {format_when(last_at, with_time=False)}, {_pct(last)} of the "
            f"{_int(base.iloc[at]):,} customers on the ladder stood at trusting or above")
    if at == 0:
        return lead + "."
    first_at, first = by_period.index[0], by_period.iloc[0]
    change = "up from" if last > first else "down from" if last < first else "the same as"
    return (f"{lead}, {change} {_pct(first)} of {_int(base.iloc[0]):,} in the {word} starting "
            f"{format_when(first_at, with_time=False)}.")


def _headline_row(result: KPIResult, values: pd.Series) -> int:
    """Position in ``values`` (indexed by period start, sorted) of the period the headline reads:
    the result's period where it names one, else the last period whose value is the headline
    (the KPI skips a period still filling up), else the last period."""
    if result.period is not None and result.period.start is not None:
        start = pd.Timestamp(result.period.start)
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
        hits = [i for i, p in enumerate(values.index) if p == start]
        if hits:
            return hits[-1]
    if result.value is not None:
        hits = [i for i, v in enumerate(values) if pd.notna(v) and abs(v - result.value) < 1e-9]
        if hits:
            return hits[-1]
    return len(values) - 1


def cohort_retention(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    rows = _rows(result, "cohort", "period", "cohort_size", "retention_on")
    if rows is None:
        return None
    word = _period_word(result, pd.to_datetime(rows["cohort"], utc=True))
    d = rows.assign(period=pd.to_numeric(rows["period"]), cohort_size=pd.to_numeric(rows["cohort_size"]),
                    retention_on=pd.to_numeric(rows["retention_on"], errors="coerce")).dropna(subset=["retention_on"])

    def pooled(p: int) -> tuple[float | None, int]:
        at = d[d["period"] == p]
        size = at["cohort_size"].sum()
        return (None, 0) if size <= 0 else (float((at["retention_on"] * at["cohort_size"]).sum() / size), len(at))

    first, n = pooled(1)
    if first is None:
        return None
    # a later period only when enough cohorts reach it to speak for more than one week's luck
    enough = min(3, n)
    later = [p for p in sorted(d["period"].unique()) if p > 1 and pooled(int(p))[1] >= enough]
    plural = "s" if n != 1 else ""
    sentence = (f"Across {n} cohort{plural} old enough, {_pct(first)} of new customers were active again in "
                f"the {word} after their first touch")
    # the period the headline number reads (week 4, month 3), so sentence and chip agree
    k = HEADLINE_PERIOD["month" if result.id.endswith("monthly") else "week"]
    at_k, n_k = pooled(k)
    if at_k is not None and n_k >= enough:
        sentence += f", {_pct(at_k)} in {word} {k}"
    if later and int(later[-1]) != k:
        p = int(later[-1])
        last, m = pooled(p)
        sentence += f" and {_pct(last)} in {word} {p} ({m} cohort{'s' if m != 1 else ''})"
    return sentence + "."


#: How many periods, up to the one the headline reads, the lifecycle verdict pools.
VERDICT_PERIODS = 4


def lifecycle(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The headline period's flows, then the verdict over the last four complete periods pooled.

    e.g. "In the week starting 19 Oct 2026, 6 new and 66 resurrected customers came in while 78
    went dormant (quick ratio 0.92). Over the last 4 complete weeks (28 Sep to 25 Oct 2026), 301
    came in or came back while 310 went dormant: a quick ratio of 0.97, so the active base is
    shrinking." One week swings; four weigh the trend without reaching back into the history.
    """
    rows = _rows(result, "period", "new", "resurrecting", "dormant", "quick_ratio")
    if rows is None:
        return None
    rows = rows.assign(period=pd.to_datetime(rows["period"], utc=True)).sort_values("period").reset_index(drop=True)
    word = _period_word(result, rows["period"])
    at = _headline_row(result, pd.to_numeric(rows["quick_ratio"], errors="coerce").set_axis(rows["period"]))
    last = rows.iloc[at]
    new, back, gone = (_int(last[c]) for c in ("new", "resurrecting", "dormant"))
    lead = (f"In the {word} starting {format_when(last['period'], with_time=False)}, {new:,} new and {back:,} "
            f"resurrected customers came in while {gone:,} went dormant")
    window = _trailing(rows, at, word)
    came = sum(_int(r["new"]) + _int(r["resurrecting"]) for _, r in window.iterrows())
    lost = sum(_int(r["dormant"]) for _, r in window.iterrows())
    if len(window) == 1:
        if lost == 0:
            return lead + ": nobody lapsed, so the quick ratio is undefined."
        return lead + f": a quick ratio of {came / lost:.2f}, so the active base is {_trend(came / lost)}."
    qr = pd.to_numeric(pd.Series([last["quick_ratio"]]), errors="coerce").iloc[0]
    lead += "" if pd.isna(qr) else f" (quick ratio {qr:.2f})"
    end = _period_end(last["period"], word)
    complete = " complete" if result.period is not None else ""
    span = (f"Over the last {len(window)}{complete} {word}s ({format_when(window['period'].iloc[0], with_time=False)} "
            f"to {format_when(end, with_time=False)})")
    if lost == 0:
        return f"{lead}. {span}, {came:,} came in or came back and nobody lapsed, so the quick ratio is undefined."
    return (f"{lead}. {span}, {came:,} came in or came back while {lost:,} went dormant: a quick ratio of "
            f"{came / lost:.2f}, so the active base is {_trend(came / lost)}.")


def _trend(quick_ratio: float) -> str:
    return "growing" if quick_ratio > 1 else "shrinking" if quick_ratio < 1 else "holding steady"


def _trailing(rows: pd.DataFrame, at: int, word: str) -> pd.DataFrame:
    """The rows of the VERDICT_PERIODS periods up to and including row ``at`` (by calendar, so a
    period without a row is not replaced by an older one)."""
    upto = rows.iloc[: at + 1]
    start = rows["period"].iloc[at]
    if word == "week":
        return upto[upto["period"] > start - pd.Timedelta(weeks=VERDICT_PERIODS)]
    if word == "month":
        return upto[upto["period"] > start - pd.DateOffset(months=VERDICT_PERIODS)]
    return upto.tail(VERDICT_PERIODS)


def _period_end(start: pd.Timestamp, word: str) -> pd.Timestamp:
    """The last day of the period starting at ``start``."""
    if word == "week":
        return start + pd.Timedelta(days=6)
    if word == "month":
        return start + pd.DateOffset(months=1) - pd.Timedelta(days=1)
    return start


def funnel(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    rows = _rows(result, "step", "clicks", "share")
    if rows is None:
        return None
    by_step = {str(r["step"]): r for _, r in rows.iterrows()}
    if "click" not in by_step:
        return None
    total = int(pd.to_numeric(by_step["click"]["clicks"]))
    if total == 0:
        return (f"No click is {LOYALTY_DAYS} days old yet, so none can be followed through every step "
                "after it: the journey needs more history.")
    parts = [f"Of the {total:,} clicks at least {LOYALTY_DAYS} days old"]
    reached = [f"{_pct(float(by_step[s]['share']))} reached {word}" for s, word in
               (("relationship", "a relationship"), ("revenue", "revenue")) if s in by_step]
    sentence = parts[0] + (", " + " and ".join(reached) if reached else "")
    nowhere = (context or {}).get("journey.clicks_to_nowhere_rate")
    if nowhere is not None and nowhere.ok and nowhere.value is not None:
        sentence += f"; {_pct(nowhere.value)} led nowhere"
    return sentence + "."


def member_replies(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """e.g. "Members answered each other in 70% of the 1,102 replies; the brand wrote 29%."."""
    rows = _rows(result, "replies", "member_to_member", "brand_replies")
    if rows is None:
        return None
    total = _int(pd.to_numeric(rows["replies"]).sum())
    if total == 0:
        return None
    m2m = _int(pd.to_numeric(rows["member_to_member"]).sum())
    brand = _int(pd.to_numeric(rows["brand_replies"]).sum())
    return (f"Members answered each other in {_pct(m2m / total)} of the {total:,} replies; "
            f"the brand wrote {_pct(brand / total)}.")


def content_depth(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The vanity leader against the depth leader, e.g. "X drew the most shallow interactions
    (667) but only 10 deep ones; Y earned the most deep interactions (1,748) from 3 shallow ones."."""
    rows = _rows(result, "content_id", "shallow", "deep")
    if rows is None:
        return None
    d = rows.assign(shallow=pd.to_numeric(rows["shallow"]), deep=pd.to_numeric(rows["deep"]))
    loud, deep = d.loc[d["shallow"].idxmax()], d.loc[d["deep"].idxmax()]

    def name(r: pd.Series) -> str:
        title = r.get("title")
        return f"“{title}”" if isinstance(title, str) and title else str(r["content_id"])

    if loud["content_id"] == deep["content_id"]:
        return f"{name(loud)} led on both attention and depth ({_int(loud['deep']):,} deep interactions)."
    return (f"{name(loud)} drew the most shallow interactions ({_int(loud['shallow']):,}) but only "
            f"{_int(loud['deep']):,} deep ones; {name(deep)} earned the most deep interactions "
            f"({_int(deep['deep']):,}) from {_int(deep['shallow']):,} shallow ones.")


def engaged_vs_not(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The headline difference with its interval, said as an association."""
    if result.value is None or result.ci is None:
        return None
    v, (lo, hi) = result.value, result.ci
    more = "more" if v >= 0 else "less"
    return (f"People who engaged with content in their first 30 days were {abs(v) * 100:.0f} points {more} "
            f"likely to be active 90 days on than comparable people (95% interval {lo * 100:+.0f} to "
            f"{hi * 100:+.0f}); an association, not proof that the content caused it.")


def campaign_credit(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The campaign with the most lifetime value beside the one with the least per buyer.

    e.g. "Counting lifetime value, Plant Care Academy earns 94,764 (465 per buyer, 38× its spend)
    from a first sale of 10,175; Win-a-Monstera giveaway earns 2,460 (85 per buyer), less than its
    spend of 6,500."
    """
    rows = _rows(result, "name", "first_sale", "lifetime_value", "lifetime_per_buyer")
    if rows is None:
        return None
    d = rows.assign(**{c: pd.to_numeric(rows[c], errors="coerce")
                       for c in ("first_sale", "lifetime_value", "lifetime_per_buyer")})
    d = d.dropna(subset=["lifetime_value", "lifetime_per_buyer"])
    if len(d) < 2:
        return None
    best, worst = d.loc[d["lifetime_value"].idxmax()], d.loc[d["lifetime_per_buyer"].idxmin()]

    def spend_part(r: pd.Series, sep: str) -> str:
        spend = pd.to_numeric(pd.Series([r.get("spend")]), errors="coerce").iloc[0]
        if pd.isna(spend) or spend <= 0:
            return ""
        if r["lifetime_value"] >= spend:
            return f"{sep}{r['lifetime_value'] / spend:.0f}× its spend"
        return f"{sep}less than its spend of {spend:,.0f}"

    sentence = (f"Counting lifetime value, {best['name']} earns {best['lifetime_value']:,.0f} "
                f"({best['lifetime_per_buyer']:,.0f} per buyer{spend_part(best, ', ')}) from a first sale of "
                f"{best['first_sale']:,.0f}")
    if worst["name"] != best["name"]:
        sentence += (f"; {worst['name']} earns {worst['lifetime_value']:,.0f} ({worst['lifetime_per_buyer']:,.0f} "
                     f"per buyer){spend_part(worst, ', ')}")
    return sentence + "."


# -- attribution and early signals ------------------------------------------------------------


def _key(rows: pd.DataFrame) -> str:
    return "campaign_id" if "campaign_id" in rows.columns else "channel"


def attribution_credit(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """Who leads under the Markov model, and who gains most against last-click credit."""
    rows = _rows(result, "model", "share")
    if rows is None:
        return None
    key = _key(rows)
    wide = rows.pivot_table(index=key, columns="model", values="share", aggfunc="sum")
    if not {"markov", "last_touch"} <= set(wide.columns):
        return None
    names = display_names(rows, key)
    lead = wide["markov"].idxmax()
    gain = (wide["markov"] - wide["last_touch"]).sort_values(ascending=False)
    text = (f"The Markov model credits {names[lead]} with the most first purchases "
            f"({format_percent(wide.loc[lead, 'markov'], 0)}; last click gives it "
            f"{format_percent(wide.loc[lead, 'last_touch'], 0)})")
    if len(gain) > 1 and gain.iloc[0] > 0.005:
        g = gain.index[0]
        text += (f"; {names[g]} gains most over last click ({format_percent(wide.loc[g, 'markov'], 0)} "
                 f"against {format_percent(wide.loc[g, 'last_touch'], 0)})")
    return text + "."


def attribution_relationship(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """Per journey touched, who brings the most and the fewest customers who stay."""
    rows = _rows(result, "model", "per_journey")
    if rows is None:
        return None
    key = _key(rows)
    m = rows[rows.model == "markov"].set_index(key).per_journey.dropna()
    if len(m) < 2:
        return None
    best, worst = m.idxmax(), m.idxmin()
    names = display_names(rows, key)
    return (f"Per journey it touched, {names[best]} brings the most customers still active 90 days on "
            f"({m[best]:.2f} under the Markov model) and {names[worst]} the fewest ({m[worst]:.2f}).")


def leading_indicators(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The top-ranked behaviour in words, with the model's accuracy on later cohorts."""
    rows = _rows(result, "indicator", "odds_ratio", "or_low")
    if rows is None or result.value is None:
        return None
    top = rows.iloc[0]
    if not top["or_low"] > 1:
        return (f"No first-weeks behaviour stands out with confidence (AUC {result.value:.2f} on "
                "later cohorts).")
    outcome = (f"buy between day {EARLY_DAYS} and day {OUTCOME_TO_DAYS}" if result.id == "signals.value_indicators"
               else f"be active {OUTCOME_FROM_DAYS}-{OUTCOME_TO_DAYS} days on")
    return (f"Customers who did \u201c{event_label(top['indicator'])}\u201d in their first {EARLY_DAYS} days "
            f"had {top['odds_ratio']:.1f}× the odds to {outcome} "
            f"(95% from {top['or_low']:.1f}×); the model ranks later cohorts with AUC {result.value:.2f}.")


def nps_sentence(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """NPS with its interval, and the theme that pulls answers furthest towards detractors.

    e.g. "NPS was +23.5 (95% interval +17.7 to +29.1); the theme pulling answers most towards
    detractors is "days · hasn't arrived · delivery" (NPS -94 among those who mention it, +26 among
    the others)."
    """
    if result.value is None:
        return None
    text = f"NPS was {result.value:+.1f}"
    if result.ci:
        text += f" (95% interval {result.ci[0]:+.1f} to {result.ci[1]:+.1f})"
    d = _rows((context or {}).get("advocacy.drivers"), "label", "nps_with", "nps_without", "direction")
    if d is not None:
        worst = d[d["direction"] == "towards detractors"]
        if len(worst):
            w = worst.iloc[0]
            text += (f"; the theme pulling answers most towards detractors is \u201c{w['label']}\u201d "
                     f"(NPS {float(w['nps_with']):+.0f} among those who mention it, "
                     f"{float(w['nps_without']):+.0f} among the others)")
    return text + "."


def themes_sentence(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The largest themes of the open feedback, by volume."""
    rows = _rows(result, "label", "share")
    if rows is None:
        return None
    top = rows.head(3)
    parts = [f"\u201c{r['label']}\u201d ({format_percent(r['share'], 0)})" for _, r in top.iterrows()]
    return f"The open feedback talks most about {', '.join(parts)} of comments."


#: Sentence writers by KPI id; a family with a chart adds its sentence here.
NARRATIVES: dict[str, Narrator] = {
    "campaigns.clicks_vs_commitment": clicks_vs_commitment,
    "ladder.commitment_ladder": commitment_ladder,
    "retention.cohort_weekly": cohort_retention,
    "retention.cohort_monthly": cohort_retention,
    "retention.lifecycle": lifecycle,
    "journey.funnel": funnel,
    "community.member_reply_share": member_replies,
    "content.value": content_depth,
    "content.engaged_vs_not": engaged_vs_not,
    "attribution.channels": attribution_credit,
    "attribution.campaigns": attribution_credit,
    "attribution.relationship": attribution_relationship,
    "attribution.relationship_campaigns": attribution_relationship,
    "signals.leading_indicators": leading_indicators,
    "signals.value_indicators": leading_indicators,
    "value.campaign_ltv_credit": campaign_credit,
    "advocacy.nps": nps_sentence,
    "advocacy.themes": themes_sentence,
}


def sentence(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The sentence for one result, or None when it has none (or nothing to say)."""
    fn = NARRATIVES.get(result.id)
    if fn is None or not result.ok:
        return None
    return fn(result, context or {})


def sentences(results: Iterable[KPIResult]) -> dict[str, str]:
    """KPI id → sentence for every result that has one."""
    results = list(results)
    context = {r.id: r for r in results}
    out = {}
    for r in results:
        s = sentence(r, context)
        if s:
            out[r.id] = s
    return out


def headline(results: Iterable[KPIResult]) -> str | None:
    """The report's one-sentence headline: clicks vs commitment."""
    for r in results:
        if r.id == "campaigns.clicks_vs_commitment":
            return sentence(r)
    return None
