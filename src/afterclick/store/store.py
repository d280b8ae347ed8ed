"""The store: canonical tables, the quarantine, the ingest log and KPI snapshots.

By default a DuckDB file (embedded, nothing to run). Any Ibis connection URL is accepted for
reading (``pyspark://``, ``postgres://``…); writing (ingest, snapshots) needs DuckDB.

What a DuckDB store promises (docs/store.md):

* every canonical row carries the id of the ingest that wrote it (``_ingest_id``, never shown to
  KPIs); an ingest writes its rows in one transaction and its ingest-log rows, the commit marker,
  in a second one; rows of an ingest without a log row are removed when the store is next opened
  for writing, and hidden from a read-only store;
* one writer at a time: a writer holds ``<store>.lock`` (an advisory lock, removed on closing);
  the next waits up to ``AFTERCLICK_LOCK_TIMEOUT`` seconds, then stops with one line;
* no connection it opens downloads or loads a DuckDB extension by itself (nothing goes on the
  network); a file that is not an afterclick store is refused in one line.
"""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import ibis
import pandas as pd

from afterclick.core.connections import NO_NETWORK
from afterclick.schemas import DERIVED_TABLES, TABLE_NAMES, TABLES

DEFAULT_STORE = "afterclick.duckdb"
#: DuckDB's working memory (it spills to disk beyond it); raise it with AFTERCLICK_MEMORY_LIMIT
#: for big data on a big machine.
DEFAULT_MEMORY_LIMIT = "1GB"

#: How long a second writer (or a reader, while a writer works) waits for the store, in seconds.
DEFAULT_LOCK_TIMEOUT = 60.0
#: The hidden column that ties each canonical row to its ingest (the ingest log's ingest_id).
INGEST_ID = "_ingest_id"
#: A DuckDB database file holds these bytes at offset 8.
_DUCKDB_MAGIC = b"DUCK"

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


class StoreReadOnly(StoreError):
    """The store can be read but not written (file, folder or disk read-only)."""


def connect_duckdb(database: str | Path = ":memory:", *, read_only: bool = False,
                   **config: Any) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that never fetches an extension from the network."""
    return duckdb.connect(str(database), read_only=read_only, config={**NO_NETWORK, **config})


def disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (a DuckDB or OS error) says the disk, a quota or a file-size limit is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    text = str(exc)
    return any(s in text for s in ("No space left on device", "Disk quota exceeded", "File too large"))


def disk_full_message(location: str) -> str:
    return (f"no space left on the disk that holds {location} (or a file-size limit was reached): "
            "nothing of this run was stored; free some space and run it again")


def _lock_timeout() -> float:
    try:
        return max(0.0, float(os.environ.get("AFTERCLICK_LOCK_TIMEOUT", DEFAULT_LOCK_TIMEOUT)))
    except ValueError:
        return DEFAULT_LOCK_TIMEOUT


def _is_lock_conflict(exc: BaseException) -> bool:
    return "Could not set lock on file" in str(exc) or "Conflicting lock" in str(exc)


def _holder(exc: BaseException) -> str:
    """' (process 123)' from DuckDB's lock message, when it names one."""
    text = str(exc)
    if "(PID " in text:
        pid = text.split("(PID ", 1)[1].split(")", 1)[0]
        if pid.isdigit():
            return f" (process {pid})"
    return ""


