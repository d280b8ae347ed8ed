"""Load a folder of files into the store: every row loaded, already stored, or quarantined.

The whole ingest runs in one DuckDB transaction: a failure (or Ctrl-C) anywhere leaves the store
exactly as it was. Validation happens in the database, so ten million rows need no Python loop.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from afterclick.ingest.mapping import Mapping, TableMapping, load_mapping
from afterclick.schemas import EVENT_VOCABULARY, SURVEY_RANGES, DEFAULT_SURVEY_RANGE, TABLES, TableSpec
from afterclick.store import INGEST_LOG, QUARANTINE, Store

FORMATS = {".csv": "csv", ".tsv": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}


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
    reasons: dict[str, int] = field(default_factory=dict)
    unknown_events: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    note: str | None = None  # e.g. "empty file", "identical to a file ingested before"
    #: Lines the file reader rejected before parsing: (where, reason, text).
    rejected_lines: list[tuple[str, str, str]] = field(default_factory=list, repr=False)

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
    def adds_up(self) -> bool:
        return all(f.adds_up for f in self.files) and (
            self.rows_read == self.loaded + self.already_stored + self.quarantined
        )


@dataclass(frozen=True)
class _Task:
    spec: TableSpec
    path: Path
    fmt: str
    mapping: TableMapping


Progress = Callable[[str, int, int], None]  # (message, step, total)


def find_sources(source: str | Path, mapping: Mapping) -> tuple[list[_Task], list[str]]:
    """Which file feeds which table; files that match no table are returned as ignored."""
    source = Path(source)
    if not source.exists():
        raise IngestError(f"{source}: no such file or folder")
    files = sorted(p for p in source.iterdir() if p.is_file()) if source.is_dir() else [source]
    tasks: list[_Task] = []
    used: set[Path] = set()
    for name, spec in TABLES.items():
        tm = mapping.for_table(name)
        if tm.file:
            path = (source / tm.file) if source.is_dir() else source.parent / tm.file
            if not path.exists():
                raise IngestError(f"{path}: file named in the mapping for {name} does not exist")
            candidates = [path]
        else:
            candidates = [p for p in files if _stem(p) == name and _suffix(p) in FORMATS]
        if len(candidates) > 1:
            raise IngestError(
                f"{source}: several files for table {name} ({', '.join(p.name for p in candidates)}); "
                "keep one or name it in a mapping file"
            )
        for path in candidates:
            fmt = FORMATS.get(_suffix(path))
            if fmt is None:
                raise IngestError(f"{path}: unsupported format (use CSV, Parquet or JSON lines)")
            tasks.append(_Task(spec, path, fmt, tm))
            used.add(path.resolve())
    ignored = [p.name for p in files if p.resolve() not in used and not p.name.startswith(".")
               and not p.name.endswith((".duckdb", ".duckdb.wal"))]
    if not tasks:
        raise IngestError(
            f"{source}: no file named after a canonical table ({', '.join(TABLES)}) "
            "with .csv, .parquet or .jsonl; name them so or use --mapping"
        )
    return tasks, ignored


def _suffix(p: Path) -> str:
    return p.suffix.lower()


def _stem(p: Path) -> str:
    return p.stem.lower()


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def ingest(
    store: Store,
    source: str | Path,
    mapping: Mapping | str | Path | None = None,
    progress: Progress | None = None,
) -> IngestSummary:
    """Ingest a folder (or one file) of canonical tables into ``store``.

    Returns the summary; raises :class:`IngestError` (store untouched) when a file cannot be
    loaded at all: missing required column, unreadable file, unsupported format.
    """
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    tasks, ignored = find_sources(source, mapping)
    summary = IngestSummary(ingest_id=uuid.uuid4().hex[:12], source=str(source), ignored_files=ignored)
    started = datetime.now(UTC)
    con = store.raw
    report = progress or (lambda msg, step, total: None)

    # Stage and validate every file before anything touches the canonical tables.
    staged: list[tuple[_Task, FileSummary, str, str]] = []
    try:
        for i, task in enumerate(tasks):
            report(f"reading {task.path.name}", i, len(tasks))
            fs = FileSummary(task.spec.name, str(task.path))
            digest = _sha256(task.path)
            seen = con.execute(
                f"SELECT min(started_at)::VARCHAR FROM {INGEST_LOG} WHERE table_name = ? AND sha256 = ?",
                [task.spec.name, digest],
            ).fetchone()[0]
            if seen is not None:
                fs.note = f"identical to the file ingested at {seen[:19]} UTC; nothing to add"
                summary.files.append(fs)
                continue
            if task.path.stat().st_size == 0:
                fs.note = "empty file (0 bytes); nothing loaded"
                summary.files.append(fs)
                continue
            raw_name = f"_ac_raw_{i}"
            rej_name = _stage_raw(con, task, raw_name)
            typed_name = f"_ac_typed_{i}"
            _validate(con, task, raw_name, rej_name, typed_name, fs)
            if fs.rows_read == 0:
                fs.note = "empty file (no rows)"
            summary.files.append(fs)
            staged.append((task, fs, typed_name, digest))

        report("loading into the store", len(tasks), len(tasks))
        con.execute("BEGIN TRANSACTION")
        try:
            for task, fs, typed, digest in staged:
                _load(con, task, fs, typed, summary.ingest_id)
                con.execute(
                    f"INSERT INTO {INGEST_LOG} VALUES (?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [summary.ingest_id, started, str(source), task.spec.name, str(task.path), digest,
                     fs.rows_read, fs.loaded, fs.already_stored, fs.quarantined, _details(fs)],
                )
                if not fs.adds_up:  # an internal invariant: never commit an ingest that loses rows
                    raise IngestError(
                        f"{task.path}: accounting does not add up ({fs.rows_read} read, {fs.loaded} loaded, "
                        f"{fs.already_stored} already stored, {fs.quarantined} quarantined)"
                    )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    finally:
        for name in [n for n, in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '\\_ac\\_%' ESCAPE '\\'"
        ).fetchall()]:
            con.execute(f"DROP TABLE IF EXISTS temp.{_q(name)}")
    report("done", len(tasks), len(tasks))
    return summary


def _details(fs: FileSummary) -> str:
    import json

    return json.dumps({"reasons": fs.reasons, "unknown_events": fs.unknown_events,
                       "ignored_columns": fs.ignored_columns, "note": fs.note})


def _stage_raw(con, task: _Task, raw_name: str) -> str | None:
    """Copy the file into a temporary table; returns the name of its rejected-lines table."""
    path = _lit(str(task.path))
    rej = f"{raw_name}_rej"
    try:
        if task.fmt == "csv":
            delim = ", delim='\\t'" if _suffix(task.path) == ".tsv" else ""
            con.execute(
                f"CREATE TEMP TABLE {raw_name} AS SELECT * FROM read_csv({path}, all_varchar=true, "
                f"header=true, store_rejects=true, rejects_table='{rej}', "
                f"rejects_scan='{rej}_scan'{delim})"
            )
        elif task.fmt == "jsonl":
            con.execute(
                f"CREATE TEMP TABLE {raw_name} AS SELECT _line FROM read_csv({path}, "
                "columns={'_line': 'VARCHAR'}, header=false, delim=chr(30), quote='', escape='', "
                f"auto_detect=false, store_rejects=true, rejects_table='{rej}', "
                f"rejects_scan='{rej}_scan') WHERE trim(_line) <> ''"
            )
        else:
            con.execute(f"CREATE TEMP TABLE {raw_name} AS SELECT * FROM read_parquet({path})")
            return None
    except Exception as exc:
        raise IngestError(f"{task.path}: cannot be read ({_first_line(exc)})") from None
    return rej


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _source_columns(con, task: _Task, raw_name: str) -> list[str]:
    if task.fmt == "jsonl":
        keys = con.execute(
            f"SELECT DISTINCT unnest(json_keys(_line)) FROM {raw_name} WHERE json_valid(_line) "
            "AND json_type(_line) = 'OBJECT'"
        ).fetchall()
        return [k for k, in keys]
    return [r[0] for r in con.execute(f"DESCRIBE {raw_name}").fetchall()]


def _raw_value(task: _Task, col: str) -> str:
    """SQL for a source column as trimmed text (NULL when empty)."""
    if task.fmt == "jsonl":
        expr = f"(_line->>{_lit('$.' + _q(col))})"
    else:
        expr = f"CAST({_q(col)} AS VARCHAR)"
    return f"NULLIF(trim({expr}), '')"


def _parse_ts(raw: str, tm: TableMapping) -> str:
    fmt = tm.timestamp_format
    if fmt == "epoch_s":
        parsed = f"to_timestamp(TRY_CAST({raw} AS DOUBLE))"
    elif fmt == "epoch_ms":
        parsed = f"to_timestamp(TRY_CAST({raw} AS DOUBLE) / 1000.0)"
    elif fmt:
        parsed = f"try_strptime({raw}, {_lit(fmt)})"
    else:
        parsed = f"TRY_CAST({raw} AS TIMESTAMPTZ)"
    if tm.timezone and fmt not in ("epoch_s", "epoch_ms"):
        # naive text is local time in the given zone; values with an offset keep theirs
        naive = f"TRY_CAST({raw} AS TIMESTAMP)" if not fmt else parsed
        return (f"CASE WHEN regexp_matches({raw}, '(Z|[+-]\\d\\d:?\\d\\d)$') THEN TRY_CAST({raw} AS TIMESTAMPTZ) "
                f"ELSE timezone({_lit(tm.timezone)}, CAST({naive} AS TIMESTAMP)) END")
    return f"CAST({parsed} AS TIMESTAMPTZ)"


def _validate(con, task: _Task, raw_name: str, rej_name: str | None, typed_name: str, fs: FileSummary) -> None:
    spec, tm = task.spec, task.mapping
    src_cols = _source_columns(con, task, raw_name)
    lower = {c.lower(): c for c in src_cols}

    def source_of(canonical: str) -> str | None:
        wanted = tm.source_column(canonical)
        return wanted if wanted in src_cols else lower.get(wanted.lower())

    missing = [c for c in spec.required if source_of(c) is None]
    n_raw = con.execute(f"SELECT count(*) FROM {raw_name}").fetchone()[0]
    n_rej = con.execute(f"SELECT count(*) FROM {rej_name}").fetchone()[0] if rej_name else 0
    if missing and (n_raw or src_cols):
        shown = ", ".join(src_cols[:12]) or "none"
        names = ", ".join(f"'{tm.source_column(c)}'" for c in missing)
        raise IngestError(
            f"{task.path}: required column {names} missing for table {spec.name} (found: {shown}); "
            "rename it or map it in a mapping file (--mapping)"
        )
    used = {source_of(c) for c in spec.columns}
    fs.ignored_columns = [c for c in src_cols if c not in used]

    # One typed row per source row, with every problem found in it.
    selects, problems = ["rowid AS _row"], []
    for col, dtype in spec.schema.items():
        src = source_of(col)
        if src is None:
            selects.append(f"NULL AS {_q(col)}")
            continue
        raw = _raw_value(task, src)
        label = col if src == col else f"{col} (from {src})"
        if col in spec.required:
            problems.append(f"CASE WHEN {raw} IS NULL THEN 'missing required value {label}' END")
        if dtype.is_timestamp():
            typed = f"timezone('UTC', {_parse_ts(raw, tm)})"  # UTC, stored without a zone
            problems.append(f"CASE WHEN {raw} IS NOT NULL AND ({typed}) IS NULL "
                            f"THEN 'unparsable timestamp in {label}' END")
        elif dtype.is_floating():
            typed = f"TRY_CAST({raw} AS DOUBLE)"
            problems.append(f"CASE WHEN {raw} IS NOT NULL AND ({typed}) IS NULL "
                            f"THEN 'not a number in {label}' END")
            problems.append(f"CASE WHEN isnan({typed}) OR isinf({typed}) THEN 'not a finite number in {label}' END")
        elif dtype.is_boolean():
            typed = (f"CASE lower({raw}) WHEN 'true' THEN true WHEN '1' THEN true WHEN 'yes' THEN true "
                     "WHEN 'false' THEN false WHEN '0' THEN false WHEN 'no' THEN false END")
            problems.append(f"CASE WHEN {raw} IS NOT NULL AND ({typed}) IS NULL "
                            f"THEN 'not true/false in {label}' END")
        elif col == "event":
            names = ", ".join(f"({_lit(s)}, {_lit(c)})" for s, c in tm.event_names.items()) or "(NULL, NULL)"
            typed = (f"coalesce((SELECT m.c FROM (VALUES {names}) m(s, c) WHERE m.s = {raw}), "
                     f"lower({raw}))")
        elif col == "survey":
            typed = f"lower({raw})"
        else:
            typed = raw
        selects.append(f"{typed} AS {_q(col)}")
    if task.fmt == "jsonl":
        problems.insert(0, "CASE WHEN NOT json_valid(_line) OR json_type(_line) <> 'OBJECT' "
                           "THEN 'not a JSON object' END")
    raw_text = "_line" if task.fmt == "jsonl" else "to_json(_src)::VARCHAR"
    con.execute(f"CREATE TEMP TABLE {typed_name}_a AS SELECT {', '.join(selects)}, {raw_text} AS _raw, "
                f"{'[' + ', '.join(problems) + ']' if problems else '[]::VARCHAR[]'} AS _p "
                f"FROM {raw_name} _src")

    # Rules that need typed values.
    rules = []
    if spec.name == "transactions":
        rules.append("CASE WHEN amount < 0 THEN 'negative amount' END")
    if spec.name == "responses":
        known = " ".join(f"WHEN {_lit(s)} THEN score < {lo} OR score > {hi}" for s, (lo, hi) in SURVEY_RANGES.items())
        lo, hi = DEFAULT_SURVEY_RANGE
        ranges = ", ".join(f"{s} {a:g}-{b:g}" for s, (a, b) in SURVEY_RANGES.items())
        rules.append(f"CASE WHEN (CASE survey {known} ELSE score < {lo} OR score > {hi} END) "
                     f"THEN 'survey score out of range for ' || survey "
                     f"|| ' ({ranges}; others 0-100)' END")
    if spec.name == "events":
        rules.append("CASE WHEN duration_s < 0 THEN 'negative duration_s' END")
    key = ", ".join(_q(c) for c in spec.key)
    # Duplicates inside the file: the first occurrence loads, later ones are quarantined.
    con.execute(
        f"CREATE TEMP TABLE {typed_name} AS SELECT * EXCLUDE (_p), "
        f"list_filter(_p || [{', '.join(rules) if rules else 'NULL'}, "
        f"CASE WHEN len(list_filter(_p, x -> x IS NOT NULL)) = 0 AND "
        f"row_number() OVER (PARTITION BY {key}, len(list_filter(_p, x -> x IS NOT NULL)) = 0 ORDER BY _row) > 1 "
        f"THEN 'duplicate of an earlier row in this file (same {', '.join(spec.key)})' END], x -> x IS NOT NULL) "
        f"AS _problems FROM {typed_name}_a"
    )
    con.execute(f"DROP TABLE temp.{typed_name}_a")

    # Lines the reader itself rejected (wrong column count, bytes that are not UTF-8).
    if rej_name:
        rejected = con.execute(
            f"SELECT line, error_type::VARCHAR, csv_line FROM {rej_name} ORDER BY line"
        ).fetchall()
    else:
        rejected = []
    fs.rows_read = n_raw + n_rej
    reason_of = {
        "INVALID ENCODING": "bytes that are not UTF-8 (save the file as UTF-8)",
        "TOO MANY COLUMNS": "more fields than the header has",
        "MISSING COLUMNS": "fewer fields than the header has",
        "UNQUOTED VALUE": "badly quoted field",
        "LINE SIZE OVER MAXIMUM": "line too long",
    }
    fs.rejected_lines = [(f"line {line}", reason_of.get(kind, kind.lower()), text) for line, kind, text in rejected]


def _load(con, task: _Task, fs: FileSummary, typed: str, ingest_id: str) -> None:
    spec = task.spec
    cols = ", ".join(_q(c) for c in spec.columns)
    key_match = " AND ".join(f"s.{_q(c)} IS NOT DISTINCT FROM t.{_q(c)}" for c in spec.key)
    full_match = " AND ".join(f"s.{_q(c)} IS NOT DISTINCT FROM t.{_q(c)}" for c in spec.columns)
    target = _q(spec.name)
    con.execute(f"""
        CREATE TEMP TABLE {typed}_c AS
        SELECT s.*, CASE
            WHEN len(s._problems) > 0 THEN 'bad'
            WHEN EXISTS (SELECT 1 FROM {target} t WHERE {full_match}) THEN 'stored'
            WHEN EXISTS (SELECT 1 FROM {target} t WHERE {key_match}) THEN 'conflict'
            ELSE 'new' END AS _fate
        FROM {typed} s""")
    con.execute(f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {typed}_c WHERE _fate = 'new' ORDER BY _row")
    keys = ", ".join(spec.key)
    con.execute(f"""
        INSERT INTO {QUARANTINE}
        SELECT {_lit(ingest_id)}, {_lit(spec.name)}, {_lit(str(task.path))}, 'row ' || (_row + 1)::VARCHAR,
               CASE WHEN _fate = 'conflict'
                    THEN 'conflicts with a stored row with the same {keys} but other values'
                    ELSE array_to_string(_problems, '; ') END,
               _raw
        FROM {typed}_c WHERE _fate IN ('bad', 'conflict')""")
    counts = dict(con.execute(f"SELECT _fate, count(*) FROM {typed}_c GROUP BY 1").fetchall())
    rejected = fs.rejected_lines
    for ref, reason, text in rejected:
        con.execute(f"INSERT INTO {QUARANTINE} VALUES (?, ?, ?, ?, ?, ?)",
                    [ingest_id, spec.name, str(task.path), ref, reason, text])
    fs.loaded = counts.get("new", 0)
    fs.already_stored = counts.get("stored", 0)
    fs.quarantined = counts.get("bad", 0) + counts.get("conflict", 0) + len(rejected)
    reasons = con.execute(f"""
        SELECT r, count(*) FROM (
            SELECT CASE WHEN _fate = 'conflict' THEN 'conflicts with a stored row' ELSE
                   regexp_replace(unnest(_problems), ' \\(from .*\\)', '') END AS r
            FROM {typed}_c WHERE _fate IN ('bad', 'conflict')) GROUP BY 1 ORDER BY 2 DESC""").fetchall()
    fs.reasons = {r: int(n) for r, n in reasons}
    for _, reason, _ in rejected:
        fs.reasons[reason] = fs.reasons.get(reason, 0) + 1
    if spec.name == "events":
        vocab = ", ".join(_lit(e) for e in EVENT_VOCABULARY)
        fs.unknown_events = {
            e: int(n) for e, n in con.execute(
                f"SELECT event, count(*) FROM {typed}_c WHERE _fate = 'new' AND event NOT IN ({vocab}) "
                "GROUP BY 1 ORDER BY 2 DESC"
            ).fetchall()
        }
    con.execute(f"DROP TABLE temp.{typed}_c")
