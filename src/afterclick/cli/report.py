"""``afterclick report``: compute every KPI on a store and write the HTML review report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from afterclick.cli.common import (
    BackendOpt,
    CurrencyOpt,
    EndOpt,
    Grain,
    GrainOpt,
    SparkConfOpt,
    SparkDatabaseOpt,
    SparkStageOpt,
    StartOpt,
    StoreOpt,
    _compute,
    _keep_history,
    _on_backend,
    _params,
    _workspace,
    _write_report,
    fail,
    friendly_errors,
    out,
    shown,
)
from afterclick.cli.root import app


@app.command()
def report(
    store: StoreOpt = Path("afterclick.duckdb"),
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the HTML file.")] = Path(
        "afterclick-report.html"),
    title: Annotated[str, typer.Option(help="The report's title.")] = "Relationship review",
    grain: GrainOpt = Grain.week,
    start: StartOpt = None,
    end: EndOpt = None,
    currency: CurrencyOpt = None,
    snapshot: Annotated[bool, typer.Option(
        help="Keep the headline values in the store's history (off: the store is only read).")] = True,
    backend: BackendOpt = "duckdb",
    spark_stage: SparkStageOpt = None,
    spark_database: SparkDatabaseOpt = None,
    spark_conf: SparkConfOpt = None,
) -> None:
    """Write the review report: one self-contained HTML file with interactive charts, safe to e-mail."""
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        ws, keep = _workspace(store, _params(grain, start, end), snapshot)
        ws = _on_backend(ws, backend, spark_stage, spark_database, spark_conf)
        with ws:
            results = _compute(ws)
            if keep:
                _keep_history(ws, results)
            path = _write_report(ws, results, out_path, title, currency)
    out.print(f"report written to {shown(path)} ({path.stat().st_size / 1e6:.1f} MB); open it in a browser.",
              highlight=False)
