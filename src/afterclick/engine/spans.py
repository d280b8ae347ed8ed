"""The period a KPI reads and what the data leaves out of it, in plain words: the whole review
period or the last complete week or month (:func:`span_period`), stray rows far from the bulk of
the data (:func:`bulk_span`), and why a KPI cannot run (:func:`absent_reason`)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from afterclick.core.periods import utc as as_utc
from afterclick.engine.params import Params, Span
from afterclick.engine.registry import ABSENT
from afterclick.results import Period, SpanKind
from afterclick.schemas import DERIVED_TABLES


def span_period(span: Span, p: Params, first: pd.Timestamp | None, last: pd.Timestamp,
                until: pd.Timestamp | None = None) -> Period:
    """The ``Period`` of ``span`` for data whose events run from ``first`` to ``last`` (UTC).

    Whole period: the review period's bounds where given, else the days of the first and the last
    event (end exclusive: the day after the last). Last complete: the last week (Monday) or
    calendar month that ends by ``until``, the review's end (``_common.review_end``; without it,
    midnight after the last event's day), as ``_common.last_complete_period`` reads it.
    """
    if span.kind is SpanKind.LAST_COMPLETE:
        grain = span.grain or p.grain
        if until is None:
            until = last.normalize() + pd.Timedelta(days=1)
        day = until.normalize()
        if grain == "week":
            end = day - pd.Timedelta(days=day.weekday())
            start = end - pd.Timedelta(days=7)
            label = f"week of {start.day} {start:%b %Y}"
        else:
            end = day.replace(day=1)
            start = end - pd.DateOffset(months=1)
            label = f"{start:%B %Y}"
        return Period(span.kind, start.to_pydatetime(), end.to_pydatetime(), label, grain)
    start = as_utc(p.start) if p.start is not None else (None if first is None else first.normalize())
    end = as_utc(p.end) if p.end is not None else last.normalize() + pd.Timedelta(days=1)
    shown_end = end - pd.Timedelta(days=1) if end == end.normalize() else end
    since = "the start" if start is None else f"{start.day} {start:%b %Y}"
    label = f"whole period, {since} to {shown_end.day} {shown_end:%b %Y}"
    return Period(span.kind, None if start is None else start.to_pydatetime(), end.to_pydatetime(), label)


#: Rows cut off from the rest by more than this many days without any data…
STRAY_GAP_DAYS = 90
#: …and holding at most this share of all rows lie outside the default review period.
STRAY_SHARE = 0.01


def bulk_span(days, counts) -> tuple[int | None, int | None]:
    """The first and last day (days since 1970) of the span that holds the data's bulk.

    ``days`` are sorted day numbers with rows, ``counts`` their rows. A head (or tail) of rows
    separated from the rest by more than ``STRAY_GAP_DAYS`` empty days and holding at most
    ``STRAY_SHARE`` of all rows is stray: one tweet of 2011 among 2017 data, a row dated 1900 or
    2999. Returns ``(first, last)``, each None where nothing is cut on that side.
    """
    days, counts = np.asarray(days, dtype=np.int64), np.asarray(counts, dtype=np.int64)
    if len(days) < 2:
        return None, None
    total, cum = counts.sum(), counts.cumsum()
    gaps = np.flatnonzero(np.diff(days) > STRAY_GAP_DAYS + 1)
    first = last = None
    for i in gaps:  # the latest gap with a small enough head before it
        if cum[i] <= STRAY_SHARE * total:
            first = i + 1
    for i in gaps[::-1]:  # the earliest gap with a small enough tail after it
        if total - cum[i] <= STRAY_SHARE * total and (first is None or i >= first):
            last = i
    return (None if first is None else int(days[first]), None if last is None else int(days[last]))


_WORDS = {"events": ("event", "events"), "transactions": ("order", "orders"),
          "messages": ("message", "messages"), "responses": ("survey answer", "survey answers")}


def left_out_note(table: str, d: pd.DataFrame, side: str, bound: pd.Timestamp) -> list[str]:
    if d.empty:
        return []
    n = int(d["n"].sum())
    one, many = _WORDS.get(table, (f"{table} row", f"{table} rows"))
    a, b = utc_day(int(d["day"].min())), utc_day(int(d["day"].max()))
    when = f"dated {day_words(a)}" if a == b else f"dated {day_words(a)} to {day_words(b)}"
    it = "it" if n == 1 else "them"
    if side == "start":
        give = f"give --start {a:%Y-%m-%d} to include {it}"
    else:
        give = f"give --end {b + pd.Timedelta(days=1):%Y-%m-%d} to include {it}"
    where = "before" if side == "start" else "after"
    return [f"{n:,} {one if n == 1 else many} {when} left out of the period (far {where} the rest of "
            f"the data, which {'starts' if side == 'start' else 'ends'} {day_words(bound if side == 'start' else bound - pd.Timedelta(days=1))}); {give}."]


def no_value_note(clock: str | tuple[str, ...] | None, period: Period | None) -> str:
    if isinstance(clock, tuple):
        what = " and ".join(_WORDS.get(c, ("row", c))[1] for c in clock)
    else:
        what = _WORDS.get(clock or "", ("row", "data"))[1]
    if period is not None and period.kind is SpanKind.LAST_COMPLETE:
        return (f"No value: nothing to count in {period.label}, the last complete {period.grain} of the "
                f"{what}.")
    return f"No value: the period's {what} hold nothing this KPI measures."


def utc_day(n: int) -> pd.Timestamp:
    return pd.Timestamp("1970-01-01", tz="UTC") + pd.Timedelta(days=int(n))


def day_words(ts: pd.Timestamp) -> str:
    return f"{ts.day} {ts:%b %Y}"


#: The canonical tables a derived table is made from: without any of them it cannot exist.
DERIVED_FROM = {"text_scores": ("messages", "responses"), "clv": ("transactions",)}


def absent_reason(missing: list[str], present: Iterable[str] = (), any_of: tuple[str, ...] = ()) -> str:
    """Why a KPI cannot run, in plain words: "no survey answers in this store (needs table
    responses)"; ``any_of``: the tables of which one would do."""
    words, present = [], set(present)
    if any_of and all(m in missing for m in any_of):
        missing = [m for m in missing if m not in any_of]
        words.append(" and ".join(ABSENT[s].removesuffix(" in this store") for s in any_of)
                     + " in this store (needs table " + " or ".join(any_of) + ")")
    for m in missing:
        sources = DERIVED_FROM.get(m)
        if sources and not present & set(sources):
            words.append(" and ".join(ABSENT[s].removesuffix(" in this store") for s in sources)
                         + f" in this store: needs {m} ({DERIVED_TABLES[m]})")
        elif m in DERIVED_TABLES:
            words.append(f"needs {m} ({DERIVED_TABLES[m]})")
        else:
            words.append(ABSENT.get(m, f"no table {m} in this store") + f" (needs table {m})")
    return "; ".join(words)
