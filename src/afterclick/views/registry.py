"""One view per KPI spec: its chart, its sentence, the values shown beside it and the label of
its headline number. The report walks ``VIEWS`` in order (the order of the charts); the CLI and a
dashboard walk the same mapping.

Keys are specs from ``afterclick.kpis.REGISTRY``, found by their compute function (no KPI id is
written here); a test checks they are a subset of the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import plotly.graph_objects as go

from afterclick.kpis import (
    advocacy,
    attribution,
    campaigns,
    community,
    content,
    journey,
    ladder,
    resonance,
    retention,
    signals,
    value,
)
from afterclick.kpis.base import KPI
from afterclick.plots.advocacy import (
    plot_csat_over_time,
    plot_drivers,
    plot_nps_over_time,
    plot_themes,
)
from afterclick.plots.attribution import plot_attribution
from afterclick.plots.campaigns import plot_clicks_vs_commitment
from afterclick.plots.community import (
    plot_engagement_levels,
    plot_member_replies,
    plot_participants,
    plot_reply_network,
)
from afterclick.plots.content import (
    plot_content_quadrant,
    plot_engaged_vs_not,
    plot_goal_attainment,
)
from afterclick.plots.journey import plot_funnel
from afterclick.plots.ladder import plot_commitment_ladder
from afterclick.plots.resonance import plot_content_resonance
from afterclick.plots.retention import plot_lifecycle, plot_retention_heatmap
from afterclick.plots.signals import plot_leading_indicators
from afterclick.plots.value import (
    plot_campaign_credit,
    plot_holdout_check,
    plot_probability_alive_matrix,
    plot_value_distribution,
)
from afterclick.results import KPIResult
from afterclick.views import narrative_outcomes as o
from afterclick.views import narrative_relationship as r
from afterclick.views.prose import Narrator
from afterclick.views.specs import param, spec

PlotFn = Callable[[KPIResult], go.Figure]


@dataclass(frozen=True)
class View:
    """How one KPI is shown.

    ``chart`` draws its result; ``sentence`` says it in words (given every result of the run);
    ``companions`` are other KPIs whose values sit beside the chart; ``chip_label`` names the
    headline number when the KPI's name describes the chart instead, and ``name`` the KPI where
    its spec's name repeats a parameter's default (both read the result, so the words follow
    the parameters); ``headline`` marks the report's opening chart.
    """

    chart: PlotFn | None = None
    sentence: Narrator | None = None
    companions: tuple[KPI, ...] = ()
    chip_label: Callable[[KPIResult], str] | None = None
    headline: bool = False
    name: Callable[[KPIResult], str] | None = None


def _kept_label(result: KPIResult) -> str:
    return f"Kept {param(result, 'retention_days')} days on, all campaigns"


def _journeys_label(result: KPIResult) -> str:
    return f"Journeys still active {param(result, 'retention_days')} days on"


def _engaged_label(result: KPIResult) -> str:
    return f"{param(result, 'retention_days')}-day retention, engaged minus comparable"


def _relationship_name(by: str) -> Callable[[KPIResult], str]:
    return lambda result: f"Credit for relationships ({param(result, 'retention_days')}-day retention), by {by}"


_CREDIT = View(plot_attribution, o.attribution_credit)

#: The views, in the report's chart order.
VIEWS: dict[KPI, View] = {
    spec(campaigns.clicks_vs_commitment): View(plot_clicks_vs_commitment, r.clicks_vs_commitment,
                                               chip_label=_kept_label, headline=True),
    spec(ladder.commitment_ladder): View(plot_commitment_ladder, r.commitment_ladder),
    spec(retention.cohort_weekly): View(plot_retention_heatmap, r.cohort_retention),
    spec(retention.cohort_monthly): View(plot_retention_heatmap, r.cohort_retention),
    spec(retention.lifecycle): View(plot_lifecycle, r.lifecycle),
    spec(journey.funnel): View(plot_funnel, r.funnel, companions=(spec(journey.clicks_to_nowhere_rate),)),
    spec(community.active_participants): View(plot_participants),
    spec(community.member_reply_share): View(plot_member_replies, r.member_replies),
    spec(community.engagement_levels): View(plot_engagement_levels),
    spec(community.reply_network): View(plot_reply_network),
    spec(content.value): View(plot_content_quadrant, r.content_depth),
    spec(content.goal_attainment): View(plot_goal_attainment),
    spec(content.engaged_vs_not): View(plot_engaged_vs_not, r.engaged_vs_not, chip_label=_engaged_label),
    spec(attribution.channels): _CREDIT,
    spec(attribution.campaigns): _CREDIT,
    spec(attribution.relationship): View(plot_attribution, o.attribution_relationship, chip_label=_journeys_label,
                                         name=_relationship_name("channel")),
    spec(attribution.relationship_campaigns): View(plot_attribution, o.attribution_relationship,
                                                   chip_label=_journeys_label, name=_relationship_name("campaign")),
    spec(signals.leading_indicators): View(plot_leading_indicators, o.leading_indicators),
    spec(signals.value_indicators): View(plot_leading_indicators, o.leading_indicators),
    spec(value.predicted_clv): View(plot_value_distribution),
    spec(value.probability_alive): View(plot_probability_alive_matrix),
    spec(value.campaign_ltv_credit): View(plot_campaign_credit, o.campaign_credit),
    spec(value.holdout_check): View(plot_holdout_check),
    spec(resonance.content_resonance): View(plot_content_resonance),
    spec(advocacy.nps): View(plot_nps_over_time, o.nps_sentence),
    spec(advocacy.csat): View(plot_csat_over_time),
    spec(advocacy.themes): View(plot_themes, o.themes_sentence),
    spec(advocacy.drivers): View(plot_drivers),
}

#: The same views by KPI id, for results (which carry their spec's id).
BY_ID: Mapping[str, View] = {k.id: v for k, v in VIEWS.items()}


def view(result: KPIResult) -> View | None:
    """The view of ``result``'s KPI, or None when it has none (shown in the scorecard only)."""
    return BY_ID.get(result.id)


def charts() -> dict[str, PlotFn]:
    """KPI id → chart, in the report's order."""
    return {k.id: v.chart for k, v in VIEWS.items() if v.chart is not None}


def plot(result: KPIResult) -> go.Figure:
    """The chart of ``result``'s KPI (its view)."""
    known = charts()
    try:
        fn = known[result.id]
    except KeyError:
        raise KeyError(f"no chart for KPI {result.id!r}; charts exist for {', '.join(known)}") from None
    return fn(result)


def __getattr__(name: str) -> dict[str, PlotFn]:
    if name == "PLOTS":  # KPI id → chart, in the report's order (afterclick.plots.PLOTS before)
        return charts()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def value_label(result: KPIResult) -> str | None:
    """What the headline number is, in words that follow the result's parameters (None: its name says)."""
    v = view(result)
    if v is not None and v.chip_label is not None:
        return v.chip_label(result)
    return result.value_label


def chip_label(result: KPIResult) -> str:
    """What the headline number beside a chart is called."""
    return value_label(result) or display_name(result)


def display_name(result: KPIResult) -> str:
    """The KPI's name, in words that follow the result's parameters."""
    v = view(result)
    return v.name(result) if v is not None and v.name is not None else result.name
