"""The derived tables a KPI may read, and how the workspace fills them before the first one does.

``text_scores`` is kept in the store (``afterclick.text.store``); ``clv`` is computed per
workspace from the value family's fitted models and handed over as an in-memory table. The
workspace registers both (``Workspace.prepare``); a KPI only reads them, as tables.
"""

from __future__ import annotations

import importlib

import ibis

from afterclick.kpis.value import customer_value

# -- the derived table ``clv`` ----------------------------------------------------------------
#: Columns of the derived table: per buyer, probability alive, 12-month and lifetime value.
CLV_COLUMNS = ("customer_id", "p_alive", "clv_12m", "predicted_clv")


def prepare_clv(ws) -> ibis.Table | None:
    """The derived table ``clv`` (one row per buyer; see ``CLV_COLUMNS``) for ``ws``'s period.

    Other families read predicted lifetime value from it (relationship attribution credits
    ``predicted_clv``, the discounted 36-month value). It is an in-memory table handed to the
    workspace, rebuilt per workspace from the same fitted models as the value KPIs (so the
    store is unchanged and every backend can join it); None without transactions or with too
    few buyers to fit a model.
    """
    t, p = ws.tables, ws.review_params()
    if "transactions" not in t:
        return None
    rows = ws.store.con.execute(customer_value(t, p))
    # named, not imported: the models' analysis sits above the engine (as a spec's finish step does)
    preds, _ = importlib.import_module("afterclick.analysis.value").predictions(t, p, rows)
    if preds is None:
        return None
    df = preds.rename(columns={"clv_lifetime": "predicted_clv"})[list(CLV_COLUMNS)]
    return ibis.memtable(df.reset_index(drop=True))
