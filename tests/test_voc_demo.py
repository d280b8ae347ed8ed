"""Voice of the customer on the demo brand: the planted survey themes (docs/demo.md, section 5)
come out of the theme model, the drivers point the planted way, and the report shows them."""

from __future__ import annotations

import re

import markupsafe
import pandas as pd
import pytest

from afterclick.report import render_report
from afterclick.results import Status
from afterclick.stats import NPS
from afterclick.text.themes import planted_overlap

pytestmark = pytest.mark.slow

#: The stems docs/demo.md gives per planted theme, and the aspect each must come out under.
PLANTED = {
    "shipping": ("deliver|arriv|parcel|ship|courier|tracking|dispatch|waiting|postage|days to get|turned up late",
                 "delivery"),
    "navigation": ("find|navigat|checkout|basket|search|menu|maze|clicks|filters|labyrinth|site|lost somewhere",
                   "website"),
    "support": ("support|service|staff|replacement|answered|advice|replied|people to deal", "service"),
    "packaging": ("packaging|wrapped|packed like", "packaging"),
}


def computed(ws, kpi_id: str):
    r = ws.kpi(kpi_id)
    assert r.status is Status.COMPUTED, f"{kpi_id}: {r.reason}"
    return r


@pytest.fixture(scope="module")
def ws(demo_ws):
    """The shared small demo, read-only: its text scores live in a temporary table."""
    return demo_ws


@pytest.fixture(scope="module")
def themes(ws):
    return computed(ws, "advocacy.themes")


def test_nps_matches_the_answers(ws):
    r = ws.kpi("advocacy.nps")
    answers = ws.table("responses")
    answers = answers[answers.survey == "nps"]
    ref = NPS.from_scores(answers.score)
    assert r.value == pytest.approx(ref.score * 100)
    assert 10 < r.value < 35  # docs/demo.md: NPS about +20
    assert r.ci[0] < r.value < r.ci[1]
    assert any("too few" in n for n in r.notes)  # the first months have few answers
    csat = ws.kpi("advocacy.csat")
    assert 0.7 < csat.value < 0.95 and csat.ci[0] < csat.value < csat.ci[1]


def test_planted_themes_come_out(ws, themes):
    from afterclick.kpis.advocacy import feedback

    rows = feedback(ws.tables, ws.params).order_by(["source", "text_id"]).execute()
    from afterclick.text.themes import fit_themes

    th = fit_themes(rows["comment"])
    assert len(th.labels) == themes.value
    survey = (rows["source"] == "responses").to_numpy()
    for name, (stems, aspect) in PLANTED.items():
        sub = th.__class__(th.assignment[survey], th.weight[survey], th.labels, th.keywords, th.aspects)
        recall, precision, k = planted_overlap(rows.loc[survey, "comment"], sub, stems)
        assert recall >= 0.6 and precision >= 0.75, (name, recall, precision, th.labels[k])
        assert th.aspects[k] == aspect, (name, th.aspects[k])
    labels = set(themes.rows["aspect"].dropna())
    assert {"delivery", "website", "service", "packaging"} <= labels


def test_drivers_point_the_planted_way(ws):
    d = ws.kpi("advocacy.drivers").rows
    by_aspect = {}
    themes = ws.kpi("advocacy.themes").rows.set_index("label")["aspect"]
    for _, row in d.iterrows():
        by_aspect.setdefault(themes.get(row["label"]), row)
    assert by_aspect["delivery"]["direction"] == "towards detractors"
    assert by_aspect["website"]["direction"] == "towards detractors"
    assert by_aspect["service"]["direction"] == "towards promoters"
    # the two strongest pulls towards detractors are the planted ones
    assert {themes.get(lbl) for lbl in d["label"].head(2)} == {"delivery", "website"}


def test_report_shows_the_voice_of_the_customer(ws, themes):
    ids = ["advocacy.nps", "advocacy.csat", "advocacy.themes", "advocacy.drivers",
           "resonance.content_resonance", "resonance.gratitude_rate"]
    results = [computed(ws, i) for i in ids]
    html = render_report(results, title="VoC")
    assert "Advocacy and satisfaction" in html
    for label in themes.rows["label"]:  # readable labels ("Delivery: hasn't arrived yet"), escaped
        assert str(markupsafe.escape(label)) in html
    # quotes are in the page, escaped; nothing raw from the data opens a tag
    quote = themes.rows["examples"].iloc[0].split(" | ")[0]
    assert quote.replace("'", "&#39;").replace('"', "&#34;") in html or quote in html
    assert "NPS was" in html  # the sentence beside the chart
    assert "<script>alert" not in html
    assert not re.search(r"[\w.]+@example\.(com|org|net)", html)


def test_drivers_alone_fetch_the_comments_and_agree_with_drivers_after_themes(ws, themes):
    import afterclick

    after_themes = computed(ws, "advocacy.drivers")  # the themes fitted by advocacy.themes
    with afterclick.open(ws.store.location, read_only=True) as fresh:
        alone = fresh.kpi("advocacy.drivers")  # no fit yet: fetches the comments, fits alone
    assert alone.status is Status.COMPUTED and alone.notes == after_themes.notes
    assert alone.value == after_themes.value
    pd.testing.assert_frame_equal(alone.rows, after_themes.rows)
