"""The workspace: a store, the KPI registry and the parameters of a review, in one object.

    >>> import afterclick
    >>> ws = afterclick.open("brand.duckdb")          # doctest: +SKIP
    >>> ws.kpi("retention.repeat_visit_rate").value  # doctest: +SKIP
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from afterclick.kpis import REGISTRY
from afterclick.kpis._common import as_utc, data_bounds, review_end
from afterclick.kpis.base import KPI, Outcome, Params, Span, Tables
from afterclick.results import Family, KPIResult, Period, SpanKind, Status
from afterclick.schemas import DERIVED_TABLES
from afterclick.store import Store


Preparer = Callable[["Workspace"], "ibis.Table | None"]
#: Derived table name -> the function that brings it up to date: either in the store (e.g.
#: scores the messages not yet scored; returns None) or by returning an Ibis table the workspace
#: uses for the session (e.g. per-customer predictions). Registered by the package that owns it.
PREPARERS: dict[str, Preparer] = {}


def register_preparer(table: str, fn: Preparer) -> None:
    """Declare how the workspace fills the derived table ``table`` before a KPI needs it."""
    PREPARERS[table] = fn


class Workspace:
    """Compute KPIs over a store's canonical tables (any Ibis backend)."""

    def __init__(self, store: Store, params: Params | None = None):
        self.store = store
        self.params = params or Params()
        self._tables: Tables | None = None
        self._prepared: set[str] = set()

    # -- data ----------------------------------------------------------------------------
    @property
    def tables(self) -> Tables:
        if self._tables is None:
            # building blocks shared by several KPIs are computed once, as temporary tables
            self._tables = Tables(self.store.tables(), materialize=lambda expr: expr.cache())
        return self._tables

    def refresh(self) -> None:
        """Forget cached tables and building blocks (after an ingest)."""
        if self._tables is not None:
            self._tables.release()
        self._tables = None

    def close(self) -> None:
        """Drop the temporary building blocks and close the store."""
        self.refresh()
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def table(self, name: str) -> pd.DataFrame:
        """A canonical table as pandas (for notebooks; KPIs never do this)."""
        return self.tables[name].execute()

    # -- KPIs ----------------------------------------------------------------------------
    def kpi(self, kpi_id: str, **params: Any) -> KPIResult:
        """Compute one KPI; keyword arguments override the workspace parameters."""
        return self._run(REGISTRY[kpi_id], self.params.with_(**params) if params else self.params)

    def kpis(
        self,
        ids: Iterable[str] | None = None,
        *,
        family: str | None = None,
        progress: Callable[[KPI, int, int], None] | None = None,
    ) -> list[KPIResult]:
        """Compute several KPIs (all by default, or one family), in registry order."""
        chosen = [REGISTRY[i] for i in ids] if ids is not None else list(REGISTRY)
        if family and family not in {f.value for f in Family}:
            raise KeyError(f"unknown family {family!r}; the families are "
                           + ", ".join(f.value for f in Family))
        if family:
            chosen = [k for k in chosen if k.family.value == family]
        out = []
        for i, k in enumerate(chosen):
            if progress:
                progress(k, i, len(chosen))
            out.append(self._run(k, self.params))
        return out

    def scorecard(self, family: str | None = None) -> pd.DataFrame:
        """One row per headline KPI: id, name, family, value, unit, status, reason."""
        results = self.kpis(family=family)
        return pd.DataFrame(
            [
                {"id": r.id, "name": r.name, "family": r.family.value, "value": r.value,
                 "unit": r.unit.value, "direction": r.direction.value, "status": r.status.value,
                 "reason": r.reason}
                for r in results
                if REGISTRY[r.id].headline
            ]
        )

    def prepare(self, k: KPI) -> None:
        """Bring the derived tables ``k`` reads up to date (once per workspace)."""
        for name in (*k.requires, *k.uses):
            if name in DERIVED_TABLES and name not in self._prepared and name in PREPARERS:
                self._prepared.add(name)
                made = PREPARERS[name](self)
                if isinstance(made, ibis.Table):  # computed in memory, not stored
                    self.tables.replace(name, made)
                else:  # written to the store
                    self.refresh_table(name)

    def refresh_table(self, name: str) -> None:
        """Re-read one table from the store (after a preparer wrote to it)."""
        fresh = self.store.tables()
        if self._tables is not None:
            self._tables.replace(name, fresh.get(name))

    def missing_tables(self, k: KPI) -> list[str]:
        return [name for name in k.requires if name not in self.tables]

    def period(self, span: Span, p: Params | None = None) -> Period | None:
        """The dates a span covers in this workspace's data (None without events)."""
        p = p or self.params
        start, end, until = self.tables.memo(("period_bounds", p.start, p.end), lambda: self._bounds(p))
        return None if end is None else span_period(span, p, start, end, until)

    def _bounds(self, p: Params) -> tuple[pd.Timestamp | None, ...]:
        """First and last event time of the review period and the review's end (UTC)."""
        b = _utc(self.store.con.execute(data_bounds(self.tables, p).cross_join(review_end(self.tables, p))))
        if b.empty:
            return None, None, None
        return tuple(None if pd.isna(v) else v for v in b[["data_start", "data_end", "review_end"]].iloc[0])

    def _run(self, k: KPI, p: Params) -> KPIResult:
        base = dict(id=k.id, name=k.name, family=k.family, unit=k.unit, direction=k.direction,
                    definition=k.definition, params=_param_record(p), value_label=k.value_label)
        started = time.perf_counter()
        try:
            self.prepare(k)
        except Exception as exc:
            return KPIResult(**base, status=Status.FAILED, reason=_one_line(exc),
                             elapsed_s=time.perf_counter() - started)
        missing = self.missing_tables(k)
        if missing:
            reason = "needs " + " and ".join(
                f"table {m} (not ingested)" if m not in DERIVED_TABLES else f"{m} ({DERIVED_TABLES[m]})"
                for m in missing)
            return KPIResult(**base, status=Status.SKIPPED, reason=reason)
        try:
            comp = k.compute(self.tables, p)
            value = None if comp.value is None else _scalar(self.store.con.execute(comp.value))
            rows = None
            if comp.rows is not None:
                rows = _utc(self.store.con.execute(comp.rows))
                if comp.order_by:
                    cols = [c.lstrip("-") for c in comp.order_by]
                    ascending = [not c.startswith("-") for c in comp.order_by]
                    rows = rows.sort_values(cols, ascending=ascending, kind="stable").reset_index(drop=True)
            ci, notes = None, ()
            if comp.finish is not None:
                done = comp.finish(value, rows)
                if isinstance(done, Outcome):
                    value, rows, ci, notes = done.value, done.rows, done.ci, tuple(done.notes)
                else:
                    value, rows = done
            period = self.period(k.span, p)
        except Exception as exc:  # one KPI failing must not sink the report
            return KPIResult(**base, status=Status.FAILED, reason=_one_line(exc),
                             elapsed_s=time.perf_counter() - started)
        return KPIResult(**base, status=Status.COMPUTED, value=_scalar(value), rows=rows, ci=ci,
                         notes=notes, period=period, elapsed_s=time.perf_counter() - started)

    # -- history -------------------------------------------------------------------------
    def snapshot(self, results: list[KPIResult]) -> str:
        """Store the headline values of a run, so trends survive re-runs; returns the run id."""
        run_id = uuid.uuid4().hex[:12]
        p = self.params
        self.store.save_snapshots(
            run_id,
            (
                {"kpi_id": r.id, "period_start": p.start, "period_end": p.end, "grain": p.grain,
                 "status": r.status.value, "value": r.value,
                 "ci_low": r.ci[0] if r.ci else None, "ci_high": r.ci[1] if r.ci else None,
                 "params": r.params}
                for r in results
            ),
        )
        return run_id


