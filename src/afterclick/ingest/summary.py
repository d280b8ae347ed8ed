"""What an ingest did, file by file: rows read, loaded, already stored, left out, quarantined.

Every row read is counted in exactly one of those, so a summary adds up (``adds_up``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FileSummary:
    table: str
    path: str
    rows_read: int = 0
    loaded: int = 0
    already_stored: int = 0
    quarantined: int = 0
    #: Rows the mapping's ``where`` filter left out (counted, not loaded, not quarantined).
    filtered: int = 0
    #: With ``group_by``: the rows loaded, one per group of lines (``loaded`` counts the lines).
    groups: int | None = None
    #: Why rows were quarantined: reason -> rows (each quarantined row counted once).
    reasons: dict[str, int] = field(default_factory=dict)
    #: Loaded events whose name is outside the canonical vocabulary: name -> rows.
    unknown_events: dict[str, int] = field(default_factory=dict)
    #: Loaded content items whose ``goal`` is not a canonical event name: goal -> rows.
    unknown_goals: dict[str, int] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    note: str | None = None  # e.g. "empty file", "identical to a file ingested before"

    @property
    def adds_up(self) -> bool:
        return self.rows_read == self.loaded + self.already_stored + self.filtered + self.quarantined


@dataclass
class IngestSummary:
    ingest_id: str
    source: str
    files: list[FileSummary] = field(default_factory=list)
    ignored_files: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def loaded(self) -> int:
        return sum(f.loaded for f in self.files)

    @property
    def already_stored(self) -> int:
        return sum(f.already_stored for f in self.files)

    @property
    def quarantined(self) -> int:
        return sum(f.quarantined for f in self.files)

    @property
    def filtered(self) -> int:
        return sum(f.filtered for f in self.files)

    @property
    def unknown_events(self) -> dict[str, int]:
        return _added(f.unknown_events for f in self.files)

    @property
    def unknown_goals(self) -> dict[str, int]:
        return _added(f.unknown_goals for f in self.files)

    @property
    def adds_up(self) -> bool:
        return all(f.adds_up for f in self.files) and (
            self.rows_read == self.loaded + self.already_stored + self.filtered + self.quarantined
        )


def _added(counts) -> dict[str, int]:
    """name -> rows, summed over the files."""
    out: dict[str, int] = {}
    for one in counts:
        for name, n in one.items():
            out[name] = out.get(name, 0) + n
    return out
