"""The Goals section of the normal report: goals judged, benchmarks drawn with the brand's interval
beside them (grey with a caveat when the definitions differ), a bad goals file shown as its problems."""

from __future__ import annotations

from datetime import date

from afterclick.goals import compare, goals_text, load_benchmarks
from afterclick.report.sections import SectionContext
from afterclick.report.sections.goals import benchmark_figure, build
from afterclick.results import Direction, Family, KPIResult, Status, Unit


def _nps(value=34.0, ci=(28.0, 40.0)) -> KPIResult:
    return KPIResult("advocacy.nps", "NPS", Family.ADVOCACY, Unit.SCORE, Direction.HIGHER,
                     "NPS = % promoters (9-10) - % detractors (0-6).", Status.COMPUTED, value=value, ci=ci)


def test_the_brands_interval_is_drawn_beside_each_benchmark():
    rows = {b.id: b for b in load_benchmarks()}
    comps = [compare(_nps(), rows["surveymonkey-nps-mean"]), compare(_nps(), rows["xm-nps-2022-retail"])]
    fig = benchmark_figure(_nps(), comps)
    yours = fig.data[0]
    assert list(yours.x) == [34.0]
    assert list(yours.error_x.array) == [6.0] and list(yours.error_x.arrayminus) == [6.0]
    drawn = {name: list(t.y) for t in fig.data[1:] for name in [t.name]}
    like = [c.benchmark.id for c in comps if c.like_for_like]
    other = [c.benchmark.id for c in comps if not c.like_for_like]
    assert drawn.get("benchmark, same definition", []) == like
    assert drawn.get("benchmark, another definition (caveat)", []) == other
    assert "surveymonkey-nps-mean" in like  # an NPS of your own customers against organisations' NPS


def test_the_normal_report_judges_a_goals_file(demo_ws, tmp_path):
    path = tmp_path / "goals.toml"
    path.write_text(goals_text("ecommerce", date(2026, 12, 4)), encoding="utf-8")
    section = build(SectionContext(ws=demo_ws, results={}, options={"goals": path}))
    assert section.key == "goals"
    names = [c.eyebrow for c in section.cards if c.eyebrow]
    assert "advocacy.nps" in names
    nps = next(c for c in section.cards if c.eyebrow == "advocacy.nps")
    assert any(s.startswith("Goal nps (short-term") for s in nps.sentences)
    assert any("surveymonkey-nps-mean" in s for s in nps.sentences) and nps.figure is not None


def test_a_bad_goals_file_is_shown_as_its_problems(demo_ws, tmp_path):
    path = tmp_path / "goals.toml"
    path.write_text('[[goal]]\nid = "a"\nkpi = "advocacy.npz"\n', encoding="utf-8")
    section = build(SectionContext(ws=demo_ws, results={}, options={"goals": path}))
    assert section.cards[0].title == "The goals file goals.toml has problems"
    assert len(section.cards[0].sentences) >= 5  # every problem, at once


def test_no_goals_no_section(demo_ws):
    assert build(SectionContext(ws=demo_ws, results={})) is None


def test_the_report_follows_the_template_a_goals_file_beside_the_store_names(tmp_path):
    from afterclick.goals.templates import TEMPLATES, report_order

    store = tmp_path / "brand.duckdb"
    assert report_order(store) == ()  # no goals file: the default order
    assert report_order(store, "saas") == TEMPLATES["saas"].kpis
    (tmp_path / "goals.toml").write_text(goals_text("media", date(2026, 12, 4)), encoding="utf-8")
    assert report_order(store) == TEMPLATES["media"].kpis
    (tmp_path / "goals.toml").write_text("[[goal]]\nid = 3\n", encoding="utf-8")
    assert report_order(store) == ()  # a bad file: its problems are the Goals section's to show


def test_render_report_order_puts_the_templates_kpis_first_and_its_first_chart_as_headline(demo_ws):
    import re

    from afterclick.report import render_report

    ids = ("advocacy.nps", "retention.cohort_monthly", "campaigns.clicks_vs_commitment")
    results = [demo_ws.kpi(k) for k in ids]
    default = render_report(results, title="t")
    ordered = render_report(results, title="t", order=("advocacy.nps", "retention.cohort_monthly"))
    pat = r'<section class="card chart( headline)?" id="[^"]*" data-kpi="([^"]+)"'
    assert re.findall(pat, default)[0] == (" headline", "campaigns.clicks_vs_commitment")
    charts = re.findall(pat, ordered)
    assert [k for _, k in charts] == ["advocacy.nps", "retention.cohort_monthly", "campaigns.clicks_vs_commitment"]
    assert [h for h, _ in charts] == [" headline", "", ""]


def test_the_experiments_that_ended_in_the_period(tmp_path):
    """An experiment ends when the experiments table says, else at its last assignment."""
    from tinyworld import build_store

    from afterclick.ingest import ingest
    from afterclick.kpis.base import Params
    from afterclick.review import parse_period
    from afterclick.review.context import ended_experiments
    from afterclick.store import Store
    from afterclick.workspace import Workspace

    store = build_store(tmp_path)
    src = tmp_path / "more"
    src.mkdir()
    people = "ABCDEF"
    (src / "assignments.csv").write_text("experiment_id,customer_id,variant,ts\n" + "".join(
        f"{e},{c},{'control' if i % 2 else 'new'},{day}\n" for e, day in (("exp-a", "2025-01-08"), ("exp-b", "2025-03-20"))
        for i, c in enumerate(people)), encoding="utf-8")
    (src / "experiments.csv").write_text("experiment_id,name,end\nexp-a,Subject line,2025-02-15\n", encoding="utf-8")
    with Store(store) as st:
        ingest(st, src)
        ws = Workspace(st, Params())
        try:
            ended = {p: ended_experiments(ws, parse_period(p)) for p in ("2025-01", "2025-02", "2025-03")}
        finally:
            ws.refresh()
    assert ended["2025-01"] == ()
    (a,), (b,) = ended["2025-02"], ended["2025-03"]
    assert (a.experiment_id, a.ended.date().isoformat(), a.end_from) == ("exp-a", "2025-02-15", "the experiments table")
    assert (b.experiment_id, b.ended.date().isoformat(), b.end_from) == ("exp-b", "2025-03-20", "the last assignment")
    assert a.result.experiment_id == "exp-a" and a.result.verdict


def test_a_change_is_said_with_its_sign_and_shares_in_points():
    from afterclick.report.sections.goals import _signed

    assert _signed(2.64, Unit.SCORE) == "+2.6" and _signed(-2.64, Unit.SCORE) == "-2.6"
    assert _signed(-0.006, Unit.FRACTION) == "-0.6 pts" and _signed(0.0123, Unit.FRACTION) == "+1.2 pts"
