"""The one calendar: which period a time falls in, where a period starts and ends, its number
and its label, for pandas (executed rows) and Ibis (expressions) alike.

Rules, the same everywhere:
- all times are UTC;
- a day starts at midnight, a week on Monday (ISO 8601), a month on its 1st, a year on 1 January;
- a period's end is exclusive: the week of Monday 5 Jan 2026 is [5 Jan, 12 Jan);
- a period's *index* is a consecutive integer (days since 1970-01-01; for weeks, the Monday's
  days since 1970-01-01 floor-divided by 7, so the week of Monday 5 Jan 1970 is 0; for months
  ``year * 12 + month - 1``; the year), so ``index + 1`` is always the next period.

The pandas twins agree with ``pandas.Period`` (weeks as ``W-SUN``, months as ``M``), which the
tests use as the reference; the Ibis twins agree with the pandas twins on DuckDB.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

from afterclick.core.grain import Grain

__all__ = ["SECONDS_PER_DAY", "SECONDS_PER_WEEK", "Grain", "end", "end_expr", "index", "index_expr",
           "label", "last_complete", "last_day", "shift", "start", "start_expr", "utc"]

SECONDS_PER_DAY = 86_400
SECONDS_PER_WEEK = 7 * SECONDS_PER_DAY

_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")


_TRUNCATE = {Grain.DAY: "D", Grain.WEEK: "W", Grain.MONTH: "M", Grain.YEAR: "Y"}


def utc(ts: datetime | pd.Timestamp | str) -> pd.Timestamp:
    """``ts`` as a UTC timestamp (a naive time is read as UTC)."""
    t = pd.Timestamp(ts)
    return t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")


# ---------------------------------------------------------------------------------------- pandas


def start(ts: datetime | pd.Timestamp | str, grain: Grain | str) -> pd.Timestamp:
    """The start of the period that holds ``ts``."""
    grain, day = Grain(grain), utc(ts).normalize()
    if grain is Grain.DAY:
        return day
    if grain is Grain.WEEK:
        return day - pd.Timedelta(days=day.weekday())
    if grain is Grain.MONTH:
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def shift(period_start: datetime | pd.Timestamp, grain: Grain | str, k: int) -> pd.Timestamp:
    """The start of the period ``k`` periods after (``k`` < 0: before) the one starting at ``period_start``."""
    grain, t = Grain(grain), utc(period_start)
    if grain is Grain.DAY:
        return t + pd.Timedelta(days=k)
    if grain is Grain.WEEK:
        return t + pd.Timedelta(days=7 * k)
    if grain is Grain.MONTH:
        return t + pd.DateOffset(months=k)
    return t + pd.DateOffset(years=k)


def end(ts: datetime | pd.Timestamp | str, grain: Grain | str) -> pd.Timestamp:
    """The exclusive end of the period that holds ``ts``: the start of the next one."""
    return shift(start(ts, grain), grain, 1)


def last_day(ts: datetime | pd.Timestamp | str, grain: Grain | str) -> pd.Timestamp:
    """The first moment of the last day of the period that holds ``ts`` (for labels: "to 31 Jan")."""
    return end(ts, grain) - pd.Timedelta(days=1)


def index(ts: datetime | pd.Timestamp | str, grain: Grain | str) -> int:
    """The period's consecutive number (see the module's rules)."""
    grain, s = Grain(grain), start(ts, grain)
    if grain is Grain.DAY:
        return (s - _EPOCH).days
    if grain is Grain.WEEK:
        return (s - _EPOCH).days // 7
    if grain is Grain.MONTH:
        return s.year * 12 + s.month - 1
    return s.year


def last_complete(until: datetime | pd.Timestamp | str, grain: Grain | str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, exclusive end) of the last period that ends by ``until`` (a period that ``until``
    falls inside is not complete; one that ends exactly at ``until`` is)."""
    stop = start(until, grain)
    return shift(stop, grain, -1), stop


def label(ts: datetime | pd.Timestamp | str, grain: Grain | str) -> str:
    """``3 Aug 2026`` (day), ``the week of 3 Aug 2026``, ``Aug 2026`` (month), ``2026`` (year)."""
    grain, s = Grain(grain), start(ts, grain)
    day = f"{s.day} {s:%b %Y}"
    return {Grain.DAY: day, Grain.WEEK: f"the week of {day}", Grain.MONTH: f"{s:%b %Y}",
            Grain.YEAR: f"{s.year}"}[grain]


# ------------------------------------------------------------------------------------------ Ibis


def start_expr(ts: ir.TimestampValue, grain: Grain | str) -> ir.TimestampValue:
    """The start of the period that holds each ``ts`` (the Ibis twin of :func:`start`)."""
    return ts.truncate(_TRUNCATE[Grain(grain)])


def index_expr(ts: ir.TimestampValue, grain: Grain | str) -> ir.IntegerValue:
    """The period's consecutive number (the Ibis twin of :func:`index`)."""
    grain = Grain(grain)
    if grain is Grain.DAY:
        return (ts.truncate("D").epoch_seconds() // SECONDS_PER_DAY).cast("int64")
    if grain is Grain.WEEK:
        # a Monday's seconds since the epoch (a Thursday) floor-divided by a week's: consecutive
        return (ts.truncate("W").epoch_seconds() // SECONDS_PER_WEEK).cast("int64")
    # the parts cast, not the sum: Spark computes ``year() * 12`` as a 32-bit INT
    if grain is Grain.MONTH:
        return ts.year().cast("int64") * 12 + ts.month().cast("int64") - 1
    return ts.year().cast("int64")


def end_expr(ts: ir.TimestampValue, grain: Grain | str) -> ir.TimestampValue:
    """The exclusive end of the period that holds each ``ts`` (the Ibis twin of :func:`end`)."""
    grain = Grain(grain)
    step = {Grain.DAY: ibis.interval(days=1), Grain.WEEK: ibis.interval(weeks=1),
            Grain.MONTH: ibis.interval(months=1), Grain.YEAR: ibis.interval(years=1)}[grain]
    return start_expr(ts, grain) + step
