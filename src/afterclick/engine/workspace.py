"""The workspace: a store, the KPI registry and the parameters of a review, in one object
(importable from :mod:`afterclick.workspace` too, which fills the registry: the engine imports
no KPI family, ``afterclick.kpis`` registers them all).

    >>> import afterclick
    >>> ws = afterclick.open("brand.duckdb")          # doctest: +SKIP
    >>> ws.kpi("retention.repeat_visit_rate").value  # doctest: +SKIP
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from afterclick.engine.bounds import data_bounds, day_index, in_period, review_end
from afterclick.engine.executed import (
    computation_scalars,
    executed_fact,
    executed_scalar,
    one_line,
    param_record,
    utc_times,
)
from afterclick.engine.params import Params, Span
from afterclick.engine.registry import KPI, REGISTRY, TIMED_TABLES, Outcome, Skip
from afterclick.engine.shared import share_rows
from afterclick.engine.spans import (
    absent_reason,
    bulk_span,
    left_out_note,
    no_value_note,
    span_period,
    utc_day,
)
from afterclick.engine.tables import Tables
from afterclick.results import Family, KPIResult, Period, Status
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


#: Set to "1" (the test suite and ``afterclick --strict`` do) to make workspaces strict by default.
STRICT_ENV = "AFTERCLICK_STRICT"


def strict_default() -> bool:
    """Whether a workspace opened without ``strict=`` is strict: ``AFTERCLICK_STRICT=1``."""
    return os.environ.get(STRICT_ENV, "").strip().lower() in ("1", "true", "yes")


class Workspace:
    """Compute KPIs over a store's canonical tables (any Ibis backend).

    ``strict``: raise a KPI's exception as it is, instead of reporting the KPI as failed with the
    exception's first line (the default, so that one KPI failing does not sink a report); None
    reads ``AFTERCLICK_STRICT``. A KPI whose data is absent is skipped either way.
    """

    def __init__(self, store: Store, params: Params | None = None, *, strict: bool | None = None):
        if not len(REGISTRY):
            raise RuntimeError("no KPI is registered: import afterclick.kpis before opening a workspace "
                               "(afterclick.open and afterclick.workspace do)")
        self.store = store
        self.params = params or Params()
        self.strict = strict_default() if strict is None else strict
        self._tables: Tables | None = None
        self._prepared: set[str] = set()

    # -- data ----------------------------------------------------------------------------
    @property
    def tables(self) -> Tables:
        if self._tables is None:
            # building blocks shared by several KPIs are computed once, as temporary tables
            tables, ids = self.store.kpi_tables()
            self._tables = Tables(tables, materialize=lambda expr: expr.cache(), ids=ids)
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
        """A canonical table as pandas (for notebooks; KPIs never do this), customers named by id."""
        return self.tables.frame(name)

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

    def kpi_by(self, kpi_id: str, by: str | ibis.Table, *, column: str | None = None,
               level: float = 0.95, **params: Any) -> KPIResult:
        """One KPI by a grouping of its units, from the measure its spec declares.

        ``by``: a column joined on the unit (``"segment"``, ``"customers.segment"``) or an Ibis
        table of unit → group (``column`` names the group column when it has several). The
        result's rows hold one row per group (the units no group names: None, last) with n, the
        sufficient statistics, value, ci_low and ci_high; its value and ci are the whole's, from
        the same sums. Keyword arguments override the workspace parameters.
        """
        from afterclick.engine.by import grouped_sums, grouping, units_in_two_groups
        from afterclick.engine.grouped import (  # executed sums -> values
            per_group,
            whole,
        )

        k = REGISTRY[kpi_id]
        if k.measure is None:
            able = ", ".join(x.id for x in REGISTRY if x.measure is not None)
            raise ValueError(f"KPI {kpi_id!r} declares no measure, so it cannot be computed by a grouping; "
                             f"these can: {able}")
        asked = self.params.with_(**params) if params else self.params
        base = dict(id=k.id, name=k.name, family=k.family, unit=k.unit, direction=k.direction,
                    definition=k.definition, params=param_record(asked), value_label=k.value_label)
        missing = self.missing_tables(k)
        if missing:
            return KPIResult(**base, status=Status.SKIPPED, reason=absent_reason(missing, any_of=k.requires_any))
        p = self.review_params(asked)
        self.prepare(k)
        groups, name = grouping(self.tables, by, k.measure.unit, column)
        twice = executed_scalar(self.store.con.execute(units_in_two_groups(groups)))
        if twice:
            raise ValueError(f"the grouping puts {int(twice):,} {k.measure.unit} value(s) in more than one "
                             f"{name}: a unit must belong to one group")
        sums = self.store.con.execute(grouped_sums(k, self.tables, p, groups))
        rows = per_group(k.measure.kind, sums, name, level)
        value, ci = whole(k.measure.kind, rows, level)
        clock = self.clock(k)
        period = None if clock is None else self.period(k.span, asked, clock)
        return KPIResult(**base, status=Status.COMPUTED, value=value, ci=ci, rows=rows, period=period)

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
        fresh = self.store.kpi_tables()[0]
        if self._tables is not None:
            self._tables.replace(name, fresh.get(name))

    def missing_tables(self, k: KPI) -> list[str]:
        missing = [name for name in k.requires if name not in self.tables]
        if k.requires_any and not any(name in self.tables for name in k.requires_any):
            missing.extend(k.requires_any)
        return missing

    def clock(self, k: KPI) -> str | tuple[str, ...] | None:
        """The table(s) whose times give ``k``'s period: those it declares (the ones the store
        holds), else the first timed table it requires, else the first it uses that the store
        holds (themes: the survey answers, or the messages)."""
        clock = k.clock or next((t for t in k.requires_any if t in TIMED_TABLES and t in self.tables), None)
        if isinstance(clock, tuple):
            held = tuple(t for t in clock if t in self.tables)
            return held[0] if len(held) == 1 else (held or None)
        return clock or next((t for t in k.uses if t in TIMED_TABLES and t in self.tables), None)

    def review_params(self, p: Params | None = None) -> Params:
        """The parameters KPIs run with: ``p`` (the workspace's by default) with the review period
        narrowed to the span that holds the data's bulk where the user gave no bound and a few
        stray rows lie far outside it (see :func:`bulk_span`). An explicit start or end wins."""
        p = p or self.params
        return self._bulk(p)[0]

    def left_out(self, p: Params | None = None) -> tuple[str, ...]:
        """What the default review period leaves out, in words ("1 message dated 4 Mar 2011 left
        out of the period; give --start 2011-03-04 to include it"); empty when nothing is."""
        return self._bulk(p or self.params)[1]

    def _bulk(self, p: Params) -> tuple[Params, tuple[str, ...]]:
        if p.start is not None and p.end is not None:
            return p, ()
        start, end, notes = self.tables.cached(Workspace._find_bulk, p, self._find_bulk, table=False)
        return p.with_(start=start, end=end), notes

    def _find_bulk(self, p: Params) -> tuple[Any, Any, tuple[str, ...]]:
        per_table = {}
        for name in TIMED_TABLES:
            if name in self.tables:
                rows = in_period(self.tables[name], p)
                # grouped on the day's timestamp and numbered after: a number per day, not per row
                g = rows.group_by(day_ts=rows.ts.truncate("D")).aggregate(n=rows.count())
                days = self.store.con.execute(g.select(day=day_index(g.day_ts), n=g.n))
                per_table[name] = days.astype({"day": "int64", "n": "int64"})
        if not per_table:
            return p.start, p.end, ()
        days = pd.concat(per_table.values()).groupby("day")["n"].sum().sort_index()
        lo, hi = bulk_span(days.index.to_numpy(), days.to_numpy())
        lo = lo if p.start is None else None
        hi = hi if p.end is None else None
        if lo is None and hi is None:
            return p.start, p.end, ()
        notes = []
        for name, d in per_table.items():
            if lo is not None:
                notes.extend(left_out_note(name, d[d.day < lo], "start", utc_day(lo)))
            if hi is not None:
                notes.extend(left_out_note(name, d[d.day > hi], "end", utc_day(hi + 1)))
        start = utc_day(lo).to_pydatetime() if lo is not None else p.start
        end = utc_day(hi + 1).to_pydatetime() if hi is not None else p.end
        return start, end, tuple(notes)

    def period(self, span: Span, p: Params | None = None,
               table: str | tuple[str, ...] = "events") -> Period | None:
        """The dates a span covers in ``table``'s rows (or those of several tables; None without
        them) for the review parameters ``p`` (the workspace's by default), with what the default
        review period leaves out of them."""
        asked = p or self.params
        p = self.review_params(asked)
        if not all(name in self.tables for name in ((table,) if isinstance(table, str) else table)):
            return None
        start, end, until = self.tables.cached(Workspace._bounds, p, lambda w: self._bounds(w, table),
                                               args=(table,), table=False)
        if end is None:
            return None
        return replace(span_period(span, p, start, end, until), left_out=self.left_out(asked))

    def _bounds(self, p: Params, table: str | tuple[str, ...] = "events") -> tuple[pd.Timestamp | None, ...]:
        """First and last time of ``table``'s rows in the review period and the review's end (UTC)."""
        b = utc_times(self.store.con.execute(data_bounds(self.tables, p, table).cross_join(review_end(self.tables, p, table))))
        if b.empty:
            return None, None, None
        return tuple(None if pd.isna(v) else v for v in b[["data_start", "data_end", "review_end"]].iloc[0])

    def _run(self, k: KPI, p: Params) -> KPIResult:
        base = dict(id=k.id, name=k.name, family=k.family, unit=k.unit, direction=k.direction,
                    definition=k.definition, params=param_record(p), value_label=k.value_label)
        started = time.perf_counter()
        missing = [m for m in self.missing_tables(k) if m not in DERIVED_TABLES]
        if missing:
            return KPIResult(**base, status=Status.SKIPPED, reason=absent_reason(missing, any_of=k.requires_any))
        asked = p  # the user's bounds: what the default period leaves out is said against them
        try:
            p = self.review_params(p)
            self.prepare(k)
        except Exception as exc:
            if self.strict:
                raise
            return KPIResult(**base, status=Status.FAILED, reason=one_line(exc),
                             elapsed_s=time.perf_counter() - started)
        missing = self.missing_tables(k)  # a derived table its preparer could not fill
        if missing:
            return KPIResult(**base, status=Status.SKIPPED, reason=absent_reason(missing, self.tables))
        shared = None
        try:
            comp = k.compute(self.tables, p)
            # what the value, needs, facts and rows share is computed once
            comp, shared = share_rows(comp, lambda e: e.cache(), memtables=self.store.con.name == "duckdb")
            scalars = computation_scalars(self.store.con, comp)
            value = executed_scalar(scalars.get("value"))
            rows = None
            if comp.rows is not None:
                rows = utc_times(self.store.con.execute(comp.rows))
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
            value = executed_scalar(value)
            if rows is not None and "customer_id" in rows.columns:  # shown by id, never by key
                rows["customer_id"] = self.tables.customer_ids(rows["customer_id"])
            if comp.explain is not None:
                facts = {name: executed_fact(scalars[("fact", name)]) for name in comp.facts}
                notes = (*notes, *comp.explain(facts, value))
            clock = self.clock(k)
            period = None if clock is None else self.period(k.span, asked, clock)
            if value is None and not notes:  # never a bare dash: say why there is no number
                notes = (no_value_note(clock, period),)
        except Skip as why:
            return KPIResult(**base, status=Status.SKIPPED, reason=str(why),
                             elapsed_s=time.perf_counter() - started)
        except Exception as exc:  # one KPI failing must not sink the report (unless strict)
            if self.strict:
                raise
            return KPIResult(**base, status=Status.FAILED, reason=one_line(exc),
                             elapsed_s=time.perf_counter() - started)
        finally:
            if shared is not None:
                shared.release()
        return KPIResult(**base, status=Status.COMPUTED, value=value, rows=rows, ci=ci,
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


def open(location: str | Path | ibis.BaseBackend | None = None, *, read_only: bool = False,
         strict: bool | None = None, **params: Any) -> Workspace:
    """Open a workspace on a DuckDB file (default ``afterclick.duckdb``), an Ibis URL or an Ibis
    connection that already holds the canonical tables. ``strict``: see :class:`Workspace`."""
    if isinstance(location, ibis.BaseBackend):
        store = Store(connection=location)
    else:
        store = Store(location, read_only=read_only)
    return Workspace(store, Params(**params), strict=strict)


# Preparers of the derived tables, registered here: the modules that define them import nothing
# of the workspace (no circle).
from afterclick.engine.derived import prepare_clv  # noqa: E402
from afterclick.text.store import TABLE as TEXT_SCORES  # noqa: E402
from afterclick.text.store import prepare_text_scores  # noqa: E402

register_preparer("clv", prepare_clv)
register_preparer(TEXT_SCORES, prepare_text_scores)
