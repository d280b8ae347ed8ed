"""Benchmarks: every shipped row cited and defined, a user's file validated the same way (every problem
at once, with its line), like-for-like comparison only, and the industry templates' KPI ids."""

from __future__ import annotations

import csv
from datetime import date

import pytest

from afterclick.goals import TEMPLATES, FileProblems, compare, load_benchmarks
from afterclick.goals.benchmarks import (
    COLUMNS,
    KPI_DEFINITION_KEYS,
    SHIPPED,
    STATISTICS,
    validate_benchmarks,
)
from afterclick.kpis import REGISTRY
from afterclick.results import Direction, Family, KPIResult, Status, Unit

TODAY = date(2026, 12, 4)


def test_no_shipped_row_lacks_a_source_a_date_or_a_definition():
    rows = load_benchmarks(today=TODAY)
    assert len(rows) >= 40
    with SHIPPED.open(encoding="utf-8") as f:
        raw = list(csv.DictReader(f))
    assert len(raw) == len(rows)
    for r in raw:
        for col in ("source", "url", "retrieved", "definition", "definition_key", "statistic", "population",
                    "region", "period", "value", "metric"):
            assert r[col].strip(), (r["id"], col)
        assert r["url"].startswith("https://"), r["id"]
        assert date.fromisoformat(r["retrieved"]) <= TODAY
        assert r["statistic"] in STATISTICS
        assert not r["kpi"] or r["kpi"] in REGISTRY, r["id"]
    assert len({r.id for r in rows}) == len(rows)


def test_figures_marked_second_hand_are_not_shipped():
    text = SHIPPED.read_text(encoding="utf-8").lower()
    for absent in ("rival iq", "satmetrix benchmarks 2023", "posthog", "worldmetrics", "retently"):
        assert absent not in text
    values = {(r.source.split(",")[0], r.value) for r in load_benchmarks(today=TODAY)}
    assert ("Recurly Research", 5.6) not in values and ("Recurly Research", 3.27) not in values


def test_published_figures_are_as_cited():
    by = {r.id: r for r in load_benchmarks(today=TODAY)}
    assert by["acsi-us-national-2023q4"].value == 77.8
    assert by["xm-nps-2023-grocers"].value == 30.1 and by["xm-nps-2023-consumer-payments"].value == -6.1
    assert by["surveymonkey-nps-mean"].value == 32 and by["surveymonkey-cx-nps-median"].statistic == "median"
    nrr = [by[f"saascapital-nrr-2023-{b}"].value for b in ("lt12k", "12-25k", "25-50k", "50-100k", "100-250k", "gt250k")]
    grr = [by[f"saascapital-grr-2023-{b}"].value for b in ("lt12k", "12-25k", "25-50k", "50-100k", "100-250k", "gt250k")]
    assert nrr == [100, 102, 103, 105, 107, 110] and grr == [90, 90, 92, 93, 93, 93]
    assert by["mailchimp-open-all"].value == 22.71 and by["mailchimp-click-all"].value == 2.91
    assert by["recurly-churn-2019-b2b"].value == 5.15


HEADER = ",".join((*COLUMNS, "source_note"))
GOOD = ("my-rival-nps,Rival NPS,advocacy.nps,41,mean,nps_points,their customers,UK,2026,Rival annual report,"
        "https://example.org/report,2026-11-01,\"NPS, % 9-10 minus % 0-6\",nps.0-10.own_customers,,page 12 of their report")


def test_a_bad_user_file_lists_every_problem_with_its_line():
    bad = "\n".join([
        HEADER,
        GOOD,
        "xm-nps-2023-grocers,Copy,advocacy.nps,30,mean,nps_points,p,US,2023,s,https://x.org,2026-01-01,d,k,,note",
        "Bad Id,M,advocacy.npz,12%,average,percent,p,US,2024,,ftp://x,2030-01-01,d,k,,",
        "ok-2,M,,3,median,stars,p,US,2024,src,https://x.org,yesterday,,k,,note",
    ])
    rows, issues = validate_benchmarks(bad, "mine.csv", origin="user", today=TODAY,
                                       taken={r.id for r in load_benchmarks(today=TODAY)})
    assert [r.id for r in rows] == ["my-rival-nps"]
    got = [(i.line, i.message) for i in issues]

    def has(line: int, *words: str) -> bool:
        return any(n == line and all(w in m for w in words) for n, m in got)

    assert has(3, "already used by the shipped benchmarks")
    assert has(4, "id 'Bad Id'")
    assert has(4, "kpi 'advocacy.npz' is not a KPI id")
    assert has(4, "value '12%' is not a number")
    assert has(4, "statistic 'average'")
    assert has(4, "source is empty")
    assert has(4, "url 'ftp://x'")
    assert has(4, "retrieved 2030-01-01 is in the future")
    assert has(4, "source_note is empty")
    assert has(5, "scale 'stars'")
    assert has(5, "retrieved 'yesterday' is not a date")
    assert has(5, "definition is empty")
    assert len(got) == 12


