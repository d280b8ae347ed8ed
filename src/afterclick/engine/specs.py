"""KPI specs found by their compute function, and the parameters a result was computed with.

Code outside ``kpis/`` names a KPI by its spec, never by an id written out: ``spec(nrr)`` is the
spec whose compute function is ``afterclick.kpis.b2b_accounts.nrr``, so renaming a KPI breaks an
import, not a silent lookup. The views, the analyses and the surfaces all use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from afterclick.engine.params import Params
from afterclick.engine.registry import KPI, REGISTRY
from afterclick.results import KPIResult


def _unwrapped(fn: Callable[..., Any]) -> Callable[..., Any]:
    while hasattr(fn, "__wrapped__"):
        fn = fn.__wrapped__
    return fn


def spec(compute: Callable[..., Any]) -> KPI:
    """The registered spec whose compute function is ``compute``."""
    target = _unwrapped(compute)
    for k in REGISTRY:
        if _unwrapped(k.compute) is target:
            return k
    raise LookupError(f"{getattr(compute, '__qualname__', compute)!r} is not the compute function of a "
                      "registered KPI (afterclick.kpis.REGISTRY)")


_DEFAULTS = {f.name: f.default for f in fields(Params)}


def param(result: KPIResult | None, name: str) -> Any:
    """The value of the parameter ``name`` the result was computed with (the default if unrecorded)."""
    if name not in _DEFAULTS:
        raise KeyError(f"{name!r} is not a KPI parameter; parameters are {', '.join(_DEFAULTS)}")
    recorded = (result.params or {}).get(name) if result is not None else None
    return _DEFAULTS[name] if recorded is None else recorded


def retention_column(result: KPIResult | None) -> str:
    """The name of the retention column of campaign rows: ``retention_<retention_days>d``."""
    return f"retention_{param(result, 'retention_days')}d"


def declared_grain(result: KPIResult) -> str | None:
    """The grain of the result's period column as its spec declares it (``RowsSchema.grain``, the
    ``grain`` parameter's value where the rows follow it); None when undeclared."""
    k = REGISTRY[result.id] if result.id in REGISTRY else None
    schema = None if k is None else k.rows_schema
    if schema is None or schema.grain is None:
        return None
    return param(result, "grain") if schema.grain == "grain" else schema.grain
