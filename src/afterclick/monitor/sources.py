"""Which KPIs have a series, and where each series comes from.

Every headline KPI whose rows carry a time (it has a *clock*: events, orders, messages or survey
answers) has a series, unless :data:`NO_SERIES` says why a per-period value would mislead. Two
ways to the values:

* ``rows``: the KPI's own breakdown already holds one row per period (:data:`ROW_SOURCES` names
  the period column, the value column and what stands behind each value, e.g. ``advocacy.nps`` →
  ``period``/``nps`` with ``answers``). One KPI run gives the whole series; a test checks, on the
  demo, that each row equals the KPI computed for that period alone.
* ``recompute``: every other KPI with a clock: its headline computed again for each consecutive
  period (``start``/``end`` of the period, the workspace's other parameters). One run per period,
  but exactly the number a report for that period would show, for any KPI added later.

The grain of a series: a KPI that declares its own (``span="last_complete_month"``) keeps it;
``param`` follows the workspace's ``grain`` (week or month); a rules file may ask a recomputed
series for days (``[[series]] grain = "day"``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import afterclick.kpis  # noqa: F401  (registers the KPIs)
from afterclick.kpis.base import REGISTRY, TIMED_TABLES


@dataclass(frozen=True)
class SeriesSource:
    """Where a KPI's series comes from: ``how`` is ``rows`` or ``recompute``; ``grain`` is
    ``param`` (the workspace's week or month), ``day``, ``week`` or ``month``; for ``rows``,
    ``period``/``value``/``n`` name the columns and ``where`` keeps the rows whose columns hold
    the given values (a cohort table's week 4)."""

    how: str
    grain: str = "param"
    period: str | None = None
    value: str | None = None
    n: str | None = None
    where: tuple[tuple[str, Any], ...] = ()


def _rows(grain: str, period: str, value: str, n: str | None = None,
          where: tuple[tuple[str, Any], ...] = ()) -> SeriesSource:
    return SeriesSource("rows", grain, period, value, n, where)


#: KPIs whose rows are already one per period. ``param`` rows follow the workspace's grain.
ROW_SOURCES: dict[str, SeriesSource] = {
    # KPI id                              grain      period     value                 n
    "advocacy.nps": _rows("month", "period", "nps", "answers"),
    "advocacy.csat": _rows("month", "period", "csat", "answers"),
    "advocacy.ces": _rows("month", "period", "ces", "answers"),
    "value.active_buyers": _rows("month", "month", "active_buyers"),
    "value.average_order_value": _rows("month", "month", "average_order_value", "orders"),
    "community.member_reply_share": _rows("param", "period", "member_reply_share", "replies"),
    "community.active_participants": _rows("param", "period", "participants"),
    "community.repeat_participants": _rows("param", "period", "repeat_share", "participants"),
    "community.time_to_first_response": _rows("param", "period", "median_s", "answered"),
    "retention.returning_share": _rows("param", "period", "returning_share", "active"),
    "retention.lifecycle": _rows("param", "period", "quick_ratio"),
    "retention.active_days_per_week": _rows("week", "week", "active_days", "active_customers"),
    "community.ugc_creators": _rows("param", "period", "creators"),
    "ladder.movement": _rows("month", "period", "net_up"),
    "trust.session_duration_median": _rows("month", "month", "median_s", "timed_sessions"),
    "trust.session_duration_p75": _rows("month", "month", "p75_s", "timed_sessions"),
    "trust.advice_seeking_share": _rows("month", "period", "share", "writers"),
    "retention.stickiness": _rows("month", "month", "stickiness", "mau"),
    # the headline period of each first-touch cohort (week 4: the "30-day return"; month 3)
    "retention.cohort_weekly": _rows("week", "cohort", "retention_on", "cohort_size", (("period", 4),)),
    "retention.cohort_monthly": _rows("month", "cohort", "retention_on", "cohort_size", (("period", 3),)),
    "trust.visits_per_visitor": _rows("month", "month", "visits_per_visitor", "visitors"),
    "trust.pages_per_session": _rows("month", "month", "pages_per_session", "sessions"),
    "resonance.message_sentiment": _rows("month", "period", "sentiment", "messages"),
    "resonance.gratitude_rate": _rows("month", "period", "rate", "messages"),
    "resonance.personal_story_rate": _rows("month", "period", "rate", "messages"),
    "resonance.thoughtful_rate": _rows("month", "period", "rate", "messages"),
    "resonance.save_rate": _rows("month", "period", "rate", "interactions"),
    "resonance.share_rate": _rows("month", "period", "rate", "interactions"),
}

#: KPIs with a clock whose value for one period alone would mislead, and why.
NO_SERIES: dict[str, str] = {
    "campaigns.clicks_vs_commitment": "it follows each campaign's customers for 90 days",
    "retention.churn_rate": "a customer counts only after churn_days (90) of history",
    "content.engaged_vs_not": "it compares 90-day retention of readers and others",
    "value.predicted_clv": "a model fitted on the whole purchase history",
    "value.probability_alive": "a model fitted on the whole purchase history",
    "value.campaign_ltv_credit": "a model fitted on the whole purchase history",
    "value.engaged_non_buyer_value": "a model fitted on the whole purchase history",
    "value.holdout_check": "a check of a model on a holdout period",
    "attribution.relationship": "a model over whole customer journeys",
    "attribution.channels": "a model over whole customer journeys",
    "advocacy.themes": "themes are found over all the texts at once",
    "signals.leading_indicators": "a model over whole customer histories",
}


def _timed(kpi) -> bool:
    clock = kpi.clock
    if clock is None:
        return any(t in TIMED_TABLES for t in (*kpi.requires_any, *kpi.uses))
    return True


def series_source(kpi_id: str) -> SeriesSource:
    """The KPI's series source; ``KeyError`` saying why when it has none."""
    k = REGISTRY[kpi_id]
    if kpi_id in ROW_SOURCES:
        return ROW_SOURCES[kpi_id]
    if kpi_id in NO_SERIES:
        raise KeyError(f"{kpi_id} has no series: {NO_SERIES[kpi_id]}")
    if not k.headline:
        raise KeyError(f"{kpi_id} has no series: it is a breakdown of another KPI, not a headline")
    if not _timed(k):
        raise KeyError(f"{kpi_id} has no series: its tables carry no time")
    return SeriesSource("recompute", k.span.grain or "param")


def has_series(kpi_id: str) -> bool:
    try:
        series_source(kpi_id)
    except KeyError:
        return False
    return True


def series_kpis() -> tuple[str, ...]:
    """Every KPI with a series, in registry order."""
    return tuple(k.id for k in REGISTRY if has_series(k.id))


def with_grain(source: SeriesSource, grain: str | None) -> SeriesSource:
    """``source`` at another grain (recomputed series only: rows come at their own grain)."""
    if grain is None or grain == source.grain:
        return source
    if source.how != "recompute":
        raise ValueError(f"this series comes from the KPI's {source.grain} rows; its grain cannot change")
    return replace(source, grain=grain)
