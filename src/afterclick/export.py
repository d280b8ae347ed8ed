"""Exports: every KPI result as JSON, CSV or Parquet, for BI tools and notebooks.

Every CSV that afterclick writes goes through :func:`write_csv`, which keeps a spreadsheet from
running text from the data as a formula (see :func:`neutralise_formulas`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from afterclick.results import KPIResult

FORMATS = ("json", "csv", "parquet")


# json.dumps escapes C0 controls but writes DEL, the C1 controls (\x9b starts a terminal
# sequence) and the bidi marks as they are; they only occur inside strings, where \uXXXX is the same
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def results_json(results: list[KPIResult], with_rows: bool = True) -> str:
    """A JSON list with one object per KPI: id, name, status, reason, value, rows, definition…

    Text stays readable (no ``ensure_ascii``), but the characters that drive or reorder a terminal
    are written as ``\\uXXXX`` escapes, so printing the JSON shows the data as text.
    """
    text = json.dumps([r.to_record(with_rows=with_rows) for r in results], indent=2, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def summary_frame(results: list[KPIResult]) -> pd.DataFrame:
    return pd.DataFrame(
        [{k: v for k, v in r.to_record(with_rows=False).items() if k not in ("params", "period")}
         | {"ci_low": r.ci[0] if r.ci else None, "ci_high": r.ci[1] if r.ci else None}
         | {f"period_{k}": v for k, v in (r.period.to_record() if r.period else _NO_PERIOD).items()}
         for r in results]
    ).drop(columns=["ci"])


_NO_PERIOD = dict.fromkeys(("kind", "grain", "start", "end", "label"))

#: How a cell that a spreadsheet runs as a formula begins (OWASP, "CSV Injection"): = + - @, tab,
#: carriage return, and the full-width = + - @ that some spreadsheets read as the plain ones.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# a text cell holding only a number ("-12.5", "+1e3") is read as that number, never as a formula
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def neutral_cell(value: object) -> object:
    """``value`` with a leading ``'`` if it is text that a spreadsheet would run as a formula.

    >>> neutral_cell("@SUM(A1:A9)"), neutral_cell("-12.5"), neutral_cell(-3)
    ("'@SUM(A1:A9)", '-12.5', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` in which no text cell or column name can run as a spreadsheet formula.

    OWASP's advice for CSV injection: text starting with ``= + - @``, tab or carriage return gets a
    leading ``'``, which spreadsheets show as text. Only text is touched: numbers, negative ones
    included, stay numbers, and the caller's frame is left as it was.
    """
    df = df.copy()
    for col in df.columns:
        s = df[col]
        if s.dtype == object or pd.api.types.is_string_dtype(s) or isinstance(s.dtype, pd.CategoricalDtype):
            df[col] = s.astype(object).map(neutral_cell)
    df.columns = [neutral_cell(c) for c in df.columns]
    return df


def write_csv(df: pd.DataFrame, path: str | Path, *, raw: bool = False) -> Path:
    """Write ``df`` as CSV without its index, formulas neutralised unless ``raw``; returns the path."""
    path = Path(path)
    (df if raw else neutralise_formulas(df)).to_csv(path, index=False)
    return path


def write_results(results: list[KPIResult], folder: str | Path, fmt: str, *, raw: bool = False) -> list[Path]:
    """Write ``kpis.<fmt>`` (one row per KPI) and ``<kpi id>.<fmt>`` per breakdown table.

    CSV cells that a spreadsheet would run as formulas get a leading ``'`` unless ``raw``.
    """
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
            write_csv(df, path, raw=raw)
        else:
            df.to_parquet(path, index=False)
        written.append(path)
    return written
