"""Explain a flag on the store: which segment, channel or campaign moved a rate KPI, split into
mix (who came) and rate (how they behaved) by :func:`afterclick.monitor.explain.explain_move`.

:data:`BREAKDOWNS` (from the data file ``catalogue.toml``) names, per KPI, the KPI whose rows break
it down within one period (the KPI itself when its rows are per campaign or channel) and the
columns whose sums make the rate: value = Σ numerator / Σ denominator. The two periods compared: a point flag's period against
the one before; a level shift's first periods at the new level against the last ones at the old.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from afterclick.monitor.explain import MoveExplanation, explain_move
from afterclick.monitor.flags import Flag, FlagKind, Judgement
from afterclick.monitor.series import period_label, period_start
from afterclick.monitor.sources import catalogue


@dataclass(frozen=True)
class Breakdown:
    kpi: str  # the KPI whose rows hold one row per segment of one period
    segment: str
    numerator: str
    denominator: str
    dimension: str  # the word for a segment: campaign, channel, segment


#: The rate KPIs a move of which can be explained, and how (the [breakdowns] of ``catalogue.toml``).
BREAKDOWNS: dict[str, Breakdown] = {k: Breakdown(**v) for k, v in catalogue()["breakdowns"].items()}

#: Periods on each side of a level shift that are compared.
SHIFT_WINDOW = 4


def _rows(ws, b: Breakdown, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame | None:
    r = ws.kpi(b.kpi, start=start.tz_localize("UTC").to_pydatetime(), end=end.tz_localize("UTC").to_pydatetime())
    if not r.ok or r.rows is None or r.rows.empty:
        return None
    rows = r.rows
    if any(c not in rows.columns for c in (b.segment, b.numerator, b.denominator)):
        return None
    return rows.assign(**{b.segment: rows[b.segment].fillna("(none)")})


def _windows(j: Judgement, f: Flag):
    """(before start, before end, after start, after end, labels) of the periods compared."""
    g = j.grain
    first = f.first_period or f.period
    if f.kind is FlagKind.LEVEL_SHIFT:
        periods = list(j.frame["period"])
        k = periods.index(first)
        n_before = min(SHIFT_WINDOW, k)
        n_after = min(SHIFT_WINDOW, len(periods) - k)
        b0, a1 = period_start(first, g, -n_before), period_start(first, g, n_after)
        labels = (f"the {g.plural(n_before)} before", f"the first {g.plural(n_after)} at the new level")
        return b0, first, first, a1, labels
    if f.kind is FlagKind.RUN:
        before = period_start(first, g, -1)
        return before, first, first, period_start(f.period, g, 1), (
            period_label(before, g), f"{period_label(first, g)} to {period_label(f.period, g)}")
    before = period_start(f.period, g, -1)
    return before, f.period, f.period, period_start(f.period, g, 1), (period_label(before, g),
                                                                      period_label(f.period, g))


def explain_flag(ws, j: Judgement, f: Flag) -> MoveExplanation | None:
    """The mix/rate explanation of flag ``f`` of judgement ``j``; None when the KPI has no
    breakdown or a period has no rows."""
    b = BREAKDOWNS.get(j.kpi)
    if b is None:
        return None
    b0, b1, a0, a1, labels = _windows(j, f)
    before, after = _rows(ws, b, b0, b1), _rows(ws, b, a0, a1)
    if before is None or after is None:
        return None
    try:
        return explain_move(before, after, segment=b.segment, numerator=b.numerator, denominator=b.denominator,
                            name=j.name, unit=j.unit, labels=labels, dimension=b.dimension)
    except ValueError:  # a period with no denominator at all
        return None
