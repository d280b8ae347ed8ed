"""Load a folder of files into the store: every row loaded, already stored, or quarantined.

Checking and loading run in one DuckDB transaction: a failure (or Ctrl-C) anywhere leaves the
store exactly as it was. Validation happens in the database, so ten million rows need no Python
loop. How the files go in:

1. *stage* (before the transaction; only temporary tables): hash each file (an identical file
   ingested before is skipped), read CSV/TSV and JSON lines as text into a temporary table (lines
   the reader cannot take, e.g. bytes that are not UTF-8, go to its rejects table); Parquet is
   read in place. A missing required column stops everything here.
2. *check*: a view turns every row into canonical, typed columns plus ``_bad``, the reason when
   something is wrong with it; one pass over it keeps what was found in a small table
   (``_row``, ``_bad``, key hash, unknown event name).
3. *duplicates*: rows whose key hash occurs twice are compared exactly; later copies are set
   aside. Rows already in the store (same values) count as already stored; the same key with
   other values is a conflict and set aside.
4. *load*: good new rows go into the canonical table (parsed again from the view: cheaper than
   keeping ten million typed rows), the others into the quarantine with their reason, location
   (``line N`` in text files, ``row N`` in Parquet) and raw text; one row per file goes into the
   ingest log.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from afterclick.ingest.mapping import EPOCH_FORMATS, Mapping, TableMapping, load_mapping
from afterclick.schemas import (
    CONTENT_GOALS,
    DEFAULT_SURVEY_RANGE,
    EVENT_VOCABULARY,
    SURVEY_RANGES,
    TABLES,
    TableSpec,
)
from afterclick.store import INGEST_LOG, QUARANTINE, Store

#: File name endings and the format they mean (``.gz`` may follow the text formats).
FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
}
_TEXT_FORMATS = ("csv", "tsv", "jsonl")


class IngestError(RuntimeError):
    """Input that cannot be loaded at all; the message is one line saying what and where."""


@dataclass
class FileSummary:
    table: str
    path: str
    rows_read: int = 0
    loaded: int = 0
    already_stored: int = 0
    quarantined: int = 0
    #: Why rows were quarantined: reason -> rows (each quarantined row counted once).
    reasons: dict[str, int] = field(default_factory=dict)
    #: Loaded events whose name is outside the canonical vocabulary: name -> rows.
    unknown_events: dict[str, int] = field(default_factory=dict)
    #: Loaded content items whose ``goal`` is not a canonical event name: goal -> rows.
    unknown_goals: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    note: str | None = None  # e.g. "empty file", "identical to a file ingested before"

    @property
    def adds_up(self) -> bool:
        return self.rows_read == self.loaded + self.already_stored + self.quarantined


@dataclass
class IngestSummary:
    ingest_id: str
    source: str
    files: list[FileSummary] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def already_stored(self) -> int:
        return sum(f.already_stored for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def unknown_events(self) -> dict[str, int]:
        return _added(f.unknown_events for f in self.files)

    @property
    def unknown_goals(self) -> dict[str, int]:
        return _added(f.unknown_goals for f in self.files)

    @property
    def adds_up(self) -> bool:
        return all(f.adds_up for f in self.files) and (
            self.rows_read == self.loaded + self.already_stored + self.quarantined
        )


def _added(counts) -> dict[str, int]:
    """name -> rows, summed over the files."""
    out: dict[str, int] = {}
    for one in counts:
        for name, n in one.items():
            out[name] = out.get(name, 0) + n
    return out


@dataclass(frozen=True)
class _Task:
    spec: TableSpec
    path: Path
    fmt: str  # csv, tsv, parquet, jsonl
    mapping: TableMapping


Progress = Callable[[str, int, int], None]  # (message, step, total)


# -- finding the files ------------------------------------------------------------------------
def _split_name(p: Path) -> tuple[str, str, bool]:
    """``events.csv.gz`` -> ("events", ".csv", True)."""
    name = p.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    stem, dot, ext = name.rpartition(".")
    return (stem, dot + ext, compressed) if dot else (name, "", compressed)


def _format_of(p: Path, tm: TableMapping) -> str | None:
    if tm.format:
        return tm.format
    _, ext, compressed = _split_name(p)
    fmt = FORMATS.get(ext)
    if fmt == "parquet" and compressed:
        return None
    return fmt


def find_sources(source: str | Path, mapping: Mapping) -> tuple[list[_Task], list[str]]:
    """Which file feeds which table; files that match no table are returned as ignored."""
    source = Path(source)
    if not source.exists():
        raise IngestError(f"{source}: no such file or folder")
    folder = source if source.is_dir() else source.parent
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    else:
        files = [source]
    tasks: list[_Task] = []
    used: set[Path] = set()
    for name, spec in TABLES.items():
        tm = mapping.for_table(name)
        if tm.file:
            path = folder / tm.file
            if not source.is_dir() and path.resolve() != source.resolve():
                continue  # one file given: only the table(s) it feeds
            if not path.is_file():
                raise IngestError(f"{path}: file named in the mapping for {name} does not exist")
            candidates = [path]
        else:
            candidates = [p for p in files if _split_name(p)[0] == name]
            if len(candidates) > 1:
                known = [p for p in candidates if _format_of(p, tm)]
                candidates = known or candidates
        if len(candidates) > 1:
            raise IngestError(
                f"{folder}: several files for table {name} ({', '.join(p.name for p in candidates)}); "
                "keep one or name it in a mapping file"
            )
        for path in candidates:
            fmt = _format_of(path, tm)
            if fmt is None:
                raise IngestError(
                    f"{path}: unsupported format for table {name} (use .csv, .tsv, .parquet or .jsonl, "
                    "text formats optionally .gz, or set format in a mapping file)"
                )
            tasks.append(_Task(spec, path, fmt, tm))
            used.add(path.resolve())
    skip = {mapping.path.resolve()} if mapping.path else set()
    ignored = [p.name for p in files if p.resolve() not in used and p.resolve() not in skip
               and not p.name.endswith((".duckdb", ".duckdb.wal"))]
    if not tasks:
        what = f"{source}: not named after" if not source.is_dir() else f"{source}: no file named after"
        raise IngestError(
            f"{what} a canonical table ({', '.join(TABLES)}) with .csv, .tsv, .parquet or .jsonl; "
            "rename or name the file in a mapping file (--mapping)"
        )
    return tasks, ignored


# -- small helpers ----------------------------------------------------------------------------
def _head(path: Path, n: int = 1 << 20) -> bytes:
    """The first ``n`` bytes of a file, decompressed when it is gzipped."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(n)
    except (OSError, EOFError) as exc:
        raise IngestError(f"{path}: cannot be read ({exc})") from None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _csv_trouble(exc: BaseException, head: bytes) -> str:
    """What went wrong reading a CSV file, in a few words."""
    text = _first_line(exc)
    if "sniffing" in text:
        if b"\r\n" in head and b"\n" in head.replace(b"\r\n", b""):
            return "it mixes Windows (CRLF) and Unix (LF) line endings; save it with one kind"
        return "its delimiter and quoting could not be detected; set delimiter in a mapping file"
    return text


