"""How numbers read in the report, the scorecard, the narrative, the CLI and the goals (below every
layer that shows a number, so the goals and the views share one set of rules)."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd

from afterclick.core.periods import SECONDS_PER_DAY
from afterclick.results import Direction, Unit

MISSING = "—"

DIRECTION_HINTS = {
    Direction.HIGHER: "↑ higher is better",
    Direction.LOWER: "↓ lower is better",
    Direction.NEUTRAL: "context, not a goal",
}

#: Row columns shown as percentages (their values are fractions by the KPI contracts).
_FRACTION_COLUMN = re.compile(r"(^|_)(share|rate|ctr|retention|fraction|percent_of)(_|$)")


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v


def format_percent(value: Any, decimals: int = 1) -> str:
    v = _number(value)
    return MISSING if v is None else f"{v * 100:.{decimals}f}%"


def format_duration(seconds: Any) -> str:
    """``200`` → ``3m 20s``; ``45`` → ``45s``; ``3900`` → ``1h 5m``; ``93600`` → ``1d 2h``."""
    v = _number(seconds)
    if v is None:
        return MISSING
    sign, v = ("-" if v < 0 else ""), abs(v)
    if v < 10 and not float(v).is_integer():
        return f"{sign}{v:.1f}s"
    total = int(round(v))
    d, rem = divmod(total, SECONDS_PER_DAY)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    if d:
        return f"{sign}{d}d {h}h" if h else f"{sign}{d}d"
    if h:
        return f"{sign}{h}h {m}m" if m else f"{sign}{h}h"
    if m:
        return f"{sign}{m}m {s}s" if s else f"{sign}{m}m"
    return f"{sign}{s}s"


def format_currency(value: Any, currency: str | None = None) -> str:
    v = _number(value)
    if v is None:
        return MISSING
    sign, amount = ("-" if v < 0 else ""), f"{abs(v):,.2f}"
    if not currency:
        return f"{sign}{amount}"
    if len(currency) == 3 and currency.isalpha():  # an ISO code: "EUR 1,234.00"
        return f"{sign}{currency.upper()} {amount}"
    return f"{sign}{currency}{amount}"


def format_count(value: Any) -> str:
    v = _number(value)
    if v is None:
        return MISSING
    return f"{int(round(v)):,}" if float(v).is_integer() or abs(v) >= 100 else f"{v:,.1f}"


def format_value(value: Any, unit: Unit | str, *, currency: str | None = None) -> str:
    """A KPI's headline value as a person reads it.

    FRACTION → ``8.1%``; SECONDS → ``3m 20s``; CURRENCY → ``1,234.50``; COUNT → ``12,345``;
    RATIO → ``1.25``; DAYS → ``12.5 days``; SCORE → ``42.0`` (``0.25`` within ±1, e.g. a
    sentiment); POINTS → ``+22.8 pts``; missing → ``—``.
    """
    unit = Unit(unit)
    v = _number(value)
    if v is None:
        return MISSING
    if unit is Unit.FRACTION:
        return format_percent(v, 1)
    if unit is Unit.SECONDS:
        return format_duration(v)
    if unit is Unit.CURRENCY:
        return format_currency(v, currency)
    if unit is Unit.COUNT:
        return format_count(v)
    if unit is Unit.RATIO:
        return f"{v:,.2f}"
    if unit is Unit.DAYS:
        n = f"{int(v):,}" if float(v).is_integer() else f"{v:,.1f}"
        return f"{n} day" if v == 1 else f"{n} days"
    if unit is Unit.POINTS:
        return f"{v * 100:+.1f} pts"
    return f"{v:,.2f}" if abs(v) <= 1 else f"{v:,.1f}"  # SCORE


def format_ci(ci: tuple[float, float] | None, unit: Unit | str, *, currency: str | None = None) -> str | None:
    if ci is None:
        return None
    lo, hi = (format_value(v, unit, currency=currency) for v in ci)
    return f"{lo} to {hi}"


def format_when(value: Any, *, with_time: bool | None = None) -> str:
    """A date or timestamp: ``3 Mar 2026``, with ``HH:MM UTC`` when it is not midnight."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    day = f"{ts.day} {ts.strftime('%b %Y')}"
    show_time = with_time if with_time is not None else (ts.hour, ts.minute, ts.second) != (0, 0, 0)
    return f"{day}, {ts.strftime('%H:%M')} UTC" if show_time else day


def format_period(start: Any, end: Any) -> str | None:
    """The review period; ``end`` is exclusive (as in ``Params``), so a midnight end shows the day before."""
    if start is None and end is None:
        return None
    first = format_when(start, with_time=False) if start is not None else "the first record"
    if end is None:
        return f"{first} to the latest record"
    last = pd.Timestamp(end)
    if isinstance(end, (datetime, pd.Timestamp, str)) and (last.hour, last.minute, last.second) == (0, 0, 0):
        last = last - timedelta(days=1)
    elif isinstance(end, date) and not isinstance(end, datetime):
        last = last - timedelta(days=1)
    return f"{first} to {format_when(last, with_time=False)}"


def is_fraction_column(name: str) -> bool:
    return bool(_FRACTION_COLUMN.search(str(name)))


def format_cell(value: Any, column: str = "", *, currency: str | None = None) -> str:
    """One cell of a breakdown table; strings pass through (escaping is the template's job)."""
    if value is None:
        return MISSING
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return format_when(value)
    if not isinstance(value, (list, tuple, dict)) and pd.isna(value):
        return MISSING
    v = _number(value)
    if v is None:
        return str(value)
    if is_fraction_column(column):
        return format_percent(v, 1)
    if column in ("revenue", "spend", "amount") or column.startswith("revenue_") or column.endswith("_value"):
        return format_currency(v, currency)
    if float(v).is_integer():
        return f"{int(v):,}"
    return f"{v:,.2f}"
