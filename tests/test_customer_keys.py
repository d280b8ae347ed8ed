"""Integer surrogate keys for customers (issue 18): assigned at ingest, stable across ingests,
never shown; the KPIs give the same values and rows on keys as on the ids' text."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

import afterclick
from afterclick.ingest import ingest
from afterclick.store import Store
from afterclick.store.keys import KEYED_TABLES
from afterclick.store.tables import CUSTOMER_KEY, CUSTOMER_KEYS
from csvstores import csv_store


def _tx(customers: list[str], day: int) -> list[dict]:
    return [{"order_id": f"o{c}-{day}", "customer_id": c, "ts": f"2025-03-{day:02d} 10:00:00", "amount": 10.0 + i}
            for i, c in enumerate(customers)]


def _keys(path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return dict(con.execute(f"SELECT customer_id, customer_key FROM {CUSTOMER_KEYS}").fetchall())


def test_every_row_gets_its_customers_key_and_the_same_id_the_same_key_in_every_table(tmp_path):
    path = csv_store(tmp_path, transactions=_tx(["zoe", "amy", "bob"], 3),
                     customers=[{"customer_id": c, "segment": "a"} for c in ("amy", "bob", "cat")])
    keys = _keys(path)
    # numbered in the order of the ids' text, from 1, each id once
    assert sorted(keys.values()) == list(range(1, 5))
    assert keys["amy"] < keys["bob"] < keys["zoe"] and "cat" in keys
    with duckdb.connect(str(path), read_only=True) as con:
        for table in ("transactions", "customers"):
            rows = con.execute(f"SELECT customer_id, {CUSTOMER_KEY} FROM {table}").fetchall()
            assert rows and all(keys[c] == k for c, k in rows)


def test_keys_are_stable_across_ingests_and_new_ids_number_after_the_last(tmp_path):
    path = csv_store(tmp_path, transactions=_tx(["m", "b", "x"], 3))
    first = _keys(path)
    src = tmp_path / "more"
    src.mkdir()
    pd.DataFrame(_tx(["a", "b", "z"], 9)).to_csv(src / "transactions.csv", index=False)
    with Store(path) as store:
        assert ingest(store, src).loaded == 3
    second = _keys(path)
    assert {c: second[c] for c in first} == first  # nobody's key moved, "a" sorts first but comes after
    assert second["a"] == 4 and second["z"] == 5 and len(second) == 5


def test_a_failed_ingest_leaves_the_numbering_as_it_was(tmp_path):
    path = csv_store(tmp_path, transactions=_tx(["m"], 3))
    src = tmp_path / "more"
    src.mkdir()
    pd.DataFrame(_tx(["n", "o"], 9)).to_csv(src / "transactions.csv", index=False)

    def stop(message: str, step: int, total: int) -> None:
        if message == "saving":
            raise RuntimeError("stopped by the test")

    with Store(path) as store, pytest.raises(RuntimeError):
        ingest(store, src, progress=stop)
    assert _keys(path) == {"m": 1}


def test_kpi_rows_name_customers_by_id_and_a_grouping_by_id_still_groups(tmp_path):
    rng = np.random.default_rng(3)  # 80 buyers over 500 days: enough for the CLV models to fit
    buyers = [f"cust-{i:03d}" for i in range(80)]
    tx = []
    for i, c in enumerate(buyers):
        first, n = int(rng.integers(0, 200)), int(rng.geometric(0.4))
        days = sorted({first, *(first + int(x) for x in rng.integers(1, 500 - first, size=n - 1))})
        tx += [{"order_id": f"o{i}-{k}", "customer_id": c, "amount": round(float(rng.gamma(4, 10)), 2),
                "ts": str(pd.Timestamp("2024-01-01 10:00") + pd.Timedelta(days=d))} for k, d in enumerate(days)]
    path = csv_store(tmp_path, transactions=tx)
    with afterclick.open(path, read_only=True) as ws:
        assert ws.tables.ids is not None  # the KPIs read keys
        assert ws.tables["transactions"].customer_id.type().is_integer()
        assert set(ws.table("transactions").customer_id) == set(buyers)  # shown by id
        r = ws.kpi("value.predicted_clv")
        assert r.ok and set(r.rows.customer_id) == set(buyers), r.reason or r.notes
        groups = _memtable({"customer_id": buyers, "half": ["a"] * 40 + ["b"] * 40})
        by = ws.kpi_by("value.repeat_purchase_rate", groups)
        named = by.rows[by.rows["half"].notna()]
        assert list(named["half"]) == ["a", "b"] and named["n"].sum() == 80
        days = pd.DataFrame(tx).assign(day=lambda d: d.ts.str[:10]).groupby("customer_id").day.nunique()
        for half, who in (("a", buyers[:40]), ("b", buyers[40:])):  # repeat buyers per half, by hand
            want = (days[who] >= 2).mean()
            assert named.loc[named["half"] == half, "value"].iloc[0] == pytest.approx(want, rel=1e-12)


def _memtable(columns: dict) -> object:
    import ibis

    return ibis.memtable(pd.DataFrame(columns))


def _strip_keys(path) -> None:
    """Make ``path`` look like a store made before the keys."""
    with duckdb.connect(str(path)) as con:
        for name in KEYED_TABLES:
            if CUSTOMER_KEY in {r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()}:
                con.execute(f"ALTER TABLE {name} DROP COLUMN {CUSTOMER_KEY}")
        con.execute(f"DROP TABLE {CUSTOMER_KEYS}")


def _all(path) -> tuple[dict, bool]:
    with afterclick.open(path, read_only=True) as ws:
        return {r.id: (r.status.value, r.value, r.rows) for r in ws.kpis()}, ws.tables.ids is not None


def test_every_kpi_is_the_same_on_keys_as_on_the_ids_text_and_an_older_store_gets_its_keys(demo_ws, tmp_path):
    keyed = tmp_path / "keyed.duckdb"
    shutil.copy(demo_ws.store.location, keyed)
    text = tmp_path / "text.duckdb"
    shutil.copy(keyed, text)
    _strip_keys(text)
    on_keys, used_keys = _all(keyed)
    on_text, used_text = _all(text)  # read-only: an older store is read as it is
    assert used_keys and not used_text
    assert on_keys.keys() == on_text.keys()
    for kpi_id, (status, value, rows) in on_keys.items():
        s2, v2, r2 = on_text[kpi_id]
        assert status == s2, kpi_id
        assert value == pytest.approx(v2, rel=1e-9, nan_ok=True) if value is not None else v2 is None, kpi_id
        if rows is not None:
            pd.testing.assert_frame_equal(rows.reset_index(drop=True), r2.reset_index(drop=True),
                                          check_exact=False, rtol=1e-9, obj=kpi_id)
    with Store(text) as store:  # opened for writing: numbered once, like an ingest would
        assert store.customer_keys() is not None
    assert _keys(text).keys() == _keys(keyed).keys()
    with duckdb.connect(str(text), read_only=True) as con:
        for name in ("events", "transactions", "customers"):
            assert con.execute(f"SELECT count(*) FROM {name} e LEFT JOIN {CUSTOMER_KEYS} k "
                               f"ON e.{CUSTOMER_KEY} = k.customer_key WHERE e.customer_id IS DISTINCT FROM "
                               "k.customer_id").fetchone()[0] == 0
