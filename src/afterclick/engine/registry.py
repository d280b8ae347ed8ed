"""KPI declarations and the registry.

A KPI is a frozen declaration (stable id, name, family, unit, direction, required tables) plus a
pure function ``compute(tables, params) -> Computation`` that builds Ibis expressions: no
connection, no ``execute``, no pandas, no I/O. The workspace executes them on whatever backend
holds the tables (DuckDB by default, Spark and others through Ibis); a ``finish`` step that needs
pandas, statistics or a fitted model lives in ``afterclick.analysis``, named by its path
(:class:`Analysis`).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import ibis

from afterclick.engine.params import SPANS, WHOLE_PERIOD, Params, Span
from afterclick.engine.tables import Tables
from afterclick.results import Direction, Family, MeasureKind, RowsSchema, Unit
from afterclick.schemas import DERIVED_TABLES, TABLE_NAMES

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
class Outcome:
    """What a ``finish`` step may return instead of ``(value, rows)``: also an interval and notes."""

    value: float | None = None
    #: The executed rows (a pandas DataFrame: finish steps receive them; KPIs never build one).
    rows: Any = None
    ci: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()


#: ``finish(value, rows)`` on the executed value and rows (a pandas DataFrame or None).
FinishFn = Callable[[float | None, Any], "tuple[float | None, Any] | Outcome"]


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
class Analysis:
    """A ``finish`` step that lives in ``afterclick.analysis`` (pandas, statistics, a fitted model),
    named by its path so that ``kpis/`` imports none of it: ``module:function``, called as
    ``function(value, rows, **args)`` on the executed value and rows. A model fitted once per
    workspace (the CLV models, the feedback themes) gets the KPI's tables and parameters as
    ``t`` and ``p`` among ``args``, for ``Tables.fitted``."""

    path: str
    args: tuple[tuple[str, Any], ...] = ()

    def __call__(self, value: Any, rows: Any) -> Any:
        module, _, name = self.path.partition(":")
        return getattr(importlib.import_module(module), name)(value, rows, **dict(self.args))


@dataclass(frozen=True)
class Computation:
    """What a KPI's compute function returns.

    ``value`` is a scalar expression (the headline), ``rows`` a table expression (the breakdown).
    ``finish`` optionally post-processes the executed results in Python: for models that fit on
    a summary the engine computed (CLV, text scores), for statistics (intervals), and for a
    headline that only adds up the few aggregated rows already executed (``analysis.headline``:
    one query instead of a second pass over the data), never for work over the data itself,
    which the engine does. It returns ``(value, rows)`` or an :class:`Outcome`.
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
class Measure:
    """A KPI's value as sufficient statistics per unit, so it can be computed by any grouping.

    ``per_unit(t, p)`` is pure Ibis with one row per unit (column ``unit``, a customer by
    default) and ``x`` (COUNT, PROPORTION, MEAN) or ``num`` and ``den`` (RATIO); the KPI's value
    is Σx, Σx / n or Σnum / Σden over those rows (see ``MeasureKind``).
    """

    kind: MeasureKind
    per_unit: Callable[[Tables, Params], ibis.Table] = field(repr=False, compare=False)
    unit: str = "customer_id"

    @property
    def columns(self) -> tuple[str, ...]:
        return ("num", "den") if self.kind is MeasureKind.RATIO else ("x",)


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
    #: Its value as per-unit sufficient statistics (see ``Measure``, declared with ``@measure``).
    measure: Measure | None = None

    @property
    def rows_schema(self) -> RowsSchema | None:
        """The declared columns of its rows (``kpis/rows.toml``, see :meth:`Registry.declare_rows`);
        None for a KPI without rows."""
        return REGISTRY.rows_schema(self.id)

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
    """The catalogue: the KPI families register into it as they are imported (``afterclick.kpis``
    imports every family, and ``afterclick.workspace`` imports ``afterclick.kpis``), so the engine
    that runs the specs imports none of them."""

    def __init__(self) -> None:
        self._kpis: dict[str, KPI] = {}
        self._rows: Callable[[], Mapping[str, RowsSchema]] = dict

    def declare_rows(self, schemas: Callable[[], Mapping[str, RowsSchema]]) -> None:
        """Where the declared columns of the KPIs' rows come from: ``schemas()`` maps a KPI id to
        its :class:`RowsSchema` (``afterclick.kpis`` passes the reader of ``kpis/rows.toml``)."""
        self._rows = schemas

    def rows_schema(self, kpi_id: str) -> RowsSchema | None:
        """The declared columns of the rows of ``kpi_id``; None when it declares none."""
        return self._rows().get(kpi_id)

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
            if not self._kpis:
                raise KeyError(f"unknown KPI {kpi_id!r}: no KPI is registered yet; import afterclick.kpis "
                               "first (afterclick.open and afterclick.workspace do)") from None
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

    def set_measure(self, kpi_id: str, m: Measure) -> None:
        k = self[kpi_id]
        if k.measure is not None:
            raise ValueError(f"KPI {kpi_id!r} declares its measure twice")
        self._kpis[kpi_id] = replace(k, measure=m)


REGISTRY = Registry()


def measure(kpi_id: str, kind: MeasureKind, unit: str = "customer_id") -> Callable[[Callable], Callable]:
    """Declare the decorated ``per_unit(t, p)`` as the measure of the KPI ``kpi_id`` (declared
    before it): one row per ``unit`` with its sufficient statistics (see :class:`Measure`)."""

    def register(fn: Callable[[Tables, Params], ibis.Table]) -> Callable[[Tables, Params], ibis.Table]:
        REGISTRY.set_measure(kpi_id, Measure(kind, fn, unit))
        return fn

    return register


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
