"""Finding the files: which file (or files) feeds which canonical table.

A table is fed by one file (``events.csv``), by a folder named after it (``events/``, every file
in it), or, in a mapping, by ``file = "…"``: a file, a folder, or a pattern such as
``"by-day/*.csv"``, relative to the SOURCE folder. All files of one table are one task.
Anything named after a table that is not a readable file (a broken link, a named pipe, a link
loop) stops the ingest with one line saying so; nothing is opened before it is known to be a file,
so a named pipe never blocks the ingest.
"""

from __future__ import annotations

import errno
import glob
import gzip
import stat
from pathlib import Path

from afterclick.ingest._common import _TEXT_FORMATS, FORMATS, IngestError, _Task
from afterclick.ingest.mapping import Mapping, TableMapping
from afterclick.schemas import TABLES

_PATTERN_CHARS = ("*", "?", "[")
_FORMAT_HINT = ".csv, .tsv, .parquet or .jsonl, text formats optionally .gz"


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


def _kind(p: Path) -> str | None:
    """None for a regular file (links followed); otherwise what it is, in words."""
    try:
        mode = p.stat().st_mode
    except FileNotFoundError:
        return "a link to nothing (its target does not exist)" if p.is_symlink() else "missing"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a link loop (it links back to itself)"
        return f"unreadable ({exc.strerror})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO), not a file"
    return "not a regular file"


def _refuse(p: Path, kind: str, table: str) -> IngestError:
    return IngestError(f"{p}: is {kind}, so table {table} cannot be read from it; "
                       "replace it with the file itself or remove it")


def _hidden(p: Path) -> bool:
    return p.name.startswith(".")


def _folder_files(folder: Path, table: str, tm: TableMapping, ignored: list[str], shown: str) -> list[Path]:
    """The files of a table's folder (not hidden, in a known format, sorted); others are ignored."""
    files = []
    for p in sorted(folder.iterdir()):
        if _hidden(p):
            continue
        kind = _kind(p)
        if kind is None and _format_of(p, tm):
            files.append(p)
        elif kind is not None and kind != "a folder" and _format_of(p, tm):
            raise _refuse(p, kind, table)
        else:
            ignored.append(f"{shown}/{p.name}" + (f" ({kind})" if kind else ""))
    if not files:
        raise IngestError(f"{folder}: the folder for table {table} holds no file to read ({_FORMAT_HINT})")
    return files


def _one_format(files: list[Path], tm: TableMapping, shown: Path, table: str) -> str:
    formats = {_format_of(p, tm) for p in files}
    if None in formats:
        bad = next(p for p in files if _format_of(p, tm) is None)
        raise IngestError(f"{bad}: unsupported format for table {table} (use {_FORMAT_HINT}, "
                          "or set format in a mapping file)")
    if len(formats) > 1:
        raise IngestError(f"{shown}: the files for table {table} mix formats ({', '.join(sorted(formats))}); "
                          "keep one format per table")
    return formats.pop()


def find_sources(source: str | Path, mapping: Mapping) -> tuple[list[_Task], list[str]]:
    """Which files feed which table; files that match no table are returned as ignored."""
    source = Path(source)
    top_kind = _kind(source)
    if top_kind == "missing":
        raise IngestError(f"{source}: no such file or folder")
    is_dir = top_kind == "a folder"
    if top_kind is not None and not is_dir:
        raise IngestError(f"{source}: is {top_kind}; give a folder or a file")
    folder = source if is_dir else source.parent
    entries = sorted(p for p in source.iterdir() if not _hidden(p)) if is_dir else [source]
    tasks: list[_Task] = []
    used: set[Path] = set()
    ignored: list[str] = []
    for name, spec in TABLES.items():
        tm = mapping.for_table(name)
        if tm.file:
            found = _mapped_files(source, folder, is_dir, name, tm, ignored)
        else:
            found = _named_files(entries, folder, name, tm, ignored)
        if found is None:
            continue
        shown, files = found
        fmt = _one_format(files, tm, shown, name)
        tasks.append(_Task(spec, shown, fmt, tm, folder, tuple(files)))
        used.update(p.resolve() for p in files)
        used.add(shown.resolve())
    skip = {mapping.path.resolve()} if mapping.path else set()
    for p in entries:
        if p.resolve() in used or p.resolve() in skip or p.name.endswith((".duckdb", ".duckdb.wal")):
            continue
        if any(p.resolve() == f.parent.resolve() for t in tasks for f in t.paths):
            continue  # the folder a mapping's pattern reads from
        kind = _kind(p)
        if kind != "a folder":  # (sub-folders not named after a table are not read, nor listed)
            ignored.append(p.name + (f" ({kind})" if kind else ""))
    if not tasks:
        what = f"{source}: not named after" if not is_dir else f"{source}: no file named after"
        raise IngestError(
            f"{what} a canonical table ({', '.join(TABLES)}) with .csv, .tsv, .parquet or .jsonl; "
            "rename or name the file in a mapping file (--mapping)"
        )
    return tasks, ignored


