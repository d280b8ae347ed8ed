"""The note of ``content.goal_attainment`` (``kpis/content.py``), apart from the statistics of the
content family (``analysis/content.py``): it needs none of them, and loading statsmodels for it
cost the KPI about a second on a fresh process."""

from __future__ import annotations

import pandas as pd

from afterclick.kpis.base import Outcome


def no_goal_note(value: float | None, rows: pd.DataFrame | None) -> Outcome:
    """``content.goal_attainment``: says so when no content item declares a goal."""
    notes = ()
    if rows is None or rows.empty:
        notes = (("No content item declares a goal: add a goal column to the content file "
                  "(download, share, signup...) to score items against it."),)
    return Outcome(value=value, rows=rows, notes=notes)
