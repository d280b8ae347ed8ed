"""The registry: ids unique and well-formed, required tables canonical, every KPI documented and
pure (its compute builds expressions on unbound tables, with no connection)."""

from __future__ import annotations

import ibis
import pytest

from afterclick.kpis import REGISTRY
from afterclick.kpis.base import KPI, Computation, Params, Registry, Tables
from afterclick.results import Family
from afterclick.schemas import DERIVED_TABLES, TABLE_NAMES, TABLES, empty_table
from afterclick.text.store import SCHEMA as TEXT_SCORES_SCHEMA


def test_ids_are_unique_and_prefixed_by_family():
    ids = REGISTRY.ids()
    assert len(ids) == len(set(ids))
    for k in REGISTRY:
        assert k.id.startswith(k.family.value + "."), k.id
        assert k.id == k.id.lower() and " " not in k.id


def test_registry_refuses_duplicates_and_unknown_tables():
    reg = Registry()
    k = next(iter(REGISTRY))
    reg.add(k)
    with pytest.raises(ValueError, match="twice"):
        reg.add(k)
    bad = KPI(id="reach.x", name="x", family=Family.REACH, unit=k.unit, direction=k.direction,
              requires=("nope",), compute=k.compute)
    with pytest.raises(ValueError, match="unknown table"):
        reg.add(bad)


@pytest.mark.parametrize("kpi", list(REGISTRY), ids=lambda k: k.id)
def test_kpi_is_documented_and_pure(kpi):
    assert all(t in TABLE_NAMES or t in DERIVED_TABLES for t in kpi.requires + kpi.uses)
    assert kpi.requires or kpi.requires_any, f"{kpi.id} must name the tables it needs"
    assert len(kpi.definition) > 40, f"{kpi.id} needs a docstring with its formula"
    # builds on unbound tables: no backend, no execution
    tables = Tables({name: empty_table(name) for name in TABLES})
    tables.replace("text_scores", ibis.table(TEXT_SCORES_SCHEMA, name="text_scores"))
    comp = kpi.compute(tables, Params())
    assert isinstance(comp, Computation)
    assert comp.value is not None or comp.rows is not None
    for expr in (comp.value, comp.rows):
        if expr is not None:
            assert isinstance(expr, ibis.Expr)
            # compiles for DuckDB without a connection
            assert "SELECT" in ibis.to_sql(expr, dialect="duckdb")


def test_unknown_kpi_error_names_the_way_out():
    with pytest.raises(KeyError, match="afterclick kpis --list"):
        REGISTRY["retention.nope"]
