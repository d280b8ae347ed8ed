"""The ``afterclick`` Typer application and its top-level options (--version, --strict)."""

from __future__ import annotations

from typing import Annotated

import typer

from afterclick import __version__
from afterclick.cli.common import out

app = typer.Typer(
    help=(
        "afterclick measures what happens after the click: whether marketing builds relationships "
        "(retention, trust, commitment, lifetime value) or just buys traffic.\n\n"
        "Start with `afterclick demo` to see a report on a synthetic brand, then "
        "`afterclick ingest YOUR_FOLDER --store brand.duckdb` and `afterclick report --store brand.duckdb`."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@app.callback(invoke_without_command=True)
def main(version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
         strict: Annotated[bool, typer.Option(
             "--strict", help="Stop at the first KPI that raises an error, with its traceback, instead of "
             "reporting it as failed and going on (for debugging and CI).")] = False) -> None:
    if strict:  # read by every workspace this run opens (afterclick.workspace.strict_default)
        import os

        os.environ["AFTERCLICK_STRICT"] = "1"
    if version:
        out.print(f"afterclick {__version__}")
        raise typer.Exit()
