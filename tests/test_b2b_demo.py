"""The B2B demo's planted truths, recovered by the B2B KPIs (see afterclick.demo.b2b).

Each check compares a planted number with the KPI's count, through a 95% Wilson interval on
the count, or the order of campaigns the plant makes.
"""

from __future__ import annotations

import math

import pytest

import afterclick
from afterclick.demo.b2b import BUY_ANYWAY, EVENTS, PAID, WEBINAR, write_b2b_demo
from afterclick.ingest import ingest
from afterclick.store import Store


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("b2b_demo")
    write_b2b_demo(folder / "src", seed=7)
    with Store(folder / "s.duckdb") as store:
        summary = ingest(store, folder / "src")
        assert summary.adds_up and summary.quarantined == 0
    w = afterclick.open(folder / "s.duckdb", read_only=True)
    yield w
    w.close()


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    p = k / n
    mid, half = (p + z * z / (2 * n)), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (mid - half) / (1 + z * z / n), (mid + half) / (1 + z * z / n)


def test_the_webinar_series_converts_slowly_but_more(ws):
    share = ws.kpi("b2b.lead_to_opportunity").rows.set_index(["campaign_id", "window"]).opportunity_share
    assert share[WEBINAR, 90] < share[EVENTS, 90]  # weak at 90 days...
    assert share[WEBINAR, 365] > share[EVENTS, 365] > share[PAID, 365]  # ...the strongest at a year
    assert share[WEBINAR, 365] > 3 * share[WEBINAR, 90]
    late = ws.kpi("b2b.late_converters").rows.set_index("campaign_id").late_share
    assert late.idxmax() == WEBINAR


def test_the_paid_campaign_fills_the_mql_count_and_rarely_converts(ws):
    rows = ws.kpi("b2b.lead_to_opportunity").rows
    mqls = rows[rows.window == 30].set_index("campaign_id").leads
    assert mqls.idxmax() == PAID
    at_year = rows[rows.window == 365].set_index("campaign_id")
    assert at_year.opportunity_share.idxmin() == PAID and at_year.opportunity_share[PAID] < 0.1


def test_a_third_of_mqls_wait_a_week_and_convert_at_half_the_rate(ws):
    rows = ws.kpi("b2b.untouched_leads").rows
    lo, hi = wilson(int(rows.untouched.sum()), int(rows.mqls.sum()))
    assert lo < 1 / 3 < hi
    ratio = ws.kpi("b2b.conversion_by_follow_up")
    assert 0.35 < ratio.value < 0.65  # planted 0.5; about 140 and 30 conversions behind it


def test_rejected_leads_buy_anyway(ws):
    r = ws.kpi("b2b.rejected_leads")
    lo, hi = wilson(int(r.rows.bought_within_year.sum()), int(r.rows.rejected_a_year_ago.sum()))
    assert lo < BUY_ANYWAY < hi
    assert r.rows.engaged.sum() / r.rows.rejected.sum() > 0.45  # 60% visit again, some after the data ends


def test_revenue_retention(ws):
    rows = ws.kpi("b2b.logo_retention").rows.set_index(["breakdown", "group"])
    lo, hi = wilson(int(rows.retained["all", "all"]), int(rows.customers["all", "all"]))
    assert lo < 0.98 ** 12 < hi  # 2% cancel each month
    assert rows.grr["all", "all"] <= rows.nrr["all", "all"]
    assert ws.kpi("b2b.buying_committee").value > 1.5  # the lead and some of up to three colleagues


# ------------------------------------------------------------------------------ the report's words


