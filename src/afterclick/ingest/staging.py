"""Staging: the files of one table made readable by SQL (temporary tables only; the store is not touched).

Text files (CSV, TSV, JSON lines) are read here, line by line, rather than by DuckDB's CSV reader:
that reader cannot say on which line of the file a row starts (its numbers skip blank lines and
count a multi-line value once), takes a bare carriage return for a line break, and refuses a whole
file when its first rows cannot be sniffed. Here every row keeps the file and the physical line it
starts on; a line that cannot be read is set aside with its reason and the rest of the file loads.
Good CSV rows are written to one temporary, well-formed CSV that DuckDB bulk-reads (much faster
than handing it Python values); JSON lines go over as text, parsed in SQL by the checks.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from afterclick.ingest._common import IngestError, _first_line, _lit, _q, _Task
from afterclick.ingest.mapping import TableMapping
from afterclick.ingest.textfile import (  # noqa: F401  (MAX_ROW_CHARS: tests read it here)
    _BAD_BYTES,
    _BARE_CR,
    MAX_ROW_CHARS,
    _Appender,
    _column_names,
    _CsvFile,
    _Lines,
    _mb,
    _not_encoded,
    _shown_raw,
    _sniff_delimiter,
)

if TYPE_CHECKING:
    from afterclick.ingest.summary import FileSummary

#: Columns staging adds to every staged row.
_RESERVED = ("_row", "_file", "_lineno")
#: id(connection) -> (the ingest's table prefix, {what was read: its staging}); see _Staged.stage.
_SHARED: dict[int, tuple[str, dict]] = {}


# -- staging ----------------------------------------------------------------------------------
class _Staged:
    """The files of one table made readable by SQL: where the rows are, their columns, the lines refused.

    Every staged row has ``_row`` (unique across the table's files, in file order), ``_file``
    (the index of its file in ``files``) and ``_lineno`` (the line of the file it starts on; for
    Parquet, its row number, 1-based).
    """

    def __init__(self, task: _Task, prefix: str, files: list[Path] | None = None):
        self.task = task
        self.prefix = prefix
        self.files: list[Path] = list(files if files is not None else (task.files or (task.path,)))
        self.raw = f"{prefix}_raw"
        self.rej = f"{prefix}_rej"  # lines set aside while reading: _file, line, reason, raw
        self.file_table = f"{prefix}_files"  # _file, path
        self.columns: dict[str, str] = {}  # source column -> DuckDB type
        self.file_columns: list[list[str]] = []  # each file's own columns (CSV/TSV, Parquet)
        self.rows = 0  # rows staged (blank lines are not rows)
        self.rejects = 0  # rows set aside while reading
        self.source_of: dict[str, str] = {}  # canonical -> source column
        self.expressions: dict = {}  # canonical -> Expression computed by ingest.reshape
        self.computed: dict[str, str] = {}  # column reshape computes -> DuckDB type
        self.notes: list[str] = []  # what the checks noticed without setting rows aside
        self._longest = 0  # bytes of the longest CSV row written for DuckDB's reader

    @classmethod
    def stage(cls, con, task: _Task, prefix: str, files: list[Path] | None = None) -> _Staged:
        self = cls(task, prefix, files)
        enc = task.mapping.encoding
        if enc:
            try:
                codecs.lookup(enc)
            except LookupError:
                raise IngestError(
                    f"{task.path}: the mapping names encoding {enc!r} for {task.mapping.table}, which is not known "
                    "(e.g. utf-8, latin-1, cp1252, utf-16)"
                ) from None
        # two tables read from the same text files in one ingest (an export's line items give
        # both its orders and its customers) share one reading of them
        run = prefix.rpartition("_")[0]
        signature = (task.fmt, task.mapping.delimiter, enc, tuple(str(p) for p in self.files))
        shared = _SHARED.get(id(con))
        if shared is None or shared[0] != run:
            shared = _SHARED[id(con)] = (run, {})
        if task.fmt != "parquet" and (other := shared[1].get(signature)) is not None:
            self.raw, self.rej, self.file_table = other.raw, other.rej, other.file_table
            self.columns, self.file_columns = dict(other.columns), other.file_columns
            self.rows, self.rejects = other.rows, other.rejects
            return self
        names = pa.table({"_file": pa.array(range(len(self.files)), pa.int32()),
                          "path": pa.array([str(p) for p in self.files], pa.string())})
        con.register(f"{prefix}_files_arrow", names)
        con.execute(f"CREATE TEMP TABLE {self.file_table} AS SELECT * FROM {prefix}_files_arrow")
        con.unregister(f"{prefix}_files_arrow")
        rejects = _Appender(con, self.rej, pa.schema([("_file", pa.int32()), ("line", pa.int64()),
                                                      ("reason", pa.string()), ("raw", pa.string())]))
        if task.fmt in ("csv", "tsv"):
            self._stage_csv(con, rejects)
        elif task.fmt == "jsonl":
            self._stage_jsonl(con, rejects)
        else:
            self._stage_parquet(con)
        rejects.flush()
        self.rejects = con.execute(f"SELECT count(*) FROM {self.rej}").fetchone()[0]
        shared[1][signature] = self
        return self

    # -- CSV / TSV ------------------------------------------------------------------------------
    def _stage_csv(self, con, rejects: _Appender) -> None:
        task, enc = self.task, self.task.mapping.encoding
        delim = task.mapping.delimiter or ("\t" if task.fmt == "tsv" else None)
        if delim is None:
            delim = _sniff_delimiter(self.files[0], enc)
        headers = []
        union: list[str] = []
        for path in self.files:
            _, fields = _CsvFile(path, delim, enc).header()
            cols = _column_names(fields)
            for c in cols:
                if c in _RESERVED:
                    raise IngestError(f"{path}: column name {c!r} is reserved; rename the column")
                if c not in union:
                    union.append(c)
            headers.append(cols)
        self.file_columns = headers
        self.columns = {c: "VARCHAR" for c in union}
        side = _Appender(con, f"{self.prefix}_side",
                         pa.schema([("_file", pa.int32()), ("_lineno", pa.int64())]
                                   + [(f"c{i}", pa.string()) for i in range(len(union))]))
        fd, tmp = tempfile.mkstemp(prefix="afterclick-", suffix=".csv")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as out:
                writer = csv.writer(out, delimiter=delim, lineterminator="\n")
                writer.writerow(["_file", "_lineno", *union])
                for i, path in enumerate(self.files):
                    self._copy_csv(i, _CsvFile(path, delim, enc), headers[i], union, out, writer, side, rejects)
            cols = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in union)
            # (DuckDB's reader sizes its buffers from max_line_size: raised only for long rows)
            longest = max(self._longest, 1 << 21)
            con.execute(
                f"CREATE TEMP TABLE {self.raw} AS SELECT * FROM read_csv({_lit(tmp)}, header=true, "
                f"auto_detect=false, delim={_lit(delim)}, quote='\"', escape='\"', new_line='\\n', "
                f"max_line_size={longest + (longest >> 2) + 1024}, "
                f"columns={{'_file': 'INTEGER', '_lineno': 'BIGINT'{', ' + cols if cols else ''}}})"
            )
        finally:
            os.unlink(tmp)
        if side.rows[0] or side.created:  # rows holding a lone carriage return: DuckDB's reader cannot take them
            side.flush()
            con.execute(f"INSERT INTO {self.raw} SELECT * FROM {self.prefix}_side")
            con.execute(f"CREATE TEMP TABLE {self.raw}_sorted AS SELECT * FROM {self.raw} ORDER BY _file, _lineno")
            con.execute(f"DROP TABLE {self.raw}")
            con.execute(f"ALTER TABLE {self.raw}_sorted RENAME TO {self.raw}")
        self.rows = con.execute(f"SELECT count(*) FROM {self.raw}").fetchone()[0]

    def _copy_csv(self, i: int, source: _CsvFile, cols: list[str], union: list[str], out, writer,
                  side: _Appender, rejects: _Appender) -> None:
        """Copy a file's good rows to the staging CSV (``out``), prefixed by file and line number.

        A row Python's reader took in strict mode is also read alike by DuckDB's, so its text is
        copied as it is (only its line break made ``\\n``); rows spread over the columns of
        other files are written anew, and rows holding a lone carriage return go through Arrow.
        """
        width = len(cols)
        spread = None if cols == union[:width] else [union.index(c) for c in cols]
        pad = [""] * (len(union) - width)
        records = source.records()
        for _, fields, problem, text in records:  # the header
            if problem is None:
                break
        write, put, d = writer.writerow, out.write, source.delimiter
        as_is = spread is None and not pad
        for first, fields, problem, text in records:
            if problem is None and len(fields) != width:
                problem = "more fields than the header" if len(fields) > width else "fewer fields than the header"
            if problem is not None:
                rejects.add(i, first, problem, _shown_raw(text))
                continue
            if spread is not None:
                row = [""] * len(union)
                for j, v in zip(spread, fields):
                    row[j] = v
                fields = row
            elif pad:
                fields = fields + pad
            if len(text) > 1 << 19:  # (the written row's size in bytes, for the reader's buffers)
                self._longest = max(self._longest, len(text.encode("utf-8", "surrogateescape")) + 64)
            if "\r" in text and text.count("\r") != text.count("\r\n") and _BARE_CR.search(text):
                side.add(i, first, *fields)
            elif as_is:
                if text.endswith("\r\n"):
                    text = text[:-2] + "\n"
                elif not text.endswith("\n"):
                    text += "\n"
                put(f"{i}{d}{first}{d}{text}")
            else:
                write((i, first, *fields))

    # -- JSON lines -----------------------------------------------------------------------------
    def _stage_jsonl(self, con, rejects: _Appender) -> None:
        enc = self.task.mapping.encoding
        rows = _Appender(con, self.raw, pa.schema([("_file", pa.int32()), ("_lineno", pa.int64()),
                                                   ("_line", pa.string())]))
        for i, path in enumerate(self.files):
            lines = _Lines(path, enc)
            seen_first = False
            for n, line in enumerate(lines, 1):
                text = line.rstrip("\r\n")
                if not text.strip(" \t\r"):
                    if n in lines.overlong:
                        rejects.add(i, n, f"line too long (over {_mb(MAX_ROW_CHARS)})", lines.overlong[n] + "…")
                    continue
                if not seen_first:
                    seen_first = True
                    _refuse_json_array(path, text)
                if lines.undecodable and _BAD_BYTES.search(text):
                    rejects.add(i, n, _not_encoded(enc), _shown_raw(text))
                    continue
                rows.add(i, n, text)
        rows.flush()
        self.rows = con.execute(f"SELECT count(*) FROM {self.raw}").fetchone()[0]
        keys = con.execute(
            f"SELECT DISTINCT unnest(json_keys(_line)) FROM {self.raw} "
            "WHERE json_valid(_line) AND json_type(_line) = 'OBJECT'"
        ).fetchall()
        self.columns = {k: "VARCHAR" for k, in sorted(keys)}

    # -- Parquet --------------------------------------------------------------------------------
    def _stage_parquet(self, con) -> None:
        counts = []
        for path in self.files:
            try:
                described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_lit(str(path))})").fetchall()
                counts.append(con.execute(f"SELECT count(*) FROM read_parquet({_lit(str(path))})").fetchone()[0])
            except duckdb.InterruptException:
                raise KeyboardInterrupt from None
            except duckdb.Error as exc:
                raise IngestError(f"{path}: cannot be read as Parquet ({_first_line(exc)})") from None
            self.file_columns.append([c for c, *_ in described])
            for c, t, *_ in described:
                if c in _RESERVED or (c == "filename" and len(self.files) > 1):
                    raise IngestError(f"{path}: column name {c!r} is reserved; rename the column")
                self.columns.setdefault(c, t)
        self.rows = sum(counts)
        if len(self.files) > 1:
            starts = [sum(counts[:i]) for i in range(len(counts))]
            offsets = pa.table({"_file": pa.array(range(len(self.files)), pa.int32()),
                                "_name": pa.array([str(p) for p in self.files]),
                                "_start": pa.array(starts, pa.int64())})
            con.register(f"{self.prefix}_pq_arrow", offsets)
            con.execute(f"CREATE TEMP TABLE {self.prefix}_pq AS SELECT * FROM {self.prefix}_pq_arrow")
            con.unregister(f"{self.prefix}_pq_arrow")

    # where the rows come from: ``_row``, ``_file``, ``_lineno`` and the source columns
    # (JSON lines: ``_line``, the line's text, and ``_j``, the line as JSON when it is valid JSON)
    def relation(self) -> str:
        if self.task.fmt == "parquet":
            if len(self.files) == 1:
                return (f"(SELECT file_row_number AS _row, 0 AS _file, file_row_number + 1 AS _lineno, "
                        f"* EXCLUDE (file_row_number) "
                        f"FROM read_parquet({_lit(str(self.files[0]))}, file_row_number=true))")
            paths = "[" + ", ".join(_lit(str(p)) for p in self.files) + "]"
            return (f"(SELECT p.file_row_number + f._start AS _row, f._file, p.file_row_number + 1 AS _lineno, "
                    f"p.* EXCLUDE (file_row_number, filename) FROM read_parquet({paths}, file_row_number=true, "
                    f"filename=true, union_by_name=true) p JOIN {self.prefix}_pq f ON f._name = p.filename)")
        if self.task.fmt == "jsonl":
            return (f"(SELECT rowid AS _row, _file, _lineno, _line, "
                    f"CASE WHEN json_valid(_line) THEN _line::JSON END AS _j FROM {self.raw})")
        return f"(SELECT rowid AS _row, * FROM {self.raw})"

    def unit(self) -> str:
        """What a location counts: rows of a Parquet file, lines of a text file."""
        return "row" if self.task.fmt == "parquet" else "line"

    def reject_counts(self, con) -> list[tuple[str, int]]:
        """(reason, rows) of the rows set aside while reading."""
        return con.execute(f"SELECT reason, count(*) FROM {self.rej} GROUP BY reason").fetchall()

    def check_columns(self, fs: FileSummary, required: bool) -> None:
        spec, tm, cols = self.task.spec, self.task.mapping, list(self.columns)
        by_name = {}
        for c in reversed(cols):
            by_name[c.strip().lower()] = c
        self.expressions = dict(tm.expressions)  # canonical -> expression (see ingest.reshape)
        for canonical in spec.columns:
            if canonical in self.expressions:
                continue
            wanted = tm.source_column(canonical)
            found = wanted if wanted in self.columns else by_name.get(wanted.strip().lower())
            if found is not None:
                self.source_of[canonical] = found
            elif canonical in tm.columns and (e := _as_expression(wanted, tm)) is not None:
                self.expressions[canonical] = e  # ``lookup.column`` or an expression of plain words
        missing = [c for c in spec.required if c not in self.source_of and c not in self.expressions]
        # a JSON-lines file without a single object: every line is quarantined as such instead
        if required and missing and (self.task.fmt != "jsonl" or cols):
            _missing(self.task.path, spec, tm, missing, cols)
        # with several files, each must have the required columns itself
        for path, own in zip(self.files, self.file_columns):
            if len(self.files) > 1 and required:
                gone = [c for c in spec.required if c in self.source_of and self.source_of[c] not in own]
                if gone:
                    _missing(path, spec, tm, gone, own)
        used = set(self.source_of.values())
        read = [tm.where, *tm.group_by, *self.expressions.values(), *(lk.match for lk in tm.lookups.values())]
        used |= {name for e in read if e is not None for alias, name in e.columns if alias is None}
        fs.ignored_columns = [c for c in cols if c not in used]


def _missing(path, spec, tm, missing: list[str], cols: list[str]) -> None:
    names = ", ".join(
        f"'{tm.source_column(c)}'" + ("" if tm.source_column(c) == c else f" (for {c})") for c in missing
    )
    shown = ", ".join(cols[:12]) + (" …" if len(cols) > 12 else "") if cols else "none"
    word = "column" if len(missing) == 1 else "columns"
    raise IngestError(
        f"{path}: required {word} {names} missing for table {spec.name} (found: {shown}); "
        "rename or map it in a mapping file (--mapping)"
    )


def _refuse_json_array(path: Path, first: str) -> None:
    """A file that holds one JSON array (over many lines, or on one line) is not JSON lines."""
    s = first.strip()
    if not s.startswith("["):
        return
    try:
        value = json.loads(s)
    except ValueError:
        value = None  # the start of an array written over several lines
    if value is None or (isinstance(value, list) and value and all(isinstance(v, dict) for v in value)):
        raise IngestError(f"{path}: holds one JSON array, not JSON lines; write one JSON object per line")


def _as_expression(text: str, tm):
    """A mapped value that is not a column of the file: a lookup's column or a small expression."""
    from afterclick.ingest.expressions import ExpressionError, column, parse

    alias, dot, name = text.partition(".")
    if dot and alias in tm.lookups:
        return column(name, alias)
    try:
        e = parse(text, aggregates=bool(tm.group_by))
    except ExpressionError:
        return None
    return None if e.is_column and e.columns == ((None, text),) else e


def stage_other_file(con, path: Path, fmt: str, table: str, what: str, *, delimiter: str | None = None,
                     encoding: str | None = None) -> list[str]:
    """Read another file of the export (e.g. a lookup's) into the temporary ``table``; its columns.

    The same reader as a table's own files (encodings, quoted values over lines, blank lines),
    without ``_row``/``_file``/``_lineno``. A line that cannot be read stops it, naming the line:
    a lookup with a hole would quietly miss matches. ``what`` names the file's use in messages
    (e.g. "lookup buyers for transactions").
    """
    if fmt not in ("csv", "tsv", "parquet"):
        raise IngestError(f"{path}: {what} reads CSV, TSV or Parquet")
    st = _Staged.stage(con, _Task(None, path, fmt, TableMapping(what, delimiter=delimiter, encoding=encoding)),
                       f"{table}_s")
    if st.rejects:
        line, reason = con.execute(f"SELECT line, reason FROM {st.rej} ORDER BY line LIMIT 1").fetchone()
        raise IngestError(f"{path}: line {line} cannot be read for {what} ({reason}; "
                          f"{st.rejects:,} line(s) in all); fix the file")
    cols = list(st.columns)
    picked = ", ".join(_q(c) for c in cols) or "NULL AS _none"
    con.execute(f"CREATE TEMP TABLE {table} AS SELECT {picked} FROM {st.relation()} ORDER BY _row")
    return cols
