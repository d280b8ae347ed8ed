"""Advocacy and satisfaction: would customers recommend us, are they satisfied, and why.

NPS (Reichheld 2003) with the trinomial interval and difference test of Rocks (2016), CSAT with
a Wilson interval, CES; breakdowns by month, touchpoint and segment; themes of the open answers
and the themes that pull answers towards detractors or promoters. Statistics run in ``finish``
steps on the counts the engine computed (``afterclick.stats``).
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import pandas as pd
from scipy import stats as st

from afterclick.kpis._common import in_period, period_start, safe_ratio
from afterclick.kpis.base import Computation, Outcome, Params, Skip, Tables, kpi
from afterclick.results import Direction, Family, Unit
from afterclick.stats import MIN_ANSWERS, NPS, Proportion, nps_difference
from afterclick.text.scoring import DEFAULT_SCORER

LEVEL = 0.95


def _survey(t: Tables, p: Params, survey: str) -> ir.Table:
    r = in_period(t["responses"], p)
    return r.filter((r.survey == survey) & r.score.notnull())


def _needs_answers(r: ir.Table, survey: str) -> dict:
    """Skip, saying so, when the store's survey answers hold none of this survey (a CSAT-only
    export has no NPS to compute)."""
    return {"needs": ((r.count(), f"no {survey.upper()} answers among this store's survey answers "
                                   f"(survey = '{survey}')"),)}


def _with_segment(t: Tables, r: ir.Table) -> ir.Table:
    """Answers with the customer's segment ("(none)" without a customers table or row)."""
    if "customers" not in t:
        return r.mutate(segment=ibis.null().cast("string"))
    c = t["customers"]
    return r.left_join(c, r.customer_id == c.customer_id).select(r, segment=c.segment)


def _nps_counts(r: ir.Table, by: dict) -> ir.Table:
    return r.group_by(**by).aggregate(
        answers=r.count(),
        promoters=(r.score >= 9).cast("int64").sum(),
        passives=((r.score >= 7) & (r.score < 9)).cast("int64").sum(),
        detractors=(r.score < 7).cast("int64").sum(),
    )


def _nps_value(r: ir.Table) -> ir.FloatingValue:
    return safe_ratio((r.score >= 9).cast("int64").sum() - (r.score < 7).cast("int64").sum(), r.count()) * 100


def _label(row: pd.Series, key: str) -> str:
    v = row[key]
    if isinstance(v, pd.Timestamp):
        return v.strftime("%b %Y")
    return str(v)


def _nps_finish(key: str, compare_last: bool):
    def finish(value, rows: pd.DataFrame) -> Outcome:
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

    return finish


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
    verdict = "a real change (p < 0.05)" if t.p_value < 0.05 else "within the noise (not significant)"
    return (f"NPS {b} vs {a}: {t.difference * 100:+.1f} points "
            f"(95% CI {t.low * 100:+.1f} to {t.high * 100:+.1f}), {verdict}.")


@kpi("advocacy.nps", name="Net Promoter Score", family=Family.ADVOCACY, unit=Unit.SCORE,
     direction=Direction.HIGHER, requires=("responses",))
def nps(t: Tables, p: Params) -> Computation:
    """NPS = % promoters (9-10) - % detractors (0-6) of the ``nps`` answers, in points (-100..100).

    95% interval: adjusted Wald on the trinomial variance (p_pro + p_det - (p_pro - p_det)^2)/n
    (Rocks 2016, The American Statistician). Rows per month with their intervals; months with
    fewer than 30 answers are flagged, and the last two months are compared with Rocks' z test.
    """
    r = _survey(t, p, "nps")
    rows = _nps_counts(r, {"period": period_start(r.ts, "month")})
    return Computation(value=_nps_value(r), rows=rows, order_by=("period",), **_needs_answers(r, "nps"),
                       finish=_nps_finish("period", compare_last=True))


def _nps_by(t: Tables, p: Params, column: str) -> Computation:
    r = _survey(t, p, "nps")
    r = _with_segment(t, r) if column == "segment" else r
    r = r.mutate(**{column: r[column].fill_null("(none)")})
    rows = _nps_counts(r, {column: r[column]})
    return Computation(value=_nps_value(r), rows=rows, order_by=("-answers", column), **_needs_answers(r, "nps"),
                       finish=_nps_finish(column, compare_last=False))


@kpi("advocacy.nps_by_touchpoint", name="NPS by touchpoint", family=Family.ADVOCACY, unit=Unit.SCORE,
     direction=Direction.HIGHER, requires=("responses",), headline=False)
