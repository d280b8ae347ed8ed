"""KPI specs found by their compute function, and the parameters a result was computed with.

Views are keyed by spec, never by an id written out: ``spec(clicks_vs_commitment)`` is the spec
whose compute function is that one (:func:`afterclick.engine.specs.spec`, importable from here), so
renaming a KPI breaks an import here, not a silent lookup.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from afterclick.engine.specs import spec
from afterclick.kpis import REGISTRY
from afterclick.kpis.base import Params
from afterclick.results import KPIResult

__all__ = ["declared_grain", "param", "retention_column", "spec"]

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
