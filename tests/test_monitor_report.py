"""The report's "What changed" section on the demo: flagged KPIs with their sentences, the dated
note they follow, and a chart with the expected band, the flags and the notes."""

from __future__ import annotations

from afterclick.demo import monitoring as M
from afterclick.monitor import load_annotations
from afterclick.report.sections import SECTIONS, SectionContext, build_sections

MODULE = "afterclick.report.sections.changes"


def test_what_changed_is_registered_first():
    assert SECTIONS[0] == MODULE


def test_what_changed_names_the_campaign_shift_and_draws_its_band(demo_ws):
    notes = load_annotations(list(M.ANNOTATIONS))
    ctx = SectionContext(ws=demo_ws, results={}, strict=True,
                         options={"annotations": notes, "changes_window": 26})
    [section] = build_sections(ctx, (MODULE,))
    assert section.first and section.key == "changes" and section.title == "What changed"
    overview, *cards = section.cards
    assert cards and f"{len(cards)} of the" in overview.sentences[0]
    assert "2 dated note(s) read." in overview.notes
    card = next(c for c in cards if c.eyebrow.startswith("retention.cohort_weekly"))
    said = " ".join(card.sentences)
    assert "level shift since the week of 4 May 2026" in said and "acquisition campaign changed" in said
    names = [t.name for t in card.figure.data]
    assert "expected range" in names and "level shift" in names
    assert any(a.text == "acquisition campaign changed" for a in card.figure.layout.annotations)


def test_a_quiet_last_period_says_so(demo_ws):
    ctx = SectionContext(ws=demo_ws, results={}, strict=True,
                         options={"annotations": (), "changes_window": 1})
    [section] = build_sections(ctx, (MODULE,))
    overview = section.cards[0]
    assert overview.title == "What changed"
    assert len(section.cards) == 1 or "moved beyond routine variation" in overview.sentences[0]