def _is_json(text: bytes) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _noop(message: str, step: int, total: int) -> None:
    pass


# -- the ingest -------------------------------------------------------------------------------
def ingest(
    store: Store,
    source: str | Path,
    mapping: Mapping | str | Path | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Ingest a folder (or one file) of canonical tables into ``store``.

    Returns the summary; raises :class:`IngestError` (store untouched) when a file cannot be
    loaded at all: missing required column, unreadable file, unsupported format. Anything raised
    on the way, including by ``progress``, rolls the whole ingest back.
    """
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    tasks, ignored = find_sources(source, mapping)
    summary = IngestSummary(ingest_id=uuid.uuid4().hex[:12], source=str(source), ignored_files=ignored)
    started = datetime.now(UTC)
    con = store.raw
    report = progress or _noop
    total = len(tasks)

    # 1. Stage every file in temporary tables (the store is not touched): a file that cannot be
    #    loaded at all stops the ingest here.
    staged: list[tuple[FileSummary, _Staged | None, str]] = []
    try:
        for i, task in enumerate(tasks):
            report(f"reading {task.path.name}", i, total)
            staged.append(_prepare(con, task, f"_ac_{summary.ingest_id}_{i}"))
        summary.files = [fs for fs, _, _ in staged]

        # 2. Check and load everything in one transaction.
        con.execute("BEGIN TRANSACTION")
        try:
            for i, (fs, st, digest) in enumerate(staged):
                if st is None:
                    continue
                _run(con, st, fs, lambda msg, i=i: report(msg, i, total), summary, started, digest)
                if not fs.adds_up:  # an internal invariant: never commit an ingest that loses rows
                    raise IngestError(
                        f"{st.task.path}: accounting does not add up ({fs.rows_read} read, {fs.loaded} "
                        f"loaded, {fs.already_stored} already stored, {fs.quarantined} quarantined)"
                    )
            report("saving", total, total)
            con.execute("COMMIT")
        except BaseException:
            _stop(con)
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass  # nothing to roll back (the failure was the commit itself)
            raise
    except BaseException as exc:
        _stop(con)
        if _interrupted(exc):
            raise KeyboardInterrupt from None
        raise
    finally:
        _cleanup(con)
    return summary


def _stop(con) -> None:
    """Stop whatever DuckDB may still be running.

    On Ctrl-C, DuckDB's Python client raises ``RuntimeError('Query interrupted')`` but lets the
    query run on in the background; the next statement (the rollback) would wait for it to finish.
    """
    try:
        con.interrupt()
    except Exception:
        pass


def _interrupted(exc: BaseException) -> bool:
    return isinstance(exc, (KeyboardInterrupt, duckdb.InterruptException)) or (
        type(exc) is RuntimeError and "interrupted" in str(exc).lower()
    )


def _cleanup(con) -> None:
    """Back to UTC, and drop this module's temporary views and tables."""
    try:
        con.execute("SET TimeZone = 'UTC'")
        views = con.execute("SELECT view_name FROM duckdb_views() WHERE temporary "
                            "AND starts_with(view_name, '_ac_')").fetchall()
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary "
                             "AND starts_with(table_name, '_ac_')").fetchall()
        for kind, names in (("VIEW", views), ("TABLE", tables)):
            for (name,) in names:
                con.execute(f"DROP {kind} IF EXISTS temp.{_q(name)}")
    except duckdb.Error:
        pass


