"""Charts of KPI results: one ``plot_*`` function per chart, each taking a ``KPIResult``.

``PLOTS`` maps a KPI id to its chart; the report draws the charts in this order, so a new
family adds its chart by adding an entry here. Plots take results, never tables, and read only
the columns of their KPI's ``rows`` contract.
"""

from __future__ import annotations

from collections.abc import Callable

import plotly.graph_objects as go

from afterclick.plots.campaigns import plot_clicks_vs_commitment
from afterclick.plots.journey import plot_funnel
from afterclick.plots.ladder import plot_commitment_ladder
from afterclick.plots.retention import plot_lifecycle, plot_retention_heatmap
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
    "value.predicted_clv": plot_value_distribution,
    "value.probability_alive": plot_probability_alive_matrix,
    "value.campaign_ltv_credit": plot_campaign_credit,
    "value.holdout_check": plot_holdout_check,
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
    "plot_campaign_credit",
    "plot_holdout_check",
    "plot_probability_alive_matrix",
    "plot_value_distribution",
]
