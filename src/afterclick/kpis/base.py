"""KPI declarations and the registry.

A KPI is a frozen declaration (stable id, name, family, unit, direction, required tables) plus a
pure function ``compute(tables, params) -> Computation`` that builds Ibis expressions: no
connection, no ``execute``, no pandas, no I/O. The workspace executes them on whatever backend
holds the tables (DuckDB by default, Spark and others through Ibis).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

import ibis
import pandas as pd

from afterclick.results import Direction, Family, SpanKind, Unit
from afterclick.schemas import DERIVED_TABLES, TABLE_NAMES

Grain = Literal["week", "month"]

#: Tables whose rows carry a time (``ts``): a KPI's period is read from the first of these it
#: requires (its *clock*), so the CSAT headline's dates are the survey answers', not the events'.
TIMED_TABLES = ("events", "transactions", "messages", "responses")

#: What a missing table means, in the words a reader uses ("no survey answers in this store").
ABSENT = {
    "events": "no events in this store",
    "transactions": "no orders in this store",
    "messages": "no messages in this store",
    "responses": "no survey answers in this store",
    "content": "no content table in this store",
    "campaigns": "no campaigns table in this store",
    "customers": "no customers table in this store",
}


class Skip(Exception):  # noqa: N818 (a verdict, not an error)
    """Raised by a KPI whose data is absent: it is reported as skipped, with this reason in
    plain words ("no clicks in this store's events"), never as a failure."""


@dataclass(frozen=True)
class Params:
    """Knobs shared by the KPIs; every default is what the report uses.

    ``start``/``end`` bound the review period (UTC, end exclusive); ``None`` means all data.
    """

    grain: Grain = "week"
    start: datetime | None = None
    end: datetime | None = None
    session_gap_minutes: int = 30
    retention_days: int = 90
    nowhere_minutes: int = 30
    churn_days: int = 90
    max_periods: int = 12

    def __post_init__(self) -> None:
        if self.grain not in ("week", "month"):
            raise ValueError(f"grain must be 'week' or 'month', not {self.grain!r}")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError(f"the review period is empty: start {self.start:%Y-%m-%d %H:%M} is not before "
                             f"end {self.end:%Y-%m-%d %H:%M} (end is exclusive)")

    def with_(self, **changes: Any) -> Params:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def grain_days(self) -> int:
        return 7 if self.grain == "week" else 30


@dataclass(frozen=True)
class Span:
    """Which period a KPI's headline number reads: the whole review period, or the last complete
    week or month (the last that ends by the data's last day, see ``_common.review_end``).
    ``grain`` None means the ``grain`` parameter's periods; the workspace turns a span into dates
    from the data."""

    kind: SpanKind = SpanKind.WHOLE
    grain: Grain | None = None


WHOLE_PERIOD = Span()
#: The spans a KPI declares by name: ``@kpi(..., span="last_complete_month")``.
SPANS: dict[str, Span] = {
    "whole_period": WHOLE_PERIOD,
    "last_complete": Span(SpanKind.LAST_COMPLETE),  # the ``grain`` parameter's period
    "last_complete_month": Span(SpanKind.LAST_COMPLETE, "month"),
}


class Tables(Mapping[str, ibis.Table]):
    """The canonical tables available to a KPI (only those present and non-empty).

    It also holds the building blocks several KPIs share (sessions, customer-periods, the data's
    time bounds…): :meth:`shared` builds each once, and when the workspace passes
    ``materialize`` (e.g. Ibis ``.cache()``), computes it once on the backend for every KPI.
    """

    def __init__(self, tables: Mapping[str, ibis.Table],
                 materialize: Callable[[ibis.Table], ibis.Table] | None = None):
        self._tables = dict(tables)
        self._materialize = materialize
        self._shared: dict[Any, ibis.Table] = {}
        self._memo: dict[Any, Any] = {}

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """A Python-side result several KPIs share (e.g. a fitted CLV model), built once.

        For ``Computation.finish`` steps only: KPI expressions stay pure Ibis.
        """
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def shared(self, key: Any, build: Callable[[], ibis.Table]) -> ibis.Table:
        """The building block named ``key`` (include every parameter it depends on)."""
        if key not in self._shared:
            expr = build()
            self._shared[key] = self._materialize(expr) if self._materialize else expr
        return self._shared[key]

    def release(self) -> None:
        """Drop materialized building blocks (they live as temporary tables on the backend)."""
        for expr in self._shared.values():
            release = getattr(expr, "release", None)
            if self._materialize and release:
                try:
                    release()
                except Exception:  # already gone with its connection
                    pass
        self._shared.clear()
        self._memo.clear()

    def replace(self, name: str, table: ibis.Table | None) -> None:
        """Swap in a fresh copy of one table (``None`` removes it); building blocks stay."""
        if table is None:
            self._tables.pop(name, None)
        else:
            self._tables[name] = table

    def __getitem__(self, name: str) -> ibis.Table:
        try:
            return self._tables[name]
        except KeyError:
            raise KeyError(f"table {name!r} is not available") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)


@dataclass(frozen=True)
class Outcome:
    """What a ``finish`` step may return instead of ``(value, rows)``: also an interval and notes."""

    value: float | None = None
    rows: pd.DataFrame | None = None
    ci: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()


FinishFn = Callable[[float | None, "pd.DataFrame | None"], "tuple[float | None, pd.DataFrame | None] | Outcome"]


def explain_missing(reason: str, then: FinishFn | None = None) -> FinishFn:
    """A ``finish`` that says in plain words why the headline is missing, when it is (the data
    is too young for it, say), after ``then`` where given."""

    def finish(value, rows):
        if then is not None:
            done = then(value, rows)
            value, rows, ci, notes = ((done.value, done.rows, done.ci, done.notes) if isinstance(done, Outcome)
                                      else (*done, None, ()))
        else:
            ci, notes = None, ()
        if value is None or (isinstance(value, float) and value != value):
            notes = (*notes, reason)
        return Outcome(value, rows, ci=ci, notes=tuple(notes))

    return finish


@dataclass(frozen=True)
class Computation:
    """What a KPI's compute function returns.

    ``value`` is a scalar expression (the headline), ``rows`` a table expression (the breakdown).
    ``finish`` optionally post-processes the executed results in Python: for models that fit on
    a summary the engine computed (CLV, text scores) and for statistics (intervals), never for
    work the engine can do. It returns ``(value, rows)`` or an :class:`Outcome`.
    """

    value: ibis.Scalar | None = None
    rows: ibis.Table | None = None
    finish: FinishFn | None = None
    #: How to order the executed rows (expressions may lose order across backends); a leading
    #: "-" sorts that column descending.
    order_by: tuple[str, ...] = ()
    #: (count, reason) pairs checked before anything else: a count of 0 means the behaviour the
    #: KPI measures is absent from the data, and the KPI is skipped with the reason.
    needs: tuple[tuple[ibis.Scalar, str], ...] = ()
    #: Named scalars the notes read (e.g. how many refunds, and how much), executed beside the value.
    facts: Mapping[str, ibis.Scalar] = field(default_factory=dict)
    #: Notes from the executed facts and the final headline value, added after ``finish``.
    explain: Callable[[dict[str, Any], float | None], Iterable[str]] | None = None


ComputeFn = Callable[[Tables, Params], Computation]


@dataclass(frozen=True)
class KPI:
    id: str
    name: str
    family: Family
    unit: Unit
    direction: Direction
    requires: tuple[str, ...]
    compute: ComputeFn = field(repr=False, compare=False)
    #: Tables used when present, never required (e.g. customers for acquisition campaigns).
    uses: tuple[str, ...] = ()
    #: Shown in the scorecard and report; set False for breakdown-only KPIs.
    headline: bool = True
    #: What the headline number is, when the name describes the breakdown (see KPIResult).
    value_label: str | None = None
    #: The period the headline number reads (see ``Span``).
    span: Span = WHOLE_PERIOD
    #: The timed tables whose rows give the period, when not the first timed table it requires
    #: (a KPI that reads messages and events ends where the later of the two ends).
    timed_by: tuple[str, ...] = ()
    #: Tables of which at least one is needed, besides ``requires`` (attribution: clicks in the
    #: events, or else the campaigns the orders name). The first held gives the period.
    requires_any: tuple[str, ...] = ()

    @property
    def clock(self) -> str | tuple[str, ...] | None:
        """The table(s) whose times give this KPI's period: those it declares in ``timed_by``,
        else the first timed table it requires."""
        if self.timed_by:
            return self.timed_by
        return next((t for t in self.requires if t in TIMED_TABLES), None)

    @property
    def needs(self) -> tuple[str, ...]:
        """The tables it needs, as ``kpis --list`` shows them ("events or transactions")."""
        return (*self.requires, *((" or ".join(self.requires_any),) if self.requires_any else ()))

    @property
    def definition(self) -> str:
        """The docstring of the compute function: the formula and its source."""
        return inspect.cleandoc(self.compute.__doc__ or "").strip()

    @property
    def summary(self) -> str:
        return self.definition.split("\n\n", 1)[0].replace("\n", " ")


class Registry:
    def __init__(self) -> None:
        self._kpis: dict[str, KPI] = {}

    def add(self, kpi: KPI) -> KPI:
        if kpi.id in self._kpis:
            raise ValueError(f"KPI id {kpi.id!r} is registered twice")
        unknown = [t for t in (*kpi.requires, *kpi.uses, *kpi.timed_by, *kpi.requires_any)
                   if t not in TABLE_NAMES and t not in DERIVED_TABLES]
        if unknown:
            raise ValueError(f"KPI {kpi.id!r} needs unknown table(s) {unknown}")
        if not kpi.id.startswith(kpi.family.value + "."):
            raise ValueError(f"KPI id {kpi.id!r} must start with its family {kpi.family.value!r}")
        self._kpis[kpi.id] = kpi
        return kpi

    def __getitem__(self, kpi_id: str) -> KPI:
        try:
            return self._kpis[kpi_id]
        except KeyError:
            close = [k for k in self._kpis if kpi_id.split(".")[-1] in k]
            hint = f" (did you mean {', '.join(close[:3])}?)" if close else ""
            raise KeyError(f"unknown KPI {kpi_id!r}{hint}; `afterclick kpis --list` shows them") from None

    def __contains__(self, kpi_id: object) -> bool:
        return kpi_id in self._kpis

    def __iter__(self) -> Iterator[KPI]:
        order = list(Family)
        return iter(sorted(self._kpis.values(), key=lambda k: order.index(k.family)))

    def __len__(self) -> int:
        return len(self._kpis)

    def ids(self) -> list[str]:
        return [k.id for k in self]


REGISTRY = Registry()


def kpi(
    id: str,
    *,
    name: str,
    family: Family,
    unit: Unit,
    direction: Direction,
    requires: tuple[str, ...] = ("events",),
    uses: tuple[str, ...] = (),
    headline: bool = True,
    value_label: str | None = None,
    span: str = "whole_period",
    timed_by: tuple[str, ...] = (),
    requires_any: tuple[str, ...] = (),
) -> Callable[[ComputeFn], ComputeFn]:
    """Declare a KPI; the decorated function is its pure Ibis computation.

    ``span`` names the period its headline number reads (a key of ``SPANS``).
    """
    if span not in SPANS:
        raise ValueError(f"KPI {id!r}: unknown span {span!r}; use one of {', '.join(SPANS)}")

    def register(fn: ComputeFn) -> ComputeFn:
        REGISTRY.add(
            KPI(id=id, name=name, family=family, unit=unit, direction=direction,
                requires=tuple(requires), compute=fn, uses=tuple(uses), headline=headline,
                value_label=value_label, span=SPANS[span], timed_by=tuple(timed_by),
                requires_any=tuple(requires_any))
        )
        return fn

    return register
