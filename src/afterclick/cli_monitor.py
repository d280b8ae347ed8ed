"""``afterclick alerts``: judge the series of a few KPIs on a store and say which alert rules fired.

Registered on the ``app`` of :mod:`afterclick.cli` when that module loads (its last lines import this).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from afterclick.cli import (
    EndOpt,
    Grain,
    GrainOpt,
    StartOpt,
    StoreOpt,
    _params,
    app,
    err,
    fail,
    friendly_errors,
    out,
    shown,
)


class AlertsFormat(StrEnum):
    text = "text"
    json = "json"


def default_rules(kpis):
    """Without a rules file: for each KPI, an anomaly or a level shift in the worse direction that
    touches the last period, at the judge's minimum magnitude (severity warning)."""
    from afterclick.monitor import load_rules

    return load_rules({"rule": [{"kpi": k, "checks": ["anomaly", "change_point"], "direction": "worse",
                                 "name": f"{k} worse"} for k in kpis]})


@app.command("alerts")
def alerts_command(
    store: StoreOpt = Path("afterclick.duckdb"),
    rules_file: Annotated[Path | None, typer.Option(
        "--rules", "-r", help="Alert rules (TOML, one [[rule]] table per rule). Default: an anomaly or a "
                              "level shift for the worse in the last period of each KPI.")] = None,
    kpi: Annotated[list[str] | None, typer.Option(
        "--kpi", "-k", help="A KPI to judge (repeat for several). Default: the KPIs that have a series "
                            "(see afterclick.monitor.kpi_series.DEFAULT_KPIS) plus those the rules name.")] = None,
    format: Annotated[AlertsFormat, typer.Option("--format", "-f", help="text (terminal) or json (stdout).")] = (
        AlertsFormat.text),
    grain: GrainOpt = Grain.week,
    start: StartOpt = None,
    end: EndOpt = None,
) -> None:
    """Judge each KPI's series (computed from the data) and evaluate the alert rules on them.

    Exits 1 when at least one rule fired and 0 when none did, so cron or CI can run it. The store is
    only read. A series too short to judge says so in one line instead of guessing.
    """
    from afterclick.monitor import RulesError, evaluate_rules, judge, load_rules
    from afterclick.monitor.kpi_series import DEFAULT_KPIS, SERIES_SOURCES, kpi_history

    params = _params(grain, start, end)
    try:
        rules = load_rules(rules_file) if rules_file is not None else None
    except RulesError as exc:
        for line in str(exc).splitlines():
            err.print(f"[bold red]error:[/] {shown(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    chosen = list(dict.fromkeys(kpi)) if kpi else list(DEFAULT_KPIS)
    if not kpi and rules:
        chosen += [r.kpi for r in rules if r.kpi in SERIES_SOURCES and r.kpi not in chosen]
    unknown = [k for k in chosen if k not in SERIES_SOURCES]
    if unknown:
        raise fail(f"no series is defined for {', '.join(unknown)}; KPIs with a series: "
                   f"{', '.join(SERIES_SOURCES)}", code=2)
    if rules is None:
        rules = default_rules(chosen)
    else:
        rules = tuple(r for r in rules if r.kpi in chosen or r.kpi not in SERIES_SOURCES)
    judgements, histories, skipped = {}, {}, []
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        from afterclick.cli import _workspace

        ws, _ = _workspace(store, params, False)
        with ws:
            for k in chosen:
                try:
                    h = kpi_history(ws, k)
                except ValueError as exc:
                    skipped.append(f"{k}: no series: {exc}")
                    continue
                histories[k] = h
                judgements[k] = judge(h.series)
    report = evaluate_rules(rules, judgements)
    if format is AlertsFormat.json:
        from afterclick.export import _JSON_UNSAFE

        rec = {**report.to_dict(), "series": [
            {**j.to_dict(), "source": histories[k].source, "periods": len(histories[k].series),
             "history_notes": list(histories[k].notes),
             "restated": [{"period_start": r.period_start, "period_end": r.period_end, "reported": r.reported,
                           "today": r.today} for r in histories[k].restatements.itertuples(index=False)]}
            for k, j in judgements.items()], "skipped": skipped}
        text = json.dumps(rec, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
    else:
        _print_text(report, judgements, histories, skipped)
    raise typer.Exit(1 if report.fired else 0)


def _print_text(report, judgements, histories, skipped) -> None:
    def line(text: str) -> None:
        out.print(text, highlight=False, soft_wrap=True)

    for k, j in judgements.items():
        h = histories[k]
        if not j.judged:
            line(f"[b]{shown(k)}[/b]: {shown(j.reason)}")
            continue
        line(f"[b]{shown(k)}[/b] ({shown(h.series.grain.plural(len(h.series)))}, {shown(j.method)}): "
             + (f"{len(j.flags)} flag(s)" if j.flags else "routine variation"))
        for f in j.flags:
            line(f"  {shown(f.sentence)}")
        for note in (*j.notes, *h.notes):
            line(f"  note: {shown(note)}")
    for s in skipped:
        line(f"note: {shown(s)}")
    if report.alerts:
        line(f"\n[bold red]{len(report.alerts)} alert(s)[/]")
        for a in report.alerts:
            line(f"  [{shown(a.severity.value)}] {shown(a.sentence)} (rule {shown(a.rule)})")
    else:
        line("\nno alert fired")
    said = tuple(j.reason for j in judgements.values() if not j.judged and j.reason)
    for note in report.notes:
        if not note.endswith(said) if said else True:  # a too-short series was said above, once
            line(f"note: {shown(note)}")
