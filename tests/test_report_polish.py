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
    from afterclick.views.registry import plot
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


# ------------------------------------------------------------------------------ the ladder's base

def ladder_rows() -> pd.DataFrame:
    # customers per rung; trusting or above: Jan 2 of 20 (10%), Feb 9 of 30 (30%), Mar 5 of 10 (50%)
    counts = {"2026-01-01": [10, 8, 1, 1, 0], "2026-02-01": [12, 9, 5, 3, 1], "2026-03-01": [2, 3, 4, 1, 0]}
    stages = ["aware", "engaged", "trusting", "loyal", "advocate"]
    return pd.DataFrame([{"period": pd.Timestamp(p, tz="UTC"), "stage": s, "customers": n, "share": n / sum(c)}
                         for p, c in counts.items() for s, n in zip(stages, c) if n])


def test_ladder_sentence_states_how_many_customers_stand_on_the_ladder():
    from afterclick.report import narrative
    from afterclick.results import Period, SpanKind

    feb = Period(SpanKind.LAST_COMPLETE, pd.Timestamp("2026-02-01", tz="UTC").to_pydatetime(),
                 pd.Timestamp("2026-03-01", tz="UTC").to_pydatetime(), "February 2026", "month")
    # the period says which month the headline reads (March is still filling up)
    r = result("ladder.commitment_ladder", Family.LADDER, ladder_rows(), value=0.3, period=feb)
    assert narrative.sentence(r) == (
        "In the month starting 1 Feb 2026, 30% of the 30 customers on the ladder stood at trusting or above, "
        "up from 10% of 20 in the month starting 1 Jan 2026.")
    # without a period: the month whose share is the headline value
    r = result("ladder.commitment_ladder", Family.LADDER, ladder_rows(), value=0.5)
    assert narrative.sentence(r).startswith("In the month starting 1 Mar 2026, 50% of the 10 customers on the ladder")


# ------------------------------------------------------------------------------ on the small demo

@pytest.fixture(scope="module")
def demo(demo_ws):
    ids = ("ladder.commitment_ladder", "retention.lifecycle", "advocacy.nps", "advocacy.csat", "advocacy.themes",
           "advocacy.drivers", "content.value")
    return {r.id: r for r in demo_ws.kpis(ids)}


def test_demo_ladder_sentence_counts_the_customers_of_its_headline_month(demo):
    from afterclick.report import narrative

    r = demo["ladder.commitment_ladder"]
    month = r.rows[r.rows["period"] == r.period.start]
    text = narrative.sentence(r)
    start = pd.Timestamp(r.period.start)
    assert text.startswith(f"In the month starting 1 {start:%b %Y}, {r.value:.0%} of the "
                           f"{int(month['customers'].sum()):,} customers on the ladder stood at trusting or above")


# ------------------------------------------------------------------------------ the lifecycle verdict

def lifecycle_rows() -> pd.DataFrame:
    weeks = pd.date_range("2026-08-31", periods=7, freq="7D", tz="UTC")  # Mondays; the 7th still filling up
    return pd.DataFrame({
        "period": weeks,
        "new": [500, 10, 10, 10, 10, 10, 1],
        "returning": [0, 50, 50, 50, 50, 50, 5],
        "resurrecting": [0, 5, 5, 10, 20, 30, 0],
        "dormant": [0, 400, 20, 20, 20, 25, 60],
        "quick_ratio": [None, 15 / 400, 15 / 20, 20 / 20, 30 / 20, 40 / 25, 1 / 60],
    })


