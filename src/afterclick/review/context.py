"""What happened around the KPIs in a review period: the monitoring flags that fall in it (through
``afterclick.monitor``'s public functions) and the experiments that ended in it (through
``afterclick.analysis.experiments.analyse``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from afterclick.kpis.base import Params
from afterclick.review.periods import ReviewPeriod
from afterclick.store import Store
from afterclick.workspace import Workspace


@dataclass(frozen=True)
class EndedExperiment:
    """An experiment whose end falls in the review period, with its analysis."""

    experiment_id: str
    ended: pd.Timestamp
    end_from: str  # "the experiments table" or "the last assignment"
    result: Any  # afterclick.analysis.experiments.ExperimentResult


def period_flags(store: Store, kpi_ids: Sequence[str], period: ReviewPeriod, annotations: Sequence[Any],
                 grain: str) -> tuple[dict[str, tuple[tuple[Any, ...], str | None]], list[str]]:
    """For each KPI that has a series: the flags of the judge (on the series up to the period's end)
    whose period starts inside the review period, and a note when it could not be judged."""
    from afterclick.monitor import judge
    from afterclick.monitor.kpi_series import SERIES_SOURCES, computed_series

    out: dict[str, tuple[tuple[Any, ...], str | None]] = {}
    notes: list[str] = []
    # a series rebuilt by recomputing the KPI period by period takes minutes: `afterclick alerts` judges it
    for k in kpi_ids:
        if k in SERIES_SOURCES and SERIES_SOURCES[k].how != "rows":
            out[k] = ((), f"its series is rebuilt period by period: judge it with `afterclick alerts --kpi {k}`")
    chosen = [k for k in kpi_ids if k in SERIES_SOURCES and SERIES_SOURCES[k].how == "rows"]
    if not chosen:
        return out, notes
    ws = Workspace(store, Params(grain=grain, end=period.end))
    start, end = pd.Timestamp(period.start).tz_localize(None), pd.Timestamp(period.end).tz_localize(None)
    try:
        for k in chosen:
            try:
                series, _, series_notes = computed_series(ws, k)
            except (ValueError, KeyError) as exc:
                out[k] = ((), f"no series to judge: {exc}")
                continue
            j = judge(series, annotations=annotations)
            if not j.judged:
                out[k] = ((), j.reason)
                continue
            found = tuple(f for f in j.flags if start <= _naive(f.period) < end)
            out[k] = (found, None if found else f"routine variation in the period ({j.method})")
            notes.extend(f"{k}: {n}" for n in series_notes)
    finally:
        ws.refresh()
    return out, notes


def _naive(ts: Any) -> pd.Timestamp:
    t = pd.Timestamp(ts)
    return t.tz_convert("UTC").tz_localize(None) if t.tz is not None else t


def _ends(tables: dict) -> dict[str, tuple[pd.Timestamp, str]]:
    """Each experiment's end: the experiments table's ``end`` when given, else its last assignment."""
    a = tables["assignments"]
    last = a.group_by("experiment_id").aggregate(last=a.ts.max()).execute()
    ends = {str(r.experiment_id): (_naive(r.last), "the last assignment") for r in last.itertuples(index=False)}
    if "experiments" in tables:
        d = tables["experiments"].execute()
        for r in d.itertuples(index=False):
            if str(r.experiment_id) in ends and r.end is not None and not pd.isna(r.end):
                ends[str(r.experiment_id)] = (_naive(r.end), "the experiments table")
    return ends


def ended_experiments(ws: Workspace, period: ReviewPeriod) -> tuple[EndedExperiment, ...]:
    """The experiments that ended in the period, each analysed on its own."""
    from afterclick.analysis.experiments import analyse

    tables = ws.store.tables()
    if "assignments" not in tables:
        return ()
    start, end = pd.Timestamp(period.start).tz_localize(None), pd.Timestamp(period.end).tz_localize(None)
    out = []
    for eid, (ended, source) in sorted(_ends(tables).items()):
        if start <= ended < end:
            found = analyse(ws, eid).experiments
            if found:
                out.append(EndedExperiment(eid, ended, source, found[0]))
    return tuple(out)
