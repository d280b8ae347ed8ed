"""Alert rules: a checked file format, evaluated over judged series into one-sentence alerts.

A rules file is TOML with one ``[[rule]]`` table per rule::

    [[rule]]
    kpi = "retention.returning_share"     # the KPI id (required)
    checks = ["anomaly", "change_point"]  # any of: anomaly, run, change_point, above, below, change
    direction = "down"                    # up, down, worse, better or any (default any); worse
                                          # and better follow the KPI's direction
    min_magnitude = 0.03                  # optional: overrides the judge's minimum (fractions in
    relative = false                      # points, 0.03 = 3 pts; relative = true: 0.2 = 20 %)
    below = 0.30                          # needed by "below"; "above" needs above = …
    change = 0.05                         # needed by "change": a move vs the previous period
    severity = "warning"                  # info, warning or critical (default warning)
    within = 1                            # periods at the end of the series a finding must touch
    name = "30-day return dropping"       # optional; default "<kpi> <checks>"

Per-KPI judging settings (minimum magnitude, minimum n, grain) go in ``[[series]]`` tables of the
same file (:mod:`afterclick.monitor.settings`). Every problem of the file is listed at once (:class:`RulesError`). ``anomaly`` fires on STL
anomalies and on XmR values outside the limits, ``run`` on XmR detection rules and
``change_point`` on level shifts, each found by the judge with both the statistical surprise and
the minimum magnitude; a change point fires while its new level's first period lies within the
last ``within`` + ``min_size`` periods (it can only be seen once a few periods are at the new
level).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from afterclick.engine.specs import spec
from afterclick.kpis.retention import returning_share
from afterclick.monitor.changepoints import DEFAULT_MIN_SIZE
from afterclick.monitor.flags import Flag, FlagKind, Judgement, MinMagnitude
from afterclick.monitor.series import (
    format_difference,
    format_level,
    period_label,
    period_start,
)
from afterclick.monitor.settings import (
    SeriesSettings,
    flag,
    read_series_settings,
    table_head,
)
from afterclick.results import Direction


class Check(StrEnum):
    ANOMALY = "anomaly"
    RUN = "run"
    CHANGE_POINT = "change_point"
    ABOVE = "above"
    BELOW = "below"
    CHANGE = "change"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


_KINDS = {Check.ANOMALY: (FlagKind.ANOMALY, FlagKind.OUTSIDE_LIMITS), Check.RUN: (FlagKind.RUN,),
          Check.CHANGE_POINT: (FlagKind.LEVEL_SHIFT,)}
_FIELDS = {"kpi", "checks", "direction", "min_magnitude", "relative", "below", "above", "change",
           "severity", "within", "name"}


class RulesError(ValueError):
    def __init__(self, problems: list[str], source: str = "rules"):
        self.problems = tuple(problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True)
class AlertRule:
    kpi: str
    checks: tuple[Check, ...]
    name: str
    direction: str = "any"
    min_magnitude: MinMagnitude | None = None
    below: float | None = None
    above: float | None = None
    change: float | None = None
    severity: Severity = Severity.WARNING
    within: int = 1


@dataclass(frozen=True)
class Alert:
    rule: str
    kpi: str
    check: Check
    severity: Severity
    period: str
    value: float | None
    sentence: str
    flag: Flag | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "kpi": self.kpi, "check": self.check.value,
                "severity": self.severity.value, "period": self.period,
                "value": None if self.value is None or not math.isfinite(self.value) else float(self.value),
                "sentence": self.sentence, "flag": None if self.flag is None else self.flag.to_dict()}


@dataclass(frozen=True)
class AlertReport:
    """The alerts that fired, and notes on rules that could not be evaluated (no series, too short)."""

    alerts: tuple[Alert, ...]
    notes: tuple[str, ...] = ()

    @property
    def fired(self) -> bool:
        return bool(self.alerts)

    def to_dict(self) -> dict[str, Any]:
        return {"fired": self.fired, "alerts": [a.to_dict() for a in self.alerts], "notes": list(self.notes)}


def _number(raw: Mapping[str, Any], key: str, where: str, problems: list[str], *, positive: bool = False):
    v = raw.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        problems.append(f"{where}: {key} must be a number, not {v!r}")
        return None
    if positive and v < 0:
        problems.append(f"{where}: {key} must be ≥ 0, not {v!r}")
        return None
    return float(v)


def _choice(raw, key, allowed, default, where, problems):
    v = raw.get(key, default)
    if v not in allowed:
        problems.append(f"{where}: {key} {v!r} is not one of {', '.join(allowed)}")
        return default
    return v


def _rule(raw: Any, i: int, problems: list[str]) -> AlertRule | None:
    head = table_head(raw, "rule", i, _FIELDS, spec(returning_share).id, problems)
    if head is None:
        return None
    where, kpi = head
    checks_raw = raw.get("checks", ["anomaly", "change_point"])
    checks_raw = [checks_raw] if isinstance(checks_raw, str) else checks_raw
    checks = []
    for c in checks_raw if isinstance(checks_raw, list) else [checks_raw]:
        if c in Check.__members__.values():
            checks.append(Check(c))
        else:
            problems.append(f"{where}: unknown check {c!r} (checks: {', '.join(Check)})")
    values = {k: _number(raw, k, where, problems) for k in ("below", "above")}
    change = _number(raw, "change", where, problems, positive=True)
    for check, value in ((Check.BELOW, values["below"]), (Check.ABOVE, values["above"]), (Check.CHANGE, change)):
        if check in checks and value is None and check.value not in raw:
            problems.append(f"{where}: check {check.value!r} needs {check.value} = <value>")
    amount = _number(raw, "min_magnitude", where, problems, positive=True)
    relative = flag(raw, "relative", where, problems)
    within = raw.get("within", 1)
    if isinstance(within, bool) or not isinstance(within, int) or within < 1:
        problems.append(f"{where}: within must be a whole number of periods ≥ 1, not {within!r}")
        within = 1
    direction = _choice(raw, "direction", ("up", "down", "worse", "better", "any"), "any", where, problems)
    severity = _choice(raw, "severity", tuple(Severity), "warning", where, problems)
    name = raw.get("name") or f"{kpi} {'/'.join(checks_raw) if isinstance(checks_raw, list) else ''}"
    if kpi is None:
        return None
    return AlertRule(kpi, tuple(checks), str(name), direction,
                     None if amount is None else MinMagnitude(amount, relative), values["below"],
                     values["above"], change, Severity(severity), within)


@dataclass(frozen=True)
class RuleSet:
    """A rules file: the alert rules and the per-KPI judging settings (``[[series]]`` tables)."""

    rules: tuple[AlertRule, ...]
    series: Mapping[str, SeriesSettings]

    def settings_for(self, kpi: str) -> SeriesSettings:
        return self.series.get(kpi) or SeriesSettings(kpi)


def load_rule_file(source: str | Path | Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> RuleSet:
    """Read and check a rules file (TOML), a parsed mapping with ``rule`` (and ``series``) or a
    list of rule tables; :class:`RulesError` lists every problem at once."""
    label = "rules"
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = path.name
        if not path.is_file():
            raise RulesError([f"no rules file {path.name}"], label)
        try:
            with path.open("rb") as fh:
                source = tomllib.load(fh)
        except tomllib.TOMLDecodeError as exc:
            raise RulesError([f"not valid TOML: {exc}"], label) from None
    problems: list[str] = []
    series: dict[str, SeriesSettings] = {}
    if isinstance(source, Mapping):
        extra = sorted(set(source) - {"rule", "series"})
        if extra:
            problems.append(f"unknown table(s) {', '.join(extra)}: rules are [[rule]] tables, "
                            "per-KPI settings [[series]] tables")
        series = read_series_settings(source.get("series"), problems)
        source = source.get("rule", [])
    rows = list(source)
    if not rows:
        problems.append("no rules: add at least one [[rule]] table")
    rules = [r for i, raw in enumerate(rows, start=1) if (r := _rule(raw, i, problems)) is not None]
    names = [r.name for r in rules]
    problems += [f"rule name {n!r} used twice; names must be unique" for n in sorted({n for n in names if names.count(n) > 1})]
    if problems:
        raise RulesError(problems, label)
    return RuleSet(tuple(rules), series)


def load_rules(source: str | Path | Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> tuple[AlertRule, ...]:
    """The alert rules of a rules file (see :func:`load_rule_file`)."""
    return load_rule_file(source).rules


def _direction_ok(rule: AlertRule, diff: float, j: Judgement) -> bool:
    wanted = rule.direction
    if wanted in ("worse", "better"):
        if j.direction is Direction.NEUTRAL:
            return False
        higher_is_good = j.direction is Direction.HIGHER
        wanted = "up" if (wanted == "better") == higher_is_good else "down"
    return wanted == "any" or (diff > 0 if wanted == "up" else diff < 0)


def _flag_alerts(rule: AlertRule, j: Judgement) -> list[Alert]:
    periods = list(j.frame["period"])
    out = []
    for check in (c for c in rule.checks if c in _KINDS):
        for f in j.flags:
            if f.kind not in _KINDS[check] or not _direction_ok(rule, f.difference, j):
                continue
            window = rule.within + (DEFAULT_MIN_SIZE if f.kind is FlagKind.LEVEL_SHIFT else 0)
            if periods.index(f.period) < len(periods) - window:
                continue
            if rule.min_magnitude is not None and not rule.min_magnitude.passes(f.difference, f.expected):
                continue
            out.append(Alert(rule.name, j.kpi, check, rule.severity, f.period.date().isoformat(),
                             f.value, f.sentence, f))
    return out


def _last_two(j: Judgement):
    frame = j.frame[np.isfinite(j.frame["value"].to_numpy(dtype=float))]
    rows = list(frame[["period", "value"]].itertuples(index=False))
    return (rows[-1] if rows else None), (rows[-2] if len(rows) > 1 else None)


def _threshold_alerts(rule: AlertRule, j: Judgement) -> list[Alert]:
    last, prev = _last_two(j)
    if last is None:
        return []
    when = period_label(last.period, j.grain)
    head = f"{j.name} in {when}: {format_level(last.value, j.unit)}"
    out = []

    def fire(check: Check, text: str) -> None:
        out.append(Alert(rule.name, j.kpi, check, rule.severity, last.period.date().isoformat(),
                         float(last.value), f"{head}, {text}."))

    if Check.BELOW in rule.checks and last.value < rule.below:
        fire(Check.BELOW, f"below the alert level {format_level(rule.below, j.unit)}")
    if Check.ABOVE in rule.checks and last.value > rule.above:
        fire(Check.ABOVE, f"above the alert level {format_level(rule.above, j.unit)}")
    if Check.CHANGE in rule.checks and prev is not None:
        diff = last.value - prev.value
        gate = MinMagnitude(rule.change, rule.min_magnitude.relative if rule.min_magnitude else False)
        adjacent = period_start(prev.period, j.grain, 1) == last.period
        if adjacent and _direction_ok(rule, diff, j) and diff != 0 and gate.passes(diff, prev.value):
            rel = diff / abs(prev.value) if prev.value else None
            fire(Check.CHANGE, f"{format_difference(diff, j.unit, rel)} vs "
                               f"{period_label(prev.period, j.grain)} ({format_level(prev.value, j.unit)})")
    return out


_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


def evaluate_rules(rules: Iterable[AlertRule], judgements: Mapping[str, Judgement] | Iterable[Judgement]) -> AlertReport:
    """Alerts of every rule over the judged series (keyed by KPI id), most severe first."""
    by_kpi = dict(judgements) if isinstance(judgements, Mapping) else {j.kpi: j for j in judgements}
    alerts, notes = [], []
    for rule in rules:
        j = by_kpi.get(rule.kpi)
        if j is None:
            notes.append(f"rule {rule.name!r}: no series for KPI {rule.kpi}")
            continue
        if any(c in _KINDS for c in rule.checks):
            if j.judged:
                alerts += _flag_alerts(rule, j)
            else:
                notes.append(f"rule {rule.name!r}: {j.name} {j.reason}")
        alerts += _threshold_alerts(rule, j)
    alerts.sort(key=lambda a: (_SEVERITY_ORDER[a.severity], a.kpi, a.period))
    return AlertReport(tuple(alerts), tuple(notes))


def alerts_to_json(report: AlertReport) -> dict[str, Any]:
    """The alert report as JSON-ready dicts (for ``--format json`` and webhooks)."""
    return report.to_dict()
