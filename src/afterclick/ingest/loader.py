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

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from afterclick.ingest._common import (  # noqa: F401  (re-exported)
    _TEXT_FORMATS,
    FORMATS,
    IngestError,
    Progress,
    _first_line,
    _lit,
    _q,
    _Task,
)
from afterclick.ingest.checks import _check, _mark_stored
from afterclick.ingest.mapping import Mapping, load_mapping
from afterclick.ingest.sources import _is_empty, find_sources
from afterclick.ingest.staging import _Staged
from afterclick.ingest.summary import FileSummary, IngestSummary
from afterclick.ingest.textfile import _fingerprint
from afterclick.store import (
    INGEST_ID,
    INGEST_LOG,
    QUARANTINE,
    Store,
    disk_full,
    disk_full_message,
)
from afterclick.store.keys import KEYED_TABLES, assign_keys


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
    loaded at all: missing required column, unreadable file, unsupported format, a full disk.
    Anything raised on the way, including by ``progress``, rolls the whole ingest back.

    Two commits: the rows (canonical tables and quarantine, each row tagged with the ingest id),
    then the ingest-log rows, the ingest's commit marker. DuckDB cannot promise that one commit
    killed half-way leaves all its tables as they were; the store removes the rows of an ingest
    without a log row when it is next opened for writing (``Store._recover``).
    """
    if not isinstance(mapping, Mapping):
        mapping = load_mapping(mapping)
    tasks, ignored = find_sources(source, mapping)
    # the files a mapping reads through lookups are used, not ignored
    looked_up = {Path(lk.file).as_posix() for tm in mapping.tables.values() for lk in tm.lookups.values()}
    ignored = [name for name in ignored if Path(name).as_posix() not in looked_up]
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
        log = _load_all(con, staged, summary, started, report)
        # 3. The commit marker: the ingest log's rows, in a transaction of their own. Until it
        #    is committed the rows above belong to no ingest; a failure here takes them out again.
        if log:
            report("recording the ingest", total, total)
            _commit_log(con, store, summary, log)
    except BaseException as exc:
        _stop(con)
        if _interrupted(exc):
            raise KeyboardInterrupt from None
        if disk_full(exc):
            raise IngestError(disk_full_message(store.location)) from None
        if isinstance(exc, duckdb.Error):  # e.g. the commit itself
            raise IngestError(f"the ingest could not be saved ({_first_line(exc)}); nothing of it "
                              "was stored") from None
        raise
    finally:
        _cleanup(con)
    return summary


def _load_all(con, staged: list[tuple[FileSummary, _Staged | None, str]], summary: IngestSummary,
              started: datetime, report: Progress) -> list[list]:
    """Check and load every staged file in one transaction; returns the ingest log's rows."""
    total = len(staged)
    log: list[list] = []
    con.execute("BEGIN TRANSACTION")
    try:
        for i, (fs, st, digest) in enumerate(staged):
            if st is None:
                continue
            _run(con, st, fs, lambda msg, i=i: report(msg, i, total), summary, started, digest, log)
            if not fs.adds_up:  # an internal invariant: never commit an ingest that loses rows
                raise IngestError(
                    f"{st.task.path}: accounting does not add up ({fs.rows_read} read, {fs.loaded} "
                    f"loaded, {fs.already_stored} already stored, {fs.filtered} left out by the filter, "
                    f"{fs.quarantined} quarantined)"
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
    return log


def _commit_log(con, store: Store, summary: IngestSummary, log: list[list]) -> None:
    """Write the ingest log's rows, the ingest's commit marker; on failure take the rows out again."""
    try:
        con.execute("BEGIN TRANSACTION")
        con.executemany(f"INSERT INTO {INGEST_LOG} VALUES (?, ?, now(), ?, ?, ?, ?, ?, ?, ?, ?, ?)", log)
        con.execute("COMMIT")
    except BaseException:
        _stop(con)
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        try:
            store.forget([summary.ingest_id])
        except duckdb.Error:
            pass  # the next opening for writing removes them
        raise


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
    """Hash, skip if seen or empty, stage and check the columns of a table's file or files.

    Each file is hashed on its own: a file identical to one ingested before is skipped, the
    others are read. Returns the summary, the staged rows (None when nothing is to be read) and
    the digests of the files read, space-separated (the ingest log's ``sha256``).
    """
    fs = FileSummary(task.spec.name, str(task.path))
    paths = list(task.paths)
    single = len(paths) == 1 and not task.files or task.files == (task.path,)
    fresh: list[Path] = []
    digests: list[str] = []
    seen_at: list[str] = []
    empty = 0
    logged: dict[str, str] = {}  # digest -> when first ingested (a log row may list several files)
    for digests_logged, when in con.execute(
        f"SELECT sha256, min(started_at)::VARCHAR FROM {INGEST_LOG} WHERE table_name = ? GROUP BY 1",
        [task.spec.name],
    ).fetchall():
        for d in (digests_logged or "").split():
            logged[d] = min(logged.get(d, when), when)
    for path in paths:
        digest = _fingerprint(path)
        seen = logged.get(digest)
        if seen is not None or digest in digests:
            seen_at.append(seen or "")
            continue
        if _is_empty(path, task.fmt):
            empty += 1
            if single:
                fs.note = (f"empty file ({'0 bytes' if path.stat().st_size == 0 else 'only blank lines'}); "
                           "nothing loaded")
            continue
        fresh.append(path)
        digests.append(digest)
    notes = []
    if seen_at:
        first = min((s for s in seen_at if s), default="")
        when = f" at {first[:19]} UTC" if first else " in this ingest"
        if single:
            notes.append(f"identical to the file ingested{when}; skipped, nothing to add")
        else:
            some = f"all {len(paths)}" if len(seen_at) == len(paths) else f"{len(seen_at)} of {len(paths)}"
            notes.append(f"{some} files identical to files ingested before (first{when}); "
                         "skipped" + (", nothing to add" if not fresh else ""))
    if empty and not single:
        notes.append(f"{empty} empty file(s) skipped")
    if notes:
        fs.note = "; ".join(notes)
    if not fresh:
        return fs, None, " ".join(digests)
    try:
        st = _Staged.stage(con, task, prefix, fresh)
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except duckdb.Error as exc:
        raise IngestError(f"{task.path}: cannot be read ({_first_line(exc)})") from None
    if st.rows == 0 and not st.rejects:
        st.check_columns(fs, required=bool(st.columns))
        fs.note = "; ".join([*notes, "empty file (header only, no rows); nothing loaded" if task.fmt in ("csv", "tsv")
                             else "empty file (no rows); nothing loaded"])
        return fs, None, " ".join(digests)
    st.check_columns(fs, required=True)
    return fs, st, " ".join(digests)


def _run(con, st: _Staged, fs: FileSummary, report: Callable[[str], None], summary: IngestSummary,
         started: datetime, digest: str, log: list[list]) -> None:
    task = st.task
    try:
        # naive timestamps are read in the session time zone: the mapping's, or UTC
        con.execute(f"SET TimeZone = {_lit(task.mapping.timezone or 'UTC')}")
        report(f"checking {task.path.name}")
        _check(con, task, st, st.prefix)
        report(f"loading {task.path.name}")
        _load(con, task, st, st.prefix, summary.ingest_id, fs)
        # the file's ingest-log row, written after the rows are committed (see ingest())
        log.append([summary.ingest_id, started, summary.source, task.spec.name, str(task.path), digest,
                    fs.rows_read, fs.loaded, fs.already_stored, fs.quarantined, _details(fs)])
    except duckdb.InterruptException:
        raise KeyboardInterrupt from None
    except duckdb.Error as exc:
        raise IngestError(f"{task.path}: cannot be loaded ({_first_line(exc)})") from None
    con.execute("SET TimeZone = 'UTC'")  # (after a failure, _cleanup does it once rolled back)


def _details(fs: FileSummary) -> str:
    return json.dumps({"reasons": fs.reasons, "unknown_events": fs.unknown_events,
                       **({"unknown_goals": fs.unknown_goals} if fs.unknown_goals else {}),
                       "ignored_columns": fs.ignored_columns, "note": fs.note})


# -- loading ----------------------------------------------------------------------------------
def _load(con, task: _Task, staged: _Staged, prefix: str, ingest_id: str, fs: FileSummary) -> None:
    spec = task.spec
    c = f"{prefix}_c"
    _mark_stored(con, spec, prefix)

    # one pass over the check table for every count: fate, reason and (events) unknown names
    # (``_n``: the source lines a row stands for, more than one when the mapping groups lines;
    # ``_out``: left out by the mapping's filter)
    groups = con.execute(f"SELECT _stored, _bad, _unknown, _out, sum(_n)::BIGINT FROM {c} GROUP BY ALL").fetchall()
    reasons: dict[str, int] = {}
    unknown_events: dict[str, int] = {}
    n = new = stored = bad = out = 0
    for is_stored, reason, name, left_out, k in groups:
        n += k
        if left_out:
            out += k
        elif reason is not None:
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
    fs.filtered = out
    if staged.notes:
        fs.note = "; ".join(([fs.note] if fs.note else []) + staged.notes)
    if task.mapping.group_by:
        fs.groups = con.execute(f"SELECT count(*) FROM {c} WHERE _bad IS NULL AND NOT _stored AND NOT _out").fetchone()[0]

    cols = ", ".join(_q(k) for k in spec.columns)
    # every stored row carries its ingest's id: rows of an ingest that never reached the log are
    # found and removed by the store (Store._recover)
    into, tag = f"{_q(spec.name)} ({cols}, {INGEST_ID})", f"{cols}, {_lit(ingest_id)}"
    if new == n:
        con.execute(f"INSERT INTO {into} SELECT {tag} FROM {prefix}_v")
    elif new:
        # (leaving out the few rows set aside is cheaper than picking the many good ones)
        con.execute(f"INSERT INTO {into} SELECT {tag} FROM {prefix}_v "
                    f"WHERE _row NOT IN (SELECT _row FROM {c} WHERE _bad IS NOT NULL OR _stored)")
    if new and spec.name in KEYED_TABLES:
        assign_keys(con, spec.name, f"{INGEST_ID} = {_lit(ingest_id)}")
    if bad or staged.rejects:
        _quarantine(con, task, staged, prefix, ingest_id)
    if staged.rejects:
        for reason, k in staged.reject_counts(con):
            reasons[reason] = reasons.get(reason, 0) + k
    fs.reasons = dict(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])))
    fs.unknown_events = dict(sorted(unknown_events.items(), key=lambda kv: (-kv[1], kv[0])))


