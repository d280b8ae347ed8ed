"""The statistics of the content family (``kpis/content.py``), on the rows the engine executed:
the engaged-versus-comparable comparison (the note of goal attainment is in ``content_goals``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep

from afterclick.kpis.base import Outcome
from afterclick.kpis.content import ANY_CONTENT, MIN_ENGAGED, Z95
from afterclick.stats.proportions import wilson_intervals

#: The level of every interval of the comparison (``Z95`` is its normal quantile).
LEVEL = 0.95


def mh_risk_differences(key, n1, x1, n0, x0) -> pd.DataFrame:
    """Mantel-Haenszel risk difference and its 95% Wald interval for each value of ``key``, over
    the strata (rows) that carry it: columns rd, low, high, indexed by key (sorted).

    RD = Σ w_s (x1_s/n1_s - x0_s/n0_s) / Σ w_s with w_s = n1_s·n0_s/(n1_s + n0_s) (Greenland &
    Robins 1985); Var = Σ w_s² (p1_s(1-p1_s)/n1_s + p0_s(1-p0_s)/n0_s) / (Σ w_s)². Strata missing
    either group carry no weight; a key without a usable stratum has no row.
    """
    n1, x1, n0, x0 = (np.asarray(a, dtype=float) for a in (n1, x1, n0, x0))
    ok = (n1 > 0) & (n0 > 0)
    n1, x1, n0, x0 = n1[ok], x1[ok], n0[ok], x0[ok]
    w = n1 * n0 / (n1 + n0)
    p1, p0 = x1 / n1, x0 / n0
    sums = pd.DataFrame({"key": np.asarray(key)[ok], "w": w, "wd": w * (p1 - p0),
                         "wv": w**2 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)})
    sums = sums.groupby("key", sort=True)[["w", "wd", "wv"]].sum()
    rd = sums["wd"] / sums["w"]
    half = Z95 * np.sqrt(sums["wv"] / sums["w"] ** 2)
    return pd.DataFrame({"rd": rd, "low": rd - half, "high": rd + half})


def mh_risk_difference(n1, x1, n0, x0) -> tuple[float, float, float]:
    """:func:`mh_risk_differences` over one set of strata: (rd, low, high); raises (never NaN)
    when no stratum has both groups."""
    one = mh_risk_differences(np.zeros(len(np.asarray(n1))), n1, x1, n0, x0)
    if one.empty:
        raise ValueError("no stratum has both engaged and comparable people")
    rd, low, high = one.iloc[0]
    return float(rd), float(low), float(high)


def _outcome(o: str, col: str, g: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """The columns of one outcome (retention from ``retained``, conversion from ``converted``)
    for the compared ``items`` (engaged, comparable, index content_id), from their strata ``g``;
    empty for items with a missing count (conversion without transactions)."""
    counts = g.groupby("content_id", sort=True)[[f"{col}1", f"{col}0"]].sum(min_count=1)
    missing = g[f"{col}1"].isna().groupby(g["content_id"]).any()
    have = items.index[~missing.reindex(items.index, fill_value=True).to_numpy()]
    if have.empty:
        return pd.DataFrame(index=items.index)
    n1, n0 = items.loc[have, "engaged"].to_numpy(), items.loc[have, "comparable"].to_numpy()
    x1 = counts.loc[have, f"{col}1"].to_numpy(dtype=np.int64)
    x0 = counts.loc[have, f"{col}0"].to_numpy(dtype=np.int64)
    _, lo1, hi1 = wilson_intervals(x1, n1, LEVEL)
    _, lo0, hi0 = wilson_intervals(x0, n0, LEVEL)
    dlo, dhi = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff")
    mh = mh_risk_differences(g["content_id"], g["n1"], g[f"{col}1"], g["n0"], g[f"{col}0"]).loc[have]
    out = pd.DataFrame({
        f"{o}_engaged": x1 / n1, f"{o}_engaged_low": lo1, f"{o}_engaged_high": hi1,
        f"{o}_comparable": x0 / n0, f"{o}_comparable_low": lo0, f"{o}_comparable_high": hi0,
        f"{o}_diff_raw": x1 / n1 - x0 / n0, f"{o}_diff_raw_low": dlo, f"{o}_diff_raw_high": dhi,
        f"{o}_diff": mh["rd"].to_numpy(), f"{o}_diff_low": mh["low"].to_numpy(),
        f"{o}_diff_high": mh["high"].to_numpy(),
    }, index=have)
    return out.reindex(items.index)


def compare(value: float | None, rows: pd.DataFrame | None) -> Outcome:
    """``content.engaged_vs_not`` per item from the executed strata: Wilson intervals of each
    group's rate, Newcombe's interval of the raw difference (statsmodels) and the
    Mantel-Haenszel difference over first-touch month and channel; the headline is the
    any-content retention difference. Every item at once: one statsmodels call per interval
    over arrays, not one per item."""
    cols = ["content_id", "title", "kind", "engaged", "comparable"]
    for o in ("retention", "conversion"):
        cols += [f"{o}_engaged", f"{o}_engaged_low", f"{o}_engaged_high", f"{o}_comparable",
                 f"{o}_comparable_low", f"{o}_comparable_high", f"{o}_diff_raw", f"{o}_diff_raw_low",
                 f"{o}_diff_raw_high", f"{o}_diff", f"{o}_diff_low", f"{o}_diff_high"]
    df, left_out = pd.DataFrame(columns=cols), 0
    if rows is not None and not rows.empty:
        g = rows[(rows["n1"] > 0) & (rows["n0"] > 0)]
        items = g.groupby("content_id", sort=True).agg(
            title=("title", "first"), kind=("kind", "first"), engaged=("n1", "sum"), comparable=("n0", "sum"))
        items = items[(items["engaged"] >= MIN_ENGAGED) & (items["comparable"] >= MIN_ENGAGED)]
        left_out = rows["content_id"].nunique() - len(items)
        if not items.empty:
            items = items.astype({"engaged": "int64", "comparable": "int64"})
            g = g[g["content_id"].isin(items.index)]
            parts = [items] + [_outcome(o, col, g, items) for o, col in (("retention", "retained"),
                                                                           ("conversion", "converted"))]
            df = pd.concat(parts, axis=1).rename_axis("content_id").reset_index().reindex(columns=cols)
    # the any-content row first, then items by adjusted retention difference
    df["_any"] = df["content_id"] != ANY_CONTENT
    df = df.sort_values(["_any", "retention_diff", "content_id"], ascending=[True, False, True],
                        kind="stable").drop(columns="_any").reset_index(drop=True)
    notes = [("Association, not cause: people who choose to engage with content differ from those "
              "who do not in ways the comparison (same first-touch month and channel) cannot remove.")]
    if left_out:
        notes.append(f"{left_out} item(s) with fewer than {MIN_ENGAGED} engaged or comparable people "
                     "are left out.")
    headline, ci = None, None
    top = df[df["content_id"] == ANY_CONTENT]
    if not top.empty and pd.notna(top["retention_diff"].iloc[0]):
        headline = float(top["retention_diff"].iloc[0])
        ci = (float(top["retention_diff_low"].iloc[0]), float(top["retention_diff_high"].iloc[0]))
    return Outcome(value=headline, rows=df, ci=ci, notes=tuple(notes))