def nps_by_touchpoint(t: Tables, p: Params) -> Computation:
    """NPS per survey touchpoint (e.g. post_purchase, onboarding), each with its 95% interval.

    As ``advocacy.nps``: adjusted Wald on the trinomial variance (Rocks 2016); touchpoints with
    fewer than 30 answers are flagged as too few to read.
    """
    return _nps_by(t, p, "touchpoint")


@kpi("advocacy.nps_by_segment", name="NPS by segment", family=Family.ADVOCACY, unit=Unit.SCORE,
     direction=Direction.HIGHER, requires=("responses",), uses=("customers",), headline=False)
def nps_by_segment(t: Tables, p: Params) -> Computation:
    """NPS per customer segment (``customers.segment``), each with its 95% interval.

    As ``advocacy.nps``; segments with fewer than 30 answers are flagged as too few to read.
    """
    return _nps_by(t, p, "segment")


def _csat_counts(r: ir.Table, by: dict) -> ir.Table:
    return r.group_by(**by).aggregate(answers=r.count(), satisfied=(r.score >= 4).cast("int64").sum())


def _csat_finish(key: str):
    def finish(value, rows: pd.DataFrame) -> Outcome:
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

    return finish


@kpi("advocacy.csat", name="Customer satisfaction (CSAT)", family=Family.ADVOCACY, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("responses",))
def csat(t: Tables, p: Params) -> Computation:
    """CSAT = share of ``csat`` answers of 4 or 5 on the 1-5 scale.

    95% Wilson score interval (Wilson 1927). Rows per month with their intervals; months with
    fewer than 30 answers are flagged as too few to read.
    """
    r = _survey(t, p, "csat")
    rows = _csat_counts(r, {"period": period_start(r.ts, "month")})
    value = safe_ratio((r.score >= 4).cast("int64").sum(), r.count())
    return Computation(value=value, rows=rows, order_by=("period",), finish=_csat_finish("period"),
                       **_needs_answers(r, "csat"))


def _csat_by(t: Tables, p: Params, column: str) -> Computation:
    r = _survey(t, p, "csat")
    r = _with_segment(t, r) if column == "segment" else r
    r = r.mutate(**{column: r[column].fill_null("(none)")})
    value = safe_ratio((r.score >= 4).cast("int64").sum(), r.count())
    return Computation(value=value, rows=_csat_counts(r, {column: r[column]}), order_by=("-answers", column),
                       **_needs_answers(r, "csat"),
                       finish=_csat_finish(column))


@kpi("advocacy.csat_by_touchpoint", name="CSAT by touchpoint", family=Family.ADVOCACY, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("responses",), headline=False)
def csat_by_touchpoint(t: Tables, p: Params) -> Computation:
    """CSAT (share of 4-5 on 1-5) per touchpoint, each with its 95% Wilson interval."""
    return _csat_by(t, p, "touchpoint")


@kpi("advocacy.csat_by_segment", name="CSAT by segment", family=Family.ADVOCACY, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("responses",), uses=("customers",), headline=False)
def csat_by_segment(t: Tables, p: Params) -> Computation:
    """CSAT (share of 4-5 on 1-5) per customer segment, each with its 95% Wilson interval."""
    return _csat_by(t, p, "segment")


@kpi("advocacy.ces", name="Customer effort score (CES)", family=Family.ADVOCACY, unit=Unit.SCORE,
     direction=Direction.HIGHER, requires=("responses",))
def ces(t: Tables, p: Params) -> Computation:
    """CES = mean ``ces`` answer on its 1-7 scale, as answered (here 7 = very easy, so higher is
    better; a survey asking "how much effort" reverses it).

    95% t interval of the mean, mean ± t(n-1) s / sqrt(n); rows per month with theirs, months
    with fewer than 30 answers flagged as too few to read.
    """
    r = _survey(t, p, "ces")
    rows = r.group_by(period=period_start(r.ts, "month")).aggregate(
        answers=r.count(), total=r.score.sum(), total_sq=(r.score * r.score).sum())

    def finish(value, rows: pd.DataFrame) -> Outcome:
        rows = rows.copy()
        cis = [_mean_ci(n, s, q) for n, s, q in zip(rows["answers"], rows["total"], rows["total_sq"], strict=True)]
        rows["ces"] = rows["total"] / rows["answers"]
        rows["ci_low"] = [c[0] for c in cis]
        rows["ci_high"] = [c[1] for c in cis]
        rows["too_few"] = rows["answers"] < MIN_ANSWERS
        lo, hi = _mean_ci(rows["answers"].sum(), rows["total"].sum(), rows["total_sq"].sum())
        rows = rows.drop(columns=["total", "total_sq"])
        ci = None if lo is None else (lo, hi)
        return Outcome(value, rows, ci=ci, notes=tuple(_too_few_notes(rows, "period")))

    return Computation(value=r.score.mean(), rows=rows, order_by=("period",), finish=finish,
                       **_needs_answers(r, "ces"))


