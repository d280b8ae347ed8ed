"""The demo brand's planted experiments (docs/demo.md, truth 10) recovered by the command a
marketer runs: ``afterclick experiment --format json`` on the small demo (seed 11)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.demo.experiments import EXPERIMENTS


@pytest.fixture(scope="module")
def rows(demo_ws) -> dict[str, dict[str, dict]]:
    res = CliRunner().invoke(app, ["experiment", "--store", str(demo_ws.store.location),
                                   "--format", "json"])
    assert res.exit_code == 0, res.output
    out: dict[str, dict[str, dict]] = {}
    for r in json.loads(res.stdout):
        assert r["variant"] == "B" and r["control"] == "A"
        out.setdefault(r["experiment_id"], {})[r["metric"]] = r
    return out


def _won(r: dict) -> bool:
    return r["absolute"] > 0 and r["p_adjusted"] < 0.05


def _lost(r: dict) -> bool:
    return r["absolute"] < 0 and r["p_adjusted"] < 0.05


def test_every_planted_experiment_is_there(rows):
    assert set(rows) == {e[0] for e in EXPERIMENTS}


def test_subject_line_wins_clicks_and_loses_30_day_return(rows):
    s = rows["welcome-subject"]
    assert _won(s["ctr"]) and _won(s["clicks"]) and _lost(s["return_30d"])
    line = s["ctr"]["verdict"]
    assert line.startswith("B won CTR") and "but lost" in line and "30-day return" in line


def test_onboarding_lifts_90_day_return_and_clv(rows):
    o = rows["onboarding-series"]
    assert _won(o["return_90d"]) and _won(o["clv"])
    assert "winsorised at the pooled 99th percentile" in o["clv"]["method"]
    assert "pre-period imbalance" not in o["clv"]["verdict"]  # paired on the pre-period


def test_aa_test_has_nothing_significant_after_holm(rows):
    aa = [r for r in rows["homepage-aa"].values() if r["p_adjusted"] is not None]
    assert len(aa) >= 12 and all(r["p_adjusted"] >= 0.05 for r in aa)
    assert all(r["correction"].startswith("Holm over") for r in aa)
    assert all(r["srm_p"] >= 0.001 for r in aa)


def test_broken_split_is_flagged(rows):
    b = rows["banner-split"]["return_30d"]
    assert b["srm_p"] < 0.001
    assert b["verdict"].startswith("Do not trust this result: the split is 52")
    assert all(r["srm_p"] >= 0.001 for e, m in rows.items() if e != "banner-split" for r in m.values())
