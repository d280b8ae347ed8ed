"""The workspace's extension points, on a real DuckDB store: derived tables filled by a preparer
before the first KPI that needs them (and only once), finish steps returning an interval and
notes, and Python-side results shared between KPIs through ``Tables.memo``."""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

import afterclick
from afterclick import workspace as ws_module
from afterclick.kpis.base import KPI, Computation, Outcome
from afterclick.results import Direction, Family, Status, Unit
from afterclick.schemas import DERIVED_TABLES


@pytest.fixture
def ws(tmp_path):
    w = afterclick.open(tmp_path / "s.duckdb")
    w.store.raw.execute(
        "INSERT INTO events (customer_id, ts, event) VALUES "
        "('a', TIMESTAMP '2026-01-01 10:00', 'visit'), ('b', TIMESTAMP '2026-01-02 10:00', 'visit')"
    )
    yield w
    w.close()


def _kpi(compute, requires=("events",)) -> KPI:
    return KPI(id="resonance.test_only", name="Test only", family=Family.RESONANCE, unit=Unit.COUNT,
               direction=Direction.HIGHER, requires=requires, compute=compute)


def test_preparer_fills_a_derived_table_once_before_the_kpi(ws, monkeypatch):
    name = next(iter(DERIVED_TABLES))
    calls = []

    def prepare(w):
        calls.append(1)
        w.store.raw.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT \'a\' AS customer_id, 0.5 AS score')

    monkeypatch.setitem(ws_module.PREPARERS, name, prepare)
    k = _kpi(lambda t, p: Computation(value=t[name].score.sum()), requires=("events", name))
    first = ws._run(k, ws.params)
    again = ws._run(k, ws.params)
    assert first.status is Status.COMPUTED and first.value == 0.5
    assert again.value == 0.5
    assert calls == [1]


def test_missing_derived_table_is_skipped_with_how_it_is_made(ws, monkeypatch):
    name = next(iter(DERIVED_TABLES))
    monkeypatch.delitem(ws_module.PREPARERS, name, raising=False)
    r = ws._run(_kpi(lambda t, p: Computation(value=t[name].score.sum()), requires=("events", name)), ws.params)
    assert r.status is Status.SKIPPED
    assert r.reason.endswith(f"needs {name} ({DERIVED_TABLES[name]})")


def test_a_failing_preparer_fails_only_its_kpi(ws, monkeypatch):
    name = next(iter(DERIVED_TABLES))

    def broken(w):
        raise RuntimeError("model file unreadable\nsecond line")

    monkeypatch.setitem(ws_module.PREPARERS, name, broken)
    ws.strict = False  # the failed-card path (tests are strict by default)
    r = ws._run(_kpi(lambda t, p: Computation(value=t["events"].count()), requires=("events", name)), ws.params)
    assert r.status is Status.FAILED and r.reason == "RuntimeError: model file unreadable"
    ok = ws._run(_kpi(lambda t, p: Computation(value=t["events"].count())), ws.params)
    assert ok.value == 2


def test_finish_may_return_an_interval_and_notes(ws):
    def compute(t, p):
        def finish(value, rows):
            return Outcome(value=value / 4, rows=rows, ci=(0.1, 0.9), notes=("only 2 customers: too few to read",))
        return Computation(value=t["events"].count(), rows=t["events"].select("customer_id"), finish=finish)

    r = ws._run(_kpi(compute), ws.params)
    assert r.value == 0.5 and r.ci == (0.1, 0.9)
    assert r.notes == ("only 2 customers: too few to read",)
    assert r.to_record()["notes"] == ["only 2 customers: too few to read"]


def test_memo_builds_once_per_workspace(ws):
    built = []

    def compute(t, p):
        def finish(value, rows):
            model = t.memo(("fit", "demo"), lambda: built.append(1) or {"k": 3.0})
            return value * model["k"], rows
        return Computation(value=t["events"].count(), finish=finish)

    assert ws._run(_kpi(compute), ws.params).value == 6
    assert ws._run(_kpi(compute), ws.params).value == 6
    assert built == [1]
    ws.refresh()
    ws._run(_kpi(compute), ws.params)
    assert built == [1, 1]


def test_a_preparer_may_hand_back_an_in_memory_table(ws, monkeypatch):
    name = next(iter(DERIVED_TABLES))
    monkeypatch.setitem(ws_module.PREPARERS, name,
                        lambda w: ibis.memtable(pd.DataFrame({"customer_id": ["a", "b"], "score": [0.25, 0.5]})))
    r = ws._run(_kpi(lambda t, p: Computation(value=t[name].score.sum()), requires=("events", name)), ws.params)
    assert r.status is Status.COMPUTED and r.value == 0.75
    assert name not in ws.store.con.list_tables()  # nothing written to the store


def test_relationship_attribution_credits_predicted_lifetime_value(demo_ws):
    """The value models' per-buyer predictions reach relationship attribution through ``clv``."""
    r = demo_ws.kpi("attribution.relationship")
    assert r.ok, r.reason
    assert "clv" in demo_ws.tables
    preds = demo_ws.tables["clv"].execute()
    assert len(preds) > 100 and (preds["predicted_clv"] >= 0).all()
    shapley = r.rows[r.rows["model"] == "shapley"]
    # every model shares out the predicted value of the retained customers, and only theirs
    assert 0 < shapley["value"].sum() <= preds["predicted_clv"].sum() + 1e-6
    assert not any("lifetime value" in n and "not" in n for n in r.notes)
