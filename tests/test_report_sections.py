"""Report sections (what changed, experiments, goals, B2B) render through the escaped template."""

import warnings

import pandas as pd
import plotly.graph_objects as go
import pytest

from afterclick.report import render_report
from afterclick.report.sections import Card, Section, SectionContext, build_sections


def _sections():
    first = Section(key="changes", title="What changed", first=True, cards=(
        Card(title="<b>Return fell</b>", sentences=("Mail a@b.com <script>alert(1)</script>",),
             figure=go.Figure(go.Scatter(x=[1, 2], y=[3, 4])),
             table=pd.DataFrame({"share": [0.5], "who": ["<i>x</i> c@d.org"]})),))
    later = Section(key="experiments", title="Experiments", cards=(Card(title="Subject line test"),))
    return [first, later]


def test_sections_are_escaped_masked_and_ordered():
    html = render_report([], title="t", sections=_sections())
    assert "&lt;b&gt;Return fell&lt;/b&gt;" in html
    assert "<script>alert(1)" not in html and "a@b.com" not in html and "c@d.org" not in html
    assert "&lt;i&gt;x&lt;/i&gt;" in html and "50.0%" in html
    assert 'id="section-0-figure-0-data"' in html and "Plotly.newPlot" in html
    assert html.index('id="section-changes"') < html.index('id="section-experiments"')
    assert 'href="#section-changes"' in html and 'href="#section-experiments"' in html


def test_no_sections_no_plotly():
    assert "Plotly.newPlot" not in render_report([], title="t")


def test_a_failing_builder_becomes_a_card_and_raises_in_strict_mode(tmp_path, monkeypatch):
    import sys
    import types

    mod = types.ModuleType("afterclick_test_broken_section")
    mod.build = lambda ctx: 1 / 0
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    ctx = SectionContext(ws=None, results={})
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        out = build_sections(ctx, (mod.__name__,))
    assert out[0].cards[0].title == "This section could not be built"
    assert "ZeroDivisionError" in out[0].cards[0].sentences[0]
    with pytest.raises(ZeroDivisionError):
        build_sections(SectionContext(ws=None, results={}, strict=True), (mod.__name__,))
