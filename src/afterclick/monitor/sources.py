"""Which KPIs have a series, and where each series comes from.

Every headline KPI whose rows carry a time (it has a *clock*: events, orders, messages or survey
answers) has a series, unless :data:`NO_SERIES` says why a per-period value would mislead. Two
ways to the values:

* ``rows``: the KPI's own breakdown already holds one row per period (:data:`ROW_SOURCES`, from
  the data file ``catalogue.toml`` beside this module, names the period column, the value column and what stands behind each value, e.g. ``advocacy.nps`` →
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

import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
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


#: The monitoring catalogue, as data: the [rows] series, the KPIs with [no_series] and why, the
#: [breakdowns] of :mod:`afterclick.monitor.explainers` (each section's comment says its fields).
CATALOGUE = Path(__file__).with_name("catalogue.toml")


def catalogue() -> dict[str, Any]:
    """The catalogue file's sections, as read."""
    return tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))


def _row_source(entry: dict[str, Any]) -> SeriesSource:
    return SeriesSource("rows", entry["grain"], entry["period"], entry["value"], entry.get("n"),
                        tuple(entry.get("where", {}).items()))


_CATALOGUE = catalogue()
#: KPIs whose rows are already one per period. ``param`` rows follow the workspace's grain.
ROW_SOURCES: dict[str, SeriesSource] = {k: _row_source(v) for k, v in _CATALOGUE["rows"].items()}
#: KPIs with a clock whose value for one period alone would mislead, and why.
NO_SERIES: dict[str, str] = dict(_CATALOGUE["no_series"])


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
