"""Charts of KPI results: one ``plot_*`` function per chart, each taking a ``KPIResult``.

``PLOTS`` maps a KPI id to its chart; the report draws the charts in this order, so a new
family adds its chart by adding an entry here. Plots take results, never tables, and read only
the columns of their KPI's ``rows`` contract.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go

from afterclick.plots.attribution import plot_attribution
from afterclick.plots.advocacy import plot_csat_over_time, plot_drivers, plot_nps_over_time, plot_themes
from afterclick.plots.campaigns import plot_clicks_vs_commitment
from afterclick.plots.community import (
    plot_engagement_levels,
    plot_member_replies,
    plot_participants,
    plot_reply_network,
)
from afterclick.plots.content import plot_content_quadrant, plot_engaged_vs_not, plot_goal_attainment
from afterclick.plots.journey import plot_funnel
from afterclick.plots.ladder import plot_commitment_ladder
from afterclick.plots.resonance import plot_content_resonance
from afterclick.plots.retention import plot_lifecycle, plot_retention_heatmap
from afterclick.plots.signals import plot_leading_indicators
from afterclick.plots.value import (
    plot_campaign_credit, plot_holdout_check, plot_probability_alive_matrix, plot_value_distribution,
)
from afterclick.results import KPIResult

PlotFn = Callable[[KPIResult], go.Figure]

PLOTS: dict[str, PlotFn] = {
    "campaigns.clicks_vs_commitment": plot_clicks_vs_commitment,
    "ladder.commitment_ladder": plot_commitment_ladder,
    "retention.cohort_weekly": plot_retention_heatmap,
    "retention.cohort_monthly": plot_retention_heatmap,
    "retention.lifecycle": plot_lifecycle,
    "journey.funnel": plot_funnel,
    "community.active_participants": plot_participants,
    "community.member_reply_share": plot_member_replies,
    "community.engagement_levels": plot_engagement_levels,
    "community.reply_network": plot_reply_network,
    "content.value": plot_content_quadrant,
    "content.goal_attainment": plot_goal_attainment,
    "content.engaged_vs_not": plot_engaged_vs_not,
    "attribution.channels": plot_attribution,
    "attribution.campaigns": plot_attribution,
    "attribution.relationship": plot_attribution,
    "attribution.relationship_campaigns": plot_attribution,
    "signals.leading_indicators": plot_leading_indicators,
    "signals.value_indicators": plot_leading_indicators,
    "value.predicted_clv": plot_value_distribution,
    "value.probability_alive": plot_probability_alive_matrix,
    "value.campaign_ltv_credit": plot_campaign_credit,
    "value.holdout_check": plot_holdout_check,
    "resonance.content_resonance": plot_content_resonance,
    "advocacy.nps": plot_nps_over_time,
    "advocacy.csat": plot_csat_over_time,
    "advocacy.themes": plot_themes,
    "advocacy.drivers": plot_drivers,
}


def plot(result: KPIResult) -> go.Figure:
    """The chart registered for ``result.id``."""
    try:
        fn = PLOTS[result.id]
    except KeyError:
        raise KeyError(f"no chart for KPI {result.id!r}; charts exist for {', '.join(PLOTS)}") from None
    return fn(result)


__all__ = [
    "PLOTS",
    "PlotFn",
    "plot",
    "plot_clicks_vs_commitment",
    "plot_commitment_ladder",
    "plot_funnel",
    "plot_lifecycle",
    "plot_retention_heatmap",
    "plot_participants",
    "plot_member_replies",
    "plot_engagement_levels",
    "plot_reply_network",
    "plot_content_quadrant",
    "plot_goal_attainment",
    "plot_engaged_vs_not",
    "plot_attribution",
    "plot_leading_indicators",
    "plot_campaign_credit",
    "plot_holdout_check",
    "plot_probability_alive_matrix",
    "plot_value_distribution",
    "plot_nps_over_time",
    "plot_csat_over_time",
    "plot_themes",
    "plot_drivers",
    "plot_content_resonance",
]
