"""Strict mode: a KPI that raises stops the run with its own exception (tests, ``--strict``);
otherwise it becomes a failed result whose reason is the exception's first line."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import afterclick
from afterclick import workspace as ws_module
from afterclick.kpis import base
from afterclick.kpis.base import KPI, Skip
from afterclick.results import Direction, Family, Status, Unit


class Broken(Exception):
    pass


def _broken(t, p):
    """A KPI that raises while building its expressions (a programming error, not absent data)."""
    raise Broken("division by nothing\nsecond line")


def _skipping(t, p):
    """A KPI whose data is absent."""
    raise Skip("no such behaviour in this store")


def _kpi(compute) -> KPI:
    return KPI(id="resonance.test_only", name="Test only", family=Family.RESONANCE, unit=Unit.COUNT,
               direction=Direction.HIGHER, requires=("events",), compute=compute)


@pytest.fixture
def store_path(tmp_path):
    path = tmp_path / "s.duckdb"
    with afterclick.open(path, strict=False) as w:
        w.store.raw.execute("INSERT INTO events (customer_id, ts, event) VALUES "
                            "('a', TIMESTAMP '2026-01-01 10:00', 'visit')")
    return path


def test_the_suite_runs_strict_by_default(store_path):
    with afterclick.open(store_path, read_only=True) as ws:
        assert ws.strict
        with pytest.raises(Broken, match="division by nothing"):
            ws._run(_kpi(_broken), ws.params)


def test_not_strict_turns_the_exception_into_a_failed_result(store_path):
    with afterclick.open(store_path, read_only=True, strict=False) as ws:
        r = ws._run(_kpi(_broken), ws.params)
    assert r.status is Status.FAILED and r.reason == "Broken: division by nothing"


def test_strict_still_skips_a_kpi_whose_data_is_absent(store_path):
    with afterclick.open(store_path, read_only=True, strict=True) as ws:
        r = ws._run(_kpi(_skipping), ws.params)
    assert r.status is Status.SKIPPED and r.reason == "no such behaviour in this store"


def test_the_environment_sets_the_default(store_path, monkeypatch):
    monkeypatch.setenv(ws_module.STRICT_ENV, "0")
    with afterclick.open(store_path, read_only=True) as ws:
        assert not ws.strict
    with afterclick.open(store_path, read_only=True, strict=True) as ws:
        assert ws.strict


def test_cli_strict_raises_where_the_default_reports_failed(store_path, monkeypatch):
    from afterclick.cli import app

    k = _kpi(_broken)
    monkeypatch.setitem(base.REGISTRY._kpis, k.id, k)
    monkeypatch.setenv(ws_module.STRICT_ENV, "0")
    args = ["kpis", "--store", str(store_path), "--id", k.id, "--no-snapshot", "--format", "json"]
    lenient = CliRunner().invoke(app, args)
    assert lenient.exit_code == 0 and "Broken: division by nothing" in lenient.output
    strict = CliRunner().invoke(app, ["--strict", *args])
    assert isinstance(strict.exception, Broken)
