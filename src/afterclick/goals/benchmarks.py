"""Cited benchmarks: published figures with their definitions, compared only like for like.

The shipped file (``benchmarks.csv`` beside this module) holds one row per published figure:
metric, the KPI it compares with (if any), value, statistic (mean, median, lower_quartile,
upper_quartile), scale, population, region, period, source, URL, retrieval date, the definition
it uses and a ``definition_key``. A comparison with a KPI is made only when the row's key equals
the KPI's declared key (:data:`KPI_DEFINITION_KEYS`, read from ``kpi_definitions.toml``); otherwise
both are shown side by side with a visible caveat. The brand's interval is always given beside the
benchmark.

Users add their own rows (competitor figures they collected) in their own CSV with the same
columns plus ``source_note``; it is validated the same way and merged (:func:`load_benchmarks`).
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from afterclick.core.format import format_value
from afterclick.goals._files import FileProblems, Issue, as_date
from afterclick.kpis import REGISTRY
from afterclick.results import Direction, KPIResult, Unit

SHIPPED = Path(__file__).with_name("benchmarks.csv")
COLUMNS = ("id", "metric", "kpi", "value", "statistic", "scale", "population", "region", "period", "source",
           "url", "retrieved", "definition", "definition_key", "note")
REQUIRED = ("id", "metric", "value", "statistic", "scale", "population", "region", "period", "source", "url",
            "retrieved", "definition", "definition_key")
STATISTICS = ("mean", "median", "lower_quartile", "upper_quartile")
#: percent: 0-100 % (a fraction x 100); nps_points: -100..100; index_0_100: a 0-100 index
#: that is not a percentage (ACSI); fraction: 0..1; ratio: a plain number.
SCALES = ("percent", "fraction", "nps_points", "index_0_100", "ratio")

#: What each comparable KPI measures, as a key a benchmark row must carry to be compared with it
#: (the data file ``kpi_definitions.toml`` beside this module).
KPI_DEFINITION_KEYS: dict[str, str] = dict(
    tomllib.loads(Path(__file__).with_name("kpi_definitions.toml").read_text(encoding="utf-8"))["definition_keys"])
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class Benchmark:
    id: str
    metric: str
    kpi: str | None
    value: float
    statistic: str
    scale: str
    population: str
    region: str
    period: str
    source: str
    url: str
    retrieved: date
    definition: str
    definition_key: str
    note: str = ""
    source_note: str = ""
    origin: str = "shipped"
    line: int | None = None

    def value_in(self, unit: Unit) -> float | None:
        """The figure on the KPI's scale (45 % -> 0.45 for a fraction KPI); None when no conversion holds."""
        if unit is Unit.FRACTION:
            return self.value / 100 if self.scale == "percent" else self.value if self.scale == "fraction" else None
        if unit is Unit.SCORE and self.scale == "nps_points":
            return self.value
        return self.value if self.scale == "ratio" else None

    def to_record(self) -> dict[str, Any]:
        rec = {c: getattr(self, c) for c in COLUMNS}
        rec.update(retrieved=self.retrieved.isoformat(), source_note=self.source_note, origin=self.origin)
        return rec


