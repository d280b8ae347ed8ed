"""A KPI series as the monitor reads it: regular period starts of one grain, a value per period
and, optionally, how many people or events stand behind each value (``n``).

Input is a pandas Series (period start → value) or a DataFrame with a period column (or a date
index), a ``value`` column and an optional ``n`` (or ``denominator``) column. Missing periods inside the range are kept
as gaps (NaN): they are interpolated for the decomposition and never flagged.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from afterclick.results import Direction, Unit


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"

    @property
    def season(self) -> int | None:
        """Periods in one season: weekly seasonality in daily series, yearly in weekly and monthly."""
        return {Grain.DAY: 7, Grain.WEEK: 52, Grain.MONTH: 12, Grain.YEAR: None}[self]

    def plural(self, k: int) -> str:
        return f"{k} {self.value}" if k == 1 else f"{k} {self.value}s"


_PERIOD_COLUMNS = ("period", "start", "period_start", "date")


@dataclass(frozen=True, eq=False)
class KpiSeries:
    """One KPI over regular periods; ``values`` and ``n`` hold NaN where a period is missing."""

    kpi: str
    name: str
    unit: Unit
    direction: Direction
    grain: Grain
    periods: tuple[pd.Timestamp, ...]
    values: np.ndarray
    n: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.periods)

    @property
    def gaps(self) -> int:
        return int(np.isnan(self.values).sum())

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame({"period": list(self.periods), "value": self.values})
        if self.n is not None:
            out["n"] = self.n
        return out


def _positions(periods: pd.DatetimeIndex, grain: Grain) -> np.ndarray:
    first = periods[0]
    if grain is Grain.DAY or grain is Grain.WEEK:
        step = 1 if grain is Grain.DAY else 7
        days = np.asarray((periods - first).days, dtype=float)
        return days / step
    if grain is Grain.MONTH:
        ok = np.all(periods.day == first.day)
        months = (periods.year - first.year) * 12 + (periods.month - first.month)
        return np.asarray(months, dtype=float) if ok else np.full(len(periods), 0.5)
    ok = np.all((periods.month == first.month) & (periods.day == first.day))
    years = np.asarray(periods.year - first.year, dtype=float)
    return years if ok else np.full(len(periods), 0.5)


def _split(data: pd.Series | pd.DataFrame) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray | None]:
    if isinstance(data, pd.Series):
        return pd.DatetimeIndex(pd.to_datetime(data.index)), data.to_numpy(dtype=float), None
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"a KPI series is a pandas Series or DataFrame, not {type(data).__name__}")
    if "value" not in data.columns:
        raise ValueError("Required column 'value' missing from the KPI series")
    col = next((c for c in _PERIOD_COLUMNS if c in data.columns), None)
    index = data[col] if col is not None else data.index
    n_col = next((c for c in ("n", "denominator") if c in data.columns), None)
    n = data[n_col].to_numpy(dtype=float) if n_col else None
    return pd.DatetimeIndex(pd.to_datetime(index)), data["value"].to_numpy(dtype=float), n


def kpi_series(
    data: pd.Series | pd.DataFrame,
    grain: Grain | str,
    *,
    kpi: str = "",
    name: str | None = None,
    unit: Unit | str = Unit.FRACTION,
    direction: Direction | str = Direction.HIGHER,
) -> KpiSeries:
    """Check and regularise a KPI series; the caller's data is never modified.

    Raises ``ValueError`` naming the problem when periods repeat or are not period starts of the
    grain (e.g. two dates 3 days apart in a weekly series).
    """
    grain = Grain(grain)
    periods, values, n = _split(data)
    if periods.tz is not None:
        periods = periods.tz_convert("UTC").tz_localize(None)
    order = np.argsort(periods.asi8, kind="stable")
    periods, values = periods[order], values[order]
    n = None if n is None else n[order]
    if periods.has_duplicates:
        dup = periods[periods.duplicated()][0]
        raise ValueError(f"period {dup.date()} appears twice in the KPI series; give one value per period")
    label = name or kpi or "KPI"
    if len(periods) == 0:
        return KpiSeries(kpi, label, Unit(unit), Direction(direction), grain, (), np.array([]), None)
    pos = _positions(periods, grain)
    if not np.allclose(pos, np.round(pos)):
        raise ValueError(f"dates of the KPI series are not regular {grain.value} starts "
                         f"(from {periods[0].date()}); aggregate them to one value per {grain.value}")
    pos = np.round(pos).astype(int)
    full_values = np.full(pos[-1] + 1, np.nan)
    full_values[pos] = values
    full_n = None
    if n is not None:
        full_n = np.full(pos[-1] + 1, np.nan)
        full_n[pos] = n
    full = tuple(period_start(periods[0], grain, k) for k in range(pos[-1] + 1))
    return KpiSeries(kpi, label, Unit(unit), Direction(direction), grain, full, full_values, full_n)


def period_start(first: pd.Timestamp, grain: Grain, k: int) -> pd.Timestamp:
    """The start of the ``k``-th period after ``first``."""
    if grain is Grain.DAY:
        return first + pd.Timedelta(days=k)
    if grain is Grain.WEEK:
        return first + pd.Timedelta(days=7 * k)
    if grain is Grain.MONTH:
        return first + pd.DateOffset(months=k)
    return first + pd.DateOffset(years=k)


def period_label(start: pd.Timestamp, grain: Grain) -> str:
    """``3 Aug 2026`` (day), ``the week of 3 Aug 2026``, ``Aug 2026`` (month), ``1899`` (year)."""
    day = f"{start.day} {start.strftime('%b %Y')}"
    return {Grain.DAY: day, Grain.WEEK: f"the week of {day}",
            Grain.MONTH: start.strftime("%b %Y"), Grain.YEAR: str(start.year)}[grain]


def format_level(value: float, unit: Unit) -> str:
    """A KPI value as read in a flag: fractions as ``41.0%``, counts with thousands separators."""
    if value is None or not np.isfinite(value):
        return "—"
    if unit is Unit.FRACTION:
        return f"{value * 100:.1f}%"
    if unit is Unit.POINTS:
        return f"{value * 100:+.1f} pts"
    if unit is Unit.COUNT:
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def format_difference(diff: float, unit: Unit, relative: float | None = None) -> str:
    """A change: ``−8.0 pts`` for fractions (percentage points), ``−12%`` relative otherwise."""
    if unit in (Unit.FRACTION, Unit.POINTS):
        return f"{diff * 100:+.1f} pts".replace("-", "−")
    if relative is not None and np.isfinite(relative):
        return f"{relative * 100:+.0f}%".replace("-", "−")
    return f"{diff:+,.2f}".replace("-", "−")
