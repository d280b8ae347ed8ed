"""Sentences for the outcome charts: lifetime value credited to campaigns, attribution, early
signals, NPS and the themes of open feedback."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from afterclick.core.format import format_percent
from afterclick.kpis.advocacy import drivers
from afterclick.kpis.signals import (
    EARLY_DAYS,
    OUTCOME_FROM_DAYS,
    OUTCOME_TO_DAYS,
    value_indicators,
)
from afterclick.plots._common import display_names, event_label
from afterclick.results import KPIResult
from afterclick.text.themes import TOWARDS_DETRACTORS
from afterclick.views.prose import rows_of
from afterclick.views.specs import param, spec


def campaign_credit(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The campaign with the most lifetime value beside the one with the least per buyer.

    e.g. "Counting lifetime value, Plant Care Academy earns 94,764 (465 per buyer, 38× its spend)
    from a first sale of 10,175; Win-a-Monstera giveaway earns 2,460 (85 per buyer), less than its
    spend of 6,500."
    """
    rows = rows_of(result, "name", "first_sale", "lifetime_value", "lifetime_per_buyer")
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
    rows = rows_of(result, "model", "share")
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
    rows = rows_of(result, "model", "per_journey")
    if rows is None:
        return None
    key = _key(rows)
    m = rows[rows.model == "markov"].set_index(key).per_journey.dropna()
    if len(m) < 2:
        return None
    best, worst = m.idxmax(), m.idxmin()
    names = display_names(rows, key)
    return (f"Per journey it touched, {names[best]} brings the most customers still active "
            f"{param(result, 'retention_days')} days on "
            f"({m[best]:.2f} under the Markov model) and {names[worst]} the fewest ({m[worst]:.2f}).")


def leading_indicators(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The top-ranked behaviour in words, with the model's accuracy on later cohorts."""
    rows = rows_of(result, "indicator", "odds_ratio", "or_low")
    if rows is None or result.value is None:
        return None
    top = rows.iloc[0]
    if not top["or_low"] > 1:
        return (f"No first-weeks behaviour stands out with confidence (AUC {result.value:.2f} on "
                "later cohorts).")
    outcome = (f"buy between day {EARLY_DAYS} and day {OUTCOME_TO_DAYS}" if result.id == spec(value_indicators).id
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
    d = rows_of((context or {}).get(spec(drivers).id), "label", "nps_with", "nps_without", "direction")
    if d is not None:
        worst = d[d["direction"] == TOWARDS_DETRACTORS]
        if len(worst):
            w = worst.iloc[0]
            text += (f"; the theme pulling answers most towards detractors is \u201c{w['label']}\u201d "
                     f"(NPS {float(w['nps_with']):+.0f} among those who mention it, "
                     f"{float(w['nps_without']):+.0f} among the others)")
    return text + "."


def themes_sentence(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The largest themes of the open feedback, by volume."""
    rows = rows_of(result, "label", "share")
    if rows is None:
        return None
    top = rows.head(3)
    parts = [f"\u201c{r['label']}\u201d ({format_percent(r['share'], 0)})" for _, r in top.iterrows()]
    return f"The open feedback talks most about {', '.join(parts)} of comments."


