"""Review periods in the words teams use: a quarter ``2026-Q3``, a half ``2026-H1``, a month
``2026-09`` or a year ``2026``. Each is a UTC stretch [start, end) and knows the one before it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

_FORMS = (
    (re.compile(r"^(\d{4})-?[Qq]([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-?[Hh]([12])$"), "half"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
)
_MONTHS = {"quarter": 3, "half": 6, "month": 1, "year": 12}


class PeriodKind(StrEnum):
    QUARTER = "quarter"
    HALF = "half"
    MONTH = "month"
    YEAR = "year"


class PeriodError(ValueError):
    """A period that cannot be read, said in one line."""


@dataclass(frozen=True)
class ReviewPeriod:
    """A calendar stretch: ``start`` inclusive, ``end`` exclusive, both UTC midnight."""

    kind: PeriodKind
    year: int
    index: int  # the quarter, half or month number (1 for a year)

    @property
    def months(self) -> int:
        return _MONTHS[self.kind.value]

    @property
    def start(self) -> datetime:
        return _month_start(self.year, (self.index - 1) * self.months + 1)

    @property
    def end(self) -> datetime:
        return _month_start(self.year, (self.index - 1) * self.months + 1 + self.months)

    @property
    def label(self) -> str:
        if self.kind is PeriodKind.YEAR:
            return f"{self.year}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.year}-{self.index:02d}"
        return f"{self.year}-{'Q' if self.kind is PeriodKind.QUARTER else 'H'}{self.index}"

    @property
    def words(self) -> str:
        """The period as a reader says it: "Q3 2026", "H1 2026", "September 2026", "2026"."""
        if self.kind is PeriodKind.MONTH:
            return self.start.strftime("%B %Y")
        if self.kind is PeriodKind.YEAR:
            return str(self.year)
        return f"{self.label[5:]} {self.year}"

    def previous(self) -> ReviewPeriod:
        """The period of the same kind just before this one (Q1 → Q4 of the year before)."""
        per_year = 12 // self.months
        if self.index > 1:
            return ReviewPeriod(self.kind, self.year, self.index - 1)
        return ReviewPeriod(self.kind, self.year - 1, per_year)

    def __str__(self) -> str:
        return self.label


def _month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def parse_period(text: str) -> ReviewPeriod:
    """``2026-Q3``, ``2026-H1``, ``2026-09`` or ``2026`` as a :class:`ReviewPeriod`."""
    raw = str(text).strip()
    for pattern, kind in _FORMS:
        m = pattern.match(raw)
        if m is None:
            continue
        year = int(m.group(1))
        index = int(m.group(2)) if m.lastindex and m.lastindex > 1 else 1
        if kind == "month" and not 1 <= index <= 12:
            raise PeriodError(f"period {raw!r}: month {index} does not exist; write e.g. 2026-09")
        if not 1900 <= year <= 2200:
            raise PeriodError(f"period {raw!r}: year {year} is out of range")
        return ReviewPeriod(PeriodKind(kind), year, index)
    raise PeriodError(f"period {raw!r} is not a period afterclick reads; write a quarter (2026-Q3), "
                      "a half (2026-H1), a month (2026-09) or a year (2026)")
