"""The statistics of the content family (``kpis/content.py``), on the rows the engine executed:
the engaged-versus-comparable comparison (the note of goal attainment is in ``content_goals``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep

from afterclick.kpis.base import Outcome
from afterclick.kpis.content import ANY_CONTENT, MIN_ENGAGED, Z95
from afterclick.stats.proportions import Proportion


def mh_risk_difference(n1, x1, n0, x0) -> tuple[float, float, float]:
    """Mantel-Haenszel risk difference over strata and its 95% Wald interval.

    RD = Σ w_s (x1_s/n1_s - x0_s/n0_s) / Σ w_s with w_s = n1_s·n0_s/(n1_s + n0_s) (Greenland &
    Robins 1985); Var = Σ w_s² (p1_s(1-p1_s)/n1_s + p0_s(1-p0_s)/n0_s) / (Σ w_s)². Strata missing
    either group carry no weight. Returns (rd, low, high); NaN-free: raises on no usable stratum.
    """
    n1, x1, n0, x0 = (np.asarray(a, dtype=float) for a in (n1, x1, n0, x0))
    ok = (n1 > 0) & (n0 > 0)
    if not ok.any():
        raise ValueError("no stratum has both engaged and comparable people")
    n1, x1, n0, x0 = n1[ok], x1[ok], n0[ok], x0[ok]
    w = n1 * n0 / (n1 + n0)
    p1, p0 = x1 / n1, x0 / n0
    rd = float(np.sum(w * (p1 - p0)) / np.sum(w))
    var = float(np.sum(w**2 * (p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)) / np.sum(w) ** 2)
    half = Z95 * math.sqrt(var)
    return rd, rd - half, rd + half


def compare(value: float | None, rows: pd.DataFrame | None) -> Outcome:
    """``content.engaged_vs_not`` per item from the executed strata: Wilson intervals of each
    group's rate, Newcombe's interval of the raw difference (statsmodels) and the
    Mantel-Haenszel difference over first-touch month and channel; the headline is the
    any-content retention difference."""
    cols = ["content_id", "title", "kind", "engaged", "comparable"]
    for o in ("retention", "conversion"):
        cols += [f"{o}_engaged", f"{o}_engaged_low", f"{o}_engaged_high", f"{o}_comparable",
                 f"{o}_comparable_low", f"{o}_comparable_high", f"{o}_diff_raw", f"{o}_diff_raw_low",
                 f"{o}_diff_raw_high", f"{o}_diff", f"{o}_diff_low", f"{o}_diff_high"]
    out = []
    left_out = 0
    for cid, g in (rows.groupby("content_id", sort=True) if rows is not None else ()):
        g = g[(g["n1"] > 0) & (g["n0"] > 0)]
        n1, n0 = int(g["n1"].sum()), int(g["n0"].sum())
        if n1 < MIN_ENGAGED or n0 < MIN_ENGAGED:
            left_out += 1
            continue
        rec = {"content_id": cid, "title": g["title"].iloc[0], "kind": g["kind"].iloc[0],
               "engaged": n1, "comparable": n0}
        for o, col in (("retention", "retained"), ("conversion", "converted")):
            if g[f"{col}1"].isna().any():
                continue
            x1, x0 = int(g[f"{col}1"].sum()), int(g[f"{col}0"].sum())
            lo1, hi1 = Proportion(x1, n1).wilson().bounds
            lo0, hi0 = Proportion(x0, n0).wilson().bounds
            dlo, dhi = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff")
            rd, rlo, rhi = mh_risk_difference(g["n1"], g[f"{col}1"], g["n0"], g[f"{col}0"])
            rec.update({
                f"{o}_engaged": x1 / n1, f"{o}_engaged_low": float(lo1), f"{o}_engaged_high": float(hi1),
                f"{o}_comparable": x0 / n0, f"{o}_comparable_low": float(lo0),
                f"{o}_comparable_high": float(hi0),
                f"{o}_diff_raw": x1 / n1 - x0 / n0, f"{o}_diff_raw_low": float(dlo),
                f"{o}_diff_raw_high": float(dhi),
                f"{o}_diff": rd, f"{o}_diff_low": rlo, f"{o}_diff_high": rhi,
            })
        out.append(rec)
    df = pd.DataFrame(out, columns=cols)
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
