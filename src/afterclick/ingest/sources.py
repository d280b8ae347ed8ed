"""Finding the files: which file (or files) feeds which canonical table."""

from __future__ import annotations

import gzip
from pathlib import Path

from afterclick.ingest._common import FORMATS, IngestError, _Task
from afterclick.ingest.mapping import Mapping, TableMapping
from afterclick.schemas import TABLES


# -- finding the files ------------------------------------------------------------------------
def _split_name(p: Path) -> tuple[str, str, bool]:
    """``events.csv.gz`` -> ("events", ".csv", True)."""
    name = p.name.lower()
    compressed = name.endswith(".gz")
    if compressed:
        name = name[:-3]
    stem, dot, ext = name.rpartition(".")
    return (stem, dot + ext, compressed) if dot else (name, "", compressed)


def _format_of(p: Path, tm: TableMapping) -> str | None:
    if tm.format:
        return tm.format
    _, ext, compressed = _split_name(p)
    fmt = FORMATS.get(ext)
    if fmt == "parquet" and compressed:
        return None
    return fmt


def find_sources(source: str | Path, mapping: Mapping) -> tuple[list[_Task], list[str]]:
    """Which file feeds which table; files that match no table are returned as ignored."""
    source = Path(source)
    if not source.exists():
        raise IngestError(f"{source}: no such file or folder")
    folder = source if source.is_dir() else source.parent
    if source.is_dir():
        files = sorted(p for p in source.iterdir() if p.is_file() and not p.name.startswith("."))
    else:
        files = [source]
    tasks: list[_Task] = []
    used: set[Path] = set()
    for name, spec in TABLES.items():
        tm = mapping.for_table(name)
        if tm.file:
            path = folder / tm.file
            if not source.is_dir() and path.resolve() != source.resolve():
                continue  # one file given: only the table(s) it feeds
            if not path.is_file():
                raise IngestError(f"{path}: file named in the mapping for {name} does not exist")
            candidates = [path]
        else:
            candidates = [p for p in files if _split_name(p)[0] == name]
            if len(candidates) > 1:
                known = [p for p in candidates if _format_of(p, tm)]
                candidates = known or candidates
        if len(candidates) > 1:
            raise IngestError(
                f"{folder}: several files for table {name} ({', '.join(p.name for p in candidates)}); "
                "keep one or name it in a mapping file"
            )
        for path in candidates:
            fmt = _format_of(path, tm)
            if fmt is None:
                raise IngestError(
                    f"{path}: unsupported format for table {name} (use .csv, .tsv, .parquet or .jsonl, "
                    "text formats optionally .gz, or set format in a mapping file)"
                )
            tasks.append(_Task(spec, path, fmt, tm, folder))
            used.add(path.resolve())
    skip = {mapping.path.resolve()} if mapping.path else set()
    ignored = [p.name for p in files if p.resolve() not in used and p.resolve() not in skip
               and not p.name.endswith((".duckdb", ".duckdb.wal"))]
    if not tasks:
        what = f"{source}: not named after" if not source.is_dir() else f"{source}: no file named after"
        raise IngestError(
            f"{what} a canonical table ({', '.join(TABLES)}) with .csv, .tsv, .parquet or .jsonl; "
            "rename or name the file in a mapping file (--mapping)"
        )
    return tasks, ignored


# -- small helpers ----------------------------------------------------------------------------
def _head(path: Path, n: int = 1 << 20) -> bytes:
    """The first ``n`` bytes of a file, decompressed when it is gzipped."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(n)
    except (OSError, EOFError) as exc:
        raise IngestError(f"{path}: cannot be read ({exc})") from None
