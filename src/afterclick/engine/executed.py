"""What the workspace makes of executed results: one scalar, several scalars in one query, UTC
times, a parameter record, an error in one line."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ibis
import pandas as pd

from afterclick.engine.params import Params
from afterclick.engine.registry import Computation, Skip


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


def executed_scalars(con: Any, exprs: Mapping[Any, ibis.Scalar]) -> dict[Any, Any]:
    """Execute several scalar expressions as the columns of one single-row query: a KPI's needs,
    value and facts cost one compilation and one round trip instead of one each. Each comes back
    as the backend returns it (as ``executed_fact`` reads a one-cell frame)."""
    if len(exprs) == 1:
        ((name, expr),) = exprs.items()
        return {name: con.execute(expr)}
    names = [f"s{i}" for i in range(len(exprs))]
    tables = [expr.name(n).as_table() for n, expr in zip(names, exprs.values())]
    one = tables[0]
    for t in tables[1:]:
        one = one.cross_join(t)
    df = con.execute(one)
    return {key: df[n].iloc[0] if len(df) else None for key, n in zip(exprs, names)}


def computation_scalars(con: Any, comp: Computation) -> dict[Any, Any]:
    """The needs, the value and the facts of ``comp``, executed in one query (keys ``("need", i)``,
    ``"value"``, ``("fact", name)``); a need of 0 skips the KPI with its reason. When the query
    fails (a value that cannot be computed without the behaviour a need checks, say), the needs
    are checked one by one first, as they come before anything else."""
    exprs: dict[Any, ibis.Scalar] = {("need", i): count for i, (count, _) in enumerate(comp.needs)}
    if comp.value is not None:
        exprs["value"] = comp.value
    if comp.explain is not None:
        exprs |= {("fact", name): expr for name, expr in comp.facts.items()}
    if not exprs:
        return {}
    try:
        got = executed_scalars(con, exprs)
    except Exception:
        for count, why in comp.needs:
            if not executed_scalar(con.execute(count)):
                raise Skip(why) from None
        raise
    for i, (_, why) in enumerate(comp.needs):
        if not executed_scalar(got[("need", i)]):
            raise Skip(why)
    return got
