"""Goals: what a team wants a KPI to reach, by when, who owns it and which business objective it serves.

A goals file is TOML, one ``[[goal]]`` table per goal::

    [[goal]]
    id = "nps-q1"
    kpi = "advocacy.nps"            # a KPI id (`afterclick kpis --list`)
    direction = "higher"            # higher or lower is better
    horizon = "short"               # short or long
    owner = "Head of CX"
    objective = "customer lifetime value"
    deadline = 2027-03-31
    target = 45                     # a constant, or
    # target = { path = [{ date = 2027-01-01, value = 30 }, { date = 2027-03-31, value = 45 }] }
    # target = { last_year = true, change = 0.05, change_is = "relative" }   # or "absolute"
    thresholds = { minimum = 20, good = 35, excellent = 50 }
    # cumulative = true, start = 2027-01-01, start_value = 0   (counts that add up over time)
    # fed_by = ["mql-q1"]           (long-term goals: the short-term goals that feed them)

Rates are fractions as the KPIs return them (45 % is 0.45). :func:`load_goals` lists every
problem of the file at once, each with its line.
"""

from __future__ import annotations

import difflib
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

from afterclick.engine.specs import spec
from afterclick.goals._files import (
    FileProblems,
    Issue,
    Lines,
    as_date,
    is_number,
    parse_toml,
    read_toml,
)
from afterclick.goals.model import (
    THRESHOLD_NAMES,
    ConstantTarget,
    Goal,
    Goals,
    Horizon,
    LastYearTarget,
    PathTarget,
    Target,
)
from afterclick.kpis import REGISTRY
from afterclick.kpis.b2b_accounts import nrr
from afterclick.results import Direction, Unit

__all__ = ["THRESHOLD_NAMES", "ConstantTarget", "Goal", "Goals", "Horizon", "LastYearTarget", "PathTarget",
           "Target", "load_goals", "parse_goals", "validate_goals"]

#: Fraction KPIs that can pass 100 % (net revenue retention counts expansion).
UNBOUNDED_FRACTIONS = frozenset({spec(nrr).id})


def bounded_fraction(kpi: str) -> bool:
    """True for a KPI whose value is a share between 0 and 1."""
    return REGISTRY[kpi].unit is Unit.FRACTION and kpi not in UNBOUNDED_FRACTIONS


GOAL_KEYS = ("id", "kpi", "direction", "horizon", "owner", "objective", "deadline", "target",
             "thresholds", "cumulative", "start", "start_value", "fed_by", "note")


def load_goals(path: str | Path) -> Goals:
    """Read and validate a goals file; raises :class:`FileProblems` listing every problem."""
    data, text = read_toml(path)
    return _checked(data, text, str(path))


def parse_goals(text: str, source: str = "goals.toml") -> Goals:
    """Validate goals given as TOML text (see :func:`load_goals`)."""
    return _checked(parse_toml(text, source), text, source)


def _checked(data: dict[str, Any], text: str, source: str) -> Goals:
    goals, issues = validate_goals(data, text, source)
    if issues:
        raise FileProblems(issues)
    return goals


def validate_goals(data: dict[str, Any], text: str, source: str) -> tuple[Goals, list[Issue]]:
    """Every goal that is valid, and every problem found (an empty list when there is none)."""
    lines = Lines(text, "goal")
    issues: list[Issue] = []
    for key in data:
        if key not in ("goal", "template"):
            issues.append(Issue(source, None, "", f"unknown top-level key {key!r}; goals go in [[goal]] tables"))
    template = _template(data.get("template"), source, issues)
    entries = data.get("goal", [])
    if not isinstance(entries, list) or not entries:
        issues.append(Issue(source, None, "", "no [[goal]] tables: a goals file needs at least one goal"))
        return Goals((), source, template), issues
    goals: list[Goal] = []
    for i, entry in enumerate(entries):
        checker = _GoalCheck(entry, i, lines, source)
        goal = checker.run()
        issues.extend(checker.issues)
        if goal is not None:
            goals.append(goal)
    issues.extend(_cross_checks(entries, goals, lines, source))
    return Goals(tuple(goals), source, template), issues


