"""``afterclick experiment``: A/B tests judged on relationship outcomes, vanity metrics beside them.

Registered on the ``app`` of :mod:`afterclick.cli` when that module loads (its last line imports this).
"""

from __future__ import annotations

import json
import math
import re
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from afterclick.cli import (
    RawOpt,
    StoreOpt,
    _waiting,
    app,
    fail,
    friendly_errors,
    out,
    shown,
)

# C1 controls, line and paragraph separators and bidi marks, written as \u escapes in the JSON text
_JSON_UNSAFE = re.compile("[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class ExperimentFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _fmt(x: object, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    if isinstance(x, float):
        return f"{x:.{digits}g}"
    return shown(x)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:+.1f} %"


def _print_table(analysis) -> None:
    for e in analysis.experiments:
        title = e.experiment_id + (f" — {e.name}" if e.name else "")
        out.print(f"[bold]{shown(title)}[/] (control {shown(e.control)}; assigned "
                  + ", ".join(f"{shown(v)} {n:,}" for v, n in e.counts.items()) + ")",
                  highlight=False, soft_wrap=True)
        out.print(shown(e.verdict), highlight=False, soft_wrap=True)
        table = Table("metric", "variant", "n control / variant", "control", "variant",
                      "lift (95 % interval)", "relative", "p (Holm)")
        for r in e.to_rows():
            lift = (f"{_fmt(r['absolute'])} ({_fmt(r['ci_low'])} to {_fmt(r['ci_high'])})"
                    if r["ci_low"] is not None else shown(r["status"]))
            table.add_row(shown(r["metric"]), shown(r["variant"]),
                          f"{_fmt(r['n_control'])} / {_fmt(r['n_variant'])}",
                          _fmt(r["mean_control"]), _fmt(r["mean_variant"]), lift,
                          _pct(r["relative"]), _fmt(r["p_adjusted"], 2))
        out.print(table)


@app.command()
def experiment(
    store: StoreOpt,
    experiment_id: Annotated[str | None, typer.Option("--id", help="Only this experiment.")] = None,
    fmt: Annotated[ExperimentFormat, typer.Option(
        "--format", "-f", help="table (verdicts in words and a table), json (rows on stdout) or csv.")]
    = ExperimentFormat.table,
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Where --format csv writes.")] = Path(
        "experiments.csv"),
    raw: RawOpt = False,
    sequential: Annotated[bool, typer.Option(
        "--sequential", help="Always-valid intervals and p-values (a confidence sequence), for "
        "teams who look at a running test every day: they stay valid at every look.")] = False,
    tuning: Annotated[float | None, typer.Option(
        "--tuning", min=1, help="With --sequential: the total customers the test is expected to "
        "reach (N*, where the intervals are tightest); default: those assigned so far.")] = None,
) -> None:
    """Compare each experiment's variants with the control on relationship outcomes (7/30/90-day
    return and the 90-day return curve by log-rank, active weeks, commitment-ladder step-up, deep
    interactions per visit, repeat purchase, 90-day revenue, predicted 12-month CLV, NPS, CSAT)
    beside clicks and CTR.

    Metrics measured before assignment too (clicks, active weeks, 30-day return, revenue) are
    compared by CUPED; revenue and CLV are winsorised at the pooled 99th percentile. Sample-ratio
    mismatch is checked against the planned split, p-values are corrected by Holm over metrics ×
    variants, and one verdict line per experiment carries the guardrails (split, pre-period
    imbalance, a lift that fades with exposure week).
    """
    from afterclick.analysis.experiments import analyse
    from afterclick.store import Store

    if tuning is not None and not sequential:
        raise fail("--tuning sets the always-valid intervals' N*: add --sequential to use it")
    chosen = (tuning or True) if sequential else None
    with friendly_errors(), Store(store, read_only=True, on_wait=_waiting) as st:
        analysis = analyse(st, experiment_id, sequential=chosen)
    if not analysis.experiments and experiment_id is not None:
        raise fail(analysis.note or f"no experiment {experiment_id!r} in this store")
    if not analysis.experiments:
        out.print(shown(analysis.note or "no experiments in this store"), highlight=False, soft_wrap=True)
        return
    if fmt is ExperimentFormat.json:
        text = json.dumps(analysis.to_rows(), indent=2, ensure_ascii=False, default=str)
        sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
        return
    if fmt is ExperimentFormat.csv:
        from afterclick.export import write_csv

        frame = analysis.to_frame()
        write_csv(frame, out_file, raw=raw)
        out.print(f"wrote {len(frame):,} rows to {shown(out_file)}", highlight=False)
        return
    _print_table(analysis)
