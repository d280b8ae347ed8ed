"""Typed results: what a KPI (or later a model or test) hands to the report, CLI and exports.

Rendering takes these, never raw tables. A result always carries its status: computed, or
skipped / failed with a reason a person can act on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd


class Status(StrEnum):
    COMPUTED = "computed"
    SKIPPED = "skipped"
    FAILED = "failed"


class Family(StrEnum):
    """KPI families of DESIGN.md, in the order the report and the scorecard show them."""

    CAMPAIGNS = "campaigns"  # clicks vs commitment: the headline
    LADDER = "ladder"
    REACH = "reach"
    RETENTION = "retention"
    TRUST = "trust"
    JOURNEY = "journey"
    RESONANCE = "resonance"
    COGNITIVE = "cognitive"
    COMMUNITY = "community"
    CONTENT = "content"
    ADVOCACY = "advocacy"
    VALUE = "value"
    ATTRIBUTION = "attribution"
    SIGNALS = "signals"  # early signals of a budding relationship
    B2B = "b2b"  # leads, the sales hand-off, pipeline, accounts and recurring revenue

    @property
    def title(self) -> str:
        return _FAMILY_TITLES[self]


_FAMILY_TITLES = {
    Family.CAMPAIGNS: "Clicks vs commitment",
    Family.LADDER: "Commitment ladder",
    Family.REACH: "Reach (vanity metrics, in context)",
    Family.RETENTION: "Retention",
    Family.TRUST: "Trust",
    Family.JOURNEY: "After the click",
    Family.RESONANCE: "Emotional resonance",
    Family.COGNITIVE: "Cognitive engagement",
    Family.COMMUNITY: "Community",
    Family.CONTENT: "Content value",
    Family.ADVOCACY: "Advocacy and satisfaction",
    Family.VALUE: "Customer value",
    Family.ATTRIBUTION: "Attribution",
    Family.SIGNALS: "Early signals of a relationship",
    Family.B2B: "B2B: leads, pipeline and accounts",
}


class Unit(StrEnum):
    FRACTION = "fraction"  # 0..1, shown as a percentage
    COUNT = "count"
    RATIO = "ratio"
    SECONDS = "seconds"
    DAYS = "days"
    CURRENCY = "currency"
    SCORE = "score"
    #: A difference between two fractions, in percentage points (0.228 → "+22.8 pts").
    POINTS = "points"


class MeasureKind(StrEnum):
    """How a KPI's headline is made from per-unit values (its sufficient statistics, as gbstats
    keeps them): what the engine needs to compute the KPI for any grouping of the units."""

    COUNT = "count"  # Σx over the units: a census, so no interval
    PROPORTION = "proportion"  # Σx / n with x 0 or 1 per unit: Wilson interval
    MEAN = "mean"  # Σx / n: t interval from n, Σx, Σx²
    RATIO = "ratio"  # Σnum / Σden: delta-method interval from the sums, squares and cross product


class Role(StrEnum):
    """What a column of a KPI's rows holds (see ``RowsSchema``)."""

    PERIOD = "period"  # the start of the week or month the row covers (UTC)
    DIMENSION = "dimension"  # what the rows are broken down by (channel, campaign, segment, cohort index)
    LABEL = "label"  # words that describe a row's dimension (a title, a name, example quotes)
    COUNT = "count"  # how many (people, events, orders): a whole number
    MEASURE = "measure"  # a number in the column's unit (a rate, an amount, a score)
    BOUND = "bound"  # a bound of a measure's interval
    FLAG = "flag"  # true or false (too few answers to read, signals disagree)


@dataclass(frozen=True)
class Column:
    name: str
    role: Role
    unit: Unit | None = None
    #: Present only when a table the KPI may use is held (a content item's title).
    optional: bool = False


@dataclass(frozen=True)
class RowsSchema:
    """The columns of a KPI's rows, in order, and the grain of its period column.

    ``grain`` is "week" or "month", "grain" when the rows follow the ``grain`` parameter, None
    without a period column. A column name may read a parameter ("retention_{retention_days}d").
    """

    columns: tuple[Column, ...]
    grain: str | None = None

    def names(self, params: Any = None) -> list[str]:
        """The column names, with the parameters' values (``Params``) put in."""
        values = {} if params is None else {k: getattr(params, k) for k in _param_names(self)}
        return [c.name.format(**values) for c in self.columns]

    def period_grain(self, params: Any = None) -> str | None:
        """The rows' period grain for ``params`` (the ``grain`` parameter's when it follows it)."""
        return getattr(params, "grain", None) if self.grain == "grain" else self.grain