def _template(value: Any, source: str, issues: list[Issue]) -> str | None:
    """The industry template the file follows (its KPIs order the report), if it names one."""
    from afterclick.goals.templates import TEMPLATES

    if value is None:
        return None
    if value not in TEMPLATES:
        issues.append(Issue(source, None, "template", f"template {value!r} is not one of "
                                                      f"{', '.join(TEMPLATES)}"))
        return None
    return value


def _cross_checks(entries: list[dict], goals: list[Goal], lines: Lines, source: str) -> list[Issue]:
    """Ids unique; ``fed_by`` names short-term goals of the same file."""
    issues: list[Issue] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        gid = entry.get("id")
        if isinstance(gid, str) and gid in seen:
            issues.append(Issue(source, lines.of(i, "id"), f"goal {gid!r}",
                                f"id already used by the goal at line {lines.of(seen[gid])}; ids must be unique"))
        elif isinstance(gid, str):
            seen[gid] = i
    horizons = {e.get("id"): e.get("horizon") for e in entries if isinstance(e.get("id"), str)}
    for i, entry in enumerate(entries):
        feeders = entry.get("fed_by")
        if not isinstance(feeders, list) or entry.get("horizon") != Horizon.LONG.value:
            continue  # fed_by on a short-term goal is reported by the goal's own check
        for f in feeders:
            if not isinstance(f, str):
                continue
            if f not in horizons:
                issues.append(Issue(source, lines.of(i, "fed_by"), f"goal {entry.get('id')!r}",
                                    f"fed_by names {f!r}, which is not a goal in this file"))
            elif horizons[f] != Horizon.SHORT.value:
                issues.append(Issue(source, lines.of(i, "fed_by"), f"goal {entry.get('id')!r}",
                                    f"fed_by names {f!r}, which is not a short-term goal"))
    return issues


