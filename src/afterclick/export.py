"""Exports: every KPI result as JSON, CSV or Parquet, for BI tools and notebooks."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from afterclick.results import KPIResult

FORMATS = ("json", "csv", "parquet")


def results_json(results: list[KPIResult], with_rows: bool = True) -> str:
    """A JSON list with one object per KPI: id, name, status, reason, value, rows, definition…"""
    return json.dumps([r.to_record(with_rows=with_rows) for r in results], indent=2, ensure_ascii=False)


def summary_frame(results: list[KPIResult]) -> pd.DataFrame:
    return pd.DataFrame(
        [{k: v for k, v in r.to_record(with_rows=False).items() if k not in ("params", "period")}
         | {"ci_low": r.ci[0] if r.ci else None, "ci_high": r.ci[1] if r.ci else None}
         | {f"period_{k}": v for k, v in (r.period.to_record() if r.period else _NO_PERIOD).items()}
         for r in results]
    ).drop(columns=["ci"])


_NO_PERIOD = dict.fromkeys(("kind", "grain", "start", "end", "label"))


def write_results(results: list[KPIResult], folder: str | Path, fmt: str) -> list[Path]:
    """Write ``kpis.<fmt>`` (one row per KPI) and ``<kpi id>.<fmt>`` per breakdown table."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    if fmt == "json":
        path = folder / "kpis.json"
        path.write_text(results_json(results), encoding="utf-8")
        return [path]
    frames = {"kpis": summary_frame(results)}
    frames |= {r.id: r.rows for r in results if r.rows is not None}
    for name, df in frames.items():
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            df.to_csv(path, index=False)
        else:
            df.to_parquet(path, index=False)
        written.append(path)
    return written
