"""Building blocks in kpis/ are declared with @block, whose cache key is made from the parameter
values a block reads (HOUSE.md §5 rule 5): no hand-written key (``Tables.shared``/``Tables.memo``)
is left, and a B2B block read under another review period is built anew, not served stale."""

from __future__ import annotations

import ast
from datetime import datetime

import house_rules as h
import pytest

import afterclick
from afterclick.demo.b2b import write_b2b_demo
from afterclick.ingest import ingest
from afterclick.store import Store


def test_no_hand_written_cache_key_in_kpis():
    found = []
    for path in sorted((h.PACKAGE / "kpis").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("shared", "memo")):
                found.append(f"{path.name}:{node.lineno} .{node.func.attr}(")
    assert found == []


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("b2b_blocks")
    write_b2b_demo(folder / "src", seed=7)
    with Store(folder / "s.duckdb") as st:
        ingest(st, folder / "src")
    return folder / "s.duckdb"


@pytest.mark.parametrize("kpi_id", ["b2b.lead_funnel", "b2b.win_rate", "b2b.nrr", "b2b.new_visitors"])
def test_a_b2b_block_follows_the_review_period(store, kpi_id):
    end = datetime(2025, 7, 1)
    with afterclick.open(store, read_only=True) as fresh:
        expected = fresh.kpi(kpi_id, end=end)
    with afterclick.open(store, read_only=True) as ws:
        whole = ws.kpi(kpi_id)  # builds the blocks for the default period first
        cut = ws.kpi(kpi_id, end=end)
    assert cut.value == expected.value and cut.value != whole.value
    assert cut.rows.equals(expected.rows)