class _GoalCheck:
    """Checks one ``[[goal]]`` table, noting every problem; ``run`` returns the goal when valid."""

    def __init__(self, entry: Any, index: int, lines: Lines, source: str):
        self.entry = entry if isinstance(entry, dict) else {}
        self.index, self.lines, self.source = index, lines, source
        self.issues: list[Issue] = []
        gid = self.entry.get("id")
        self.where = f"goal {gid!r}" if isinstance(gid, str) and gid else f"goal #{index + 1}"

    def bad(self, key: str | None, message: str) -> None:
        self.issues.append(Issue(self.source, self.lines.of(self.index, key), self.where, message))

    def text(self, key: str) -> str | None:
        value = self.entry.get(key)
        if not isinstance(value, str) or not value.strip():
            self.bad(key, f"{key} is missing: give it as text ({_HINTS[key]})")
            return None
        return value.strip()

    def choice(self, key: str, options: tuple[str, ...]) -> str | None:
        value = self.entry.get(key)
        if value not in options:
            got = "missing" if value is None else f"{value!r}"
            self.bad(key, f"{key} is {got}; use one of {', '.join(options)}")
            return None
        return value

    def run(self) -> Goal | None:
        for key in self.entry:
            if key not in GOAL_KEYS:
                self.bad(key, f"unknown key {key!r}; a goal takes {', '.join(GOAL_KEYS)}")
        gid, owner, objective = self.text("id"), self.text("owner"), self.text("objective")
        kpi = self.kpi()
        direction = self.direction(kpi)
        horizon = self.choice("horizon", tuple(h.value for h in Horizon))
        deadline = self.date("deadline", required=not isinstance(self.entry.get("target"), dict)
                             or "path" not in self.entry["target"])
        target = self.target(kpi)
        if isinstance(target, PathTarget):
            deadline = self.path_deadline(target, deadline)
        thresholds = self.thresholds(direction, kpi)
        cumulative, start, start_value = self.cumulative(target, deadline)
        fed_by = self.fed_by(horizon)
        note = self.entry.get("note", "")
        if not isinstance(note, str):
            self.bad("note", "note must be text")
        if self.issues:
            return None
        return Goal(id=gid, kpi=kpi, direction=Direction(direction), horizon=Horizon(horizon), owner=owner,
                    objective=objective, deadline=deadline, target=target, thresholds=thresholds,
                    cumulative=cumulative, start=start, start_value=start_value, fed_by=fed_by,
                    note=note, line=self.lines.of(self.index))

    def kpi(self) -> str | None:
        kpi = self.entry.get("kpi")
        if not isinstance(kpi, str) or not kpi:
            self.bad("kpi", "kpi is missing: give a KPI id such as \"advocacy.nps\" (`afterclick kpis --list`)")
            return None
        if kpi not in REGISTRY:
            close = difflib.get_close_matches(kpi, REGISTRY.ids(), n=3, cutoff=0.6)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            self.bad("kpi", f"unknown KPI {kpi!r}{hint}; `afterclick kpis --list` shows them")
            return None
        return kpi

    def direction(self, kpi: str | None) -> str | None:
        direction = self.choice("direction", (Direction.HIGHER.value, Direction.LOWER.value))
        if direction and kpi:
            declared = REGISTRY[kpi].direction
            if declared is not Direction.NEUTRAL and declared.value != direction:
                self.bad("direction", f"direction is {direction!r} but {kpi} is a KPI where "
                                      f"{declared.value} is better; write direction = \"{declared.value}\"")
        return direction

    def date(self, key: str, required: bool = True) -> date | None:
        value = self.entry.get(key)
        if value is None:
            if required:
                self.bad(key, f"{key} is missing: give a date such as 2027-03-31")
            return None
        day = as_date(value)
        if day is None:
            self.bad(key, f"{key} {value!r} is not a date; write it as 2027-03-31")
        return day

    def number(self, value: Any, what: str, key: str, kpi: str | None) -> float | None:
        if not is_number(value):
            self.bad(key, f"{what} {value!r} is not a number")
            return None
        if kpi and bounded_fraction(kpi) and not 0 <= value <= 1:
            self.bad(key, f"{what} {value!r} is outside 0..1, but {kpi} is a rate given as a fraction: "
                          f"write {value} % as {value / 100:g}")
            return None
        return float(value)

    def target(self, kpi: str | None) -> Target | None:
        raw = self.entry.get("target")
        if raw is None:
            self.bad("target", "target is missing: a number, { path = [...] } or { last_year = true, change = ... }")
            return None
        if not isinstance(raw, dict):
            value = self.number(raw, "target", "target", kpi)
            return None if value is None else ConstantTarget(value)
        if "path" in raw:
            return self.path(raw, kpi)
        if raw.get("last_year") is True:
            return self.last_year(raw)
        self.bad("target", "target table needs path = [...] or last_year = true")
        return None

    def path(self, raw: dict, kpi: str | None) -> PathTarget | None:
        extra = set(raw) - {"path"}
        if extra:
            self.bad("target", f"a path target takes only path; remove {', '.join(sorted(extra))}")
        pts = raw["path"]
        if not isinstance(pts, list) or len(pts) < 2:
            self.bad("target", "a path needs at least two points: [{ date = ..., value = ... }, ...]")
            return None
        out = []
        for n, p in enumerate(pts, start=1):
            day = as_date(p.get("date")) if isinstance(p, dict) else None
            if day is None:
                self.bad("target", f"path point {n} needs a date such as 2027-03-31")
                continue
            value = self.number(p.get("value"), f"path point {n} value", "target", kpi)
            if value is not None:
                out.append((day, value))
        days = [d for d, _ in out]
        if len(out) == len(pts) and days != sorted(set(days)):
            self.bad("target", "path dates must be in order, each later than the one before")
            return None
        return PathTarget(tuple(out)) if len(out) == len(pts) else None

    def last_year(self, raw: dict) -> LastYearTarget | None:
        extra = set(raw) - {"last_year", "change", "change_is"}
        if extra:
            self.bad("target", f"a last-year target takes last_year, change and change_is; remove "
                               f"{', '.join(sorted(extra))}")
        change, kind = raw.get("change", 0), raw.get("change_is", "relative")
        if not is_number(change):
            self.bad("target", f"change {change!r} is not a number (0.05 = +5 % relative, or points when absolute)")
            return None
        if kind not in ("relative", "absolute"):
            self.bad("target", f"change_is is {kind!r}; use relative or absolute")
            return None
        return LastYearTarget(float(change), kind == "relative")

    def path_deadline(self, path: PathTarget, deadline: date | None) -> date:
        last = path.points[-1][0]
        if deadline is not None and deadline != last:
            self.bad("deadline", f"deadline {deadline} differs from the path's last date {last}; "
                                 "leave deadline out or make them the same")
        return last

    def thresholds(self, direction: str | None, kpi: str | None) -> dict[str, float]:
        raw = self.entry.get("thresholds")
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.bad("thresholds", "thresholds must be a table: { minimum = ..., good = ..., excellent = ... }")
            return {}
        for key in raw:
            if key not in THRESHOLD_NAMES:
                self.bad("thresholds", f"unknown threshold {key!r}; use minimum, good and excellent")
        got = {k: self.number(raw[k], f"threshold {k}", "thresholds", kpi) for k in THRESHOLD_NAMES if k in raw}
        got = {k: v for k, v in got.items() if v is not None}
        values = [got[k] for k in THRESHOLD_NAMES if k in got]
        if direction and len(values) == len(got):
            up = direction == Direction.HIGHER.value
            ordered = all((b > a) if up else (b < a) for a, b in pairwise(values))
            if not ordered:
                word = "rising" if up else "falling"
                self.bad("thresholds", f"thresholds must be {word} from minimum to good to excellent when "
                                       f"{direction} is better; got "
                                       + ", ".join(f"{k} {got[k]:g}" for k in THRESHOLD_NAMES if k in got))
        return got

    def cumulative(self, target: Target | None, deadline: date | None) -> tuple[bool, date | None, float]:
        cumulative = self.entry.get("cumulative", False)
        if not isinstance(cumulative, bool):
            self.bad("cumulative", "cumulative must be true or false")
            return False, None, 0.0
        start = self.date("start", required=cumulative)
        start_value = self.entry.get("start_value", 0)
        if not is_number(start_value):
            self.bad("start_value", f"start_value {start_value!r} is not a number")
            start_value = 0
        if not cumulative:
            if "start" in self.entry or "start_value" in self.entry:
                self.bad("start", "start and start_value are for cumulative goals; add cumulative = true")
            return False, None, 0.0
        if isinstance(target, LastYearTarget):
            self.bad("target", "a cumulative goal needs a constant or a path target, not last year's value")
        if start and deadline and start >= deadline:
            self.bad("start", f"start {start} is not before the deadline {deadline}")
        return True, start, float(start_value)

    def fed_by(self, horizon: str | None) -> tuple[str, ...]:
        raw = self.entry.get("fed_by")
        if horizon == Horizon.LONG.value and raw is None:
            self.bad(None, "a long-term goal lists the short-term goals that feed it: fed_by = [\"id\", ...] "
                           "(an empty list when none does)")
            return ()
        if raw is None:
            return ()
        if horizon == Horizon.SHORT.value:
            self.bad("fed_by", "fed_by is for long-term goals; a short-term goal is named in the fed_by of "
                               "the long-term goal it feeds")
            return ()
        if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
            self.bad("fed_by", "fed_by must be a list of goal ids: [\"mql-q1\", ...]")
            return ()
        return tuple(raw)


_HINTS = {
    "id": "a short name such as \"nps-q1\"",
    "owner": "the person or team accountable",
    "objective": "the business objective it serves, e.g. \"revenue growth\", \"customer lifetime value\"",
}
