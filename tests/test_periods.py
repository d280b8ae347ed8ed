"""Every KPI says which period its headline number covers: declared per KPI (``span``), filled
in by the workspace from the data, shown beside the number and exported.

The tiny brand (tinyworld.py) runs from Monday 2025-01-06 (W0) to Monday 2025-04-28 10:00 (W16,
in April): its last complete week is W15 (21-27 April), its last complete month March.
"""

from __future__ import annotations

import inspect
import json
import re
from datetime import UTC, datetime

import pandas as pd
import pytest
from typer.testing import CliRunner

import afterclick
from afterclick.cli import app
from afterclick.kpis import REGISTRY
from afterclick.kpis.base import SPANS, kpi
from afterclick.report import render_report
from afterclick.results import Period, SpanKind
from tinyworld import build_store


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("periods"))


@pytest.fixture(scope="module")
def ws(tiny):
    w = afterclick.open(tiny, read_only=True)
    yield w
    w.close()


def test_last_complete_kpis_name_the_week_or_month_they_read(ws):
    week = ws.kpi("retention.lifecycle").period
    assert week == Period(SpanKind.LAST_COMPLETE, utc(2025, 4, 21), utc(2025, 4, 28), "week of 21 Apr 2025",
                          "week")
    month = ws.kpi("ladder.commitment_ladder").period
    assert month == Period(SpanKind.LAST_COMPLETE, utc(2025, 3, 1), utc(2025, 4, 1), "March 2025", "month")
    assert ws.kpi("retention.stickiness").period.label == "March 2025"
    # monthly periods for a KPI that follows the grain parameter
    assert ws.kpi("retention.lifecycle", grain="month").period.label == "March 2025"


def test_whole_period_kpis_span_the_data_or_the_review_bounds(ws):
    whole = ws.kpi("reach.impressions").period
    # first event 6 Jan, last 28 Apr: the end is exclusive, so the day after the last event
    assert whole == Period(SpanKind.WHOLE, utc(2025, 1, 6), utc(2025, 4, 29),
                           "whole period, 6 Jan 2025 to 28 Apr 2025")
    bounded = ws.kpi("reach.impressions", start=datetime(2025, 1, 10), end=datetime(2025, 3, 1)).period
    assert (bounded.start, bounded.end) == (utc(2025, 1, 10), utc(2025, 3, 1))
    assert bounded.label == "whole period, 10 Jan 2025 to 28 Feb 2025"
    # a review period starting mid-day starts there, not at midnight
    assert ws.kpi("reach.impressions", start=datetime(2025, 1, 10, 12)).period.start == utc(2025, 1, 10, 12)
    # the last complete week within a review period ending Saturday 1 March, of data that runs
    # on to April: the week of 17 Feb (the next one ends on 3 March); nobody came, went or came
    # back that week, so its quick ratio is undefined
    life = ws.kpi("retention.lifecycle", end=datetime(2025, 3, 1))
    assert life.period.label == "week of 17 Feb 2025"
    assert life.value is None


@pytest.mark.parametrize("k", list(REGISTRY), ids=lambda k: k.id)
def test_the_declared_span_matches_what_the_headline_reads(k):
    source = inspect.getsource(k.compute)
    reads_last = bool(re.search(r"last_complete_period\(|_headline\(", source))
    assert (k.span.kind is SpanKind.LAST_COMPLETE) == reads_last, k.id
    if reads_last:
        monthly = bool(re.search(r"last_complete_period\([^)]*\"month\"\)", source))
        assert k.span.grain == ("month" if monthly else None), k.id
        assert "last complete" in " ".join(k.definition.split()), k.id


def test_an_unknown_span_is_refused():
    with pytest.raises(ValueError, match="unknown span 'last_week'.*last_complete_month"):
        kpi("reach.x", name="x", family=REGISTRY["reach.ctr"].family, unit=REGISTRY["reach.ctr"].unit,
            direction=REGISTRY["reach.ctr"].direction, span="last_week")
    assert set(SPANS) == {"whole_period", "last_complete", "last_complete_month"}


def test_json_export_carries_the_period_beside_the_existing_keys(tiny):
    result = CliRunner().invoke(app, ["kpis", "--store", str(tiny), "--format", "json", "--no-snapshot",
                                      "--id", "retention.lifecycle", "--id", "reach.ctr"])
    assert result.exit_code == 0, result.output
    records = {r["id"]: r for r in json.loads(result.stdout)}
    assert {"value", "ci", "definition", "notes", "value_label", "rows"} <= set(records["reach.ctr"])
    assert records["retention.lifecycle"]["period"] == {
        "kind": "last_complete", "grain": "week", "start": "2025-04-21T00:00:00+00:00",
        "end": "2025-04-28T00:00:00+00:00", "label": "week of 21 Apr 2025", "left_out": []}
    assert records["reach.ctr"]["period"]["kind"] == "whole_period"


def test_the_report_shows_the_period_beside_each_headline_number(ws):
    results = ws.kpis(["retention.lifecycle", "reach.ctr"])
    html = render_report(results, title="t")
    chip = re.search(r'<div class="chip[^"]*"[^>]*>.*?</div>', html[html.index('id="kpi-retention-lifecycle"'):],
                     re.S).group(0)
    assert '<span class="chip-period">Week of 21 Apr 2025</span>' in chip
    score = html[html.index('id="score-kpi-reach-ctr"'):]
    score = score[:score.index("</li>")]
    assert '<span class="period">Whole period, 6 Jan 2025 to 28 Apr 2025</span>' in score


