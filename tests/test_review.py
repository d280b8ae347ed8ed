"""The review cycle: periods against pandas' calendar, the team's notes, reviews stored immutably (a
change behind afterclick's back refused in one line), and two reviews in sequence on the demo with
the e-commerce template: each number the KPI of its period, "last period" the stored review of it,
a restatement shown after late data arrive, notes written back and shown by the next review."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.goals import goals_text, judge, parse_goals
from afterclick.goals.evaluate import estimate
from afterclick.goals.templates import TEMPLATES
from afterclick.kpis.base import Params
from afterclick.report.format import format_value
from afterclick.review import (
    KpiLine,
    NoteLine,
    NotesError,
    PeriodError,
    ReviewChanged,
    ReviewExists,
    ReviewLog,
    StoredReview,
    parse_notes,
    parse_period,
)
from afterclick.store import Store
from afterclick.workspace import Workspace

runner = CliRunner()


# -- periods --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,freq", [("2026-Q3", "Q"), ("2026Q1", "Q"), ("2026-09", "M"), ("2026-01", "M"),
                                       ("2026", "Y")])
def test_periods_match_pandas_calendar(text, freq):
    p = parse_period(text)
    ref = pd.Period(text.replace("-Q", "Q"), freq=freq)
    assert p.start == ref.start_time.tz_localize("UTC")
    assert p.end == (ref + 1).start_time.tz_localize("UTC")
    assert p.previous().start == (ref - 1).start_time.tz_localize("UTC")


def test_halves_and_the_turn_of_the_year():
    h1, h2 = parse_period("2026-H1"), parse_period("2026-H2")
    assert (h1.start, h1.end) == (pd.Timestamp("2026-01-01", tz="UTC"), pd.Timestamp("2026-07-01", tz="UTC"))
    assert h2.end == pd.Timestamp("2027-01-01", tz="UTC") and h1.previous().label == "2025-H2"
    assert parse_period("2026-Q1").previous().label == "2025-Q4"
    assert parse_period("2026-01").previous().label == "2025-12"
    for bad in ("2026-Q5", "2026-13", "Q3 2026", "last quarter"):
        with pytest.raises(PeriodError, match="2026-Q3|does not exist|not a period"):
            parse_period(bad)


# -- notes ----------------------------------------------------------------------------------------

def test_notes_one_per_paragraph_tied_to_a_kpi_by_its_id():
    notes = parse_notes(["advocacy.nps: call every\ndetractor within a week\n\nWe paused the loyalty mail.",
                         "retention.repeat_visit_rate:  send the guide"])
    assert notes == (NoteLine("call every detractor within a week", "advocacy.nps"),
                     NoteLine("We paused the loyalty mail."), NoteLine("send the guide", "retention.repeat_visit_rate"))


def test_bad_notes_list_every_problem():
    with pytest.raises(NotesError) as exc:
        parse_notes(["advocacy.npz: typo\n\nadvocacy.nps:\n\nfine", "x" * 6000])
    assert len(exc.value.problems) == 3
    assert "advocacy.npz" in exc.value.problems[0] and "says nothing" in exc.value.problems[1]


# -- immutability ---------------------------------------------------------------------------------

def _draft(period: str, value: float, notes=()) -> StoredReview:
    line = KpiLine("advocacy.nps", "NPS", "score", "higher", "computed", value=value, ci_low=value - 5,
                   ci_high=value + 5, definition_hash="abc")
    return StoredReview(review_id="", period=period, period_start="s", period_end="e", version=0,
                        created_at="2026-12-04T10:00:00.000000Z", data_cutoff=None, kpis=(line,), notes=notes)


@pytest.fixture()
def log(tmp_path):
    with Store(tmp_path / "r.duckdb") as st:
        yield ReviewLog(st)


def test_a_second_review_of_a_period_is_a_new_version_and_notes_round_trip(log):
    a = log.save(_draft("2026-Q2", 30.0, (NoteLine("call detractors", "advocacy.nps"), NoteLine("ß <b>é</b>"))))
    b = log.save(_draft("2026-Q2", 31.5))
    c = log.save(_draft("2026-Q3", 33.0))
    assert (a.version, b.version, c.version) == (1, 2, 1)
    stored = log.reviews()
    assert [r.review_id for r in stored] == [a.review_id, b.review_id, c.review_id]
    assert stored[0].notes == (NoteLine("call detractors", "advocacy.nps"), NoteLine("ß <b>é</b>"))
    assert log.latest("2026-Q2").kpi("advocacy.nps").value == 31.5
    with pytest.raises(ReviewExists, match="never changed"):
        log.save(a)


@pytest.mark.parametrize("change", [
    "UPDATE ac_review_kpis SET value = 99 WHERE value = 30",
    "UPDATE ac_review_notes SET text = 'we never said that'",
    "UPDATE ac_reviews SET data_cutoff = '2030-01-01' WHERE version = 1",
    "INSERT INTO ac_review_notes SELECT review_id, 9, NULL, 'slipped in' FROM ac_reviews LIMIT 1",
])
def test_a_review_changed_behind_afterclicks_back_is_refused_in_one_line(log, change):
    log.save(_draft("2026-Q2", 30.0, (NoteLine("call detractors"),)))
    log.save(_draft("2026-Q3", 31.0))
    log.store.raw.execute(change)
    with pytest.raises(ReviewChanged) as exc:
        log.reviews()
    text = str(exc.value)
    assert "\n" not in text and "changed after it was stored" in text and "2026-Q2 version 1" in text


def test_a_deleted_review_breaks_the_chain(log):
    for v in (30.0, 31.0, 32.0):
        log.save(_draft("2026-Q2", v))
    log.store.raw.execute("DELETE FROM ac_reviews WHERE version = 2")
    with pytest.raises(ReviewChanged, match="does not follow the review stored before it"):
        log.reviews()


# -- two reviews in sequence on the demo ----------------------------------------------------------

LATE = "response_id,customer_id,ts,survey,score\n" + "".join(
    f"late-{i},late-customer-{i},2026-05-{10 + i % 15:02d}T12:00:00Z,nps,{i % 3}\n" for i in range(40))


def _kpis(path: Path, period: str, ids: tuple[str, ...] = TEMPLATES["ecommerce"].kpis) -> dict:
    p = parse_period(period)
    with Store(path, read_only=True) as st:
        ws = Workspace(st, Params(start=p.start, end=p.end))
        try:
            return {k: ws.kpi(k) for k in ids}
        finally:
            ws.refresh()


@pytest.fixture(scope="module")
def cycle(demo_ws, tmp_path_factory):
    """Review Q2 with notes; late Q2 survey answers arrive; review Q3. What each step saw."""
    from afterclick.ingest import ingest

    folder = tmp_path_factory.mktemp("review")
    store = folder / "brand.duckdb"
    shutil.copy(demo_ws.store.location, store)
    q2 = runner.invoke(app, ["review", "--store", str(store), "--period", "2026-Q2", "--template", "ecommerce",
                             "--out", str(folder / "q2.html"), "--notes",
                             "advocacy.nps: call every detractor within a week\n\nPaused the <b>loyalty</b> mail."])
    assert q2.exit_code == 0, q2.output
    q2_then = _kpis(store, "2026-Q2")
    (folder / "late").mkdir()
    (folder / "late" / "responses.csv").write_text(LATE, encoding="utf-8")
    with Store(store) as st:
        assert ingest(st, folder / "late").loaded == 40
    (folder / "goals.toml").write_text(goals_text("ecommerce", date(2026, 12, 4)), encoding="utf-8")
    q3 = runner.invoke(app, ["review", "--store", str(store), "--period", "2026-Q3", "--goals", str(folder / "goals.toml"),
                             "--out", str(folder / "q3.html"), "--notes", "retention.cohort_monthly: keep going"])
    assert q3.exit_code == 0, q3.output
    with Store(store, read_only=True) as st:
        stored = {r.period: r for r in ReviewLog(st).reviews()}
    return {"store": store, "folder": folder, "q2_then": q2_then, "q2_now": _kpis(store, "2026-Q2", ("advocacy.nps",)),
            "q3": _kpis(store, "2026-Q3"), "stored": stored, "out": q3.output,
            "html": (folder / "q3.html").read_text(encoding="utf-8")}


def test_stored_numbers_are_the_kpis_of_their_period(cycle):
    for period, truth in (("2026-Q2", cycle["q2_then"]), ("2026-Q3", cycle["q3"])):
        review = cycle["stored"][period]
        assert [k.kpi_id for k in review.kpis] == list(TEMPLATES["ecommerce"].kpis)
        for line in review.kpis:
            r = truth[line.kpi_id]
            assert line.status == r.status.value
            assert line.value == (r.value if r.ok else None)
            assert line.ci == (None if r.ci is None else tuple(r.ci))


def test_the_report_shows_this_period_and_last_period_as_reported_then(cycle):
    html, q2 = cycle["html"], cycle["stored"]["2026-Q2"]
    for kpi_id, r in cycle["q3"].items():
        if r.ok and r.value is not None:
            assert format_value(r.value, r.unit) in html, kpi_id
    nps_then, nps_now = q2.kpi("advocacy.nps").value, cycle["q2_now"]["advocacy.nps"].value
    assert nps_then == cycle["q2_then"]["advocacy.nps"].value and nps_now < nps_then  # the late detractors
    assert f"Q2 2026 as reported in the 2026-Q2 review (version 1" in html
    assert (f"Restated: Q2 2026 was reported as {format_value(nps_then, 'score')}; today&#39;s data give "
            f"{format_value(nps_now, 'score')}") in html
    assert "restated since the last review: advocacy.nps" in cycle["out"].replace("\n", " ")


def test_notes_are_written_back_and_the_next_review_shows_them_with_the_move(cycle):
    q2, q3 = cycle["stored"]["2026-Q2"], cycle["stored"]["2026-Q3"]
    assert q2.notes == (NoteLine("call every detractor within a week", "advocacy.nps"),
                        NoteLine("Paused the <b>loyalty</b> mail."))
    assert q3.notes == (NoteLine("keep going", "retention.cohort_monthly"),)
    assert q3.previous_review_id == q2.review_id
    html, nps = cycle["html"], cycle["q3"]["advocacy.nps"]
    assert "Decided in the 2026-Q2 review (version 1" in html
    assert (f"call every detractor within a week (then {format_value(q2.kpi('advocacy.nps').value, 'score')} for "
            f"2026-Q2; now {format_value(nps.value, 'score')} for 2026-Q3)") in html
    assert "Paused the &lt;b&gt;loyalty&lt;/b&gt; mail." in html and "<b>loyalty</b>" not in html


def test_the_review_follows_the_template_order_and_headline(cycle):
    import re

    html = cycle["html"]
    charts = re.findall(r'<section class="card chart( headline)?" id="[^"]*" data-kpi="([^"]+)"', html)
    ours = [k for _, k in charts if k in TEMPLATES["ecommerce"].kpis]
    assert ours and [k for _, k in charts[:len(ours)]] == ours  # the template's KPIs first
    assert ours == [k for k in TEMPLATES["ecommerce"].kpis if k in ours]  # in its order
    assert [h for h, _ in charts] == [" headline"] + [""] * (len(charts) - 1)  # the first is the headline


def test_a_tampered_store_stops_the_next_review_in_one_line(cycle, tmp_path):
    store = tmp_path / "t.duckdb"
    shutil.copy(cycle["store"], store)
    with Store(store) as st:
        st.raw.execute("UPDATE ac_review_kpis SET value = value + 1 WHERE kpi_id = 'advocacy.nps'")
    res = runner.invoke(app, ["review", "--store", str(store), "--period", "2026-09", "--template", "ecommerce",
                              "--out", str(tmp_path / "x.html")])
    assert res.exit_code == 1
    assert "was changed after it was stored" in res.output and not (tmp_path / "x.html").exists()


def test_bad_inputs_are_all_listed_at_once(cycle, tmp_path):
    (tmp_path / "goals.toml").write_text('[[goal]]\nid = "a"\nkpi = "advocacy.npz"\n', encoding="utf-8")
    (tmp_path / "mine.csv").write_text("id,metric\nx,y\n", encoding="utf-8")
    res = runner.invoke(app, ["review", "--store", str(cycle["store"]), "--period", "2026-Q3",
                              "--goals", str(tmp_path / "goals.toml"), "--benchmarks", str(tmp_path / "mine.csv"),
                              "--notes", "advocacy.npz: typo", "--out", str(tmp_path / "x.html")])
    assert res.exit_code == 1
    out = " ".join(res.output.split())
    assert "advocacy.npz" in out and "missing column 'value'" in out and "note 1 starts with 'advocacy.npz'" in out
    assert "owner is missing" in out and not (tmp_path / "x.html").exists()
    bad = runner.invoke(app, ["review", "--store", str(cycle["store"]), "--period", "Q3"])
    assert bad.exit_code == 1 and "2026-Q3" in bad.output


def test_goal_probabilities_in_the_review_are_the_attainment_of_the_periods_kpi(cycle):
    """The goals file's constant-target goal (NPS at least 32 by its deadline) judged on Q3's NPS and
    interval, as stored and as shown; the method itself is checked for calibration in test_goals."""
    goal = parse_goals(goals_text("ecommerce", date(2026, 12, 4))).by_id()["nps"]
    nps = cycle["q3"]["advocacy.nps"]
    expected = judge(goal, estimate(nps), nps.unit)
    stored = cycle["stored"]["2026-Q3"].kpi("advocacy.nps").goals()
    assert [g["goal"] for g in stored] == ["nps"]
    assert stored[0]["probability"] == pytest.approx(expected.probability, abs=1e-12)
    assert stored[0]["status"] == expected.status
    assert expected.sentence.replace("'", "&#39;") in cycle["html"]
    assert cycle["stored"]["2026-Q3"].goals_source.endswith("goals.toml")
    assert cycle["stored"]["2026-Q3"].goals_sha256 is not None


def test_no_save_writes_the_report_and_leaves_the_store_alone(tmp_path):
    from tinyworld import build_store

    store = build_store(tmp_path)
    args = ["review", "--store", str(store), "--period", "2025-Q1", "--template", "community"]
    res = runner.invoke(app, [*args, "--no-save", "--out", str(tmp_path / "a.html")])
    assert res.exit_code == 0, res.output
    assert "not kept (--no-save)" in res.output and (tmp_path / "a.html").exists()
    with Store(store, read_only=True) as st:
        assert ReviewLog(st).reviews() == []
    for n in (1, 2):
        res = runner.invoke(app, [*args, "--out", str(tmp_path / f"{n}.html")])
        assert res.exit_code == 0 and f"kept as version {n} of the 2025-Q1 review" in res.output
    with Store(store, read_only=True) as st:
        assert [r.version for r in ReviewLog(st).reviews()] == [1, 2]
