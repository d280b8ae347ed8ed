"""The review report: one self-contained HTML file with interactive charts, safe to e-mail.

plotly.js is inlined once at the end of the page; each chart's figure is embedded as JSON in a
``<script type="application/json">`` block whose ``<``, ``>`` and ``&`` are escaped as ``\\u003c``
etc., so no text from the data can close the script element. Everything else goes through
Jinja2 with autoescaping; free text from the data is also masked for e-mail addresses and phone
numbers unless ``mask=False``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from afterclick.core.format import (
    DIRECTION_HINTS,
    format_cell,
    format_ci,
    format_value,
)
from afterclick.kpis._common import REFUND_NOTE_PREFIX
from afterclick.plots._common import event_label
from afterclick.report import narrative
from afterclick.report.docstrings import definition_paragraphs, plain, segments, summary
from afterclick.report.embed import figure_json, plotly_js, script_json
from afterclick.report.meta import ReportMeta, meta_view
from afterclick.report.pii import mask_pii
from afterclick.results import Direction, Family, KPIResult, Status
from afterclick.views.registry import VIEWS, View, chip_label, display_name, value_label

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


def render_report(
    results: Iterable[KPIResult],
    *,
    title: str,
    meta: ReportMeta | Mapping[str, Any] | None = None,
    mask: bool = True,
    max_rows: int = 50,
    sections: Iterable[Any] = (),
    order: tuple[str, ...] = (),
) -> str:
    """The report as one HTML document (a string).

    Parameters
    ----------
    results
        KPI results in any order; charts follow ``afterclick.views.registry.VIEWS``, the scorecard
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
    for n, (spec, view) in enumerate(VIEWS.items()):
        if spec.id in by_id and view.chart is not None:
            charts.append(_chart_view(by_id[spec.id], view, n, by_id, sentences, meta, max_rows))
    if order:  # an industry template's KPI ids: its families first, its first charted KPI the headline
        from afterclick.report.ordering import follow_order

        charts = follow_order(charts, order)
    sections, groups = _family_sections(charts, bool(order)), _scorecard_groups(by_id, charts, meta, max_rows)
    not_measured = [_kpi_view(r, meta, max_rows, with_table=False) for r in by_id.values() if not r.ok]
    # what the default review period left out (stray rows far from the data's bulk), said once
    left_out = list(dict.fromkeys(n for r in by_id.values() if r.period is not None for n in r.period.left_out))
    refunds = next((n for r in by_id.values() if r.family is Family.VALUE and r.ok
                    for n in r.notes if n.startswith(REFUND_NOTE_PREFIX)), None)

    context = {
        "title": title,
        "first_sections": [s for s in extra if s["first"]],
        "later_sections": [s for s in extra if not s["first"]],
        "meta": meta_view(meta),
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
        "plotly_js": plotly_js() if any(c["figure_json"] for c in charts)
        or any(card["figure_json"] for x in extra for card in x["cards"]) else "",
        "plotly_config": script_json(PLOTLY_CONFIG),
    }
    return _environment().get_template("report.html").render(context)


def _family_sections(charts: list[dict[str, Any]], as_given: bool = False) -> list[dict[str, Any]]:
    """Charts in one section per family, families in Family order (``as_given``: in the order of
    their first chart), chart order within."""
    sections = []
    first = {f: next((i for i, c in enumerate(charts) if c["kpi"]["family"] == f.value), len(charts)) for f in Family}
    for family in sorted(Family, key=first.get) if as_given else Family:
        members = [c for c in charts if c["kpi"]["family"] == family.value]
        if members:
            sections.append({"family": family.value, "title": family.title,
                             "anchor": f"section-{family.value}", "charts": members})
    return sections


def _scorecard_groups(by_id: Mapping[str, KPIResult], charts: list[dict[str, Any]], meta: ReportMeta,
                      max_rows: int) -> list[dict[str, Any]]:
    """The scorecard: every result by family; a charted KPI's table sits with its chart."""
    charted = {c["kpi"]["id"] for c in charts}
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
    return groups


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
    view: View,
    n: int,
    by_id: Mapping[str, KPIResult],
    sentences: Mapping[str, str],
    meta: ReportMeta,
    max_rows: int,
) -> dict[str, Any]:
    anchor = _anchor(result.id)
    fig_json = None
    problem = None
    if result.ok and (result.rows is None or result.rows.empty):
        problem = "No rows to draw for this period."
    elif result.ok:
        try:
            fig_json = figure_json(view.chart(result))
        except Exception as exc:  # one broken chart must not cost the reader the whole report
            warnings.warn(f"chart for {result.id} failed: {exc}", stacklevel=2)
            problem = f"The chart could not be drawn: {exc}"
    else:
        problem = result.reason or f"This KPI was {result.status.value}."
    companions = [by_id[c.id] for c in view.companions if c.id in by_id]
    chips = []
    if result.ok and result.value is not None:
        chips.append(_chip(result, meta))
    chips += [_chip(c, meta) for c in companions]
    return {
        "anchor": anchor,
        "figure_id": f"figure-{n}",
        "figure_json": fig_json,
        "problem": problem,
        "headline": view.headline,
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
        fig_json = None
        problem = None
        if card.figure is not None:
            try:
                fig_json = figure_json(card.figure)
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
            "figure_json": fig_json,
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
        "name": chip_label(result),
        "id": result.id,
        "value": format_value(result.value, result.unit, currency=meta.currency) if result.ok else "not measured",
        "summary": plain(summary(result.definition)),
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
        "name": display_name(result),
        "family_title": result.family.title,
        "family": result.family.value,
        "value_label": value_label(result),
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
        "paragraphs": [segments(p) for p in definition_paragraphs(result.definition)]
        or [segments("No definition was given for this KPI.")],
        "summary_segments": segments(summary(result.definition)),
        "summary": plain(summary(result.definition)),
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


def _is_vanity(result: KPIResult) -> bool:
    return result.family in VANITY_FAMILIES or result.direction is Direction.NEUTRAL


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, (int, float)) or (hasattr(v, "dtype") and v.dtype.kind in "iuf")


def _anchor(kpi_id: str) -> str:
    return "kpi-" + re.sub(r"[^a-z0-9]+", "-", kpi_id.lower()).strip("-")


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