def _mapped_files(source: Path, folder: Path, is_dir: bool, name: str, tm: TableMapping,
                  ignored: list[str]) -> tuple[Path, list[Path]] | None:
    """The files a mapping names for table ``name`` (a file, a folder or a pattern); None when the
    one file given is not among them."""
    shown = folder / tm.file
    if any(c in tm.file for c in _PATTERN_CHARS):
        matches = [Path(p) for p in sorted(glob.glob(str(shown), recursive=True))]
        matches = [p for p in matches if _kind(p) != "a folder"]
        if not is_dir:
            if source.resolve() not in {p.resolve() for p in matches}:
                return None  # one file given: only the table(s) it feeds
            matches = [source]
        if not matches:
            raise IngestError(f"{shown}: no file matches the pattern named in the mapping for {name}")
        for p in matches:
            if (kind := _kind(p)) is not None:
                raise _refuse(p, kind, name)
        return shown, matches
    if not is_dir and shown.resolve() != source.resolve():
        return None
    kind = _kind(shown)
    if kind == "a folder":
        return shown, _folder_files(shown, name, tm, ignored, tm.file.rstrip("/"))
    if kind == "missing":
        raise IngestError(f"{shown}: file named in the mapping for {name} does not exist")
    if kind is not None:
        raise _refuse(shown, kind, name)
    return shown, [shown]


def _named_files(entries: list[Path], folder: Path, name: str, tm: TableMapping,
                 ignored: list[str]) -> tuple[Path, list[Path]] | None:
    """The file (or folder of files) named after table ``name``; None when there is none."""
    candidates = [p for p in entries if _split_name(p)[0] == name or p.name.lower() == name]
    # a folder named after the table (``events/``) holds its files
    folders = [p for p in candidates if p.name.lower() == name and _kind(p) == "a folder"]
    singles = [p for p in candidates if p not in folders]
    for p in singles:
        if (kind := _kind(p)) is not None:
            raise _refuse(p, kind, name)
    if len(singles) > 1:
        known = [p for p in singles if _format_of(p, tm)]
        singles = known or singles
    if len(singles) + len(folders) > 1:
        raise IngestError(
            f"{folder}: several files for table {name} "
            f"({', '.join(p.name + ('/' if p in folders else '') for p in folders + singles)}); "
            "keep one or name it in a mapping file"
        )
    if folders:
        return folders[0], _folder_files(folders[0], name, tm, ignored, folders[0].name)
    if singles:
        return singles[0], singles
    return None


# -- small helpers ----------------------------------------------------------------------------
def _head(path: Path, n: int = 1 << 20) -> bytes:
    """The first ``n`` bytes of a file, decompressed when it is gzipped."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as fh:
            return fh.read(n)
    except (OSError, EOFError) as exc:
        raise IngestError(f"{path}: cannot be read ({exc})") from None


def _is_empty(path: Path, fmt: str) -> bool:
    """A file of 0 bytes, or a text file of only blank lines (and perhaps a byte-order mark)."""
    if path.stat().st_size == 0:
        return True
    if fmt not in _TEXT_FORMATS:
        return False
    head = _head(path)
    return len(head) < (1 << 20) and not head.removeprefix(b"\xef\xbb\xbf").strip()
