"""The ``afterclick`` command line: one module per command, on the one Typer ``app``.

``afterclick.cli:app`` is the console entry point. The shared helpers (``out``, ``err``, ``shown``,
``fail``, ``friendly_errors``, the options and the workspace helpers) live in
:mod:`afterclick.cli.common` and are importable from here, as the commands added in
``afterclick.cli_*`` modules import them.
"""


from __future__ import annotations

from afterclick.cli.common import (
    Brand,
    CurrencyOpt,
    EndOpt,
    Format,
    Grain,
    GrainOpt,
    RawOpt,
    Size,
    StartOpt,
    StoreOpt,
    _compute,
    _keep_history,
    _params,
    _print_ingest,
    _progress,
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
from afterclick.cli.root import app, main

# each command registers itself on `app` when its module loads
from afterclick.cli import ingest, kpis, report, demo, quarantine, clv, attribution
from afterclick.cli.attribution import AttributionModel

# `init` and `goals` register themselves on `app` (goals, benchmarks and templates)
import afterclick.cli_goals
import afterclick.cli_experiments
import afterclick.cli_monitor
import afterclick.cli_review  # `review`: a period's review report, stored immutably
