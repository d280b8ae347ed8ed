"""``afterclick review``: the review report of one period, stored immutably in the store.

Registered on the ``app`` of :mod:`afterclick.cli` when that module loads (its last lines import this).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from afterclick.cli import CurrencyOpt, Grain, GrainOpt, StoreOpt, _waiting, app, err, fail, friendly_errors, out, shown
from afterclick.cli_goals import TemplateName


def _problems(lines: list[str]) -> typer.Exit:
    err.print(f"[bold red]error:[/] {len(lines)} problem{'s' if len(lines) != 1 else ''}; fix them all, then "
              "run again", highlight=False, soft_wrap=True)
    for line in lines:
        err.print(f"  {shown(line)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _inputs(store: Path, goals_file: Path | None, benchmarks_file: Path | None, notes: list[str],
            notes_file: Path | None, annotations_file: Path | None):
    """The goals, benchmarks, notes and annotations, every problem of every file listed at once."""
    from afterclick.goals import FileProblems, load_benchmarks, load_goals
    from afterclick.monitor import AnnotationError, load_annotations
    from afterclick.review import NotesError, parse_notes

    problems: list[str] = []
    goals = rows = None
    notes_ = annotations = ()
    if goals_file is None and (store.parent / "goals.toml").is_file():
        goals_file = store.parent / "goals.toml"
    if goals_file is not None:
        try:
            goals = load_goals(goals_file)
        except FileProblems as exc:
            problems += [str(i) for i in exc.issues]
    try:
        rows = load_benchmarks(benchmarks_file)
    except FileProblems as exc:
        problems += [str(i) for i in exc.issues]
    texts = list(notes)
    if notes_file is not None:
        try:
            texts.append(notes_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{notes_file}: cannot read the notes ({type(exc).__name__})")
    try:
        notes_ = parse_notes(texts, str(notes_file) if notes_file and not notes else "notes")
    except NotesError as exc:
        problems += list(exc.problems)
    if annotations_file is None:  # dated notes beside the store are read as `afterclick report` reads them
        from afterclick.monitor.review import ANNOTATION_NAMES

        found = [store.parent / n.format(stem=store.stem) for n in ANNOTATION_NAMES]
        annotations_file = next((f for f in found if f.is_file()), None)
    if annotations_file is not None:
        try:
            annotations = load_annotations(annotations_file)
        except AnnotationError as exc:
            problems += [f"{annotations_file}: {p}" for p in exc.problems]
        except OSError as exc:
            problems.append(f"{annotations_file}: cannot read the annotations ({exc.strerror or exc})")
    if problems:
        raise _problems(problems)
    parsed = None if goals_file is None else hashlib.sha256(goals_file.read_bytes()).hexdigest()
    return goals, rows, notes_, annotations, parsed


@app.command("review")
def review_command(
    period: Annotated[str, typer.Option(
        "--period", "-p", help="The period to review: a quarter (2026-Q3), a half (2026-H1), a month (2026-09) "
                               "or a year (2026).")],
    store: StoreOpt = Path("afterclick.duckdb"),
    goals_file: Annotated[Path | None, typer.Option(
        "--goals", "-g", help="The goals file (TOML; see `afterclick init`). Default: goals.toml beside the store, "
                              "if there is one.")] = None,
    template: Annotated[TemplateName | None, typer.Option(
        "--template", "-t", help="The industry template whose KPIs to review, when the goals file names none.")] = None,
    out_path: Annotated[Path, typer.Option("--out", "-o", help="Where to write the HTML review.")] = Path("review.html"),
    notes: Annotated[list[str] | None, typer.Option(
        "--notes", help="The team's notes: what was decided and why (repeatable; `kpi.id: text` ties a note "
                        "to a KPI). Kept in the store, shown by the next review.")] = None,
    notes_file: Annotated[Path | None, typer.Option(
        "--notes-file", help="A text file of notes, one per paragraph (a blank line between notes).")] = None,
    annotations_file: Annotated[Path | None, typer.Option(
        "--annotations", help="Dated notes (campaign launches, outages) that explain the flags: TOML or CSV "
                              "with date, text and optionally kpi.")] = None,
    benchmarks_file: Annotated[Path | None, typer.Option(
        "--benchmarks", help="Your own benchmark rows (CSV), added to the shipped ones.")] = None,
    save: Annotated[bool, typer.Option(
        help="Keep the review in the store (a new version each run; stored reviews are never changed). "
             "--no-save only writes the report and opens the store read-only.")] = True,
    grain: GrainOpt = Grain.week,
    currency: CurrencyOpt = None,
) -> None:
    """Write the review of one period: each KPI of the goals (or template) this period beside last
    period as its stored review reported it (restatements shown), its goals, its benchmarks and the
    monitoring flags of the period; the experiments that ended; the notes decided last time and how
    the KPIs moved since; and this review's notes, which are kept in the store for the next one.
    """
    from afterclick.review import PeriodError, parse_period

    try:
        when = parse_period(period)
    except PeriodError as exc:
        raise fail(str(exc)) from None
    goals, rows, said, annotations, sha = _inputs(store, goals_file, benchmarks_file, notes or [], notes_file,
                                                  annotations_file)
    chosen = template.value if template is not None else None
    if goals is None and chosen is None:
        raise fail("nothing to review: give a goals file (--goals, or goals.toml beside the store) or a template "
                   "(--template ecommerce, saas, b2b, media or community)")
    with friendly_errors():
        if not store.exists():
            raise fail(f"no store at {store}: run `afterclick ingest SOURCE --store {store}` first")
        done = _run(store, when, goals, chosen, rows, said, annotations, sha, grain, save, out_path, currency)
    review, path = done
    s = review.stored
    kept = f"kept as version {s.version} of the {s.period} review" if s else "not kept (--no-save)"
    restated = [k.id for k in review.kpis if k.restated]
    out.print(f"review of {when.words} written to {shown(path)}: {len(review.kpis)} KPIs, {kept}"
              + (f"; restated since the last review: {shown(', '.join(restated))}" if restated else ""),
              highlight=False, soft_wrap=True)


def _run(store, when, goals, template, rows, said, annotations, sha, grain, save, out_path, currency):
    from afterclick import __version__
    from afterclick.kpis.base import Params
    from afterclick.report import write_report
    from afterclick.report.sections import SECTIONS, SectionContext, build_sections
    from afterclick.review import build_review, keep
    from afterclick.store import Store
    from afterclick.workspace import Workspace

    with Store(store, read_only=not save, on_wait=_waiting) as st:
        review = build_review(st, when, goals=goals, template=template, benchmarks=rows, notes=said,
                              annotations=annotations, grain=grain.value, goals_sha256=sha)
        if save:
            review = keep(st, review, __version__)
        ws = Workspace(st, Params(grain=grain.value, start=when.start, end=when.end))
        try:
            results = {r.id: r for r in review.results}
            # the review carries the monitoring flags of its own KPIs: "What changed" is left to `afterclick report`
            modules = tuple(m for m in SECTIONS if not m.endswith(".changes"))
            sections = build_sections(SectionContext(ws=ws, results=results, template=review.template,
                                                     options={"review": review}), modules)
            meta = {"store": st.location, "period_start": when.start, "period_end": when.end,
                    "row_counts": st.counts(), "generated_at": datetime.now(UTC), "version": __version__,
                    "currency": currency}
            path = write_report(out_path, review.results, title=f"Review of {when.words}", meta=meta,
                                sections=sections, order=review.order)
        finally:
            ws.refresh()
    return review, path
