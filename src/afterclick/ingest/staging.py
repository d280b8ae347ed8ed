"""Staging: a file made readable by SQL (temporary tables only; the store is not touched)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from afterclick.ingest._common import IngestError, _first_line, _lit, _Task

if TYPE_CHECKING:
    from afterclick.ingest.loader import FileSummary


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


# -- staging ----------------------------------------------------------------------------------
_REJECT_REASONS = {
    "INVALID ENCODING": "bytes that are not UTF-8",
    "TOO MANY COLUMNS": "more fields than the header",
    "MISSING COLUMNS": "fewer fields than the header",
    "UNQUOTED VALUE": "badly quoted field",
    "LINE SIZE OVER MAXIMUM": "line too long (over 2 MB)",
}


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
        self.expressions: dict = {}  # canonical -> Expression computed by ingest.reshape
        self.computed: dict[str, str] = {}  # column reshape computes -> DuckDB type
        self.notes: list[str] = []  # what the checks noticed without setting rows aside
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
        read = [tm.where, *tm.group_by, *self.expressions.values(), *(lk.match for lk in tm.lookups.values())]
        used |= {name for e in read if e is not None for alias, name in e.columns if alias is None}
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


def _reject_reason(kind: str, fmt: str) -> str:
    if kind == "INVALID ENCODING":
        return _REJECT_REASONS[kind]
    if fmt == "jsonl":
        return "line cannot be read" if kind != "LINE SIZE OVER MAXIMUM" else _REJECT_REASONS[kind]
    return _REJECT_REASONS.get(kind, kind.lower())
