"""The engine runs the KPI catalogue without importing it: ``afterclick.kpis`` registers every
family into the engine's registry, and whoever opens a workspace imports it (issue 12, HOUSE.md §5:
engine and kpis import in one direction only). tests/test_house.py checks the imports in the
source; these check the same at run time, and that the catalogue arrives whole."""

from __future__ import annotations

import json
import subprocess
import sys

import afterclick.engine.bounds as bounds
import afterclick.kpis._common as common
from afterclick.engine.registry import REGISTRY as ENGINE_REGISTRY
from afterclick.kpis import REGISTRY
from afterclick.kpis.rows import schemas

ENGINE_ONLY = """
import json, sys
import afterclick.engine.workspace as w, afterclick.engine.specs, afterclick.engine.by
from afterclick.engine.registry import REGISTRY
out = {"loaded": sorted(m for m in sys.modules if m.startswith(("afterclick.kpis", "afterclick.analysis")))}
try:
    REGISTRY["retention.repeat_visit_rate"]
except KeyError as exc:
    out["lookup"] = str(exc)
try:
    w.Workspace(None)
except RuntimeError as exc:
    out["open"] = str(exc)
import afterclick.workspace
out["after"] = len(REGISTRY)
print(json.dumps(out))
"""


def test_the_engine_loads_no_kpi_family_and_says_how_to_fill_the_catalogue():
    run = subprocess.run([sys.executable, "-c", ENGINE_ONLY], capture_output=True, text=True, check=True)
    out = json.loads(run.stdout)
    assert out["loaded"] == []  # not even by name, at import
    assert "no KPI is registered yet; import afterclick.kpis" in out["lookup"]
    assert out["open"].startswith("no KPI is registered: import afterclick.kpis before opening a workspace")
    assert "\n" not in out["open"]
    assert out["after"] == len(REGISTRY)  # afterclick.workspace fills it whole


def test_the_catalogue_is_the_engines_registry_with_the_declared_rows():
    assert REGISTRY is ENGINE_REGISTRY
    declared = schemas()
    assert declared, "kpis/rows.toml declares no rows"
    for k in REGISTRY:
        assert k.rows_schema == declared.get(k.id), k.id


def test_the_bounds_are_one_block_for_the_workspace_and_the_families():
    # one function object: the workspace's period and a family's month base share one cached block
    for name in ("in_period", "day_index", "data_bounds", "review_end"):
        assert getattr(common, name) is getattr(bounds, name), name
