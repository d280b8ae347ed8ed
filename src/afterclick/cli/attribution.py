"""``afterclick attribution``: credit channels from a ChannelAttribution-format paths file."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from afterclick.cli.common import (
    RawOpt,
    fail,
    out,
    shown,
)
from afterclick.cli.root import app


class AttributionModel(StrEnum):
    all = "all"
    markov = "markov"
    shapley = "shapley"
    heuristics = "heuristics"


@app.command()
def attribution(
    paths_csv: Annotated[Path, typer.Argument(
        metavar="PATHS.csv", help="Aggregated paths as ChannelAttribution writes them: path ('a > b'), "
        "total_conversions, and optionally total_conversion_value and total_null.")],
    model: Annotated[AttributionModel, typer.Option(
        "--model", "-m", help="markov (exact removal effects), shapley (simplified), heuristics "
        "(first, last, linear, position-based) or all, side by side.")] = AttributionModel.all,
    sep: Annotated[str, typer.Option(help="What separates channels in a path.")] = " > ",
    out_file: Annotated[Path | None, typer.Option("--out", help="Also write the table to this CSV file.")] = None,
    raw: RawOpt = False,
) -> None:
    """Credit channels with conversions and value from a ChannelAttribution-format paths file.

    One row per channel. The Markov model is solved exactly (no simulation), so it sits within the Monte-Carlo noise of ChannelAttribution's markov_model.
    """
    import pandas as pd

    from afterclick import attribution as attr

    if not paths_csv.exists():
        raise fail(f"no file at {paths_csv}: give a CSV with columns path, total_conversions, "
                   "total_conversion_value, total_null")
    try:
        ps = attr.parse_paths(pd.read_csv(paths_csv), sep=sep, where=str(paths_csv))
        if model is AttributionModel.markov:
            table = attr.markov(ps)
        elif model is AttributionModel.shapley:
            table = attr.shapley(ps)
        elif model is AttributionModel.heuristics:
            table = attr.heuristics(ps)
        else:
            long = attr.attribute(ps)
            cols = [c for c in ("conversions", "value") if c in long.columns]
            table = long.pivot(index="channel", columns="model", values=cols)
            table.columns = [f"{m}_{c}" for c, m in table.columns]
            table = table[[f"{m}_{c}" for c in cols for m in attr.MODELS]].reset_index()
    except (ValueError, TypeError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise fail(str(exc).splitlines()[0]) from None
    if out_file:
        from afterclick.export import write_csv

        write_csv(table, out_file, raw=raw)
    # side by side, one terminal table per measure keeps the columns readable
    side = {AttributionModel.all: attr.MODELS, AttributionModel.heuristics: attr.HEURISTICS}.get(model, ())
    measures = [c for c in ("conversions", "value") if side and f"{side[0]}_{c}" in table]
    views = [(m, ["channel", *(f"{x}_{m}" for x in side)]) for m in measures] or [(None, list(table.columns))]
    for measure, cols in views:
        view = Table(title=measure)
        for col in cols:
            name = col.removesuffix(f"_{measure}") if measure else col
            view.add_column(shown(name.replace("_", " ")), justify="left" if col == "channel" else "right")
        digits = {c: 4 if "effect" in c else 0 if c.endswith("value") else 2 for c in cols}
        for rec in table[cols].itertuples(index=False):
            view.add_row(shown(rec[0]), *(f"{v:,.{digits[c]}f}" for c, v in zip(cols[1:], rec[1:], strict=True)))
        out.print(view)
    if out_file:
        out.print(f"wrote {len(table)} rows to {shown(out_file)}", highlight=False)
