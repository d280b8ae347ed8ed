"""Sentences for the attribution and early-signals charts (registered in ``narrative.NARRATIVES``).

Each is built from the result's rows only, and names nothing the rows do not contain.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from afterclick.kpis.signals import EARLY_DAYS
from afterclick.report.format import format_percent
from afterclick.results import KPIResult


def _ok_rows(result: KPIResult, *columns: str) -> pd.DataFrame | None:
    rows = result.rows
    if not result.ok or rows is None or rows.empty or any(c not in rows.columns for c in columns):
        return None
    return rows


def _key(rows: pd.DataFrame) -> str:
    return "campaign_id" if "campaign_id" in rows.columns else "channel"


def attribution_credit(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """Who leads under the Markov model, and who gains most against last-click credit."""
    rows = _ok_rows(result, "model", "share")
    if rows is None:
        return None
    key = _key(rows)
    wide = rows.pivot_table(index=key, columns="model", values="share", aggfunc="sum")
    if not {"markov", "last_touch"} <= set(wide.columns):
        return None
    lead = wide["markov"].idxmax()
    gain = (wide["markov"] - wide["last_touch"]).sort_values(ascending=False)
    text = (f"The Markov model credits {lead} with the most first purchases "
            f"({format_percent(wide.loc[lead, 'markov'], 0)}; last click gives it "
            f"{format_percent(wide.loc[lead, 'last_touch'], 0)})")
    if len(gain) > 1 and gain.iloc[0] > 0.005:
        g = gain.index[0]
        text += (f"; {g} gains most over last click ({format_percent(wide.loc[g, 'markov'], 0)} "
                 f"against {format_percent(wide.loc[g, 'last_touch'], 0)})")
    return text + "."


def attribution_relationship(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """Per journey touched, who brings the most and the fewest customers who stay."""
    rows = _ok_rows(result, "model", "per_journey")
    if rows is None:
        return None
    key = _key(rows)
    m = rows[rows.model == "markov"].set_index(key).per_journey.dropna()
    if len(m) < 2:
        return None
    best, worst = m.idxmax(), m.idxmin()
    return (f"Per journey it touched, {best} brings the most customers still active 90 days on "
            f"({m[best]:.2f} under the Markov model) and {worst} the fewest ({m[worst]:.2f}).")


def leading_indicators(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The top-ranked behaviour in words, with the model's accuracy on later cohorts."""
    rows = _ok_rows(result, "indicator", "odds_ratio", "or_low")
    if rows is None or result.value is None:
        return None
    top = rows.iloc[0]
    if not top["or_low"] > 1:
        return (f"No first-weeks behaviour stands out with confidence (AUC {result.value:.2f} on "
                "later cohorts).")
    outcome = "buy" if result.id == "signals.value_indicators" else "be active months later"
    return (f"Customers who did {top['indicator']} in their first {EARLY_DAYS} days had {top['odds_ratio']:.1f}× the odds to {outcome} "
            f"(95% from {top['or_low']:.1f}×); the model ranks later cohorts with AUC {result.value:.2f}.")
