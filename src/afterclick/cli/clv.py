"""``afterclick clv``: export each buyer's predicted value, one row per customer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from afterclick.cli.common import (
    BackendOpt,
    EndOpt,
    Grain,
    RawOpt,
    SparkConfOpt,
    SparkDatabaseOpt,
    SparkStageOpt,
    StartOpt,
    StoreOpt,
    _on_backend,
    _params,
    _workspace,
    err,
    fail,
    friendly_errors,
    out,
    shown,
)
from afterclick.cli.root import app


@app.command("clv")
def clv_export(
    store: StoreOpt = Path("afterclick.duckdb"),
    out_file: Annotated[Path, typer.Option(
        "--out", "-o", help="Where to write one row per customer: .csv or .parquet (by the suffix).")] = Path(
        "customers-clv.csv"),
    start: StartOpt = None,
    end: EndOpt = None,
    raw: RawOpt = False,
    backend: BackendOpt = "duckdb",
    spark_stage: SparkStageOpt = None,
    spark_database: SparkDatabaseOpt = None,
    spark_conf: SparkConfOpt = None,
) -> None:
    """Export each buyer's predicted value: one row per customer, for a CRM or a spreadsheet.

    Columns: customer_id, frequency (repeat purchase days), recency and T (weeks), monetary_value
    (mean repeat order), revenue to date, orders, p_alive (probability still a customer),
    purchases_12m (expected purchases in the next 12 months), order_value (expected), clv_12m
    (predicted 12-month value, discounted 1% a month), clv_lifetime (36 months), segment and
    acquisition campaign_id. Models: BG/NBD and Gamma-Gamma fitted on this store's transactions.
    """
    from afterclick.kpis.value import predicted_clv
    from afterclick.views.specs import spec

    if out_file.suffix.lower() not in (".csv", ".parquet"):
        raise fail(f"--out must end in .csv or .parquet, not {out_file.name!r}")
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        ws, _ = _workspace(store, _params(Grain.week, start, end), False)
        ws = _on_backend(ws, backend, spark_stage, spark_database, spark_conf)
        with ws, err.status("fitting the lifetime-value models…"):
            r = ws.kpi(spec(predicted_clv).id)
        if not r.ok or r.rows is None:
            raise fail(f"cannot predict customer value: {r.reason or '; '.join(r.notes)}")
        rows = r.rows.drop(columns=[c for c in r.rows.columns if c.startswith("_")])
        if out_file.suffix.lower() == ".csv":
            from afterclick.export import write_csv

            write_csv(rows, out_file, raw=raw)
        else:
            rows.to_parquet(out_file, index=False)
    for note in r.notes:
        err.print(shown(note), highlight=False)
    out.print(f"wrote {len(rows):,} customers to {shown(out_file)}; mean predicted 12-month value "
              f"{r.value:,.2f}")
