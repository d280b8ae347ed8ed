"""The KPI benchmark's script runs end to end on the small demo and records what it claims.

Functional only (no timing thresholds): the JSON has the machine, every foundation KPI with its
engine and scan times, every repeated run, and the pandas implementation agrees with the engine
on each KPI it computes: an independent check of those eight KPIs on the demo brand. With
``--scope all`` every registered KPI runs, the derived tables timed apart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_kpis import FOUNDATION_KPIS  # noqa: E402


def test_bench_kpis_small(tmp_path):
    out = tmp_path / "kpis-small.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_kpis.py"), "--size", "small", "--repeat", "2", "--text-ids",
         "--work", str(tmp_path / "work"), "--out", str(out)],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["size"] == "small" and result["events"] > 100_000
    assert {"platform", "python", "cpus", "duckdb", "ibis", "pandas"} <= set(result["machine"])

    per = result["per_kpi"]
    assert list(per) == list(FOUNDATION_KPIS)
    assert all(r["engine_s"] > 0 and r["scan_s"] > 0 for r in per.values())

    s = result["summary"]
    assert s["runs"] == 2 and len(s["engine_runs_s"]) == 2 and len(s["scan_runs_s"]) == 2
    assert s["engine_total_s"] in s["engine_runs_s"] and s["scan_total_s"] in s["scan_runs_s"]
    # the ratio of the unrounded totals
    assert abs(s["engine_vs_scan"] / (s["engine_total_s"] / s["scan_total_s"]) - 1) < 0.05
    assert len(s["pandas_kpis"]) == 8
    assert s["pandas_agrees_with_engine"] == {k: True for k in s["pandas_kpis"]}
    assert set(s["goals"]) == {"engine within 2x of scan", "no KPI above 5x its own scan",
                               "engine faster than pandas", "engine peak memory under 2 GB"}
    assert s["worst_kpi"]["engine_vs_scan"] == max(r["engine_vs_scan"] for r in per.values())
    assert {"before", "after"} == set(s["load_average_1min"])
    # the same KPIs on the customer ids' text, timed in turns: the same values
    text = s["text_ids"]
    assert text["values_agree"] and text["kpis_compared"] == len(per) and len(text["text_runs_s"]) == 2
    # the KPIs above 5x by more than a few queries' worth of fixed cost are a subset of those above 5x
    assert s["query_floor_s"] > 0
    assert set(s["kpis_above_5x_scan_by_more_than_3_query_floors"]) <= set(s["kpis_above_5x_scan"])

    # every KPI: the derived tables (text scores, CLV) are prepared before the timing, each on its
    # own line, and a KPI the store has no data for is listed with the reason instead of timed
    out_all = tmp_path / "kpis-small-all.json"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_kpis.py"), "--size", "small", "--repeat", "1",
         "--scope", "all", "--work", str(tmp_path / "work"), "--out", str(out_all)],
        capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out_all.read_text())
    s, per = result["summary"], result["per_kpi"]
    assert set(s["derived_tables_s"]) == {"text_scores", "clv"}
    assert {"advocacy.themes", "resonance.message_sentiment", "value.predicted_clv"} <= set(per)
    assert all(r["engine_s"] > 0 for r in per.values())
    assert "b2b.win_rate" in s["not_compared"] and "deals" in s["not_compared"]["b2b.win_rate"]
    assert s["kpis_compared"] == len(per) and len(per) + len(s["not_compared"]) > len(FOUNDATION_KPIS) * 3
