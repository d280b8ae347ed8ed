"""The review of one period: each KPI of the goals (or template) this period, beside the last period
as the stored review reported it (restatements shown), its goals, its benchmarks and the
monitoring flags of the period; the experiments that ended; the team's notes, then and now."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from afterclick.goals import Attainment, Benchmark, Comparison, GoalReview, Goals, compare, evaluate
from afterclick.goals.templates import TEMPLATES
from afterclick.kpis import REGISTRY
from afterclick.kpis.base import Params
from afterclick.results import KPIResult
from afterclick.review.context import EndedExperiment, ended_experiments, period_flags
from afterclick.review.periods import ReviewPeriod
from afterclick.review.store import KpiLine, NoteLine, ReviewLog, StoredReview, iso, now_iso
from afterclick.store import Store
from afterclick.workspace import Workspace

#: Two values are the same number when they differ by less than this (absolute + relative share),
#: as the monitor's history compares a reported value with today's.
ABS_TOLERANCE, REL_TOLERANCE = 1e-9, 1e-6


def same(a: float | None, b: float | None) -> bool:
    fa, fb = a is not None and math.isfinite(a), b is not None and math.isfinite(b)
    if not fa or not fb:
        return fa == fb
    return abs(a - b) <= ABS_TOLERANCE + REL_TOLERANCE * max(abs(a), abs(b))


def definition_hash(kpi_id: str, params: Params) -> str:
    """What a KPI's number means: its definition text, unit, direction, span and tables, and the
    parameters other than the period. Two reviews compare like for like when this is equal."""
    k = REGISTRY[kpi_id]
    knobs = {key: v for key, v in params.as_dict().items() if key not in ("start", "end")}
    text = json.dumps({"id": k.id, "definition": k.definition, "unit": k.unit.value,
                       "direction": k.direction.value, "span": str(k.span), "requires": list(k.requires),
                       "uses": list(k.uses), "params": knobs}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class KpiReview:
    """One KPI of the review, with everything it is set beside."""

    result: KPIResult
    definition_hash: str
    before: KpiLine | None  # the previous period as its stored review reported it
    before_today: KPIResult | None  # the previous period computed today
    attainments: tuple[Attainment, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    flags: tuple[Any, ...] = ()  # afterclick.monitor.Flag of the period
    monitor_note: str | None = None

    @property
    def id(self) -> str:
        return self.result.id

    @property
    def previous_value(self) -> float | None:
        """Last period's value as reported then; computed today when it was not reviewed."""
        if self.before is not None:
            return self.before.value
        return self.before_today.value if self.before_today is not None and self.before_today.ok else None

    @property
    def change(self) -> float | None:
        now, then = self.result.value, self.previous_value
        return None if now is None or then is None or not self.result.ok else now - then

    @property
    def restated(self) -> bool:
        """The stored review's value for last period differs from today's computation of it."""
        if self.before is None or self.before_today is None:
            return False
        today = self.before_today.value if self.before_today.ok else None
        return not same(self.before.value, today)

    @property
    def definition_changed(self) -> bool:
        return self.before is not None and self.before.definition_hash not in (None, self.definition_hash)


@dataclass(frozen=True)
class Review:
    period: ReviewPeriod
    kpis: tuple[KpiReview, ...]
    previous: StoredReview | None
    history: tuple[StoredReview, ...]
    notes: tuple[NoteLine, ...]
    experiments: tuple[EndedExperiment, ...]
    goal_review: GoalReview | None
    data_cutoff: str | None
    template: str | None = None
    goals_source: str | None = None
    goals_sha256: str | None = None
    annotations: tuple[Any, ...] = ()
    notes_of_context: tuple[str, ...] = ()
    stored: StoredReview | None = None

    @property
    def results(self) -> list[KPIResult]:
        return [k.result for k in self.kpis]

    @property
    def order(self) -> tuple[str, ...]:
        return tuple(k.id for k in self.kpis)

    def draft(self, version: str | None = None) -> StoredReview:
        """What is stored: every KPI line and the team's notes."""
        return StoredReview(
            review_id="", period=self.period.label, period_start=iso(self.period.start),
            period_end=iso(self.period.end), version=0, created_at=now_iso(), data_cutoff=self.data_cutoff,
            kpis=tuple(_line(k) for k in self.kpis), notes=self.notes,
            previous_review_id=None if self.previous is None else self.previous.review_id,
            template=self.template, goals_source=self.goals_source, goals_sha256=self.goals_sha256,
            afterclick_version=version)


