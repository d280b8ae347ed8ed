"""Monitoring: judge a KPI series (seasonality, anomalies, XmR limits, change points), explain a
move by mix and rate, attach dated notes, and evaluate alert rules.

The layer takes plain series (period start → value); :mod:`afterclick.monitor.kpi_series` builds
them from a store (:mod:`afterclick.monitor.sources` says where each KPI's comes from),
:mod:`afterclick.monitor.review` judges several and evaluates alert rules on them.
"""

# the module of the same name first: importing it later would put the module where the function is
from afterclick.monitor import kpi_series as _kpi_series_module  # noqa: F401
from afterclick.monitor.alerts import (
    Alert,
    AlertReport,
    AlertRule,
    Check,
    RulesError,
    Severity,
    alerts_to_json,
    evaluate_rules,
    load_rules,
)
from afterclick.monitor.annotations import (
    Annotation,
    AnnotationError,
    load_annotations,
    note_for,
)
from afterclick.monitor.changepoints import (
    ChangePoints,
    default_penalty,
    find_change_points,
)
from afterclick.monitor.explain import MoveExplanation, SegmentEffect, explain_move
from afterclick.monitor.flags import (
    DEFAULT_MIN_MAGNITUDE,
    Flag,
    FlagKind,
    Judgement,
    JudgeSettings,
    JudgeStatus,
    MinMagnitude,
)
from afterclick.monitor.judge import judge
from afterclick.monitor.robust import generalized_esd, robust_sigma, robust_z
from afterclick.monitor.series import Grain, KpiSeries, kpi_series
from afterclick.monitor.xmr import RunRule, XmrLimits, xmr_limits

__all__ = [
    "DEFAULT_MIN_MAGNITUDE", "Alert", "AlertReport", "AlertRule", "Annotation", "AnnotationError",
    "ChangePoints", "Check", "Flag", "FlagKind", "Grain", "JudgeSettings", "JudgeStatus", "Judgement",
    "KpiSeries", "MinMagnitude", "MoveExplanation", "RulesError", "RunRule", "SegmentEffect", "Severity",
    "XmrLimits", "alerts_to_json", "default_penalty", "evaluate_rules", "explain_move", "find_change_points",
    "generalized_esd", "judge", "kpi_series", "load_annotations", "load_rules", "note_for", "robust_sigma",
    "robust_z", "xmr_limits",
]
