"""How numbers read in the report: the formatting rules live in :mod:`afterclick.core.format`
(the views, the CLI and the goals read them there); the names stay importable from here."""

from afterclick.core.format import (
    DIRECTION_HINTS,
    MISSING,
    format_cell,
    format_ci,
    format_count,
    format_currency,
    format_duration,
    format_percent,
    format_period,
    format_value,
    format_when,
    is_fraction_column,
)

__all__ = [
    "DIRECTION_HINTS",
    "MISSING",
    "format_cell",
    "format_ci",
    "format_count",
    "format_currency",
    "format_duration",
    "format_percent",
    "format_period",
    "format_value",
    "format_when",
    "is_fraction_column",
]
