"""Every KPI's rows have declared columns (kpis/rows.toml): names in order, a role that fits
the executed values, and the grain of the period column, checked on the tiny brand by week and
by month."""

from __future__ import annotations

import pandas as pd
import pytest
from tinyworld import build_store

import afterclick
from afterclick.kpis import REGISTRY
from afterclick.kpis.rows import problems
from afterclick.results import Role


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    path = build_store(tmp_path_factory.mktemp("rows_schema"), with_customers=True)
    out = {}
    for grain in ("week", "month"):
        with afterclick.open(path, read_only=True, grain=grain) as ws:
            out[grain] = (ws.params, [r for r in ws.kpis() if r.rows is not None and len(r.rows.columns)])
    return out


def test_the_catalogue_has_no_problem():
    assert problems(set(REGISTRY.ids())) == []


def _fits(role: Role, s: pd.Series) -> bool:
    v = s.dropna()
    if role is Role.PERIOD:
        return pd.api.types.is_datetime64_any_dtype(s)
    if role is Role.FLAG:
        return all(x in (0, 1) for x in v)  # True and False among them
    if role is Role.COUNT:
        return all(float(x) == int(x) for x in v)
    if role in (Role.MEASURE, Role.BOUND):
        return pd.api.types.is_numeric_dtype(s) or all(isinstance(x, (int, float)) for x in v)
    return True


@pytest.mark.parametrize("grain", ["week", "month"])
def test_every_kpi_s_rows_are_as_declared(results, grain):
    params, rows = results[grain]
    assert len(rows) > 50
    for r in rows:
        schema = REGISTRY[r.id].rows_schema
        assert schema is not None, f"{r.id} has rows but no entry in kpis/rows.toml"
        declared = [(c, n) for c, n in zip(schema.columns, schema.names(params), strict=True)
                    if not c.optional or n in r.rows.columns]
        assert list(r.rows.columns) == [n for _, n in declared], r.id
        for c, name in declared:
            assert _fits(c.role, r.rows[name]), (r.id, name, c.role)


def test_the_period_grain_is_declared(results):
    for grain in ("week", "month"):
        params, rows = results[grain]
        for r in rows:
            schema = REGISTRY[r.id].rows_schema
            assert schema is not None, r.id
            periods = [c.name for c in schema.columns if c.role is Role.PERIOD]
            if not periods:
                assert schema.grain is None, r.id
                continue
            v = r.rows[periods[0]].dropna()
            declared = schema.period_grain(params)
            if declared == "month":
                assert (v.dt.day == 1).all(), r.id
            else:
                assert declared == "week" and (v.dt.day_of_week == 0).all(), r.id