def _check_file(path: Path) -> None:
    """Refuse, in one line, a file that cannot be a DuckDB store (before DuckDB opens it: it
    would try to load an extension for a SQLite file)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not an afterclick store; give a file name to --store")
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except PermissionError:
        raise StoreError(f"cannot read {path}: permission denied") from None
    if head[8:12] == _DUCKDB_MAGIC:
        return
    what = ("an empty file" if not head else "a SQLite database" if head.startswith(b"SQLite format 3")
            else "not a DuckDB file")
    raise StoreError(f"{path} is not an afterclick store ({what}); give the file that "
                     "`afterclick ingest` made, or a new file name to create one")


class _WriteLock:
    """An advisory lock on ``<store>.lock`` held by the one process that writes the store.

    The lock file is removed by its holder on release; a waiter that locked a file which was
    removed meanwhile (a different inode than the path now names) tries again.
    """

    _held: ClassVar[dict[str, list]] = {}  # path -> [lock, count]: a process may open its store twice
    _mutex: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: Path):
        self.path = path.with_name(path.name + ".lock")
        self.fd: int | None = None

    @classmethod
    def acquire(cls, path: Path, timeout: float, on_wait: Callable[[str], None] | None) -> _WriteLock:
        key = str(path.resolve())
        with cls._mutex:
            if key in cls._held:
                cls._held[key][1] += 1
                return cls._held[key][0]
        lock = cls(path)
        lock._take(path, timeout, on_wait)
        with cls._mutex:
            cls._held[key] = [lock, 1]
        lock.key = key
        return lock

    def _take(self, store: Path, timeout: float, on_wait: Callable[[str], None] | None) -> None:
        try:
            import fcntl
        except ImportError:  # no advisory locks here: DuckDB's own file lock still keeps writers apart
            return
        deadline, told = time.monotonic() + timeout, False
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise StoreReadOnly(f"{store} is read-only (cannot write beside it: "
                                        f"{os.strerror(exc.errno).lower()})") from None
                if disk_full(exc):
                    raise StoreError(disk_full_message(str(store))) from None
                if exc.errno == errno.ENOENT:
                    raise StoreError(f"cannot create store {store}: the folder {store.parent} does "
                                     "not exist") from None
                raise StoreError(f"cannot write store {store}: {exc.strerror}") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{store} is being written by another afterclick run{holder}; waited "
                        f"{timeout:g} s: run this again when it has finished "
                        "(AFTERCLICK_LOCK_TIMEOUT sets the wait)") from None
                if not told and on_wait is not None:
                    on_wait(f"waiting for another afterclick run{holder} to finish writing to {store}…")
                    told = True
                time.sleep(0.05)
                continue
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)  # its holder removed that lock file as we opened it: take the new one
        self.fd = fd
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            pass  # the pid is only for the waiting message

    def release(self) -> None:
        with self._mutex:
            entry = self._held.get(getattr(self, "key", ""))
            if entry is not None:
                entry[1] -= 1
                if entry[1] > 0:
                    return
                del self._held[self.key]
        if self.fd is not None:
            try:
                os.unlink(self.path)  # while still locked: a waiter sees the change and retries
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None


@contextmanager
def write_lock(location: str | Path, *, wait: float | None = None,
               on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold a store's write lock (for work around a store: checking, deleting and rebuilding it).

    A ``Store`` opened for writing inside it, in this process, shares the lock.
    """
    lock = _WriteLock.acquire(Path(str(location).removeprefix("duckdb://")),
                              _lock_timeout() if wait is None else wait, on_wait)
    try:
        yield
    finally:
        lock.release()


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return f" (process {text})" if text.isdigit() else ""


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


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def canonical_ddl(name: str) -> str:
    cols = ", ".join(f'"{c}" {_duckdb_type(t)}' for c, t in TABLES[name].schema.items())
    return f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})'


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
        self._lock: _WriteLock | None = None
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
                                  _lock_timeout() if wait is None else wait, on_wait)
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
            _check_file(path)
        elif not memory:
            if path.exists():
                _check_file(path)
                if not os.access(path, os.W_OK):
                    raise StoreReadOnly(f"{path} is read-only (no permission to write it)")
            self._lock = _WriteLock.acquire(path, wait, on_wait)
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
                raise StoreError(f"cannot open store {path}: {_first_line(exc)}") from None
            raise

    def _connect(self, path: Path, read_only: bool, wait: float,
                 on_wait: Callable[[str], None] | None) -> ibis.BaseBackend:
        deadline, told = time.monotonic() + wait, False
        while True:
            try:
                return ibis.duckdb.connect(str(path), read_only=read_only, **NO_NETWORK)
            except duckdb.Error as exc:
                if not _is_lock_conflict(exc):
                    text = _first_line(exc)
                    if any(s in text for s in ("Read-only file system", "Permission denied")):
                        raise StoreReadOnly(f"{path} is read-only ({text})") from None
                    if disk_full(exc):
                        raise StoreError(disk_full_message(str(path))) from None
                    if "Corrupt database file" in text:
                        raise StoreError(f"{path} is damaged ({text.removeprefix('IO Error: ')}); "
                                         "restore it from a copy, or ingest the sources again into "
                                         "a new store (docs/store.md)") from None
                    raise StoreError(f"cannot open store {path}: {text}") from None
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{path} is open for writing in another program{_holder(exc)}; waited "
                        f"{wait:g} s: run this again when it has finished "
                        "(AFTERCLICK_LOCK_TIMEOUT sets the wait)") from None
                if not told and on_wait is not None:
                    on_wait(f"waiting for another program{_holder(exc)} to close {path}…")
                    told = True
                time.sleep(0.05)

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
        parts = [f"SELECT DISTINCT {INGEST_ID} AS i FROM {_q(n)}" for n in TABLE_NAMES
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
        listed = ", ".join(_lit(i) for i in ids)
        self.raw.execute("BEGIN TRANSACTION")
        try:
            for n in TABLE_NAMES:
                if n in existing and INGEST_ID in self._columns(n):
                    self.raw.execute(f"DELETE FROM {_q(n)} WHERE {INGEST_ID} IN ({listed})")
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
                    self.raw.execute(f'ALTER TABLE "{name}" ADD COLUMN "{col}" {_duckdb_type(dtype)}')
            if INGEST_ID not in have:
                self.raw.execute(f'ALTER TABLE "{name}" ADD COLUMN {INGEST_ID} VARCHAR')
        for name, cols in _META_DDL.items():
            self.raw.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({cols})')

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
        out = {}
        for name, n in self.counts().items():
            if n > 0:
                t = self._canonical(name)
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
        if self._hidden:
            q = q.filter(~q.ingest_id.isin(self._hidden))
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
