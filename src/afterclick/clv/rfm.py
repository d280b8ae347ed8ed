"""Recency-frequency-monetary summaries of a pandas table: the one-row-per-customer input of the
CLV models, for notebooks and tests.

The summary itself is the Ibis expression of :mod:`afterclick.core.orders` (its docstring gives
the conventions: same-day purchases count once, refunds netted against the orders they name),
which the KPIs compute on the store's own backend; :func:`rfm_summary` and
:func:`calibration_and_holdout` run the same expression on a pandas table.
"""

from __future__ import annotations

from datetime import date, datetime

import ibis
import ibis.expr.types as ir
import pandas as pd

from afterclick.core.connections import NO_NETWORK
from afterclick.core.orders import (  # noqa: F401 (the pure Ibis parts, kept importable from here)
    UNITS,
    counted_orders,
    day_number,
    end_days,
    holdout_expr,
    net_purchase_days,
    purchase_days,
    rfm_expr,
)


def _table(transactions: pd.DataFrame, customer_id: str, ts: str, amount: str) -> ir.Table:
    missing = [c for c in (customer_id, ts, amount) if c not in transactions.columns]
    if missing:
        raise ValueError(f"rfm_summary: required column(s) {missing} missing from the transactions "
                         f"(it has {list(transactions.columns)})")
    df = pd.DataFrame({
        "customer_id": transactions[customer_id].astype(str),
        "ts": pd.to_datetime(transactions[ts]).astype("datetime64[us]"),
        "amount": pd.to_numeric(transactions[amount]).astype(float),
    })
    return ibis.memtable(df)


def _execute(expr: ir.Table) -> pd.DataFrame:
    return ibis.duckdb.connect(**NO_NETWORK).execute(expr).sort_values("customer_id", kind="stable").reset_index(drop=True)


def rfm_summary(
    transactions: pd.DataFrame,
    observation_end: datetime | date | str | None = None,
    unit: str = "W",
    *,
    customer_id: str = "customer_id",
    ts: str = "ts",
    amount: str = "amount",
) -> pd.DataFrame:
    """Per customer: frequency, recency, T, monetary_value (time in ``unit``: D, W, M or Y).

    ``observation_end`` defaults to the last transaction's day; later transactions are ignored.
    """
    t = _table(transactions, customer_id, ts, amount)
    end = pd.Timestamp(observation_end) if observation_end is not None else pd.to_datetime(transactions[ts]).max()
    return _execute(rfm_expr(t, end.to_pydatetime(), unit)).drop(columns=["first_day"])


def calibration_and_holdout(
    transactions: pd.DataFrame,
    calibration_end: datetime | date | str,
    observation_end: datetime | date | str,
    unit: str = "W",
    *,
    customer_id: str = "customer_id",
    ts: str = "ts",
    amount: str = "amount",
) -> pd.DataFrame:
    """The RFM summary up to ``calibration_end`` beside what happened after it.

    Customers first buying by ``calibration_end`` only. Extra columns: frequency_holdout
    (purchase days in the holdout), monetary_value_holdout (their mean amount, 0 without any),
    duration_holdout (its length in ``unit``).
    """
    cal_end, obs_end = pd.Timestamp(calibration_end), pd.Timestamp(observation_end)
    if obs_end <= cal_end:
        raise ValueError(f"observation_end ({obs_end.date()}) must come after calibration_end ({cal_end.date()})")
    t = _table(transactions, customer_id, ts, amount)
    j = holdout_expr(t, cal_end.to_pydatetime(), obs_end.to_pydatetime(), unit)
    j = j.mutate(monetary_value_holdout=ibis.ifelse(j.frequency_holdout > 0, j.holdout_revenue / j.frequency_holdout, 0.0))
    return _execute(j.drop("holdout_revenue", "first_day", "first_revenue"))
