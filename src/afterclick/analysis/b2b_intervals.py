"""Intervals for the B2B money KPIs, from sums the engine returns beside each breakdown row.

NRR and GRR are ratios of sums over customers (Σ MRR now / Σ MRR a year before): their 95%
interval is the delta-method interval of a ratio of per-customer sums
(:class:`afterclick.stats.experiment.sufficient.RatioStats`, Deng, Knoblich & Lu 2018), a
customer being the unit resampled. Pipeline velocity is opportunities × win rate × (Σ won amounts
÷ Σ won cycle days): its interval combines, on the log scale, the binomial variance of the win
rate (:class:`afterclick.stats.Proportion`) and the delta-method variance of that ratio over the
won deals; the number of opportunities is taken as given.

The sums travel in the breakdown rows (they add across rows, so the headline's interval comes from
the same rows) and the ``finish`` steps here (named by the specs in ``kpis/b2b_accounts.py``) turn
them into interval columns and drop them.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats as st

from afterclick.kpis.base import Outcome
from afterclick.stats import Proportion
from afterclick.stats.experiment.sufficient import RatioStats

LEVEL = 0.95
_Z = float(st.norm.ppf(0.5 + LEVEL / 2))

#: Columns of ``b2b_accounts.retention_rows`` holding sums for the intervals (dropped once used).
RETENTION_SUMS = ("ss_before", "ss_now", "ss_kept", "s_now_before", "s_kept_before")
#: Columns of ``b2b_accounts.pipeline`` holding sums for the velocity interval.
VELOCITY_SUMS = ("won_measured", "won_amount_sum", "won_amount_ss", "cycle_sum", "cycle_ss", "amount_cycle")


def ratio_interval(s: RatioStats, upper: float | None = None) -> tuple[float, float] | None:
    """The 95% delta-method interval of Σm/Σd, cut at 0 (and at ``upper``); None with fewer than
    two units or no denominator."""
    r, v = s.ratio, s.variance
    if r is None or v is None:
        return None
    half = _Z * math.sqrt(v / s.n)
    return max(0.0, r - half), r + half if upper is None else min(upper, r + half)


def _retention_stats(row, numerator: str) -> RatioStats:
    mid = "now" if numerator == "mrr_now" else "kept"
    return RatioStats(int(row["customers"]), float(row[numerator]), float(row[f"ss_{mid}"]),
                      float(row["mrr_before"]), float(row["ss_before"]), float(row[f"s_{mid}_before"]))


def retention_intervals(rows: pd.DataFrame | None) -> pd.DataFrame | None:
    """``retention_rows`` with nrr_low/nrr_high and grr_low/grr_high per row, the sums dropped."""
    if rows is None or not len(rows):
        return rows
    rows = rows.copy()
    for name, numerator in (("nrr", "mrr_now"), ("grr", "mrr_kept")):
        cap = 1.0 if name == "grr" else None  # GRR cannot exceed 1
        bounds = [ratio_interval(_retention_stats(r, numerator), cap) for _, r in rows.iterrows()]
        rows[f"{name}_low"] = [b[0] if b else None for b in bounds]
        rows[f"{name}_high"] = [b[1] if b else None for b in bounds]
    return rows.drop(columns=[c for c in RETENTION_SUMS if c in rows.columns])


def retention(value, rows, *, column: str, then) -> Outcome:
    """The ``finish`` step of ``b2b.nrr``/``b2b.grr``/``b2b.logo_retention``: ``then`` (the reason a
    value is missing, the logo interval), with the headline's interval from the "all" row for NRR
    and GRR and the interval columns added to the rows."""
    done = then(value, rows)
    rows = retention_intervals(done.rows)
    ci = done.ci
    if column in ("nrr", "grr") and value is not None and rows is not None and len(rows):
        all_row = rows[rows["breakdown"] == "all"]
        low, high = all_row[f"{column}_low"].iloc[0], all_row[f"{column}_high"].iloc[0]
        ci = None if pd.isna(low) else (float(low), float(high))
    return Outcome(done.value, rows, ci=ci, notes=done.notes)


def velocity_interval(opportunities: float, won: int, closed: int, sums: pd.Series,
                      velocity: float | None) -> tuple[float, float] | None:
    """The 95% interval of pipeline velocity (see the module's docstring); None where the win
    rate is 0 or there are fewer than two won deals with an amount and a close date."""
    if velocity is None or pd.isna(velocity) or not won:
        return None
    n = int(sums["won_measured"])
    r = RatioStats(n, float(sums["won_amount_sum"]), float(sums["won_amount_ss"]), float(sums["cycle_sum"]),
                   float(sums["cycle_ss"]), float(sums["amount_cycle"]))
    if r.ratio is None or r.variance is None or r.ratio <= 0:
        return None
    p = Proportion(int(won), int(closed)).share
    se = math.sqrt((1 - p) / (p * closed) + r.variance / (n * r.ratio**2))
    return velocity * math.exp(-_Z * se), velocity * math.exp(_Z * se)


def _row_velocity_interval(row) -> tuple[float, float] | None:
    v = row["velocity"]
    return velocity_interval(row["opportunities"], int(row["won"]), int(row["won"] + row["lost"]), row,
                             None if pd.isna(v) else float(v))


def pipeline(value, rows, *, column: str, then) -> Outcome:
    """The ``finish`` step of the deal KPIs: ``then``, the velocity interval per campaign
    (velocity_low/high), the headline's interval for ``b2b.pipeline_velocity`` from the summed
    rows, and the sums dropped."""
    done = then(value, rows)
    rows, ci = done.rows, done.ci
    if rows is None or not len(rows):
        return done
    rows = rows.copy()
    bounds = [_row_velocity_interval(r) for _, r in rows.iterrows()]
    rows["velocity_low"] = [b[0] if b else None for b in bounds]
    rows["velocity_high"] = [b[1] if b else None for b in bounds]
    if column == "velocity" and done.value is not None:
        total = rows[list(VELOCITY_SUMS)].sum()
        won, closed = int(rows["won"].sum()), int((rows["won"] + rows["lost"]).sum())
        ci = velocity_interval(float(rows["opportunities"].sum()), won, closed, total, done.value)
    return Outcome(done.value, rows.drop(columns=list(VELOCITY_SUMS)), ci=ci, notes=done.notes)
