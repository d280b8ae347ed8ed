"""Small stores built the way a user builds theirs: CSV files with canonical column names, loaded
by the real ingest. Each test writes only the tables it means to have."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from afterclick.ingest import ingest
from afterclick.store import Store


def csv_store(folder: Path, **tables: list[dict] | pd.DataFrame) -> Path:
    """Write each table as ``<name>.csv`` in ``folder/src``, ingest them into ``folder/s.duckdb``
    and return the store's path; every row must load."""
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        df = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(rows)
        df.to_csv(src / f"{name}.csv", index=False)
    path = folder / "s.duckdb"
    with Store(path) as store:
        summary = ingest(store, src)
    assert summary.adds_up and summary.quarantined == 0, summary
    return path
