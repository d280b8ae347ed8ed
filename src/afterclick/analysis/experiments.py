"""Experiments on relationship outcomes: per-arm statistics, tests, SRM, Holm and a verdict.

``analyse(ws_or_store, experiment_id=None)`` reads the ``assignments`` table (and
``experiments`` when present), computes each arm's sufficient statistics as Ibis aggregates
(see ``afterclick.analysis.measures`` for the metric definitions), compares every variant with
the control (``control_variant``, else the first variant alphabetically) by the tests of
``afterclick.stats.experiment``, checks the sample ratio against ``planned_split`` (an equal
split when absent), corrects the p-values over metrics × variants by Holm, and writes one
verdict line per experiment with the vanity metrics beside the relationship ones.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from afterclick.analysis import measures as M
from afterclick.stats.experiment import (
    NPS,
    Comparison,
    MeanStats,
    PowerPlan,
    Proportion,
    RatioStats,
    SampleRatio,
    adjust_p_values,
    nps_test,
    plan_for,
    proportion_test,
    ratio_test,
    srm_test,
    verdict,
    welch_test,
)

CORRECTION = "holm"
#: the relative lift the power line is about, on the primary metric
PLANNED_LIFT = 0.05
DEFAULT_PRIMARY = "return_30d"


@dataclass(frozen=True)
class Metric:
    id: str
    label: str
    table: str
    vanity: bool = False


METRICS: tuple[Metric, ...] = (
    Metric("ctr", "CTR", "events", vanity=True),
    Metric("clicks", "clicks per customer", "events", vanity=True),
    *(Metric(f"return_{w}d", f"{w}-day return", "events") for w in M.RETURN_WINDOWS),
    Metric("active_weeks", f"active weeks in the first {M.ACTIVE_WEEKS}", "events"),
    Metric("repeat_purchase_90d", "90-day repeat purchase", "transactions"),
    Metric("revenue_90d", "90-day revenue per customer", "transactions"),
    Metric("nps", "NPS", "responses"),
    Metric("csat", "CSAT", "responses"),
)
LABELS = {m.id: m.label for m in METRICS}
VANITY = tuple(m.id for m in METRICS if m.vanity)

ROW_FIELDS = ("experiment_id", "metric", "variant", "control", "n_control", "n_variant",
              "mean_control", "mean_variant", "absolute", "relative", "ci_low", "ci_high",
              "p_value", "method", "correction", "srm_p", "verdict")


@dataclass(frozen=True)
class MetricResult:
    """One metric for one variant against the control; ``comparison`` None when skipped."""

    metric: str
    variant: str
    comparison: Comparison | None
    status: str = "ok"


@dataclass(frozen=True)
class ExperimentResult:
    experiment_id: str
    name: str | None
    control: str
    variants: tuple[str, ...]
    counts: dict[str, int]
    srm: SampleRatio
    results: tuple[MetricResult, ...]
    skipped: dict[str, str]
    verdicts: dict[str, str]
    primary: str = DEFAULT_PRIMARY
    plan: PowerPlan | None = None

    @property
    def verdict(self) -> str:
        """The experiment's line: one clause per variant."""
        return " | ".join(self.verdicts[v] for v in self.variants) or "no variant to compare"

    def to_rows(self) -> list[dict[str, Any]]:
        return [_row(self, r) for r in self.results]


@dataclass(frozen=True)
class Analysis:
    experiments: tuple[ExperimentResult, ...] = field(default_factory=tuple)
    note: str | None = None

    def to_rows(self) -> list[dict[str, Any]]:
        return [row for e in self.experiments for row in e.to_rows()]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.to_rows(), columns=[*ROW_FIELDS, "p_adjusted", "status"])


def _num(x: Any) -> float | None:
    return None if x is None or (isinstance(x, float) and not math.isfinite(x)) else float(x)


