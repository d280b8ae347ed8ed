"""The view registry (afterclick.views.registry): keyed by registered specs, and the words of a
view follow the parameters its result was computed with, never a repeated default."""

from __future__ import annotations

import json
from dataclasses import replace

import pandas as pd
import pytest
from tinyworld import build_store

import afterclick
from afterclick.kpis import REGISTRY
from afterclick.report import narrative, render_report
from afterclick.results import Status
from afterclick.views.registry import VIEWS, charts, chip_label, display_name, view


def test_view_keys_are_registered_specs():
    assert VIEWS, "no views"
    for spec in VIEWS:
        assert REGISTRY[spec.id] == spec
    assert set(charts()) <= set(REGISTRY.ids())
    assert sum(v.headline for v in VIEWS.values()) == 1  # the report opens on one chart
    for v in VIEWS.values():
        assert all(c.id in REGISTRY for c in v.companions)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    path = build_store(tmp_path_factory.mktemp("tiny_views"))
    w = afterclick.open(path, read_only=True)
    yield w
    w.close()


def _figure_text(fig) -> str:
    return json.dumps(fig.to_plotly_json(), default=str)


@pytest.mark.parametrize("days", [7, 120])
def test_campaign_words_and_columns_follow_retention_days(ws, days):
    r = ws.kpi("campaigns.clicks_vs_commitment", retention_days=days)
    assert r.ok
    assert f"retention_{days}d" in r.rows.columns and "retention_90d" not in r.rows.columns
    sentence = narrative.sentence(r)
    chart = _figure_text(view(r).chart(r))
    if days == 7:  # the tiny brand: Flash (c1) kept its one customer, Guides (c2) one of two a week on
        assert sentence == ("Flash won the highest click-through rate (33.3%) but kept 100% of its customers "
                            "7 days on; Guides, with a 100.0% CTR, kept 50%.")
        assert "Customers still active 7 days on" in chart
    else:  # nobody is 120 days on in a brand 16 weeks long
        assert "120 days on yet" in sentence
        assert "120 days on" in chart
    assert "90" not in sentence and "90 days" not in chart
    assert chip_label(r) == f"Kept {days} days on, all campaigns"
    html = render_report([r], title="t")
    assert "Kept 90 days on" not in html
    if r.value is not None:  # the chip shows only a number there is
        assert f"Kept {days} days on, all campaigns" in html


def test_default_words_are_unchanged(ws):
    r = ws.kpi("campaigns.clicks_vs_commitment")
    assert "retention_90d" in r.rows.columns
    assert narrative.sentence(r).endswith("kept 100% of its customers 90 days on; Guides, with a 100.0% CTR, kept 0%.")


def test_attribution_words_follow_retention_days(ws):
    r = ws.kpi("attribution.relationship", retention_days=7)
    assert narrative.sentence(r) == ("Per journey it touched, email brings the most customers still active 7 days "
                                     "on (1.00 under the Markov model) and social the fewest (0.50).")
    assert chip_label(r) == "Journeys still active 7 days on"
    assert "still active 7 days on, per journey" in _figure_text(view(r).chart(r))
    assert display_name(r) == "Credit for relationships (7-day retention), by channel"
    html = render_report([r], title="t")
    # (the definition, the KPI's docstring, may still name the default beside the parameter)
    assert "Credit for relationships (7-day retention), by channel" in html


def test_engaged_vs_not_words_follow_retention_days(ws):
    r = ws.kpi("content.engaged_vs_not", retention_days=7)
    assert chip_label(r) == "7-day retention, engaged minus comparable"
    # the tiny brand has too few people to compare: one item's difference, given
    rows = pd.DataFrame({"content_id": ["guide"], "engaged": [40], "comparable": [400], "retention_diff": [0.12],
                         "retention_diff_low": [0.02], "retention_diff_high": [0.22]})
    given = replace(r, rows=rows, value=0.12, ci=(0.02, 0.22), status=Status.COMPUTED, reason=None)
    chart = _figure_text(view(given).chart(given))
    assert "7-day retention, engaged minus" in chart and "retained at 7 days" in chart
    assert "90-day" not in chart and "90 days" not in chart
    assert "likely to be active 7 days on" in narrative.sentence(given)


#: Texts that say 90 with retention_days and churn_days changed: constants, not parameters.
NINETY_CONSTANTS = {
    "journey.funnel": "clicks at least LOYALTY_DAYS (90) old, a constant of the journey",
    "community.time_to_first_response": "p90_s, the 90th percentile",
    "b2b.lead_to_opportunity": "NOT_READY_DAYS (90), a constant of the B2B lead KPIs",
    "b2b.late_converters": "NOT_READY_DAYS (90)",
    "b2b.anonymous_to_known": "KNOWN_DAYS (90), a constant of the awareness KPIs",
}


def test_no_text_of_any_kpi_repeats_a_changed_default(tmp_path_factory):
    # every KPI on the tiny brand with the two 90-day parameters changed: what still says 90 is a constant
    import re

    with afterclick.open(build_store(tmp_path_factory.mktemp("tiny_params")), read_only=True,
                         retention_days=7, churn_days=45) as w:
        results = w.kpis()
    context = {r.id: r for r in results}
    said = {}
    for r in results:
        texts = [narrative.sentence(r, context) or "", chip_label(r), display_name(r), *r.notes]
        columns = [] if r.rows is None else [str(c) for c in r.rows.columns]
        hits = [t for t in texts if re.search(r"\b90[- ]day", t)] + [c for c in columns if "90" in c]
        if hits:
            said[r.id] = hits
    assert set(said) == set(NINETY_CONSTANTS), said


def test_period_words_come_from_the_declared_grain(ws):
    from afterclick.plots._common import result_period_word

    one = pd.Series(pd.to_datetime(["2025-03-01"], utc=True))  # one period: its spacing says nothing
    # the ladder's rows are monthly whatever the grain parameter (kpis/rows.toml)
    assert result_period_word(ws.kpi("ladder.commitment_ladder", grain="week"), one) == "month"
    # the lifecycle's rows follow the grain parameter
    assert result_period_word(ws.kpi("retention.lifecycle", grain="month"), one) == "month"
    assert result_period_word(ws.kpi("retention.lifecycle", grain="week"), one) == "week"
