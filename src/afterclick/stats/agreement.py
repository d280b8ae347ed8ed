"""Do the satisfaction signals move together? Month-on-month changes of NPS, CSAT and message
sentiment, each tested, and the months where two of them moved significantly apart."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as st

from afterclick.stats.proportions import nps_change_z

ALPHA = 0.05


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den, NaN where den is 0."""
    out = np.full(len(den), np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _two_proportion_z(s: np.ndarray, n: np.ndarray) -> np.ndarray:
    """z of each row's share minus the row before's with the unpooled variance (the Wald test of two
    proportions); NaN for the first row, where a row has no answers or there is no variance."""
    share = _ratio(s, n)
    z = np.full(len(n), np.nan)
    pa, pb, na, nb = share[1:], share[:-1], n[1:], n[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(pa * (1 - pa) / na + pb * (1 - pb) / nb)
        z[1:] = np.where((na > 0) & (nb > 0) & (se > 0), (pa - pb) / se, np.nan)
    return z


def _mean_z(n: np.ndarray, s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """z of each row's mean minus the row before's from counts, sums and sums of squares
    (large-sample); NaN for the first row, below two values in either, or without variance."""
    z = np.full(len(n), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = s / n
        v = np.maximum(0.0, (q - n * m * m) / (n - 1))
        se = np.sqrt(v[1:] / n[1:] + v[:-1] / n[:-1])
        z[1:] = np.where((n[1:] >= 2) & (n[:-1] >= 2) & (se > 0), (m[1:] - m[:-1]) / se, np.nan)
    return z


def _direction(z: np.ndarray) -> list[int]:
    """+1 or -1 where the change is significant (two-sided p < ALPHA), else 0 (also without a test)."""
    with np.errstate(invalid="ignore"):
        p = 2 * st.norm.sf(np.abs(z))
    return np.where(np.isnan(z) | ~(p < ALPHA), 0, np.sign(np.nan_to_num(z))).astype(int).tolist()


def _none_for_nan(values: np.ndarray) -> list[float | None]:
    return [None if math.isnan(v) else v for v in values.tolist()]


def disagreements(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Add nps, csat, sentiment, their significant change directions (+1, -1, 0) and
    ``disagree``; notes name each disagreeing month in words."""
    rows = rows.sort_values("period").reset_index(drop=True).copy()
    has_sent = "messages" in rows
    col = {c: rows[c].to_numpy(dtype=float) for c in ("promoters", "detractors", "nps_answers", "satisfied",
                                                      "csat_answers")}
    rows["nps"] = _none_for_nan(_ratio(col["promoters"] - col["detractors"], col["nps_answers"]) * 100)
    rows["csat"] = _none_for_nan(_ratio(col["satisfied"], col["csat_answers"]))
    d_nps = _direction(nps_change_z(rows.promoters, rows.passives, rows.detractors))
    d_csat = _direction(_two_proportion_z(col["satisfied"], col["csat_answers"]))
    d_sent = [0] * len(rows)
    if has_sent:
        n, s, q = (rows[c].to_numpy(dtype=float) for c in ("messages", "sentiment_sum", "sentiment_sq"))
        rows["sentiment"] = _none_for_nan(_ratio(s, n))
        d_sent = _direction(_mean_z(n, s, q))
    flags, notes = [False] * len(rows), []
    for i in range(1, len(rows)):
        moved = {"NPS": d_nps[i], "CSAT": d_csat[i], "message sentiment": d_sent[i]}
        up = [k for k, v in moved.items() if v > 0]
        down = [k for k, v in moved.items() if v < 0]
        flags[i] = bool(up and down)
        if flags[i]:
            month = pd.Timestamp(rows.period[i]).strftime("%b %Y")
            notes.append(f"{month}: {' and '.join(up)} rose while {' and '.join(down)} fell "
                         "(both changes significant): the signals disagree; look at who answered.")
    rows["nps_change"] = d_nps
    rows["csat_change"] = d_csat
    if has_sent:
        rows["sentiment_change"] = d_sent
        rows = rows.drop(columns=["sentiment_sum", "sentiment_sq"])
    rows["disagree"] = flags
    if not notes:
        notes.append("No month in which NPS, CSAT and message sentiment moved significantly apart.")
    return rows, notes
