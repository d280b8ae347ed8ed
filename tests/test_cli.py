"""The command line, run for real on the tiny brand (ingest -> kpis -> report)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.kpis import REGISTRY
from tinyworld import frames

runner = CliRunner()


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    src = folder / "src"
    src.mkdir()
    for name, df in frames().items():
        df.to_csv(src / f"{name}.csv", index=False)
    path = folder / "brand.duckdb"
    result = runner.invoke(app, ["ingest", str(src), "--store", str(path)])
    assert result.exit_code == 0, result.output
    assert "adds up" in result.output
    return path


def test_help_explains_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "ingest", "kpis", "report", "quarantine"):
        assert command in result.output
    demo = runner.invoke(app, ["demo", "--help"])
    assert "--size" in demo.output and "--seed" in demo.output and "--out" in demo.output


def test_kpis_json_lists_every_kpi_with_the_contract_fields(store):
    result = runner.invoke(app, ["kpis", "--store", str(store), "--format", "json"])
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    assert [r["id"] for r in records] == REGISTRY.ids()
    for r in records:
        assert {"id", "name", "status", "value", "rows", "reason", "definition"} <= set(r)
        assert r["status"] in ("computed", "skipped")
        assert isinstance(r["rows"], list)
    by_id = {r["id"]: r for r in records}
    assert by_id["reach.ctr"]["value"] == 0.6  # a fraction, not a percentage
    assert by_id["retention.repeat_visit_rate"]["value"] == 0.6
    assert abs(by_id["journey.clicks_to_nowhere_rate"]["value"] - 1 / 3) < 1e-12
    funnel = by_id["journey.funnel"]["rows"]
    assert [row["step"] for row in funnel][:2] == ["click", "engaged"]
    # timestamps come out as ISO 8601 strings
    assert by_id["retention.lifecycle"]["rows"][0]["period"].startswith("2025-01-06")


def test_kpis_csv_and_parquet_exports(store, tmp_path):
    for fmt in ("csv", "parquet"):
        out = tmp_path / fmt
        result = runner.invoke(app, ["kpis", "--store", str(store), "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        read = pd.read_csv if fmt == "csv" else pd.read_parquet
        summary = read(out / f"kpis.{fmt}")
        assert summary["id"].tolist() == REGISTRY.ids()
        cohort = read(out / f"retention.cohort_weekly.{fmt}")
        assert {"cohort", "period", "retention_on", "retention_on_or_after"} <= set(cohort.columns)


def test_kpis_one_family_and_history_snapshots(store):
    import afterclick

    result = runner.invoke(app, ["kpis", "--store", str(store), "--family", "reach"])
    assert result.exit_code == 0, result.output
    assert "Click-through rate" in result.output
    with afterclick.open(store, read_only=True) as ws:
        history = ws.store.snapshots("reach.ctr")
    assert len(history) >= 1 and history["value"].iloc[-1] == 0.6
    # the table names the period each headline covers
    result = runner.invoke(app, ["kpis", "--store", str(store), "--id", "retention.stickiness", "--no-snapshot"])
    assert result.exit_code == 0, result.output
    assert "period" in result.output and "March 2025" in result.output


def test_report_is_written(store, tmp_path):
    out = tmp_path / "review.html"
    result = runner.invoke(app, ["report", "--store", str(store), "--out", str(out), "--title", "Q1 <review>"])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "Q1 &lt;review&gt;" in html and "Q1 <review>" not in html
    assert "Clicks vs commitment" in html


def test_missing_store_is_one_clear_line(tmp_path):
    missing = tmp_path / "nope.duckdb"
    for command in (["kpis"], ["report"]):
        result = runner.invoke(app, [*command, "--store", str(missing)])
        assert result.exit_code == 1
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and "no store at" in lines[0] and "afterclick ingest" in lines[0]
    assert not missing.exists()  # looking did not create an empty store


def test_unknown_kpi_is_one_clear_line(store):
    result = runner.invoke(app, ["kpis", "--store", str(store), "--id", "retention.nope"])
    assert result.exit_code == 1
    assert "unknown KPI 'retention.nope'" in result.output


def test_list_shows_definitions():
    result = runner.invoke(app, ["kpis", "--list"])
    assert result.exit_code == 0
    assert "retention.repeat_visit_rate" in result.output


def test_ingest_output_escapes_markup_in_data_and_leaves_no_store_on_failure(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "events.csv").write_text("customer_id,ts,event\nc1,2025-01-01T00:00:00Z,[/oops]\n"
                                    "c2,not a time,[red]x\n", encoding="utf-8")
    store = tmp_path / "s.duckdb"
    result = runner.invoke(app, ["ingest", str(src), "--store", str(store)])
    assert result.exit_code == 0, result.output
    assert "[/oops]" in result.output
    q = runner.invoke(app, ["quarantine", "--store", str(store)])
    assert q.exit_code == 0 and q.exception is None  # "[red]x" is data, not markup

    missing = tmp_path / "new.duckdb"
    bad = runner.invoke(app, ["ingest", str(tmp_path / "nowhere"), "--store", str(missing)])
    assert bad.exit_code == 1 and not missing.exists()


def test_demo_never_overwrites_a_store_with_other_data(store, tmp_path):
    before = store.read_bytes()
    result = runner.invoke(app, ["demo", "--store", str(store), "--out", str(tmp_path / "d.html")])
    assert result.exit_code == 1
    assert "holds data that the demo did not make" in result.output
    assert store.read_bytes() == before


def test_kpis_refuses_an_unknown_family_and_an_empty_period(tmp_path):
    from typer.testing import CliRunner

    from afterclick.cli import app
    from tinyworld import build_store

    store = build_store(tmp_path)
    runner = CliRunner()
    res = runner.invoke(app, ["kpis", "--store", str(store), "--family", "valu"])
    assert res.exit_code != 0
    assert "unknown family 'valu'" in res.output and "value" in res.output
    res = runner.invoke(app, ["kpis", "--store", str(store), "--start", "2026-06-01", "--end", "2026-01-01"])
    assert res.exit_code != 0 and "is not before --end" in res.output


def test_report_shows_money_in_the_given_currency(tmp_path):
    from typer.testing import CliRunner

    from afterclick.cli import app
    from tinyworld import build_store

    store = build_store(tmp_path)
    out = tmp_path / "r.html"
    res = CliRunner().invoke(app, ["report", "--store", str(store), "--out", str(out), "--currency", "EUR"])
    assert res.exit_code == 0, res.output
    # average order value on the tiny brand: (50 + 30 + 20) / 3
    assert "EUR 33.33" in out.read_text(encoding="utf-8")


def test_kpis_table_says_each_view_sentence_and_follows_no_default(store):
    # the sentence comes from the KPI's view (afterclick.views.registry), as in the report
    result = runner.invoke(app, ["kpis", "--store", str(store), "--id", "campaigns.clicks_vs_commitment",
                                 "--no-snapshot"])
    assert result.exit_code == 0, result.output
    assert ("campaigns.clicks_vs_commitment: Flash won the highest click-through rate (33.3%) but kept 100% of "
            "its customers 90 days on; Guides, with a 100.0% CTR, kept 0%.") in result.output