def span_period(span: Span, p: Params, first: pd.Timestamp | None, last: pd.Timestamp,
                until: pd.Timestamp | None = None) -> Period:
    """The ``Period`` of ``span`` for data whose events run from ``first`` to ``last`` (UTC).

    Whole period: the review period's bounds where given, else the days of the first and the last
    event (end exclusive: the day after the last). Last complete: the last week (Monday) or
    calendar month that ends by ``until``, the review's end (``_common.review_end``; without it,
    midnight after the last event's day), as ``_common.last_complete_period`` reads it.
    """
    if span.kind is SpanKind.LAST_COMPLETE:
        grain = span.grain or p.grain
        if until is None:
            until = last.normalize() + pd.Timedelta(days=1)
        day = until.normalize()
        if grain == "week":
            end = day - pd.Timedelta(days=day.weekday())
            start = end - pd.Timedelta(days=7)
            label = f"week of {start.day} {start:%b %Y}"
        else:
            end = day.replace(day=1)
            start = end - pd.DateOffset(months=1)
            label = f"{start:%B %Y}"
        return Period(span.kind, start.to_pydatetime(), end.to_pydatetime(), label, grain)
    start = as_utc(p.start) if p.start is not None else (None if first is None else first.normalize())
    end = as_utc(p.end) if p.end is not None else last.normalize() + pd.Timedelta(days=1)
    shown_end = end - pd.Timedelta(days=1) if end == end.normalize() else end
    since = "the start" if start is None else f"{start.day} {start:%b %Y}"
    label = f"whole period, {since} to {shown_end.day} {shown_end:%b %Y}"
    return Period(span.kind, None if start is None else start.to_pydatetime(), end.to_pydatetime(), label)


def _utc(df: pd.DataFrame) -> pd.DataFrame:
    """All times are UTC; some engines drop the zone when truncating, so put it back."""
    for col in df.columns:
        if pd.api.types.is_datetime64_dtype(df[col]) and getattr(df[col].dt, "tz", None) is None:
            df[col] = df[col].dt.tz_localize("UTC")
    return df


def _param_record(p: Params) -> dict[str, Any]:
    return {k: v for k, v in p.as_dict().items() if v is not None}


def _scalar(v: Any) -> float | None:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()


def open(location: str | Path | ibis.BaseBackend | None = None, *, read_only: bool = False,
         **params: Any) -> Workspace:
    """Open a workspace on a DuckDB file (default ``afterclick.duckdb``), an Ibis URL or an Ibis
    connection that already holds the canonical tables."""
    if isinstance(location, ibis.BaseBackend):
        store = Store(connection=location)
    else:
        store = Store(location, read_only=read_only)
    return Workspace(store, Params(**params))


# Preparers of the derived tables, registered once ``register_preparer`` exists (the KPI modules
# load before this module finishes, so they cannot register themselves on import).
import afterclick.text.store  # noqa: E402,F401  (text_scores: registers on import)
from afterclick.kpis.value import prepare_clv  # noqa: E402

register_preparer("clv", prepare_clv)
