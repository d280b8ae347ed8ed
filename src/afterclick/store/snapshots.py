"""The history of KPI headline values: each run's values appended (``ac_kpi_snapshots``), and read
back for trends, goals and reviews. Writing needs a DuckDB store."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from afterclick.store.tables import META_DDL, SNAPSHOTS

if TYPE_CHECKING:
    from afterclick.store.store import Store


def save_snapshots(store: Store, run_id: str, rows: Iterable[dict[str, Any]]) -> int:
    """Append KPI headline values for one run (history and trends survive re-runs)."""
    rows = list(rows)
    if not rows:
        return 0
    df = pd.DataFrame(rows)
    df.insert(0, "run_id", run_id)
    df.insert(1, "computed_at", datetime.now(UTC))
    df["params"] = df["params"].map(lambda p: json.dumps(p, default=str))
    cols = [c.split(" ")[0] for c in META_DDL[SNAPSHOTS].split(", ")]
    df = df.reindex(columns=cols)
    store.raw.register("_ac_snap", df)
    try:
        store.raw.execute(f'INSERT INTO "{SNAPSHOTS}" SELECT * FROM _ac_snap')
    finally:
        store.raw.unregister("_ac_snap")
    return len(df)


def read_snapshots(store: Store, kpi_id: str | None = None) -> pd.DataFrame:
    """The stored headline values, oldest run first (one KPI's when ``kpi_id`` is given)."""
    s = store.con.table(SNAPSHOTS)
    if kpi_id:
        s = s.filter(s.kpi_id == kpi_id)
    return s.order_by("computed_at").execute()
