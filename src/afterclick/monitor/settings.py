"""Per-KPI judging settings from the rules file: ``[[series]]`` tables beside the ``[[rule]]`` ones.

::

    [[series]]
    kpi = "advocacy.csat"        # the KPI id (required)
    min_magnitude = 0.03         # the smallest move worth a flag (fractions in points: 0.03 = 3 pts;
    relative = false             #   relative = true: a share of the expected value, 0.2 = 20 %)
    min_n = 30                   # periods with fewer answers, people or events behind them are
                                 #   shown but never flagged
    grain = "day"                # day, week or month: recomputed series only (see sources.py)
    penalty_factor = 3.0         # change points: the penalty as a multiple of σ²·ln(T) (BIC-like)

A KPI without a ``[[series]]`` table is judged with the defaults of :class:`JudgeSettings` and the
minimum magnitude of its unit (:data:`DEFAULT_MIN_MAGNITUDE`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from afterclick.engine.specs import spec
from afterclick.kpis.advocacy import csat
from afterclick.monitor.flags import JudgeSettings, MinMagnitude

_FIELDS = {"kpi", "min_magnitude", "relative", "min_n", "grain", "penalty_factor"}
GRAINS = ("day", "week", "month")


@dataclass(frozen=True)
class SeriesSettings:
    """How one KPI's series is built and judged (None: the default)."""

    kpi: str
    min_magnitude: MinMagnitude | None = None
    min_n: float | None = None
    grain: str | None = None
    penalty_factor: float | None = None

    def judge_settings(self, base: JudgeSettings | None = None) -> JudgeSettings:
        base = base or JudgeSettings()
        changes: dict[str, Any] = {}
        if self.min_magnitude is not None:
            changes["min_magnitude"] = self.min_magnitude
        if self.min_n is not None:
            changes["min_n"] = self.min_n
        if self.penalty_factor is not None:
            changes["penalty_factor"] = self.penalty_factor
        return replace(base, **changes)


def _positive(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> float | None:
    v = raw.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
        problems.append(f"{where}: {key} must be a number ≥ 0, not {v!r}")
        return None
    return float(v)


def flag(raw: Mapping[str, Any], key: str, where: str, problems: list[str]) -> bool:
    """A true/false field (false when absent or wrong, the wrong one said)."""
    v = raw.get(key, False)
    if not isinstance(v, bool):
        problems.append(f"{where}: {key} must be true or false, not {v!r}")
        return False
    return v


def table_head(raw: Any, kind: str, i: int, fields: set[str], example: str,
               problems: list[str]) -> tuple[str, str | None] | None:
    """Check the part every table of the rules file shares: a table, its ``kpi``, no unknown field.
    Returns (where, kpi or None) for the messages, or None when ``raw`` is no table."""
    where = f"{kind} {i}"
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: not a table of kpi, {'checks' if kind == 'rule' else 'min_magnitude'}, …")
        return None
    kpi = raw.get("kpi")
    ok = isinstance(kpi, str) and bool(kpi.strip())
    if ok:
        where = f"{kind} {i} ({kpi})"
    else:
        problems.append(f"{where}: kpi is missing (a KPI id such as {example})")
    unknown = sorted(set(map(str, raw)) - fields)
    if unknown:
        problems.append(f"{where}: unknown field(s) {', '.join(unknown)} (fields: {', '.join(sorted(fields))})")
    return where, (kpi.strip() if ok else None)


def _one(raw: Any, i: int, problems: list[str]) -> SeriesSettings | None:
    head = table_head(raw, "series", i, _FIELDS, spec(csat).id, problems)
    if head is None:
        return None
    where, kpi = head
    amount = _positive(raw, "min_magnitude", where, problems)
    relative = flag(raw, "relative", where, problems)
    min_n = _positive(raw, "min_n", where, problems)
    factor = _positive(raw, "penalty_factor", where, problems)
    if factor == 0:
        problems.append(f"{where}: penalty_factor must be > 0")
        factor = None
    grain = raw.get("grain")
    if grain is not None and grain not in GRAINS:
        problems.append(f"{where}: grain {grain!r} is not one of {', '.join(GRAINS)}")
        grain = None
    if kpi is None:
        return None
    return SeriesSettings(kpi, None if amount is None else MinMagnitude(amount, relative),
                          min_n, grain, factor)


def read_series_settings(rows: Any, problems: list[str]) -> dict[str, SeriesSettings]:
    """The ``[[series]]`` tables by KPI id; problems are appended (a KPI named twice is one)."""
    if rows is None:
        return {}
    if not isinstance(rows, list):
        problems.append("series must be [[series]] tables")
        return {}
    out: dict[str, SeriesSettings] = {}
    for i, raw in enumerate(rows, start=1):
        s = _one(raw, i, problems)
        if s is None:
            continue
        if s.kpi in out:
            problems.append(f"series {i} ({s.kpi}): this KPI already has a [[series]] table")
        out[s.kpi] = s
    return out