def _mean_ci(n, total, total_sq) -> tuple[float | None, float | None]:
    """t interval of a mean from n, sum and sum of squares; (None, None) below two answers."""
    if total_sq is None or n is None or n < 2:
        return (None, None)
    n = float(n)
    mean = total / n
    var = max(0.0, (total_sq - n * mean * mean) / (n - 1))
    half = float(st.t.ppf(0.5 + LEVEL / 2, n - 1)) * math.sqrt(var / n)
    return (float(mean - half), float(mean + half))


# ------------------------------------------------------------------------------ themes and drivers

#: Customer messages that are open feedback, themed beside the survey comments.
FEEDBACK_KINDS = ("review", "support")


def _scores(t: Tables, source: str) -> ir.Table:
    s = t["text_scores"]
    s = s.filter((s.source == source) & (s.scorer == DEFAULT_SCORER))
    return s.select(sid=s.text_id, sentiment=s.sentiment, not_scored=s.not_scored)


def feedback(t: Tables, p: Params) -> ir.Table:
    """Open feedback in the period: survey comments (with survey, score, touchpoint) and
    customers' review and support messages (survey NULL), with their stored sentiment. Either
    source alone will do."""
    if "responses" not in t:
        return _feedback_messages(t, p)
    r = in_period(t["responses"], p)
    r = r.filter(r.comment.notnull() & (r.comment.strip() != ""))
    s = _scores(t, "responses")
    r = r.left_join(s, r.response_id == s.sid).select(
        source=ibis.literal("responses"), text_id=r.response_id, ts=r.ts, survey=r.survey, score=r.score,
        touchpoint=r.touchpoint, comment=r.comment, sentiment=s.sentiment, not_scored=s.not_scored)
    if "messages" not in t:
        return r
    return r.union(_feedback_messages(t, p))


def _feedback_messages(t: Tables, p: Params) -> ir.Table:
    m = in_period(t["messages"], p)
    m = m.filter(m.kind.isin(FEEDBACK_KINDS) & ~m.is_brand.fill_null(False) & m.text.notnull()
                 & (m.text.strip() != ""))
    sm = _scores(t, "messages")
    m = m.left_join(sm, m.message_id == sm.sid).select(
        source=ibis.literal("messages"), text_id=m.message_id, ts=m.ts, survey=ibis.null().cast("string"),
        score=ibis.null().cast("float64"), touchpoint=m.kind, comment=m.text, sentiment=sm.sentiment,
        not_scored=sm.not_scored)
    return m


def _language_notes(rows: ir.Table) -> dict:
    """Notes on the comments whose sentiment the scorer left out (another language)."""
    from afterclick.text.store import left_out_facts, left_out_notes

    return dict(facts=left_out_facts(rows), explain=left_out_notes)


def _themes(t: Tables, p: Params, rows: pd.DataFrame):
    from afterclick.text.themes import fit_themes

    return t.fitted(_themes, p, feedback, lambda: fit_themes(rows["comment"]))


@kpi("advocacy.themes", name="Themes in open feedback", family=Family.ADVOCACY, unit=Unit.COUNT,
     direction=Direction.NEUTRAL, requires=("text_scores",), uses=("responses", "messages"))
def themes(t: Tables, p: Params) -> Computation:
    """Themes of the open feedback: survey comments plus customers' reviews and support messages.

    TF-IDF of words and a generic aspect lexicon (delivery, website, service, product,
    packaging, price), factorised with NMF (``afterclick.text.themes``). Per theme: label, volume,
    share, mean sentiment (VADER), share of detractors and promoters among its NPS answers, trend
    (share in the last three months minus before) and example quotes. The value is the number
    of themes found.
    """
    rows = feedback(t, p)

    def finish(value, rows: pd.DataFrame) -> Outcome:
        from afterclick.text.themes import theme_table

        if len(rows) < 10:
            return Outcome(0, pd.DataFrame(), notes=(f"only {len(rows)} comments: too few for themes",))
        th = _themes(t, p, rows)
        table = theme_table(rows, th)
        none = float((th.assignment == -1).mean())
        note = (f"{none:.0%} of the {len(rows):,} comments carry no theme (general remarks such as "
                "\"Would recommend.\").")
        return Outcome(len(table), table.sort_values(["volume", "theme"], ascending=[False, True]).reset_index(drop=True),
                       notes=(note,))

    return Computation(value=None, rows=rows, order_by=("source", "text_id"), finish=finish, **_language_notes(rows))


