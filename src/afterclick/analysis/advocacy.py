"""The statistics and text models behind the advocacy KPIs (``kpis/advocacy.py``), on the counts and
texts the engine executed: NPS intervals and the change test of Rocks (2016), CSAT's Wilson
interval, CES's t interval, the feedback themes and their key drivers, and the months in which the
signals disagree. Each function is a ``finish`` step named by a spec (``kpis.base.Analysis``)."""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats as st

from afterclick.kpis.advocacy import feedback
from afterclick.kpis.base import Outcome, Params, Skip, Tables
from afterclick.stats import MIN_ANSWERS, NPS, Proportion, nps_difference
from afterclick.stats.agreement import ALPHA

LEVEL = 0.95


def _label(row: pd.Series, key: str) -> str:
    v = row[key]
    if isinstance(v, pd.Timestamp):
        return v.strftime("%b %Y")
    return str(v)


def nps(value, rows: pd.DataFrame, *, key: str, compare_last: bool) -> Outcome:
    """NPS per row of promoter, passive and detractor counts, with the adjusted Wald interval on the
    trinomial variance (Rocks 2016); the headline from the summed counts; with ``compare_last``, a
    note testing the change between the last two rows."""
    rows = rows.copy()
    stats = [NPS(int(a), int(b), int(c)) for a, b, c in
             zip(rows["promoters"], rows["passives"], rows["detractors"], strict=True)]
    ivs = [s.interval(LEVEL) for s in stats]
    rows["nps"] = [None if s.score is None else s.score * 100 for s in stats]
    rows["ci_low"] = [None if iv.low is None else iv.low * 100 for iv in ivs]
    rows["ci_high"] = [None if iv.high is None else iv.high * 100 for iv in ivs]
    rows["too_few"] = [iv.too_few for iv in ivs]
    total = sum(stats, NPS())
    iv = total.interval(LEVEL)
    notes = list(_too_few_notes(rows, key))
    if compare_last and len(stats) >= 2:
        notes.append(_change_note(rows, key, stats[-2], stats[-1]))
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


def csat(value, rows: pd.DataFrame, *, key: str) -> Outcome:
    """CSAT per row of satisfied and answer counts, with its Wilson interval (Wilson 1927); the
    headline and its interval from the summed counts."""
    rows = rows.copy()
    props = [Proportion(int(s), int(n)) for s, n in zip(rows["satisfied"], rows["answers"], strict=True)]
    ivs = [x.wilson(LEVEL) for x in props]
    rows["csat"] = [x.share for x in props]
    rows["ci_low"] = [iv.low for iv in ivs]
    rows["ci_high"] = [iv.high for iv in ivs]
    rows["too_few"] = [iv.too_few for iv in ivs]
    total = sum(props, Proportion())
    iv = total.wilson(LEVEL)
    return Outcome(total.share, rows, ci=iv.bounds, notes=tuple(_too_few_notes(rows, key)))


def ces(value, rows: pd.DataFrame) -> Outcome:
    """CES per month from n, sum and sum of squares, with its t interval; the headline's interval
    from the summed columns."""
    rows = rows.copy()
    cis = [mean_ci(n, s, q) for n, s, q in zip(rows["answers"], rows["total"], rows["total_sq"], strict=True)]
    rows["ces"] = rows["total"] / rows["answers"]
    rows["ci_low"] = [c[0] for c in cis]
    rows["ci_high"] = [c[1] for c in cis]
    rows["too_few"] = rows["answers"] < MIN_ANSWERS
    lo, hi = mean_ci(rows["answers"].sum(), rows["total"].sum(), rows["total_sq"].sum())
    rows = rows.drop(columns=["total", "total_sq"])
    ci = None if lo is None else (lo, hi)
    return Outcome(value, rows, ci=ci, notes=tuple(_too_few_notes(rows, "period")))


def mean_ci(n, total, total_sq) -> tuple[float | None, float | None]:
    """t interval of a mean from n, sum and sum of squares; (None, None) below two answers."""
    if total_sq is None or n is None or n < 2:
        return (None, None)
    n = float(n)
    mean = total / n
    var = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    half = float(st.t.ppf(0.5 + LEVEL / 2, n - 1)) * math.sqrt(var / n)
    return (float(mean - half), float(mean + half))


# ------------------------------------------------------------------------------ themes and drivers


def _themes(t: Tables, p: Params, rows: pd.DataFrame):
    """The themes fitted on the feedback's comments, once per workspace and review period (shared
    by ``advocacy.themes`` and ``advocacy.drivers``)."""
    from afterclick.text.themes import fit_themes

    return t.fitted(_themes, p, feedback, lambda: fit_themes(rows["comment"]))


def _too_few_comments(rows: pd.DataFrame, value) -> Outcome | None:
    if len(rows) < 10:
        return Outcome(value, pd.DataFrame(), notes=(f"only {len(rows)} comments: too few for themes",))
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
                   notes=(note,))


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
                   notes=("Association, not cause: customers who mention a theme differ in other ways too.",))


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
