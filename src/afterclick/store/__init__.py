"""The store: canonical tables, the quarantine, the ingest log and KPI snapshots.

The package: :mod:`~afterclick.store.store` (the ``Store``), :mod:`~afterclick.store.tables` (names,
DDL), :mod:`~afterclick.store.lock` (one writer), :mod:`~afterclick.store.errors`,
:mod:`~afterclick.store.snapshots` (the KPI history); every name is importable from here.

By default a DuckDB file (embedded, nothing to run). Any Ibis connection URL is accepted for
reading (``pyspark://``, ``postgres://``…); writing (ingest, snapshots) needs DuckDB.

What a DuckDB store promises (docs/store.md):

* every canonical row carries the id of the ingest that wrote it (``_ingest_id``, never shown to
  KPIs); an ingest writes its rows in one transaction and its ingest-log rows, the commit marker,
  in a second one; rows of an ingest without a log row are removed when the store is next opened
  for writing, and hidden from a read-only store;
* every customer id gets one integer key, at the ingest that first brings it, and keeps it
  (``ac_customer_keys``; each row's in the hidden ``_customer_key``): the KPIs group and join on
  it and show the ids (:mod:`afterclick.store.keys`);
* one writer at a time: a writer holds ``<store>.lock`` (an advisory lock, removed on closing);
  the next waits up to ``AFTERCLICK_LOCK_TIMEOUT`` seconds, then stops with one line;
* no connection it opens downloads or loads a DuckDB extension by itself (nothing goes on the
  network); a file that is not an afterclick store is refused in one line.
"""

from afterclick.core.connections import NO_NETWORK
from afterclick.store.errors import (
    StoreError,
    StoreReadOnly,
    disk_full,
    disk_full_message,
)
from afterclick.store.lock import DEFAULT_LOCK_TIMEOUT, write_lock
from afterclick.store.store import Store
from afterclick.store.tables import (
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_STORE,
    INGEST_ID,
    INGEST_LOG,
    QUARANTINE,
    SNAPSHOTS,
    canonical_ddl,
    connect_duckdb,
)

__all__ = [
    "DEFAULT_LOCK_TIMEOUT", "DEFAULT_MEMORY_LIMIT", "DEFAULT_STORE", "INGEST_ID", "INGEST_LOG", "NO_NETWORK",
    "QUARANTINE", "SNAPSHOTS", "Store", "StoreError", "StoreReadOnly", "canonical_ddl", "connect_duckdb",
    "disk_full", "disk_full_message", "write_lock",
]
