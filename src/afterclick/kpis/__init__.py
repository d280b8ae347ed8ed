"""The KPI registry. Importing this package registers every family."""

from afterclick.kpis import campaigns, journey, ladder, reach, resonance, retention, trust  # noqa: F401
from afterclick.kpis import community, content  # noqa: F401
from afterclick.kpis import attribution, signals  # noqa: F401
from afterclick.kpis import value  # noqa: F401
from afterclick.kpis import advocacy  # noqa: F401
from afterclick.kpis import b2b, b2b_handoff, b2b_accounts, b2b_influence, b2b_engagement  # noqa: F401
from afterclick.kpis.base import KPI, REGISTRY, Computation, Outcome, Params, Tables, kpi

__all__ = ["KPI", "REGISTRY", "Computation", "Outcome", "Params", "Tables", "kpi"]
