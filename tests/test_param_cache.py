"""A KPI's parameters are part of what it computed: changing one never returns the value cached
for another (the journey's clicks block was once cached without ``nowhere_minutes``)."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import ibis
import pytest
from test_ingest import run, write
from tinyworld import build_store

import afterclick
from afterclick.kpis import REGISTRY
from afterclick.kpis.base import Params, Tables, block


def test_nowhere_minutes_is_not_served_from_the_default_cache(tmp_path):
    src = tmp_path / "src"
    # a: the visit comes two days after the click (2,820 minutes: nowhere within 30 minutes,
    # somewhere within 3,000); b: 5 minutes after (somewhere either way)
    write(src, "events.csv", "customer_id,ts,event\n"
                             "a,2026-03-02T10:00:00Z,click\na,2026-03-04T09:00:00Z,visit\n"
                             "b,2026-03-02T10:00:00Z,click\nb,2026-03-02T10:05:00Z,visit\n"
                             "c,2026-03-06T10:00:00Z,visit\n")  # the data runs on: both clicks can be judged
    store = tmp_path / "s.duckdb"
    run(store, src)
    with afterclick.open(store, read_only=True) as ws:
        default = ws.kpi("journey.clicks_to_nowhere_rate").value
        wider = ws.kpi("journey.clicks_to_nowhere_rate", nowhere_minutes=3000).value
    with afterclick.open(store, read_only=True) as fresh:
        expected = fresh.kpi("journey.clicks_to_nowhere_rate", nowhere_minutes=3000).value
    assert default == 0.5
    assert wider == expected == 0.0


# ------------------------------------------------------------------ keys made from what is read

CHANGED = {"grain": "month", "session_gap_minutes": 5, "retention_days": 7, "nowhere_minutes": 3000,
           "churn_days": 20, "max_periods": 3}


def test_every_parameter_is_changed_by_the_sweep():
    fields = {f.name for f in dataclasses.fields(Params)} - {"start", "end"}  # the bulk period sets those
    assert set(CHANGED) == fields


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("tiny_cache"), with_customers=True)


def _values(ws, **params):
    return {r.id: (r.status.value, r.value, None if r.rows is None else r.rows.to_json(date_format="iso"))
            for r in (ws.kpi(k.id, **params) for k in REGISTRY)}


def test_no_kpi_is_served_another_parameter_s_building_block(tiny):
    """Every KPI, after a default run in the same workspace, equals a fresh workspace's value."""
    with afterclick.open(tiny, read_only=True) as ws:
        defaults = _values(ws)  # fills every building block with the defaults
        after_default = _values(ws, **CHANGED)
    with afterclick.open(tiny, read_only=True) as fresh:
        expected = _values(fresh, **CHANGED)
    assert after_default == expected
    changed = [k for k in expected if expected[k] != defaults[k]]
    assert len(changed) >= 10  # the sweep moves many KPIs: a cache serving defaults would show


def test_a_block_is_shared_by_parameters_that_agree_on_what_it_read():
    built = []

    @block
    def only_start(t, p):
        built.append("start")
        return ibis.memtable({"x": [1]}).mutate(s=ibis.literal(str(p.start)))

    @block
    def nested(t, p, k: int = 1):
        built.append(f"nested{k}")
        return only_start(t, p).mutate(n=ibis.literal(p.nowhere_minutes + k))

    t = Tables({})
    a, b = Params(), Params(grain="month", nowhere_minutes=5)
    assert only_start(t, a) is only_start(t, b)  # the grain and the window were never read
    assert nested(t, a) is not nested(t, b)  # the window was
    assert nested(t, a) is nested(t, a, 1) is nested(t, a, k=1)  # the same arguments, however given
    nested(t, a, 2)
    assert built == ["start", "nested1", "nested1", "nested2"]
    # the outer block noted what the inner one read: another start is another entry of both
    c = Params(start=datetime(2026, 1, 1))
    assert nested(t, c) is not nested(t, a)
    assert built[-2:] == ["nested1", "start"]
