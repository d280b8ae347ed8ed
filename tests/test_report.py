"""The HTML review report, its narrative, PII masking, value formatting and the plots.

All inputs are hand-written KPIResult objects whose rows follow the KPI contracts: test data,
small enough to check every expected sentence and number by hand.
"""

from __future__ import annotations

import json
import re
import tempfile
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.offline
import pytest

from afterclick.plots import plot_clicks_vs_commitment, plot_funnel, plot_lifecycle, plot_retention_heatmap
from afterclick.views.registry import PLOTS
from afterclick.plots.ladder import plot_commitment_ladder
from afterclick.report import ReportMeta, format_value, mask_pii, render_report, write_report
from afterclick.report import narrative
from afterclick.views import narrative_relationship as narrators
from afterclick.results import Direction, Family, KPIResult, Status, Unit

XSS = "</script><script>alert(1)</script>\"'"

# ----------------------------------------------------------------------------------- test data


def kpi(id: str, family: Family, unit: Unit = Unit.FRACTION, *, value=None, rows=None, status=Status.COMPUTED,
        reason=None, direction=Direction.HIGHER, ci=None, name=None, definition=None, params=None) -> KPIResult:
    return KPIResult(
        id=id, name=name or id.split(".")[1].replace("_", " ").capitalize(), family=family, unit=unit,
        direction=direction, definition=definition or f"Definition of {id}: numerator / denominator.\n\nMore detail.",
        status=status, reason=reason, value=value, ci=ci, rows=rows, params=params or {},
    )


def ts(s: str) -> pd.Timestamp:
    return pd.Timestamp(s, tz="UTC")


def campaigns(names=("Spring Giveaway", "Care Guide Series", "Summer Sale", "New Launch")) -> KPIResult:
    # ctr = clicks / impressions; retention_90d = retained / eligible (hand-computed)
    rows = pd.DataFrame({
        "campaign_id": ["c1", "c2", "c3", "c4"],
        "name": list(names),
        "channel": ["paid_social", "email", "search", "display"],
        "objective": ["awareness", "engagement", "conversion", "awareness"],
        "impressions": [50_000, 30_000, 40_000, 10_000],
        "clicks": [4_050, 390, 1_200, 200],
        "ctr": [0.081, 0.013, 0.03, 0.02],
        "acquired": [400, 120, 200, 30],
        "eligible": [300, 100, 150, 0],
        "retained": [12, 52, 30, 0],
        "retention_90d": [0.04, 0.52, 0.2, None],
        "revenue": [6_000.0, 9_600.0, 8_000.0, 900.0],
        "revenue_per_customer": [15.0, 80.0, 40.0, 30.0],
        "spend": [9_000.0, 1_200.0, 5_000.0, 800.0],
    })
    return kpi("campaigns.clicks_vs_commitment", Family.CAMPAIGNS, Unit.FRACTION, rows=rows,
               name="Clicks vs commitment")


def ladder() -> KPIResult:
    stages = ["aware", "engaged", "trusting", "loyal", "advocate"]
    counts = {
        "2026-03-02": [50, 30, 12, 6, 2],
        "2026-03-09": [45, 30, 15, 7, 3],
        "2026-03-16": [40, 30, 17, 9, 4],
    }
    rows = pd.DataFrame(
        [{"period": ts(p), "stage": s, "customers": n, "share": n / sum(c)} for p, c in counts.items()
         for s, n in zip(stages, c)]
    )
    return kpi("ladder.commitment_ladder", Family.LADDER, value=0.3, rows=rows, name="Commitment ladder",
               params={"grain": "week"})


def cohorts(kpi_id="retention.cohort_weekly") -> KPIResult:
    rows = pd.DataFrame({
        "cohort": [ts("2026-03-02")] * 3 + [ts("2026-03-09")] * 2 + [ts("2026-03-16")],
        "period": [0, 1, 2, 0, 1, 0],
        "cohort_size": [100, 100, 100, 50, 50, 80],
        "active_on": [100, 30, 20, 50, 20, 80],
        "active_on_or_after": [100, 35, 20, 50, 20, 80],
        "retention_on": [1.0, 0.30, 0.20, 1.0, 0.40, 1.0],
        "retention_on_or_after": [1.0, 0.35, 0.20, 1.0, 0.40, 1.0],
    })
    return kpi(kpi_id, Family.RETENTION, rows=rows, name="Weekly cohort retention", params={"grain": "week"})


