"""KPI series from the store (backfilled), the history as reported, and `afterclick alerts`."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import afterclick
from afterclick.cli import app
from afterclick.monitor import FlagKind, judge
from afterclick.monitor.kpi_series import (
    DEFAULT_KPIS,
    SERIES_SOURCES,
    computed_series,
    kpi_history,
)
from afterclick.monitor.series import period_start

runner = CliRunner()

MONTHS = 24
SHIFT_AT = 20  # the first month at the new level (Sep 2025): four months at it by the end
# month-to-month noise, fixed (a repeating pattern would give the judge zero noise and no break)
WOBBLE = tuple(int(x) for x in np.random.default_rng(3).integers(-6, 7, MONTHS))


def _answers(k: int) -> tuple[int, int, int]:
    """Promoters, passives and detractors of month ``k``: NPS ≈ 45 before the shift, ≈ 10 after."""
    w = WOBBLE[k]
    if k < SHIFT_AT:
        return 120 + w, 50 - w, 30
    return 80 + w, 60 - w, 60


def planted_nps(k: int) -> float:
    p, m, d = _answers(k)
    return 100 * (p - d) / (p + m + d)


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    """A store with only NPS answers (200 a month from Jan 2024), ingested the real way, with two
    reported values of March 2025 in its history: one as computed, one that differs (restated)."""
    from afterclick.ingest import ingest
    from afterclick.store import Store

    folder = tmp_path_factory.mktemp("planted")
    rows = []
    for k in range(MONTHS):
        month = pd.Timestamp("2024-01-01", tz="UTC") + pd.DateOffset(months=k)
        p, m, d = _answers(k)
        scores = [10] * p + [8] * m + [3] * d
        step = ((month + pd.DateOffset(months=1)) - month - pd.Timedelta(hours=2)) / (len(scores) - 1)
        for i, s in enumerate(scores):  # spread over the whole month: the last month is complete
            rows.append({"response_id": f"R{k:02d}{i:04d}", "customer_id": f"C{(k * 7 + i) % 900:04d}",
                         "ts": month + pd.Timedelta(hours=1) + i * step, "survey": "nps", "score": float(s),
                         "comment": None, "touchpoint": "post_purchase"})
    (folder / "src").mkdir()
    pd.DataFrame(rows).to_parquet(folder / "src" / "responses.parquet", index=False)
    path = folder / "planted.duckdb"
    with Store(path) as store:
        summary = ingest(store, folder / "src")
    assert summary.adds_up and summary.quarantined == 0
    ws = afterclick.open(path, start=datetime(2025, 3, 1, tzinfo=UTC), end=datetime(2025, 4, 1, tzinfo=UTC))
    with ws:
        r = ws.kpi("advocacy.nps")
        assert r.ok
        ws.snapshot([r])
        ws.snapshot([dataclasses.replace(r, value=r.value + 5.0)])
    return path


def test_every_series_source_names_a_kpi_and_the_default_list_has_them():
    from afterclick.kpis.base import REGISTRY

    assert set(SERIES_SOURCES) <= {k.id for k in REGISTRY}
    assert set(DEFAULT_KPIS) <= set(SERIES_SOURCES)
    assert {s.how for s in SERIES_SOURCES.values()} == {"rows", "recompute"}


@pytest.mark.parametrize("kpi_id", ["advocacy.nps", "value.active_buyers", "retention.repeat_visit_rate"])
def test_demo_series_equals_the_kpi_recomputed_for_single_periods(demo_ws, kpi_id):
    # thirteen weeks keep the recomputed one quick; the months they cut (March) are left out
    with afterclick.open(demo_ws.store.location, read_only=True, start=datetime(2026, 3, 2, tzinfo=UTC),
                         end=datetime(2026, 6, 1, tzinfo=UTC)) as ws:
        series, how, _ = computed_series(ws, kpi_id)
        assert how == SERIES_SOURCES[kpi_id].how
        assert len(series) >= 2
        for i in (0, len(series) - 1):
            start = series.periods[i].tz_localize("UTC")
            end = period_start(series.periods[i], series.grain, 1).tz_localize("UTC")
            again = ws.kpi(kpi_id, start=start.to_pydatetime(), end=end.to_pydatetime())
            assert again.ok
            assert series.values[i] == pytest.approx(again.value, rel=1e-9), (kpi_id, start)


def test_planted_series_matches_the_plant_and_its_shift_is_found_and_named(planted):
    with afterclick.open(planted, read_only=True) as ws:
        series, how, notes = computed_series(ws, "advocacy.nps")
    assert how == "rows" and notes == ()
    assert len(series) == MONTHS
    np.testing.assert_allclose(series.values, [planted_nps(k) for k in range(MONTHS)], rtol=1e-9)
    j = judge(series)
    shifts = [f for f in j.flags if f.kind is FlagKind.LEVEL_SHIFT]
    assert len(shifts) == 1
    assert shifts[0].period == series.periods[SHIFT_AT]
    assert "level shift since Sep 2025" in shifts[0].sentence
    assert "Aug 2025 was the last at the old level" in shifts[0].sentence


def test_a_reported_value_that_differs_from_today_is_flagged_as_restated(planted):
    with afterclick.open(planted, read_only=True) as ws:
        h = kpi_history(ws, "advocacy.nps")
    march = pd.Timestamp("2025-03-01")
    runs = h.reported_runs
    assert len(runs) == 2
    assert (runs["period"] == march).all()
    assert list(runs.sort_values("computed_at")["restated"]) == [False, True]
    assert runs["today"].tolist() == pytest.approx([planted_nps(14)] * 2)
    assert h.restatements["difference"].tolist() == pytest.approx([5.0])
    row = h.frame.set_index("period").loc[march]
    assert row["reported"] == pytest.approx(planted_nps(14) + 5.0) and bool(row["restated"])
    others = h.frame[h.frame["period"] != march]
    assert others["reported"].isna().all() and not others["restated"].any()
    assert any("restated" in n for n in h.notes)


def test_alerts_json_and_exit_code_1_when_a_rule_fires(planted, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nkpi = "advocacy.nps"\nchecks = ["change_point"]\ndirection = "worse"\n'
                     'severity = "critical"\nname = "NPS falling"\n', encoding="utf-8")
    result = runner.invoke(app, ["alerts", "--store", str(planted), "--rules", str(rules),
                                 "--kpi", "advocacy.nps", "--format", "json"])
    assert result.exit_code == 1, result.output
    rec = json.loads(result.stdout)
    assert rec["fired"] is True
    [alert] = rec["alerts"]
    assert alert["rule"] == "NPS falling" and alert["severity"] == "critical" and alert["check"] == "change_point"
    assert "level shift since Sep 2025" in alert["sentence"]
    [series] = rec["series"]
    assert series["kpi"] == "advocacy.nps" and series["periods"] == MONTHS
    assert [r["reported"] - r["today"] for r in series["restated"]] == pytest.approx([5.0])


def test_alerts_exit_0_when_nothing_fires_and_text_says_so(planted, tmp_path):
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rule]]\nkpi = "advocacy.nps"\nchecks = ["above"]\nabove = 90\n', encoding="utf-8")
    result = runner.invoke(app, ["alerts", "--store", str(planted), "--rules", str(rules), "--kpi", "advocacy.nps"])
    assert result.exit_code == 0, result.output
    assert "no alert fired" in result.stdout
    assert "level shift since Sep 2025" in result.stdout  # the flag is shown even when no rule asks for it


def test_alerts_says_in_one_line_when_a_series_is_too_short(planted):
    result = runner.invoke(app, ["alerts", "--store", str(planted), "--kpi", "advocacy.nps",
                                 "--start", "2025-07-01", "--format", "text"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.stdout.splitlines() if "too short to judge" in ln]
    assert len(lines) == 1 and lines[0].startswith("advocacy.nps: ")


def test_alerts_default_kpis_on_the_demo_and_unknown_kpi(demo_ws):
    path = demo_ws.store.location
    result = runner.invoke(app, ["alerts", "--store", str(path), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    rec = json.loads(result.stdout)
    assert [s["kpi"] for s in rec["series"]] + [s.split(":")[0] for s in rec["skipped"]] == list(DEFAULT_KPIS)
    assert rec["fired"] == bool(rec["alerts"]) and result.exit_code == int(rec["fired"])
    bad = runner.invoke(app, ["alerts", "--store", str(path), "--kpi", "no.such_kpi"])
    assert bad.exit_code == 2 and "no series is defined for no.such_kpi" in bad.stderr
