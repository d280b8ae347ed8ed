"""Series for every KPI with a time: each per-period row equals the KPI computed for that period
(alone, or with the history before it for KPIs that read the last complete period)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from afterclick.kpis.base import REGISTRY
from afterclick.monitor.kpi_series import SERIES_SOURCES, computed_series
from afterclick.monitor.series import period_start
from afterclick.monitor.sources import (
    NO_SERIES,
    ROW_SOURCES,
    series_kpis,
    series_source,
)
from afterclick.results import SpanKind


def _window(series, i):
    start = series.periods[i]
    return start.tz_localize("UTC").to_pydatetime(), period_start(start, series.grain, 1).tz_localize("UTC").to_pydatetime()


@pytest.mark.parametrize("kpi_id", sorted(k for k, s in ROW_SOURCES.items() if not s.where))
def test_each_row_of_a_row_series_is_the_kpi_of_that_period_alone(demo_ws, kpi_id):
    series, how, _ = computed_series(demo_ws, kpi_id)
    assert how == "rows" and len(series) >= 12
    finite = np.flatnonzero(np.isfinite(series.values))
    for i in (finite[len(finite) // 3], finite[-1]):
        start, end = _window(series, i)
        if REGISTRY[kpi_id].span.kind is SpanKind.LAST_COMPLETE:
            # its headline reads the last complete period and counts on the history before it
            # ("repeat" participants, "returning" customers): the data up to that period's end
            again = demo_ws.kpi(kpi_id, end=end)
        else:
            again = demo_ws.kpi(kpi_id, start=start, end=end)
        assert again.ok and again.value is not None, (kpi_id, start, again.reason)
        assert series.values[i] == pytest.approx(again.value, rel=1e-9), (kpi_id, start)


@pytest.mark.parametrize("kpi_id", sorted(k for k, s in ROW_SOURCES.items() if s.where))
def test_a_cohort_series_pools_to_the_kpi_headline(demo_ws, kpi_id):
    """Week 4 (month 3) of each cohort cannot be computed from that week alone; pooled over the
    cohorts, weighted by their size, it is the KPI's headline."""
    series, how, notes = computed_series(demo_ws, kpi_id)
    assert how == "rows" and np.isfinite(series.values).sum() >= 12
    result = demo_ws.kpi(kpi_id)
    (column, wanted), = ROW_SOURCES[kpi_id].where
    rows = result.rows[result.rows[column] == wanted]
    pooled = (rows["retention_on"] * rows["cohort_size"]).sum() / rows["cohort_size"].sum()
    assert pooled == pytest.approx(result.value, rel=1e-9)
    # the series holds those rows, less a first cohort that only part of its period made
    by_cohort = dict(zip(pd.to_datetime(rows["cohort"]).dt.tz_convert(None), rows["retention_on"], strict=True))
    kept = {p: v for p, v in zip(series.periods, series.values, strict=True) if np.isfinite(v)}
    assert kept == pytest.approx({p: by_cohort[p] for p in kept})
    assert len(by_cohort) - len(kept) <= 1 and (len(by_cohort) == len(kept) or "first" in notes[0])


def test_every_timed_headline_kpi_has_a_series_or_a_reason():
    for k in REGISTRY:
        if k.id in series_kpis():
            continue
        with pytest.raises(KeyError) as why:
            series_source(k.id)
        assert "has no series:" in str(why.value)
    assert set(NO_SERIES) <= {k.id for k in REGISTRY}
    assert {s.how for s in SERIES_SOURCES.values()} == {"rows", "recompute"}


def test_a_recomputed_series_follows_the_grain_asked_for(demo_ws):
    import afterclick

    with afterclick.open(demo_ws.store.location, read_only=True, start=datetime(2026, 3, 2, tzinfo=UTC),
                         end=datetime(2026, 4, 27, tzinfo=UTC)) as ws:  # eight weeks
        weekly, how, _ = computed_series(ws, "reach.clicks")
        daily, _, _ = computed_series(ws, "reach.clicks", grain="day")
    assert len(weekly) == 8 and len(daily) == 56
    assert how == "recompute" and weekly.grain.value == "week" and daily.grain.value == "day"
    # a week's clicks are the sum of its days' clicks
    week = pd.Series(daily.values, index=pd.DatetimeIndex(daily.periods))
    by_week = week.groupby(week.index.to_period("W-SUN").start_time).sum(min_count=7)
    for p, v in zip(weekly.periods, weekly.values, strict=True):
        if p in by_week.index and np.isfinite(by_week[p]):
            assert v == pytest.approx(by_week[p])


def test_the_catalogue_names_registered_kpis_and_their_declared_columns():
    # the catalogue is a data file (monitor/catalogue.toml): a misspelt id or column fails here
    from afterclick.monitor.explainers import BREAKDOWNS
    from afterclick.monitor.sources import catalogue

    assert set(catalogue()) == {"rows", "no_series", "breakdowns"}
    for kpi_id, s in ROW_SOURCES.items():
        declared = REGISTRY[kpi_id].rows_schema.names()
        assert {s.period, s.value, s.n, *(c for c, _ in s.where)} - {None} <= set(declared), kpi_id
    for rate, b in BREAKDOWNS.items():
        assert rate in REGISTRY, rate
        assert {b.segment, b.numerator, b.denominator} <= set(REGISTRY[b.kpi].rows_schema.names()), rate
