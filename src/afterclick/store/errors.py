"""What goes wrong with a store, said in one line: errors, a full disk, a file that is no store."""

from __future__ import annotations

import errno
from pathlib import Path

#: A DuckDB database file holds these bytes at offset 8.
_DUCKDB_MAGIC = b"DUCK"


class StoreError(RuntimeError):
    """A problem with the store, worded for the person running the command."""


class StoreReadOnly(StoreError):
    """The store can be read but not written (file, folder or disk read-only)."""


def disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (a DuckDB or OS error) says the disk, a quota or a file-size limit is full."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    text = str(exc)
    return any(s in text for s in ("No space left on device", "Disk quota exceeded", "File too large"))


def disk_full_message(location: str) -> str:
    return (f"no space left on the disk that holds {location} (or a file-size limit was reached): "
            "nothing of this run was stored; free some space and run it again")


def first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def check_file(path: Path) -> None:
    """Refuse, in one line, a file that cannot be a DuckDB store (before DuckDB opens it: it
    would try to load an extension for a SQLite file)."""
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not an afterclick store; give a file name to --store")
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except PermissionError:
        raise StoreError(f"cannot read {path}: permission denied") from None
    if head[8:12] == _DUCKDB_MAGIC:
        return
    what = ("an empty file" if not head else "a SQLite database" if head.startswith(b"SQLite format 3")
            else "not a DuckDB file")
    raise StoreError(f"{path} is not an afterclick store ({what}); give the file that "
                     "`afterclick ingest` made, or a new file name to create one")
