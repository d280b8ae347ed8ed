"""The parameters of a review, and the span a KPI's headline reads: frozen and hashable, so a
building block's cache key is made from the values it reads (``afterclick.engine.tables``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any, Literal

from afterclick.results import SpanKind

Grain = Literal["week", "month"]


@dataclass(frozen=True)
class Params:
    """Knobs shared by the KPIs; every default is what the report uses.

    ``start``/``end`` bound the review period (UTC, end exclusive); ``None`` means all data.
    """

    grain: Grain = "week"
    start: datetime | None = None
    end: datetime | None = None
    session_gap_minutes: int = 30
    retention_days: int = 90
    nowhere_minutes: int = 30
    churn_days: int = 90
    max_periods: int = 12

    def __post_init__(self) -> None:
        if self.grain not in ("week", "month"):
            raise ValueError(f"grain must be 'week' or 'month', not {self.grain!r}")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError(f"the review period is empty: start {self.start:%Y-%m-%d %H:%M} is not before "
                             f"end {self.end:%Y-%m-%d %H:%M} (end is exclusive)")

    def with_(self, **changes: Any) -> Params:
        return replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Span:
    """Which period a KPI's headline number reads: the whole review period, or the last complete
    week or month (the last that ends by the data's last day, see ``_common.review_end``).
    ``grain`` None means the ``grain`` parameter's periods; the workspace turns a span into dates
    from the data."""

    kind: SpanKind = SpanKind.WHOLE
    grain: Grain | None = None


WHOLE_PERIOD = Span()
#: The spans a KPI declares by name: ``@kpi(..., span="last_complete_month")``.
SPANS: dict[str, Span] = {
    "whole_period": WHOLE_PERIOD,
    "last_complete": Span(SpanKind.LAST_COMPLETE),  # the ``grain`` parameter's period
    "last_complete_month": Span(SpanKind.LAST_COMPLETE, "month"),
}
