"""Report polish on hand-built results: event names in words, word-boundary labels, the ladder's
base, the lifecycle verdict over the last four complete weeks, few-answer survey months and
readable theme labels. Each input is small enough to check by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from afterclick.plots._common import event_label, shorten
from afterclick.report import render_report
from afterclick.results import Direction, Family, KPIResult, Status, Unit


def result(id: str, family: Family, rows: pd.DataFrame, *, value=None, unit=Unit.FRACTION, notes=(),
           period=None, ci=None) -> KPIResult:
    return KPIResult(id=id, name=id, family=family, unit=unit, direction=Direction.HIGHER,
                     definition=f"Definition of {id}.", status=Status.COMPUTED, value=value, rows=rows,
                     notes=tuple(notes), period=period, ci=ci)


# ------------------------------------------------------------------------------ event names

@pytest.mark.parametrize(("raw", "words"), [
    ("add_to_cart", "Add to cart"),
    ("tutorial_view", "Tutorial view"),
    ("review_read", "Review read"),
    ("click", "Click"),
    ("addToCart", "Add to cart"),
    ("PDF_download", "PDF download"),
    ("page-view", "Page view"),
    ("  spaced__out_ ", "Spaced out"),
    (None, ""),
])
def test_event_label_turns_names_into_words(raw, words):
    assert event_label(raw) == words


def test_leading_indicator_chart_table_and_sentence_name_events_in_words():
    from afterclick.plots import plot
    from afterclick.report import narrative

    rows = pd.DataFrame({
        "rank": [1, 2], "indicator": ["add_to_cart", "<b>x</b>_seen"], "doers": [40, 35],
        "odds_ratio": [3.0, 1.2], "or_low": [1.5, 0.8], "or_high": [6.0, 1.8],
    })
    r = result("signals.leading_indicators", Family.SIGNALS, rows, value=0.71, unit=Unit.RATIO,
               notes=["Too few doers (or non-doers) to read: Review read."])
    (dots,) = plot(r).data
    assert list(dots.y) == ["&lt;b&gt;x&lt;/b&gt; seen", "Add to cart"]
    assert narrative.sentence(r).startswith("Customers who did \u201cAdd to cart\u201d in their first 14 days")
    html = render_report([r], title="t")
    assert "<td>Add to cart</td>" in html and "add_to_cart" not in html
    assert "<td>&lt;b&gt;x&lt;/b&gt; seen</td>" in html and "<b>x</b>" not in html


# ------------------------------------------------------------------------------ word boundaries

@pytest.mark.parametrize(("text", "width", "short"), [
    ("Me: I don't need a bigger pot, do I?", 16, "Me: I don't…"),
    ("Short title", 34, "Short title"),
    ("Care guide: watering, light and soil", 22, "Care guide: watering…"),
    ("Supercalifragilisticexpialidocious plants", 12, "Supercalifr…"),  # one long word: cut inside it
])
def test_shorten_cuts_at_a_word_boundary(text, width, short):
    assert shorten(text, width) == short
    assert len(short) <= width
