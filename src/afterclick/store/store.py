"""The Store: a workspace's data, opened from a DuckDB file (created if new) or any Ibis URL;
what it promises is said in :mod:`afterclick.store`."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd

from afterclick.core.connections import NO_NETWORK
from afterclick.schemas import DERIVED_TABLES, TABLE_NAMES, TABLES
from afterclick.store.errors import (
    StoreError,
    StoreReadOnly,
    check_file,
    disk_full,
    disk_full_message,
    first_line,
)
from afterclick.store.lock import (
    WriteLock,
    is_lock_conflict,
    lock_holder,
    lock_timeout,
    wait_a_moment,
)
from afterclick.store.keys import KEYED_COLUMNS, KEYED_TABLES, assign_keys, unkeyed_rows
from afterclick.store.snapshots import read_snapshots, save_snapshots
from afterclick.store.tables import (
    CUSTOMER_KEY,
    CUSTOMER_KEYS,
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_STORE,
    INGEST_ID,
    INGEST_LOG,
    META_DDL,
    QUARANTINE,
    canonical_ddl,
    duckdb_type,
    quote_name,
    quote_text,
)


class Store:
    """A workspace's data: open a DuckDB file (created if new) or any Ibis URL.

    Opened for writing, a DuckDB store takes the write lock (``wait`` seconds at most; default
    ``AFTERCLICK_LOCK_TIMEOUT`` or 60), brings an older store's tables up to date and removes the
    rows of any ingest that never reached the ingest log (see the module's docstring).
    ``on_wait`` hears one line when the store is busy and this waits.
    """

    def __init__(self, location: str | Path | None = None, *, read_only: bool = False,
                 connection: ibis.BaseBackend | None = None, wait: float | None = None,
                 on_wait: Callable[[str], None] | None = None):
        self.read_only = read_only
        #: This run made the file (it did not exist when the write lock was taken).
        self.created = False
        #: Ingests found without a log row on opening: removed (writing) or hidden (read-only).
        self.unfinished: list[str] = []
        self._hidden: list[str] = []  # those of them still in the tables (read-only): not shown
        self._lock: WriteLock | None = None
        if connection is not None:
            self.con = connection
            self.location = f"<{connection.name} connection>"
        else:
            loc = str(location or DEFAULT_STORE)
            self.location = loc
            if "://" in loc and not loc.startswith("duckdb://"):
                self.con = ibis.connect(loc)
            else:
                self.location = loc.removeprefix("duckdb://")
                self._open_duckdb(Path(self.location), read_only,
                                  lock_timeout() if wait is None else wait, on_wait)
                return
        if self.is_duckdb:
            self._configure()
            if not read_only:
                self._ensure_schema()
            self._recover()

    # -- opening a DuckDB file -------------------------------------------------------------
    def _open_duckdb(self, path: Path, read_only: bool, wait: float,
                     on_wait: Callable[[str], None] | None) -> None:
        memory = str(path) == ":memory:"
        if read_only and not memory:
            if not path.exists():
                raise StoreError(
                    f"no store at {path}: run `afterclick ingest SOURCE --store {path}` "
                    "or `afterclick demo` first"
                )
            check_file(path)
        elif not memory:
            if path.exists():
                check_file(path)
                if not os.access(path, os.W_OK):
                    raise StoreReadOnly(f"{path} is read-only (no permission to write it)")
            self._lock = WriteLock.acquire(path, wait, on_wait)
            self.created = not path.exists()
        try:
            self.con = self._connect(path, read_only, wait, on_wait)
            self._configure()
            if not memory and not self.created:
                self._check_afterclick(path)
            if not read_only:
                self._ensure_schema()
            self._recover()
        except BaseException as exc:
            self.discard_if_new()
            self.close()
            if isinstance(exc, duckdb.Error) and disk_full(exc):
                raise StoreError(disk_full_message(str(path))) from None
            if isinstance(exc, duckdb.Error):
                raise StoreError(f"cannot open store {path}: {first_line(exc)}") from None
            raise

    def _connect(self, path: Path, read_only: bool, wait: float,
                 on_wait: Callable[[str], None] | None) -> ibis.BaseBackend:
        deadline, told = time.monotonic() + wait, False
        while True:
            try:
                return ibis.duckdb.connect(str(path), read_only=read_only, **NO_NETWORK)
            except duckdb.Error as exc:
                if not is_lock_conflict(exc):
                    text = first_line(exc)
                    if any(s in text for s in ("Read-only file system", "Permission denied")):
                        raise StoreReadOnly(f"{path} is read-only ({text})") from None
                    if disk_full(exc):
                        raise StoreError(disk_full_message(str(path))) from None
                    if "Corrupt database file" in text:
                        raise StoreError(f"{path} is damaged ({text.removeprefix('IO Error: ')}); "
                                         "restore it from a copy, or ingest the sources again into "
                                         "a new store (docs/store.md)") from None
                    raise StoreError(f"cannot open store {path}: {text}") from None
                told = wait_a_moment(deadline, wait, told, on_wait,
                                     f"{path} is open for writing in another program{lock_holder(exc)}",
                                     f"waiting for another program{lock_holder(exc)} to close {path}…")

    def _configure(self) -> None:
        self.raw.execute("SET TimeZone = 'UTC'")
        self.raw.execute("SET enable_progress_bar = false")
        for key, value in NO_NETWORK.items():  # (also for a connection made elsewhere)
            self.raw.execute(f"SET {key} = {str(value).lower()}")
        limit = os.environ.get("AFTERCLICK_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT)
        self.raw.execute(f"SET memory_limit = '{limit}'")

    def _check_afterclick(self, path: Path) -> None:
        """An afterclick store has its ingest log (or, made by hand, canonical tables)."""
        existing = self._existing()
        if INGEST_LOG not in existing and not existing & set(TABLE_NAMES):
            raise StoreError(f"{path} is a DuckDB database but not an afterclick store (it has no "
                             f"{INGEST_LOG} table nor canonical tables); give the file that "
                             "`afterclick ingest` made, or a new file name to create one")

    def _existing(self) -> set[str]:
        return {r[0] for r in self.raw.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
            "AND database_name = current_database()").fetchall()}

    def _columns(self, name: str) -> set[str]:
        return {r[0] for r in self.raw.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main' "
            "AND database_name = current_database()", [name]).fetchall()}

    def _recover(self) -> None:
        """Remove (writing) or hide (read-only) the rows of ingests that have no log row: an
        ingest killed between its rows' commit and its log's, or during either commit."""
        existing = self._existing()
        if INGEST_LOG not in existing:
            return
        logged = f"(SELECT ingest_id FROM {INGEST_LOG})"
        parts = [f"SELECT DISTINCT {INGEST_ID} AS i FROM {quote_name(n)}" for n in TABLE_NAMES
                 if n in existing and INGEST_ID in self._columns(n)]
        if QUARANTINE in existing:
            parts.append(f"SELECT DISTINCT ingest_id AS i FROM {QUARANTINE}")
        if not parts:
            return
        found = self.raw.execute(
            f"SELECT DISTINCT i FROM ({' UNION ALL '.join(parts)}) WHERE i IS NOT NULL "
            f"AND i NOT IN {logged} ORDER BY i").fetchall()
        self.unfinished = [i for (i,) in found]
        self._hidden = list(self.unfinished)
        if not self.unfinished or self.read_only:
            return
        try:
            self.forget(self.unfinished)
        except duckdb.Error as exc:
            if disk_full(exc) or "read-only" in str(exc).lower():
                return  # hidden for now; removed by the next opening that can write
            raise
        self._hidden = []

    def forget(self, ingest_ids: Iterable[str]) -> None:
        """Delete every row of these ingests (canonical tables and quarantine), in one transaction."""
        ids = list(ingest_ids)
        if not ids:
            return
        existing = self._existing()
        listed = ", ".join(quote_text(i) for i in ids)
        self.raw.execute("BEGIN TRANSACTION")
        try:
            for n in TABLE_NAMES:
                if n in existing and INGEST_ID in self._columns(n):
                    self.raw.execute(f"DELETE FROM {quote_name(n)} WHERE {INGEST_ID} IN ({listed})")
            self.raw.execute(f"DELETE FROM {QUARANTINE} WHERE ingest_id IN ({listed})")
            self.raw.execute("COMMIT")
        except BaseException:
            try:
                self.raw.execute("ROLLBACK")
            except duckdb.Error:
                pass
            raise

    def discard_if_new(self) -> bool:
        """Delete the store file if this run created it and no ingest reached the log; True if so.

        Only while holding the write lock: nothing else can have written to it.
        """
        if not self.created or self._lock is None:
            return False
        try:
            if (getattr(self, "con", None) is not None and INGEST_LOG in self._existing()
                    and self.raw.execute(f"SELECT count(*) FROM {INGEST_LOG}").fetchone()[0]):
                return False
        except duckdb.Error:
            pass  # unreadable: it was new, nothing of it is worth keeping
        self._disconnect()
        path = Path(self.location)
        for p in (path, path.with_name(path.name + ".wal")):
            try:
                p.unlink()
            except FileNotFoundError:
                pass
        self.created = False
        return True

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
            # stores made before an optional column (or the ingest id) was added get it on opening;
            # their rows' ingest id stays empty: they were stored before ingest ids were
            have = self._columns(name)
            for col, dtype in TABLES[name].schema.items():
                if col not in have:
                    self.raw.execute(f'ALTER TABLE "{name}" ADD COLUMN "{col}" {duckdb_type(dtype)}')
            if INGEST_ID not in have:
                self.raw.execute(f'ALTER TABLE "{name}" ADD COLUMN {INGEST_ID} VARCHAR')
            if name in KEYED_TABLES and CUSTOMER_KEY not in have:
                self.raw.execute(f'ALTER TABLE "{name}" ADD COLUMN {CUSTOMER_KEY} BIGINT')
        for name, cols in META_DDL.items():
            self.raw.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})')
        # a store older than the customer keys (or rows written to it by hand): number them now
        unkeyed = [n for n in KEYED_TABLES if unkeyed_rows(self.raw, n)]
        if unkeyed:
            self.raw.execute("BEGIN TRANSACTION")
            try:
                for name in unkeyed:
                    assign_keys(self.raw, name)
                self.raw.execute("COMMIT")
            except BaseException:
                self.raw.execute("ROLLBACK")
                raise

    def _disconnect(self) -> None:
        con = getattr(self, "con", None)
        disconnect = getattr(con, "disconnect", None)
        if disconnect:
            try:
                disconnect()
            except duckdb.Error:
                pass  # e.g. the closing checkpoint on a full disk: the WAL keeps what it holds
        self.con = None

    def close(self) -> None:
        """Close the connection, then let the next writer in (the lock outlives the connection,
        so no other run can write between the two)."""
        self._disconnect()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- canonical tables ----------------------------------------------------------------
    def table_names(self) -> list[str]:
        existing = set(self.con.list_tables())
        return [n for n in TABLE_NAMES if n in existing]

    def _canonical(self, name: str) -> ibis.Table:
        """A canonical table's committed rows (see ``unfinished``), with all its stored columns."""
        t = self.con.table(name)
        if self._hidden and INGEST_ID in t.columns:
            t = t.filter(t[INGEST_ID].isnull() | ~t[INGEST_ID].isin(self._hidden))
        return t

    def counts(self) -> dict[str, int]:
        """Row count of every canonical table present (0 when empty)."""
        return {n: int(self._canonical(n).count().execute()) for n in self.table_names()}

    def tables(self) -> dict[str, ibis.Table]:
        """Canonical tables that hold rows, as Ibis tables (canonical columns, in order: the
        ingest id stays in the store)."""
        return self._tables(keyed=False)[0]

    def kpi_tables(self) -> tuple[dict[str, ibis.Table], ibis.Table | None]:
        """What the KPI engine reads: :meth:`tables` with each ``customer_id`` (and a deal's
        ``primary_contact_id``) holding the customer's integer key instead of the id's text (see
        :mod:`afterclick.store.keys`), and the keys (customer_id, customer_key) to name customers
        by; when some table that names customers holds no keys (see :meth:`customer_keys`), the
        ids as they came and None."""
        return self._tables(keyed=True)

    def _tables(self, keyed: bool) -> tuple[dict[str, ibis.Table], ibis.Table | None]:
        out = {}
        for name, n in self.counts().items():
            if n > 0:
                out[name] = self._canonical(name)
        ids = self.customer_keys(out) if keyed else None
        for name, t in out.items():
            cols = [c for c in TABLES[name].columns if c in t.columns]
            if ids is not None and name in KEYED_TABLES:
                person = KEYED_COLUMNS[name]
                out[name] = t.select(*[t[CUSTOMER_KEY].name(c) if c == person else t[c] for c in cols])
            else:
                out[name] = t if list(t.columns) == cols else t.select(cols)
        existing = set(self.con.list_tables())
        for name in DERIVED_TABLES:
            if name in existing:
                t = self.con.table(name)
                if int(t.count().execute()) > 0:
                    out[name] = t
        return out, ids

    def customer_keys(self, tables: dict[str, ibis.Table] | None = None) -> ibis.Table | None:
        """The customer keys (customer_id, customer_key) when every one of ``tables`` (the
        canonical tables, by default) that names customers holds a key on each of its rows;
        None otherwise (a read-only store older than the keys, tables of another backend's
        catalogue made without them): the KPIs then read the ids' text."""
        tables = {n: self._canonical(n) for n in self.table_names()} if tables is None else tables
        if CUSTOMER_KEYS not in set(self.con.list_tables()):
            return None
        for name, t in tables.items():
            if name in KEYED_TABLES and (CUSTOMER_KEY not in t.columns or self._unkeyed(name)):
                return None
        return self.con.table(CUSTOMER_KEYS)

    def _unkeyed(self, name: str) -> bool:
        return bool(unkeyed_rows(self.raw, name)) if self.is_duckdb else False

    # -- bookkeeping ---------------------------------------------------------------------
    def quarantine(self, ingest_id: str | None = None) -> pd.DataFrame:
        q = self.con.table(QUARANTINE)
        if ingest_id:
            q = q.filter(q.ingest_id == ingest_id)
        if self._hidden:
            q = q.filter(~q.ingest_id.isin(self._hidden))
        return q.execute()

    def ingest_log(self) -> pd.DataFrame:
        return self.con.table(INGEST_LOG).order_by("started_at").execute()

    def save_snapshots(self, run_id: str, rows: Iterable[dict[str, Any]]) -> int:
        """Append KPI headline values for one run (see :mod:`afterclick.store.snapshots`)."""
        return save_snapshots(self, run_id, rows)

    def snapshots(self, kpi_id: str | None = None) -> pd.DataFrame:
        return read_snapshots(self, kpi_id)
