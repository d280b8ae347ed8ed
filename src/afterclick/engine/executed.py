"""What the workspace makes of executed results: one scalar, UTC times, a parameter record, an
error in one line."""

from __future__ import annotations

from typing import Any

import pandas as pd

from afterclick.engine.params import Params


def executed_fact(df: Any) -> Any:
    v = df
    if isinstance(v, pd.DataFrame):
        v = v.iloc[0, 0] if len(v) else None
    return None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else v


def utc_times(df: pd.DataFrame) -> pd.DataFrame:
    """All times are UTC; some engines drop the zone when truncating, so put it back."""
    for col in df.columns:
        if pd.api.types.is_datetime64_dtype(df[col]) and getattr(df[col].dt, "tz", None) is None:
            df[col] = df[col].dt.tz_localize("UTC")
    return df


def param_record(p: Params) -> dict[str, Any]:
    return {k: v for k, v in p.as_dict().items() if v is not None}


def executed_scalar(v: Any) -> float | None:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip()
