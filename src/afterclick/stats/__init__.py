"""Statistics as small frozen dataclasses holding sufficient statistics (counts), with intervals
and tests derived from them. Degenerate input gives a result with a status message, never NaN."""

from afterclick.stats.proportions import (
    MIN_ANSWERS, NPS, DifferenceTest, Interval, Proportion, nps_difference,
)

__all__ = ["MIN_ANSWERS", "NPS", "DifferenceTest", "Interval", "Proportion", "nps_difference"]