def _prepare(con, task: _Task, prefix: str) -> tuple[FileSummary, _Staged | None, str]:
    """Hash, skip if seen or empty, stage and check the columns of one file."""
    fs = FileSummary(task.spec.name, str(task.path))
    digest, blank_lines = _fingerprint(task.path, task.fmt in ("csv", "tsv"))
    seen = con.execute(
        f"SELECT min(started_at)::VARCHAR FROM {INGEST_LOG} WHERE table_name = ? AND sha256 = ?",
        [task.spec.name, digest],
    ).fetchone()[0]
    if seen is not None:
        fs.note = f"identical to the file ingested at {seen[:19]} UTC; skipped, nothing to add"
        return fs, None, digest
    if task.path.stat().st_size == 0:
        fs.note = "empty file (0 bytes); nothing loaded"
        return fs, None, digest
    head = b""
    if task.fmt in _TEXT_FORMATS:
        head = _head(task.path)
        if len(head) < (1 << 20) and not head.removeprefix(b"\xef\xbb\xbf").strip():
            fs.note = "empty file (only blank lines); nothing loaded"
            return fs, None, digest
    if task.fmt == "jsonl":
        first = head.lstrip().split(b"\n", 1)[0].strip()
        if first.startswith(b"[") and not _is_json(first):
            raise IngestError(
                f"{task.path}: holds one JSON array, not JSON lines; write one JSON object per line"
            )
    try:
        st = _Staged.stage(con, task, prefix, head, blank_lines)
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except duckdb.Error as exc:
        raise IngestError(f"{task.path}: cannot be read ({_first_line(exc)})") from None
    if st.rows == 0 and not st.rejects:
        st.check_columns(fs, required=bool(st.columns))
        fs.note = ("empty file (header only, no rows); nothing loaded" if task.fmt in ("csv", "tsv")
                   else "empty file (no rows); nothing loaded")
        return fs, None, digest
    st.check_columns(fs, required=True)
    return fs, st, digest


def _run(con, st: _Staged, fs: FileSummary, report: Callable[[str], None], summary: IngestSummary,
         started: datetime, digest: str) -> None:
    task = st.task
    try:
        # naive timestamps are read in the session time zone: the mapping's, or UTC
        con.execute(f"SET TimeZone = {_lit(task.mapping.timezone or 'UTC')}")
        report(f"checking {task.path.name}")
        _check(con, task, st, st.prefix)
        report(f"loading {task.path.name}")
        _load(con, task, st, st.prefix, summary.ingest_id, fs)
        con.execute(
            f"INSERT INTO {INGEST_LOG} VALUES (?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [summary.ingest_id, started, summary.source, task.spec.name, str(task.path), digest,
             fs.rows_read, fs.loaded, fs.already_stored, fs.quarantined, _details(fs)],
        )
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except duckdb.Error as exc:
        raise IngestError(f"{task.path}: cannot be loaded ({_first_line(exc)})") from None
    con.execute("SET TimeZone = 'UTC'")  # (after a failure, _cleanup does it once rolled back)


def _fingerprint(path: Path, find_blank: bool) -> tuple[str, bool]:
    """SHA-256 of the file, and whether it may hold empty lines (which the CSV reader skips)."""
    h = hashlib.sha256()
    blank = False
    compressed = path.name.lower().endswith(".gz")
    prev = b"\n"  # the start of the file counts as after a line break
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
            if find_blank and not blank and not compressed:
                edge = prev + chunk[:2]  # a blank line across two chunks
                blank = any(b in part for b in (b"\n\n", b"\n\r\n") for part in (chunk, edge))
                prev = chunk[-2:]
    return h.hexdigest(), blank or (find_blank and compressed)


def _details(fs: FileSummary) -> str:
    return json.dumps({"reasons": fs.reasons, "unknown_events": fs.unknown_events,
                       **({"unknown_goals": fs.unknown_goals} if fs.unknown_goals else {}),
                       "ignored_columns": fs.ignored_columns, "note": fs.note})


# -- staging ----------------------------------------------------------------------------------
_REJECT_REASONS = {
    "INVALID ENCODING": "bytes that are not UTF-8",
    "TOO MANY COLUMNS": "more fields than the header",
    "MISSING COLUMNS": "fewer fields than the header",
    "UNQUOTED VALUE": "badly quoted field",
    "LINE SIZE OVER MAXIMUM": "line too long (over 2 MB)",
}


