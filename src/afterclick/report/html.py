"""The review report: one self-contained HTML file with interactive charts, safe to e-mail.

plotly.js is inlined once at the end of the page; each chart's figure is embedded as JSON in a
``<script type="application/json">`` block whose ``<``, ``>`` and ``&`` are escaped as ``\\u003c``
etc., so no text from the data can close the script element. Everything else goes through
Jinja2 with autoescaping; free text from the data is also masked for e-mail addresses and phone
numbers unless ``mask=False``.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from afterclick.plots import PLOTS
from afterclick.plots._common import event_label
from afterclick.kpis._common import REFUND_NOTE_PREFIX
from afterclick.report import narrative
from afterclick.report.format import (
    DIRECTION_HINTS, format_ci, format_cell, format_period, format_value, format_when,
)
from afterclick.report.pii import mask_pii
from afterclick.results import Direction, Family, KPIResult, Status

#: Values shown beside a chart besides its own: the funnel calls out the clicks-to-nowhere rate.
COMPANIONS: dict[str, tuple[str, ...]] = {
    "journey.funnel": ("journey.clicks_to_nowhere_rate",),
}

#: What a chart's headline number is, where the KPI's name says what the chart shows instead.
CHIP_LABELS: dict[str, str] = {
    "campaigns.clicks_vs_commitment": "Kept 90 days on, all campaigns",
}

#: Breakdown columns whose values are event names: shown as words, as the charts show them.
EVENT_COLUMNS = frozenset({"event", "indicator"})

#: Families whose numbers are attention rather than relationship: drawn grey.
VANITY_FAMILIES = frozenset({Family.REACH})

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}

_TEMPLATES = "templates"


@dataclass(frozen=True)
class ReportMeta:
    """What the report says about its data: where it came from, which period, how much of it.

    ``period_end`` is exclusive, as in ``Params`` (a midnight end shows as the day before).
    ``row_counts`` maps a canonical table to its rows in the store. ``generated_at`` defaults to
    now and ``version`` to the installed afterclick version. ``extra`` holds any other facts to
    list under the coverage (label → value).
    """

    store: str | None = None
    period_start: Any = None
    period_end: Any = None
    row_counts: Mapping[str, int] = field(default_factory=dict)
    generated_at: datetime | None = None
    version: str | None = None
    currency: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    _ALIASES = {
        "store_path": "store", "path": "store", "start": "period_start", "end": "period_end",
        "rows": "row_counts", "counts": "row_counts", "tables": "row_counts",
    }

    @classmethod
    def coerce(cls, meta: ReportMeta | Mapping[str, Any] | None) -> ReportMeta:
        """A ``ReportMeta`` from itself, a dict (aliases such as ``start``/``end`` accepted) or None."""
        if meta is None:
            return cls()
        if isinstance(meta, ReportMeta):
            return meta
        if not isinstance(meta, Mapping):
            raise TypeError(f"meta must be a ReportMeta or a dict, not {type(meta).__name__}")
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        extra = dict(meta.get("extra") or {})
        for key, value in meta.items():
            if key == "extra":
                continue
            name = cls._ALIASES.get(key, key)
            if name in known:
                kwargs[name] = value
            else:
                extra[key] = value
        return cls(**kwargs, extra=extra)


def render_report(
    results: Iterable[KPIResult],
    *,
    title: str,
    meta: ReportMeta | Mapping[str, Any] | None = None,
    mask: bool = True,
    max_rows: int = 50,
    sections: Iterable[Any] = (),
) -> str:
    """The report as one HTML document (a string).

    Parameters
    ----------
    results
        KPI results in any order; charts follow ``afterclick.plots.PLOTS``, the scorecard
        ``Family`` order (input order within a family).
    title
        The report's title, e.g. "Q2 2026 review".
    meta
        Data coverage: a ``ReportMeta`` or a dict of its fields.
    mask
        Replace e-mail addresses and phone numbers in data text (names, rows, reasons).
    max_rows
        Breakdown tables show at most this many rows.
    sections
        ``afterclick.report.sections.Section`` objects (what changed, experiments, goals…):
        ``first`` ones right after the headline chart, the others after the KPI charts.
    """
    meta = ReportMeta.coerce(meta)
    extra = [_section_view(s, i, meta, max_rows, mask) for i, s in enumerate(sections)]
    results = [_masked(r) if mask else r for r in results]
    by_id: dict[str, KPIResult] = {}
    for r in results:
        if r.id in by_id:
            warnings.warn(f"KPI {r.id} was given twice; the report shows the first", stacklevel=2)
        by_id.setdefault(r.id, r)
    sentences = narrative.sentences(by_id.values())

    charts = []
    for n, (kpi_id, plot_fn) in enumerate(PLOTS.items()):
        if kpi_id in by_id:
            charts.append(_chart_view(by_id[kpi_id], plot_fn, n, by_id, sentences, meta, max_rows))
    charted = {c["kpi"]["id"] for c in charts}
    # charts sit in one section per family, families in Family order, PLOTS order within
    sections = []
    for family in Family:
        members = [c for c in charts if c["kpi"]["family"] == family.value]
        if members:
            sections.append({"family": family.value, "title": family.title,
                             "anchor": f"section-{family.value}", "charts": members})

    groups = []
    for family in Family:
        members = [r for r in by_id.values() if r.family is family]
        if members:
            groups.append({
                "family": family.value,
                "title": family.title,
                "anchor": f"family-{family.value}",
                "vanity": family in VANITY_FAMILIES,
                "kpis": [_kpi_view(r, meta, max_rows, with_table=r.id not in charted, charted=r.id in charted)
                         for r in members],
            })
    not_measured = [_kpi_view(r, meta, max_rows, with_table=False) for r in by_id.values() if not r.ok]
    # what the default review period left out (stray rows far from the data's bulk), said once
    left_out = list(dict.fromkeys(n for r in by_id.values() if r.period is not None for n in r.period.left_out))
    refunds = next((n for r in by_id.values() if r.family is Family.VALUE and r.ok
                    for n in r.notes if n.startswith(REFUND_NOTE_PREFIX)), None)

    context = {
        "title": title,
        "first_sections": [s for s in extra if s["first"]],
        "later_sections": [s for s in extra if not s["first"]],
        "meta": _meta_view(meta),
        "charts": charts,
        "sections": sections,
        "groups": groups,
        "not_measured": not_measured,
        "left_out": [mask_pii(n) if mask else n for n in left_out],
        "refunds": refunds,
        "counts": {
            "computed": sum(r.ok for r in by_id.values()),
            "skipped": sum(r.status is Status.SKIPPED for r in by_id.values()),
            "failed": sum(r.status is Status.FAILED for r in by_id.values()),
        },
        "masked": mask,
        "css": _asset("report.css"),
        "plotly_js": _plotly_js() if any(c["figure_json"] for c in charts)
        or any(card["figure_json"] for x in extra for card in x["cards"]) else "",
        "plotly_config": _script_json(PLOTLY_CONFIG),
    }
    return _environment().get_template("report.html").render(context)


def write_report(path: str | Path, results: Iterable[KPIResult], **kw: Any) -> Path:
    """Render the report (keywords as in ``render_report``) and write it as UTF-8; returns the path."""
    path = Path(path)
    html = render_report(results, **kw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------- views


def _chart_view(
    result: KPIResult,
    plot_fn: Any,
    n: int,
    by_id: Mapping[str, KPIResult],
    sentences: Mapping[str, str],
    meta: ReportMeta,
    max_rows: int,
) -> dict[str, Any]:
    anchor = _anchor(result.id)
    figure_json = None
    problem = None
    if result.ok and (result.rows is None or result.rows.empty):
        problem = "No rows to draw for this period."
    elif result.ok:
        try:
            figure_json = _figure_json(plot_fn(result))
        except Exception as exc:  # one broken chart must not cost the reader the whole report
            warnings.warn(f"chart for {result.id} failed: {exc}", stacklevel=2)
            problem = f"The chart could not be drawn: {exc}"
    else:
        problem = result.reason or f"This KPI was {result.status.value}."
    companions = [by_id[c] for c in COMPANIONS.get(result.id, ()) if c in by_id]
    chips = []
    if result.ok and result.value is not None:
        chips.append(_chip(result, meta))
    chips += [_chip(c, meta) for c in companions]
    return {
        "anchor": anchor,
        "figure_id": f"figure-{n}",
        "figure_json": figure_json,
        "problem": problem,
        "headline": result.id == "campaigns.clicks_vs_commitment",
        "sentence": sentences.get(result.id),
        "kpi": _kpi_view(result, meta, max_rows, with_table=True),
        "chips": chips,
        "definitions": [_kpi_view(r, meta, 0, with_table=False) for r in (result, *companions)],
    }


def _section_view(section: Any, n: int, meta: ReportMeta, max_rows: int, mask: bool) -> dict[str, Any]:
    """A report section (see ``afterclick.report.sections``) as template data, every text masked."""
    def text(t: Any) -> str:
        return mask_pii(str(t)) if mask else str(t)

    cards = []
    for i, card in enumerate(section.cards):
        figure_json = None
        problem = None
        if card.figure is not None:
            try:
                figure_json = _figure_json(card.figure)
            except Exception as exc:  # as for KPI charts: one broken chart must not cost the report
                warnings.warn(f"chart '{card.title}' in section {section.title} failed: {exc}", stacklevel=2)
                problem = f"The chart could not be drawn: {exc}"
        rows = card.table
        if mask and rows is not None and not rows.empty:
            rows = rows.copy()
            for c in rows.columns:
                if rows[c].dtype == object or pd.api.types.is_string_dtype(rows[c]):
                    rows[c] = rows[c].map(lambda v: mask_pii(v) if isinstance(v, str) else v)
        cards.append({
            "title": text(card.title),
            "eyebrow": text(card.eyebrow) if card.eyebrow else None,
            "sentences": [text(x) for x in card.sentences],
            "notes": [text(x) for x in card.notes],
            "figure_id": f"section-{n}-figure-{i}",
            "figure_json": figure_json,
            "problem": problem,
            "table": _table(rows, max_rows, meta) if max_rows > 0 else None,
        })
    return {
        "key": section.key,
        "anchor": f"section-{section.key}",
        "title": text(section.title),
        "lede": text(section.lede) if section.lede else None,
        "first": bool(section.first),
        "cards": cards,
    }


def _chip(result: KPIResult, meta: ReportMeta) -> dict[str, Any]:
    return {
        "name": result.value_label or CHIP_LABELS.get(result.id, result.name),
        "id": result.id,
        "value": format_value(result.value, result.unit, currency=meta.currency) if result.ok else "not measured",
        "summary": _plain(_summary(result.definition)),
        "loss": result.direction is Direction.LOWER,
        "vanity": _is_vanity(result),
        "ok": result.ok,
        "reason": result.reason,
        "period": _period_label(result),
    }


def _period_label(result: KPIResult) -> str | None:
    """The period the headline number covers, capitalised to stand alone under it."""
    if result.period is None:
        return None
    text = result.period.label
    return text[:1].upper() + text[1:]


def _kpi_view(result: KPIResult, meta: ReportMeta, max_rows: int, *, with_table: bool,
              charted: bool = False) -> dict[str, Any]:
    return {
        "id": result.id,
        "anchor": _anchor(result.id),
        "name": result.name,
        "family_title": result.family.title,
        "family": result.family.value,
        "value_label": result.value_label,
        "notes": [mask_pii(n) for n in result.notes],
        "status": result.status.value,
        "ok": result.ok,
        "reason": result.reason,
        "value": format_value(result.value, result.unit, currency=meta.currency),
        "has_value": result.value is not None,
        "period": _period_label(result),
        "ci": format_ci(result.ci, result.unit, currency=meta.currency),
        "direction": DIRECTION_HINTS[result.direction],
        "direction_key": result.direction.value,
        "definition": result.definition or "No definition was given for this KPI.",
        "paragraphs": [_segments(p) for p in definition_paragraphs(result.definition)]
        or [_segments("No definition was given for this KPI.")],
        "summary_segments": _segments(_summary(result.definition)),
        "summary": _plain(_summary(result.definition)),
        "vanity": _is_vanity(result),
        "charted": charted,
        "table": _table(result.rows, max_rows, meta) if with_table and max_rows > 0 else None,
    }


def _table(rows: pd.DataFrame | None, max_rows: int, meta: ReportMeta) -> dict[str, Any] | None:
    if rows is None or rows.empty:
        return None
    shown = rows.head(max_rows)
    columns = [str(c) for c in shown.columns]
    body = [
        [{"text": _cell(v, c, meta), "numeric": _is_number(v)} for c, v in zip(columns, rec)]
        for rec in shown.itertuples(index=False, name=None)
    ]
    return {"columns": [c.replace("_", " ") for c in columns], "rows": body, "total": len(rows), "shown": len(shown)}


def _cell(value: Any, column: str, meta: ReportMeta) -> str:
    if column in EVENT_COLUMNS and isinstance(value, str):
        return event_label(value)
    return format_cell(value, column, currency=meta.currency)


def _meta_view(meta: ReportMeta) -> dict[str, Any]:
    generated = meta.generated_at or datetime.now(UTC)
    return {
        "store": meta.store,
        "period": format_period(meta.period_start, meta.period_end),
        "generated": format_when(generated, with_time=True),
        "version": meta.version or _afterclick_version(),
        "row_counts": [(str(t), format_cell(n, "count")) for t, n in meta.row_counts.items()],
        "extra": [(str(k).replace("_", " "), v if isinstance(v, str) else format_cell(v))
                  for k, v in meta.extra.items()],
    }


# ------------------------------------------------------------------------------------------- helpers


def _masked(result: KPIResult) -> KPIResult:
    rows = result.rows
    if rows is not None and not rows.empty:
        text_cols = [c for c in rows.columns if rows[c].dtype == object or pd.api.types.is_string_dtype(rows[c])]
        if text_cols:
            rows = rows.copy()
            for c in text_cols:
                rows[c] = rows[c].map(lambda v: mask_pii(v) if isinstance(v, str) else v)
    return replace(result, reason=mask_pii(result.reason), rows=rows)


_LIST_ITEM = re.compile(r"^\s*([-*•]|\d+[.)])\s+")
_UNDERLINE = re.compile(r"^\s*[-=~]{3,}\s*$")


def definition_paragraphs(text: str | None) -> list[str]:
    """A docstring as paragraphs: hard-wrapped lines rejoined, list items and indented lines
    (formulas) kept on their own line, numpydoc section underlines dropped."""
    out = []
    for block in re.split(r"\n\s*\n", (text or "").strip()):
        raw = [ln.rstrip() for ln in block.splitlines() if ln.strip()]
        lines = []
        for ln in raw:
            if _UNDERLINE.match(ln):  # a numpydoc heading: "Parameters" over "----------"
                if lines and not lines[-1].endswith(":"):
                    lines[-1] += ":"
            else:
                lines.append(ln)
        merged: list[str] = []
        for ln in lines:
            keep = _LIST_ITEM.match(ln) or ln.startswith(("    ", "\t")) or ">>>" in ln
            if merged and not keep and not merged[-1].endswith(":"):
                merged[-1] += " " + ln.strip()
            else:
                merged.append(ln.strip() if not ln.startswith(("    ", "\t")) else ln.rstrip())
        if merged:
            out.append("\n".join(merged))
    return out


def _is_vanity(result: KPIResult) -> bool:
    return result.family in VANITY_FAMILIES or result.direction is Direction.NEUTRAL


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, (int, float)) or (hasattr(v, "dtype") and v.dtype.kind in "iuf")


def _summary(definition: str) -> str:
    return (definition or "").split("\n\n", 1)[0].replace("\n", " ").strip()


_LITERAL = re.compile(r"``(.+?)``|`([^`]+)`")


def _segments(text: str) -> list[dict[str, Any]]:
    """Text split into plain and code parts (RST ``literal`` / `name` in docstrings); the
    template escapes both and wraps code parts in <code>."""
    out, pos = [], 0
    for m in _LITERAL.finditer(text):
        if m.start() > pos:
            out.append({"text": text[pos:m.start()], "code": False})
        out.append({"text": m.group(1) or m.group(2), "code": True})
        pos = m.end()
    if pos < len(text):
        out.append({"text": text[pos:], "code": False})
    return out


def _plain(text: str) -> str:
    return _LITERAL.sub(lambda m: m.group(1) or m.group(2), text)


def _anchor(kpi_id: str) -> str:
    return "kpi-" + re.sub(r"[^a-z0-9]+", "-", kpi_id.lower()).strip("-")


def _script_json(obj: Any) -> str:
    return _script_safe(json.dumps(obj, ensure_ascii=False, allow_nan=False))


def _figure_json(fig: go.Figure) -> str:
    return _script_safe(fig.to_json(validate=False, pretty=False, engine="json"))


def _script_safe(text: str) -> str:
    """JSON that cannot end the ``<script>`` element it sits in, nor start an HTML comment or entity.

    ``<``, ``>`` and ``&`` only occur inside JSON strings, where ``\\u003c`` etc. mean the same
    characters; U+2028/9 are escaped for old JavaScript parsers.
    """
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


@cache
def _plotly_js() -> str:
    js = plotly.offline.get_plotlyjs()
    # The bundle holds no "</script"; keep it that way should a future build add one.
    return re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE)


@cache
def _asset(name: str) -> str:
    return resources.files("afterclick.report").joinpath(_TEMPLATES, name).read_text(encoding="utf-8")


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(lambda name: _asset(name)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _afterclick_version() -> str:
    try:
        return importlib.metadata.version("afterclick")
    except importlib.metadata.PackageNotFoundError:
        import afterclick

        return str(getattr(afterclick, "__version__", "unknown"))
