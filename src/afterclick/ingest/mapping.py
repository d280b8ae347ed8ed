"""Mapping files: how a source's own files, columns and event names become canonical.

A mapping is a TOML file with one section per canonical table::

    [events]
    file = "web_hits.csv"            # default: events.csv / .parquet / .jsonl in the folder
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

    def source_column(self, canonical: str) -> str:
        return self.columns.get(canonical, canonical)


@dataclass(frozen=True)
class Mapping:
    tables: dict[str, TableMapping] = field(default_factory=dict)
    path: Path | None = None

    def for_table(self, name: str) -> TableMapping:
        return self.tables.get(name, TableMapping(name))


_KEYS = {"file", "columns", "event_names", "timestamp_format", "timezone"}


def load_mapping(path: str | Path | None) -> Mapping:
    """Read and validate a mapping file; ``None`` gives the identity mapping."""
    if path is None:
        return Mapping()
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML ({exc})") from None

    problems: list[str] = []
    tables: dict[str, TableMapping] = {}
    for name, section in raw.items():
        if name not in TABLES:
            problems.append(f"{path}: [{name}] is not a canonical table (one of {', '.join(TABLES)})")
            continue
        if not isinstance(section, dict):
            problems.append(f"{path}: [{name}] must be a table of settings")
            continue
        for key in set(section) - _KEYS:
            problems.append(f"{path}: [{name}] has unknown setting {key!r} (known: {', '.join(sorted(_KEYS))})")
        columns = section.get("columns", {})
        for canonical in columns:
            if canonical not in TABLES[name].columns:
                problems.append(
                    f"{path}: [{name}.columns] {canonical!r} is not a column of {name} "
                    f"(columns: {', '.join(TABLES[name].columns)})"
                )
        event_names = section.get("event_names", {})
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
            file=section.get("file"),
            columns={str(k): str(v) for k, v in columns.items()},
            event_names={str(k): str(v) for k, v in event_names.items()},
            timestamp_format=section.get("timestamp_format"),
            timezone=section.get("timezone"),
        )
    if problems:
        raise MappingError("\n".join(problems))
    return Mapping(tables=tables, path=path)
