"""Do the satisfaction signals move together? Month-on-month changes of NPS, CSAT and message
sentiment, each tested, and the months where two of them moved significantly apart."""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats as st

from afterclick.stats.proportions import NPS, Proportion, nps_difference

ALPHA = 0.05


def _two_proportion_z(a: Proportion, b: Proportion) -> float | None:
    """z of share_a - share_b with the unpooled variance (the Wald test of two proportions)."""
    if not a.n or not b.n:
        return None
    pa, pb = a.share, b.share
    se = math.sqrt(pa * (1 - pa) / a.n + pb * (1 - pb) / b.n)
    return None if se == 0 else (pa - pb) / se


def _mean_z(n1, s1, q1, n0, s0, q0) -> float | None:
    """z of mean_1 - mean_0 from counts, sums and sums of squares (large-sample)."""
    if n1 < 2 or n0 < 2:
        return None
    m1, m0 = s1 / n1, s0 / n0
    v1 = max(0.0, (q1 - n1 * m1 * m1) / (n1 - 1))
    v0 = max(0.0, (q0 - n0 * m0 * m0) / (n0 - 1))
    se = math.sqrt(v1 / n1 + v0 / n0)
    return None if se == 0 else (m1 - m0) / se


def _direction(z: float | None) -> int:
    if z is None:
        return 0
    p = 2 * st.norm.sf(abs(z))
    return 0 if p >= ALPHA else (1 if z > 0 else -1)


def disagreements(rows: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Add nps, csat, sentiment, their significant change directions (+1, -1, 0) and
    ``disagree``; notes name each disagreeing month in words."""
    rows = rows.sort_values("period").reset_index(drop=True).copy()
    has_sent = "messages" in rows
    nps = [NPS(int(a), int(b), int(c)) for a, b, c in zip(rows.promoters, rows.passives, rows.detractors, strict=True)]
    cs = [Proportion(int(s), int(n)) for s, n in zip(rows.satisfied, rows.csat_answers, strict=True)]
    rows["nps"] = [None if x.score is None else x.score * 100 for x in nps]
    rows["csat"] = [x.share for x in cs]
    if has_sent:
        rows["sentiment"] = [s / n if n else None for s, n in zip(rows.sentiment_sum, rows.messages, strict=True)]
    d_nps, d_csat, d_sent, flags, notes = [0], [0], [0], [False], []
    for i in range(1, len(rows)):
        t = nps_difference(nps[i], nps[i - 1])
        dn = _direction(t.z)
        dc = _direction(_two_proportion_z(cs[i], cs[i - 1]))
        ds = 0
        if has_sent:
            ds = _direction(_mean_z(rows.messages[i], rows.sentiment_sum[i], rows.sentiment_sq[i],
                                    rows.messages[i - 1], rows.sentiment_sum[i - 1], rows.sentiment_sq[i - 1]))
        moved = {"NPS": dn, "CSAT": dc, "message sentiment": ds}
        up = [k for k, v in moved.items() if v > 0]
        down = [k for k, v in moved.items() if v < 0]
        flag = bool(up and down)
        if flag:
            month = pd.Timestamp(rows.period[i]).strftime("%b %Y")
            notes.append(f"{month}: {' and '.join(up)} rose while {' and '.join(down)} fell "
                         "(both changes significant): the signals disagree; look at who answered.")
        d_nps.append(dn); d_csat.append(dc); d_sent.append(ds); flags.append(flag)
    rows["nps_change"] = d_nps
    rows["csat_change"] = d_csat
    if has_sent:
        rows["sentiment_change"] = d_sent
        rows = rows.drop(columns=["sentiment_sum", "sentiment_sq"])
    rows["disagree"] = flags
    if not notes:
        notes.append("No month in which NPS, CSAT and message sentiment moved significantly apart.")
    return rows, notes