class _Staged:
    """A file made readable by SQL: where its rows are, their columns and the lines refused."""

    def __init__(self, task: _Task, prefix: str):
        self.task = task
        self.prefix = prefix
        self.raw = f"{prefix}_raw"
        self.rej = f"{prefix}_rej"
        self.columns: dict[str, str] = {}  # source column -> DuckDB type
        self.rows = 0  # rows the reader accepted (not counting blank lines)
        self.rejects = 0  # lines the reader refused
        self.source_of: dict[str, str] = {}  # canonical -> source column
        self.blank_lines = False  # a CSV that may hold empty lines (skipped by the reader)

    @classmethod
    def stage(cls, con, task: _Task, prefix: str, head: bytes, blank_lines: bool) -> _Staged:
        self = cls(task, prefix)
        self.blank_lines = blank_lines
        path = _lit(str(task.path))
        rejects = f"store_rejects=true, rejects_table={_lit(self.rej)}, rejects_scan={_lit(self.rej + '_scan')}"
        if task.fmt in ("csv", "tsv"):
            first = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0]
            try:
                first.decode("utf-8")
            except UnicodeDecodeError:
                raise IngestError(
                    f"{task.path}: line 1 (the header) has bytes that are not UTF-8; save the file as UTF-8"
                ) from None
            delim = task.mapping.delimiter or ("\t" if task.fmt == "tsv" else None)
            opts = f", delim={_lit(delim)}" if delim else ""
            try:
                con.execute(
                    f"CREATE TEMP TABLE {self.raw} AS SELECT * FROM read_csv({path}, all_varchar=true, "
                    f"header=true, skip=0, {rejects}{opts})"
                )
            except duckdb.InterruptException:
                raise KeyboardInterrupt from None
            except duckdb.Error as exc:
                raise IngestError(f"{task.path}: cannot be read as CSV ({_csv_trouble(exc, head)})") from None
            self.columns = {c: "VARCHAR" for c, *_ in con.execute(f"DESCRIBE {self.raw}").fetchall()}
            self.rows = con.execute(f"SELECT count(*) FROM {self.raw}").fetchone()[0]
            if blank_lines:
                # the CSV reader skips empty lines; find them by reading the file as plain lines
                # (latin-1 takes any byte, so every line is kept and rowid + 1 is its line number)
                con.execute(
                    f"CREATE TEMP TABLE {prefix}_blank AS SELECT _l IS NULL AS blank "
                    f"FROM read_csv({path}, columns={{'_l': 'VARCHAR'}}, header=false, delim='\x1e', "
                    "quote='', escape='', auto_detect=false, encoding='latin-1', strict_mode=false)"
                )
        elif task.fmt == "jsonl":
            try:
                con.execute(
                    f"CREATE TEMP TABLE {self.raw} AS SELECT _line FROM read_csv({path}, "
                    "columns={'_line': 'VARCHAR'}, header=false, delim='\x1e', quote='', escape='', "
                    f"auto_detect=false, {rejects})"
                )
            except duckdb.InterruptException:
                raise KeyboardInterrupt from None
            except duckdb.Error as exc:
                raise IngestError(f"{task.path}: cannot be read as JSON lines ({_first_line(exc)})") from None
            self.rows = con.execute(
                f"SELECT count(*) FROM {self.raw} WHERE trim(_line, ' ' || chr(9)) <> ''"
            ).fetchone()[0]
            keys = con.execute(
                f"SELECT DISTINCT unnest(json_keys(_line)) FROM {self.raw} "
                "WHERE json_valid(_line) AND json_type(_line) = 'OBJECT'"
            ).fetchall()
            self.columns = {k: "VARCHAR" for k, in sorted(keys)}
        else:
            try:
                described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()
                self.rows = con.execute(f"SELECT count(*) FROM read_parquet({path})").fetchone()[0]
            except duckdb.InterruptException:
                raise KeyboardInterrupt from None
            except duckdb.Error as exc:
                raise IngestError(f"{task.path}: cannot be read as Parquet ({_first_line(exc)})") from None
            self.columns = {c: t for c, t, *_ in described}
            return self
        self.rejects = con.execute(f"SELECT count(DISTINCT line) FROM {self.rej}").fetchone()[0]
        return self

    # where the rows come from, with ``_row`` (0-based position among the rows the reader kept)
    def relation(self) -> str:
        if self.task.fmt == "parquet":
            return (f"(SELECT file_row_number AS _row, * EXCLUDE (file_row_number) "
                    f"FROM read_parquet({_lit(str(self.task.path))}, file_row_number=true))")
        if self.task.fmt == "jsonl":
            return (f"(SELECT rowid AS _row, _line, CASE WHEN json_valid(_line) THEN _line::JSON END AS _j "
                    f"FROM {self.raw} WHERE trim(_line, ' ' || chr(9)) <> '')")
        return f"(SELECT rowid AS _row, * FROM {self.raw})"

    def check_columns(self, fs: FileSummary, required: bool) -> None:
        spec, tm, cols = self.task.spec, self.task.mapping, list(self.columns)
        by_name = {}
        for c in reversed(cols):
            by_name[c.strip().lower()] = c
        for canonical in spec.columns:
            wanted = tm.source_column(canonical)
            found = wanted if wanted in self.columns else by_name.get(wanted.strip().lower())
            if found is not None:
                self.source_of[canonical] = found
        missing = [c for c in spec.required if c not in self.source_of]
        # a JSON-lines file without a single object: every line is quarantined as such instead
        if required and missing and (self.task.fmt != "jsonl" or cols):
            names = ", ".join(
                f"'{tm.source_column(c)}'" + ("" if tm.source_column(c) == c else f" (for {c})") for c in missing
            )
            shown = ", ".join(cols[:12]) + (" …" if len(cols) > 12 else "") if cols else "none"
            word = "column" if len(missing) == 1 else "columns"
            raise IngestError(
                f"{self.task.path}: required {word} {names} missing for table {spec.name} (found: {shown}); "
                "rename or map it in a mapping file (--mapping)"
            )
        used = set(self.source_of.values())
        fs.ignored_columns = [c for c in cols if c not in used]

    # -- locations --------------------------------------------------------------------------
    def skipped_records(self, con) -> str | None:
        """A temp table of the lines the reader skipped, for turning ``_row`` into a line number.

        Returns the table's name (columns ``k``, ``j``: a kept row with 1-based rank ``a`` sits
        after ``j`` skipped lines, ``j`` the largest with ``k < a``), or None when nothing was skipped.
        """
        if self.task.fmt == "parquet":
            return None
        header = 1 if self.task.fmt in ("csv", "tsv") else 0
        parts = []
        if self.rejects:
            parts.append(f"SELECT DISTINCT line - {header} AS r FROM {self.rej}")
        if header and self.blank_lines:
            parts.append(f"SELECT rowid + 1 - {header} AS r FROM {self.prefix}_blank WHERE blank")
        if not parts:
            return None
        name = f"{self.prefix}_skip"
        con.execute(
            f"CREATE TEMP TABLE {name} AS SELECT k, max(j) AS j FROM ("
            f"SELECT r - row_number() OVER (ORDER BY r) AS k, row_number() OVER (ORDER BY r) AS j "
            f"FROM (SELECT DISTINCT r FROM ({' UNION ALL '.join(parts)}))) GROUP BY k"
        )
        return name

    def where(self, ordinal: str, skip: str | None, alias: str) -> tuple[str, str]:
        """(join clause, SQL for the location text) of a 0-based kept-row ordinal."""
        if self.task.fmt == "parquet":
            return "", f"'row ' || ({ordinal} + 1)::VARCHAR"
        header = 1 if self.task.fmt in ("csv", "tsv") else 0
        if skip is None:
            return "", f"'line ' || ({ordinal} + {1 + header})::VARCHAR"
        join = f"ASOF LEFT JOIN {skip} {alias} ON {ordinal} + 1 > {alias}.k"
        return join, f"'line ' || ({ordinal} + {1 + header} + coalesce({alias}.j, 0))::VARCHAR"


