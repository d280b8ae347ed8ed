"""The "What changed" section: the flags of the last period, explained, with each flagged KPI's chart.

Right after the headline (``first=True``). For every KPI whose series comes from one run
(:data:`afterclick.monitor.kpi_series.DEFAULT_KPIS`, plus those named in ``options["monitor_kpis"]``),
the series is judged (:func:`afterclick.monitor.review.review`); a flag that touches the last
period of its series, or a level shift whose new level started within the last
``options["changes_window"]`` periods (default 4: a shift is seen only once a few periods are at
the new level), gets a card: its sentence, the mix/rate explanation where the KPI has a breakdown
(:mod:`afterclick.monitor.explainers`), the dated note it follows, and the KPI's series with its
expected band, flags and notes. Notes come from ``options["annotations"]`` (a path or notes) or
the file beside the store. Series too short to judge are said in one line.
"""

from __future__ import annotations

from pathlib import Path

from afterclick.monitor.alerts import RuleSet
from afterclick.monitor.annotations import Annotation
from afterclick.monitor.chart import series_figure
from afterclick.monitor.explainers import explain_flag
from afterclick.monitor.flags import Flag, FlagKind, Judgement
from afterclick.monitor.series import period_label
from afterclick.report.sections import Card, Section, SectionContext

#: Periods at the end of a series in which a level shift's new level may start and still count as new.
CHANGES_WINDOW = 4


def _kpis(ctx: SectionContext) -> list[str]:
    from afterclick.monitor.kpi_series import DEFAULT_KPIS, SERIES_SOURCES

    extra = [k for k in ctx.options.get("monitor_kpis", ()) if k in SERIES_SOURCES]
    return list(dict.fromkeys([*DEFAULT_KPIS, *extra]))


def _notes(ctx: SectionContext) -> tuple[Annotation, ...]:
    from afterclick.monitor.annotations import load_annotations
    from afterclick.monitor.review import read_annotations

    given = ctx.options.get("annotations")
    if given is None:
        location = getattr(ctx.ws.store, "location", None)
        return read_annotations(None, Path(location)) if isinstance(location, (str, Path)) else ()
    if isinstance(given, (str, Path)):
        return load_annotations(given)
    return tuple(given)


def _recent(j: Judgement, window: int) -> list[Flag]:
    periods = list(j.frame["period"])
    if not periods:
        return []
    last = periods[-1]
    out = []
    for f in j.flags:
        if f.kind is FlagKind.LEVEL_SHIFT:
            if periods.index(f.first_period or f.period) >= len(periods) - window:
                out.append(f)
        elif f.period == last:
            out.append(f)
    return out


def _card(ctx: SectionContext, j: Judgement, flags: list[Flag], notes) -> Card:
    sentences = []
    for f in flags:
        sentences.append(f.sentence)
        move = explain_flag(ctx.ws, j, f)
        if move is not None:
            sentences.append(move.sentence)
    last = j.frame["period"].iloc[-1]
    return Card(title=j.name, eyebrow=f"{j.kpi} · {j.grain.value}ly · last: {period_label(last, j.grain)}",
                sentences=tuple(sentences), figure=series_figure(j, notes),
                notes=(f"Judged by {j.method}: the band is the expected range; a flag needs both a "
                       f"statistical surprise and a move of at least {j.min_magnitude.describe(j.unit)}.",
                       *j.notes))


def build(ctx: SectionContext) -> Section | None:
    """The section, or None without a workspace."""
    from afterclick.monitor.review import default_rules, review

    if ctx.ws is None:
        return None
    kpis = _kpis(ctx)
    notes = _notes(ctx)
    r = review(ctx.ws, kpis, RuleSet(default_rules(kpis), {}), notes)
    window = int(ctx.options.get("changes_window", CHANGES_WINDOW))
    cards = []
    for k, j in r.judgements.items():
        flags = _recent(j, window) if j.judged else []
        if flags:
            cards.append(_card(ctx, j, flags, notes))
    judged = [j for j in r.judgements.values() if j.judged]
    short = [j for j in r.judgements.values() if not j.judged]
    summary = []
    if not cards:
        summary.append(f"None of the {len(judged)} KPIs judged moved beyond routine variation in its last period.")
    else:
        summary.append(f"{len(cards)} of the {len(judged)} KPIs judged moved beyond routine variation in their "
                       "last period (or shifted level recently); each card says how, why where it can, and "
                       "shows the series against its expected range.")
    lines = [f"{j.name}: {j.reason}." for j in short] + [s for s in r.skipped]
    overview = Card(title="What changed", sentences=tuple(summary),
                    notes=tuple(lines) + ((f"{len(notes)} dated note(s) read.",) if notes else ()))
    return Section(key="changes", title="What changed", cards=(overview, *cards), first=True,
                   lede="The last period of each KPI series judged against its own history: seasonality, "
                        "routine variation and level shifts.")
