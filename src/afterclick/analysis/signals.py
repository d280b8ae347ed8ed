"""The model behind the early-signal KPIs (``kpis/signals.py``): a regularised logistic
regression on the early patterns the engine executed (the per-customer summary folded into its
distinct rows), validated on later cohorts (``afterclick.signals``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from afterclick.kpis.base import Outcome
from afterclick.kpis.signals import EARLY_DAYS, OUTCOME_TO_DAYS
from afterclick.schemas import event_label
from afterclick.signals import indicators_of_patterns


def time_split(rows: pd.DataFrame, train_share: float) -> tuple[np.ndarray, object]:
    """Which pattern rows are the training cohorts, and the first touch of the first test
    customer: the cut is ``round(n * train_share)`` customers in first-touch order, as
    :func:`afterclick.signals.leading_indicators` makes it; the customers beside the cut carry
    their ``position`` in that order (the rest their side, ``train``)."""
    n_train = int(round(int(rows["customers"].sum()) * train_share))
    near = rows["position"].notna()
    train = np.where(near, rows["position"].fillna(-1).to_numpy() < n_train, rows["train"].to_numpy(dtype=bool))
    first_test = rows.loc[near & (rows["position"] == n_train), "first_ts"]
    return train.astype(bool), first_test.iloc[0] if len(first_test) else None


def indicators(_value, rows: pd.DataFrame | None, *, outcome: str, what: str, features: tuple[str, ...],
               train_share: float) -> Outcome:
    """Behaviours ranked by how strongly they predict ``outcome`` (a 0/1 column of ``rows``, the
    early patterns: one row per distinct pattern with its ``customers``); the headline is the AUC
    on the later cohorts, with its interval and notes in words."""
    if rows is None or len(rows) == 0:
        return Outcome(None, None, notes=(f"No customer was first active {OUTCOME_TO_DAYS}+ days before "
                                          "the data end, so no outcome can be observed yet.",))
    # in one order whatever order the backend grouped them in: the fit adds up in that order
    keys = [c for c in rows.columns if c not in ("customers", "spend_180", "first_ts")]  # the pattern
    rows = rows.sort_values(keys, kind="stable", na_position="first").reset_index(drop=True)
    train, test_from = time_split(rows, train_share)
    spend = rows["spend_180"].to_numpy(dtype=float) if rows["spend_180"].notna().any() else None
    try:
        li = indicators_of_patterns(rows[list(features)].to_numpy(dtype=float), rows[outcome].to_numpy(dtype=float),
                                    rows["customers"].to_numpy(dtype=float), train, features,
                                    spend=spend, test_from=test_from)
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
