"""Reading the goals and benchmark files: TOML, with every problem listed at once and its line.

``tomllib`` gives values but no line numbers, so :class:`Lines` finds them in the text: the line of
each ``[[goal]]`` (or ``[[benchmark]]``) header and, inside that block, of each ``key =``. Validators
collect :class:`Issue` objects and raise one :class:`FileProblems` with all of them, as dbt's
validation rules return a list of issues instead of stopping at the first.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One problem in a file: where (line, and which entry) and what to do about it."""

    source: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        at = f"{self.source}:{self.line}" if self.line else self.source
        return f"{at}: {self.where}: {self.message}" if self.where else f"{at}: {self.message}"


class FileProblems(ValueError):
    """A goals or benchmark file with problems; ``issues`` lists every one."""

    def __init__(self, issues: list[Issue]):
        self.issues = list(issues)
        n = len(self.issues)
        head = f"{n} problem{'s' if n != 1 else ''} in {self.issues[0].source}" if n else "no problems"
        super().__init__("\n".join([head, *(f"  {i}" for i in self.issues)]))


_HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z_][\w.-]*)\s*\]\]")
_KEY = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*=")
_TABLE = re.compile(r"^\s*\[\s*([A-Za-z_][\w.-]*)\s*\]")
_AT_LINE = re.compile(r"at line (\d+)")


class Lines:
    """Line numbers of the entries of an array of tables (``[[name]]``) and of their keys."""

    def __init__(self, text: str, name: str):
        self.starts: list[int] = []
        self.keys: list[dict[str, int]] = []
        current: dict[str, int] | None = None
        for no, raw in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(raw)
            if header:
                if header.group(1) == name:
                    self.starts.append(no)
                    current = {}
                    self.keys.append(current)
                else:
                    current = None
                continue
            table = _TABLE.match(raw)
            if table:
                sub = table.group(1)
                if current is not None and sub.startswith(name + "."):
                    current.setdefault(sub[len(name) + 1:].split(".")[0], no)
                else:
                    current = None
                continue
            key = _KEY.match(raw)
            if key and current is not None:
                current.setdefault(key.group(1), no)

    def of(self, index: int, key: str | None = None) -> int | None:
        """The line of entry ``index`` (0-based), or of its ``key`` where the file has it."""
        if index >= len(self.starts):
            return None
        if key is not None and key in self.keys[index]:
            return self.keys[index][key]
        return self.starts[index]


def read_toml(path: str | Path, source: str | None = None) -> tuple[dict[str, Any], str]:
    """The parsed file and its text; a syntax error is raised as :class:`FileProblems` with its line."""
    path = Path(path)
    label = source or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileProblems([Issue(label, None, "", "no such file")]) from None
    except UnicodeDecodeError:
        raise FileProblems([Issue(label, None, "", "not UTF-8 text; save the file as UTF-8")]) from None
    return parse_toml(text, label), text


def parse_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _AT_LINE.search(str(exc))
        raise FileProblems([Issue(source, int(m.group(1)) if m else None, "",
                                  f"not valid TOML: {exc}")]) from None


def as_date(value: Any) -> date | None:
    """A TOML date (2027-03-31) or an ISO string of one; None when it is neither."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
