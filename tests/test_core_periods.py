"""The one calendar (afterclick.core.periods) against pandas.Period, the reference nobody here
wrote, and its Ibis twins against its pandas twins on DuckDB."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from afterclick.core import periods
from afterclick.core.periods import Grain

# around the epoch (a Thursday), month ends, a leap day, a year end, a Sunday night and a Monday
# midnight: where a floor by hand goes wrong
TIMES = pd.to_datetime([
    "1969-12-29 00:00", "1970-01-01 12:00", "1970-01-04 23:59:59", "1970-01-05 00:00",
    "2024-02-29 13:00", "2025-12-31 23:59:59.999", "2026-01-01 00:00", "2026-01-04 23:00",
    "2026-01-05 00:00", "2026-03-31 08:30", "2026-11-30 23:00",
], utc=True, format="ISO8601")
PANDAS_FREQ = {Grain.DAY: "D", Grain.WEEK: "W-SUN", Grain.MONTH: "M", Grain.YEAR: "Y"}


def _period(ts: pd.Timestamp, grain: Grain) -> pd.Period:
    return pd.Period(ts.tz_localize(None), PANDAS_FREQ[grain])


@pytest.mark.parametrize("grain", list(Grain))
def test_pandas_twins_agree_with_pandas_period(grain):
    for ts in TIMES:
        ref = _period(ts, grain)
        s = periods.start(ts, grain)
        assert s == ref.start_time.tz_localize("UTC")
        # the end is exclusive: the start of the next period, one nanosecond after Period's end_time
        assert periods.end(ts, grain) == (ref + 1).start_time.tz_localize("UTC")
        assert periods.last_day(ts, grain) == ref.end_time.normalize().tz_localize("UTC")
        assert periods.shift(s, grain, 3) == (ref + 3).start_time.tz_localize("UTC")
        assert periods.shift(s, grain, -2) == (ref - 2).start_time.tz_localize("UTC")
        # consecutive: the index moves as the Period's ordinal does
        assert periods.index(ts, grain) - periods.index(TIMES[0], grain) == (ref - _period(TIMES[0], grain)).n


def test_index_values_and_labels():
    assert periods.index("1970-01-01", Grain.DAY) == 0
    assert periods.index("1970-01-04 23:00", Grain.WEEK) == -1 and periods.index("1970-01-05", Grain.WEEK) == 0
    assert periods.index("2026-03-31", Grain.MONTH) == 2026 * 12 + 2
    assert periods.label("2026-08-05", Grain.WEEK) == "the week of 3 Aug 2026"
    assert periods.label("2026-08-05", Grain.MONTH) == "Aug 2026"
    assert periods.label("2026-08-05 10:00", Grain.DAY) == "5 Aug 2026"


def test_last_complete_is_exclusive():
    # a Monday midnight ends the week before it; a Monday 10:00 does not complete its own week
    assert periods.last_complete("2026-01-05", Grain.WEEK) == (periods.utc("2025-12-29"), periods.utc("2026-01-05"))
    assert periods.last_complete("2026-01-05 10:00", Grain.WEEK) == (periods.utc("2025-12-29"),
                                                                     periods.utc("2026-01-05"))
    assert periods.last_complete("2026-11-01", Grain.MONTH) == (periods.utc("2026-10-01"), periods.utc("2026-11-01"))
    assert periods.last_complete("2026-10-31 23:59", Grain.MONTH) == (periods.utc("2026-09-01"),
                                                                      periods.utc("2026-10-01"))


@pytest.mark.parametrize("grain", list(Grain))
def test_ibis_twins_agree_with_pandas_twins_on_duckdb(grain):
    con = ibis.duckdb.connect()
    t = ibis.memtable(pd.DataFrame({"ts": TIMES}))
    got = con.execute(t.select(
        s=periods.start_expr(t.ts, grain), e=periods.end_expr(t.ts, grain), i=periods.index_expr(t.ts, grain),
    ))
    for ts, (s, e, i) in zip(TIMES, got.itertuples(index=False), strict=True):
        assert periods.utc(s) == periods.start(ts, grain)
        assert periods.utc(e) == periods.end(ts, grain)
        assert int(i) == periods.index(ts, grain)
