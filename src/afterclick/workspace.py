"""The workspace: a store, the KPI registry and the parameters of a review, in one object.

    >>> import afterclick
    >>> ws = afterclick.open("brand.duckdb")          # doctest: +SKIP
    >>> ws.kpi("retention.repeat_visit_rate").value  # doctest: +SKIP

It lives in the engine (:mod:`afterclick.engine.workspace`, with the periods and left-out rows in
:mod:`afterclick.engine.spans`); its names stay importable from here. Importing this module fills
the KPI registry (``afterclick.kpis``), which the engine itself does not import.
"""

import afterclick.kpis  # noqa: F401 (registers every KPI family into the engine's registry)
from afterclick.engine.spans import (
    DERIVED_FROM,
    STRAY_GAP_DAYS,
    STRAY_SHARE,
    absent_reason,
    bulk_span,
    span_period,
)
from afterclick.engine.workspace import (
    PREPARERS,
    STRICT_ENV,
    Preparer,
    Workspace,
    open,
    register_preparer,
    strict_default,
)

__all__ = ["DERIVED_FROM", "PREPARERS", "STRAY_GAP_DAYS", "STRAY_SHARE", "STRICT_ENV", "Preparer", "Workspace",
           "absent_reason", "bulk_span", "open", "register_preparer", "span_period", "strict_default"]
