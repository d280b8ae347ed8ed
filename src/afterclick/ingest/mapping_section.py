"""Reading one ``[table]`` section of a mapping file into a ``TableMapping``.

Every problem is appended to a shared list (each one line, with the mapping file's path and,
where it can be found, the line number), so ``load_mapping`` reports them all at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from afterclick.ingest.expressions import (
    Expression,
    ExpressionError,
    looks_plain,
    parse,
)
from afterclick.schemas import EVENT_VOCABULARY, TABLES

#: Formats a mapping may name explicitly (``format = ...``).
FORMAT_NAMES = ("csv", "tsv", "parquet", "jsonl")
#: ``timestamp_format`` values that are not strptime patterns.
EPOCH_FORMATS = {"epoch_s": 1.0, "epoch_ms": 1000.0}

KEYS = {"file", "format", "delimiter", "encoding", "columns", "constants", "event_names", "timestamp_format",
        "timezone", "where", "group_by", "lookups", "earliest", "latest", "max_amount"}
LOOKUP_KEYS = {"file", "key", "match", "format", "delimiter", "encoding", "required"}
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def line_of(lines: list[str], section: str, key: str | None = None) -> str:
    """``line N: `` of a setting in the mapping file (for messages), or '' when not found."""
    header = re.compile(r"^\s*\[\s*" + r"\s*\.\s*".join(re.escape(p) for p in section.split(".")) + r"\s*\]")
    start = next((i for i, ln in enumerate(lines) if header.match(ln)), None)
    if start is None:
        return ""
    if key is None:
        return f"line {start + 1}: "
    setting = re.compile(r"^\s*(" + re.escape(key) + r'|"' + re.escape(key) + r'")\s*=')
    for i in range(start + 1, len(lines)):
        if lines[i].lstrip().startswith("["):
            break
        if setting.match(lines[i]):
            return f"line {i + 1}: "
    return f"line {start + 1}: "


def known_encoding(name: str) -> bool:
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def known_timezones() -> set[str]:
    from afterclick.store import connect_duckdb

    con = connect_duckdb()
    try:
        return {n for n, in con.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    finally:
        con.close()


def strptime_problem(pattern: str) -> str | None:
    """Why DuckDB's strptime refuses ``pattern`` (None when it takes it)."""
    import duckdb

    from afterclick.store import connect_duckdb

    con = connect_duckdb()
    try:
        con.execute("SELECT try_strptime('', ?)::VARCHAR", [pattern]).fetchall()
    except duckdb.Error as exc:
        text = str(exc).strip().splitlines()[0]
        return text.split(": ", 1)[-1] if ": " in text else text
    finally:
        con.close()
    return None


@dataclass(frozen=True)
class Lookup:
    """Values from another file of the same export, found by key: ``alias.column`` in expressions.

    ``match`` (an expression over this table's row and earlier lookups) must equal ``key`` (a
    column of ``file``); the key must be unique in ``file``. With ``required`` (the default) a row
    whose match finds nothing is quarantined with the reason.
    """

    alias: str
    file: str
    key: str
    match: Expression
    format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    required: bool = True


