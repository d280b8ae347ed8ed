"""The Goals section, and the review when the report is a review report.

* In a review report (``ctx.options["review"]``, an ``afterclick.review.Review``): one card per
  KPI of the goals or template (this period, last period as reported then, the change, any
  restatement, each goal's attainment, each benchmark beside the brand's interval, the flags of
  the period), then the experiments that ended, the annotations, short-term wins hiding
  long-term losses, what was decided last time and how the KPIs moved since, the team's notes.
* In the normal report: when a goals file is given (``ctx.options["goals"]``) or lies beside the
  store (``goals.toml``), each goal's attainment and the benchmarks of its KPI.

Every comparison with a benchmark draws the brand's 95 % interval beside the figure; a benchmark
whose definition differs is drawn grey and says so.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from afterclick.plots._common import MUTED, TEAL, VANITY, axis, base_layout
from afterclick.report.format import format_value
from afterclick.report.sections import Card, Section, SectionContext
from afterclick.results import KPIResult, Unit

GOALS_FILE = "goals.toml"


def build(ctx: SectionContext) -> Section | None:
    review = ctx.options.get("review")
    if review is not None:
        return review_section(review)
    path = ctx.options.get("goals")
    if path is None and ctx.ws is not None:
        beside = Path(str(ctx.ws.store.location)).parent / GOALS_FILE
        path = beside if beside.is_file() else None
    return None if path is None else goals_section(ctx, Path(path))


# -- the brand's interval beside the benchmarks -----------------------------------------------------

def _scaled(v: float | None, unit: Unit) -> float | None:
    return None if v is None else v * 100 if unit is Unit.FRACTION else v


def benchmark_figure(result: KPIResult, comparisons: list) -> go.Figure | None:
    """The brand's value with its 95 % interval, and each benchmark on the same scale (grey when its
    definition differs; left out when it has no value on the KPI's scale)."""
    unit = result.unit
    drawn = [(c, c.benchmark.value_in(unit)) for c in comparisons]
    drawn = [(c, v) for c, v in drawn if v is not None]
    if not drawn or result.value is None:
        return None
    fig = go.Figure()
    v = _scaled(result.value, unit)
    err = {}
    if result.ci is not None:
        lo, hi = _scaled(result.ci[0], unit), _scaled(result.ci[1], unit)
        err = dict(error_x=dict(type="data", symmetric=False, array=[hi - v], arrayminus=[v - lo],
                                color=TEAL, thickness=2, width=8))
    fig.add_trace(go.Scatter(x=[v], y=["yours"], mode="markers", name="yours, with its 95 % interval",
                             marker=dict(color=TEAL, size=12), **err))
    for like in (True, False):
        mine = [(c, val) for c, val in drawn if c.like_for_like == like]
        if mine:
            fig.add_trace(go.Scatter(
                x=[_scaled(val, unit) for _, val in mine], y=[c.benchmark.id for c, _ in mine], mode="markers",
                name="benchmark, same definition" if like else "benchmark, another definition (caveat)",
                marker=dict(color=MUTED if like else VANITY, size=11, symbol="diamond")))
    suffix = " %" if unit is Unit.FRACTION else ""
    fig.update_layout(**base_layout(height=140 + 36 * (len(drawn) + 1),
                                    xaxis=axis(f"{result.name}{suffix}"), yaxis=axis(None, autorange="reversed")))
    return fig


def _comparison_sentences(comparisons: list) -> list[str]:
    out = []
    for c in comparisons:
        b = c.benchmark
        where = f" ({b.source}; {b.url}; retrieved {b.retrieved})"
        out.append(f"Benchmark {b.id}: {c.sentence}{where}")
    return out


# -- the normal report's goals ---------------------------------------------------------------------

def goals_section(ctx: SectionContext, path: Path) -> Section:
    from afterclick.goals import FileProblems, compare, evaluate, load_benchmarks, load_goals
    from afterclick.goals.benchmarks import for_kpi

    try:
        goals = load_goals(path)
    except FileProblems as exc:
        return Section("goals", "Goals", (Card(f"The goals file {path.name} has problems",
                                               tuple(str(i) for i in exc.issues)),))
    review = evaluate(ctx.ws, goals, {k: r for k, r in ctx.results.items()})
    rows = load_benchmarks()
    cards = []
    for kpi_id, result in review.results.items():
        atts = [a for a in review.attainments if a.goal.kpi == kpi_id]
        comps = [compare(result, b) for b in for_kpi(rows, kpi_id)] if result.ok else []
        sentences = [f"Goal {a.goal.id} ({a.goal.horizon.value}-term, owner {a.goal.owner}, for "
                     f"{a.goal.objective}): {a.sentence}" for a in atts]
        cards.append(Card(result.name, tuple(sentences + _comparison_sentences(comps)),
                          figure=benchmark_figure(result, comps), eyebrow=kpi_id,
                          notes=tuple(sorted({a.method for a in atts if a.method != "none"}))))
    if review.tensions:
        cards.insert(0, Card("Short-term wins, long-term losses", review.tensions))
    lede = f"Each goal of {path.name} judged with its KPI's interval; benchmarks compared like for like only."
    return Section("goals", "Goals", tuple(cards), lede=lede)


# -- the review ------------------------------------------------------------------------------------

def _fv(v: float | None, unit: str) -> str:
    return format_value(v, Unit(unit))


