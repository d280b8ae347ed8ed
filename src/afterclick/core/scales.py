"""Survey answer scales, said once: who is a promoter, a passive or a detractor on the 0-10 NPS
question (Reichheld 2003: promoters 9-10, passives 7-8, detractors 0-6).

The tests work on anything that compares and combines with ``&``: an Ibis column, a NumPy array
or a pandas Series, so SQL and Python count the same answers.
"""

from __future__ import annotations

from typing import TypeVar

#: Lowest promoter answer (9 and 10 are promoters).
PROMOTER_MIN = 9
#: Lowest passive answer (7 and 8 are passives; 0 to 6 are detractors).
PASSIVE_MIN = 7

S = TypeVar("S")


def is_promoter(score: S) -> S:
    return score >= PROMOTER_MIN  # type: ignore[operator,return-value]


def is_passive(score: S) -> S:
    return (score >= PASSIVE_MIN) & (score < PROMOTER_MIN)  # type: ignore[operator,return-value]


def is_detractor(score: S) -> S:
    return score < PASSIVE_MIN  # type: ignore[operator,return-value]