def _bad_lines(con, t: str, prefix: str) -> str:
    """The rows set aside, one per source line (a group of lines set aside is quarantined line by line)."""
    grouped = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?",
                          [f"{prefix}_grp"]).fetchone()[0]
    if not grouped:
        return f"(SELECT _row, _dup_of, _bad FROM {t} WHERE _bad IS NOT NULL)"
    return (f"(SELECT coalesce(g._row, x._row) AS _row, x._dup_of, x._bad FROM {t} x "
            f"LEFT JOIN {prefix}_grp g ON g._g = x._row WHERE x._bad IS NOT NULL)")


def _quarantine(con, task: _Task, staged: _Staged, prefix: str, ingest_id: str) -> None:
    """Quarantine the table's bad rows and refused lines, in file order, with file, location and raw text.

    A row's location is the line its record starts on in its own file (``row N`` in Parquet); a
    duplicate names the line of the row it repeats, and that row's file when it is another one.
    """
    spec, t = task.spec, f"{prefix}_c"
    rel, unit, files = staged.relation(), staged.unit(), staged.file_table
    src_cols = list(staged.columns)
    as_json = "to_json(struct_pack(" + ", ".join(f"{_q(c)} := r.{_q(c)}" for c in src_cols) + "))::VARCHAR"
    raw_text = "r._line" if task.fmt == "jsonl" else as_json
    dup = (f"' ({unit} ' || d._lineno::VARCHAR || CASE WHEN d._file = r._file THEN '' "
           f"ELSE ' of ' || parse_filename(fd.path) END || ')'")
    parts = [f"""
        SELECT r._file, r._lineno AS n, b._bad || CASE WHEN b._dup_of IS NULL THEN '' ELSE {dup} END AS reason,
               coalesce({raw_text}, '') AS raw
        FROM {_bad_lines(con, t, prefix)} b JOIN {rel} r ON r._row = b._row
        LEFT JOIN (SELECT _row, _file, _lineno FROM {rel}) d ON d._row = b._dup_of
        LEFT JOIN {files} fd ON fd._file = d._file"""]
    if staged.rejects:
        parts.append(f"SELECT _file, line, reason, raw FROM {staged.rej}")
    con.execute(f"""
        CREATE TEMP TABLE {prefix}_q AS
        SELECT f.path AS source_file, {_lit(unit + ' ')} || x.n::VARCHAR AS row_ref, x.reason, x.raw
        FROM ({' UNION ALL '.join(parts)}) x JOIN {files} f ON f._file = x._file
        ORDER BY x._file, x.n""")
    # a row a file already had quarantined (the same file ingested again) is not kept twice
    con.execute(f"""
        INSERT INTO {QUARANTINE} (ingest_id, table_name, source_file, row_ref, reason, raw)
        SELECT {_lit(ingest_id)}, {_lit(spec.name)}, x.source_file, x.row_ref, x.reason, x.raw
        FROM {prefix}_q x
        WHERE NOT EXISTS (SELECT 1 FROM {QUARANTINE} q WHERE q.table_name = {_lit(spec.name)}
                          AND q.source_file = x.source_file AND q.row_ref = x.row_ref
                          AND q.reason = x.reason AND q.raw = x.raw)
        ORDER BY x.rowid""")
