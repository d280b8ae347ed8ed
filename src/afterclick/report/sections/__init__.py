"""Report sections beyond the KPI charts: what changed, experiments, goals, B2B.

A section is data, not HTML: cards of plain sentences, an optional Plotly figure, an optional
table and notes. ``report/html.py`` renders every section through the same escaped template as
the KPI cards, so a section's author never writes markup and customer text stays escaped and
masked.

Each module named in ``SECTIONS`` has a function ``build(ctx: SectionContext) -> Section | None``
(``None``: nothing to say for this store, e.g. no experiments). ``build_sections`` calls them in
order; a builder that raises becomes a one-card section saying it could not be built (or raises,
in strict mode), so one broken section never costs the reader the whole report.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from afterclick.results import KPIResult

#: The section builders, in report order. ``first`` sections go right after the headline chart,
#: the others after the KPI charts and before the scorecard.
SECTIONS: tuple[str, ...] = (
    "afterclick.report.sections.changes",
    "afterclick.report.sections.goals",
    "afterclick.report.sections.experiments",
    "afterclick.report.sections.b2b",
)


@dataclass(frozen=True)
class Card:
    """One card of a section: a title, sentences a marketer reads, then a chart, a table, notes.

    ``figure`` is a ``plotly.graph_objects.Figure``; ``table`` a DataFrame (formatted like the KPI
    tables: shares as percents when the column says so, counts with separators).
    """

    title: str
    sentences: tuple[str, ...] = ()
    figure: Any = None
    table: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()
    eyebrow: str | None = None


@dataclass(frozen=True)
class Section:
    """A titled group of cards. ``key`` names its anchor (``section-<key>``)."""

    key: str
    title: str
    cards: tuple[Card, ...]
    lede: str | None = None
    first: bool = False


@dataclass(frozen=True)
class SectionContext:
    """What a builder may read: the open workspace (store and review params), the KPI results
    by id, the industry template the report follows (None: the default order), and whether to
    raise instead of degrading (tests)."""

    ws: Any
    results: Mapping[str, KPIResult]
    template: str | None = None
    strict: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)


def build_sections(ctx: SectionContext, modules: tuple[str, ...] = SECTIONS) -> list[Section]:
    """Every section that has something to say, in ``modules`` order."""
    out: list[Section] = []
    for name in modules:
        try:
            section = importlib.import_module(name).build(ctx)
        except Exception as exc:
            if ctx.strict:
                raise
            title = name.rsplit(".", 1)[-1].replace("_", " ").capitalize()
            warnings.warn(f"report section {title} failed: {exc}", stacklevel=2)
            section = Section(key=name.rsplit(".", 1)[-1], title=title, cards=(
                Card(title="This section could not be built",
                     sentences=(f"{type(exc).__name__}: {exc}".splitlines()[0],)),))
        if section is not None:
            out.append(section)
    return out


__all__ = ["SECTIONS", "Card", "Section", "SectionContext", "build_sections"]
