"""Labels that must not mislead on real shapes of data: each case once said something false
(issue: "Misleading labels on real shapes"), built here on small CSV stores through the real ingest."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

import afterclick
from afterclick import clv
from afterclick.analysis.value import model_label
from afterclick.kpis import REGISTRY
from afterclick.views.registry import PLOTS
from afterclick.plots._common import share_ticks
from afterclick.results import Direction, Family, KPIResult, Status, Unit
from afterclick.workspace import bulk_span
from csvstores import csv_store


def _visits(days: int, start: str = "2025-01-01", people: int = 6) -> list[dict]:
    """Each of ``people`` visits once a day, every other day: single-event sessions, no clicks."""
    t0 = pd.Timestamp(start)
    return [{"customer_id": f"p{c}", "ts": str(t0 + pd.Timedelta(days=d, hours=9 + c)), "event": "visit"}
            for d in range(0, days, 2) for c in range(people)]


@pytest.fixture(scope="module")
def visits_only(tmp_path_factory):
    """A year of visits and a few orders, and not one click or impression."""
    orders = [{"order_id": f"o{c}", "customer_id": f"p{c}", "ts": f"2025-0{1 + c}-10 12:00:00", "amount": 10.0}
              for c in range(6)]
    w = afterclick.open(csv_store(tmp_path_factory.mktemp("visits"), events=_visits(365), transactions=orders),
                        read_only=True)
    yield w
    w.close()


def test_no_clicks_at_all_is_not_a_lack_of_history(visits_only):
    # a year of data: every click would be 90 days old, there are simply none
    for kpi_id in ("journey.funnel", "journey.clicks_to_nowhere_rate"):
        r = visits_only.kpi(kpi_id)
        assert r.status is Status.SKIPPED
        assert r.reason == "no clicks in this store's events: there is no click to follow"
        assert "history" not in r.reason


def test_single_event_sessions_have_no_duration_to_read(visits_only):
    for kpi_id in ("trust.session_duration_median", "trust.session_duration_p75"):
        r = visits_only.kpi(kpi_id)
        assert r.ok and r.value is None, kpi_id  # not "0 s"
        n = len(_visits(365))
        assert r.notes == (f"Every one of the {n:,} sessions is a single event without a measured duration "
                           "(no duration_s): there is no time on site to measure, so no duration is given.",)
        assert r.rows["median_s"].isna().all() and r.rows["p75_s"].isna().all()


def test_sessions_with_two_events_still_get_their_median(tmp_path):
    events = [{"customer_id": "a", "ts": "2025-01-01 10:00:00", "event": "visit"},
              {"customer_id": "a", "ts": "2025-01-01 10:05:00", "event": "visit"},
              {"customer_id": "b", "ts": "2025-01-02 10:00:00", "event": "visit"}]
    with afterclick.open(csv_store(tmp_path, events=events), read_only=True) as ws:
        r = ws.kpi("trust.session_duration_median")
    assert r.value == 150.0 and r.notes == ()  # median of 300 s and 0 s


def test_csat_period_is_the_answers_not_the_events(tmp_path):
    responses = [{"response_id": f"r{i}", "customer_id": f"p{i % 6}", "ts": f"2025-{m:02d}-15 10:00:00",
                  "survey": "csat", "score": 4 + i % 2} for i, m in enumerate((1, 2, 3, 4))]
    # events stop at the end of February; the answers run two months longer
    path = csv_store(tmp_path, events=_visits(58), responses=responses)
    with afterclick.open(path, read_only=True) as ws:
        csat, visits = ws.kpi("advocacy.csat"), ws.kpi("trust.visits_per_visitor")
    assert csat.period.label == "whole period, 15 Jan 2025 to 15 Apr 2025"
    assert visits.period.label == "whole period, 1 Jan 2025 to 26 Feb 2025"


# -- one stray old row ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def stray(tmp_path_factory):
    events = _visits(300, start="2017-01-02")
    events.append({"customer_id": "old", "ts": "2011-03-04 10:00:00", "event": "visit"})
    return csv_store(tmp_path_factory.mktemp("stray"), events=events)


def test_a_stray_old_row_does_not_stretch_the_period(stray):
    with afterclick.open(stray, read_only=True) as ws:
        cohorts = ws.kpi("retention.cohort_weekly")
        visits = ws.kpi("trust.visits_per_visitor")
    assert cohorts.rows["cohort"].min() == pd.Timestamp("2017-01-02", tz="UTC")  # not a week of 2011
    assert visits.rows["month"].min() == pd.Timestamp("2017-01-01", tz="UTC")
    assert visits.period.label == "whole period, 2 Jan 2017 to 27 Oct 2017"
    note = ("1 event dated 4 Mar 2011 left out of the period (far before the rest of the data, which starts "
            "2 Jan 2017); give --start 2011-03-04 to include it.")
    assert visits.period.left_out == (note,) and cohorts.period.left_out == (note,)
    assert visits.period.to_record()["left_out"] == [note]


def test_an_explicit_start_wins(stray):
    with afterclick.open(stray, read_only=True, start=datetime(2011, 3, 4, tzinfo=UTC)) as ws:
        visits = ws.kpi("trust.visits_per_visitor")
    assert visits.rows["month"].min() == pd.Timestamp("2011-03-01", tz="UTC")
    assert visits.period.left_out == ()


def test_the_report_names_what_the_period_left_out(stray, tmp_path):
    from afterclick.report import write_report

    with afterclick.open(stray, read_only=True) as ws:
        results = ws.kpis(["trust.visits_per_visitor", "retention.cohort_weekly"])
    html = write_report(tmp_path / "r.html", results, title="t").read_text()
    assert html.count("1 event dated 4 Mar 2011 left out of the period") == 1


def test_bulk_span_cuts_only_small_far_heads_and_tails():
    days = np.array([0, 3000, 3001, 3002, 3100, 9000])
    counts = np.array([1, 300, 300, 300, 300, 2])
    assert bulk_span(days, counts) == (3000, 3100)
    # no gap: nothing cut
    assert bulk_span(np.arange(100), np.ones(100, dtype=int)) == (None, None)
    # a far head holding more than 1% of the rows is data, not a stray
    assert bulk_span(np.array([0, 1000]), np.array([5, 100])) == (None, None)


# -- signals, models, charts ---------------------------------------------------------------------
def test_a_survey_the_store_does_not_hold_is_skipped_not_blank(tmp_path):
    responses = [{"response_id": f"r{i}", "customer_id": f"c{i}", "ts": "2025-01-10 10:00:00",
                  "survey": "csat", "score": 5} for i in range(3)]
    with afterclick.open(csv_store(tmp_path, responses=responses), read_only=True) as ws:
        nps, ces, csat = ws.kpi("advocacy.nps"), ws.kpi("advocacy.ces"), ws.kpi("advocacy.csat")
    assert nps.status is Status.SKIPPED and nps.reason == "no NPS answers among this store's survey answers (survey = 'nps')"
    assert ces.status is Status.SKIPPED and ces.reason.startswith("no CES answers")
    assert csat.ok and csat.value == 1.0


def test_signal_agreement_with_one_signal_is_skipped(tmp_path):
    responses = [{"response_id": f"r{i}", "customer_id": f"c{i}", "ts": f"2025-0{1 + i % 3}-10 10:00:00",
                  "survey": "csat", "score": 1 + i % 5} for i in range(30)]
    with afterclick.open(csv_store(tmp_path, responses=responses), read_only=True) as ws:
        r = ws.kpi("advocacy.signal_agreement")
    assert r.status is Status.SKIPPED  # not "computed 0"
    assert r.reason == ("needs two signals to compare, and this store has no NPS answers and no scored "
                        "customer messages")


def _purchases(seed: int = 0, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(n):
        days = np.sort(rng.choice(np.arange(0, 350), size=int(rng.integers(1, 8)), replace=False))
        level = rng.gamma(2.0, 30.0)
        for d in days:
            rows.append({"order_id": f"o{len(rows)}", "customer_id": f"c{c}",
                         "ts": str(pd.Timestamp("2025-01-01") + pd.Timedelta(days=int(d), hours=10)),
                         "amount": round(level * rng.gamma(2.0, 0.5), 2)})
    rows.append({"order_id": "last", "customer_id": "c0", "ts": "2025-12-20 10:00:00", "amount": 40.0})
    return pd.DataFrame(rows)


def test_holdout_note_says_when_pareto_nbd_stands_in_for_bg_nbd(tmp_path):
    with afterclick.open(csv_store(tmp_path, transactions=_purchases()), read_only=True) as ws:
        r = ws.kpi("value.holdout_check")
    # these purchases are spread too evenly for BG/NBD's dropout: it runs to a boundary
    assert r.notes[0].startswith("Pareto/NBD (BG/NBD did not converge on these buyers, so the Pareto/NBD "
                                 "model stands in) fitted on the weeks before")
    for kpi_id in ("value.holdout_check", "value.predicted_clv"):
        assert "Pareto/NBD" in REGISTRY[kpi_id].definition and "BG/NBD" in REGISTRY[kpi_id].definition
    assert model_label(clv.BetaGeo()) == "BG/NBD"


def _result(kpi_id: str, rows: pd.DataFrame, unit: Unit) -> KPIResult:
    k = REGISTRY[kpi_id]
    return KPIResult(id=kpi_id, name=k.name, family=k.family, unit=unit, direction=Direction.HIGHER,
                     definition="", status=Status.COMPUTED, rows=rows)


def test_share_ticks_are_distinct_on_a_narrow_axis():
    labels = share_ticks([0.0, 0.021])["ticktext"]
    assert labels == ["0.0%", "0.5%", "1.0%", "1.5%", "2.0%", "2.5%"]
    for top in (0.0004, 0.003, 0.021, 0.07, 0.4, 1.0):
        t = share_ticks([0.0, top])
        assert len(set(t["ticktext"])) == len(t["ticktext"]) >= 3, top
        assert max(t["tickvals"]) >= top
    periods = pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"], utc=True)
    rows = pd.DataFrame({"period": periods, "answers": [400, 500, 600], "csat": [0.004, 0.012, 0.02],
                         "ci_low": [0.001, 0.006, 0.012], "ci_high": [0.01, 0.02, 0.03], "too_few": [False] * 3})
    ticks = list(PLOTS["advocacy.csat"](_result("advocacy.csat", rows, Unit.FRACTION)).layout.yaxis.ticktext)
    assert len(ticks) == len(set(ticks))  # never "0%, 1%, 1%, 2%, 2%"


def test_clv_legend_keeps_sub_unit_values():
    rows = pd.DataFrame({"customer_id": [f"c{i}" for i in range(6)],
                         "clv_12m": [0.12, 0.25, 0.31, 0.4, 0.52, 0.9]})
    fig = PLOTS["value.predicted_clv"](_result("value.predicted_clv", rows, Unit.CURRENCY))
    names = [t.name for t in fig.data if t.name and t.name.startswith(("mean", "median"))]
    assert names == ["mean 0.42", "median 0.35"]  # not "mean 0"


def test_ctr_without_impressions_says_why(visits_only):
    r = visits_only.kpi("reach.ctr")
    assert r.status is Status.SKIPPED
    assert r.reason.startswith("no impressions in this store's events")


def test_no_computed_kpi_shows_a_bare_dash(visits_only):
    for r in visits_only.kpis():
        assert r.status is not Status.FAILED, (r.id, r.reason)
        if r.ok and r.value is None:
            assert r.notes, r.id
        if not r.ok:
            assert r.reason, r.id
    assert Family.VALUE  # the registry's families are all represented above by their skips


def test_impressions_only_is_not_a_lack_of_history(tmp_path):
    events = [{"customer_id": f"p{i % 5}", "ts": f"2025-{1 + i % 12:02d}-0{1 + i % 9} 10:00:00",
               "event": "impression"} for i in range(60)]
    with afterclick.open(csv_store(tmp_path, events=events), read_only=True) as ws:
        for kpi_id in ("retention.cohort_weekly", "retention.cohort_monthly", "retention.churn_rate"):
            r = ws.kpi(kpi_id)
            assert r.status is Status.SKIPPED, kpi_id
            assert r.reason == ("no activity in this store's events (only impressions): there is no "
                                "customer to follow"), kpi_id
