"""Industry templates: a bundle of KPI ids, suggested goals and benchmark rows per kind of business.

The templates are data (``templates.toml`` beside this module, shipped with the package; its
comments say what each field means). ``goals_text(template)`` writes a goals file a team then edits
(``afterclick init --template saas``). Suggested targets come from the brand's own data ("the same
period last year, +5 %") or from a business rule ("NRR at least 100 %: keep the revenue we have"),
never from an invented number; a constant taken from a benchmark names the row it comes from.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SHIPPED = Path(__file__).with_name("templates.toml")
#: The owner every suggested goal starts with, for the team to fill in.
OWNER = "TO FILL: the accountable person or team"


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    about: str
    kpis: tuple[str, ...]
    goals: tuple[dict[str, Any], ...]
    benchmarks: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


def _goal(entry: dict[str, Any]) -> dict[str, Any]:
    goal = {key: entry[key] for key in ("id", "kpi", "direction", "horizon")}
    goal |= {"owner": OWNER, "objective": entry["objective"], "target": entry["target"],
             "_comment": entry.get("comment", "")}
    if "fed_by" in entry:
        goal["fed_by"] = list(entry["fed_by"])
    return goal


def _load(path: Path = SHIPPED) -> dict[str, Template]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {name: Template(name, t["title"], t["about"], tuple(t["kpis"]), tuple(_goal(g) for g in t.get("goal", ())),
                           tuple(t.get("benchmarks", ())), tuple(t.get("notes", ())))
            for name, t in data.items()}


TEMPLATES: dict[str, Template] = _load()


def quarter_end(day: date) -> date:
    q_last_month = (day.month - 1) // 3 * 3 + 3
    nxt = date(day.year + (q_last_month == 12), q_last_month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def goals_text(name: str, today: date) -> str:
    """A goals file for template ``name``: short-term goals due at the end of the next quarter,
    long-term goals at the end of next year."""
    t = TEMPLATES[name]
    short = quarter_end(quarter_end(today) + timedelta(days=1))
    long = date(today.year + 1, 12, 31)
    lines = [f"# afterclick goals: {t.title} template ({t.about}).",
             "# Edit the owners, targets and deadlines; `afterclick goals --store S --goals THIS_FILE` judges them.",
             "# Rates are fractions (45 % = 0.45). A target is a number, a dated path",
             "#   target = { path = [{ date = 2027-01-01, value = 0.30 }, { date = 2027-03-31, value = 0.45 }] }",
             "# or the same period last year changed: { last_year = true, change = 0.05, change_is = \"relative\" }.",
             "# Optional: thresholds = { minimum = ..., good = ..., excellent = ... } (ordered with the direction);",
             "# cumulative = true with start = DATE for counts that add up (judged by run rate).",
             f"# KPIs of this template: {', '.join(t.kpis)}.",
             f"# Benchmark rows: {', '.join(t.benchmarks) or 'none yet'} (`afterclick goals` shows them).",
             "# The template orders the review report and gives its headline (its first KPI).",
             f"template = {_toml(t.name)}", ""]
    lines += [f"# Note: {n}" for n in t.notes] + ([""] if t.notes else [])
    for g in t.goals:
        lines.append("[[goal]]")
        if g["_comment"]:
            lines.append(f"# {g['_comment']}")
        deadline = short if g["horizon"] == "short" else long
        for key in ("id", "kpi", "direction", "horizon", "owner", "objective"):
            lines.append(f"{key} = {_toml(g[key])}")
        lines.append(f"deadline = {_toml(deadline)}")
        lines.append(f"target = {_toml(g['target'])}")
        if "fed_by" in g:
            lines.append(f"fed_by = {_toml(g['fed_by'])}")
        lines.append("")
    return "\n".join(lines)


def report_order(store_location: str | Path, template: str | None = None) -> tuple[str, ...]:
    """The KPI order a report follows: ``template``'s KPIs, else those of the template named by the
    goals file beside the store (``goals.toml``); empty (the default order) when there is neither."""
    if template is None:
        from afterclick.goals._files import FileProblems
        from afterclick.goals.spec import load_goals

        beside = Path(str(store_location)).parent / "goals.toml"
        if not beside.is_file():
            return ()
        try:
            template = load_goals(beside).template
        except FileProblems:  # the report's Goals section lists the problems
            return ()
    return TEMPLATES[template].kpis if template in TEMPLATES else ()
