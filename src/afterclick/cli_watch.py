"""``afterclick watch FOLDER --store S``: ingest files as they land, then evaluate the alert rules."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from afterclick.cli import (
    Grain,
    GrainOpt,
    StoreOpt,
    _waiting,
    app,
    err,
    fail,
    shown,
)
from afterclick.cli_monitor import (
    AnnotationsOpt,
    KpiOpt,
    RulesOpt,
    WebhookOpt,
    _annotations,
    _chosen,
    _line,
    _post,
    _print_alerts,
    _review_store,
    _rule_set,
)


def _ingest_one(store: Path, path: Path, mapping) -> None:
    """Ingest one file and say in one line what happened to its rows."""
    from afterclick.ingest import IngestError, MappingError
    from afterclick.monitor.watch import ingest_file
    from afterclick.store import Store, StoreError

    try:
        with Store(store, on_wait=_waiting) as st:
            s = ingest_file(st, path, mapping)
    except (IngestError, MappingError, StoreError) as exc:
        err.print(f"[bold red]error:[/] {shown(str(exc).splitlines()[0])} (the store is as it was before "
                  f"{shown(path.name)}; the file is left alone until it changes)", highlight=False, soft_wrap=True)
        return
    notes = "; ".join(f.note for f in s.files if f.note)
    _line(f"{shown(path.name)} → {shown(', '.join(f.table for f in s.files) or 'nothing')}: "
          f"{s.rows_read:,} row(s) read, {s.loaded:,} loaded, {s.already_stored:,} already stored, "
          f"{s.quarantined:,} quarantined" + (f" ({shown(notes)})" if notes else ""))


def _evaluate(store: Path, params: dict, chosen, rules, notes, webhook) -> None:
    from afterclick.store import StoreError

    try:
        r = _review_store(store, params, chosen, rules, notes)
    except StoreError as exc:
        err.print(f"[bold red]error:[/] alerts not evaluated: {shown(str(exc).splitlines()[0])}",
                  highlight=False, soft_wrap=True)
        return
    _print_alerts(r.report)
    _post(webhook, r)


@app.command("watch")
def watch_command(
    folder: Annotated[Path, typer.Argument(help="The folder where new files land (events-2026-11-02.csv, "
                                           "transactions_week45.parquet…: the name starts with the table).")],
    store: StoreOpt = Path("afterclick.duckdb"),
    rules_file: RulesOpt = None,
    kpi: KpiOpt = None,
    annotations: AnnotationsOpt = None,
    webhook: WebhookOpt = None,
    mapping: Annotated[Path | None, typer.Option(
        help="A TOML mapping of your column and event names (see docs/mapping.md); file names are the watch's.")] = None,
    interval: Annotated[float, typer.Option(help="Seconds between two looks at the folder.", min=0.1)] = 10.0,
    grain: GrainOpt = Grain.week,
) -> None:
    """Ingest each new file in FOLDER once, as it lands, then evaluate the alert rules.

    A file is ingested when it has stopped changing between two looks (hidden files and .tmp/.part
    files wait), with the same accounting and quarantine as `afterclick ingest`; a file identical
    to one ingested before adds nothing. After each ingest the alert rules are evaluated and the
    alerts printed (and posted with --webhook). Ctrl-C stops watching once the file under way is
    in (a second Ctrl-C stops at once and rolls that file back); the store keeps every file ingested.

    Example: afterclick watch drop/ --store brand.duckdb --rules alerts.toml --interval 60
    """
    from afterclick.cli.common import _on_ctrl_c
    from afterclick.ingest import MappingError
    from afterclick.ingest.mapping import load_mapping
    from afterclick.monitor.watch import FolderWatch

    if not folder.is_dir():
        raise fail(f"{folder}: no such folder to watch", code=2)
    chosen, rules = _chosen(kpi, _rule_set(rules_file))
    notes = _annotations(annotations, store)
    try:
        loaded_mapping = load_mapping(mapping)
    except MappingError as exc:
        raise fail(str(exc).splitlines()[0], code=2) from None
    params = {"grain": grain.value, "start": None, "end": None}
    watcher = FolderWatch(folder)
    stop = _Stop()
    before = _on_ctrl_c(stop)
    _line(f"watching {shown(folder)} every {interval:g} s for new files; Ctrl-C stops")
    count = 0
    try:
        while not stop.asked:
            fresh, unknown = watcher.ready()
            for p in unknown:
                _line(f"note: {shown(p.name)} feeds no table (a name starts with events, transactions, messages, "
                      "responses…); left alone")
            for p in fresh:
                if stop.asked:
                    break
                _ingest_one(store, p, loaded_mapping)
                watcher.done(p)
                count += 1
            if count and fresh and store.exists() and not stop.asked:
                _evaluate(store, params, chosen, rules, notes, webhook)
            stop.sleep(interval)
    except KeyboardInterrupt:  # a second Ctrl-C: the ingest under way rolls back
        err.print("interrupted: the file being ingested was rolled back; the store keeps the files before it",
                  highlight=False, soft_wrap=True)
        raise typer.Exit(130) from None
    except FileNotFoundError as exc:
        raise fail(str(exc)) from None
    finally:
        if before is not None:
            _on_ctrl_c(before)
    _line(f"stopped watching {shown(folder)}: {count} file(s) ingested")


class _Stop:
    """Ctrl-C handler: the first asks the watch to stop after the file under way (and its alerts),
    a second interrupts at once."""

    def __init__(self) -> None:
        self.asked = False

    def __call__(self, signum, frame) -> None:
        if self.asked:
            raise KeyboardInterrupt
        self.asked = True
        err.print("stopping after the current step (Ctrl-C again to stop at once)", highlight=False)

    def sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.asked and (left := end - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
