"""The report's Experiments section on the demo brand (small, seed 11): a card per planted
experiment with its verdict, a forest plot (vanity grey, relationship teal) and the table, all
through the escaped template."""

from __future__ import annotations

from dataclasses import replace

import pytest

from afterclick.plots._common import TEAL, VANITY
from afterclick.report import render_report
from afterclick.report.sections import SECTIONS, SectionContext
from afterclick.report.sections import experiments as X


@pytest.fixture(scope="module")
def built(demo_ws):
    return X.build(SectionContext(ws=demo_ws, results={}, strict=True))


def test_registered_in_the_report():
    assert "afterclick.report.sections.experiments" in SECTIONS


def test_a_card_per_experiment_with_verdict_plot_and_table(built):
    cards = {c.eyebrow: c for c in built.cards}
    assert set(cards) == {f"experiment {e}" for e in
                          ("banner-split", "homepage-aa", "onboarding-series", "welcome-subject")}
    subject = cards["experiment welcome-subject"]
    assert subject.sentences[0] == "Assigned: A 884, B 884 (control A)."
    assert subject.sentences[1].startswith("B won CTR")
    traces = {t.name: t for t in subject.figure.data}
    assert traces["vanity (attention)"].marker.color == VANITY
    assert traces["relationship"].marker.color == TEAL
    assert list(traces["vanity (attention)"].y) == ["CTR", "clicks per customer"]
    ctr = subject.table.set_index("metric").loc["CTR"]
    assert ctr["relative"].startswith("+") and ctr["method"].startswith("ratio of means")
    i = list(traces["relationship"].y).index("30-day return")
    assert traces["relationship"].x[i] < 0 and traces["relationship"].marker.symbol[i] == "circle"
    split = cards["experiment banner-split"]
    assert split.sentences[1].startswith("Do not trust this result")


def test_rendered_escaped(built):
    e = replace(built.cards[0], title="<script>alert(1)</script>")
    html = render_report([], title="t", sections=[replace(built, cards=(e, *built.cards[1:]))])
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html
    assert 'id="section-experiments"' in html and "Plotly.newPlot" in html


def test_no_assignments_no_section():
    class _Store:
        def tables(self):
            return {}

    class _Ws:
        store = _Store()

    assert X.build(SectionContext(ws=_Ws(), results={})) is None
