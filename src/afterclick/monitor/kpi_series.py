"""A KPI's series computed from the data (backfilled), next to its history as reported.

Where each KPI's series comes from (its own per-period rows, or its headline recomputed period
by period) is declared in :mod:`afterclick.monitor.sources`.

The history *as reported* is :meth:`Store.snapshots`: the headline value every past run kept.
:func:`kpi_history` recomputes each reported period with today's data and code and marks a
``restated`` row where the two differ beyond rounding, so a restatement shows as one.

Only whole periods are judged: a last period that runs past the data's end is left out (and said).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import pandas as pd

import afterclick.kpis  # noqa: F401  (registers the KPIs)
from afterclick.kpis.base import REGISTRY, WHOLE_PERIOD, Params
from afterclick.monitor.series import Grain, KpiSeries, kpi_series, period_start
from afterclick.monitor.sources import (
    ROW_SOURCES,
    SeriesSource,
    series_kpis,
    series_source,
    with_grain,
)

#: Every KPI with a series and where it comes from (see :mod:`afterclick.monitor.sources`).
SERIES_SOURCES: dict[str, SeriesSource] = {k: series_source(k) for k in series_kpis()}

#: What ``afterclick alerts`` judges when no ``--kpi`` is given: the series read from one KPI run
#: each (``--kpi all`` recomputes the others period by period).
DEFAULT_KPIS: tuple[str, ...] = tuple(ROW_SOURCES)

#: Two values are the same number when they differ by less than this (absolute + relative).
ABS_TOLERANCE = 1e-9
REL_TOLERANCE = 1e-6

_PARAM_FIELDS = {f.name for f in fields(Params)} - {"start", "end", "grain"}


@dataclass(frozen=True, eq=False)
class KpiHistory:
    """A KPI's computed series, its reported history and the two side by side.

    ``frame``: one row per period of the series with ``value`` (computed today), ``reported``
    (the latest value a past run kept for exactly that period, NaN if none) and ``restated``.
    ``reported_runs``: every snapshot of the KPI with ``today`` (the same period computed now),
    ``difference`` and ``restated``; its ``period`` is the series period it covers (NaT when it
    covers another stretch, e.g. the whole data).
    """

    series: KpiSeries
    source: str
    frame: pd.DataFrame
    reported_runs: pd.DataFrame
    notes: tuple[str, ...] = ()

    @property
    def restatements(self) -> pd.DataFrame:
        return self.reported_runs[self.reported_runs["restated"]]


def _utc(ts: Any) -> pd.Timestamp | None:
    if ts is None or (not isinstance(ts, str) and pd.isna(ts)):
        return None
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")


def _naive(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert("UTC").tz_localize(None) if ts.tz is not None else ts


def _grain(source: SeriesSource, ws) -> Grain:
    return Grain(ws.params.grain if source.grain == "param" else source.grain)


def _floor(ts: pd.Timestamp, grain: Grain) -> pd.Timestamp:
    day = ts.normalize()
    if grain is Grain.DAY:
        return day
    if grain is Grain.WEEK:
        return day - pd.Timedelta(days=day.weekday())
    if grain is Grain.MONTH:
        return day.replace(day=1)
    raise ValueError(f"KPI series are daily, weekly or monthly, not {grain.value}")


def data_span(ws, kpi_id: str) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The workspace's review period for this KPI's data: (start, end exclusive), UTC."""
    clock = ws.clock(REGISTRY[kpi_id])
    period = None if clock is None else ws.period(WHOLE_PERIOD, table=clock)
    if period is None or period.start is None or period.end is None:
        return None
    return _utc(period.start), _utc(period.end)


def _same(a: float | None, b: float | None) -> bool:
    fa = a is not None and math.isfinite(a)
    fb = b is not None and math.isfinite(b)
    if not fa or not fb:
        return fa == fb
    return abs(a - b) <= ABS_TOLERANCE + REL_TOLERANCE * max(abs(a), abs(b))


def _value(result) -> float:
    return float(result.value) if result.ok and result.value is not None else float("nan")


def _rows_series(result, source: SeriesSource) -> pd.DataFrame:
    rows, kpi_id = result.rows, result.id
    if rows is None or rows.empty:
        return pd.DataFrame({"period": [], "value": []})
    missing = [c for c in (source.period, source.value, source.n, *(w for w, _ in source.where))
               if c and c not in rows.columns]
    if missing:
        raise ValueError(f"{kpi_id}: its rows lack {', '.join(missing)} (see monitor/sources.py)")
    for column, wanted in source.where:
        rows = rows[rows[column] == wanted]
    out = pd.DataFrame({"period": pd.to_datetime(rows[source.period], utc=True),
                        "value": pd.to_numeric(rows[source.value], errors="coerce").astype(float)})
    if source.n:
        out["n"] = pd.to_numeric(rows[source.n], errors="coerce").astype(float)
    return out


def _recomputed(ws, kpi_id: str, grain: Grain, span) -> pd.DataFrame:
    start, end = span
    first = _floor(_naive(start), grain)
    periods, values = [], []
    k = 0
    while (s := period_start(first, grain, k)) < _naive(end):
        e = period_start(first, grain, k + 1)
        r = ws.kpi(kpi_id, start=s.tz_localize("UTC").to_pydatetime(), end=e.tz_localize("UTC").to_pydatetime())
        periods.append(s.tz_localize("UTC"))
        values.append(_value(r))
        k += 1
    return pd.DataFrame({"period": periods, "value": values})


