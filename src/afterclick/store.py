"""The store: canonical tables, the quarantine, the ingest log and KPI snapshots.

By default a DuckDB file (embedded, nothing to run). Any Ibis connection URL is accepted for
reading (``pyspark://``, ``postgres://``…); writing (ingest, snapshots) needs DuckDB.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd

from afterclick.schemas import DERIVED_TABLES, TABLE_NAMES, TABLES

DEFAULT_STORE = "afterclick.duckdb"
#: DuckDB's working memory (it spills to disk beyond it); raise it with AFTERCLICK_MEMORY_LIMIT
#: for big data on a big machine.
DEFAULT_MEMORY_LIMIT = "1GB"

QUARANTINE = "ac_quarantine"
INGEST_LOG = "ac_ingest_log"
SNAPSHOTS = "ac_kpi_snapshots"

_META_DDL = {
    QUARANTINE: (
        "ingest_id VARCHAR, table_name VARCHAR, source_file VARCHAR, row_ref VARCHAR, "
        "reason VARCHAR, raw VARCHAR"
    ),
    INGEST_LOG: (
        "ingest_id VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, source VARCHAR, "
        "table_name VARCHAR, source_file VARCHAR, sha256 VARCHAR, rows_read BIGINT, "
        "loaded BIGINT, already_stored BIGINT, quarantined BIGINT, details VARCHAR"
    ),
    SNAPSHOTS: (
        "run_id VARCHAR, computed_at TIMESTAMPTZ, kpi_id VARCHAR, period_start TIMESTAMPTZ, "
        "period_end TIMESTAMPTZ, grain VARCHAR, status VARCHAR, value DOUBLE, ci_low DOUBLE, "
        "ci_high DOUBLE, params VARCHAR"
    ),
}


class StoreError(RuntimeError):
    """A problem with the store, worded for the person running the command."""


def _duckdb_type(dtype: ibis.DataType) -> str:
    if dtype.is_timestamp():
        return "TIMESTAMP"  # UTC, see schemas._TS
    if dtype.is_floating():
        return "DOUBLE"
    if dtype.is_boolean():
        return "BOOLEAN"
    if dtype.is_integer():
        return "BIGINT"
    return "VARCHAR"


def canonical_ddl(name: str) -> str:
    cols = ", ".join(f'"{c}" {_duckdb_type(t)}' for c, t in TABLES[name].schema.items())
    return f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})'


class Store:
    """A workspace's data: open a DuckDB file (created if new) or any Ibis URL."""

    def __init__(self, location: str | Path | None = None, *, read_only: bool = False,
                 connection: ibis.BaseBackend | None = None):
        if connection is not None:
            self.con = connection
            self.location = f"<{connection.name} connection>"
        else:
            loc = str(location or DEFAULT_STORE)
            self.location = loc
            if "://" in loc and not loc.startswith("duckdb://"):
                self.con = ibis.connect(loc)
            else:
                path = loc.removeprefix("duckdb://")
                if read_only and not Path(path).exists():
                    raise StoreError(
                        f"no store at {path}: run `afterclick ingest SOURCE --store {path}` "
                        "or `afterclick demo` first"
                    )
                try:
                    self.con = ibis.duckdb.connect(path, read_only=read_only)
                except Exception as exc:  # duckdb raises IOException for locked/corrupt files
                    raise StoreError(f"cannot open store {path}: {str(exc).splitlines()[0]}") from exc
                self.location = path
        if self.is_duckdb:
            self.raw.execute("SET TimeZone = 'UTC'")
            self.raw.execute("SET enable_progress_bar = false")
            limit = os.environ.get("AFTERCLICK_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
            self.raw.execute(f"SET memory_limit = '{limit}'")
            if not read_only:
                self._ensure_schema()

    # -- backend -------------------------------------------------------------------------
    @property
    def is_duckdb(self) -> bool:
        return self.con.name == "duckdb"

    @property
    def raw(self):
        """The underlying DuckDB connection (store-layer work only: ingest, snapshots)."""
        if not self.is_duckdb:
            raise StoreError(f"{self.location} is a {self.con.name} backend; this needs a DuckDB store")
        return self.con.con

    def _ensure_schema(self) -> None:
        for name in TABLE_NAMES:
            self.raw.execute(canonical_ddl(name))
            # stores made before an optional column was added get it (empty) on opening
            have = {r[0] for r in self.raw.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'",
                [name]).fetchall()}
            for col, dtype in TABLES[name].schema.items():
                if col not in have:
                    self.raw.execute(f'ALTER TABLE "{name}" ADD COLUMN "{col}" {_duckdb_type(dtype)}')
        for name, cols in _META_DDL.items():
            self.raw.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})')

    def close(self) -> None:
        disconnect = getattr(self.con, "disconnect", None)
        if disconnect:
            disconnect()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- canonical tables ----------------------------------------------------------------
    def table_names(self) -> list[str]:
        existing = set(self.con.list_tables())
        return [n for n in TABLE_NAMES if n in existing]

    def counts(self) -> dict[str, int]:
        """Row count of every canonical table present (0 when empty)."""
        return {n: int(self.con.table(n).count().execute()) for n in self.table_names()}

    def tables(self) -> dict[str, ibis.Table]:
        """Canonical tables that hold rows, as Ibis tables (columns in canonical order)."""
        out = {}
        for name, n in self.counts().items():
            if n > 0:
                t = self.con.table(name)
                cols = [c for c in TABLES[name].columns if c in t.columns]
                out[name] = t if list(t.columns) == cols else t.select(cols)
        existing = set(self.con.list_tables())
        for name in DERIVED_TABLES:
            if name in existing:
                t = self.con.table(name)
                if int(t.count().execute()) > 0:
                    out[name] = t
        return out

    # -- bookkeeping ---------------------------------------------------------------------
    def quarantine(self, ingest_id: str | None = None) -> pd.DataFrame:
        q = self.con.table(QUARANTINE)
        if ingest_id:
            q = q.filter(q.ingest_id == ingest_id)
        return q.execute()

    def ingest_log(self) -> pd.DataFrame:
        return self.con.table(INGEST_LOG).order_by("started_at").execute()

    def save_snapshots(self, run_id: str, rows: Iterable[dict[str, Any]]) -> int:
        """Append KPI headline values for one run (history and trends survive re-runs)."""
        rows = list(rows)
        if not rows:
            return 0
        df = pd.DataFrame(rows)
        df.insert(0, "run_id", run_id)
        df.insert(1, "computed_at", datetime.now(UTC))
        df["params"] = df["params"].map(lambda p: json.dumps(p, default=str))
        cols = [c.split(" ")[0] for c in _META_DDL[SNAPSHOTS].split(", ")]
        df = df.reindex(columns=cols)
        self.raw.register("_ac_snap", df)
        try:
            self.raw.execute(f'INSERT INTO "{SNAPSHOTS}" SELECT * FROM _ac_snap')
        finally:
            self.raw.unregister("_ac_snap")
        return len(df)

    def snapshots(self, kpi_id: str | None = None) -> pd.DataFrame:
        s = self.con.table(SNAPSHOTS)
        if kpi_id:
            s = s.filter(s.kpi_id == kpi_id)
        return s.order_by("computed_at").execute()