@pytest.fixture(scope="module")
def report_text(ws):
    """The B2B demo's report (its B2B KPIs and the B2B section) as the text a reader sees."""
    import html as htmllib
    import re

    from afterclick.report import render_report
    from afterclick.report.sections import SectionContext, build_sections

    results = ws.kpis(family="b2b")
    sections = build_sections(SectionContext(ws=ws, results={r.id: r for r in results}, strict=True,
                                             options={"currency": "$"}), ("afterclick.report.sections.b2b",))
    page = render_report(results, title="Larchwood", meta={"currency": "$"}, sections=sections)
    body = page[page.index('id="section-b2b"'):]
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def _interval_after(text: str, lead: str) -> tuple[float, float]:
    import re

    m = re.search(re.escape(lead) + r"[^()]*\(95% interval (\d+(?:\.\d)?)% to (\d+(?:\.\d)?)%\)", text)
    assert m, f"no interval after {lead!r} in the report"
    return float(m.group(1)) / 100, float(m.group(2)) / 100


def test_the_report_names_every_planted_truth(report_text):
    text = report_text
    # 1. the webinar series: slow but strong
    assert f"{WEBINAR} converts slowly but more" in text and "a year on they are the strongest" in text
    # 2. the paid campaign: the most MQLs, the fewest opportunities
    assert f"{PAID} brought the most MQLs" in text and "but the fewest opportunities" in text
    # 3. a third of MQLs left a week, converting at half the rate
    lo, hi = _interval_after(text, "Sales left")
    assert lo < 1 / 3 < hi and "without a touch for a week" in text
    assert "at about half the rate of those followed up within 7 days" in text
    # 4. rejected leads that buy within a year: the planted share inside the stated interval
    lo, hi = _interval_after(text, "Of those rejected a year ago or more,")
    assert lo < BUY_ANYWAY < hi and "bought within a year anyway" in text
    # retention and pipeline speak with intervals too
    # each month 2% cancel, 3% grow by a fifth, 1% shrink by a fifth: NRR 0.984 ** 12 expected
    lo, hi = _interval_after(text, "Net revenue retention is")
    assert lo < 0.984 ** 12 < hi
    assert "Pipeline velocity is $" in text and "of MQLs without a touch" in text


def test_awareness_grows_and_campaigns_influence_more_than_they_source(ws):
    rows = ws.kpi("b2b.direct_branded_share").rows.dropna(subset=["direct_branded_share"])
    first, last = rows.head(3), rows.tail(3)
    share = [(r.direct + r.branded).sum() / r.visits_with_channel.sum() for r in (first, last)]
    assert share[0] < 0.12 and share[1] > 0.2  # planted: the colleagues' share rises from 15% to 45%
    infl = ws.kpi("b2b.pipeline_influenced")
    assert infl.value > ws.kpi("b2b.pipeline_sourced").value  # rejected leads' deals name no source
    linear = infl.rows[infl.rows.model == "linear"].set_index("campaign_id")
    assert linear.revenue.idxmax() == WEBINAR
    year = ws.kpi("b2b.campaign_year").rows.set_index("campaign_id")
    assert year.return_on_spend.idxmax() == WEBINAR and year.cost_per_mql.idxmin() == WEBINAR


# ------------------------------------------------------------------------- the rows, as declared

def test_every_b2b_kpi_s_rows_are_as_declared(ws):
    """kpis/rows.toml: on the B2B demo, each b2b.* KPI's columns in order, roles that fit the
    executed values, and a monthly period column where one is declared."""
    from test_rows_schema import _fits

    from afterclick.kpis import REGISTRY
    from afterclick.results import Role

    results = [r for r in ws.kpis(family="b2b") if r.rows is not None]
    assert len(results) == len([k for k in REGISTRY if k.id.startswith("b2b.")])  # every one has rows here
    for r in results:
        schema = REGISTRY[r.id].rows_schema
        assert schema is not None, f"{r.id} has rows but no entry in kpis/rows.toml"
        assert list(r.rows.columns) == list(schema.names(ws.params)), r.id
        for c in schema.columns:
            assert _fits(c.role, r.rows[c.name]), (r.id, c.name, c.role)
        periods = [c.name for c in schema.columns if c.role is Role.PERIOD]
        assert (schema.period_grain(ws.params) == "month") == bool(periods), r.id
        for name in periods:
            assert (r.rows[name].dropna().dt.day == 1).all(), (r.id, name)