def _whole_periods(frame: pd.DataFrame, grain: Grain, span) -> tuple[pd.DataFrame, list[str]]:
    """Leave out a first or last period that the review period (or the data) covers only in part."""
    notes = []
    stamps = [_naive(_utc(p)) for p in frame["period"]]
    first, last = min(stamps), max(stamps)
    if grain is not Grain.DAY and first < _naive(span[0]).normalize() and len(frame) > 1:
        frame = frame[[p != first for p in stamps]]
        notes.append(f"the first {grain.value} ({first.date()}) is only partly in the review period and is left out")
    if period_start(last, grain, 1) > _naive(span[1]):
        frame = frame[[_naive(_utc(p)) != last for p in frame["period"]]]
        notes.append(f"the last {grain.value} ({last.date()}) is incomplete in the data and is left out")
    return frame, notes


def computed_series(ws, kpi_id: str, grain: str | None = None) -> tuple[KpiSeries, str, tuple[str, ...]]:
    """The KPI's series from today's data: (series, how it was built, notes). ``grain`` (day,
    week or month) changes the grain of a recomputed series; ``ValueError`` when the KPI cannot
    be computed on this store (its tables are missing, say), ``KeyError`` when it has no series."""
    if kpi_id not in SERIES_SOURCES:
        series_source(kpi_id)  # raises, saying why
    source = with_grain(SERIES_SOURCES[kpi_id], grain)
    k = REGISTRY[kpi_id]
    grain = _grain(source, ws)
    whole = ws.kpi(kpi_id)
    if not whole.ok:
        raise ValueError(f"{kpi_id} has no series here: {whole.reason or whole.status.value}")
    span = data_span(ws, kpi_id)
    notes: list[str] = []
    if span is None:
        frame = pd.DataFrame({"period": [], "value": []})
    elif source.how == "rows":
        frame = _rows_series(whole, source)
    else:
        frame = _recomputed(ws, kpi_id, grain, span)
    if span is not None and not frame.empty:
        frame, notes = _whole_periods(frame, grain, span)
    frame = frame.assign(period=[_naive(_utc(p)) for p in frame["period"]])
    series = kpi_series(frame, grain, kpi=kpi_id, name=k.name, unit=k.unit, direction=k.direction)
    return series, source.how, tuple(notes)


def _today(ws, start, end, grain: str | None, params: str | None, kpi_id: str, cache: dict) -> float:
    extra: dict[str, Any] = {}
    try:
        raw = json.loads(params) if params else {}
    except (TypeError, ValueError):
        raw = {}
    for key, v in (raw.items() if isinstance(raw, dict) else ()):
        if key in _PARAM_FIELDS and isinstance(v, (int, float)) and not isinstance(v, bool):
            extra[key] = v
    if grain in ("week", "month"):
        extra["grain"] = grain
    s, e = _utc(start), _utc(end)
    key = (s, e, tuple(sorted(extra.items())))
    if key not in cache:
        r = ws.kpi(kpi_id, start=None if s is None else s.to_pydatetime(),
                   end=None if e is None else e.to_pydatetime(), **extra)
        cache[key] = _value(r)
    return cache[key]


_RUN_COLUMNS = ["run_id", "computed_at", "period_start", "period_end", "period", "reported", "today",
                "difference", "restated"]


def reported_runs(ws, kpi_id: str, series: KpiSeries | None = None) -> pd.DataFrame:
    """Every snapshot of the KPI beside the same period computed today (``restated`` where they differ)."""
    snaps = ws.store.snapshots(kpi_id)
    if snaps.empty:
        return pd.DataFrame({c: pd.Series(dtype=bool if c == "restated" else object) for c in _RUN_COLUMNS})
    starts = {} if series is None else {p: period_start(p, series.grain, 1) for p in series.periods}
    cache: dict = {}
    rows = []
    for s in snaps.itertuples(index=False):
        reported = None if s.status != "computed" or pd.isna(s.value) else float(s.value)
        today = _today(ws, s.period_start, s.period_end, s.grain, s.params, kpi_id, cache)
        ps, pe = _utc(s.period_start), _utc(s.period_end)
        period = pd.NaT
        if ps is not None and pe is not None and starts.get(_naive(ps)) == _naive(pe):
            period = _naive(ps)
        diff = (reported - today) if reported is not None and math.isfinite(today) else float("nan")
        rows.append({"run_id": s.run_id, "computed_at": s.computed_at, "period_start": ps, "period_end": pe,
                     "period": period, "reported": np.nan if reported is None else reported,
                     "today": today, "difference": diff,
                     "restated": not _same(reported, None if math.isnan(today) else today)})
    return pd.DataFrame(rows, columns=_RUN_COLUMNS)


def kpi_history(ws, kpi_id: str, grain: str | None = None) -> KpiHistory:
    """The computed series and the reported history of ``kpi_id``, aligned period by period."""
    series, how, notes = computed_series(ws, kpi_id, grain)
    runs = reported_runs(ws, kpi_id, series)
    frame = series.frame()
    latest = (runs.dropna(subset=["period"]).sort_values("computed_at").groupby("period").last()
              if not runs.empty else pd.DataFrame(columns=["reported"]))
    frame["reported"] = frame["period"].map(latest["reported"]).astype(float) if not latest.empty else np.nan
    frame["restated"] = [not _same(None if np.isnan(r) else r, None if np.isnan(v) else v)
                         if not np.isnan(r) else False
                         for r, v in zip(frame["reported"], frame["value"], strict=True)]
    if runs["restated"].any():
        n = int(runs["restated"].sum())
        notes = (*notes, f"{n} reported value{'s' if n != 1 else ''} differ from today's computation (restated)")
    return KpiHistory(series, how, frame, runs, notes)