@kpi("advocacy.drivers", name="Key drivers of NPS", family=Family.ADVOCACY, unit=Unit.SCORE,
     direction=Direction.NEUTRAL, requires=("responses", "text_scores"), uses=("messages",), headline=False,
     value_label="NPS gap (points) of the theme pulling most towards detractors")
def drivers(t: Tables, p: Params) -> Computation:
    """Which themes move customers towards detractors or promoters.

    Per theme (as ``advocacy.themes``): NPS of the NPS answers whose comment carries the theme
    minus NPS of the other commented answers, in points, with its 95% interval and p-value (the
    difference test of Rocks 2016). An association in what people wrote, not a cause. The value is
    the gap of the theme that pulls furthest towards detractors.
    """
    rows = feedback(t, p)

    def finish(value, rows: pd.DataFrame) -> Outcome:
        from afterclick.text.themes import key_drivers

        if len(rows) < 10:
            return Outcome(None, pd.DataFrame(), notes=(f"only {len(rows)} comments: too few for themes",))
        d = key_drivers(rows, _themes(t, p, rows), LEVEL)
        worst = d["difference"].dropna()
        return Outcome(float(worst.iloc[0]) if len(worst) else None, d,
                       notes=("Association, not cause: customers who mention a theme differ in other ways too.",))

    return Computation(value=None, rows=rows, order_by=("source", "text_id"), finish=finish, **_language_notes(rows),
                       **_needs_answers(_survey(t, p, "nps"), "nps"))


@kpi("advocacy.signal_agreement", name="Do the signals agree?", family=Family.ADVOCACY, unit=Unit.COUNT,
     direction=Direction.LOWER, requires=("responses",), uses=("messages", "text_scores"), headline=False)
def signal_agreement(t: Tables, p: Params) -> Computation:
    """Months in which NPS and CSAT (or message sentiment) moved apart, each change significant.

    Per month: NPS (Rocks 2016 z test of the change from the month before), CSAT (two-proportion
    z test), mean sentiment of customer messages (large-sample z test of the two means, from
    their sums and sums of squares). A month is flagged when two signals changed significantly (p < 0.05) in opposite
    directions, e.g. CSAT up while NPS falls: then one of them measures something else, or a
    group of customers is drifting away. The value is the number of flagged months; skipped
    when fewer than two of the three signals have data.
    """
    r = in_period(t["responses"], p)
    r = r.filter(r.score.notnull())
    per = r.group_by(period=period_start(r.ts, "month")).aggregate(
        nps_answers=(r.survey == "nps").cast("int64").sum(),
        promoters=((r.survey == "nps") & (r.score >= 9)).cast("int64").sum(),
        passives=((r.survey == "nps") & (r.score >= 7) & (r.score < 9)).cast("int64").sum(),
        detractors=((r.survey == "nps") & (r.score < 7)).cast("int64").sum(),
        csat_answers=(r.survey == "csat").cast("int64").sum(),
        satisfied=((r.survey == "csat") & (r.score >= 4)).cast("int64").sum(),
    )
    if "messages" in t and "text_scores" in t:
        m = in_period(t["messages"], p)
        m = m.filter(~m.is_brand.fill_null(False))
        s = _scores(t, "messages")
        m = m.join(s, m.message_id == s.sid)
        m = m.filter(m.not_scored.isnull())  # another language: no sentiment
        sent = m.group_by(period=period_start(m.ts, "month")).aggregate(
            messages=m.count(), sentiment_sum=m.sentiment.sum(), sentiment_sq=(m.sentiment * m.sentiment).sum())
        per = per.outer_join(sent, per.period == sent.period).select(
            period=ibis.coalesce(per.period, sent.period),
            **{c: per[c].fill_null(0) for c in ("nps_answers", "promoters", "passives", "detractors",
                                                 "csat_answers", "satisfied")},
            messages=sent.messages.fill_null(0), sentiment_sum=sent.sentiment_sum.fill_null(0.0),
            sentiment_sq=sent.sentiment_sq.fill_null(0.0))

    def finish(value, rows: pd.DataFrame) -> Outcome:
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

    return Computation(value=None, rows=per, order_by=("period",), finish=finish)