def _signed(change: float, unit: Unit) -> str:
    """A change with its sign: percentage points for shares, the KPI's own unit otherwise."""
    if unit is Unit.FRACTION:
        return f"{change * 100:+.1f} pts"
    text = format_value(change, unit)
    return text if text.startswith(("-", "+", "−")) or change == 0 else f"+{text}"


def kpi_sentences(k: Any, review: Any) -> list[str]:
    r = k.result
    unit = r.unit.value
    prev = review.period.previous()
    if not r.ok:
        return [f"Not measured this period: {r.reason or r.status.value}."]
    if r.value is None:
        return [f"No value for {review.period.words}: {r.notes[0] if r.notes else 'no data in the period'}."]
    ci = f" (95 % interval {_fv(r.ci[0], unit)} to {_fv(r.ci[1], unit)})" if r.ci else " (no interval)"
    out = [f"{review.period.words}: {_fv(r.value, unit)}{ci}."]
    change = "" if k.change is None else f"; change {_signed(k.change, r.unit)}"
    if k.before is not None:
        out.append(f"{prev.words} as reported in {review.previous.title}: {_fv(k.before.value, unit)}{change}.")
    elif k.before_today is not None and k.before_today.ok:
        out.append(f"{prev.words} was not reviewed; computed today: {_fv(k.before_today.value, unit)}{change}.")
    if k.restated:
        today = k.before_today.value if k.before_today.ok else None
        why = ("the KPI's definition changed since" if k.definition_changed
               else "the data for that period changed since (rows added or corrected)")
        out.append(f"Restated: {prev.words} was reported as {_fv(k.before.value, unit)}; today's data give "
                   f"{_fv(today, unit)} for the same period ({why}).")
    out += [f"Goal {a.goal.id} ({a.goal.horizon.value}-term, owner {a.goal.owner}): {a.sentence}"
            for a in k.attainments]
    out += [f"Flag: {f.sentence}" + (f" (after: {f.annotation})" if f.annotation else "") for f in k.flags]
    return out + _comparison_sentences(list(k.comparisons))


def summary_table(review: Any) -> pd.DataFrame:
    rows = []
    for k in review.kpis:
        r, unit = k.result, k.result.unit.value
        goal = "; ".join(f"{a.status}" + (f" ({a.probability * 100:.0f} %)" if a.probability is not None else "")
                         for a in k.attainments)
        rows.append({"KPI": r.name, "this period": _fv(r.value, unit) if r.ok else r.status.value,
                     "last period as reported": _fv(k.before.value, unit) if k.before else "not reviewed",
                     "restated": "yes" if k.restated else "", "goal": goal or "",
                     "benchmarks": f"{sum(c.like_for_like for c in k.comparisons)} like for like, "
                                   f"{sum(not c.like_for_like for c in k.comparisons)} with a caveat"
                     if k.comparisons else ""})
    return pd.DataFrame(rows)


def _decided(review: Any) -> list[Card]:
    """What the previous reviews' notes said, and how each KPI they name moved since."""
    cards = []
    now = {k.id: k for k in review.kpis}
    for past in reversed(review.history):
        if not past.notes:
            continue
        said = []
        for n in past.notes:
            line = f"{n.kpi_id + ': ' if n.kpi_id else ''}{n.text}"
            then, k = past.kpi(n.kpi_id) if n.kpi_id else None, now.get(n.kpi_id)
            if then is not None and k is not None and k.result.ok:
                line += (f" (then {_fv(then.value, then.unit)} for {past.period}; now "
                         f"{_fv(k.result.value, then.unit)} for {review.period.label})")
            said.append(line)
        cards.append(Card(f"Decided in {past.title}", tuple(said)))
    return cards[:4]


def _context_cards(review: Any) -> list[Card]:
    cards = []
    if review.experiments:
        cards.append(Card("Experiments that ended in the period", tuple(
            f"{e.experiment_id} (ended {e.ended:%d %b %Y}, from {e.end_from}): {e.result.verdict}"
            for e in review.experiments)))
    if review.annotations:
        cards.append(Card("Annotations of the period", tuple(a.label() for a in review.annotations)))
    if review.goal_review is not None and review.goal_review.tensions:
        cards.append(Card("Short-term wins, long-term losses", review.goal_review.tensions))
    return cards


def review_section(review: Any) -> Section:
    cards = [Card("This period beside the last, the goals and the benchmarks", table=summary_table(review),
                  notes=("Last period's values are those its stored review reported; a restatement is shown "
                         "where today's data give another number for it.", *review.notes_of_context))]
    for k in review.kpis:
        notes = ((k.monitor_note,) if k.monitor_note else ()) + tuple(
            sorted({a.method for a in k.attainments if a.method != "none"}))
        cards.append(Card(k.result.name, tuple(kpi_sentences(k, review)), eyebrow=k.id,
                          figure=benchmark_figure(k.result, list(k.comparisons)) if k.result.ok else None,
                          notes=notes))
    cards += _context_cards(review) + _decided(review)
    if review.notes:
        cards.append(Card("The team's notes for this review", tuple(
            f"{n.kpi_id + ': ' if n.kpi_id else ''}{n.text}" for n in review.notes)))
    s = review.stored
    kept = (f"Stored as version {s.version} of the {s.period} review on {s.created_at[:10]} (hash "
            f"{s.content_hash[:12]}); stored reviews are never changed." if s is not None else "Not stored.")
    lede = (f"{review.period.words}, on data to {(review.data_cutoff or '?')[:10]}. {kept}"
            + (f" Follows the {review.template} template." if review.template else ""))
    return Section("review", f"Review of {review.period.words}", tuple(cards), lede=lede, first=True)

