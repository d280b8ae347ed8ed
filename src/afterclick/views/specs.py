"""KPI specs found by their compute function, and the parameters a result was computed with.

Views are keyed by spec, never by an id written out: ``spec(clicks_vs_commitment)`` is the spec
whose compute function is that one, so renaming a KPI breaks an import here, not a silent lookup.
The functions live in :mod:`afterclick.engine.specs` (the charts and the analyses use them too);
they stay importable from here.
"""

from afterclick.engine.specs import declared_grain, param, retention_column, spec

__all__ = ["declared_grain", "param", "retention_column", "spec"]
