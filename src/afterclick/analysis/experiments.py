"""Experiments on relationship outcomes: per-arm statistics, tests, SRM, Holm and a verdict.

``analyse(ws_or_store, experiment_id=None)`` reads the ``assignments`` table (and
``experiments`` when present), computes each arm's sufficient statistics as Ibis aggregates
(see ``afterclick.analysis.measures`` for the metric definitions), compares every variant with
the control (``control_variant``, else the first variant alphabetically) by the tests of
``afterclick.stats.experiment``, checks the sample ratio against ``planned_split`` (an equal
split when absent), corrects the p-values over metrics × variants by Holm, and writes one
verdict line per experiment with the vanity metrics beside the relationship ones.

Where a metric has a pre-assignment covariate (the same metric over the same span before
assignment: clicks, active weeks, 30-day return, 90-day revenue) the test is CUPED with θ
pooled over both arms; revenue and predicted CLV are winsorised at the pooled 99th percentile
of each experiment; the return curve gets a log-rank test beside the fixed-day shares. With
``sequential`` the intervals and p-values are always-valid confidence sequences, for teams who
look every day. The verdict line carries the guardrails: sample-ratio mismatch, pre-period
imbalance on the primary metric's covariate, and a lift that fades with exposure week.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from afterclick.analysis import experiment_extras as X
from afterclick.analysis import measures as M
from afterclick.analysis.experiment_sums import Sums, execute
from afterclick.stats.experiment import (
    NPS,
    Comparison,
    CovariateStats,
    MeanStats,
    PowerPlan,
    Proportion,
    RatioStats,
    RiskTable,
    SampleRatio,
    adjust_p_values,
    cuped_test,
    novelty_check,
    nps_test,
    plan_for,
    pooled_theta,
    pre_period_balance,
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
#: always-valid intervals: None/False (fixed horizon), True (N* = assigned so far), N*, or per
#: experiment id
Sequential = bool | float | Mapping[str, bool | float] | None


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
    Metric("return_curve", f"{M.CURVE_DAYS}-day return curve", "events"),
    Metric("ladder_step_up", "commitment-ladder step-up", "events"),
    Metric("deep_interactions", "deep interactions per visit", "events"),
    Metric("repeat_purchase_90d", "90-day repeat purchase", "transactions"),
    Metric("revenue_90d", "90-day revenue per customer", "transactions"),
    Metric("clv", "predicted 12-month CLV", "transactions"),
    Metric("nps", "NPS", "responses"),
    Metric("csat", "CSAT", "responses"),
)
LABELS = {m.id: m.label for m in METRICS}
VANITY = tuple(m.id for m in METRICS if m.vanity)
#: how the verdict shows each metric (shares in points, the rest as relative lifts)
DISPLAY = {"ctr": "relative", "clicks": "relative", "ladder_step_up": "points",
           "repeat_purchase_90d": "points", "csat": "points", "nps": "points",
           **{f"return_{w}d": "points" for w in M.RETURN_WINDOWS}}
#: metrics with a pre-assignment covariate (CUPED): the prefix of their sums in the aggregate
COVARIATE = {"clicks": "clicks", "active_weeks": "weeks", "return_30d": "ret30c",
             "revenue_90d": "rev"}

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
    #: N* of the always-valid intervals; None when read at a fixed horizon
    tuning: float | None = None

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


def parse_split(text: Any) -> dict[str, float]:
    """"A:50, B:50" → {"A": 50.0, "B": 50.0}; {} when absent or unreadable."""
    out: dict[str, float] = {}
    if not isinstance(text, str):  # absent: None, or NaN from a frame
        return out
    for part in re.split(r"[,;]", text):
        name, sep, weight = part.rpartition(":")
        try:
            w = float(weight)
        except ValueError:
            return {}
        if not sep or not name.strip() or not w > 0:
            return {}
        out[name.strip()] = w
    return out


def _stats(kind: str, row: pd.Series | None, covariate: bool = False) -> Any:
    """The sufficient statistic of one metric in one arm from the aggregate row; with
    ``covariate``, its ``CovariateStats`` for CUPED (None when it has no covariate)."""
    def g(k: str) -> float:
        v = None if row is None else row.get(k)
        return 0 if v is None or pd.isna(v) else v

    def cov(p: str) -> CovariateStats:
        return CovariateStats(int(g(f"{p}_n")), float(g(f"{p}_sum")), float(g(f"{p}_ss")),
                              float(g(f"{p}_pre_sum")), float(g(f"{p}_pre_ss")),
                              float(g(f"{p}_cross")))

    if covariate:
        return cov(COVARIATE[kind]) if kind in COVARIATE else None
    if kind in ("clicks", "active_weeks", "revenue_90d"):
        return cov(COVARIATE[kind]).post
    if kind.startswith("return_") and kind != "return_curve":
        w = kind.split("_")[1][:-1]
        return Proportion(int(g(f"ret{w}_k")), int(g(f"ret{w}_n")))
    table = {
        "ctr": lambda: RatioStats(int(g("n_all")), float(g("clicks_sum")), float(g("clicks_ss")),
                                  float(g("imps_sum")), float(g("imps_ss")), float(g("ci_cross"))),
        "deep_interactions": lambda: RatioStats(int(g("deep_n")), float(g("deep_sum")),
                                                float(g("deep_ss")), float(g("visits_sum")),
                                                float(g("visits_ss")), float(g("dv_cross"))),
        "ladder_step_up": lambda: Proportion(int(g("ladder_k")), int(g("ladder_n"))),
        "repeat_purchase_90d": lambda: Proportion(int(g("repeat_k")), int(g("value_n"))),
        "nps": lambda: NPS(int(g("promoters")), int(g("passives")), int(g("detractors"))),
        "csat": lambda: Proportion(int(g("csat_k")), int(g("csat_n"))),
    }
    return table[kind]()


def _test(kind: str, control: pd.Series, variant: pd.Series, tuning: float | None) -> Comparison:
    """CUPED where the metric has a covariate with variance (pooled θ ≠ 0), else the plain test."""
    a, b = _stats(kind, control, True), _stats(kind, variant, True)
    if a is not None and pooled_theta(a, b) != 0:
        return cuped_test(a, b, tuning=tuning)
    control, variant = _stats(kind, control), _stats(kind, variant)
    if isinstance(control, RatioStats):
        return ratio_test(control, variant, tuning=tuning)
    if isinstance(control, NPS):
        return nps_test(control, variant, tuning=tuning)
    if isinstance(control, Proportion):
        return proportion_test(control, variant, tuning=tuning)
    return welch_test(control, variant, tuning=tuning)


def _tables(ws_or_store: Any) -> dict:
    store = getattr(ws_or_store, "store", ws_or_store)
    return store.kpi_tables()[0]  # customers by key, as the workspace's KPIs and CLV read them


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


def _plan(metric: str | None, arms: dict[str, pd.Series], control: str,
          tuning: float | None) -> PowerPlan | None:
    """Power for a 5 % relative lift on the primary metric at the control arm's size, and the
    days more at the traffic seen so far (assigned per arm per day of assignment)."""
    if metric is None or metric in ("nps", "clv", "return_curve"):
        return None
    row = arms[control]
    days = max(1.0, (float(row["last_s"]) - float(row["first_s"])) / M.DAY + 1)
    return plan_for(_stats(metric, row), PLANNED_LIFT, float(row["n"]) / days, tuning=tuning)


def _correct(results: list[MetricResult]) -> list[MetricResult]:
    """Holm over every tested metric × variant, absolute and relative lifts each as a family."""
    done = [r for r in results if r.comparison is not None]
    absolute = adjust_p_values([r.comparison.absolute for r in done], CORRECTION)
    relative = adjust_p_values([r.comparison.relative for r in done], CORRECTION)
    fixed = {id(r): replace(r, comparison=replace(r.comparison, absolute=a, relative=b))
             for r, a, b in zip(done, absolute, relative, strict=True)}
    return [fixed.get(id(r), r) for r in results]


def _compare(metric: str, eid: str, control: str, v: str, rows: dict, sums: Sums,
             tuning: float | None, quantile: float) -> MetricResult:
    """One metric for one variant against the control."""
    if metric in sums.skipped:
        return MetricResult(metric, v, None, sums.skipped[metric])
    cap_words = f"winsorised at the pooled {100 * quantile:g}th percentile"
    if metric == "clv":
        a, b = sums.clv.get((eid, control), MeanStats()), sums.clv.get((eid, v), MeanStats())
        c = welch_test(a, b, tuning=tuning)
        return MetricResult(metric, v, X.named(c, f"{cap_words} ({_money(sums.clv_caps.get(eid))})"))
    if metric == "return_curve":
        a, b = sums.curves.get((eid, control), RiskTable()), sums.curves.get((eid, v), RiskTable())
        return MetricResult(metric, v, X.logrank_comparison(a, b))
    c = _test(metric, rows[control], rows[v], tuning)
    if metric == "revenue_90d":
        c = X.named(c, f"{cap_words} ({_money(sums.caps.get(eid))})")
    return MetricResult(metric, v, c)


def _money(x: float | None) -> str:
    return "no cap" if x is None or not math.isfinite(x) else f"cap {x:,.2f}"


def _guards(primary: str | None, rows: dict, control: str, v: str, tuning: float | None):
    """The pre-period balance of the primary metric's covariate (else active weeks') and the
    novelty check on the share active per exposure week."""
    balance = None
    for metric in (primary, "active_weeks"):
        if metric in COVARIATE:
            a, b = _stats(metric, rows[control], True), _stats(metric, rows[v], True)
            if (a + b).pre.variance:
                balance = pre_period_balance(a, b)
                break
    novelty = None
    if "wk0_n" in rows[control]:
        novelty = novelty_check(X.weekly_effects(rows[control], rows[v]))
    return balance, novelty


def _experiment(eid: str, arms: pd.DataFrame, design: dict, sums: Sums,
                tuning: float | None, quantile: float) -> ExperimentResult:
    rows = {str(r["variant"]): r for _, r in arms.iterrows()}
    counts = {v: int(r["n"]) for v, r in rows.items()}
    control = _control(design, list(rows))
    others = sorted(v for v in rows if v != control)
    order = [control, *others]
    srm = _srm(design, order, counts)
    if tuning is not None and tuning <= 0:
        tuning = float(sum(counts.values()))
    results = _correct([_compare(m.id, eid, control, v, rows, sums, tuning, quantile)
                        for v in others for m in METRICS])
    primary = _primary(design, sums.skipped)
    power = _plan(primary, rows, control, tuning)
    verdicts = {}
    for v in others:
        mine = {r.metric: r.comparison for r in results if r.variant == v and r.comparison}
        balance, novelty = _guards(primary, rows, control, v, tuning)
        verdicts[v] = verdict(v, mine, labels=LABELS, vanity=VANITY, display=DISPLAY, srm=srm,
                              plan=power, pre_period=balance, novelty=novelty,
                              novelty_relative=False)
    name = design.get("name")
    return ExperimentResult(eid, name if isinstance(name, str) else None, control, tuple(others),
                            {v: counts[v] for v in order}, srm, tuple(results), dict(sums.skipped),
                            verdicts, primary or DEFAULT_PRIMARY, power, tuning)


def _tuning(sequential: Sequential, eid: str) -> float | None:
    """N* for ``eid``: None (fixed horizon), 0 (the experiment's assigned total) or a number."""
    if isinstance(sequential, Mapping):
        sequential = sequential.get(eid)
    if sequential is None or sequential is False:
        return None
    if sequential is True:
        return 0.0
    if not float(sequential) > 0:
        raise ValueError(f"the sequential tuning N* for {eid!r} must be positive, not {sequential!r}")
    return float(sequential)


def analyse(ws_or_store: Any, experiment_id: str | None = None, *,
            sequential: Sequential = None, cap_quantile: float = M.CAP_QUANTILE) -> Analysis:
    """Analyse every experiment in the store (or only ``experiment_id``).

    ``ws_or_store`` is a ``Workspace`` (``afterclick.open``) or a ``Store``. ``sequential``
    switches to always-valid intervals for teams who look every day: True (N* = the customers
    assigned so far), a number (N*, the total the test is expected to reach), or a mapping
    experiment_id → either, per experiment. ``cap_quantile`` is the pooled percentile revenue
    and CLV are winsorised at. A store without assignments gives an ``Analysis`` with no
    experiments and a ``note`` saying so.
    """
    if not 0 < cap_quantile < 1:
        raise ValueError(f"cap_quantile must lie strictly between 0 and 1, not {cap_quantile!r}")
    tables = _tables(ws_or_store)
    if "assignments" not in tables:
        return Analysis((), "no experiments in this store: the assignments table is empty or absent")
    if experiment_id is not None:
        a = tables["assignments"]
        tables = {**tables, "assignments": a.filter(a.experiment_id == experiment_id)}
    skipped = {m.id: f"no {m.table} table in the store" for m in METRICS if m.table not in tables}
    sums = execute(ws_or_store, tables, skipped, cap_quantile)
    if sums.frame.empty:
        return Analysis((), f"no assignments for experiment {experiment_id!r}")
    design = _design(tables)
    out = []
    for eid, arms in sums.frame.groupby("experiment_id", sort=True):
        out.append(_experiment(str(eid), arms, design.get(str(eid), {}), sums,
                               _tuning(sequential, str(eid)), cap_quantile))
    return Analysis(tuple(out))
