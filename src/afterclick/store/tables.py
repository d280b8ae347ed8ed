"""The store's own tables and how canonical tables are declared in DuckDB: names, DDL, quoting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import ibis

from afterclick.core.connections import NO_NETWORK
from afterclick.schemas import TABLES

DEFAULT_STORE = "afterclick.duckdb"
#: DuckDB's working memory (it spills to disk beyond it); raise it with AFTERCLICK_MEMORY_LIMIT
#: for big data on a big machine.
DEFAULT_MEMORY_LIMIT = "1GB"
#: The hidden column that ties each canonical row to its ingest (the ingest log's ingest_id).
INGEST_ID = "_ingest_id"

#: The hidden column that holds each row's customer as an integer (see :mod:`afterclick.store.keys`).
CUSTOMER_KEY = "_customer_key"

QUARANTINE = "ac_quarantine"
CUSTOMER_KEYS = "ac_customer_keys"
INGEST_LOG = "ac_ingest_log"
SNAPSHOTS = "ac_kpi_snapshots"

META_DDL = {
    QUARANTINE: (
        "ingest_id VARCHAR, table_name VARCHAR, source_file VARCHAR, row_ref VARCHAR, "
        "reason VARCHAR, raw VARCHAR"
    ),
    INGEST_LOG: (
        "ingest_id VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, source VARCHAR, "
        "table_name VARCHAR, source_file VARCHAR, sha256 VARCHAR, rows_read BIGINT, "
        "loaded BIGINT, already_stored BIGINT, quarantined BIGINT, details VARCHAR"
    ),
    CUSTOMER_KEYS: "customer_id VARCHAR, customer_key BIGINT",
    SNAPSHOTS: (
        "run_id VARCHAR, computed_at TIMESTAMPTZ, kpi_id VARCHAR, period_start TIMESTAMPTZ, "
        "period_end TIMESTAMPTZ, grain VARCHAR, status VARCHAR, value DOUBLE, ci_low DOUBLE, "
        "ci_high DOUBLE, params VARCHAR"
    ),
}


def connect_duckdb(database: str | Path = ":memory:", *, read_only: bool = False,
                   **config: Any) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never fetches an extension from the network."""
    return duckdb.connect(str(database), read_only=read_only, config={**NO_NETWORK, **config})


def duckdb_type(dtype: ibis.DataType) -> str:
    if dtype.is_timestamp():
        return "TIMESTAMP"  # UTC, see schemas._TS
    if dtype.is_floating():
        return "DOUBLE"
    if dtype.is_boolean():
        return "BOOLEAN"
    if dtype.is_integer():
        return "BIGINT"
    return "VARCHAR"


def quote_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def canonical_ddl(name: str) -> str:
    cols = ", ".join(f'"{c}" {duckdb_type(t)}' for c, t in TABLES[name].schema.items())
    return f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})'