def _row(e: ExperimentResult, r: MetricResult) -> dict[str, Any]:
    c = r.comparison
    a = c.absolute if c is not None else None
    return {
        "experiment_id": e.experiment_id, "metric": r.metric, "variant": r.variant,
        "control": e.control,
        "n_control": c.n_control if c else None, "n_variant": c.n_variant if c else None,
        "mean_control": _num(c.mean_control) if c else None,
        "mean_variant": _num(c.mean_variant) if c else None,
        "absolute": _num(a.estimate) if a else None,
        "relative": _num(c.relative.estimate) if c else None,
        "ci_low": _num(a.low) if a else None, "ci_high": _num(a.high) if a else None,
        "p_value": _num(a.p_value) if a else None, "method": a.method if a else None,
        "correction": a.correction if a else None, "srm_p": _num(e.srm.p_value),
        "verdict": e.verdicts.get(r.variant), "p_adjusted": _num(a.p_adjusted) if a else None,
        "status": r.status if c is None else c.status,
    }


def parse_split(text: str | None) -> dict[str, float]:
    """"A:50, B:50" → {"A": 50.0, "B": 50.0}; {} when absent or unreadable."""
    out: dict[str, float] = {}
    for part in re.split(r"[,;]", text or ""):
        name, sep, weight = part.rpartition(":")
        try:
            w = float(weight)
        except ValueError:
            return {}
        if not sep or not name.strip() or not w > 0:
            return {}
        out[name.strip()] = w
    return out


def _stats(kind: str, row: pd.Series | None) -> Any:
    """The sufficient statistic of one metric in one arm from the aggregate row."""
    g = (lambda k: 0 if row is None or pd.isna(row[k]) else row[k])
    if kind.startswith("return_"):
        w = kind.split("_")[1][:-1]
        return Proportion(int(g(f"ret{w}_k")), int(g(f"ret{w}_n")))
    table = {
        "ctr": lambda: RatioStats(int(g("n_all")), float(g("clicks_sum")), float(g("clicks_ss")),
                                  float(g("imps_sum")), float(g("imps_ss")), float(g("ci_cross"))),
        "clicks": lambda: MeanStats(int(g("n_all")), float(g("clicks_sum")), float(g("clicks_ss"))),
        "active_weeks": lambda: MeanStats(int(g("weeks_n")), float(g("weeks_sum")),
                                          float(g("weeks_ss"))),
        "repeat_purchase_90d": lambda: Proportion(int(g("repeat_k")), int(g("value_n"))),
        "revenue_90d": lambda: MeanStats(int(g("value_n")), float(g("rev_sum")), float(g("rev_ss"))),
        "nps": lambda: NPS(int(g("promoters")), int(g("passives")), int(g("detractors"))),
        "csat": lambda: Proportion(int(g("csat_k")), int(g("csat_n"))),
    }
    return table[kind]()


def _test(kind: str, control: Any, variant: Any) -> Comparison:
    if isinstance(control, RatioStats):
        return ratio_test(control, variant)
    if isinstance(control, NPS):
        return nps_test(control, variant)
    if isinstance(control, Proportion):
        return proportion_test(control, variant)
    return welch_test(control, variant)


def _tables(ws_or_store: Any) -> dict:
    store = getattr(ws_or_store, "store", ws_or_store)
    return store.tables()


def _sums(tables: dict) -> tuple[pd.DataFrame, dict[str, str]]:
    """Execute the per-arm aggregates: one frame keyed by (experiment_id, variant)."""
    skipped: dict[str, str] = {}
    frame = M.arm_counts(tables).execute()
    end = M.data_end(tables) or 0
    parts = []
    if "events" in tables:
        parts.append(M.event_sums(tables, end).execute())
    if "transactions" in tables:
        parts.append(M.order_sums(tables, end).execute())
    if "responses" in tables:
        parts.append(M.survey_sums(tables).execute())
    for m in METRICS:
        if m.table not in tables:
            skipped[m.id] = f"no {m.table} table in the store"
    for p in parts:
        frame = frame.merge(p, on=["experiment_id", "variant"], how="left")
    return frame, skipped


def _design(tables: dict) -> dict[str, dict]:
    if "experiments" not in tables:
        return {}
    d = tables["experiments"].execute()
    return {str(r["experiment_id"]): r.to_dict() for _, r in d.iterrows()}


def _control(design: dict, variants: list[str]) -> str:
    chosen = design.get("control_variant")
    return chosen if isinstance(chosen, str) and chosen in variants else min(variants)


