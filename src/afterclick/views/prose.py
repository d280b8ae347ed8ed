"""What every sentence writer shares: percent wording, reading a result's rows, the period word."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from afterclick.core.format import format_percent
from afterclick.plots._common import (
    result_period_word,  # one rule for charts and sentences
)
from afterclick.results import KPIResult

#: A sentence writer: the result and every other result of the run (by KPI id), to a sentence.
Narrator = Callable[[KPIResult, Mapping[str, KPIResult]], "str | None"]


def pct(v: float) -> str:
    """Retention-style percent: whole numbers, one decimal below 1%."""
    return format_percent(v, 1 if 0 < abs(v) < 0.01 else 0)


def rows_of(result: KPIResult | None, *columns: str) -> pd.DataFrame | None:
    if result is None or not result.ok or result.rows is None or result.rows.empty:
        return None
    if any(c not in result.rows.columns for c in columns):
        return None
    return result.rows


def as_int(v: object) -> int:
    v = pd.to_numeric(pd.Series([v]), errors="coerce").iloc[0]
    return 0 if pd.isna(v) else int(v)


def period_word_of(result: KPIResult, timestamps: pd.Series) -> str:
    return result_period_word(result, timestamps)


def headline_row(result: KPIResult, values: pd.Series) -> int:
    """Position in ``values`` (indexed by period start, sorted) of the period the headline reads:
    the result's period where it names one, else the last period whose value is the headline
    (the KPI skips a period still filling up), else the last period."""
    if result.period is not None and result.period.start is not None:
        start = pd.Timestamp(result.period.start)
        start = start.tz_localize("UTC") if start.tzinfo is None else start.tz_convert("UTC")
        hits = [i for i, p in enumerate(values.index) if p == start]
        if hits:
            return hits[-1]
    if result.value is not None:
        hits = [i for i, v in enumerate(values) if pd.notna(v) and abs(v - result.value) < 1e-9]
        if hits:
            return hits[-1]
    return len(values) - 1


