"""The model behind the early-signal KPIs (``kpis/signals.py``): a regularised logistic
regression on the per-customer early summary the engine executed, validated on later cohorts
(``afterclick.signals.leading_indicators``)."""

from __future__ import annotations

import pandas as pd

from afterclick.kpis.base import Outcome
from afterclick.kpis.signals import EARLY_DAYS, OUTCOME_TO_DAYS
from afterclick.schemas import event_label
from afterclick.signals import leading_indicators as fit_indicators


def indicators(_value, rows: pd.DataFrame | None, *, outcome: str, what: str, features: tuple[str, ...]) -> Outcome:
    """Behaviours ranked by how strongly they predict ``outcome`` (a 0/1 column of ``rows``);
    the headline is the AUC on the later cohorts, with its interval and notes in words."""
    if rows is None or len(rows) == 0:
        return Outcome(None, None, notes=(f"No customer was first active {OUTCOME_TO_DAYS}+ days before "
                                          "the data end, so no outcome can be observed yet.",))
    rows = rows.sort_values(["first_ts", "customer_id"], kind="stable")
    spend = "spend_180" if rows.spend_180.notna().any() else None
    try:
        li = fit_indicators(rows, list(features), outcome=outcome, time="first_ts", spend=spend)
    except ValueError as exc:  # too few customers or outcomes to fit: say so beside no number
        return Outcome(None, None, notes=(str(exc).removeprefix("leading_indicators: ").capitalize(),))
    table = li.table.rename(columns={"rate_doers": f"{outcome}_doers", "rate_others": f"{outcome}_others"})
    start = pd.Timestamp(li.test_from).strftime("%Y-%m-%d")
    notes = [
        f"AUC {li.auc:.2f} (95% interval {li.auc_ci[0]:.2f}-{li.auc_ci[1]:.2f}) on the {li.n_test:,} "
        f"customers first seen from {start}, predicting from the {li.n_train:,} earlier ones.",
        f"Behaviours in the first {EARLY_DAYS} days and {what}: associations, not causes; "
        "an odds ratio compares doers with others who did the same other things.",
    ]
    if li.dropped:
        notes.append("Too few doers (or non-doers) to read: " + ", ".join(map(event_label, li.dropped)) + ".")
    return Outcome(li.auc, table, ci=li.auc_ci, notes=tuple(notes))