# -- checking ---------------------------------------------------------------------------------
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_TS_NATIVE = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATE", "TIMESTAMP WITH TIME ZONE")
_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE")


def _is_numeric(dtype: str) -> bool:
    return dtype in _NUMERIC or dtype.startswith("DECIMAL")


def _check(con, task: _Task, staged: _Staged, prefix: str) -> None:
    """Create the view ``{prefix}_v`` (one row per source row: ``_row``, the canonical typed columns
    and ``_bad``, the reason when something is wrong) and the table ``{prefix}_c`` of what the
    checks found (``_row``, ``_bad``, key hash ``_h``, unknown event name, ``_stored``, ``_dup_of``)."""
    spec, tm = task.spec, task.mapping
    jsonl = task.fmt == "jsonl"
    used = list(staged.source_of.items())  # (canonical, source)

    # level 1: each used source value, trimmed text (NULL when empty) or a native value
    inputs, kinds = [], {}
    json_paths = [f"$.{_q(src)}" for _, src in used]
    for n, (col, src) in enumerate(used):
        stype = staged.columns[src]
        dtype = spec.schema[col]
        ref = f"_v[{n + 1}]" if jsonl else _q(src)
        if dtype.is_timestamp() and stype == "TIMESTAMP WITH TIME ZONE":
            kind, expr = "ts_instant", ref
        elif dtype.is_timestamp() and stype in _TS_NATIVE:
            kind, expr = "ts_native", ref
        elif dtype.is_timestamp() and _is_numeric(stype) and tm.timestamp_format in EPOCH_FORMATS:
            kind, expr = "num", f"CAST({ref} AS DOUBLE)"
        elif dtype.is_floating() and _is_numeric(stype):
            kind, expr = "num", f"CAST({ref} AS DOUBLE)"
        elif dtype.is_boolean() and stype == "BOOLEAN":
            kind, expr = "bool", ref
        elif stype == "VARCHAR":
            kind, expr = "text", f"NULLIF(trim({ref}), '')"
        else:
            kind, expr = "text", f"NULLIF(trim(CAST({ref} AS VARCHAR)), '')"
        kinds[col] = kind
        inputs.append(f"{expr} AS {_q('x_' + col)}")
    extra = ["_line", "_j"] if jsonl else []
    inner_from = staged.relation()
    if jsonl and json_paths:
        paths = "[" + ", ".join(_lit(p) for p in json_paths) + "]"
        inner_from = f"(SELECT *, json_extract_string(_j, {paths}) AS _v FROM {inner_from})"
    level1 = f"SELECT _row, {', '.join(extra + inputs) or 'NULL AS _none'} FROM {inner_from}"

    # level 2: parsed values (may still be NaN / infinite; level 3 decides)
    parsed, finals, problems = [], [], []
    for col, dtype in spec.schema.items():
        x, p = _q("x_" + col), _q("p_" + col)
        src = staged.source_of.get(col)
        if src is None:
            finals.append(f"NULL::{_sql_type(dtype)} AS {_q(col)}")
            continue
        kind = kinds[col]
        label = col if src == col else f"{col} (column {src})"
        required = col in spec.required
        if dtype.is_timestamp():
            parsed.append(f"{_parse_ts(x, kind, tm)} AS {p}")
            # stored as UTC without a zone (see schemas._TS)
            # (epoch microseconds back to a plain timestamp: same instant, no calendar library)
            finals.append(f"CASE WHEN isfinite({p}) THEN make_timestamp(epoch_us({p})) END AS {_q(col)}")
            if required:
                problems.append((f"{x} IS NULL", f"missing {label}"))
            problems.append((f"{x} IS NOT NULL AND ({p} IS NULL OR NOT isfinite({p}))",
                             f"unparsable timestamp in {label}"))
        elif dtype.is_floating():
            parsed.append(f"{x if kind == 'num' else f'TRY_CAST({x} AS DOUBLE)'} AS {p}")
            finals.append(f"CASE WHEN isfinite({p}) THEN {p} END AS {_q(col)}")
            if required:
                problems.append((f"{x} IS NULL OR isnan({p})", f"missing {label}"))
            if kind == "text":
                problems.append((f"{x} IS NOT NULL AND {p} IS NULL", f"not a number in {label}"))
            problems.append((f"isinf({p})", f"not a finite number in {label}"))
        elif dtype.is_boolean():
            if kind == "bool":
                parsed.append(f"{x} AS {p}")
            else:
                t = ", ".join(_lit(v) for v in _TRUE)
                f = ", ".join(_lit(v) for v in _FALSE)
                parsed.append(f"CASE WHEN lower({x}) IN ({t}) THEN true WHEN lower({x}) IN ({f}) THEN false END AS {p}")
                problems.append((f"{x} IS NOT NULL AND {p} IS NULL", f"not true/false in {label}"))
            finals.append(f"{p} AS {_q(col)}")
        else:
            if col == "event":
                value = _event_expr(x, tm)
            elif col in ("survey", "kind", "objective", "goal"):
                value = f"lower({x})"
            else:
                value = x
            parsed.append(f"{value} AS {p}")
            finals.append(f"{p} AS {_q(col)}")
            if required:
                problems.append((f"{x} IS NULL", f"missing {label}"))

    # rules on typed values
    def has(c: str) -> bool:
        return c in staged.source_of

    if spec.name == "transactions" and has("amount"):
        problems.append(('isfinite("p_amount") AND "p_amount" < 0', "negative amount"))
    if spec.name == "campaigns" and has("spend"):
        problems.append(('isfinite("p_spend") AND "p_spend" < 0', "negative spend"))
    if spec.name == "events" and has("duration_s"):
        problems.append(('isfinite("p_duration_s") AND "p_duration_s" < 0', "negative duration_s"))
    if spec.name == "responses" and has("score") and has("survey"):
        lo, hi = DEFAULT_SURVEY_RANGE
        out_cond = " ".join(f"WHEN {_lit(s)} THEN \"p_score\" < {a} OR \"p_score\" > {b}"
                            for s, (a, b) in SURVEY_RANGES.items())
        out_reason = " ".join(f"WHEN {_lit(s)} THEN {_lit(f'survey score out of range ({s}: {a:g}-{b:g})')}"
                              for s, (a, b) in SURVEY_RANGES.items())
        other = _lit(f"survey score out of range (other surveys: {lo:g}-{hi:g})")
        problems.append((
            f'isfinite("p_score") AND (CASE "p_survey" {out_cond} ELSE "p_score" < {lo} OR "p_score" > {hi} END)',
            f'CASE "p_survey" {out_reason} ELSE {other} END',
        ))

    def reason_sql(r: str) -> str:
        return r if r.startswith("CASE ") else _lit(r)

    if problems:
        any_bad = " OR ".join(f"({c})" for c, _ in problems)
        listed = ", ".join(f"CASE WHEN {c} THEN {reason_sql(r)} END" for c, r in problems)
        bad = f"CASE WHEN {any_bad} THEN concat_ws('; ', {listed}) END"
    else:
        bad = "NULL::VARCHAR"
    if jsonl:
        bad = (f"CASE WHEN _j IS NULL THEN 'not valid JSON' WHEN json_type(_j) <> 'OBJECT' "
               f"THEN 'not a JSON object' ELSE {bad} END")
    level2 = f"SELECT *, {', '.join(parsed) or 'NULL AS _none2'} FROM ({level1})"
    level3 = f"SELECT _row, {', '.join(finals)}, {bad} AS _bad FROM ({level2})"
    # The typed rows stay a view (parsed again when loading: cheaper than keeping ten million
    # typed rows around); what the checks found goes into a small table, one row per source row.
    con.execute(f"CREATE TEMP VIEW {prefix}_v AS {level3}")
    unknown = "NULL::VARCHAR"
    if spec.name == "events":
        vocab = ", ".join(_lit(e) for e in EVENT_VOCABULARY)
        unknown = f"CASE WHEN _bad IS NULL AND event NOT IN ({vocab}) THEN event END"
    if spec.name == "content":
        # a goal outside the vocabulary is kept and reported, as unknown event names are
        goals = ", ".join(_lit(e) for e in CONTENT_GOALS)
        unknown = f"CASE WHEN _bad IS NULL AND goal NOT IN ({goals}) THEN goal END"
    key_hash = "hash(" + ", ".join(_q(c) for c in spec.key) + ")"
    con.execute(
        f"CREATE TEMP TABLE {prefix}_c AS SELECT _row, _bad, CASE WHEN _bad IS NULL THEN {key_hash} END AS _h, "
        f"{unknown} AS _unknown, false AS _stored, NULL::BIGINT AS _dup_of FROM {prefix}_v"
    )
    _mark_duplicates(con, spec, prefix)


