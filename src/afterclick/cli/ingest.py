"""``afterclick ingest``: load a folder of files into the store and print the summary that adds up."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from afterclick.cli.common import (
    StoreOpt,
    _print_ingest,
    _run_ingest,
    _waiting,
    friendly_errors,
)
from afterclick.cli.root import app


@app.command()
def ingest(
    source: Annotated[Path, typer.Argument(help="A folder with one file per canonical table "
                                           "(events.csv, transactions.parquet, messages.jsonl…), or one file.")],
    store: StoreOpt = Path("afterclick.duckdb"),
    mapping: Annotated[Path | None, typer.Option(
        help="A TOML file that maps your file, column and event names onto the canonical ones "
             "(see docs/mapping.md).")] = None,
) -> None:
    """Load CSV, Parquet or JSON-lines files into the store.

    Every row is loaded, recognised as already stored, or quarantined with a reason; the summary
    adds up. Re-running with the same files adds nothing twice. If anything fails, the store is
    left exactly as it was.
    """
    from afterclick.store import Store

    with friendly_errors():
        with Store(store, on_wait=_waiting) as st:
            try:
                summary = _run_ingest(st, source, mapping)
            except BaseException:
                # a failed first ingest leaves no empty store behind: only a file this run made,
                # with no ingest in it, removed while this run still holds the write lock
                st.discard_if_new()
                raise
    _print_ingest(summary, store)