def _srm(design: dict, order: list[str], counts: dict[str, int]) -> SampleRatio:
    split = parse_split(design.get("planned_split"))
    weights = [split[v] for v in order] if split and all(v in split for v in order) else None
    return srm_test([counts[v] for v in order], weights)


def _primary(design: dict, skipped: dict[str, str]) -> str | None:
    """The declared primary metric when it is one of ours, else 30-day return; None if skipped."""
    named = design.get("primary_metric")
    chosen = named.strip() if isinstance(named, str) and named.strip() in LABELS else DEFAULT_PRIMARY
    return None if chosen in skipped else chosen


def _plan(metric: str | None, arms: dict[str, pd.Series], control: str) -> PowerPlan | None:
    """Power for a 5 % relative lift on the primary metric at the control arm's size, and the
    days more at the traffic seen so far (assigned per arm per day of assignment)."""
    if metric is None or metric == "nps":
        return None
    row = arms[control]
    days = max(1.0, (float(row["last_s"]) - float(row["first_s"])) / M.DAY + 1)
    return plan_for(_stats(metric, row), PLANNED_LIFT, float(row["n"]) / days)


def _correct(results: list[MetricResult]) -> list[MetricResult]:
    """Holm over every tested metric × variant, absolute and relative lifts each as a family."""
    done = [r for r in results if r.comparison is not None]
    absolute = adjust_p_values([r.comparison.absolute for r in done], CORRECTION)
    relative = adjust_p_values([r.comparison.relative for r in done], CORRECTION)
    fixed = {id(r): replace(r, comparison=replace(r.comparison, absolute=a, relative=b))
             for r, a, b in zip(done, absolute, relative, strict=True)}
    return [fixed.get(id(r), r) for r in results]


def _experiment(eid: str, arms: pd.DataFrame, design: dict, skipped: dict[str, str]) -> ExperimentResult:
    rows = {str(r["variant"]): r for _, r in arms.iterrows()}
    counts = {v: int(r["n"]) for v, r in rows.items()}
    control = _control(design, list(rows))
    others = sorted(v for v in rows if v != control)
    order = [control, *others]
    srm = _srm(design, order, counts)
    results = []
    for v in others:
        for m in METRICS:
            if m.id in skipped:
                results.append(MetricResult(m.id, v, None, skipped[m.id]))
                continue
            c = _test(m.id, _stats(m.id, rows[control]), _stats(m.id, rows[v]))
            results.append(MetricResult(m.id, v, c))
    results = _correct(results)
    primary = _primary(design, skipped)
    power = _plan(primary, rows, control)
    verdicts = {}
    for v in others:
        mine = {r.metric: r.comparison for r in results if r.variant == v and r.comparison}
        verdicts[v] = verdict(v, mine, labels=LABELS, vanity=VANITY,
                              display={"ctr": "relative", "clicks": "relative"}, srm=srm,
                              plan=power)
    name = design.get("name")
    return ExperimentResult(eid, name if isinstance(name, str) else None, control, tuple(others),
                            {v: counts[v] for v in order}, srm, tuple(results), dict(skipped), verdicts,
                            primary or DEFAULT_PRIMARY, power)


def analyse(ws_or_store: Any, experiment_id: str | None = None) -> Analysis:
    """Analyse every experiment in the store (or only ``experiment_id``).

    ``ws_or_store`` is a ``Workspace`` (``afterclick.open``) or a ``Store``. A store without
    assignments gives an ``Analysis`` with no experiments and a ``note`` saying so.
    """
    tables = _tables(ws_or_store)
    if "assignments" not in tables:
        return Analysis((), "no experiments in this store: the assignments table is empty or absent")
    if experiment_id is not None:
        a = tables["assignments"]
        tables = {**tables, "assignments": a.filter(a.experiment_id == experiment_id)}
    frame, skipped = _sums(tables)
    if frame.empty:
        return Analysis((), f"no assignments for experiment {experiment_id!r}")
    design = _design(tables)
    out = []
    for eid, arms in frame.groupby("experiment_id", sort=True):
        out.append(_experiment(str(eid), arms, design.get(str(eid), {}), skipped))
    return Analysis(tuple(out))
