"""The statistics and text models behind the advocacy KPIs (``kpis/advocacy.py``), on the counts and
texts the engine executed: NPS intervals and the change test of Rocks (2016), CSAT's Wilson
interval, CES's t interval, the feedback themes and their key drivers, and the months in which the
signals disagree. Each function is a ``finish`` step named by a spec (``kpis.base.Analysis``)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as st

from afterclick.core.texts import left_out_notes
from afterclick.kpis.advocacy import feedback
from afterclick.kpis.base import Outcome, Params, Skip, Tables
from afterclick.stats import MIN_ANSWERS, NPS, Proportion, nps_difference
from afterclick.stats.agreement import ALPHA
from afterclick.stats.proportions import nps_intervals, wilson_intervals

LEVEL = 0.95


def _label(row: pd.Series, key: str) -> str:
    v = row[key]
    if isinstance(v, pd.Timestamp):
        return v.strftime("%b %Y")
    return str(v)


def _floats(values: np.ndarray) -> list[float | None]:
    """A column of numbers with None where there is none (NaN), as a per-row list would build it."""
    return [None if math.isnan(v) else v for v in values.tolist()]


def _answered(rows: pd.DataFrame, empty: str | None) -> None:
    """Skip, saying ``empty``, when the rows hold no answer (the KPI executes its rows alone)."""
    if empty is not None and not int(rows["answers"].sum()):
        raise Skip(empty)


def _nps_of(row: pd.Series) -> NPS:
    return NPS(int(row["promoters"]), int(row["passives"]), int(row["detractors"]))


def nps(value, rows: pd.DataFrame, *, key: str, compare_last: bool, empty: str | None = None) -> Outcome:
    """NPS per row of promoter, passive and detractor counts, with the adjusted Wald interval on the
    trinomial variance (Rocks 2016); the headline from the summed counts; with ``compare_last``, a
    note testing the change between the last two rows. Skipped, saying ``empty``, without answers."""
    _answered(rows, empty)
    rows = rows.copy()
    score, low, high = nps_intervals(rows["promoters"], rows["passives"], rows["detractors"], LEVEL)
    rows["nps"] = _floats(score * 100)
    rows["ci_low"] = _floats(low * 100)
    rows["ci_high"] = _floats(high * 100)
    rows["too_few"] = (rows["promoters"] + rows["passives"] + rows["detractors"] < MIN_ANSWERS).tolist()
    total = NPS(*(int(rows[c].sum()) for c in ("promoters", "passives", "detractors")))
    iv = total.interval(LEVEL)
    notes = list(_too_few_notes(rows, key))
    if compare_last and len(rows) >= 2:
        notes.append(_change_note(rows, key, _nps_of(rows.iloc[-2]), _nps_of(rows.iloc[-1])))
    ci = (iv.low * 100, iv.high * 100) if iv.bounds else None
    return Outcome(None if total.score is None else total.score * 100, rows, ci=ci, notes=tuple(notes))


def _too_few_notes(rows: pd.DataFrame, key: str):
    small = rows[rows["answers"] < MIN_ANSWERS]
    if len(small):
        names = ", ".join(_label(r, key) for _, r in small.head(6).iterrows())
        more = f" and {len(small) - 6} more" if len(small) > 6 else ""
        yield (f"Fewer than {MIN_ANSWERS} answers in {names}{more}: too few to read; "
               "the interval shows how uncertain they are.")


def _change_note(rows: pd.DataFrame, key: str, before: NPS, after: NPS) -> str:
    t = nps_difference(after, before, LEVEL)
    a, b = _label(rows.iloc[-2], key), _label(rows.iloc[-1], key)
    if t.difference is None or t.p_value is None:
        return f"NPS change from {a} to {b} cannot be tested: {t.status}."
    verdict = (f"a real change (p < {ALPHA:g})" if t.p_value < ALPHA else "within the noise (not significant)")
    return (f"NPS {b} vs {a}: {t.difference * 100:+.1f} points "
            f"(95% CI {t.low * 100:+.1f} to {t.high * 100:+.1f}), {verdict}.")


def csat(value, rows: pd.DataFrame, *, key: str, empty: str | None = None) -> Outcome:
    """CSAT per row of satisfied and answer counts, with its Wilson interval (Wilson 1927); the
    headline and its interval from the summed counts. Skipped, saying ``empty``, without answers."""
    _answered(rows, empty)
    rows = rows.copy()
    share, low, high = wilson_intervals(rows["satisfied"], rows["answers"], LEVEL)
    rows["csat"] = _floats(share)
    rows["ci_low"] = _floats(low)
    rows["ci_high"] = _floats(high)
    rows["too_few"] = (rows["answers"] < MIN_ANSWERS).tolist()
    total = Proportion(int(rows["satisfied"].sum()), int(rows["answers"].sum()))
    iv = total.wilson(LEVEL)
    return Outcome(total.share, rows, ci=iv.bounds, notes=tuple(_too_few_notes(rows, key)))


def ces(value, rows: pd.DataFrame, *, empty: str | None = None) -> Outcome:
    """CES per month from n, sum and sum of squares, with its t interval; the headline (the mean of
    every answer, ``value`` unread) and its interval from the summed columns. Skipped, saying
    ``empty``, without answers."""
    _answered(rows, empty)
    rows = rows.copy()
    low, high = mean_cis(rows["answers"], rows["total"], rows["total_sq"])
    rows["ces"] = rows["total"] / rows["answers"]
    rows["ci_low"] = _floats(low)
    rows["ci_high"] = _floats(high)
    rows["too_few"] = rows["answers"] < MIN_ANSWERS
    n, total = rows["answers"].sum(), rows["total"].sum()
    lo, hi = mean_ci(n, total, rows["total_sq"].sum())
    rows = rows.drop(columns=["total", "total_sq"])
    ci = None if lo is None else (lo, hi)
    return Outcome(float(total / n) if n else None, rows, ci=ci, notes=tuple(_too_few_notes(rows, "period")))


def mean_cis(n, total, total_sq) -> tuple[np.ndarray, np.ndarray]:
    """t intervals of means from arrays of n, sums and sums of squares, at once; NaN below two
    answers."""
    n = np.asarray(n, dtype=float)
    total, total_sq = np.asarray(total, dtype=float), np.asarray(total_sq, dtype=float)
    low, high = np.full(n.shape, np.nan), np.full(n.shape, np.nan)
    ok = (n >= 2) & ~np.isnan(total_sq)
    if ok.any():
        k = n[ok]
        mean = total[ok] / k
        var = np.maximum(0.0, (total_sq[ok] - k * mean * mean) / (k - 1))
        half = st.t.ppf(0.5 + LEVEL / 2, k - 1) * np.sqrt(var / k)
        low[ok], high[ok] = mean - half, mean + half
    return low, high


def mean_ci(n, total, total_sq) -> tuple[float | None, float | None]:
    """t interval of a mean from n, sum and sum of squares; (None, None) below two answers."""
    if total_sq is None or n is None or n < 2:
        return (None, None)
    low, high = mean_cis([n], [total], [total_sq])
    return (float(low[0]), float(high[0]))


# ------------------------------------------------------------------------------ themes and drivers


def _themes(t: Tables, p: Params, rows: pd.DataFrame):
    """The themes fitted on the feedback's comments, once per workspace and review period (shared
    by ``advocacy.themes`` and ``advocacy.drivers``: the comments' texts are fetched once)."""
    from afterclick.text.themes import fit_themes

    return t.fitted(_themes, p, feedback, lambda: fit_themes(_comments(t, p, rows)))


