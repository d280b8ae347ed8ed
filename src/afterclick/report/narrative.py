"""Plain-English sentences derived from the results, one per chart.

Each KPI's sentence writer is part of its view (``afterclick.views.registry.VIEWS``); the
writers are in ``afterclick.views.narrative_relationship`` and ``narrative_outcomes``. Every
sentence is built from a result's rows and names nothing the rows do not contain; the report
shows each beside its chart, where the definitions of its numbers are at hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from afterclick.results import KPIResult
from afterclick.views.registry import VIEWS, view


def sentence(result: KPIResult, context: Mapping[str, KPIResult] | None = None) -> str | None:
    """The sentence for one result, or None when it has none (or nothing to say)."""
    v = view(result)
    if v is None or v.sentence is None or not result.ok:
        return None
    return v.sentence(result, context or {})


def sentences(results: Iterable[KPIResult]) -> dict[str, str]:
    """KPI id → sentence for every result that has one."""
    results = list(results)
    context = {r.id: r for r in results}
    out = {}
    for r in results:
        s = sentence(r, context)
        if s:
            out[r.id] = s
    return out


def headline(results: Iterable[KPIResult]) -> str | None:
    """The report's one-sentence headline: the sentence of the view marked ``headline``."""
    ids = {k.id for k, v in VIEWS.items() if v.headline}
    for r in results:
        if r.id in ids:
            return sentence(r)
    return None
