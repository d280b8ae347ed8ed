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

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from afterclick.schemas import EVENT_VOCABULARY, TABLES

#: Formats a mapping may name explicitly (``format = ...``).
FORMAT_NAMES = ("csv", "tsv", "parquet", "jsonl")
#: ``timestamp_format`` values that are not strptime patterns.
EPOCH_FORMATS = {"epoch_s": 1.0, "epoch_ms": 1000.0}


class MappingError(ValueError):
    """One or more problems in a mapping file (each on its own line)."""


@dataclass(frozen=True)
class TableMapping:
    table: str
    file: str | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> source
    event_names: dict[str, str] = field(default_factory=dict)  # source -> canonical
    timestamp_format: str | None = None
    timezone: str | None = None
    format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None  # text files: default UTF-8 (a byte-order mark is fine)

    def source_column(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)


@dataclass(frozen=True)
class Mapping:
    tables: dict[str, TableMapping] = field(default_factory=dict)
    path: Path | None = None

    def for_table(self, name: str) -> TableMapping:
        return self.tables.get(name, TableMapping(name))


_KEYS = {"file", "format", "delimiter", "encoding", "columns", "event_names", "timestamp_format", "timezone"}


def _known_timezones() -> set[str]:
    import duckdb

    con = duckdb.connect()
    try:
        return {n for n, in con.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    finally:
        con.close()


def _strptime_problem(pattern: str) -> str | None:
    """Why DuckDB's strptime refuses ``pattern`` (None when it takes it)."""
    import duckdb

    con = duckdb.connect()
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
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} does not exist") from None
    except UnicodeDecodeError:
        raise MappingError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from None

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
        tables[name] = TableMapping(
            table=name,
            file=file,
            columns=columns,
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