def _comments(t: Tables, p: Params, rows: pd.DataFrame) -> pd.Series:
    """The comments of ``rows`` (the feedback ordered by source and id, as the KPIs order it):
    their own column, or fetched in that order when the rows came without it (``advocacy.drivers``
    run before ``advocacy.themes``)."""
    if "comment" in rows:
        return rows["comment"]
    got = feedback(t, p).select("source", "text_id", "comment").execute()
    got = got.sort_values(["source", "text_id"], kind="stable").reset_index(drop=True)
    if not (got["source"].equals(rows["source"]) and got["text_id"].equals(rows["text_id"])):
        raise RuntimeError("the feedback changed between two reads of it: run the KPI again")
    return got["comment"]


def _left_out(rows: pd.DataFrame) -> list[str]:
    """The notes on the texts whose sentiment the scorer left out (another language), counted from
    the executed rows (as ``core.texts.left_out_facts`` counts them in a query)."""
    why = rows["not_scored"].dropna()
    counts = why.value_counts(sort=False)
    facts = {"texts": len(rows), "left_out": len(why),
             "reasons": "|".join(f"{reason}={n}" for reason, n in counts.items()) or None}
    return left_out_notes(facts)


def _too_few_comments(rows: pd.DataFrame, value) -> Outcome | None:
    if len(rows) < 10:
        return Outcome(value, pd.DataFrame(), notes=(f"only {len(rows)} comments: too few for themes",
                                                    *_left_out(rows)))
    return None


def themes(value, rows: pd.DataFrame, *, t: Tables, p: Params) -> Outcome:
    """The themes of the open feedback (``afterclick.text.themes``), largest first; the headline is
    how many there are."""
    from afterclick.text.themes import theme_table

    few = _too_few_comments(rows, 0)
    if few:
        return few
    th = _themes(t, p, rows)
    table = theme_table(rows, th)
    none = float((th.assignment == -1).mean())
    note = (f"{none:.0%} of the {len(rows):,} comments carry no theme (general remarks such as "
            "\"Would recommend.\").")
    return Outcome(len(table), table.sort_values(["volume", "theme"], ascending=[False, True]).reset_index(drop=True),
                   notes=(note, *_left_out(rows)))


def drivers(value, rows: pd.DataFrame, *, t: Tables, p: Params) -> Outcome:
    """Per theme, the NPS gap of the answers whose comment carries it (Rocks 2016 difference test);
    the headline is the gap of the theme pulling furthest towards detractors."""
    from afterclick.text.themes import key_drivers

    few = _too_few_comments(rows, None)
    if few:
        return few
    d = key_drivers(rows, _themes(t, p, rows), LEVEL)
    worst = d["difference"].dropna()
    return Outcome(float(worst.iloc[0]) if len(worst) else None, d,
                   notes=("Association, not cause: customers who mention a theme differ in other ways too.",
                          *_left_out(rows)))


def agreement(value, rows: pd.DataFrame) -> Outcome:
    """The months in which two signals changed significantly in opposite directions
    (``afterclick.stats.agreement``); skipped when fewer than two signals have data."""
    from afterclick.stats.agreement import disagreements

    present = {name: int(rows[col].sum()) if col in rows.columns else 0
               for name, col in (("NPS answers", "nps_answers"), ("CSAT answers", "csat_answers"),
                                 ("scored customer messages", "messages"))}
    have = [n for n, k in present.items() if k > 0]
    if len(have) < 2:
        lacking = " and ".join(f"no {n}" for n, k in present.items() if k == 0)
        raise Skip(f"needs two signals to compare, and this store has {lacking}")
    rows, notes = disagreements(rows)
    return Outcome(float(rows["disagree"].sum()) if len(rows) else 0.0, rows, notes=tuple(notes))
