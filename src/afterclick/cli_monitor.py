"""``afterclick alerts`` (judge KPI series, say which alert rules fired) and ``afterclick watch``
(ingest files as they land in a folder, then evaluate the rules).

Registered on the ``app`` of :mod:`afterclick.cli` when that package loads (it imports this).
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


RulesOpt = Annotated[Path | None, typer.Option(
    "--rules", "-r", help="Alert rules (TOML: \\[\\[rule]] tables, and \\[\\[series]] tables for a KPI's minimum "
                          "magnitude, minimum n and grain). Default: an anomaly or a level shift for the "
                          "worse in the last period of each KPI.")]
KpiOpt = Annotated[list[str] | None, typer.Option(
    "--kpi", "-k", help="A KPI to judge (repeat for several; 'all' for every KPI with a series, slower). "
                        "Default: the KPIs whose series come from one run each, plus those the rules name.")]
AnnotationsOpt = Annotated[Path | None, typer.Option(
    "--annotations", help="Dated notes (TOML \\[\\[note]] tables or CSV date,text[,kpi]) named in flags that "
                          "fall on or just after them. Default: annotations.toml or .csv beside the store.")]
WebhookOpt = Annotated[str | None, typer.Option(
    "--webhook", help="Also POST the alerts as JSON to this http(s) URL (only when a rule fired).")]


def _rule_set(rules_file: Path | None):
    from afterclick.monitor.alerts import RulesError, load_rule_file

    if rules_file is None:
        return None
    try:
        return load_rule_file(rules_file)
    except RulesError as exc:
        for line in str(exc).splitlines():
            err.print(f"[bold red]error:[/] {shown(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except OSError as exc:
        raise fail(f"rules file {rules_file}: cannot be read ({exc.strerror or exc})", code=2) from None


def _chosen(kpi: list[str] | None, rules):
    """The KPIs to judge and the rule set to use (defaults filled in); exits 2 on an unknown KPI."""
    from afterclick.monitor.alerts import RuleSet
    from afterclick.monitor.kpi_series import DEFAULT_KPIS, SERIES_SOURCES
    from afterclick.monitor.review import default_rules

    asked = list(dict.fromkeys(kpi or ()))
    chosen = list(SERIES_SOURCES) if asked == ["all"] else asked or list(DEFAULT_KPIS)
    if not asked and rules:
        chosen += [r.kpi for r in rules.rules if r.kpi in SERIES_SOURCES and r.kpi not in chosen]
    unknown = [k for k in chosen if k not in SERIES_SOURCES]
    if unknown:
        raise fail(f"no series is defined for {', '.join(unknown)}; KPIs with a series: "
                   f"{', '.join(SERIES_SOURCES)}", code=2)
    if rules is None:
        rules = RuleSet(default_rules(chosen), {})
    else:
        rules = RuleSet(tuple(r for r in rules.rules if r.kpi in chosen or r.kpi not in SERIES_SOURCES),
                        rules.series)
    return chosen, rules


def _annotations(path: Path | None, store: Path):
    from afterclick.monitor.annotations import AnnotationError
    from afterclick.monitor.review import read_annotations

    try:
        return read_annotations(path, store)
    except AnnotationError as exc:
        for line in str(exc).splitlines():
            err.print(f"[bold red]error:[/] {shown(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def _review_store(store: Path, params: dict, chosen, rules, notes):
    from afterclick.cli import _workspace
    from afterclick.monitor.review import review

    ws, _ = _workspace(store, params, False)
    with ws:
        return review(ws, chosen, rules, notes)


def _json_record(r) -> dict:
    return {**r.report.to_dict(), "series": [
        {**j.to_dict(), "source": r.histories[k].source, "periods": len(r.histories[k].series),
         "history_notes": list(r.histories[k].notes),
         "restated": [{"period_start": x.period_start, "period_end": x.period_end, "reported": x.reported,
                       "today": x.today} for x in r.histories[k].restatements.itertuples(index=False)]}
        for k, j in r.judgements.items()], "skipped": list(r.skipped)}


def _post(webhook: str | None, r) -> None:
    """POST the alerts (never the data) when a rule fired; a failure is one line and exit 1."""
    if not webhook or not r.report.fired:
        return
    from afterclick.monitor.webhook import WebhookError, post_alerts

    try:
        status = post_alerts(webhook, r.report.to_dict())
    except WebhookError as exc:
        err.print(f"[bold red]error:[/] {shown(str(exc))}", highlight=False, soft_wrap=True)
        return
    err.print(f"posted {len(r.report.alerts)} alert(s) to the webhook (HTTP {status})", highlight=False)


@app.command("alerts")
def alerts_command(
    store: StoreOpt = Path("afterclick.duckdb"),
    rules_file: RulesOpt = None,
    kpi: KpiOpt = None,
    format: Annotated[AlertsFormat, typer.Option("--format", "-f", help="text (terminal) or json (stdout).")] = (
        AlertsFormat.text),
    annotations: AnnotationsOpt = None,
    webhook: WebhookOpt = None,
    grain: GrainOpt = Grain.week,
    start: StartOpt = None,
    end: EndOpt = None,
) -> None:
    """Judge each KPI's series (computed from the data) and evaluate the alert rules on them.

    Exits 1 when at least one rule fired and 0 when none did, so cron or CI can run it (2: a
    problem with the rules, the notes or a KPI name). The store is only read. A series too short
    to judge says so in one line instead of guessing.

    Example: afterclick alerts --store brand.duckdb --rules alerts.toml --webhook https://hooks.example.com/x
    """
    params = _params(grain, start, end)
    chosen, rules = _chosen(kpi, _rule_set(rules_file))
    notes = _annotations(annotations, store)
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        r = _review_store(store, params, chosen, rules, notes)
    if format is AlertsFormat.json:
        from afterclick.export import _JSON_UNSAFE

        text = json.dumps(_json_record(r), indent=2, ensure_ascii=False, default=str)
        sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
    else:
        _print_text(r)
    _post(webhook, r)
    raise typer.Exit(1 if r.report.fired else 0)


def _line(text: str) -> None:
    out.print(text, highlight=False, soft_wrap=True)


def _print_alerts(report) -> None:
    if report.alerts:
        _line(f"\n[bold red]{len(report.alerts)} alert(s)[/]")
        for a in report.alerts:
            _line(f"  \\[{shown(a.severity.value)}] {shown(a.sentence)} (rule {shown(a.rule)})")
    else:
        _line("\nno alert fired")


def _print_text(r) -> None:
    for k, j in r.judgements.items():
        h = r.histories[k]
        if not j.judged:
            _line(f"[b]{shown(k)}[/b]: {shown(j.reason)}")
            continue
        _line(f"[b]{shown(k)}[/b] ({shown(h.series.grain.plural(len(h.series)))}, {shown(j.method)}): "
              + (f"{len(j.flags)} flag(s)" if j.flags else "routine variation"))
        for f in j.flags:
            _line(f"  {shown(f.sentence)}")
        for note in (*j.notes, *h.notes):
            _line(f"  note: {shown(note)}")
    for s in r.skipped:
        _line(f"note: {shown(s)}")
    _print_alerts(r.report)
    said = tuple(j.reason for j in r.judgements.values() if not j.judged and j.reason)
    for note in r.report.notes:
        if not said or not note.endswith(said):  # a too-short series was said above, once
            _line(f"note: {shown(note)}")


from afterclick.cli_watch import watch_command  # noqa: F401  (`watch` registers itself on `app`)
