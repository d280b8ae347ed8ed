"""Charts of KPI results: one ``plot_*`` function per chart, each taking a ``KPIResult``.

Which KPI gets which chart is said once, in ``afterclick.views.registry.VIEWS`` (its ``PLOTS``
and ``plot`` read it; this package imports nothing of the views); a new family adds its chart
there. Plots take results, never tables, and read only the columns of their KPI's ``rows`` contract.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go

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

PlotFn = Callable[[KPIResult], go.Figure]


__all__ = [
    "PlotFn",
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