def load_benchmarks(user_file: str | Path | None = None, *, today: date | None = None) -> list[Benchmark]:
    """The shipped rows, then the user's (validated the same way, each needing a ``source_note``).

    Raises :class:`FileProblems` listing every problem of either file at once.
    """
    rows, issues = validate_benchmarks(SHIPPED.read_text(encoding="utf-8"), "benchmarks.csv (shipped)",
                                       origin="shipped", today=today)
    if user_file is not None:
        path = Path(user_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (FileNotFoundError, UnicodeDecodeError) as exc:
            raise FileProblems([Issue(str(path), None, "", f"cannot read: {type(exc).__name__}")]) from None
        mine, more = validate_benchmarks(text, str(path), origin="user", today=today, taken={r.id for r in rows})
        rows, issues = rows + mine, issues + more
    if issues:
        raise FileProblems(issues)
    return rows


def validate_benchmarks(text: str, source: str, *, origin: str = "user", today: date | None = None,
                        taken: set[str] | None = None) -> tuple[list[Benchmark], list[Issue]]:
    """Every valid row and every problem of a benchmark CSV (rows from a user need ``source_note``)."""
    today = today or datetime.now(UTC).date()
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    issues = [Issue(source, 1, "header", f"missing column {c!r}") for c in COLUMNS if c not in header]
    if origin == "user" and "source_note" not in header:
        issues.append(Issue(source, 1, "header", "missing column 'source_note': say where each figure of yours "
                                                 "comes from (who published it, or how you collected it)"))
    extra = [c for c in header if c not in (*COLUMNS, "source_note")]
    issues += [Issue(source, 1, "header", f"unknown column {c!r}") for c in extra]
    if issues:
        return [], issues
    seen: dict[str, int] = {} if taken is None else {t: 0 for t in taken}
    rows: list[Benchmark] = []
    line = 1
    for raw in reader:
        start, line = line + 1, reader.line_num
        problems = _row_problems(raw, origin, today)
        rid = (raw.get("id") or "").strip()
        if rid in seen:
            where = "the shipped benchmarks" if seen[rid] == 0 else f"line {seen[rid]}"
            problems.append(f"id {rid!r} is already used by {where}; choose another id")
        elif rid:
            seen[rid] = start
        label = f"benchmark {rid!r}" if rid else "benchmark"
        issues += [Issue(source, start, label, p) for p in problems]
        if not problems:
            rows.append(_row(raw, origin, start))
    return rows, issues


def _row_problems(raw: dict[str, Any], origin: str, today: date) -> list[str]:
    out = []
    if None in raw:
        out.append("more cells than columns (a comma inside a cell needs the cell in double quotes)")
    get = lambda k: (raw.get(k) or "").strip()
    for c in REQUIRED:
        if not get(c):
            out.append(f"{c} is empty: every benchmark needs it")
    if get("id") and not _ID.match(get("id")):
        out.append(f"id {get('id')!r}: use lower-case letters, digits, '.', '_' and '-'")
    if get("kpi") and get("kpi") not in REGISTRY:
        out.append(f"kpi {get('kpi')!r} is not a KPI id (`afterclick kpis --list`); leave it empty when none compares")
    if get("value"):
        try:
            float(get("value"))
        except ValueError:
            out.append(f"value {get('value')!r} is not a number (write 22.71, not 22.71%)")
    if get("statistic") and get("statistic") not in STATISTICS:
        out.append(f"statistic {get('statistic')!r}: use one of {', '.join(STATISTICS)}")
    if get("scale") and get("scale") not in SCALES:
        out.append(f"scale {get('scale')!r}: use one of {', '.join(SCALES)}")
    if get("url") and not get("url").startswith(("https://", "http://")):
        out.append(f"url {get('url')!r} must start with https:// or http://")
    if get("retrieved"):
        day = as_date(get("retrieved"))
        if day is None:
            out.append(f"retrieved {get('retrieved')!r} is not a date; write it as 2026-12-04")
        elif day > today:
            out.append(f"retrieved {day} is in the future")
    if origin == "user" and not get("source_note"):
        out.append("source_note is empty: say where this figure comes from")
    return out


def _row(raw: dict[str, Any], origin: str, line: int) -> Benchmark:
    get = lambda k: (raw.get(k) or "").strip()
    return Benchmark(id=get("id"), metric=get("metric"), kpi=get("kpi") or None, value=float(get("value")),
                     statistic=get("statistic"), scale=get("scale"), population=get("population"),
                     region=get("region"), period=get("period"), source=get("source"), url=get("url"),
                     retrieved=as_date(get("retrieved")), definition=get("definition"),
                     definition_key=get("definition_key"), note=get("note"), source_note=get("source_note"),
                     origin=origin, line=line)


@dataclass(frozen=True)
class Comparison:
    """A KPI beside one benchmark: like for like or not, and what that says, in words."""

    benchmark: Benchmark
    kpi: str
    value: float | None
    ci: tuple[float, float] | None
    like_for_like: bool
    position: str | None  # better, worse, within (the benchmark inside the brand's interval), level
    sentence: str
    caveat: str | None
    yours: str = ""  # the brand's value and interval, in words
    theirs: str = ""  # the figure, its statistic, source and period
    verdict: str = ""  # where the brand stands, or the caveat

    def to_record(self) -> dict[str, Any]:
        return {"benchmark": self.benchmark.to_record(), "kpi": self.kpi, "value": self.value,
                "ci": None if self.ci is None else list(self.ci), "like_for_like": self.like_for_like,
                "position": self.position, "sentence": self.sentence, "caveat": self.caveat}


def compare(result: KPIResult, bench: Benchmark) -> Comparison:
    """``result`` beside ``bench``: positioned only when the definitions match; always with the interval."""
    unit, value, ci = result.unit, result.value, result.ci
    mine = "—" if value is None else format_value(value, unit)
    if ci is not None:
        mine += f" (95 % interval {format_value(ci[0], unit)} to {format_value(ci[1], unit)})"
    else:
        mine += " (no interval)"
    theirs = f"{bench.value:g}{'%' if bench.scale == 'percent' else ''} ({bench.statistic.replace('_', ' ')}, {bench.source}, {bench.period})"
    key = KPI_DEFINITION_KEYS.get(result.id)
    converted = bench.value_in(unit)
    if key is None or key != bench.definition_key or converted is None:
        yours = (result.definition or "its own definition").split("\n\n")[0].replace("\n", " ").rstrip(".")
        caveat = (f"not like for like: the benchmark is {bench.definition.split(';')[0]}; "
                  f"{result.id} is {yours}")
        sentence = f"yours {mine} beside {theirs}; CAVEAT, {caveat}"
        return Comparison(bench, result.id, value, ci, False, None, sentence, caveat, mine, theirs, caveat)
    position, words = _position(value, ci, converted, result.direction)
    sentence = f"yours {mine} vs {theirs}: {words}"
    return Comparison(bench, result.id, value, ci, True, position, sentence, None, mine, theirs, words)


def _position(value: float | None, ci: tuple[float, float] | None, bench: float,
              direction: Direction) -> tuple[str | None, str]:
    if value is None:
        return None, "no value to compare"
    higher = direction is not Direction.LOWER
    if ci is not None and ci[0] <= bench <= ci[1]:
        return "within", "the benchmark lies inside your interval: no clear difference"
    above = value > bench if ci is None else ci[0] > bench
    if direction is Direction.NEUTRAL:
        return "level", ("above" if above else "below") + " the benchmark"
    better = above == higher
    sure = "" if ci is not None else " (on the point value: no interval)"
    return ("better" if better else "worse"), (f"{'better' if better else 'worse'} than the benchmark{sure}")


def for_kpi(rows: list[Benchmark], kpi_id: str) -> list[Benchmark]:
    return [b for b in rows if b.kpi == kpi_id]
