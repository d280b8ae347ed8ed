"""Dated notes (campaign launches, outages, price changes, market events) that explain flags.

A note has a date, a text and optionally the KPI it concerns (empty: every KPI). They come from a
TOML file (``[[note]]`` tables with ``date``, ``text``, ``kpi``), a CSV file with the columns
``date,text[,kpi]``, a DataFrame with those columns, or a list of dicts. Every problem is listed at
once. A flag is named after the latest note that falls in its period or at most ``window`` periods
before it ("after: price change on 1 Sep 2026").
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from afterclick.monitor.series import Grain, period_start

_KEYS = {"date", "text", "kpi"}


class AnnotationError(ValueError):
    """Every problem of an annotations table, one per line."""

    def __init__(self, problems: list[str], source: str = "annotations"):
        self.problems = tuple(problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True)
class Annotation:
    date: date
    text: str
    kpi: str | None = None

    def label(self) -> str:
        return f"{self.text} on {self.date.day} {self.date.strftime('%b %Y')}"

    def to_dict(self) -> dict[str, Any]:
        return {"date": self.date.isoformat(), "text": self.text, "kpi": self.kpi}


def _as_date(value: Any) -> date | None:
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


def _rows(source: Any) -> tuple[list[Mapping[str, Any]], str]:
    if isinstance(source, pd.DataFrame):
        return source.to_dict("records"), "annotations table"
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise AnnotationError([f"no file {path.name}: give a .toml or .csv file of dated notes"], str(path.name))
        if path.suffix.lower() == ".toml":
            with path.open("rb") as fh:
                data = tomllib.load(fh)
            unknown = sorted(set(data) - {"note"})
            rows = list(data.get("note", []))
            if unknown:
                raise AnnotationError([f"unknown table(s) {', '.join(unknown)}: notes are [[note]] tables"], path.name)
            return rows, path.name
        if path.suffix.lower() == ".csv":
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            return frame.to_dict("records"), path.name
        raise AnnotationError([f"{path.name} is neither .toml nor .csv"], path.name)
    return list(source), "annotations"


def load_annotations(source: Any) -> tuple[Annotation, ...]:
    """Read and check dated notes; raises :class:`AnnotationError` listing every problem."""
    rows, name = _rows(source)
    notes, problems = [], []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            problems.append(f"note {i}: not a table of date/text/kpi")
            continue
        unknown = sorted(set(map(str, row)) - _KEYS)
        if unknown:
            problems.append(f"note {i}: unknown field(s) {', '.join(unknown)} (fields: date, text, kpi)")
        when = _as_date(row.get("date"))
        text = row.get("text")
        kpi = row.get("kpi") or None
        if when is None:
            problems.append(f"note {i}: date {row.get('date')!r} is not a date like 2026-09-01")
        if not isinstance(text, str) or not text.strip():
            problems.append(f"note {i}: text is missing")
        if kpi is not None and not isinstance(kpi, str):
            problems.append(f"note {i}: kpi must be a KPI id such as retention.returning_share")
        if when is not None and isinstance(text, str) and text.strip():
            notes.append(Annotation(when, text.strip(), kpi.strip() if isinstance(kpi, str) else None))
    if problems:
        raise AnnotationError(problems, name)
    return tuple(sorted(notes, key=lambda a: a.date))


def note_for(
    kpi: str, start: pd.Timestamp, grain: Grain, notes: Iterable[Annotation], window: int = 1
) -> Annotation | None:
    """The latest note for ``kpi`` (or for every KPI) dated in the period starting ``start`` or
    up to ``window`` periods before it."""
    end = period_start(start, grain, 1).date()
    earliest = period_start(start, grain, -window).date()
    best = None
    for note in notes:
        if note.kpi not in (None, kpi):
            continue
        if earliest <= note.date < end and (best is None or note.date >= best.date):
            best = note
    return best