def _sql_type(dtype) -> str:
    if dtype.is_timestamp():
        return "TIMESTAMP"  # UTC, like the store's columns
    if dtype.is_floating():
        return "DOUBLE"
    if dtype.is_boolean():
        return "BOOLEAN"
    return "VARCHAR"


def _parse_ts(x: str, kind: str, tm: TableMapping) -> str:
    """SQL for a timestamp input as TIMESTAMPTZ (naive values are in the session time zone)."""
    fmt = tm.timestamp_format
    if kind == "ts_instant":
        return x
    if kind == "ts_native":
        # a native timestamp without a zone is UTC, unless the mapping names a zone
        return f"CAST({x} AS TIMESTAMPTZ)" if tm.timezone else f"CAST({x} AS TIMESTAMP)"
    if fmt in EPOCH_FORMATS:
        number = x if kind == "num" else f"TRY_CAST({x} AS DOUBLE)"
        return f"TRY(to_timestamp({number} / {EPOCH_FORMATS[fmt]}))"
    if fmt:
        return f"CAST(try_strptime({x}, {_lit(fmt)}) AS TIMESTAMPTZ)"
    return f"TRY_CAST({x} AS TIMESTAMPTZ)"


def _event_expr(x: str, tm: TableMapping) -> str:
    if not tm.event_names:
        return f"lower({x})"
    exact = " ".join(f"WHEN {_lit(s)} THEN {_lit(c)}" for s, c in tm.event_names.items())
    folded: dict[str, str] = {}
    for s, c in tm.event_names.items():
        folded.setdefault(s.strip().lower(), c)
    loose = " ".join(f"WHEN {_lit(s)} THEN {_lit(c)}" for s, c in folded.items())
    return f"CASE {x} {exact} ELSE CASE lower({x}) {loose} ELSE lower({x}) END END"