def test_lifecycle_verdict_pools_the_last_four_complete_weeks_and_says_so():
    from afterclick.report import narrative
    from afterclick.results import Period, SpanKind

    week = Period(SpanKind.LAST_COMPLETE, pd.Timestamp("2026-10-05", tz="UTC").to_pydatetime(),
                  pd.Timestamp("2026-10-12", tz="UTC").to_pydatetime(), "week of 5 Oct 2026", "week")
    r = result("retention.lifecycle", Family.RETENTION, lifecycle_rows(), value=40 / 25, unit=Unit.RATIO,
               period=week)
    # weeks of 14 Sep to 5 Oct: (15 + 20 + 30 + 40) / (20 + 20 + 20 + 25) = 105 / 85; the early
    # exodus of 7 Sep (400 dormant) and the partial week of 12 Oct are left out
    assert narrative.sentence(r) == (
        "In the week starting 5 Oct 2026, 10 new and 30 resurrected customers came in while 25 went dormant "
        "(quick ratio 1.60). Over the last 4 complete weeks (14 Sep 2026 to 11 Oct 2026), 105 came in or came "
        "back while 85 went dormant: a quick ratio of 1.24, so the active base is growing.")


def test_lifecycle_verdict_with_a_missing_week_does_not_reach_further_back():
    from afterclick.report import narrative

    rows = lifecycle_rows().drop(index=4)  # no row for 28 Sep: (15 + 20 + 40) / (20 + 20 + 25)
    r = result("retention.lifecycle", Family.RETENTION, rows, value=40 / 25, unit=Unit.RATIO)
    assert "Over the last 3 weeks (14 Sep 2026 to 11 Oct 2026), 75 came in or came back while 65 went dormant" \
        in narrative.sentence(r)


def test_demo_lifecycle_verdict_reads_the_four_weeks_up_to_its_headline_week(demo):
    from afterclick.report import narrative

    r = demo["retention.lifecycle"]
    rows = r.rows.assign(period=pd.to_datetime(r.rows["period"], utc=True))
    start = pd.Timestamp(r.period.start)
    four = rows[(rows["period"] <= start) & (rows["period"] > start - pd.Timedelta(weeks=4))]
    assert len(four) == 4
    came, lost = int((four["new"] + four["resurrecting"]).sum()), int(four["dormant"].sum())
    text = narrative.sentence(r)
    assert f"Over the last 4 complete weeks ({start - pd.Timedelta(weeks=3):%-d %b %Y} to " in text
    assert f"{came:,} came in or came back while {lost:,} went dormant: a quick ratio of {came / lost:.2f}" in text


# ------------------------------------------------------------------------------ few-answer months

def test_demo_survey_months_with_few_answers_are_drawn_apart(demo):
    from afterclick.views.registry import plot

    for kpi_id, column in (("advocacy.nps", "nps"), ("advocacy.csat", "csat")):
        r = demo[kpi_id]
        rows = r.rows.dropna(subset=[column])
        small = rows[rows["answers"] < 30]
        assert len(small), kpi_id  # the demo has early months with few answers
        fig = plot(r)
        thin = [t for t in fig.data if "n < 30" in (t.name or "")]
        assert len(thin) == 1 and len(thin[0].y) == len(small) and thin[0].marker.symbol == "circle-open"
        assert list(thin[0].y) == pytest.approx(small[column].tolist())
        solid = [t for t in fig.data if t.mode == "lines+markers"]
        drawn = [v for t in solid for v in t.y if v is not None]
        assert len(drawn) == len(rows) - len(small)


# ------------------------------------------------------------------------------ content quadrant labels

def test_quadrant_labels_end_at_a_word_and_hover_shows_the_full_title():
    from afterclick.views.registry import plot

    titles = ["Me: I don't need another plant. Also me, at the checkout (meme)", "Short <guide>", None]
    rows = pd.DataFrame({"content_id": ["p1", "g1", "x9"], "title": titles, "shallow": [650, 3, 40],
                         "deep": [22, 1900, 30], "quadrant": ["vanity", "hidden gem", "star"]})
    fig = plot(result("content.value", Family.CONTENT, rows, value=0.7))
    by_trace = {t.name: t for t in fig.data}
    meme = by_trace["vanity"]
    (shown,) = meme.text
    assert shown == "Me: I don't need another…"  # cut between words, not "Me: I don't n…"
    assert meme.customdata[0][0] == titles[0]  # the whole title on hover
    assert by_trace["hidden gem"].customdata[0][0] == "Short &lt;guide&gt;"
    assert by_trace["star"].customdata[0][0] == "x9"  # no title: the id


