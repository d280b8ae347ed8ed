"""Industry templates: a bundle of KPI ids, suggested goals and benchmark rows per kind of business.

``goals_text(template)`` writes a goals file a team then edits (``afterclick init --template saas``).
Suggested targets come from the brand's own data ("the same period last year, +5 %") or from a
business rule ("NRR at least 100 %: keep the revenue we have"), never from an invented number; a
constant taken from a benchmark names the row it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    about: str
    kpis: tuple[str, ...]
    goals: tuple[dict[str, Any], ...]
    benchmarks: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _g(id: str, kpi: str, direction: str, horizon: str, objective: str, target: Any, comment: str = "",
       fed_by: tuple[str, ...] | None = None, owner: str = "TO FILL: the accountable person or team") -> dict:
    goal = {"id": id, "kpi": kpi, "direction": direction, "horizon": horizon, "owner": owner,
            "objective": objective, "target": target, "_comment": comment}
    if fed_by is not None:
        goal["fed_by"] = list(fed_by)
    return goal


def _ly(change: float, relative: bool = True) -> dict:
    return {"last_year": True, "change": change, "change_is": "relative" if relative else "absolute"}


TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template(
        "ecommerce", "E-commerce", "purchase conversions that turn into repeat customers",
        ("value.repeat_purchase_rate", "value.purchase_frequency", "retention.cohort_monthly",
         "retention.repeat_visit_rate", "value.predicted_clv", "value.probability_alive", "advocacy.csat",
         "advocacy.nps", "journey.clicks_to_nowhere_rate", "campaigns.clicks_vs_commitment"),
        (
            _g("repeat-purchase", "value.repeat_purchase_rate", "higher", "short", "revenue growth", _ly(0.05),
               "5 % more repeat buyers than in the same period last year"),
            _g("csat-after-delivery", "advocacy.csat", "higher", "short", "customer lifetime value", _ly(0.02, False),
               "2 points more satisfied answers than last year"),
            _g("nps", "advocacy.nps", "higher", "short", "customer lifetime value", 32,
               "benchmark row surveymonkey-nps-mean: mean NPS over organisations surveying their own customers"),
            _g("month-3-retention", "retention.cohort_monthly", "higher", "long", "customer lifetime value",
               _ly(0.10), "10 % more customers still active in month 3",
               fed_by=("repeat-purchase", "csat-after-delivery", "nps")),
            _g("predicted-clv", "value.predicted_clv", "higher", "long", "customer lifetime value", _ly(0.10),
               "10 % more predicted 12-month value per customer", fed_by=("repeat-purchase",)),
        ),
        ("xm-nps-2022-retail", "surveymonkey-nps-mean", "surveymonkey-cx-nps-median", "acsi-us-national-2023q4",
         "mailchimp-open-ecommerce", "mailchimp-click-ecommerce"),
    ),
    Template(
        "saas", "SaaS / subscription", "engagement that keeps subscribers paying and growing",
        ("retention.cohort_weekly", "retention.cohort_monthly", "retention.stickiness", "retention.churn_rate",
         "retention.active_days_per_week", "b2b.nrr", "b2b.grr", "b2b.logo_retention", "advocacy.nps",
         "advocacy.ces"),
        (
            _g("stickiness", "retention.stickiness", "higher", "short", "customer lifetime value", _ly(0.10),
               "DAU/MAU 10 % above the same month last year"),
            _g("churn", "retention.churn_rate", "lower", "short", "revenue growth", _ly(-0.10),
               "10 % fewer lapsed customers than last year"),
            _g("nps", "advocacy.nps", "higher", "short", "customer lifetime value", 32,
               "benchmark row surveymonkey-nps-mean"),
            _g("nrr", "b2b.nrr", "higher", "long", "revenue growth", 1.0,
               "keep the revenue we have: NRR at least 100 % (SaaS Capital's medians by ACV band are in the "
               "benchmarks)", fed_by=("stickiness", "churn", "nps")),
            _g("grr", "b2b.grr", "higher", "long", "revenue growth", _ly(0.02, False),
               "2 points more gross revenue retained than last year", fed_by=("churn",)),
        ),
        ("saascapital-nrr-2023-lt12k", "saascapital-nrr-2023-12-25k", "saascapital-nrr-2023-25-50k",
         "saascapital-grr-2023-lt12k", "saascapital-grr-2023-12-25k", "saascapital-grr-2023-25-50k",
         "recurly-churn-2019-all", "recurly-churn-2019-b2b", "recurly-churn-2019-b2c", "surveymonkey-nps-mean"),
    ),
    Template(
        "b2b", "B2B", "lead quality and long relationships over lead volume",
        ("b2b.lead_to_opportunity", "b2b.lead_to_won", "b2b.lead_to_relationship", "b2b.late_converters",
         "b2b.follow_up_time", "b2b.untouched_leads", "b2b.rejected_leads", "b2b.win_rate", "b2b.sales_cycle",
         "b2b.pipeline_velocity", "b2b.pipeline_sourced", "b2b.buying_committee", "b2b.account_return_visits",
         "b2b.nrr", "b2b.grr", "b2b.logo_retention"),
        (
            _g("untouched-leads", "b2b.untouched_leads", "lower", "short", "revenue growth", _ly(-0.20),
               "20 % fewer MQLs left without a sales touch for a week"),
            _g("lead-to-opportunity", "b2b.lead_to_opportunity", "higher", "short", "revenue growth", _ly(0.10),
               "10 % more leads reaching an opportunity within 90 days"),
            _g("account-return-visits", "b2b.account_return_visits", "higher", "short", "market share", _ly(0.05),
               "awareness and engagement are legitimate goals: 5 % more accounts coming back"),
            _g("lead-to-relationship", "b2b.lead_to_relationship", "higher", "long", "customer lifetime value",
               _ly(0.10), "10 % more leads in an active relationship a year on",
               fed_by=("untouched-leads", "lead-to-opportunity", "account-return-visits")),
            _g("nrr", "b2b.nrr", "higher", "long", "revenue growth", 1.0,
               "keep the revenue we have: NRR at least 100 %", fed_by=("lead-to-opportunity",)),
        ),
        ("clearlyrated-hr-services-2022", "clearlyrated-rpo-2022", "saascapital-nrr-2023-25-50k",
         "saascapital-grr-2023-25-50k", "mailchimp-open-business-finance", "mailchimp-click-business-finance"),
        (("Awareness (branded search, direct traffic, share of voice) has no KPI in afterclick yet; add such "
          "goals when it does."),),
    ),
    Template(
        "media", "Media / content", "readers who come back, save and share",
        ("retention.returning_share", "retention.repeat_visit_rate", "retention.stickiness",
         "trust.session_duration_median", "resonance.save_rate", "resonance.share_rate", "resonance.depth_ratio",
         "content.value", "content.goal_attainment", "content.engaged_vs_not"),
        (
            _g("save-rate", "resonance.save_rate", "higher", "short", "audience loyalty", _ly(0.10),
               "10 % more saves per shallow interaction than last year"),
            _g("returning-share", "retention.returning_share", "higher", "short", "audience loyalty", _ly(0.05),
               "5 % more of the active audience returning"),
            _g("content-value", "content.value", "higher", "long", "subscriptions and revenue", _ly(0.10),
               "10 % more of content interactions deep", fed_by=("save-rate", "returning-share")),
        ),
        ("acsi-video-streaming-2024", "mailchimp-open-all", "mailchimp-click-all"),
        (("Newsletter open rates since Apple Mail Privacy Protection (2021) are not comparable with the "
          "Mailchimp 2019 figures."),),
    ),
    Template(
        "community", "Community", "members who help each other and come back",
        ("community.active_participants", "community.repeat_participants", "community.ugc_creators",
         "community.member_reply_share", "community.brand_response_rate", "community.time_to_first_response",
         "community.engagement_levels", "community.reply_network", "resonance.gratitude_rate",
         "resonance.message_sentiment"),
        (
            _g("brand-response", "community.brand_response_rate", "higher", "short", "customer lifetime value",
               _ly(0.05, False), "5 points more member posts answered by the brand"),
            _g("first-response-time", "community.time_to_first_response", "lower", "short",
               "customer lifetime value", _ly(-0.20), "first answers 20 % faster than last year"),
            _g("member-replies", "community.member_reply_share", "higher", "long", "market share", _ly(0.10),
               "10 % more replies between members", fed_by=("brand-response", "first-response-time")),
        ),
        (),
        ("No published community benchmark met the citation bar yet; add your own rows.",),
    ),
)}


def quarter_end(day: date) -> date:
    q_last_month = (day.month - 1) // 3 * 3 + 3
    nxt = date(day.year + (q_last_month == 12), q_last_month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def goals_text(name: str, today: date) -> str:
    """A goals file for template ``name``: short-term goals due at the end of the next quarter,
    long-term goals at the end of next year."""
    t = TEMPLATES[name]
    short = quarter_end(quarter_end(today) + timedelta(days=1))
    long = date(today.year + 1, 12, 31)
    lines = [f"# afterclick goals: {t.title} template ({t.about}).",
             "# Edit the owners, targets and deadlines; `afterclick goals --store S --goals THIS_FILE` judges them.",
             "# Rates are fractions (45 % = 0.45). A target is a number, a dated path",
             "#   target = { path = [{ date = 2027-01-01, value = 0.30 }, { date = 2027-03-31, value = 0.45 }] }",
             "# or the same period last year changed: { last_year = true, change = 0.05, change_is = \"relative\" }.",
             "# Optional: thresholds = { minimum = ..., good = ..., excellent = ... } (ordered with the direction);",
             "# cumulative = true with start = DATE for counts that add up (judged by run rate).",
             f"# KPIs of this template: {', '.join(t.kpis)}.",
             f"# Benchmark rows: {', '.join(t.benchmarks) or 'none yet'} (`afterclick goals` shows them).",
             "# The template orders the review report and gives its headline (its first KPI).",
             f"template = {_toml(t.name)}", ""]
    lines += [f"# Note: {n}" for n in t.notes] + ([""] if t.notes else [])
    for g in t.goals:
        lines.append("[[goal]]")
        if g["_comment"]:
            lines.append(f"# {g['_comment']}")
        deadline = short if g["horizon"] == "short" else long
        for key in ("id", "kpi", "direction", "horizon", "owner", "objective"):
            lines.append(f"{key} = {_toml(g[key])}")
        lines.append(f"deadline = {_toml(deadline)}")
        lines.append(f"target = {_toml(g['target'])}")
        if "fed_by" in g:
            lines.append(f"fed_by = {_toml(g['fed_by'])}")
        lines.append("")
    return "\n".join(lines)


def report_order(store_location: str | Path, template: str | None = None) -> tuple[str, ...]:
    """The KPI order a report follows: ``template``'s KPIs, else those of the template named by the
    goals file beside the store (``goals.toml``); empty (the default order) when there is neither."""
    if template is None:
        from afterclick.goals._files import FileProblems
        from afterclick.goals.spec import load_goals

        beside = Path(str(store_location)).parent / "goals.toml"
        if not beside.is_file():
            return ()
        try:
            template = load_goals(beside).template
        except FileProblems:  # the report's Goals section lists the problems
            return ()
    return TEMPLATES[template].kpis if template in TEMPLATES else ()
