"""Headlines read off a KPI's executed rows, when the rows already hold every number the headline
adds up: one query for both, instead of a second pass over the same data for the headline alone.

Each function is a ``finish`` step (``kpis.base.Analysis`` names it by path), light to import.
"""

from __future__ import annotations

from typing import Any


def ratio_of_sums(_value: Any, rows: Any, *, num: str, den: str, hide: tuple[str, ...] = ()) -> tuple[float | None, Any]:
    """Σ ``num`` / Σ ``den`` over the rows (None when Σ ``den`` is 0, as ``safe_ratio``), and the
    rows without the columns in ``hide`` (those only the headline reads)."""
    d = rows[den].sum()
    value = None if d == 0 else float(rows[num].sum()) / float(d)
    return value, rows.drop(columns=list(hide)) if hide else rows


def in_last_complete(_value: Any, rows: Any, *, column: str) -> tuple[float | None, Any]:
    """``column`` in the last complete period (``last_idx``, the same on every row) of rows keyed
    by a period ``idx``: 0 when that period has no row (nothing happened in it), None when it
    comes before the first row (no data yet). The rows are returned without ``idx`` and
    ``last_idx``."""
    out = rows.drop(columns=["idx", "last_idx"])
    if rows.empty or rows["last_idx"].isna().all():
        return None, out
    last = rows["last_idx"].iloc[0]
    if last < rows["idx"].min():
        return None, out
    hit = rows.loc[rows["idx"] == last, column]
    return (float(hit.max()) if len(hit) else 0.0), out
