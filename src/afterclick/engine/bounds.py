"""The review period's rows and the data's time bounds: the blocks the workspace reads to date a
KPI (its *clock*) and the KPI families read to find where their data starts and stops.

They live in the engine, which dates every result, and ``afterclick.kpis._common`` keeps them
importable beside the other shared blocks. Pure Ibis, portable to every backend.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.core.periods import index_expr as period_index
from afterclick.core.periods import utc as as_utc
from afterclick.engine.params import Params
from afterclick.engine.tables import Tables, block

#: A KPI's clock: the timed table whose rows date it, or several (the later of them ends it).
Clock = str | tuple[str, ...]


def in_period(table: ir.Table, p: Params, column: str = "ts") -> ir.Table:
    """Rows of ``table`` inside the review period [start, end)."""
    if p.start is not None:
        table = table.filter(table[column] >= p.start)
    if p.end is not None:
        table = table.filter(table[column] < p.end)
    return table


def day_index(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Days since 1970-01-01 (UTC)."""
    return period_index(ts, "day")


def _timed(t: Tables, table: Clock, p: Params | None) -> ir.Table:
    """The ``ts`` of ``table``'s rows (of each held table of a tuple), in the period unless ``p`` is None."""
    names = [table] if isinstance(table, str) else [n for n in table if n in t]
    parts = [(t[n] if p is None else in_period(t[n], p)).select("ts") for n in names]
    out = parts[0]
    for more in parts[1:]:
        out = out.union(more, distinct=False)
    return out


@block
def data_bounds(t: Tables, p: Params, table: Clock = "events") -> ir.Table:
    """A one-row table with the first and last time of ``table``'s rows in the period (of all
    the tables named, when ``table`` is a tuple: the clock of a KPI that reads several)."""

    rows = _timed(t, table, p)
    return rows.aggregate(data_start=rows.ts.min(), data_end=rows.ts.max())


@block
def review_end(t: Tables, p: Params, table: Clock = "events") -> ir.Table:
    """One row, ``review_end``: where the reviewed data of ``table`` stops (exclusive, UTC).

    Data is taken to cover whole days: the end is midnight after the latest row's day (of all
    the stored rows of ``table``), or the review period's end where that comes first. A week or
    month is complete when it ends by then: data up to 31 October 23:59 completes October, and
    so does a review that ends on 1 November of data that runs on.
    """

    if p.end is None:  # the period's own latest row is the latest stored one
        b = data_bounds(t, p, table).select(last_ts="data_end")
    else:
        rows = _timed(t, table, None)
        b = rows.aggregate(last_ts=rows.ts.max())
    end = b.last_ts.truncate("D") + ibis.interval(days=1)
    if p.end is not None:
        stop = as_utc(p.end).tz_localize(None).to_pydatetime()  # stored times are UTC, zoneless
        end = ibis.least(end, ibis.literal(stop, type="timestamp"))
    return b.select(review_end=end)