def _line(k: KpiReview) -> KpiLine:
    r = k.result
    goals = [{key: a.to_record()[key] for key in ("goal", "status", "probability", "target", "target_now",
                                                  "deadline", "sentence")} for a in k.attainments]
    benches = [{"id": c.benchmark.id, "value": c.benchmark.value, "statistic": c.benchmark.statistic,
                "source": c.benchmark.source, "like_for_like": c.like_for_like, "position": c.position,
                "caveat": c.caveat} for c in k.comparisons]
    return KpiLine(kpi_id=r.id, name=r.name, unit=r.unit.value, direction=r.direction.value,
                   status=r.status.value, reason=r.reason, value=r.value if r.ok else None,
                   ci_low=r.ci[0] if r.ci else None, ci_high=r.ci[1] if r.ci else None,
                   kpi_period=None if r.period is None else r.period.label, definition_hash=k.definition_hash,
                   goal=json.dumps(goals, default=str) if goals else None,
                   benchmark=json.dumps(benches, default=str) if benches else None)


def review_kpis(goals: Goals | None, template: str | None) -> tuple[str, ...]:
    """The template's KPIs in its order, then the goals' KPIs it does not name."""
    ids = list(TEMPLATES[template].kpis) if template else []
    for g in goals or ():
        if g.kpi not in ids:
            ids.append(g.kpi)
    return tuple(ids)


def _benchmarks_for(rows: Sequence[Benchmark], kpi_id: str, template: str | None) -> list[Benchmark]:
    chosen = set(TEMPLATES[template].benchmarks) if template else None
    return [b for b in rows if b.kpi == kpi_id and (chosen is None or b.id in chosen or b.origin == "user")]


def data_cutoff(ws: Workspace) -> str | None:
    """The latest moment any timed table of the store holds."""
    from afterclick.kpis.base import TIMED_TABLES

    latest = [ws.tables[n].ts.max().execute() for n in TIMED_TABLES if n in ws.tables]
    latest = [t for t in latest if t is not None and t == t]
    return iso(max(latest)) if latest else None


def build_review(store: Store, period: ReviewPeriod, *, goals: Goals | None = None,
                 template: str | None = None, benchmarks: Sequence[Benchmark] = (),
                 notes: Iterable[NoteLine] = (), annotations: Sequence[Any] = (), grain: str = "week",
                 goals_sha256: str | None = None) -> Review:
    """Compute the review of ``period`` on ``store`` (nothing is written: see :func:`keep`)."""
    template = template or (goals.template if goals is not None else None)
    ids = review_kpis(goals, template)
    if not ids:
        raise ValueError("nothing to review: give a goals file (--goals) or a template (--template)")
    log = ReviewLog(store)
    history = tuple(log.reviews())
    prev_period = period.previous()
    previous = next((r for r in reversed(history) if r.period == prev_period.label), None)
    ws = Workspace(store, Params(grain=grain, start=period.start, end=period.end))
    try:
        return _build(ws, period, ids, goals, template, benchmarks, tuple(notes), annotations, grain,
                      goals_sha256, history, previous)
    finally:
        ws.refresh()  # the store stays open for the caller


def _build(ws: Workspace, period: ReviewPeriod, ids: tuple[str, ...], goals: Goals | None, template: str | None,
           benchmarks: Sequence[Benchmark], notes: tuple[NoteLine, ...], annotations: Sequence[Any], grain: str,
           goals_sha256: str | None, history: tuple[StoredReview, ...], previous: StoredReview | None) -> Review:
    prev_period = period.previous()
    results = {k: ws.kpi(k) for k in ids}
    goal_review = evaluate(ws, goals, results) if goals is not None and len(goals) else None
    flags, context_notes = period_flags(ws.store, ids, period, annotations, grain)
    lines = []
    for kpi_id in ids:
        before_today = ws.kpi(kpi_id, start=prev_period.start, end=prev_period.end)
        comps = tuple(compare(results[kpi_id], b) for b in _benchmarks_for(benchmarks, kpi_id, template))
        atts = tuple(a for a in (goal_review.attainments if goal_review else ()) if a.goal.kpi == kpi_id)
        found, note = flags.get(kpi_id, ((), None))
        lines.append(KpiReview(results[kpi_id], definition_hash(kpi_id, ws.params),
                               None if previous is None else previous.kpi(kpi_id), before_today, atts, comps,
                               tuple(found), note))
    in_period = tuple(a for a in annotations if period.start.date() <= a.date < period.end.date())
    return Review(period, tuple(lines), previous, history, notes, ended_experiments(ws, period),
                  goal_review, data_cutoff(ws), template, None if goals is None else goals.source,
                  goals_sha256, in_period, tuple(context_notes))


def keep(store: Store, review: Review, version: str | None = None) -> Review:
    """Store the review immutably as the next version of its period; returns it with ``stored`` set."""
    return replace(review, stored=ReviewLog(store).save(review.draft(version)))
