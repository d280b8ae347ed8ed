"""The house rules of HOUSE.md §5, as tests over the source (issue 12).

A rule that today's code still breaks because another change is under way is marked
``xfail(strict=True)`` with what is left: the day it passes, the mark fails the suite and must
go. Each known breach is listed by file, so a new one fails at once.
"""

from __future__ import annotations

import re
from pathlib import Path

import house_rules as h
import pytest

from afterclick.kpis import REGISTRY

TESTS = Path(__file__).resolve().parent


def _xfail(reason: str):
    return pytest.mark.xfail(strict=True, reason=reason)


# --------------------------------------------------------------------------- 1. layers, no cycle

LAYER_BREACHES: dict[str, str] = {}


@pytest.mark.parametrize("layer", [
    pytest.param(g, marks=_xfail(LAYER_BREACHES[g])) if g in LAYER_BREACHES else g for g in h.GROUPS])
def test_imports_follow_the_layers(layer):
    assert h.layer_violations()[layer] == []


def test_every_module_is_in_a_layer():
    for module, _ in h.modules():
        h.group_of(module)


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (as a path), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return None
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    return next((c for c in (visit(n, []) for n in sorted(graph)) if c), None)


def test_the_layer_order_has_no_cycle():
    # ALLOWED is a partial order: an import that keeps to it cannot close a cycle between layers
    assert _cycle({g: set(a) - {g} for g, a in h.ALLOWED.items()}) is None


def test_packages_import_in_no_circle():
    # within a layer too: top-level packages and modules (cli_* counted with cli)
    graph: dict[str, set[str]] = {}
    for module, path in h.modules():
        src = h.top_level(module)
        graph.setdefault(src, set()).update(h.top_level(t) for _, t in h.imports(module, path))
    assert _cycle({k: v - {k} for k, v in graph.items()}) is None


# ------------------------------------------------------------------------------- 2. kpis/ is pure

FORBIDDEN_IN_KPIS = {"pandas", "numpy", "scipy", "sklearn", "statsmodels"}
MODELS = ("afterclick.clv", "afterclick.text", "afterclick.signals", "afterclick.attribution", "afterclick.stats",
          "afterclick.analysis")
#: kpis/ files whose finish steps still do pandas, statistics or model work (moving to analysis/
#: in part 1 of issue 12).
IMPURE_KPIS: set[str] = set()


def _impurities(path: Path) -> list[str]:
    bad = sorted(h.third_party(path) & FORBIDDEN_IN_KPIS)
    module = "afterclick.kpis." + path.stem
    bad += sorted({t for _, t in h.imports(module, path) if t.startswith(MODELS)})
    return bad


KPI_FILES = sorted((h.PACKAGE / "kpis").glob("*.py"))


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=_xfail("finish steps with pandas/numpy/scipy or model imports still in kpis/ "
                                 "(moving to analysis/, part 1 of issue 12)"))
    if p.name in IMPURE_KPIS else p
    for p in KPI_FILES], ids=lambda p: p.name)
def test_kpis_import_no_dataframe_statistics_or_models(path):
    assert _impurities(path) == []


def test_the_impure_list_names_only_impure_files():
    # a file made pure must leave IMPURE_KPIS (its test above then guards it for good)
    assert {p.name for p in KPI_FILES if _impurities(p)} <= IMPURE_KPIS


# ---------------------------------------------------------------- 3. no KPI-id literal outside kpis/

#: Catalogues of KPI ids written in code; they belong in data files validated against the registry.
ID_LITERALS: dict[str, str] = {}


def _id_literals(path: Path) -> list[str]:
    ids = set(REGISTRY.ids())
    return [f"{path.relative_to(h.SRC)}:{line} {text!r}" for line, text in h.string_constants(path) if text in ids]


def _outside_kpis() -> list[Path]:
    return [p for _, p in h.modules() if "kpis" not in p.relative_to(h.PACKAGE).parts[:1]]


def test_no_new_kpi_id_literals_outside_kpis():
    found = {str(p.relative_to(h.SRC)) for p in _outside_kpis() if _id_literals(p)}
    assert found <= set(ID_LITERALS), sorted(found - set(ID_LITERALS))


@pytest.mark.parametrize("name", [pytest.param(n, marks=_xfail(r)) for n, r in ID_LITERALS.items()])
def test_known_catalogues_hold_no_kpi_id_literal(name):
    assert _id_literals(h.SRC / name) == []


# -------------------------------------------------------- 4. every spec with rows declares columns

