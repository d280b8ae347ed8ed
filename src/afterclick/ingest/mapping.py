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
from datetime import datetime
from pathlib import Path

from afterclick.ingest.expressions import Expression
from afterclick.ingest.mapping_section import (  # noqa: F401  (re-exported: the loader and checks read them)
    EPOCH_FORMATS,
    FORMAT_NAMES,
    Lookup,
    SectionReader,
)
from afterclick.schemas import TABLES


class MappingError(ValueError):
    """One or more problems in a mapping file (each on its own line)."""


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
    zones: dict[str, set[str]] = {}
    for name, section in raw.items():
        where = f"{path}: [{name}]"
        if name not in TABLES:
            problems.append(f"{where} is not a canonical table (one of {', '.join(TABLES)})")
        elif not isinstance(section, dict):
            problems.append(f"{where} must be a table of settings")
        else:
            tables[name] = TableMapping(**SectionReader(path, lines, name, section, problems, zones).read())
    if problems:
        raise MappingError("\n".join(problems))
    return Mapping(tables=tables, path=path)
