"""``afterclick init`` and ``afterclick goals``: write a goals file from a template, judge one on a store.

Registered on the ``app`` of :mod:`afterclick.cli` when that module loads (its last line imports this).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
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
from afterclick.goals.templates import TEMPLATES


class TemplateName(StrEnum):
    ecommerce = "ecommerce"
    saas = "saas"
    b2b = "b2b"
    media = "media"
    community = "community"


class GoalsFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
def init(
    template: Annotated[TemplateName, typer.Option(
        "--template", "-t", help="The kind of business: ecommerce, saas, b2b, media or community.")],
    out_file: Annotated[Path, typer.Option("--out", "-o", help="Where to write the goals file.")] = Path("goals.toml"),
    force: Annotated[bool, typer.Option(help="Overwrite the file if it exists.")] = False,
) -> None:
    """Write a goals file from an industry template: its KPIs, suggested goals and benchmark rows.

    Targets come from your own data (the same period last year, changed by a share) or from a stated
    rule; edit owners, targets and deadlines, then run `afterclick goals --store S --goals FILE`.
    """
    from afterclick.goals.spec import parse_goals
    from afterclick.goals.templates import goals_text

    if out_file.exists() and not force:
        raise fail(f"{out_file} already exists; choose another --out or add --force to overwrite it")
    text = goals_text(template.value, datetime.now(UTC).date())
    goals = parse_goals(text, str(out_file))  # a template that does not validate is a bug: fail loudly
    try:
        out_file.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"cannot write {out_file}: {exc.strerror or exc}") from None
    t = TEMPLATES[template.value]
    out.print(f"wrote {shown(out_file)}: {len(goals)} goals from the {t.title} template ({len(t.kpis)} KPIs, "
              f"{len(t.benchmarks)} benchmark rows). Fill in the owners, check the targets, then run "
              f"`afterclick goals --store STORE --goals {shown(out_file)}`.", highlight=False, soft_wrap=True)


def _load(goals_file: Path, benchmarks_file: Path | None):
    from afterclick.goals import FileProblems, load_benchmarks, load_goals

    problems = []
    goals = rows = None
    try:
        goals = load_goals(goals_file)
    except FileProblems as exc:
        problems += exc.issues
    try:
        rows = load_benchmarks(benchmarks_file)
    except FileProblems as exc:
        problems += exc.issues
    if problems:
        err.print(f"[bold red]error:[/] {len(problems)} problem{'s' if len(problems) != 1 else ''}; "
                  "fix them all, then run again", highlight=False, soft_wrap=True)
        for issue in problems:
            err.print(f"  {shown(issue)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    return goals, rows


@app.command("goals")
def goals_command(
    goals_file: Annotated[Path, typer.Option("--goals", "-g", help="The goals file (TOML; see `afterclick init`).")],
    store: StoreOpt = Path("afterclick.duckdb"),
    benchmarks_file: Annotated[Path | None, typer.Option(
        "--benchmarks", help="Your own benchmark rows (CSV with the shipped columns plus source_note), "
                             "added to the shipped ones.")] = None,
    format: Annotated[GoalsFormat, typer.Option("--format", "-f", help="table (terminal) or json (stdout).")] = (
        GoalsFormat.table),
    grain: GrainOpt = Grain.week,
    start: StartOpt = None,
    end: EndOpt = None,
) -> None:
    """Judge each goal on the store: on track, at risk or off track, with the probability and the interval.

    The store is only read. Each goal's KPI is computed for the data's period; its 95 % interval is read
    as a normal distribution (see the method line). Benchmarks for the same KPIs are shown beside the
    brand's interval, compared only where the definitions match.
    """
    from afterclick.goals import compare, evaluate
    from afterclick.goals.benchmarks import for_kpi

    params = _params(grain, start, end)
    goals, rows = _load(goals_file, benchmarks_file)
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        from afterclick.cli import _workspace

        ws, _ = _workspace(store, params, False)
        with ws:
            review = evaluate(ws, goals)
    comparisons = []
    for kpi_id, result in review.results.items():
        comparisons += [compare(result, b) for b in for_kpi(rows, kpi_id)]
    if format is GoalsFormat.json:
        from afterclick.export import _JSON_UNSAFE

        rec = {**review.to_record(), "benchmarks": [c.to_record() for c in comparisons]}
        text = json.dumps(rec, indent=2, ensure_ascii=False, default=str)
        sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")
        return
    _print_review(review, comparisons)


def _print_review(review, comparisons) -> None:
    for a in review.attainments:
        g = a.goal
        out.print(f"[b]{shown(g.id)}[/b] ({shown(g.kpi)}, {g.horizon.value}-term, owner {shown(g.owner)}, "
                  f"for {shown(g.objective)}): {shown(a.sentence)}", highlight=False, soft_wrap=True)
        if a.band is not None:
            probs = ", ".join(f"{k} {v * 100:.0f} %" for k, v in a.band_probabilities.items())
            out.print(f"  threshold band: {a.band}" + (f" (probability of at least: {probs})" if probs else ""),
                      highlight=False, soft_wrap=True)
        for note in a.notes:
            out.print(f"  note: {shown(note)}", highlight=False, soft_wrap=True)
    methods = sorted({a.method for a in review.attainments if a.method != "none"})
    for m in methods:
        out.print(f"method: {shown(m)}", highlight=False, soft_wrap=True)
    for t in review.tensions:
        out.print(f"[bold yellow]{shown(t)}[/]", highlight=False, soft_wrap=True)
    if comparisons:
        out.print("\n[b]Benchmarks[/b] (published figures, compared only where the definitions match; "
                  "--format json gives every field)", highlight=False, soft_wrap=True)
    shown_kpi = None
    for c in comparisons:
        if c.kpi != shown_kpi:
            shown_kpi = c.kpi
            out.print(f"{shown(c.kpi)}: yours {shown(c.yours)}", highlight=False, soft_wrap=True)
        mark = "" if c.like_for_like else "[yellow]caveat[/] "
        out.print(f"  {mark}{shown(c.benchmark.id)}: {shown(c.theirs)}: {shown(c.verdict)} "
                  f"({shown(c.benchmark.url)}, retrieved {c.benchmark.retrieved})", highlight=False, soft_wrap=True)