def _param_names(schema: RowsSchema) -> set[str]:
    import string

    return {f for c in schema.columns for _, f, _, _ in string.Formatter().parse(c.name) if f}


class SpanKind(StrEnum):
    """Which stretch of the data a headline number covers."""

    WHOLE = "whole_period"  # every record of the review period
    LAST_COMPLETE = "last_complete"  # the last week or month that ends by the data's last day


@dataclass(frozen=True)
class Period:
    """The stretch of time a KPI's headline number covers, as a person reads it.

    ``start`` is inclusive and ``end`` exclusive (UTC), as in ``Params``; ``grain`` is the
    week or month of a ``last_complete`` period; ``label`` says it in words ("October 2026",
    "week of 19 Oct 2026", "whole period, 1 May 2025 to 31 Oct 2026").
    """

    kind: SpanKind
    start: datetime | None
    end: datetime | None
    label: str
    grain: str | None = None
    #: Stray rows the default review period leaves out, in words ("1 message dated 4 Mar 2011
    #: left out of the period …; give --start 2011-03-04 to include it").
    left_out: tuple[str, ...] = ()

    def to_record(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "grain": self.grain, "start": _jsonable(self.start),
                "end": _jsonable(self.end), "label": self.label, "left_out": list(self.left_out)}


class Direction(StrEnum):
    HIGHER = "higher"  # higher is better
    LOWER = "lower"
    NEUTRAL = "neutral"  # context, not a goal (e.g. impressions)


@dataclass(frozen=True)
class KPIResult:
    """The outcome of one KPI over one period.

    ``value`` is the headline number (a fraction for rates, never a percentage) or ``None``;
    ``rows`` is its breakdown (cohorts, campaigns, periods…) or ``None``; ``ci`` an optional
    (low, high) interval of ``value``.
    """

    id: str
    name: str
    family: Family
    unit: Unit
    direction: Direction
    definition: str
    status: Status
    reason: str | None = None
    value: float | None = None
    ci: tuple[float, float] | None = None
    rows: pd.DataFrame | None = None
    params: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    #: Caveats a reader must see beside the number, in plain words ("only 12 answers in
    #: March: too few to read", "association, not cause", "CSAT rose while NPS fell").
    notes: tuple[str, ...] = ()
    #: What the headline number is, when the KPI's name says what its breakdown shows instead
    #: (e.g. "AUC on later cohorts" for a ranking of leading indicators).
    value_label: str | None = None
    #: The period the headline number covers (filled by the workspace from the data).
    period: Period | None = None

    @property
    def ok(self) -> bool:
        return self.status is Status.COMPUTED

    def to_record(self, with_rows: bool = True) -> dict[str, Any]:
        """A JSON-ready dict (rates stay fractions, timestamps become ISO strings)."""
        rec: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "family": self.family.value,
            "unit": self.unit.value,
            "direction": self.direction.value,
            "status": self.status.value,
            "reason": self.reason,
            "value": _jsonable(self.value),
            "ci": None if self.ci is None else [_jsonable(v) for v in self.ci],
            "definition": self.definition,
            "params": {k: _jsonable(v) for k, v in self.params.items()},
            "notes": list(self.notes),
            "value_label": self.value_label,
            "period": None if self.period is None else self.period.to_record(),
        }
        if with_rows:
            rec["rows"] = records(self.rows)
        return rec


def records(df: pd.DataFrame | None) -> list[dict[str, Any]]:
    """DataFrame → list of JSON-safe dicts (NaN → None, timestamps → ISO 8601)."""
    if df is None:
        return []
    return [{k: _jsonable(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, (pd.Timestamp, datetime, date)):
        return None if pd.isna(v) else v.isoformat()
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float):
        return None if math.isnan(v) or math.isinf(v) else v
    if v is pd.NA or v is pd.NaT:
        return None
    return v