def test_demo_quadrant_labels_never_end_inside_a_word(demo):
    from afterclick.views.registry import plot

    r = demo["content.value"]
    titles = set(r.rows["title"].dropna())
    labels = [t for trace in plot(r).data for t in trace.text if t]
    assert labels
    for shown in labels:
        if shown.endswith("…"):
            whole = next(t for t in titles if t.startswith(shown[:-1].replace("&amp;", "&")))
            assert whole[len(shown[:-1].replace("&amp;", "&"))] in " ,.:;!?)", shown
        else:
            assert shown.replace("&amp;", "&") in titles


# ------------------------------------------------------------------------------ theme labels

def test_theme_labels_are_phrases_people_wrote_led_by_their_aspect():
    from afterclick.text.themes import fit_themes

    texts = pd.Series(
        ["My parcel hasn't arrived yet.", "Honestly, my parcel hasn't arrived yet!", "Parcel hasn't arrived yet, help",
         "Still waiting, the parcel hasn't arrived yet.", "The courier lost it. Parcel hasn't arrived yet",
         "The discount code didn't work.", "Sadly the discount code didn't work at all",
         "Discount code didn't work, checkout is a maze.", "The discount code didn't work twice.",
         "Why the discount code didn't work?", "Exactly as pictured, lovely.", "Exactly as pictured!",
         "Plant was exactly as pictured.", "Exactly as pictured and healthy"])
    th = fit_themes(texts, n_themes=3)
    assert sorted(th.labels) == ["Delivery: parcel hasn't arrived yet", "Exactly as pictured",
                                 "Website: discount code didn't work"]
    assert all(" · " not in kw for kw in th.keywords)  # the raw terms stay apart, in keywords


def test_a_label_keeps_its_negation_and_falls_back_to_the_keywords_as_words():
    from collections import Counter

    from afterclick.text.theme_labels import _clauses, readable_label

    assert _clauses("still no sign of my order, can you check?") == {"no sign of my order"}  # "check": one word
    members = [_clauses("still no sign of my order"), _clauses("honestly no sign of my order")]
    assert readable_label(members, Counter(c for m in members for c in m), ("sign", "order"), None, "Theme 1") \
        == "No sign of my order"
    # every clause is someone's own (none shared): the keywords as a list of words
    lone = [_clauses("charged twice for one pot"), _clauses("they charged me twice")]
    assert readable_label(lone, Counter(c for m in lone for c in m), ("charged", "twice", "refund"), "price",
                          "Theme 2") == "Price: charged, twice and refund"
    assert readable_label([], Counter(), (), None, "Theme 3") == "Theme 3"


def test_demo_theme_labels_read_as_words_everywhere_they_are_shown(demo):
    from markupsafe import escape

    from afterclick.views.registry import plot
    from afterclick.report import narrative

    themes, drivers = demo["advocacy.themes"], demo["advocacy.drivers"]
    labels = themes.rows["label"].tolist()
    assert labels and not any(" · " in lb for lb in labels)
    assert any(lb.startswith("Delivery") for lb in labels) and any(lb.startswith("Website") for lb in labels), labels
    assert "Delivery: tracking hasn't moved since Monday" in labels  # days named as written
    assert set(drivers.rows["label"]) == set(labels)
    assert set(plot(themes).data[0].y) == {str(escape(lb)).replace("&#39;", "'").replace("&#34;", '"')
                                           for lb in labels}
    sentence = narrative.sentence(demo["advocacy.nps"], {"advocacy.drivers": drivers})
    worst = drivers.rows[drivers.rows["direction"] == "towards detractors"]["label"].iloc[0]
    assert f"\u201c{worst}\u201d" in sentence
    html = render_report([themes, drivers], title="t")
    for lb in labels:
        assert str(escape(lb)) in html
