"""`afterclick demo --brand b2b` builds the B2B brand, computes its KPIs and writes the report."""

from __future__ import annotations

from typer.testing import CliRunner

import afterclick
from afterclick.cli import app
from afterclick.results import Status

runner = CliRunner()


def test_demo_b2b_builds_the_b2b_brand(tmp_path):
    store, out = tmp_path / "b2b.duckdb", tmp_path / "b2b.html"
    result = runner.invoke(app, ["demo", "--brand", "b2b", "--store", str(store), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "adds up" in " ".join(result.output.split())
    html = out.read_text(encoding="utf-8")
    assert "B2B demo brand" in html
    assert 'id="section-b2b"' in html and "converts slowly but more" in html  # the B2B section, in words
    with afterclick.open(store, read_only=True) as ws:
        counts = ws.store.counts()
        assert counts["lead_status"] > 0 and counts["deals"] > 0 and counts["subscriptions"] > 0
        b2b = [r for r in ws.kpis(family="b2b")]
    assert b2b and all(r.status is Status.COMPUTED for r in b2b), [(r.id, r.reason) for r in b2b if not r.ok]
    # the demo rebuilds only its own store
    again = runner.invoke(app, ["demo", "--brand", "b2b", "--store", str(store), "--out", str(out)])
    assert again.exit_code == 0, again.output
