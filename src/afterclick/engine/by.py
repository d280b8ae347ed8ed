"""A KPI by any grouping of its units, from the measure its spec declares: no new KPI code.

The measure gives one row per unit (a customer) with its sufficient statistics; the grouping is
a column joined on the unit: ``"segment"`` or ``"customers.segment"`` (a column of a store table
that has the unit column), or an Ibis table of unit → group the caller gives (an experiment's
assignments, a list of customers and their cohort). Units the grouping does not name form the
group None, so the groups add back to the whole. The sums are aggregated by the backend; only
one row per group comes back, and :mod:`afterclick.engine.grouped` turns each into a value
and an interval.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.engine.params import Params
from afterclick.engine.registry import KPI, Measure
from afterclick.engine.tables import Tables
from afterclick.results import MeasureKind

#: The unit and group columns of a grouping table (the caller's names come back on the rows).
UNIT, GROUP = "_unit", "_group"


def grouping(t: Tables, by: str | ir.Table, unit: str, column: str | None = None) -> tuple[ir.Table, str]:
    """(table of ``_unit`` → ``_group``, the group column's name) for ``by``."""
    if isinstance(by, ir.Table):
        if unit not in by.columns:
            raise ValueError(f"the grouping table has no {unit!r} column to join the KPI's units on "
                             f"(it has {', '.join(by.columns)})")
        others = [c for c in by.columns if c != unit]
        if column is None and len(others) != 1:
            raise ValueError(f"the grouping table has {len(others)} columns besides {unit!r}: name the "
                             f"group column with column=")
        column = column or others[0]
        if column not in others:
            raise ValueError(f"the grouping table has no column {column!r} (it has {', '.join(by.columns)})")
        if unit == "customer_id":  # the caller names customers by id; the KPIs' units are keys
            by = t.customer_keyed(by, unit)
        return by.select(**{UNIT: by[unit], GROUP: by[column]}).distinct(), column
    name, _, col = by.rpartition(".")
    held = [name] if name else [n for n in ("customers", *t) if n in t]
    for table in held:
        if table in t and unit in t[table].columns and col in t[table].columns:
            tb = t[table]
            return tb.select(**{UNIT: tb[unit], GROUP: tb[col]}).distinct(), col
    where = f"table {name!r}" if name else "no table of this store"
    raise ValueError(f"{where} holds both {unit!r} and {col!r} to group by; name it as table.column "
                     f"or pass an Ibis table of {unit} → group")


def grouped_sums(k: KPI, t: Tables, p: Params, groups: ir.Table) -> ir.Table:
    """One row per group: n units and the sums of the KPI's measure (``_group`` NULL for the
    units the grouping does not name; a group without any unit the KPI counts has n = 0)."""
    m: Measure = k.measure
    per = m.per_unit(t, p)
    j = per.left_join(groups, per[m.unit] == groups[UNIT])
    j = j.select(GROUP, *m.columns)
    agg = j.group_by(GROUP).aggregate(**sums(j, m.kind))
    named = groups.filter(groups[GROUP].notnull()).select(GROUP).distinct()
    empty = named.anti_join(agg, GROUP)
    zeros = {c: ibis.literal(0).cast(agg[c].type()) for c in agg.columns if c != GROUP}
    return agg.union(empty.mutate(**zeros).select(*agg.columns))


def sums(j: ir.Table, kind: MeasureKind) -> dict[str, ir.Value]:
    """The sufficient statistics of ``kind`` over the rows of ``j``, as gbstats keeps them."""
    f = "float64"
    if kind is MeasureKind.RATIO:
        num, den = j.num.cast(f).fill_null(0), j.den.cast(f).fill_null(0)
        return {"n": j.count(), "num_sum": num.sum(), "num_sum_squares": (num * num).sum(),
                "den_sum": den.sum(), "den_sum_squares": (den * den).sum(), "cross_sum": (num * den).sum()}
    x = j.x.cast(f).fill_null(0)
    return {"n": j.count(), "sum": x.sum(), "sum_squares": (x * x).sum()}


def units_in_two_groups(groups: ir.Table) -> ir.Scalar:
    """How many units the grouping puts in more than one group (0 for a true grouping)."""
    per = groups.group_by(UNIT).aggregate(k=groups.count())
    return (per.k > 1).cast("int64").sum().fill_null(0)
