"""The scale curve's top point replicates a store's people (benchmarks/bench_kpis_scale.py): each
copy's people, sessions and orders are renamed apart over the same dates and campaigns, so counts
of people grow by the number of copies while every rate stays the same."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import afterclick
from afterclick.ingest import ingest
from afterclick.store import Store

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_kpis_scale import growth, replicate  # noqa: E402


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scale")
    days = pd.date_range("2024-01-01", periods=120, freq="D", tz="UTC")
    rows = []
    for i in range(60):
        for d in days[i % 7::(i % 5) + 3]:
            rows.append((f"C{i}", d, "visit", f"S{i}-{d:%j}", "camp-a" if i % 2 else None))
        rows.append((f"C{i}", days[0], "impression", None, "camp-a"))
    ev = pd.DataFrame(rows, columns=["customer_id", "ts", "event", "session_id", "campaign_id"])
    tx = pd.DataFrame({"order_id": [f"O{i}" for i in range(20)], "customer_id": [f"C{i}" for i in range(20)],
                       "ts": days[10], "amount": 10.0 + pd.Series(range(20))})
    (folder / "src").mkdir()
    ev.to_parquet(folder / "src" / "events.parquet", index=False)
    tx.to_parquet(folder / "src" / "transactions.parquet", index=False)
    with Store(folder / "one.duckdb") as store:
        assert ingest(store, folder / "src").adds_up
    return folder / "one.duckdb", replicate(folder / "one.duckdb", 3)


def test_replicated_store_holds_three_copies_of_the_people(stores):
    one, three = stores
    q = ("SELECT count(*), count(DISTINCT customer_id), count(DISTINCT session_id), "
         "count(DISTINCT campaign_id), min(ts), max(ts) FROM events")
    with duckdb.connect(str(one), read_only=True) as a, duckdb.connect(str(three), read_only=True) as b:
        n, people, sessions, campaigns, start, end = a.execute(q).fetchone()
        assert b.execute(q).fetchone() == (3 * n, 3 * people, 3 * sessions, campaigns, start, end)
        orders = "SELECT count(*), count(DISTINCT order_id), sum(amount) FROM transactions"
        n, ids, total = a.execute(orders).fetchone()
        assert b.execute(orders).fetchone() == (3 * n, 3 * ids, 3 * total)


def test_counts_of_people_triple_and_rates_stay(stores):
    one, three = (afterclick.open(s, read_only=True) for s in stores)
    try:
        assert three.kpi("reach.reach").value == 3 * one.kpi("reach.reach").value
        assert three.kpi("reach.impressions").value == 3 * one.kpi("reach.impressions").value
        for kpi in ("retention.repeat_visit_rate", "trust.visits_per_visitor", "retention.churn_rate"):
            rate = one.kpi(kpi).value
            assert rate is not None and three.kpi(kpi).value == pytest.approx(rate, rel=1e-12), kpi
    finally:
        one.close()
        three.close()


def test_growth_judges_time_per_event():
    points = [{"point": "a", "events": 1_000, "engine_s": 1.0, "engine_us_per_event": 1000.0,
               "engine_peak_rss_gb": 0.5},
              {"point": "b", "events": 10_000, "engine_s": 9.0, "engine_us_per_event": 900.0,
               "engine_peak_rss_gb": 1.0}]
    g = growth(points)
    assert g["steps"] == [{"from": "a", "to": "b", "events_x": 10.0, "engine_time_x": 9.0, "time_per_event_x": 0.9}]
    assert g["goals"] == {"time grows no worse than linearly": True, "peak memory under 8 GB at the top point": True}
    points[1] |= {"engine_s": 12.0, "engine_us_per_event": 1200.0, "engine_peak_rss_gb": 9.0}
    assert growth(points)["goals"] == {"time grows no worse than linearly": False,
                                       "peak memory under 8 GB at the top point": False}