class SectionReader:
    """Validates one table's section; ``read()`` gives the keyword arguments of its TableMapping."""

    def __init__(self, path: Path, lines: list[str], name: str, section: dict[str, Any],
                 problems: list[str], zones: dict[str, set[str]]):
        self.path, self.lines, self.name, self.section = path, lines, name, section
        self.problems = problems
        self.zones = zones  # shared cache of the time-zone names (read once per mapping)
        self.where = f"{path}: [{name}]"
        self.expressions: dict[str, Expression] = {}
        self.lookups: dict[str, Any] = {}

    # ------------------------------------------------------------------ small readers
    def problem(self, text: str) -> None:
        self.problems.append(text)

    def text(self, key: str) -> str | None:
        value = self.section.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problem(f"{self.where} {key} must be a non-empty string")
            return None
        return value

    def string_table(self, key: str) -> dict[str, str]:
        value = self.section.get(key, {})
        if not isinstance(value, dict):
            self.problem(f"{self.where} {key} must be a table, e.g. [{self.name}.{key}]")
            return {}
        out = {}
        for k, v in value.items():
            if not isinstance(v, str) or not v.strip():
                self.problem(f"{self.path}: [{self.name}.{key}] {k} must be a non-empty string")
            else:
                out[str(k)] = v
        return out

    def expression(self, value: str, what: str, section_name: str, key: str,
                   aggregates: bool = False) -> Expression | None:
        try:
            return parse(value, aggregates=aggregates)
        except ExpressionError as exc:
            self.problem(f"{self.path}: {line_of(self.lines, section_name, key)}[{section_name}] {what} "
                         f"{value!r} {exc}")
            return None

    # ------------------------------------------------------------------ the section
    def read(self) -> dict[str, Any]:
        for key in sorted(set(self.section) - KEYS):
            self.problem(f"{self.where} has unknown setting {key!r} (known: {', '.join(sorted(KEYS))})")
        file = self.text("file")
        fmt, delimiter, encoding = self._format()
        ts_format, timezone = self._time()
        columns = self._columns()
        event_names = self._event_names()
        raw_group = self.section.get("group_by")
        group_by = self._group_by(raw_group)
        for canonical, value in list(columns.items()):
            if not looks_plain(value):
                e = self.expression(value, canonical, f"{self.name}.columns", canonical,
                                    aggregates=raw_group is not None)
                del columns[canonical]
                if e is not None:
                    self.expressions[canonical] = e
        self._constants(columns)
        row_filter = self._filter()
        self._lookups()
        self._aliases_declared(row_filter, group_by)
        if raw_group is None:
            for canonical, e in self.expressions.items():
                if e.aggregate:
                    self.problem(f"{self.path}: {self.where} {canonical} sums up rows ({e.text}); set group_by")
        bounds = self._bounds()
        return {
            "table": self.name, "file": file, "columns": columns, "expressions": self.expressions, "where": row_filter,
            "group_by": tuple(group_by), "lookups": self.lookups, "earliest": bounds["earliest"],
            "latest": bounds["latest"], "max_amount": self._max_amount(), "event_names": event_names,
            "timestamp_format": ts_format, "timezone": timezone, "format": fmt, "delimiter": delimiter, "encoding": encoding,
        }

    def _format(self) -> tuple[str | None, str | None, str | None]:
        fmt = self.text("format")
        if fmt is not None and fmt.lower() not in FORMAT_NAMES:
            self.problem(f"{self.where} format {fmt!r} is not one of {', '.join(FORMAT_NAMES)}")
        fmt = fmt.lower() if fmt else None
        delimiter = self.section.get("delimiter")
        if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
            self.problem(f"{self.where} delimiter must be one character, e.g. \";\" or \"\\t\"")
            delimiter = None
        encoding = self.text("encoding")
        if encoding and not known_encoding(encoding):
            self.problem(f"{self.where} encoding {encoding!r} is not an encoding Python knows (e.g. utf-8, "
                         "latin-1, cp1252, utf-16)")
        return fmt, delimiter, encoding

    def _time(self) -> tuple[str | None, str | None]:
        ts_format = self.text("timestamp_format")
        if ts_format and ts_format not in EPOCH_FORMATS:
            trouble = "it has no %-field" if "%" not in ts_format else strptime_problem(ts_format)
            if trouble:
                self.problem(
                    f"{self.where} timestamp_format {ts_format!r} is neither a strptime pattern "
                    f"(e.g. \"%d/%m/%Y %H:%M\") nor epoch_s / epoch_ms: {trouble}"
                )
        timezone = self.text("timezone")
        if timezone:
            if "names" not in self.zones:
                self.zones["names"] = known_timezones()
            if timezone not in self.zones["names"]:
                self.problem(f"{self.where} timezone {timezone!r} is not a known time zone (e.g. Europe/Berlin)")
        return ts_format, timezone

    def _columns(self) -> dict[str, str]:
        columns = self.string_table("columns")
        known = TABLES[self.name].columns
        for canonical in columns:
            if canonical not in known:
                self.problem(f"{self.path}: [{self.name}.columns] {canonical!r} is not a column of {self.name} "
                             f"(columns: {', '.join(known)})")
        return columns

    def _event_names(self) -> dict[str, str]:
        event_names = self.string_table("event_names")
        if event_names and self.name != "events":
            self.problem(f"{self.path}: [{self.name}.event_names] only applies to events")
        for source, canonical in event_names.items():
            if canonical not in EVENT_VOCABULARY:
                self.problem(
                    f"{self.path}: [{self.name}.event_names] {source!r} maps to {canonical!r}, which is not a "
                    f"canonical event (one of {', '.join(EVENT_VOCABULARY)})"
                )
        return event_names

    def _group_by(self, raw_group: Any) -> list[Expression]:
        group_by: list[Expression] = []
        if raw_group is None:
            return group_by
        items = [raw_group] if isinstance(raw_group, str) else raw_group
        if not isinstance(items, list) or not items or not all(isinstance(g, str) and g.strip() for g in items):
            self.problem(f"{self.path}: {line_of(self.lines, self.name, 'group_by')}{self.where} group_by must "
                         "be an expression or a list of them, e.g. \"InvoiceNo\"")
            return group_by
        for g in items:
            e = self.expression(g, "group_by", self.name, "group_by")
            if e is not None:
                group_by.append(e)
        return group_by

    def _constants(self, columns: dict[str, str]) -> None:
        name = self.name
        constants = self.section.get("constants", {})
        if not isinstance(constants, dict):
            self.problem(f"{self.where} constants must be a table, e.g. [{name}.constants]")
            constants = {}
        for canonical, value in constants.items():
            at = f"{self.path}: {line_of(self.lines, name + '.constants', canonical)}[{name}.constants]"
            if canonical not in TABLES[name].columns:
                self.problem(f"{at} {canonical!r} is not a column of {name} "
                             f"(columns: {', '.join(TABLES[name].columns)})")
            elif canonical in columns or canonical in self.expressions:
                self.problem(f"{at} {canonical!r} is also in [{name}.columns]; keep one")
            elif isinstance(value, (bool, int, float, str, date)):
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                self.expressions[canonical] = parse("'" + text.replace("'", "''") + "'")
            else:
                self.problem(f"{self.path}: [{name}.constants] {canonical} must be a text, number, boolean or date")

    def _filter(self) -> Expression | None:
        filter_text = self.section.get("where")
        if filter_text is None:
            return None
        if not isinstance(filter_text, str) or not filter_text.strip():
            self.problem(f"{self.where} where must be an expression, e.g. \"status <> 'canceled'\"")
            return None
        return self.expression(filter_text, "where", self.name, "where")

    def _lookups(self) -> None:
        raw = self.section.get("lookups", {})
        if not isinstance(raw, dict):
            self.problem(f"{self.where} lookups must be tables, e.g. [{self.name}.lookups.orders]")
            raw = {}
        for alias, lk in raw.items():
            lwhere = f"{self.path}: {line_of(self.lines, f'{self.name}.lookups.{alias}')}" \
                     f"[{self.name}.lookups.{alias}]"
            if not _ALIAS.match(alias):
                self.problem(f"{lwhere}: a lookup's name is letters, digits and _ (it is used as name.column)")
                continue
            if not isinstance(lk, dict):
                self.problem(f"{lwhere} must be a table of settings (file, key, match)")
                continue
            settings = self._lookup(alias, lk, lwhere)
            if settings is not None:
                self.lookups[alias] = Lookup(alias, *settings)

    def _lookup(self, alias: str, lk: dict[str, Any], lwhere: str) -> tuple | None:
        for key in sorted(set(lk) - LOOKUP_KEYS):
            self.problem(f"{lwhere} has unknown setting {key!r} (known: {', '.join(sorted(LOOKUP_KEYS))})")
        lfile, lkey = lk.get("file"), lk.get("key")
        if not isinstance(lfile, str) or not lfile.strip():
            self.problem(f"{lwhere} needs file, the other file of the export to look values up in")
        if not isinstance(lkey, str) or not lkey.strip():
            self.problem(f"{lwhere} needs key, the column of that file that identifies a row")
        match_text = lk.get("match", lkey if isinstance(lkey, str) else None)
        match = None
        if isinstance(match_text, str) and match_text.strip():
            match = self.expression(match_text, f"lookups.{alias} match", f"{self.name}.lookups.{alias}", "match")
            if match is not None:
                unknown = [a for a, _ in match.columns if a is not None and a not in self.lookups]
                if unknown:
                    self.problem(f"{lwhere} match {match_text!r} reads lookup {unknown[0]!r}, which is "
                                 "not declared before it")
        lfmt = lk.get("format")
        if lfmt is not None and (not isinstance(lfmt, str) or lfmt.lower() not in FORMAT_NAMES):
            self.problem(f"{lwhere} format {lfmt!r} is not one of {', '.join(FORMAT_NAMES)}")
        lenc = lk.get("encoding")
        if lenc is not None and (not isinstance(lenc, str) or not known_encoding(lenc)):
            self.problem(f"{lwhere} encoding {lenc!r} is not an encoding Python knows")
        required = lk.get("required", True)
        if not isinstance(required, bool):
            self.problem(f"{lwhere} required must be true or false")
        if not (isinstance(lfile, str) and isinstance(lkey, str) and match is not None):
            return None
        return (lfile, lkey, match, lfmt.lower() if isinstance(lfmt, str) else None,
                lk.get("delimiter"), lk.get("encoding"), bool(required))

    def _aliases_declared(self, row_filter: Expression | None, group_by: list[Expression]) -> None:
        """Every ``alias.column`` an expression reads must name a declared lookup."""
        for canonical, e in [*self.expressions.items(), *(("where", e) for e in [row_filter] if e),
                             *(("group_by", g) for g in group_by)]:
            for alias, col in e.columns:
                if alias is not None and alias not in self.lookups:
                    self.problem(f"{self.path}: {self.where} {canonical} reads {alias}.{col}, but no lookup named "
                                 f"{alias!r} is declared ([{self.name}.lookups.{alias}])")

    def _bounds(self) -> dict[str, datetime | None]:
        bounds: dict[str, datetime | None] = {}
        for key in ("earliest", "latest"):
            value = self.section.get(key)
            if value is None:
                bounds[key] = None
            elif isinstance(value, datetime):
                bounds[key] = value.replace(tzinfo=None)
            elif isinstance(value, date):
                bounds[key] = datetime(value.year, value.month, value.day)
            else:
                self.problem(f"{self.where} {key} must be a date, e.g. {key} = 1990-01-01 (no quotes)")
                bounds[key] = None
        return bounds

    def _max_amount(self) -> float | None:
        value = self.section.get("max_amount")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            self.problem(f"{self.where} max_amount must be a positive number")
            return None
        return float(value)
