"""Trust, its behavioural side: how long people stay and how often they come back to look."""

from __future__ import annotations

import ibis

from afterclick.kpis._common import safe_ratio, sessions
from afterclick.kpis.base import Computation, Outcome, Params, Tables, block, kpi, measure
from afterclick.results import Direction, Family, MeasureKind, Unit


@block
def _per_month(t: Tables, p: Params):
    """Sessions, median and p75 duration per month: one table for both duration KPIs."""

    s = sessions(t, p)
    return s.group_by(month=s.start.truncate("M")).aggregate(
        sessions=s.count(),
        timed_sessions=s.timed.cast("int64").sum(),
        median_s=s.duration_s.median(),
        p75_s=s.duration_s.quantile(0.75),
    )


def _untimed(value, rows) -> Outcome:
    """No headline when no session has a length: a lone event without a measured duration is
    0 s by construction, and a median of such zeros would read as "people leave at once"."""
    timed = rows["timed_sessions"].fillna(0)
    rows = rows.copy()
    rows.loc[timed == 0, ["median_s", "p75_s"]] = None
    if len(rows) and timed.sum() == 0:
        return Outcome(None, rows, notes=(
            f"Every one of the {int(rows['sessions'].sum()):,} sessions is a single event without a measured "
            "duration (no duration_s): there is no time on site to measure, so no duration is given.",))
    return Outcome(value, rows)


@kpi("trust.session_duration_median", name="Session duration (median)", family=Family.TRUST,
     unit=Unit.SECONDS, direction=Direction.HIGHER)
def session_duration_median(t: Tables, p: Params) -> Computation:
    """Median session duration, in seconds; rows per month with the p75.

    Sessions come from ``session_id`` where the source has one, else from a 30-minute gap
    between a customer's active events. A session's duration is the sum of its events'
    ``duration_s`` where measured, else the time from its first to its last event (so one-event
    sessions without a measured duration count as 0 s). When every session is such a lone
    event there is no duration to read: no headline, and a note says so.
    """
    s = sessions(t, p)
    return Computation(value=s.duration_s.median(), rows=_per_month(t, p), order_by=("month",), finish=_untimed)


@kpi("trust.session_duration_p75", name="Session duration (75th percentile)", family=Family.TRUST,
     unit=Unit.SECONDS, direction=Direction.HIGHER)
def session_duration_p75(t: Tables, p: Params) -> Computation:
    """75th percentile of session duration, in seconds (sessions as for the median).

    The p75 shows whether a committed minority stays long even when the median is short. No
    headline when every session is a lone event without a measured duration (see the median).
    """
    s = sessions(t, p)
    return Computation(value=s.duration_s.quantile(0.75), rows=_per_month(t, p), order_by=("month",),
                       finish=_untimed)


@kpi("trust.visits_per_visitor", name="Visits per visitor", family=Family.TRUST, unit=Unit.RATIO,
     direction=Direction.HIGHER)
def visits_per_visitor(t: Tables, p: Params) -> Computation:
    """Visits per visitor = sessions with at least one ``visit`` event / distinct visitors.

    A "visit" in the web-analytics sense is a session; visitors are the customers with one.
    Rows per month.
    """
    s = sessions(t, p)
    v = s.filter(s.visits > 0)
    rows = v.group_by(month=v.start.truncate("M")).aggregate(
        visits=v.count(), visitors=v.customer_id.nunique()
    )
    rows = rows.mutate(visits_per_visitor=safe_ratio(rows.visits, rows.visitors))
    return Computation(
        value=safe_ratio(v.count(), v.customer_id.nunique()), rows=rows, order_by=("month",)
    )


@measure("trust.visits_per_visitor", MeasureKind.MEAN)
def _visits_of_visitors(t: Tables, p: Params):
    """Per visitor: x = their sessions with a ``visit`` event."""
    s = sessions(t, p)
    v = s.filter(s.visits > 0)
    return v.group_by("customer_id").aggregate(x=v.count())


@kpi("trust.pages_per_session", name="Pages per session", family=Family.TRUST, unit=Unit.RATIO,
     direction=Direction.HIGHER)
def pages_per_session(t: Tables, p: Params) -> Computation:
    """Pages per session = ``visit`` events / sessions that have at least one visit.

    Depth of a visit: people who trust a brand read on. Rows per month.
    """
    s = sessions(t, p)
    v = s.filter(s.visits > 0)
    rows = v.group_by(month=v.start.truncate("M")).aggregate(pages=v.visits.sum(), sessions=v.count())
    rows = rows.mutate(pages_per_session=safe_ratio(rows.pages, rows.sessions))
    return Computation(value=safe_ratio(v.visits.sum(), v.count()), rows=rows, order_by=("month",))


@measure("trust.pages_per_session", MeasureKind.RATIO)
def _pages_of_sessions(t: Tables, p: Params):
    """Per visitor: num = visit events of their sessions with a visit, den = those sessions."""
    s = sessions(t, p)
    v = s.filter(s.visits > 0)
    return v.group_by("customer_id").aggregate(num=v.visits.sum(), den=v.count())


@kpi("trust.advice_seeking_share", name="Customers asking us for advice", family=Family.TRUST,
     unit=Unit.FRACTION, direction=Direction.HIGHER, requires=("messages", "text_scores"))
def advice_seeking_share(t: Tables, p: Params) -> Computation:
    """Advice-seeking share = customers who asked for advice in at least one message / customers
    who wrote any message (advice-seeking probability >= 0.5, e.g. "should I repot it now?").

    People ask for advice where they trust the answer. Rows per month.
    """
    from afterclick.kpis.resonance import SIGNAL_THRESHOLD, scored_messages

    m = scored_messages(t, p)
    # the author when the message asks for advice, else NULL: distinct counts skip NULLs
    asker = ibis.ifelse(m.advice_seeking >= SIGNAL_THRESHOLD, m.author_id, ibis.null().cast("string"))
    rows = m.group_by(period=m.ts.truncate("M")).aggregate(writers=m.author_id.nunique(), askers=asker.nunique())
    rows = rows.mutate(share=safe_ratio(rows.askers, rows.writers))
    return Computation(value=safe_ratio(asker.nunique(), m.author_id.nunique()), rows=rows, order_by=("period",))
