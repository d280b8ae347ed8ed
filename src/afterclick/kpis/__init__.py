"""The KPI catalogue. Importing this package registers every family into the engine's registry
(``afterclick.engine.registry.REGISTRY``, importable from here) with the declared columns of
their rows (``rows.toml``); the engine imports nothing of it, so whoever opens a workspace
imports it (``afterclick.workspace`` does)."""

from afterclick.kpis import campaigns, journey, ladder, reach, resonance, retention, trust  # noqa: F401
from afterclick.kpis import community, content  # noqa: F401
from afterclick.kpis import attribution, signals  # noqa: F401
from afterclick.kpis import value  # noqa: F401
from afterclick.kpis import advocacy  # noqa: F401
from afterclick.kpis import b2b, b2b_handoff, b2b_accounts, b2b_influence, b2b_engagement  # noqa: F401
from afterclick.kpis import rows
from afterclick.kpis.base import KPI, REGISTRY, Computation, Outcome, Params, Tables, kpi

REGISTRY.declare_rows(rows.schemas)

__all__ = ["KPI", "REGISTRY", "Computation", "Outcome", "Params", "Tables", "kpi"]