def lifecycle() -> KPIResult:
    rows = pd.DataFrame({
        "period": [ts("2026-03-02"), ts("2026-03-09"), ts("2026-03-16")],
        "new": [100, 80, 120],
        "returning": [0, 60, 90],
        "resurrecting": [0, 5, 30],
        "dormant": [0, 40, 90],
        "quick_ratio": [None, 2.125, 1.6666666666666667],
    })
    return kpi("retention.lifecycle", Family.RETENTION, Unit.RATIO, value=1.6666666666666667, rows=rows,
               name="Lifecycle and quick ratio", params={"grain": "week"})


def funnel() -> KPIResult:
    steps = ["click", "engaged", "value", "relationship", "revenue", "loyalty"]
    labels = ["Clicked", "Engaged (a visit)", "Found value", "Came back", "Bought", "Bought again"]
    clicks = [1_000, 620, 300, 120, 80, 20]
    rows = pd.DataFrame({"step": steps, "label": labels, "clicks": clicks, "share": [c / 1_000 for c in clicks]})
    return kpi("journey.funnel", Family.JOURNEY, value=0.12, rows=rows, name="After-click journey")


def sample_results(**overrides: KPIResult) -> list[KPIResult]:
    results = {
        "campaigns": campaigns(),
        "ladder": ladder(),
        "cohorts": cohorts(),
        "lifecycle": lifecycle(),
        "funnel": funnel(),
        "nowhere": kpi("journey.clicks_to_nowhere_rate", Family.JOURNEY, value=0.38, direction=Direction.LOWER,
                       name="Clicks to nowhere"),
        "impressions": kpi("reach.impressions", Family.REACH, Unit.COUNT, value=130_000,
                           direction=Direction.NEUTRAL, name="Impressions"),
        "ctr": kpi("reach.ctr", Family.REACH, Unit.FRACTION, value=0.0453, direction=Direction.NEUTRAL, name="CTR"),
        "repeat": kpi("retention.repeat_visit_rate", Family.RETENTION, value=0.412, ci=(0.38, 0.44),
                      name="Repeat-visit rate"),
        "duration": kpi("trust.session_duration_median", Family.TRUST, Unit.SECONDS, value=200,
                        name="Median session duration"),
        "aov": kpi("value.average_order_value", Family.VALUE, Unit.CURRENCY, value=42.5, name="Average order value",
                   rows=pd.DataFrame({"segment": ["new", "returning"], "orders": [1200, 3400],
                                      "average_order_value": [38.2, 44.1]})),
        "nps": kpi("advocacy.nps", Family.ADVOCACY, Unit.SCORE, status=Status.SKIPPED,
                   reason="needs table responses", name="Net Promoter Score"),
        "community": kpi("community.active_participants", Family.COMMUNITY, Unit.COUNT, status=Status.FAILED,
                         reason="Binder Error: column author_id not found", name="Active participants"),
    }
    results.update(overrides)
    return list(results.values())


META = {
    "store": "/data/brand.duckdb",
    "start": "2026-03-02",
    "end": "2026-03-23",
    "row_counts": {"events": 123_456, "transactions": 4_600, "campaigns": 4},
    "generated_at": pd.Timestamp("2026-03-24 09:30", tz="UTC").to_pydatetime(),
    "version": "0.1.0",
}


