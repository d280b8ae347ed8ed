"""KPI specs found by their compute function.

Code outside ``kpis/`` names a KPI by its spec, never by an id written out: ``spec(nrr)`` is the
spec whose compute function is ``afterclick.kpis.b2b_accounts.nrr``, so renaming a KPI breaks an
import, not a silent lookup. The views, the analyses and the surfaces all use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from afterclick.kpis import REGISTRY
from afterclick.kpis.base import KPI


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
