"""The engine computes once what a KPI's rows, value, needs and facts share (engine/shared.py)."""

from __future__ import annotations

import ibis
import pytest
from ibis.common.graph import Graph

import afterclick
from afterclick.engine.shared import share_rows, shared_relation
from afterclick.kpis.base import KPI, Computation
from afterclick.results import Direction, Family, Status, Unit


@pytest.fixture
def ws(tmp_path):
    w = afterclick.open(tmp_path / "s.duckdb")
    w.store.raw.execute(
        "INSERT INTO events (customer_id, ts, event) VALUES "
        "('a', TIMESTAMP '2026-01-01 10:00', 'visit'), ('a', TIMESTAMP '2026-01-03 10:00', 'save'), "
        "('b', TIMESTAMP '2026-01-02 10:00', 'visit'), ('c', TIMESTAMP '2026-01-05 10:00', 'click')"
    )
    yield w
    w.close()


def _per_person(t):
    e = t["events"]
    return e.group_by("customer_id").aggregate(n=e.count(), deep=(e.event == "save").cast("int64").sum())


def _computation(t, p):
    per = _per_person(t)
    return Computation(
        value=(per.deep > 0).cast("int64").sum() / per.count(),
        rows=per.filter(per.n > 0).select("customer_id", "n"),
        needs=((per.count(), "nobody"),),
        facts={"people": per.count()},
        explain=lambda facts, value: (f"{facts['people']} people",),
        order_by=("customer_id",),
    )


def _kpi(compute) -> KPI:
    return KPI(id="resonance.test_only", name="Test only", family=Family.RESONANCE, unit=Unit.COUNT,
               direction=Direction.HIGHER, requires=("events",), compute=compute)


def test_the_shared_relation_is_the_aggregate_the_rows_select_from(ws):
    comp = _computation(ws.tables, ws.params)
    assert shared_relation(comp) == _per_person(ws.tables).op()


def test_rewritten_expressions_read_the_materialized_table_and_give_the_same_results(ws):
    comp = _computation(ws.tables, ws.params)
    con = ws.store.con
    before = (con.execute(comp.value), con.execute(comp.rows).sort_values("customer_id").reset_index(drop=True),
              con.execute(comp.facts["people"]))
    shared, done = share_rows(comp, lambda e: e.cache())
    try:
        node = _per_person(ws.tables).op()
        for e in (shared.value, shared.rows, shared.needs[0][0], shared.facts["people"]):
            assert node not in Graph.from_bfs(e.op())
            assert done.op() in Graph.from_bfs(e.op())
        after = (con.execute(shared.value),
                 con.execute(shared.rows).sort_values("customer_id").reset_index(drop=True),
                 con.execute(shared.facts["people"]))
    finally:
        done.release()
    assert before[0] == pytest.approx(1 / 3) and after[0] == before[0]
    assert after[1].equals(before[1])
    assert after[2] == before[2] == 3


def test_nothing_shared_leaves_the_computation_as_it_is(ws):
    e = ws.tables["events"]
    comp = Computation(value=e.count(), rows=e.group_by("event").aggregate(n=e.count()))
    assert shared_relation(comp) is None  # the value reads the stored table, nothing built
    assert share_rows(comp, lambda x: pytest.fail("nothing to materialize"))[0] is comp
    assert shared_relation(Computation(value=e.count())) is None


def test_the_workspace_gives_the_same_result_and_leaves_no_temporary_table(ws):
    tables_before = set(ws.store.con.list_tables())
    r = ws._run(_kpi(_computation), ws.params)
    ws.tables.release()  # the workspace's own blocks (the data's bounds); the shared table is gone already
    assert r.status is Status.COMPUTED
    assert r.value == pytest.approx(1 / 3)
    assert r.rows.to_dict("list") == {"customer_id": ["a", "b", "c"], "n": [2, 1, 1]}
    assert r.notes == ("3 people",)
    assert set(ws.store.con.list_tables()) == tables_before


def test_a_kpi_skipped_by_its_needs_releases_the_shared_table(ws):
    def empty(t, p):
        per = _per_person(t)
        per = per.filter(per.n > 10)
        return Computation(value=per.count(), rows=per, needs=((per.count(), "nobody came ten times"),))

    tables_before = set(ws.store.con.list_tables())
    r = ws._run(_kpi(empty), ws.params)
    ws.tables.release()
    assert r.status is Status.SKIPPED and r.reason == "nobody came ten times"
    assert set(ws.store.con.list_tables()) == tables_before


def test_a_relation_reading_an_in_memory_table_is_shared_only_where_the_backend_can(ws):
    per = _per_person(ws.tables)
    levels = ibis.memtable({"level": [1, 2]})
    grid = per.cross_join(levels)
    rows = grid.select("customer_id", "level")
    comp = Computation(value=rows.filter(rows.level == 1).count(), rows=rows)
    assert shared_relation(comp) == rows.op()
    assert shared_relation(comp, memtables=False) is None
