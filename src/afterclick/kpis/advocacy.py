"""Advocacy and satisfaction: would customers recommend us, are they satisfied, and why.

NPS (Reichheld 2003) with the trinomial interval and difference test of Rocks (2016), CSAT with
a Wilson interval, CES; breakdowns by month, touchpoint and segment; themes of the open answers
and the themes that pull answers towards detractors or promoters. Statistics run in ``finish``
steps on the counts the engine computed (``afterclick.analysis.advocacy``).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from afterclick.core.texts import DEFAULT_SCORER
from afterclick.kpis._common import in_period, period_start
from afterclick.kpis.base import Analysis, Computation, Params, Tables, kpi, measure
from afterclick.kpis.resonance import scored_messages
from afterclick.results import Direction, Family, MeasureKind, Unit

_STATS = "afterclick.analysis.advocacy"


def _survey(t: Tables, p: Params, survey: str) -> ir.Table:
    r = in_period(t["responses"], p)
    return r.filter((r.survey == survey) & r.score.notnull())


def _no_answers(survey: str) -> str:
    return f"no {survey.upper()} answers among this store's survey answers (survey = '{survey}')"


def _needs_answers(r: ir.Table, survey: str) -> dict:
    """Skip, saying so, when the store's survey answers hold none of this survey (a CSAT-only
    export has no NPS to compute)."""
    return {"needs": ((r.count(), _no_answers(survey)),)}


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
    return Computation(rows=rows, order_by=("period",), finish=_nps_finish("period", compare_last=True))


@measure("advocacy.nps", MeasureKind.RATIO)
def _nps_per_customer(t: Tables, p: Params) -> ir.Table:
    """Per customer who answered: num = 100 × (promoter answers − detractor answers), den = answers."""
    r = _survey(t, p, "nps")
    net = (r.score >= 9).cast("int64") - (r.score < 7).cast("int64")
    return r.group_by("customer_id").aggregate(num=net.sum() * 100, den=r.count())


def _nps_by(t: Tables, p: Params, column: str) -> Computation:
    r = _survey(t, p, "nps")
    r = _with_segment(t, r) if column == "segment" else r
    r = r.mutate(**{column: r[column].fill_null("(none)")})
    rows = _nps_counts(r, {column: r[column]})
    return Computation(rows=rows, order_by=("-answers", column), finish=_nps_finish(column, compare_last=False))


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


# The survey KPIs execute their rows alone (one query): the headline, its interval and the skip
# without answers come from the rows' summed counts in the finish step.


def _nps_finish(key: str, compare_last: bool) -> Analysis:
    return Analysis(f"{_STATS}:nps", (("key", key), ("compare_last", compare_last), ("empty", _no_answers("nps"))))


def _csat_finish(key: str) -> Analysis:
    return Analysis(f"{_STATS}:csat", (("key", key), ("empty", _no_answers("csat"))))


def _csat_counts(r: ir.Table, by: dict) -> ir.Table:
    return r.group_by(**by).aggregate(answers=r.count(), satisfied=(r.score >= 4).cast("int64").sum())


@kpi("advocacy.csat", name="Customer satisfaction (CSAT)", family=Family.ADVOCACY, unit=Unit.FRACTION,
     direction=Direction.HIGHER, requires=("responses",))
def csat(t: Tables, p: Params) -> Computation:
    """CSAT = share of ``csat`` answers of 4 or 5 on the 1-5 scale.

    95% Wilson score interval (Wilson 1927). Rows per month with their intervals; months with
    fewer than 30 answers are flagged as too few to read.
    """
    r = _survey(t, p, "csat")
    rows = _csat_counts(r, {"period": period_start(r.ts, "month")})
    return Computation(rows=rows, order_by=("period",), finish=_csat_finish("period"))


@measure("advocacy.csat", MeasureKind.RATIO)
def _csat_per_customer(t: Tables, p: Params) -> ir.Table:
    """Per customer who answered: num = answers of 4 or 5, den = answers."""
    r = _survey(t, p, "csat")
    return r.group_by("customer_id").aggregate(num=(r.score >= 4).cast("int64").sum(), den=r.count())


def _csat_by(t: Tables, p: Params, column: str) -> Computation:
    r = _survey(t, p, "csat")
    r = _with_segment(t, r) if column == "segment" else r
    r = r.mutate(**{column: r[column].fill_null("(none)")})
    return Computation(rows=_csat_counts(r, {column: r[column]}), order_by=("-answers", column),
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

    return Computation(rows=rows, order_by=("period",), finish=Analysis(f"{_STATS}:ces", (("empty", _no_answers("ces")),)))


@measure("advocacy.ces", MeasureKind.RATIO)
def _ces_per_customer(t: Tables, p: Params) -> ir.Table:
    """Per customer who answered: num = the sum of their answers, den = answers."""
    r = _survey(t, p, "ces")
    return r.group_by("customer_id").aggregate(num=r.score.sum(), den=r.count())


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


#: What the themes' finish reads of the feedback: the order key, the texts and what the table shows.
_THEMES_READ = ("source", "text_id", "ts", "survey", "score", "comment", "sentiment", "not_scored")
#: What the drivers' finish reads: the order key and the NPS answers (the comments' themes come
#: from the fit the themes KPI made, shared through ``Tables.fitted``).
_DRIVERS_READ = ("source", "text_id", "survey", "score", "not_scored")


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
    rows = feedback(t, p).select(*_THEMES_READ)
    # one query: the notes on texts left out (another language) are counted from these rows
    return Computation(value=None, rows=rows, order_by=("source", "text_id"),
                       finish=Analysis(f"{_STATS}:themes", (("t", t), ("p", p))))


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
    rows = feedback(t, p).select(*_DRIVERS_READ)
    return Computation(value=None, rows=rows, order_by=("source", "text_id"),
                       finish=Analysis(f"{_STATS}:drivers", (("t", t), ("p", p))),
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
        m = scored_messages(t, p)  # the customers' scored messages, shared with the resonance KPIs
        sent = m.group_by(period=period_start(m.ts, "month")).aggregate(
            messages=m.count(), sentiment_sum=m.sentiment.sum(), sentiment_sq=(m.sentiment * m.sentiment).sum())
        per = per.outer_join(sent, per.period == sent.period).select(
            period=ibis.coalesce(per.period, sent.period),
            **{c: per[c].fill_null(0) for c in ("nps_answers", "promoters", "passives", "detractors",
                                                 "csat_answers", "satisfied")},
            messages=sent.messages.fill_null(0), sentiment_sum=sent.sentiment_sum.fill_null(0.0),
            sentiment_sq=sent.sentiment_sq.fill_null(0.0))

    return Computation(value=None, rows=per, order_by=("period",), finish=Analysis(f"{_STATS}:agreement"))
