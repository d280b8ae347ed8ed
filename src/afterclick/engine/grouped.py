"""Values and intervals of a KPI per group, from the sufficient statistics the engine summed.

Statistics add, so the whole is the sum of its groups (``afterclick.engine.by``). Intervals:
COUNT none (a census of the period, not a sample); PROPORTION Wilson (1927) through
``stats.Proportion``; MEAN Student's t from n, Σx, Σx²; RATIO the delta method on Σnum / Σden
(Deng, Knoblich & Lu 2018) through ``stats.experiment.RatioStats``, with a normal quantile.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats as st

from afterclick.results import MeasureKind
from afterclick.stats.experiment.sufficient import MeanStats, RatioStats
from afterclick.stats.proportions import Proportion

#: The sums of each kind, in the order the rows show them.
SUMS = {MeasureKind.RATIO: ("num_sum", "num_sum_squares", "den_sum", "den_sum_squares", "cross_sum")}
PLAIN_SUMS = ("sum", "sum_squares")


def sum_columns(kind: MeasureKind) -> tuple[str, ...]:
    return ("n", *SUMS.get(kind, PLAIN_SUMS))


def estimate(kind: MeasureKind, row: dict, level: float = 0.95) -> tuple[float | None, tuple[float, float] | None]:
    """(value, interval or None) of one group's sums."""
    n = int(row["n"])
    if kind is MeasureKind.COUNT:
        return float(row["sum"]), None
    if not n:
        return None, None
    if kind is MeasureKind.PROPORTION:
        iv = Proportion(int(round(row["sum"])), n).wilson(level)
        return iv.estimate, None if iv.low is None else (iv.low, iv.high)
    if kind is MeasureKind.MEAN:
        m = MeanStats(n, float(row["sum"]), float(row["sum_squares"]))
        return m.mean, _interval(m.mean, m.variance, n, st.t(df=n - 1) if n > 1 else None, level)
    r = RatioStats(n, *(float(row[c]) for c in SUMS[MeasureKind.RATIO]))
    return r.ratio, _interval(r.ratio, r.variance, n, st.norm(), level)


def _interval(centre, variance, n, dist, level) -> tuple[float, float] | None:
    if centre is None or variance is None or dist is None:
        return None
    half = float(dist.ppf(0.5 + level / 2)) * math.sqrt(variance / n)
    return centre - half, centre + half


def per_group(kind: MeasureKind, sums: pd.DataFrame, column: str, level: float = 0.95) -> pd.DataFrame:
    """One row per group (sorted, the units no group names last): the group, its sums, value,
    ci_low and ci_high."""
    cols = sum_columns(kind)
    rows = []
    for rec in sums.to_dict(orient="records"):
        rec = {c: (0 if pd.isna(rec[c]) else rec[c]) for c in cols} | {"_group": rec["_group"]}
        value, ci = estimate(kind, rec, level)
        rows.append({column: rec["_group"], **{c: rec[c] for c in cols}, "value": value,
                     "ci_low": None if ci is None else ci[0], "ci_high": None if ci is None else ci[1]})
    out = pd.DataFrame(rows, columns=[column, *cols, "value", "ci_low", "ci_high"])
    out["n"] = out["n"].astype("int64")
    key = out[column].isna()
    out = pd.concat([out[~key].sort_values(column, kind="stable"), out[key]], ignore_index=True)
    out[column] = out[column].astype(object).where(out[column].notna(), None)
    return out


def whole(kind: MeasureKind, rows: pd.DataFrame, level: float = 0.95) -> tuple[float | None, tuple[float, float] | None]:
    """The value and interval of all groups together (their sums added)."""
    total = {c: float(rows[c].sum()) for c in sum_columns(kind)}
    if not total["n"]:
        return None, None
    return estimate(kind, total, level)