def _undeclared_rows() -> list[str]:
    """KPIs whose computation has rows (built on unbound tables) and no declared RowsSchema."""
    import ibis

    from afterclick.kpis.base import Params, Tables
    from afterclick.schemas import TABLES, empty_table
    from afterclick.text.store import SCHEMA as TEXT_SCORES

    tables = Tables({name: empty_table(name) for name in TABLES})
    tables.replace("text_scores", ibis.table(TEXT_SCORES, name="text_scores"))
    return [k.id for k in REGISTRY if k.compute(tables, Params()).rows is not None and k.rows_schema is None]


def test_only_b2b_kpis_leave_their_rows_undeclared():
    assert [i for i in _undeclared_rows() if not i.startswith("b2b.")] == []


def test_every_spec_with_rows_declares_its_columns():
    assert _undeclared_rows() == []


# ------------------------------------------------------------------------- 5. file and function size

MAX_FILE_LINES, MAX_FUNCTION_LINES = 400, 80
LONG_FILES: dict[str, str] = {
}
LONG_FUNCTIONS: dict[str, str] = {
}


def _long_files() -> set[str]:
    return {f.split(" (")[0] for f in h.long_files(MAX_FILE_LINES)}


def _long_functions() -> set[str]:
    return {re.sub(r":\d+ ", " ", f.split(" (")[0]) for f in h.long_functions(MAX_FUNCTION_LINES)}


def test_no_new_long_files():
    assert _long_files() <= set(LONG_FILES), sorted(_long_files() - set(LONG_FILES))


def test_no_new_long_functions():
    assert _long_functions() <= set(LONG_FUNCTIONS), sorted(_long_functions() - set(LONG_FUNCTIONS))


@pytest.mark.parametrize("name", [pytest.param(n, marks=_xfail(r)) for n, r in LONG_FILES.items()])
def test_known_long_file(name):
    assert name not in _long_files()


@pytest.mark.parametrize("name", [pytest.param(n, marks=_xfail(r)) for n, r in LONG_FUNCTIONS.items()])
def test_known_long_function(name):
    assert name not in _long_functions()


# -------------------------------------------- 6. statistics: an oracle each, one implementation each

ORACLES = re.compile(r"^\s*(import|from) (scipy|statsmodels|lifetimes)\b", re.MULTILINE)
#: Public functions in stats/ that compute no statistic of their own, and why.
NOT_STATISTICS = {
    "check_level": "checks an argument",
    "default_display": "picks points or relative lift for display",
    "describe_effect": "words for an effect",
    "disagreements": "flags months from nps_difference and a two-proportion test (both oracle-tested); "
                     "its own test is hand-worked",
}


def _stat_calls() -> dict[str, set[str]]:
    """Module-level functions and classes in stats/ → the names each one calls."""
    import ast

    out: dict[str, set[str]] = {}
    for path in sorted((h.PACKAGE / "stats").rglob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                out[node.name] = {c.func.id for c in ast.walk(node)
                                  if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
    return out


def test_every_statistic_has_an_oracle_test():
    """Every public function in stats/ is named in a test that checks against scipy, statsmodels
    or lifetimes, or is called (through any helper) by one that is."""
    oracle_text = "\n".join(t for t in (p.read_text(encoding="utf-8") for p in TESTS.glob("test_*.py"))
                            if ORACLES.search(t))
    calls = _stat_calls()
    covered = {f for f in calls if re.search(rf"\b{f}\b", oracle_text)}
    grew = True
    while grew:
        inner = {g for f in covered for g in calls[f] if g in calls} - covered
        covered |= inner
        grew = bool(inner)
    import ast

    public = {n.name for path in (h.PACKAGE / "stats").rglob("*.py")
              for n in ast.parse(path.read_text(encoding="utf-8")).body
              if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")}
    assert public - covered - set(NOT_STATISTICS) == set()


def test_the_wilson_interval_is_not_written_by_hand():
    # the z^2/4n^2 term of Wilson's half-width: statsmodels computes it (stats.proportions.Proportion.wilson)
    hand = re.compile(r"z\s*\*\s*z\s*/\s*\(\s*4\s*\*\s*n\s*\*\s*n|z\s*\*\*\s*2\s*/\s*\(\s*4\s*\*\s*n\s*\*\*\s*2")
    places = [str(p.relative_to(h.SRC)) for _, p in h.modules() if hand.search(p.read_text(encoding="utf-8"))]
    assert places == []


def test_wilson_is_called_only_through_proportion():
    calls = re.compile(r"proportion_confint\(")
    places = [str(p.relative_to(h.SRC)) for _, p in h.modules() if calls.search(p.read_text(encoding="utf-8"))]
    assert places == ["afterclick/stats/proportions.py"]
