"""``afterclick quarantine``: show or export the rows that ingest set aside, with their reasons."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from afterclick.cli.common import (
    RawOpt,
    StoreOpt,
    _waiting,
    friendly_errors,
    out,
    shown,
)
from afterclick.cli.root import app


@app.command()
def quarantine(
    store: StoreOpt = Path("afterclick.duckdb"),
    limit: Annotated[int, typer.Option(help="Show at most this many rows.")] = 50,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write all rows to this CSV file.")] = None,
    raw: RawOpt = False,
) -> None:
    """Show the rows that ingest set aside, with the reason for each."""
    from afterclick.store import Store

    with friendly_errors(), Store(store, read_only=True, on_wait=_waiting) as st:
        q = st.quarantine()
    if out_file:
        from afterclick.export import write_csv

        write_csv(q, out_file, raw=raw)
        out.print(f"wrote {len(q):,} rows to {shown(out_file)}", highlight=False)
        return
    table = Table("table", "file", "where", "reason", "raw")
    for row in q.head(limit).itertuples():
        table.add_row(shown(row.table_name), shown(Path(row.source_file).name), shown(row.row_ref),
                      shown(row.reason), shown((row.raw or "")[:80]))
    out.print(table)
    out.print(f"{len(q):,} quarantined row(s) in all.")