def _clean_rows(con, prefix: str) -> str:
    """FROM clause: the typed rows not (yet) set aside."""
    v, c = f"{prefix}_v", f"{prefix}_c"
    if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {c} WHERE _bad IS NOT NULL LIMIT 1)").fetchone()[0]:
        return f"(SELECT * FROM {v} WHERE _row NOT IN (SELECT _row FROM {c} WHERE _bad IS NOT NULL))"
    return v


def _mark_duplicates(con, spec: TableSpec, prefix: str) -> None:
    """Later copies of a key inside the file are set aside (exact comparison, not just the hash)."""
    c = f"{prefix}_c"
    # candidates: equal key hashes, found by sorting (cheaper than hashing ten million hashes again)
    con.execute(f"""
        CREATE TEMP TABLE {prefix}_cand AS
        SELECT DISTINCT _h FROM (SELECT _h, lag(_h) OVER (ORDER BY _h) AS _prev FROM {c} WHERE _bad IS NULL)
        WHERE _h = _prev""")
    if con.execute(f"SELECT count(*) FROM {prefix}_cand").fetchone()[0] == 0:
        return
    key = ", ".join(_q(k) for k in spec.key)
    others = [k for k in spec.columns if k not in spec.key]
    same = " AND ".join(f"{_q(k)} IS NOT DISTINCT FROM first_value({_q(k)}) OVER w" for k in others) or "true"
    con.execute(f"""
        CREATE TEMP TABLE {prefix}_dup AS
        SELECT _row, first_row, same FROM (
            SELECT _row, row_number() OVER w AS rn, first_value(_row) OVER w AS first_row, {same} AS same
            FROM {prefix}_v
            WHERE _row IN (SELECT _row FROM {c} WHERE _h IN (SELECT _h FROM {prefix}_cand))
            WINDOW w AS (PARTITION BY {key} ORDER BY _row)
        ) WHERE rn > 1""")
    if con.execute(f"SELECT count(*) FROM {prefix}_dup").fetchone()[0]:
        keys = ", ".join(spec.key) if spec.name != "events" else "event"
        other = ("same event as an earlier row but other duration_s or value" if spec.name == "events"
                 else f"same {keys} as an earlier row but other values")
        con.execute(f"""
            UPDATE {c} SET _bad = CASE WHEN d.same THEN 'duplicate of an earlier row' ELSE {_lit(other)} END,
                           _dup_of = d.first_row
            FROM {prefix}_dup d WHERE {c}._row = d._row""")


def _mark_stored(con, spec: TableSpec, prefix: str) -> None:
    """Rows already in the store: identical ones count as stored, others with its key conflict."""
    target = _q(spec.name)
    if con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {target} LIMIT 1)").fetchone()[0] == 0:
        return
    c = f"{prefix}_c"
    on = " AND ".join(f"s.{_q(k)} IS NOT DISTINCT FROM o.{_q(k)}" for k in spec.key)
    others = [k for k in spec.columns if k not in spec.key]
    same = " AND ".join(f"s.{_q(k)} IS NOT DISTINCT FROM o.{_q(k)}" for k in others) or "true"
    con.execute(f"""
        CREATE TEMP TABLE {prefix}_hit AS
        SELECT s._row, bool_or({same}) AS same
        FROM {_clean_rows(con, prefix)} s JOIN {target} o ON {on}
        GROUP BY s._row""")
    if con.execute(f"SELECT count(*) FROM {prefix}_hit").fetchone()[0] == 0:
        return
    keys = ", ".join(spec.key) if spec.name != "events" else "event"
    conflict = (f"conflicts with a stored row (same {keys}, other "
                f"{'duration_s or value' if spec.name == 'events' else 'values'})")
    con.execute(f"""
        UPDATE {c} SET _stored = h.same,
                       _bad = CASE WHEN h.same THEN NULL ELSE {_lit(conflict)} END
        FROM {prefix}_hit h WHERE {c}._row = h._row""")


