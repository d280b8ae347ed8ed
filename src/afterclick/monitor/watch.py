"""Watch a folder: which files are new and finished, which table each feeds, and ingesting one.

A file feeds the canonical table its name starts with: ``events.csv``, ``events-2026-11-02.csv``,
``transactions_week45.parquet`` (the table name, then ``-``, ``_``, ``.`` or a space). Hidden files
(``.name``) and files still being written (``.tmp``, ``.part``, ``.crdownload``, or whose size or
time changed since the previous look) wait for the next poll. Each file is ingested once per
watch; a file identical to one ingested before (by its SHA-256, as ``ingest`` checks) adds
nothing, so a restarted watch never loads a file twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from afterclick.schemas import TABLES

TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", ".download")
_SEPARATORS = ("-", "_", ".", " ")


def table_of(path: Path) -> str | None:
    """The canonical table a file's name says it feeds (None: no table name at its start)."""
    name = path.name.lower()
    for table in sorted(TABLES, key=len, reverse=True):  # the longest name first
        if name.startswith(table) and len(name) > len(table) and name[len(table)] in _SEPARATORS:
            return table
    return None


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:  # gone between the listing and the look
        return None
    return st.st_size, st.st_mtime_ns


@dataclass
class FolderWatch:
    """What has been seen in ``folder`` (call :meth:`ready` once per poll)."""

    folder: Path
    _last: dict[Path, tuple[int, int]] = field(default_factory=dict)
    _done: set[tuple[Path, tuple[int, int]]] = field(default_factory=set)
    ignored: set[Path] = field(default_factory=set)

    def ready(self) -> tuple[list[Path], list[Path]]:
        """(files to ingest now, in the order they landed; files newly seen that feed no table)."""
        if not self.folder.is_dir():
            raise FileNotFoundError(f"{self.folder}: the folder to watch is gone")
        fresh, unknown = [], []
        for path in sorted(p for p in self.folder.iterdir() if p.is_file()):
            name = path.name
            if name.startswith((".", "~")) or name.lower().endswith(TEMP_SUFFIXES):
                continue
            sig = _signature(path)
            if sig is None or (path, sig) in self._done:
                continue
            if table_of(path) is None:
                if path not in self.ignored:
                    self.ignored.add(path)
                    unknown.append(path)
                continue
            if self._last.get(path) == sig:  # unchanged since the last look: finished
                fresh.append((sig[1], path))
            self._last[path] = sig
        return [p for _, p in sorted(fresh)], unknown

    def done(self, path: Path) -> None:
        sig = _signature(path)
        if sig is not None:
            self._done.add((path, sig))
        self._last.pop(path, None)


def ingest_file(store, path: Path, mapping=None):
    """Ingest one file into its table (through :func:`afterclick.ingest.ingest`: the same
    accounting and quarantine); ``mapping`` (a loaded mapping) renames columns and events."""
    from afterclick.ingest import ingest
    from afterclick.ingest.mapping import Mapping

    table = table_of(path)
    if table is None:
        raise ValueError(f"{path.name}: its name starts with no table name (events, transactions, …)")
    mapping = mapping or Mapping()
    named = replace(mapping.for_table(table), file=path.name)
    return ingest(store, path, Mapping(tables={**mapping.tables, table: named}, path=mapping.path))
