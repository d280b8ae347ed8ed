"""KPI declarations, the registry, the parameters and the tables, under their historical name.

They live in ``afterclick.engine`` (``params``: Params, Span; ``tables``: Tables, @block;
``registry``: KPI, Computation, Analysis, @kpi, @measure, REGISTRY); this module keeps every name
importable from ``afterclick.kpis.base``, where the KPI families import them.
"""

from __future__ import annotations

from afterclick.engine.params import SPANS, WHOLE_PERIOD, Grain, Params, Span
from afterclick.engine.registry import (
    ABSENT,
    KPI,
    REGISTRY,
    TIMED_TABLES,
    Analysis,
    Computation,
    ComputeFn,
    FinishFn,
    Measure,
    Outcome,
    Registry,
    Skip,
    explain_missing,
    kpi,
    measure,
)
from afterclick.engine.tables import Tables, block, unwatched

__all__ = ["ABSENT", "KPI", "REGISTRY", "SPANS", "TIMED_TABLES", "WHOLE_PERIOD", "Analysis", "Computation",
           "ComputeFn", "FinishFn", "Grain", "Measure", "Outcome", "Params", "Registry", "Skip", "Span", "Tables",
           "block", "explain_missing", "kpi", "measure", "unwatched"]
