"""What every ingest step shares: the error type, a task (the file or files of one table) and SQL quoting."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from afterclick.ingest.mapping import TableMapping
from afterclick.schemas import TableSpec

#: File name endings and the format they mean (``.gz`` may follow the text formats).
FORMATS = {
    ".csv": "csv", ".tsv": "tsv", ".parquet": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
}
_TEXT_FORMATS = ("csv", "tsv", "jsonl")


class IngestError(RuntimeError):
    """Input that cannot be loaded at all; the message is one line saying what and where."""


@dataclass(frozen=True)
class _Task:
    spec: TableSpec
    path: Path
    fmt: str  # csv, tsv, parquet, jsonl
    mapping: TableMapping
    folder: Path | None = None  # the SOURCE folder: a mapping's other files (lookups) are named from it
    #: The files read for the table, in order (one for a single file; a pattern's or folder's
    #: matches). ``path`` is what people are shown: the file, the pattern or the folder.
    files: tuple[Path, ...] = ()

    @property
    def paths(self) -> tuple[Path, ...]:
        return self.files or (self.path,)


Progress = Callable[[str, int, int], None]  # (message, step, total)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
