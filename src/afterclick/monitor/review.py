"""Judge the series of several KPIs on a workspace and evaluate alert rules on them: what
``afterclick alerts``, ``afterclick watch`` and the report's "What changed" section share."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from afterclick.monitor.alerts import (
    AlertReport,
    AlertRule,
    RuleSet,
    evaluate_rules,
    load_rules,
)
from afterclick.monitor.annotations import Annotation, load_annotations
from afterclick.monitor.flags import Judgement
from afterclick.monitor.judge import judge
from afterclick.monitor.kpi_series import KpiHistory, kpi_history

#: Dated notes next to a store are read without being asked for: ``<store stem>.annotations.toml``
#: (or ``.csv``), else ``annotations.toml`` / ``annotations.csv`` in the store's folder.
ANNOTATION_NAMES = ("{stem}.annotations.toml", "{stem}.annotations.csv", "annotations.toml", "annotations.csv")


def default_rules(kpis: Iterable[str]) -> tuple[AlertRule, ...]:
    """Without a rules file: for each KPI, an anomaly or a level shift in the worse direction that
    touches the last period, at the judge's minimum magnitude (severity warning)."""
    return load_rules({"rule": [{"kpi": k, "checks": ["anomaly", "change_point"], "direction": "worse",
                                 "name": f"{k} worse"} for k in kpis]})


def annotations_beside(store: Path) -> Path | None:
    """The annotations file next to ``store``, if there is one."""
    store = Path(store)
    for pattern in ANNOTATION_NAMES:
        candidate = store.parent / pattern.format(stem=store.stem)
        if candidate.is_file():
            return candidate
    return None


def read_annotations(path: Path | None, store: Path | None = None) -> tuple[Annotation, ...]:
    """The notes of ``path``, or of the file beside ``store`` when no path is given (none: empty)."""
    if path is None and store is not None:
        path = annotations_beside(store)
    return () if path is None else load_annotations(path)


@dataclass(frozen=True)
class Review:
    """Judged series by KPI id, their histories, the alerts and the KPIs that had no series."""

    judgements: dict[str, Judgement]
    histories: dict[str, KpiHistory]
    report: AlertReport
    skipped: tuple[str, ...] = ()
    annotations: tuple[Annotation, ...] = field(default=())


def review(ws, kpis: Iterable[str], rules: RuleSet, annotations: Iterable[Annotation] = ()) -> Review:
    """Build, judge and alert on each KPI's series (a KPI that cannot be computed here is skipped
    with its reason)."""
    notes = tuple(annotations)
    judgements: dict[str, Judgement] = {}
    histories: dict[str, KpiHistory] = {}
    skipped: list[str] = []
    for k in kpis:
        settings = rules.settings_for(k)
        try:
            h = kpi_history(ws, k, settings.grain)
        except (ValueError, KeyError) as exc:
            skipped.append(f"{k}: no series: {exc.args[0] if exc.args else exc}")
            continue
        histories[k] = h
        j = judge(h.series, settings.judge_settings(), annotations=notes)
        if settings.min_n and h.series.n is None:
            why = (f"min_n {settings.min_n:g} does not apply: this series has no count of answers, people "
                   "or events behind each value")
            j = replace(j, notes=(*j.notes, why))
        judgements[k] = j
    return Review(judgements, histories, evaluate_rules(rules.rules, judgements), tuple(skipped), notes)
