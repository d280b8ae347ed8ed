"""The derived tables a KPI may read, and how the workspace fills them before the first one does.

``text_scores`` is kept in the store (``afterclick.text.store``); ``clv`` is computed per
workspace from the value family's fitted models and handed over as an in-memory table. The
workspace registers both (``Workspace.prepare``); a KPI only reads them, as tables.
"""

from __future__ import annotations

import importlib

import ibis


def prepare_clv(ws) -> ibis.Table | None:
    """The derived table ``clv`` for ``ws``'s period: one row per buyer with p_alive, clv_12m and
    predicted_clv, built by ``afterclick.analysis.value.clv_table`` from the value family's RFM
    summary and fitted models; None without transactions or with too few buyers to fit a model.
    """
    # named, not imported: the models' analysis (and the value family it reads) sit above the
    # engine, as a spec's finish step does
    return importlib.import_module("afterclick.analysis.value").clv_table(ws)
