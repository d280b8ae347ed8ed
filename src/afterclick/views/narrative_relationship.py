"""Sentences for the relationship charts: campaigns, the ladder, cohorts and lifecycle, the
journey, community and content.

Every sentence is built from a result's rows and names nothing the rows do not contain; the
numbers of days it speaks of are the parameters the result was computed with.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from afterclick.core import periods
from afterclick.core.format import format_percent, format_when
from afterclick.kpis.content import ENGAGE_DAYS
from afterclick.kpis.journey import LOYALTY_DAYS, clicks_to_nowhere_rate
from afterclick.kpis.retention import HEADLINE_PERIOD
from afterclick.results import KPIResult
from afterclick.views.prose import as_int, headline_row, pct, period_word_of, rows_of
from afterclick.views.specs import param, retention_column, spec

#: Campaigns with fewer customers old enough to judge are left out of the "who kept the most"
#: comparison (a campaign that kept 3 of 3 customers is not a finding) unless none has this many.
MIN_ELIGIBLE = 20
#: Fewest impressions for a campaign's CTR to count in the headline sentence (unless none has).
MIN_IMPRESSIONS = 100


def clicks_vs_commitment(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The headline: the campaign with the highest CTR against the one that kept the most customers.

    e.g. "Spring Giveaway won the highest click-through rate (8.1%) but kept only 4% of its
    customers 90 days on (retention_days); Care Guide Series, with a modest 1.3% CTR, kept 52%."
    """
    column, days = retention_column(result), param(result, "retention_days")
    rows = rows_of(result, "name", "ctr", column)
    if rows is None:
        return None
    d = rows.assign(
        ctr=pd.to_numeric(rows["ctr"], errors="coerce"),
        kept=pd.to_numeric(rows[column], errors="coerce"),
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
    judged = d.dropna(subset=["kept"])
    if not judged.empty:
        floor = min(MIN_ELIGIBLE, float(judged["_eligible"].max()))
        judged = judged[judged["_eligible"] >= floor]
    keeper = None if judged.empty else judged.sort_values(
        ["kept", "_eligible"], ascending=False, kind="stable").iloc[0]
    if with_ctr.empty:
        if keeper is None:
            return None
        return f"{keeper['name']} kept the most customers {days} days on ({pct(keeper['kept'])})."
    clicker = with_ctr.sort_values(["ctr", "_clicks"], ascending=False, kind="stable").iloc[0]
    ctr = format_percent(clicker["ctr"], 1)
    if keeper is None:
        return (f"{clicker['name']} won the highest click-through rate ({ctr}); no campaign's customers "
                f"are {days} days on yet, so commitment cannot be judged.")
    if keeper.name == clicker.name and keeper["kept"] > 0:  # .name is the row label
        return (f"{clicker['name']} won both the highest click-through rate ({ctr}) and the best {days}-day "
                f"retention ({pct(clicker['kept'])}): attention and commitment together.")
    median_ctr = float(with_ctr["ctr"].median())
    modest = "a modest" if pd.notna(keeper["ctr"]) and keeper["ctr"] <= median_ctr else "a"
    keeper_ctr = (f", with {modest} {format_percent(keeper['ctr'], 1)} CTR," if pd.notna(keeper["ctr"]) else "")
    if pd.isna(clicker["kept"]):
        return (f"{clicker['name']} won the highest click-through rate ({ctr}), but none of its customers "
                f"are {days} days on yet; {keeper['name']}{keeper_ctr} kept {pct(keeper['kept'])}.")
    only = "only " if clicker["kept"] < keeper["kept"] else ""
    return (f"{clicker['name']} won the highest click-through rate ({ctr}) but kept {only}"
            f"{pct(clicker['kept'])} of its customers {days} days on; "
            f"{keeper['name']}{keeper_ctr} kept {pct(keeper['kept'])}.")


#: Stages that count as a relationship on the ladder (the KPI's value uses the same cut).
RELATIONSHIP_STAGES = ("trusting", "loyal", "advocate")


def commitment_ladder(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The share at trusting or above in the month the headline reads, of how many on the ladder.

    e.g. "In the month starting 1 Sep 2026, 5% of the 3,120 customers on the ladder stood at
    trusting or above, up from 1% of 210 in the month starting 1 May 2025."
    """
    rows = rows_of(result, "period", "stage", "customers", "share")
    if rows is None:
        return None
    period = pd.to_datetime(rows["period"], utc=True)
    up = rows.assign(_period=period, _up=rows["stage"].isin(RELATIONSHIP_STAGES) * pd.to_numeric(rows["share"]),
                     _n=pd.to_numeric(rows["customers"]))
    by_period = up.groupby("_period")["_up"].sum().sort_index()
    base = up.groupby("_period")["_n"].sum().reindex(by_period.index)
    word = period_word_of(result, period)
    at = headline_row(result, by_period)
    last_at, last = by_period.index[at], by_period.iloc[at]
    lead = (f"In the {word} starting {format_when(last_at, with_time=False)}, {pct(last)} of the "
            f"{as_int(base.iloc[at]):,} customers on the ladder stood at trusting or above")
    if at == 0:
        return lead + "."
    first_at, first = by_period.index[0], by_period.iloc[0]
    change = "up from" if last > first else "down from" if last < first else "the same as"
    return (f"{lead}, {change} {pct(first)} of {as_int(base.iloc[0]):,} in the {word} starting "
            f"{format_when(first_at, with_time=False)}.")


def cohort_retention(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    rows = rows_of(result, "cohort", "period", "cohort_size", "retention_on")
    if rows is None:
        return None
    word = period_word_of(result, pd.to_datetime(rows["cohort"], utc=True))
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
    sentence = (f"Across {n} cohort{plural} old enough, {pct(first)} of new customers were active again in "
                f"the {word} after their first touch")
    # the period the headline number reads (week 4, month 3), so sentence and chip agree
    k = HEADLINE_PERIOD["month" if result.id.endswith("monthly") else "week"]
    at_k, n_k = pooled(k)
    if at_k is not None and n_k >= enough:
        sentence += f", {pct(at_k)} in {word} {k}"
    if later and int(later[-1]) != k:
        p = int(later[-1])
        last, m = pooled(p)
        sentence += f" and {pct(last)} in {word} {p} ({m} cohort{'s' if m != 1 else ''})"
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
    rows = rows_of(result, "period", "new", "resurrecting", "dormant", "quick_ratio")
    if rows is None:
        return None
    rows = rows.assign(period=pd.to_datetime(rows["period"], utc=True)).sort_values("period").reset_index(drop=True)
    word = period_word_of(result, rows["period"])
    at = headline_row(result, pd.to_numeric(rows["quick_ratio"], errors="coerce").set_axis(rows["period"]))
    last = rows.iloc[at]
    new, back, gone = (as_int(last[c]) for c in ("new", "resurrecting", "dormant"))
    lead = (f"In the {word} starting {format_when(last['period'], with_time=False)}, {new:,} new and {back:,} "
            f"resurrected customers came in while {gone:,} went dormant")
    window = _trailing(rows, at, word)
    came = sum(as_int(r["new"]) + as_int(r["resurrecting"]) for _, r in window.iterrows())
    lost = sum(as_int(r["dormant"]) for _, r in window.iterrows())
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
    if word in ("week", "month"):
        return upto[upto["period"] > periods.shift(start, word, -VERDICT_PERIODS)]
    return upto.tail(VERDICT_PERIODS)


def _period_end(start: pd.Timestamp, word: str) -> pd.Timestamp:
    """The last day of the period starting at ``start``."""
    return periods.last_day(start, word) if word in ("week", "month") else start


def funnel(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    rows = rows_of(result, "step", "clicks", "share")
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
    reached = [f"{pct(float(by_step[s]['share']))} reached {word}" for s, word in
               (("relationship", "a relationship"), ("revenue", "revenue")) if s in by_step]
    sentence = parts[0] + (", " + " and ".join(reached) if reached else "")
    nowhere = (context or {}).get(spec(clicks_to_nowhere_rate).id)
    if nowhere is not None and nowhere.ok and nowhere.value is not None:
        sentence += f"; {pct(nowhere.value)} led nowhere"
    return sentence + "."


def member_replies(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """e.g. "Members answered each other in 70% of the 1,102 replies; the brand wrote 29%."."""
    rows = rows_of(result, "replies", "member_to_member", "brand_replies")
    if rows is None:
        return None
    total = as_int(pd.to_numeric(rows["replies"]).sum())
    if total == 0:
        return None
    m2m = as_int(pd.to_numeric(rows["member_to_member"]).sum())
    brand = as_int(pd.to_numeric(rows["brand_replies"]).sum())
    return (f"Members answered each other in {pct(m2m / total)} of the {total:,} replies; "
            f"the brand wrote {pct(brand / total)}.")


def content_depth(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The vanity leader against the depth leader, e.g. "X drew the most shallow interactions
    (667) but only 10 deep ones; Y earned the most deep interactions (1,748) from 3 shallow ones."."""
    rows = rows_of(result, "content_id", "shallow", "deep")
    if rows is None:
        return None
    d = rows.assign(shallow=pd.to_numeric(rows["shallow"]), deep=pd.to_numeric(rows["deep"]))
    loud, deep = d.loc[d["shallow"].idxmax()], d.loc[d["deep"].idxmax()]

    def name(r: pd.Series) -> str:
        title = r.get("title")
        return f"“{title}”" if isinstance(title, str) and title else str(r["content_id"])

    if loud["content_id"] == deep["content_id"]:
        return f"{name(loud)} led on both attention and depth ({as_int(loud['deep']):,} deep interactions)."
    return (f"{name(loud)} drew the most shallow interactions ({as_int(loud['shallow']):,}) but only "
            f"{as_int(loud['deep']):,} deep ones; {name(deep)} earned the most deep interactions "
            f"({as_int(deep['deep']):,}) from {as_int(deep['shallow']):,} shallow ones.")


def engaged_vs_not(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The headline difference with its interval, said as an association."""
    if result.value is None or result.ci is None:
        return None
    v, (lo, hi) = result.value, result.ci
    more = "more" if v >= 0 else "less"
    days = param(result, "retention_days")
    return (f"People who engaged with content in their first {ENGAGE_DAYS} days were {abs(v) * 100:.0f} points {more} "
            f"likely to be active {days} days on than comparable people (95% interval {lo * 100:+.0f} to "
            f"{hi * 100:+.0f}); an association, not proof that the content caused it.")