def test_a_user_file_without_the_source_note_column_is_refused(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(",".join(COLUMNS) + "\n" + GOOD.rsplit(",", 1)[0] + "\n", encoding="utf-8")
    with pytest.raises(FileProblems) as info:
        load_benchmarks(path, today=TODAY)
    assert any("source_note" in i.message and i.line == 1 for i in info.value.issues)


def test_user_rows_are_merged_after_the_shipped_ones(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(HEADER + "\n" + GOOD + "\n", encoding="utf-8")
    rows = load_benchmarks(path, today=TODAY)
    mine = rows[-1]
    assert mine.id == "my-rival-nps" and mine.origin == "user" and mine.source_note == "page 12 of their report"
    assert mine.line == 2 and len(rows) == len(load_benchmarks(today=TODAY)) + 1


def kpi_result(kpi_id: str, value: float, ci: tuple[float, float] | None, unit: Unit,
               direction: Direction = Direction.HIGHER) -> KPIResult:
    k = REGISTRY[kpi_id]
    return KPIResult(id=kpi_id, name=k.name, family=Family(k.family), unit=unit, direction=direction,
                     definition=k.definition, status=Status.COMPUTED, value=value, ci=ci)


def test_like_for_like_comparisons_use_the_brands_interval():
    by = {r.id: r for r in load_benchmarks(today=TODAY)}
    mean = by["surveymonkey-nps-mean"]  # 32, same definition key as advocacy.nps
    inside = compare(kpi_result("advocacy.nps", 34.0, (28.0, 40.0), Unit.SCORE), mean)
    assert inside.like_for_like and inside.position == "within"
    assert "95 % interval 28.0 to 40.0" in inside.sentence and "no clear difference" in inside.sentence
    above = compare(kpi_result("advocacy.nps", 45.0, (38.0, 52.0), Unit.SCORE), mean)
    assert above.position == "better"
    below = compare(kpi_result("advocacy.nps", 20.0, (14.0, 26.0), Unit.SCORE), mean)
    assert below.position == "worse"
    # percent benchmarks meet fraction KPIs on the same scale: NRR 102 % is 1.02
    nrr = by["saascapital-nrr-2023-12-25k"]
    assert compare(kpi_result("b2b.nrr", 1.05, (1.03, 1.07), Unit.FRACTION), nrr).position == "better"
    assert compare(kpi_result("b2b.nrr", 1.01, (0.97, 1.05), Unit.FRACTION), nrr).position == "within"
    # a churn KPI with another definition (lapsed for 90 days vs monthly cancellations) is not positioned
    churn = kpi_result("retention.churn_rate", 0.03, (0.02, 0.04), Unit.FRACTION, Direction.LOWER)
    assert compare(churn, by["recurly-churn-2019-all"]).like_for_like is False  # different definition


def test_unlike_definitions_are_shown_side_by_side_with_a_caveat():
    by = {r.id: r for r in load_benchmarks(today=TODAY)}
    csat = kpi_result("advocacy.csat", 0.82, (0.78, 0.86), Unit.FRACTION)
    c = compare(csat, by["acsi-us-national-2023q4"])
    assert not c.like_for_like and c.position is None
    assert "CAVEAT" in c.sentence and "not like for like" in c.caveat and "ACSI" in c.caveat
    assert "95 % interval 78.0% to 86.0%" in c.sentence  # the brand's interval always beside it
    panel = compare(kpi_result("advocacy.nps", 34.0, (28.0, 40.0), Unit.SCORE), by["xm-nps-2023-grocers"])
    assert not panel.like_for_like and "consumer panel" in panel.caveat


def test_declared_definition_keys_name_registered_kpis():
    assert set(KPI_DEFINITION_KEYS) <= set(REGISTRY.ids())


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_templates_reference_existing_kpis_and_benchmark_rows(name):
    t = TEMPLATES[name]
    assert t.kpis and set(t.kpis) <= set(REGISTRY.ids()), set(t.kpis) - set(REGISTRY.ids())
    assert {g["kpi"] for g in t.goals} <= set(t.kpis)
    shipped = {r.id for r in load_benchmarks(today=TODAY)}
    assert set(t.benchmarks) <= shipped, set(t.benchmarks) - shipped
    for row in (r for r in load_benchmarks(today=TODAY) if r.id in t.benchmarks):
        assert row.kpi is None or row.kpi in REGISTRY


def test_the_five_templates_exist():
    assert set(TEMPLATES) == {"ecommerce", "saas", "b2b", "media", "community"}
