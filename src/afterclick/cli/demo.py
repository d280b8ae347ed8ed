"""``afterclick demo``: generate a synthetic brand, ingest it, compute its KPIs and write its report."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer

from afterclick.cli.common import (
    Brand,
    Size,
    StoreOpt,
    _compute,
    _keep_history,
    _print_ingest,
    _run_ingest,
    _waiting,
    _workspace,
    _write_report,
    err,
    fail,
    friendly_errors,
    out,
    shown,
)
from afterclick.cli.root import app


def _is_demo_store(path: Path, keep_files: Path | None) -> bool:
    """True when every ingest into ``path`` came from a demo run (safe to rebuild)."""
    import duckdb

    from afterclick.store import connect_duckdb

    try:
        with connect_duckdb(path, read_only=True) as con:
            sources = [s for (s,) in con.execute("SELECT DISTINCT source FROM ac_ingest_log").fetchall()]
    except duckdb.Error:
        return False  # not a store of ours, or unreadable: never delete it
    demo_dirs = {str(keep_files)} if keep_files else set()
    return all(Path(s).name.startswith("afterclick-demo-") or s in demo_dirs for s in sources)


@app.command()
def demo(
    size: Annotated[Size, typer.Option(help="small ≈ 200k events, medium ≈ 1M, large ≈ 10M.")] = Size.small,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same brand.")] = 7,
    store: StoreOpt = Path("afterclick-demo.duckdb"),
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the report.")] = Path(
        "afterclick-demo.html"),
    keep_files: Annotated[Path | None, typer.Option(
        help="Also keep the generated source files (Parquet) in this folder.")] = None,
    brand: Annotated[Brand, typer.Option(
        help="shop: Mossbrook, a shop with a community (B2C); b2b: Larchwood, a software vendor's "
             "leads, deals and subscriptions (--size does not apply).")] = Brand.shop,
) -> None:
    """Generate a synthetic brand, ingest it like real data, compute every KPI and write the report.

    The shop (18 months, seven tables) has planted truths (docs/demo.md): a campaign that wins
    clicks but keeps nobody, one with modest clicks and loyal customers, a liked-but-empty post
    beside a guide people save. The B2B brand plants a slow-but-strong webinar series, a paid
    campaign of many MQLs that rarely convert, leads left untouched for a week, and rejected leads
    that buy anyway. The demo store is rebuilt from scratch each time; a store holding other data
    is never touched.
    """
    from afterclick.demo import write_demo
    from afterclick.demo.b2b import write_b2b_demo
    from afterclick.store import Store, write_lock

    started = time.perf_counter()
    # the whole rebuild holds the store's write lock: no other run writes between the check and
    # the deletion, nor into the new store before the demo's ingest
    with friendly_errors(), write_lock(store, on_wait=_waiting):
        if store.exists() and not _is_demo_store(store, keep_files):
            raise fail(f"{store} holds data that the demo did not make; the demo rebuilds its store "
                       "from scratch, so choose another --store (or delete that file yourself)")
        for suffix in ("", ".wal"):
            Path(str(store) + suffix).unlink(missing_ok=True)
        with tempfile.TemporaryDirectory(prefix="afterclick-demo-") as tmp:
            folder = keep_files or Path(tmp)
            if brand is Brand.b2b:
                with err.status(f"generating the B2B demo brand (seed {seed})…"):
                    write_b2b_demo(folder, seed=seed)
            else:
                with err.status(f"generating the {size.value} demo brand (seed {seed})…"):
                    write_demo(folder, size=size.value, seed=seed)
            with Store(store) as st:
                summary = _run_ingest(st, folder, None)
        _print_ingest(summary, store)
        ws, _ = _workspace(store, {}, True)
        with ws:
            results = _compute(ws)
            _keep_history(ws, results)
            # Mossbrook sells in pounds sterling, Larchwood in dollars (docs/demo.md)
            title, currency = (("B2B demo brand: relationship review", "$") if brand is Brand.b2b
                               else ("Demo brand: relationship review", "£"))
            path = _write_report(ws, results, out_path, title, currency)
    computed = sum(r.ok for r in results)
    out.print(f"{computed} of {len(results)} KPIs computed in {time.perf_counter() - started:.0f} s; "
              f"store {shown(store)}; report written to {shown(path)}. Open it in a browser.", highlight=False)
