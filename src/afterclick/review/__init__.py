"""The review cycle: a period's KPIs against the last review, the goals and the benchmarks,
stored immutably so the next review shows what was reported and decided.

* :func:`parse_period` reads ``2026-Q3``, ``2026-H1``, ``2026-09`` or ``2026``;
* :func:`build_review` computes a review on a store; :func:`keep` stores it (a new version each
  time); :class:`ReviewLog` reads the stored reviews, checking that none was changed;
* :func:`parse_notes` reads the team's notes (one per paragraph; ``kpi.id: text`` ties one to a KPI).
"""

from afterclick.review.build import KpiReview, Review, build_review, definition_hash, keep, review_kpis
from afterclick.review.notes import NotesError, parse_notes
from afterclick.review.periods import PeriodError, PeriodKind, ReviewPeriod, parse_period
from afterclick.review.store import (
    KpiLine,
    NoteLine,
    ReviewChanged,
    ReviewExists,
    ReviewLog,
    StoredReview,
)

__all__ = [
    "KpiLine", "KpiReview", "NoteLine", "NotesError", "PeriodError", "PeriodKind", "Review", "ReviewChanged",
    "ReviewExists", "ReviewLog", "ReviewPeriod", "StoredReview", "build_review", "definition_hash", "keep",
    "parse_notes", "parse_period", "review_kpis",
]
