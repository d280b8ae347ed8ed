"""How long a period is: the one ``Grain`` (the calendar's rules are in :mod:`afterclick.core.periods`).

Kept apart from the calendar so that the command line can name grains without loading pandas or Ibis.
"""

from __future__ import annotations

from enum import StrEnum


class Grain(StrEnum):
    """How long a period is."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
