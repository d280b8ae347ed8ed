"""Mapping files: how a source's own files, columns and event names become canonical.

A mapping is a TOML file with one section per canonical table (see docs/mapping.md)::

    [events]
    file = "web_hits.csv"            # default: events.csv / .tsv / .parquet / .jsonl in the folder
    format = "csv"                   # optional: csv, tsv, parquet or jsonl (default: from the file name)
    delimiter = ";"                  # optional, CSV only (default: detected)
    timestamp_format = "%d/%m/%Y %H:%M"   # optional: strptime format, "epoch_s" or "epoch_ms"
    timezone = "Europe/Berlin"       # optional: zone of timestamps without an offset (default UTC)

    [events.columns]                 # canonical column = source column
    customer_id = "visitor"
    ts = "hit_time"
    event = "action"

    [events.event_names]             # source event name = canonical event name
    page_view = "visit"
    add_to_wishlist = "save"

Sections and keys that are not canonical are reported as errors, all at once, so a typo
never silently drops a column.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

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


class MappingError(ValueError):
    """One or more problems in a mapping file (each on its own line)."""


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


@dataclass(frozen=True)
class TableMapping:
    table: str
    file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source column name
    #: canonical -> expression (or constant) computed from the row, its lookups or, with
    #: ``group_by``, its group of rows
    expressions: dict[str, Expression] = field(default_factory=dict)
    where: Expression | None = None
    group_by: tuple[Expression, ...] = ()
    lookups: dict[str, Lookup] = field(default_factory=dict)
    #: plausible timestamps (older or later ones are quarantined) and the largest plausible amount
    earliest: datetime | None = None
    latest: datetime | None = None
    max_amount: float | None = None
    event_names: dict[str, str] = field(default_factory=dict)  # source -> canonical
    timestamp_format: str | None = None
    timezone: str | None = None
    format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None  # text files: default UTF-8 (a byte-order mark is fine)

    def source_column(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)

    @property
    def reshapes(self) -> bool:
        """True when rows go through expressions, lookups, a filter or grouping."""
        return bool(self.expressions or self.where or self.group_by or self.lookups)


@dataclass(frozen=True)
class Mapping:
    tables: dict[str, TableMapping] = field(default_factory=dict)
    path: Path | None = None

    def for_table(self, name: str) -> TableMapping:
        return self.tables.get(name, TableMapping(name))


_KEYS = {"file", "format", "delimiter", "encoding", "columns", "constants", "event_names", "timestamp_format",
         "timezone", "where", "group_by", "lookups", "earliest", "latest", "max_amount"}
_LOOKUP_KEYS = {"file", "key", "match", "format", "delimiter", "encoding", "required"}
_ALIAS = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _line_of(lines: list[str], section: str, key: str | None = None) -> str:
    """``line N`` of a setting in the mapping file (for messages), or '' when not found."""
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



def _known_encoding(name: str) -> bool:
    import codecs

    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def _known_timezones() -> set[str]:
    from afterclick.store import connect_duckdb

    con = connect_duckdb()
    try:
        return {n for n, in con.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    finally:
        con.close()


def _strptime_problem(pattern: str) -> str | None:
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


def load_mapping(path: str | Path | None) -> Mapping:
    """Read and validate a mapping file; ``None`` gives the identity mapping."""
    if path is None:
        return Mapping()
    path = Path(path)
    if path.is_dir():
        raise MappingError(f"mapping file {path} is a folder; give the .toml file")
    try:
        text = path.read_text(encoding="utf-8")
        raw = tomllib.loads(text)
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} does not exist") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from None

    lines = text.splitlines()
    problems: list[str] = []
    tables: dict[str, TableMapping] = {}
    zones: set[str] | None = None
    for name, section in raw.items():
        where = f"{path}: [{name}]"
        if name not in TABLES:
            problems.append(f"{where} is not a canonical table (one of {', '.join(TABLES)})")
            continue
        if not isinstance(section, dict):
            problems.append(f"{where} must be a table of settings")
            continue
        for key in sorted(set(section) - _KEYS):
            problems.append(f"{where} has unknown setting {key!r} (known: {', '.join(sorted(_KEYS))})")

        def text(key: str, section=section, where=where) -> str | None:
            value = section.get(key)
            if value is None:
                return None
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where} {key} must be a non-empty string")
                return None
            return value

        def string_table(key: str, section=section, where=where, name=name) -> dict[str, str]:
            value = section.get(key, {})
            if not isinstance(value, dict):
                problems.append(f"{where} {key} must be a table, e.g. [{name}.{key}]")
                return {}
            out = {}
            for k, v in value.items():
                if not isinstance(v, str) or not v.strip():
                    problems.append(f"{path}: [{name}.{key}] {k} must be a non-empty string")
                else:
                    out[str(k)] = v
            return out

        file = text("file")
        fmt = text("format")
        if fmt is not None and fmt.lower() not in FORMAT_NAMES:
            problems.append(f"{where} format {fmt!r} is not one of {', '.join(FORMAT_NAMES)}")
        fmt = fmt.lower() if fmt else None
        delimiter = section.get("delimiter")
        if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
            problems.append(f"{where} delimiter must be one character, e.g. \";\" or \"\\t\"")
            delimiter = None
        encoding = text("encoding")
        if encoding and not _known_encoding(encoding):
            problems.append(f"{where} encoding {encoding!r} is not an encoding Python knows (e.g. utf-8, "
                            "latin-1, cp1252, utf-16)")
        ts_format = text("timestamp_format")
        if ts_format and ts_format not in EPOCH_FORMATS:
            trouble = "it has no %-field" if "%" not in ts_format else _strptime_problem(ts_format)
            if trouble:
                problems.append(
                    f"{where} timestamp_format {ts_format!r} is neither a strptime pattern "
                    f"(e.g. \"%d/%m/%Y %H:%M\") nor epoch_s / epoch_ms: {trouble}"
                )
        timezone = text("timezone")
        if timezone:
            zones = zones if zones is not None else _known_timezones()
            if timezone not in zones:
                problems.append(f"{where} timezone {timezone!r} is not a known time zone (e.g. Europe/Berlin)")

        columns = string_table("columns")
        for canonical in columns:
            if canonical not in TABLES[name].columns:
                problems.append(
                    f"{path}: [{name}.columns] {canonical!r} is not a column of {name} "
                    f"(columns: {', '.join(TABLES[name].columns)})"
                )
        event_names = string_table("event_names")
        if event_names and name != "events":
            problems.append(f"{path}: [{name}.event_names] only applies to events")
        for source, canonical in event_names.items():
            if canonical not in EVENT_VOCABULARY:
                problems.append(
                    f"{path}: [{name}.event_names] {source!r} maps to {canonical!r}, which is not a "
                    f"canonical event (one of {', '.join(EVENT_VOCABULARY)})"
                )
        expressions: dict[str, Expression] = {}
        lookups: dict[str, Lookup] = {}

        def expression(value: str, what: str, section_name: str, key: str,
                       aggregates: bool = False) -> Expression | None:
            try:
                return parse(value, aggregates=aggregates)
            except ExpressionError as exc:
                problems.append(f"{path}: {_line_of(lines, section_name, key)}[{section_name}] {what} "
                                f"{value!r} {exc}")
                return None

        group_by: list[Expression] = []
        raw_group = section.get("group_by")
        if raw_group is not None:
            items = [raw_group] if isinstance(raw_group, str) else raw_group
            if not isinstance(items, list) or not items or not all(isinstance(g, str) and g.strip() for g in items):
                problems.append(f"{path}: {_line_of(lines, name, 'group_by')}{where} group_by must be an "
                                "expression or a list of them, e.g. \"InvoiceNo\"")
            else:
                for g in items:
                    e = expression(g, "group_by", name, "group_by")
                    if e is not None:
                        group_by.append(e)
        for canonical, value in list(columns.items()):
            if not looks_plain(value):
                e = expression(value, canonical, f"{name}.columns", canonical, aggregates=raw_group is not None)
                del columns[canonical]
                if e is not None:
                    expressions[canonical] = e
        constants = section.get("constants", {})
        if not isinstance(constants, dict):
            problems.append(f"{where} constants must be a table, e.g. [{name}.constants]")
            constants = {}
        for canonical, value in constants.items():
            if canonical not in TABLES[name].columns:
                problems.append(f"{path}: {_line_of(lines, name + '.constants', canonical)}[{name}.constants] "
                                f"{canonical!r} is not a column of {name} (columns: {', '.join(TABLES[name].columns)})")
            elif canonical in columns or canonical in expressions:
                problems.append(f"{path}: {_line_of(lines, name + '.constants', canonical)}[{name}.constants] "
                                f"{canonical!r} is also in [{name}.columns]; keep one")
            elif isinstance(value, (bool, int, float, str, date)) and not isinstance(value, dict):
                text = ("true" if value else "false") if isinstance(value, bool) else str(value)
                literal = "'" + text.replace("'", "''") + "'"
                expressions[canonical] = parse(literal)
            else:
                problems.append(f"{path}: [{name}.constants] {canonical} must be a text, number, boolean or date")
        filter_text = section.get("where")
        row_filter = None
        if filter_text is not None:
            if not isinstance(filter_text, str) or not filter_text.strip():
                problems.append(f"{where} where must be an expression, e.g. \"status <> 'canceled'\"")
            else:
                row_filter = expression(filter_text, "where", name, "where")
        raw_lookups = section.get("lookups", {})
        if not isinstance(raw_lookups, dict):
            problems.append(f"{where} lookups must be tables, e.g. [{name}.lookups.orders]")
            raw_lookups = {}
        for alias, lk in raw_lookups.items():
            lwhere = f"{path}: {_line_of(lines, f'{name}.lookups.{alias}')}[{name}.lookups.{alias}]"
            if not _ALIAS.match(alias):
                problems.append(f"{lwhere}: a lookup's name is letters, digits and _ (it is used as name.column)")
                continue
            if not isinstance(lk, dict):
                problems.append(f"{lwhere} must be a table of settings (file, key, match)")
                continue
            for key in sorted(set(lk) - _LOOKUP_KEYS):
                problems.append(f"{lwhere} has unknown setting {key!r} (known: {', '.join(sorted(_LOOKUP_KEYS))})")
            lfile, lkey = lk.get("file"), lk.get("key")
            if not isinstance(lfile, str) or not lfile.strip():
                problems.append(f"{lwhere} needs file, the other file of the export to look values up in")
            if not isinstance(lkey, str) or not lkey.strip():
                problems.append(f"{lwhere} needs key, the column of that file that identifies a row")
            match_text = lk.get("match", lkey if isinstance(lkey, str) else None)
            match = None
            if isinstance(match_text, str) and match_text.strip():
                match = expression(match_text, f"lookups.{alias} match", f"{name}.lookups.{alias}", "match")
                if match is not None:
                    unknown = [a for a, _ in match.columns if a is not None and a not in lookups]
                    if unknown:
                        problems.append(f"{lwhere} match {match_text!r} reads lookup {unknown[0]!r}, which is "
                                        "not declared before it")
            lfmt = lk.get("format")
            if lfmt is not None and (not isinstance(lfmt, str) or lfmt.lower() not in FORMAT_NAMES):
                problems.append(f"{lwhere} format {lfmt!r} is not one of {', '.join(FORMAT_NAMES)}")
            lenc = lk.get("encoding")
            if lenc is not None and (not isinstance(lenc, str) or not _known_encoding(lenc)):
                problems.append(f"{lwhere} encoding {lenc!r} is not an encoding Python knows")
            required = lk.get("required", True)
            if not isinstance(required, bool):
                problems.append(f"{lwhere} required must be true or false")
            if isinstance(lfile, str) and isinstance(lkey, str) and match is not None:
                lookups[alias] = Lookup(alias, lfile, lkey, match, lfmt.lower() if isinstance(lfmt, str) else None,
                                        lk.get("delimiter"), lk.get("encoding"), bool(required))
        # every alias.column read must name a declared lookup
        for canonical, e in [*expressions.items(), *(("where", e) for e in [row_filter] if e),
                             *(("group_by", g) for g in group_by)]:
            for alias, col in e.columns:
                if alias is not None and alias not in lookups:
                    problems.append(f"{path}: {where} {canonical} reads {alias}.{col}, but no lookup named "
                                    f"{alias!r} is declared ([{name}.lookups.{alias}])")
        if raw_group is None:
            for canonical, e in expressions.items():
                if e.aggregate:
                    problems.append(f"{path}: {where} {canonical} sums up rows ({e.text}); set group_by")
        bounds: dict[str, datetime | None] = {}
        for key in ("earliest", "latest"):
            value = section.get(key)
            if value is None:
                bounds[key] = None
            elif isinstance(value, datetime):
                bounds[key] = value.replace(tzinfo=None)
            elif isinstance(value, date):
                bounds[key] = datetime(value.year, value.month, value.day)
            else:
                problems.append(f"{where} {key} must be a date, e.g. {key} = 1990-01-01 (no quotes)")
                bounds[key] = None
        max_amount = section.get("max_amount")
        if max_amount is not None and (isinstance(max_amount, bool) or not isinstance(max_amount, (int, float))
                                       or not max_amount > 0):
            problems.append(f"{where} max_amount must be a positive number")
            max_amount = None
        tables[name] = TableMapping(
            table=name,
            file=file,
            columns=columns,
            expressions=expressions,
            where=row_filter,
            group_by=tuple(group_by),
            lookups=lookups,
            earliest=bounds["earliest"],
            latest=bounds["latest"],
            max_amount=float(max_amount) if max_amount is not None else None,
            event_names=event_names,
            timestamp_format=ts_format,
            timezone=timezone,
            format=fmt,
            delimiter=delimiter,
            encoding=encoding,
        )
    if problems:
        raise MappingError("\n".join(problems))
    return Mapping(tables=tables, path=path)
