"""``afterclick kpis``: compute the KPIs and print them, or export them as JSON, CSV or Parquet."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from afterclick.cli.common import (
    BackendOpt,
    EndOpt,
    Format,
    Grain,
    GrainOpt,
    RawOpt,
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
    fail,
    friendly_errors,
    out,
    shown,
)
from afterclick.cli.root import app


@app.command()
def kpis(
    store: StoreOpt = Path("afterclick.duckdb"),
    format: Annotated[Format, typer.Option("--format", "-f", help="table (terminal), json (stdout), "
                                           "csv or parquet (files in --out).")] = Format.table,
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for csv/parquet/json files.")] = Path("kpis"),
    kpi_id: Annotated[list[str] | None, typer.Option("--id", help="Only this KPI (repeatable).")] = None,
    family: Annotated[str | None, typer.Option(help="Only this family, e.g. retention.")] = None,
    grain: GrainOpt = Grain.week,
    start: StartOpt = None,
    end: EndOpt = None,
    list_only: Annotated[bool, typer.Option("--list", help="List the KPIs and their definitions.")] = False,
    snapshot: Annotated[bool, typer.Option(help="Keep the headline values in the store's history.")] = True,
    raw: RawOpt = False,
    backend: BackendOpt = "duckdb",
    spark_stage: SparkStageOpt = None,
    spark_database: SparkDatabaseOpt = None,
    spark_conf: SparkConfOpt = None,
) -> None:
    """Compute the relationship KPIs and print or export them.

    Rates are fractions (0.25 = 25%). A KPI whose tables are missing is listed as skipped with
    the reason. The table is followed by the plain-English sentence of each KPI that has one, as
    the report shows it beside the chart.
    """
    from afterclick.kpis import REGISTRY

    if list_only:
        _print_list()
        return
    unknown = [i for i in kpi_id or () if i not in REGISTRY]
    if unknown:
        raise fail(f"unknown KPI {shown(unknown[0])!r}; `afterclick kpis --list` shows them")
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        ws, keep = _workspace(store, _params(grain, start, end), snapshot)
        ws = _on_backend(ws, backend, spark_stage, spark_database, spark_conf)
        with ws:
            try:
                results = _compute(ws, kpi_id or None, family)
            except KeyError as exc:
                raise fail(exc.args[0]) from None
            if keep:
                _keep_history(ws, results)
    from afterclick.export import results_json, write_results

    if format is Format.json:
        sys.stdout.write(results_json(results) + "\n")
    elif format is Format.table:
        _print_table(results)
    else:
        paths = write_results(results, out_dir, format.value, raw=raw)
        out.print(f"wrote {len(paths)} file(s) to {shown(out_dir)}/", highlight=False)


def _print_list() -> None:
    """Every KPI with what it needs and its definition."""
    from afterclick.kpis import REGISTRY

    table = Table(show_lines=True)
    table.add_column("id", no_wrap=True)
    for col in ("name", "needs", "definition"):
        table.add_column(col)
    for k in REGISTRY:
        table.add_row(k.id, k.name, ", ".join(k.needs), k.summary)
    out.print(table)


def _print_table(results) -> None:
    """The results as a table on the terminal, then each KPI's sentence."""
    from afterclick.core.format import format_value
    from afterclick.results import SpanKind

    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("name", no_wrap=True)
    for col in ("value", "period"):
        table.add_column(col)
    whole = None
    for r in results:
        # a KPI not computed says so, and why, where its value would be
        value = format_value(r.value, r.unit) if r.ok else f"{r.status.value}: {shown(r.reason or '')}"
        period = ""
        if r.period is not None and r.ok:
            if r.period.kind is SpanKind.WHOLE:
                period, whole = "whole period", r.period.label
            else:
                period = r.period.label
        table.add_row(r.id, r.name, value, period)
    out.print(table)
    if whole:
        out.print(whole[:1].upper() + whole[1:] + ".", highlight=False)
    # the same sentences as beside the report's charts (each KPI's view, afterclick.views.registry)
    from afterclick.report.narrative import sentences

    for kpi_id, sentence in sentences(results).items():
        out.print(f"{kpi_id}: {shown(sentence)}", highlight=False, soft_wrap=True)