def test_demo_periods_follow_its_last_event(demo_ws):
    # the demo's data ends on 31 October 23:59: October is its last complete month
    last = pd.Timestamp(demo_ws.table("events")["ts"].max())
    last = last.tz_localize("UTC") if last.tzinfo is None else last
    ladder = demo_ws.kpi("ladder.commitment_ladder")
    # the data covers whole days: a month is complete once the last event's day ends it
    month_start = (last.normalize() + pd.Timedelta(days=1)).replace(day=1)
    assert ladder.period.end == month_start.to_pydatetime()
    assert ladder.period.label == (month_start - pd.DateOffset(months=1)).strftime("%B %Y")
    # the headline reads exactly the rows of that month
    rows = ladder.rows[ladder.rows["period"] == ladder.period.start]
    up = rows[rows["stage"].isin(["trusting", "loyal", "advocate"])]["customers"].sum()
    assert abs(up / rows["customers"].sum() - ladder.value) < 1e-9
    life = demo_ws.kpi("retention.lifecycle")
    row = life.rows[life.rows["period"] == life.period.start].iloc[0]
    assert abs(row["quick_ratio"] - life.value) < 1e-9


def test_a_period_ending_with_the_data_or_the_review_is_complete(tmp_path):
    """Data up to the last minute of a month completes that month; a review end on a period's
    first instant completes the period before it; data stopping mid-month leaves it open."""
    from afterclick.ingest import ingest
    from afterclick.kpis.base import Params
    from afterclick.store import Store

    ev = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "a"],
        "ts": pd.to_datetime(["2025-04-03 10:00", "2025-05-07 10:00", "2025-05-20 11:00",
                              "2025-05-20 10:00", "2025-06-11 09:00", "2025-06-30 23:59"], utc=True),
        "event": ["visit"] * 6,
    })
    (tmp_path / "src").mkdir()
    ev.to_parquet(tmp_path / "src" / "events.parquet", index=False)
    with Store(tmp_path / "s.duckdb") as st:
        assert ingest(st, tmp_path / "src").adds_up
    w = afterclick.open(tmp_path / "s.duckdb", read_only=True)
    try:
        r = w.kpi("retention.stickiness")
        assert r.period.label == "June 2025"  # the data runs to 30 June 23:59
        assert r.value == 0.5  # June: 2 customer-days over 2 days, 2 customers
        june = r.rows[r.rows["month"] == pd.Timestamp("2025-06-01", tz="UTC")].iloc[0]
        assert r.value == june["stickiness"]
        w.params = Params(end=datetime(2025, 6, 1, tzinfo=UTC))
        w.refresh()
        r = w.kpi("retention.stickiness")
        assert r.period.label == "May 2025"  # the review ends on 1 June: May is complete
        assert r.value == 0.75  # May: 3 customer-days over 2 days, 2 customers
        may = r.rows[r.rows["month"] == pd.Timestamp("2025-05-01", tz="UTC")].iloc[0]
        assert r.value == may["stickiness"]
        w.params = Params(end=datetime(2025, 6, 20, tzinfo=UTC))
        w.refresh()
        assert w.kpi("retention.stickiness").period.label == "May 2025"  # June is cut short
    finally:
        w.close()


def test_headlines_too_young_to_read_say_why(tmp_path):
    """A brand with two weeks of data: the KPIs that need 90 days (or a month-3 cohort) have no
    headline, and say so in plain words instead of leaving a bare null."""
    from afterclick.ingest import ingest
    from afterclick.store import Store

    ev = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b", "a"],
        "ts": pd.to_datetime(["2025-03-03 10:00", "2025-03-03 10:05", "2025-03-04 09:00",
                              "2025-03-10 09:00", "2025-03-12 18:00"], utc=True),
        "event": ["impression", "click", "visit", "visit", "visit"],
        "campaign_id": ["c1", "c1", None, None, None],
    })
    (tmp_path / "src").mkdir()
    ev.to_parquet(tmp_path / "src" / "events.parquet", index=False)
    pd.DataFrame({"order_id": ["o1"], "customer_id": ["a"], "amount": [12.0],
                  "ts": pd.to_datetime(["2025-03-03 10:20"], utc=True)}).to_parquet(
        tmp_path / "src" / "transactions.parquet", index=False)
    with Store(tmp_path / "s.duckdb") as st:
        assert ingest(st, tmp_path / "src").adds_up
    ids = {"retention.cohort_monthly": "No cohort is 3 complete months old yet",
           "retention.churn_rate": "Nobody was first active 90 days or more before the latest event",
           "campaigns.clicks_vs_commitment": "No customer acquired by a campaign was first active 90 days",
           "journey.funnel": "No click is 90 days old yet"}
    with afterclick.open(tmp_path / "s.duckdb", read_only=True) as w:
        for kpi_id, why in ids.items():
            r = w.kpi(kpi_id)
            assert r.ok and r.value is None, kpi_id
            assert any(n.startswith(why) for n in r.notes), (kpi_id, r.notes)
        seen = w.kpi("retention.repeat_visit_rate")  # enough data for this one: no such note
        assert seen.value is not None and seen.notes == ()
