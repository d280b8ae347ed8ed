"""The report's order when it follows an industry template: the template's KPIs first, in its order."""

from __future__ import annotations

from typing import Any


def follow_order(charts: list[dict[str, Any]], order: tuple[str, ...]) -> list[dict[str, Any]]:
    """``charts`` (the report's chart views) with those of ``order``'s KPIs first, in that order, the
    others after in their own order; the first of them is the headline."""
    rank = {k: i for i, k in enumerate(order)}
    ranked = sorted(charts, key=lambda c: rank.get(c["kpi"]["id"], len(rank)))
    return [{**c, "headline": i == 0} for i, c in enumerate(ranked)]