class Scripts(HTMLParser):
    """Collects every <script> element (attributes and text) and every src/href attribute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[tuple[dict, str]] = []
        self.links: list[str] = []
        self._in: dict | None = None
        self._buf: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.links += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "script":
            self._in, self._buf = a, []

    def handle_endtag(self, tag):
        if tag == "script" and self._in is not None:
            self.scripts.append((self._in, "".join(self._buf)))
            self._in = None

    def handle_data(self, data):
        if self._in is not None:
            self._buf.append(data)


def parse(html: str) -> Scripts:
    p = Scripts()
    p.feed(html)
    return p


def figures(html: str) -> dict[str, dict]:
    return {a["id"]: json.loads(text) for a, text in parse(html).scripts if a.get("type") == "application/json"}


@pytest.fixture(scope="module")
def html() -> str:
    return render_report(sample_results(), title="Q1 2026 review", meta=META)


# ----------------------------------------------------------------------------- self-contained


def test_one_self_contained_file_with_plotly_inlined_once(html):
    header = plotly.offline.get_plotlyjs()[:60]
    assert html.count(header) == 1
    assert html.count("Plotly.newPlot(") == 1  # one bootstrap loop, not a script per chart
    p = parse(html)
    assert all(not a.get("src") for a, _ in p.scripts)
    assert [link for link in p.links if not link.startswith("#")] == []
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", html, re.I)
    assert not re.search(r"@import|url\(\s*[\"']?(https?:)?//", html, re.I)


def test_write_report_writes_the_same_html(tmp_path):
    path = write_report(tmp_path / "out" / "report.html", sample_results(), title="T", meta=META)
    assert path.exists() and path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_sample_report_for_eyes():
    # the rendering a person (or a headless browser) looks at: /tmp/report_sample.html
    path = write_report(Path(tempfile.gettempdir()) / "report_sample.html", sample_results(),
                        title="Q1 2026 review", meta=META)
    assert path.stat().st_size > 1_000_000


# ----------------------------------------------------------------------------------- structure


def test_each_chart_has_its_container_and_figure(html):
    figs = figures(html)
    for kpi_id in ("campaigns.clicks_vs_commitment", "ladder.commitment_ladder", "retention.cohort_weekly",
                   "retention.lifecycle", "journey.funnel"):
        anchor = "kpi-" + kpi_id.replace(".", "-").replace("_", "-")
        assert f'id="{anchor}"' in html
        section = html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]
        fig_id = re.search(r'data-figure="([^"]+)"', section).group(1)
        assert set(figs[fig_id]) >= {"data", "layout"}
    assert len(figs) == 5


def test_sections_follow_the_layout_order(html):
    order = ["kpi-campaigns-clicks-vs-commitment", "kpi-ladder-commitment-ladder", "kpi-retention-cohort-weekly",
             "kpi-retention-lifecycle", "kpi-journey-funnel", 'id="scorecard"', 'id="not-measured"']
    positions = [html.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_coverage_shows_meta(html):
    assert "/data/brand.duckdb" in html
    assert "2 Mar 2026 to 22 Mar 2026" in html  # end is exclusive
    assert "123,456" in html and "transactions" in html
    assert "afterclick 0.1.0" in html and "24 Mar 2026, 09:30 UTC" in html


def test_meta_accepts_a_dataclass_or_a_dict():
    m = ReportMeta.coerce({"store_path": "x.duckdb", "start": "2026-01-01", "analyst": "Ana"})
    assert m.store == "x.duckdb" and m.period_start == "2026-01-01" and m.extra == {"analyst": "Ana"}
    assert ReportMeta.coerce(m) is m
    with pytest.raises(TypeError, match="meta must be"):
        ReportMeta.coerce(["nope"])


# ----------------------------------------------------------------------------------- narrative


def test_headline_names_the_right_campaigns(html):
    expected = ("Spring Giveaway won the highest click-through rate (8.1%) but kept only 4% of its customers "
                "90 days on; Care Guide Series, with a modest 1.3% CTR, kept 52%.")
    assert narrative.headline(sample_results()) == expected
    assert expected in unescape(html)


def test_headline_ignores_tiny_campaigns_and_handles_one_winner():
    r = campaigns()
    rows = r.rows.copy()
    rows.loc[3, ["eligible", "retained", "retention_90d"]] = [3, 3, 1.0]  # 3 of 3 kept is not a finding
    assert "Care Guide Series" in narrators.clicks_vs_commitment(KPIResult(**{**r.__dict__, "rows": rows}))
    over = rows.copy()
    over.loc[2, ["impressions", "clicks", "ctr"]] = [5_000, 10_000, 2.0]  # clicks without impressions
    s = narrators.clicks_vs_commitment(KPIResult(**{**r.__dict__, "rows": over}))
    assert s.startswith("Spring Giveaway won the highest click-through rate (8.1%)")
    rows.loc[0, "retention_90d"] = 0.9  # the top-CTR campaign also keeps the most
    s = narrators.clicks_vs_commitment(KPIResult(**{**r.__dict__, "rows": rows}))
    assert s.startswith("Spring Giveaway won both the highest click-through rate (8.1%)")


def test_other_sentences_follow_the_rows():
    s = narrative.sentences(sample_results())
    assert s["ladder.commitment_ladder"] == (
        "In the week starting 16 Mar 2026, 30% of the 100 customers on the ladder stood at trusting or above, "
        "up from 20% of 100 in the week starting 2 Mar 2026.")
    # period 1: (0.30*100 + 0.40*50) / 150 = 33%
    assert s["retention.cohort_weekly"].startswith("Across 2 cohorts old enough, 33% of new customers")
    assert s["retention.cohort_weekly"].endswith("in the week after their first touch.")  # week 2: 1 cohort only
    # the week's own ratio, then the verdict pooled over the (here only 3) weeks up to it:
    # (100 + 0 + 80 + 5 + 120 + 30) / (0 + 40 + 90) = 335 / 130
    assert s["retention.lifecycle"] == (
        "In the week starting 16 Mar 2026, 120 new and 30 resurrected customers came in while 90 went dormant "
        "(quick ratio 1.67). Over the last 3 weeks (2 Mar 2026 to 22 Mar 2026), 335 came in or came back while "
        "130 went dormant: a quick ratio of 2.58, so the active base is growing.")
    assert s["journey.funnel"] == ("Of the 1,000 clicks at least 90 days old, 12% reached a relationship and 8% "
                                   "reached revenue; 38% led nowhere.")
    young = funnel()
    young = KPIResult(**{**young.__dict__, "value": None,
                         "rows": young.rows.assign(clicks=0, share=float("nan"))})
    assert narrators.funnel(young) == ("No click is 90 days old yet, so none can be followed through every "
                                       "step after it: the journey needs more history.")


# ------------------------------------------------------------------------------------ escaping


def test_script_injection_is_escaped_in_html_and_json():
    names = (XSS, "Care Guide Series", "Summer Sale", "New Launch")
    results = sample_results(
        campaigns=campaigns(names),
        nps=kpi("advocacy.nps", Family.ADVOCACY, Unit.SCORE, status=Status.SKIPPED, reason=f"needs {XSS}"),
        lifecycle=kpi("retention.lifecycle", Family.RETENTION, Unit.RATIO, status=Status.SKIPPED,
                      reason=f"bad <b>{XSS}</b>"),
    )
    out = render_report(results, title=f"Review {XSS}", meta={**META, "store": XSS})
    p = parse(out)
    # the only scripts are plotly.js, the bootstrap, and one JSON block per figure
    kinds = [a.get("type", "js") for a, _ in p.scripts]
    assert kinds.count("js") == 2 and set(kinds) == {"js", "application/json"}
    assert not any("alert(1)" in text for a, text in p.scripts if a.get("type") != "application/json")
    assert "<script>alert(1)" not in out
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;" in out  # table, narrative, reason
    assert out.count("&lt;script&gt;alert(1)") >= 5
    raw_json = [text for a, text in p.scripts if a.get("type") == "application/json"]
    assert all("<" not in t and ">" not in t for t in raw_json)
    campaign_fig = figures(out)["figure-0-data"]
    labels = campaign_fig["data"][0]["text"]
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;\"'" in labels  # plotly shows it as text


def test_pii_is_masked_in_rows_and_reasons():
    names = ("Promo for ana.lopez@example.com", "Call +44 20 7946 0958", "Summer Sale 2026-06-01", "New Launch")
    results = sample_results(
        campaigns=campaigns(names),
        nps=kpi("advocacy.nps", Family.ADVOCACY, Unit.SCORE, status=Status.SKIPPED,
                reason="ask bob@example.org (555) 123-4567"),
    )
    out = render_report(results, title="T", meta=META)
    for secret in ("ana.lopez@example.com", "7946 0958", "bob@example.org", "123-4567"):
        assert secret not in out
    assert "Promo for [e-mail]" in out and "Summer Sale 2026-06-01" in out
    unmasked = render_report(results, title="T", meta=META, mask=False)
    assert "ana.lopez@example.com" in unmasked


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail ana.lopez@example.com now", "mail [e-mail] now"),
        ("x.y+tag@sub.example.co.uk.", "[e-mail]."),
        ("call 555-123-4567", "call [phone]"),
        ("(555) 123-4567", "[phone]"),
        ("+44 20 7946 0958", "[phone]"),
        ("+1 (555) 123-4567 ext", "[phone] ext"),
        ("07700 900123", "[phone]"),
        ("07700900123", "[phone]"),
        ("555.123.4567", "[phone]"),
    ],
)
def test_mask_pii_masks_emails_and_phones(text, expected):
    assert mask_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "price $1,299.00", "EUR 1234567.89", "on 2026-03-01 12:30", "01.03.2026", "1/3/2026", "12 500 000 visitors",
        "2019-2024", "order 12345678", "version 1.2.3", "8.1% CTR, 52% kept", "3m 20s", "+12 500 visitors",
        "SKU 4006381333931", "On 2026-03-01 1200 customers", "score 9/10", "ids 1001, 1002, 1003",
    ],
)
def test_mask_pii_keeps_ordinary_numbers(text):
    assert mask_pii(text) == text


def test_mask_pii_none_passes_through():
    assert mask_pii(None) is None


# ----------------------------------------------------------------------------------- scorecard


def scorecard(html: str) -> str:
    return html.split('id="scorecard"', 1)[1].split('id="not-measured"', 1)[0]


def test_every_scorecard_entry_has_its_definition(html):
    card = scorecard(html)
    entries = re.findall(r'<li class="kpi [^"]*"[^>]*data-kpi="([^"]+)"', card)
    assert len(entries) == len(sample_results())
    items = card.split('<li class="kpi ')[1:]
    for kpi_id, item in zip(entries, items):
        assert "<summary>Definition</summary>" in item
        assert f"Definition of {kpi_id}: numerator / denominator." in item
    # charts carry theirs too, the clicks-to-nowhere companion included
    funnel_section = html.split('id="kpi-journey-funnel"', 1)[1].split("</section>", 1)[0]
    assert "Definition of journey.clicks_to_nowhere_rate" in funnel_section and "38.0%" in funnel_section


def test_scorecard_follows_family_order(html):
    card = scorecard(html)
    titles = re.findall(r"<h3>([^<]+)</h3>", card)
    expected = [f.title for f in Family if any(r.family is f for r in sample_results())]
    assert [unescape(t) for t in titles] == expected


def test_values_are_formatted_by_unit_in_the_scorecard(html):
    card = scorecard(html)
    for text in ("130,000", "4.5%", "41.2%", "38.0% to 44.0%", "3m 20s", "42.50", "1.67", "↑ higher is better",
                 "↓ lower is better", "context, not a goal"):
        assert text in card, text


def test_skipped_and_failed_kpis_show_their_reason(html):
    gaps = html.split('id="not-measured"', 1)[1]
    assert "needs table responses" in gaps and "Binder Error: column author_id not found" in gaps
    assert "needs table responses" in scorecard(html)


def test_a_skipped_chart_kpi_shows_its_reason_instead_of_a_chart():
    results = sample_results(lifecycle=kpi("retention.lifecycle", Family.RETENTION, Unit.RATIO,
                                           status=Status.SKIPPED, reason="needs table events with 2 periods"))
    out = render_report(results, title="T", meta=META)
    section = out.split('id="kpi-retention-lifecycle"', 1)[1].split("</section>", 1)[0]
    assert "data-figure" not in section and "needs table events with 2 periods" in section
    assert len(figures(out)) == 4


def test_breakdown_tables_are_capped():
    rows = pd.DataFrame({"content_id": [f"p{i}" for i in range(120)], "saves": range(120)})
    r = kpi("resonance.save_rate", Family.RESONANCE, value=0.1, rows=rows)
    out = render_report([r], title="T", meta={}, max_rows=50)
    assert "120 rows, first 50 shown" in out and ">p49<" in out and ">p50<" not in out
    assert "Plotly.newPlot" not in out  # no chart, no plotly.js


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (0.0812, Unit.FRACTION, "8.1%"),
        (1.0, Unit.FRACTION, "100.0%"),
        (200, Unit.SECONDS, "3m 20s"),
        (45, Unit.SECONDS, "45s"),
        (3900, Unit.SECONDS, "1h 5m"),
        (2.4, Unit.SECONDS, "2.4s"),
        (1234.5, Unit.CURRENCY, "1,234.50"),
        (1234567, Unit.COUNT, "1,234,567"),
        (1234567.0, Unit.COUNT, "1,234,567"),
        (1.23456, Unit.RATIO, "1.23"),
        (12.5, Unit.DAYS, "12.5 days"),
        (1, Unit.DAYS, "1 day"),
        (42.04, Unit.SCORE, "42.0"),
        (0.252, Unit.SCORE, "0.25"),  # a sentiment in [-1, 1] keeps its second decimal
        (-0.5, Unit.SCORE, "-0.50"),
        (0.228, Unit.POINTS, "+22.8 pts"),
        (-0.031, Unit.POINTS, "-3.1 pts"),
        (None, Unit.FRACTION, "—"),
        (float("nan"), Unit.COUNT, "—"),
    ],
)
def test_format_value(value, unit, expected):
    assert format_value(value, unit) == expected


def test_currency_symbol_or_code():
    assert format_value(-5, Unit.CURRENCY, currency="€") == "-€5.00"
    assert format_value(5, Unit.CURRENCY, currency="eur") == "EUR 5.00"


# --------------------------------------------------------------------------------------- plots


def test_plots_registry_covers_the_charted_kpis():
    assert set(PLOTS) >= {"campaigns.clicks_vs_commitment", "ladder.commitment_ladder", "retention.cohort_weekly",
                          "retention.cohort_monthly", "retention.lifecycle", "journey.funnel"}
    assert all(isinstance(PLOTS[r.id](r), go.Figure) for r in sample_results() if r.id in PLOTS and r.ok)


def test_clicks_vs_commitment_plot_highlights_the_quadrant():
    fig = plot_clicks_vs_commitment(campaigns())
    trace = fig.data[0]
    assert list(trace.x) == [0.081, 0.013, 0.03] and len(trace.y) == 3  # New Launch has no 90-day data
    # pooled CTR 5,840/130,000 = 4.5%, pooled retention 94/550 = 17%: only Spring Giveaway is in the quadrant
    assert list(trace.marker.color) == ["#c8553d", "#0f766e", "#0f766e"]
    assert any("not shown" in a.text for a in fig.layout.annotations)


def test_ladder_stacks_stages_bottom_to_top():
    fig = plot_commitment_ladder(ladder())
    assert [t.name for t in fig.data] == ["aware", "engaged", "trusting", "loyal", "advocate"]


def test_heatmap_has_on_and_on_or_after():
    fig = plot_retention_heatmap(cohorts())
    period0, heat = fig.data
    assert [list(t) for t in period0.text] == [["100"], ["50"], ["80"]]  # period 0: the cohort sizes, in grey
    assert list(heat.x) == [1, 2] and list(heat.z[0]) == [0.3, 0.2] and list(heat.z[2]) == [None, None]
    buttons = fig.layout.updatemenus[0].buttons
    assert buttons[1].args[0]["z"][0][0] == [0.35, 0.2] and list(buttons[1].args[1]) == [1]


def test_lifecycle_draws_dormant_below_zero_and_quick_ratio_on_the_right():
    fig = plot_lifecycle(lifecycle())
    dormant = next(t for t in fig.data if t.name == "dormant")
    assert list(dormant.y) == [0, -40, -90]
    assert fig.data[-1].yaxis == "y2"


def test_funnel_keeps_step_order():
    r = funnel()
    shuffled = KPIResult(**{**r.__dict__, "rows": r.rows.iloc[::-1].reset_index(drop=True)})
    assert list(plot_funnel(shuffled).data[0].y) == list(r.rows["label"])


def test_plots_reject_skipped_results_and_missing_columns():
    skipped = kpi("journey.funnel", Family.JOURNEY, status=Status.SKIPPED, reason="needs table events")
    with pytest.raises(ValueError, match="skipped"):
        plot_funnel(skipped)
    bad = kpi("journey.funnel", Family.JOURNEY, rows=pd.DataFrame({"step": ["click"]}))
    with pytest.raises(ValueError, match=r"required column\(s\) \['label', 'clicks', 'share'\] missing"):
        plot_funnel(bad)


# ------------------------------------------------------------------------------- odds and ends


def test_definition_paragraphs_rejoin_wrapped_lines_and_keep_formulas():
    from afterclick.report.html import definition_paragraphs

    text = ("Share of customers active again,\ndivided by cohort size.\n\n"
            "Formula:\n    r(k) = active(k) / size\n\n- on\n- on or after")
    assert definition_paragraphs(text) == [
        "Share of customers active again, divided by cohort size.",
        "Formula:\n    r(k) = active(k) / size",
        "- on\n- on or after",
    ]


def test_an_empty_report_still_renders():
    out = render_report([], title="Nothing yet", meta=None)
    assert "<h1>Nothing yet</h1>" in out and "Plotly.newPlot" not in out


def test_a_skipped_companion_shows_its_reason_beside_the_chart():
    nowhere = kpi("journey.clicks_to_nowhere_rate", Family.JOURNEY, status=Status.SKIPPED,
                  reason="needs sessions", direction=Direction.LOWER, name="Clicks to nowhere")
    out = render_report(sample_results(nowhere=nowhere), title="T", meta=META)
    section = out.split('id="kpi-journey-funnel"', 1)[1].split("</section>", 1)[0]
    assert "not measured" in section and "needs sessions" in section
    assert narrative.sentences(sample_results(nowhere=nowhere))["journey.funnel"].endswith("reached revenue.")


def test_string_dtype_columns_are_masked_too():
    r = campaigns(("a@b.example", "Care Guide Series", "Summer Sale", "New Launch"))
    rows = r.rows.astype({"name": "string"})
    out = render_report([KPIResult(**{**r.__dict__, "rows": rows})], title="T", meta={})
    assert "a@b.example" not in out and "[e-mail]" in out


def test_lifecycle_sentence_without_dormant_customers():
    r = lifecycle()
    rows = r.rows.iloc[:1]
    assert narrators.lifecycle(KPIResult(**{**r.__dict__, "rows": rows})).endswith(
        "nobody lapsed, so the quick ratio is undefined.")


@pytest.mark.slow
def test_the_report_runs_in_a_headless_browser_and_data_never_executes(tmp_path):
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no Chromium on PATH (apt-get install chromium)")
    evil = ("</script><script>document.title='PWNED1'</script>", "<img src=x onerror=\"document.title='PWNED2'\">",
            "<a href=\"javascript:document.title='PWNED3'\">x</a>", "New Launch")
    path = write_report(tmp_path / "r.html", sample_results(campaigns=campaigns(evil)), title="XSS check", meta=META)
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom",
         path.as_uri()],
        capture_output=True, text=True, timeout=180,
    ).stdout
    assert re.search(r"<title>(.*?)</title>", dom).group(1) == "XSS check"
    assert dom.count('class="plot-container plotly"') == 5  # every chart drew, offline
    p = parse(dom)  # the DOM after scripts ran: data became text, never elements
    assert not [link for link in p.links if link == "x" or link.startswith("javascript:")]
    assert "&lt;img src=x onerror=" in dom  # shown as text in the chart labels


def test_definitions_show_literals_as_code_and_stay_escaped():
    r = kpi("trust.visits_per_visitor", Family.TRUST, Unit.RATIO, value=2.0,
            definition="Visits = ``visit`` events where ``a<b``.\n\nSee `session_id`.")
    out = render_report([r], title="T", meta={})
    assert "Visits = <code>visit</code> events where <code>a&lt;b</code>." in out
    assert "See <code>session_id</code>." in out
    assert 'title="Visits = visit events where a&lt;b."' in out


def test_lifecycle_sentence_speaks_of_the_period_behind_the_headline():
    r = lifecycle()  # the headline may be the last complete period, not the last row
    s = narrators.lifecycle(KPIResult(**{**r.__dict__, "value": 2.125}))
    assert s.startswith("In the week starting 9 Mar 2026, 80 new and 5 resurrected") and "2.12" in s


def test_period_word_comes_from_the_data_before_the_grain_parameter():
    monthly = ladder()
    rows = monthly.rows.assign(period=monthly.rows["period"].map(
        {ts("2026-03-02"): ts("2026-01-01"), ts("2026-03-09"): ts("2026-02-01"), ts("2026-03-16"): ts("2026-03-01")}))
    s = narrators.commitment_ladder(KPIResult(**{**monthly.__dict__, "rows": rows}))  # params say "week"
    assert s.startswith("In the month starting 1 Mar 2026")


def test_ladder_offers_a_view_without_aware():
    fig = plot_commitment_ladder(ladder())
    all_, rest = fig.layout.updatemenus[0].buttons
    assert list(rest.args[0]["visible"]) == [False, True, True, True, True]
    assert rest.args[1]["yaxis.range"][1] < 1


def test_ladder_sentence_speaks_of_the_month_its_headline_reads():
    from dataclasses import replace

    from afterclick.report import narrative

    # the KPI's headline is the last complete period (here 9 Mar: 25%), not the partial latest one
    sentence = narrators.commitment_ladder(replace(ladder(), value=0.25))
    assert sentence.startswith("In the week starting 9 Mar 2026, 25% of the 100 customers on the ladder stood "
                               "at trusting")
    assert sentence.endswith("up from 20% of 100 in the week starting 2 Mar 2026.")


def test_charts_sit_in_one_section_per_family_and_the_toc_links_them(html):
    # the headline chart opens the report without a section heading of its own
    titles = re.findall(r'<h2 class="section-title" id="section-([a-z]+)">', html)
    # community failed and advocacy (NPS) was skipped in the sample: their chart places say why
    assert titles == ["ladder", "retention", "journey", "community", "advocacy"]
    assert 'href="#section-retention"' in html
    # each chart comes after its section heading
    assert html.index('id="section-retention"') < html.index('id="kpi-retention-cohort-weekly"') \
        < html.index('id="section-journey"') < html.index('id="kpi-journey-funnel"')


def test_notes_are_shown_escaped_and_masked():
    note = f"only 12 answers from ann@example.com {XSS}: too few to read"
    r = replace_notes(kpi("retention.churn_rate", Family.RETENTION, value=0.2), (note,))
    page = render_report([r], title="t")
    assert "too few to read" in page
    assert "ann@example.com" not in page
    assert "<script>alert(1)" not in page


def replace_notes(result: KPIResult, notes: tuple[str, ...]) -> KPIResult:
    from dataclasses import replace

    return replace(result, notes=notes)


def test_a_value_label_says_what_the_headline_number_is():
    from dataclasses import replace

    r = replace(kpi("signals.leading_indicators", Family.SIGNALS, Unit.RATIO, value=0.73),
                value_label="AUC on later cohorts")
    page = render_report([r], title="t")
    assert '<span class="value-label">AUC on later cohorts</span>' in page
    assert r.to_record()["value_label"] == "AUC on later cohorts"