# -- loading ----------------------------------------------------------------------------------
def _load(con, task: _Task, staged: _Staged, prefix: str, ingest_id: str, fs: FileSummary) -> None:
    spec = task.spec
    c = f"{prefix}_c"
    _mark_stored(con, spec, prefix)

    # one pass over the check table for every count: fate, reason and (events) unknown names
    groups = con.execute(f"SELECT _stored, _bad, _unknown, count(*) FROM {c} GROUP BY ALL").fetchall()
    reasons: dict[str, int] = {}
    unknown_events: dict[str, int] = {}
    n = new = stored = bad = 0
    for is_stored, reason, name, k in groups:
        n += k
        if reason is not None:
            bad += k
            reasons[reason] = reasons.get(reason, 0) + k
        elif is_stored:
            stored += k
        else:
            new += k
            if name is not None:
                unknown_events[name] = unknown_events.get(name, 0) + k
    if spec.name == "content":
        unknown_goals, unknown_events = unknown_events, {}
        fs.unknown_goals = dict(sorted(unknown_goals.items(), key=lambda kv: (-kv[1], kv[0])))
    fs.rows_read = n + staged.rejects
    fs.loaded, fs.already_stored, fs.quarantined = new, stored, bad + staged.rejects

    cols = ", ".join(_q(k) for k in spec.columns)
    if new == n:
        con.execute(f"INSERT INTO {_q(spec.name)} ({cols}) SELECT {cols} FROM {prefix}_v")
    elif new:
        # (leaving out the few rows set aside is cheaper than picking the many good ones)
        con.execute(f"INSERT INTO {_q(spec.name)} ({cols}) SELECT {cols} FROM {prefix}_v "
                    f"WHERE _row NOT IN (SELECT _row FROM {c} WHERE _bad IS NOT NULL OR _stored)")
    if bad or staged.rejects:
        _quarantine(con, task, staged, prefix, ingest_id)
    if staged.rejects:
        for kind, k in con.execute(
            f"SELECT kind, count(*) FROM (SELECT line, min(error_type::VARCHAR) AS kind FROM {staged.rej} "
            "GROUP BY line) GROUP BY 1"
        ).fetchall():
            reason = _reject_reason(kind, task.fmt)
            reasons[reason] = reasons.get(reason, 0) + k
    fs.reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    fs.unknown_events = dict(sorted(unknown_events.items(), key=lambda kv: (-kv[1], kv[0])))


def _reject_reason(kind: str, fmt: str) -> str:
    if kind == "INVALID ENCODING":
        return _REJECT_REASONS[kind]
    if fmt == "jsonl":
        return "line cannot be read" if kind != "LINE SIZE OVER MAXIMUM" else _REJECT_REASONS[kind]
    return _REJECT_REASONS.get(kind, kind.lower())


def _quarantine(con, task: _Task, staged: _Staged, prefix: str, ingest_id: str) -> None:
    """Quarantine this file's bad rows and refused lines, in file order, with location and raw text."""
    spec, t = task.spec, f"{prefix}_c"
    skip = staged.skipped_records(con)
    join_row, where_row = staged.where("b._row", skip, "s1")
    join_dup, where_dup = staged.where("b._dup_of", skip, "s2")
    con.execute(f"""
        CREATE TEMP TABLE {prefix}_q AS
        SELECT b._row, {where_row} AS row_ref,
               b._bad || CASE WHEN b._dup_of IS NULL THEN '' ELSE ' (' || {where_dup} || ')' END AS reason
        FROM (SELECT _row, _dup_of, _bad FROM {t} WHERE _bad IS NOT NULL) b {join_row} {join_dup}""")

    src_cols = list(staged.columns)
    as_json = "to_json(struct_pack(" + ", ".join(f"{_q(c)} := r.{_q(c)}" for c in src_cols) + "))::VARCHAR"
    if task.fmt == "parquet":
        raw_from = (f"(SELECT file_row_number AS _row, * EXCLUDE (file_row_number) "
                    f"FROM read_parquet({_lit(str(task.path))}, file_row_number=true)) r")
        raw_text = as_json
    elif task.fmt == "jsonl":
        raw_from, raw_text = f"(SELECT rowid AS _row, _line FROM {staged.raw}) r", "r._line"
    else:
        raw_from, raw_text = f"(SELECT rowid AS _row, * FROM {staged.raw}) r", as_json
    order_key = "TRY_CAST(regexp_extract(row_ref, '\\d+$') AS BIGINT)"
    parts = [f"SELECT q.row_ref, q.reason, coalesce({raw_text}, '') AS raw, {order_key} AS o "
             f"FROM {prefix}_q q JOIN {raw_from} ON r._row = q._row"]
    if staged.rejects:
        kinds = " ".join(f"WHEN {_lit(k)} THEN {_lit(_reject_reason(k, task.fmt))}" for k in _REJECT_REASONS)
        parts.append(
            f"SELECT 'line ' || line::VARCHAR, CASE kind {kinds} ELSE lower(kind) END, "
            f"coalesce(trim(text, chr(10) || chr(13)), ''), line "
            f"FROM (SELECT line, min(error_type::VARCHAR) AS kind, any_value(csv_line) AS text "
            f"FROM {staged.rej} GROUP BY line)"
        )
    # a row this file already had quarantined (the same file ingested again) is not kept twice
    con.execute(f"""
        INSERT INTO {QUARANTINE}
        SELECT {_lit(ingest_id)}, {_lit(spec.name)}, {_lit(str(task.path))}, x.row_ref, x.reason, x.raw
        FROM ({' UNION ALL '.join(parts)}) x
        WHERE NOT EXISTS (SELECT 1 FROM {QUARANTINE} q WHERE q.table_name = {_lit(spec.name)}
                          AND q.source_file = {_lit(str(task.path))} AND q.row_ref = x.row_ref
                          AND q.reason = x.reason AND q.raw = x.raw)
        ORDER BY x.o""")
