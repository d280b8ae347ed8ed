"""Voice-of-the-customer charts from hand-made results: intervals drawn, quotes escaped."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from afterclick.views.registry import PLOTS
from afterclick.results import Direction, Family, KPIResult, Status, Unit


def _result(kpi_id: str, rows: pd.DataFrame, unit=Unit.SCORE) -> KPIResult:
    return KPIResult(id=kpi_id, name=kpi_id, family=Family.ADVOCACY, unit=unit, direction=Direction.HIGHER,
                     definition="test", status=Status.COMPUTED, value=1.0, rows=rows)


PERIODS = pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"], utc=True)


def test_nps_over_time_draws_the_interval_and_marks_small_months():
    rows = pd.DataFrame({"period": PERIODS, "answers": [12, 80, 95], "nps": [10.0, 22.0, 25.0],
                         "ci_low": [-30.0, 8.0, 12.0], "ci_high": [48.0, 35.0, 37.0],
                         "too_few": [True, False, False]})
    fig = PLOTS["advocacy.nps"](_result("advocacy.nps", rows))
    band, dotted, solid, thin = fig.data
    assert list(band.y) == [48.0, 35.0, 37.0, 12.0, 8.0, -30.0]
    assert list(dotted.y) == [10.0, 22.0, 25.0] and dotted.line.dash == "dot"
    # the well-read months solid; the small one apart: hollow, its own legend entry and interval bar
    assert list(solid.y) == [None, 22.0, 25.0] and solid.marker.symbol is None
    assert list(thin.y) == [10.0] and thin.marker.symbol == "circle-open" and "n < 30" in thin.name
    assert list(thin.error_y.array) == [38.0] and list(thin.error_y.arrayminus) == [40.0]
    assert "too few to read" in thin.hovertemplate and "too few to read" not in solid.hovertemplate
    assert any("n < 30" in a.text for a in fig.layout.annotations)


def test_a_survey_with_only_small_months_draws_no_solid_line():
    rows = pd.DataFrame({"period": PERIODS, "answers": [1, 5, 29], "csat": [1.0, 0.6, 0.8],
                         "ci_low": [None, 0.23, 0.62], "ci_high": [None, 0.88, 0.9], "too_few": [True] * 3})
    fig = PLOTS["advocacy.csat"](_result("advocacy.csat", rows, Unit.FRACTION))
    names = [t.name for t in fig.data]
    assert "CSAT" not in names and names[-1] == "CSAT, n < 30 answers: too few to read"
    assert list(fig.data[-1].error_y.array) == [None, pytest.approx(0.28), pytest.approx(0.1)]


def test_csat_over_time_is_a_share():
    rows = pd.DataFrame({"period": PERIODS, "answers": [40, 50, 60], "csat": [0.8, 0.7, 0.9],
                         "ci_low": [0.65, 0.56, 0.8], "ci_high": [0.9, 0.81, 0.95], "too_few": [False] * 3})
    fig = PLOTS["advocacy.csat"](_result("advocacy.csat", rows, Unit.FRACTION))
    labels = list(fig.layout.yaxis.ticktext)
    assert labels == ["50%", "60%", "70%", "80%", "90%", "100%"]  # shares, shown as percentages


def test_themes_escape_quotes_and_colour_by_nps():
    rows = pd.DataFrame({"label": ["delivery · late", "support <b>team</b>"], "volume": [50, 30],
                         "share": [0.2, 0.12], "nps": [-80.0, 70.0],
                         "examples": ["It took <script>x</script> ages | Parcel lost", "So kind"]})
    fig = PLOTS["advocacy.themes"](_result("advocacy.themes", rows, Unit.COUNT))
    bar = fig.data[0]
    assert "support &lt;b&gt;team&lt;/b&gt;" in list(bar.y)
    assert all("<script>" not in str(c[2]) for c in bar.customdata)
    assert "&lt;script&gt;" in str(bar.customdata[-1][2]) and "<br>" in str(bar.customdata[-1][2])
    assert list(bar.marker.color) == ["#0f766e", "#c8553d"]  # sorted by volume: support first


def test_drivers_show_each_interval_around_its_gap():
    rows = pd.DataFrame({"label": ["delivery", "support", "rare"], "difference": [-90.0, 40.0, None],
                         "ci_low": [-110.0, 20.0, None], "ci_high": [-70.0, 60.0, None], "mentions": [40, 60, 0]})
    fig = PLOTS["advocacy.drivers"](_result("advocacy.drivers", rows))
    dots = fig.data[0]
    assert list(dots.x) == [40.0, -90.0]
    assert list(dots.error_x.array) == [20.0, 20.0] and list(dots.error_x.arrayminus) == [20.0, 20.0]


def test_content_resonance_and_empty_results():
    rows = pd.DataFrame({"content_id": ["a", "b"], "title": ["Guide", "Meme"], "comments": [40, 3],
                         "gratitude_rate": [0.7, 0.0], "thoughtful_rate": [0.3, 0.0], "depth_ratio": [12.0, 0.01]})
    fig = PLOTS["resonance.content_resonance"](_result("resonance.content_resonance", rows, Unit.FRACTION))
    assert list(fig.data[0].y) == [0.7, 0.0]
    for kpi_id, cols in (("advocacy.themes", ["label", "volume", "share", "nps", "examples"]),
                         ("advocacy.drivers", ["label", "difference", "ci_low", "ci_high", "mentions"])):
        empty = PLOTS[kpi_id](_result(kpi_id, pd.DataFrame(columns=cols)))
        assert isinstance(empty, go.Figure) and empty.layout.annotations


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="required column"):
        PLOTS["advocacy.nps"](_result("advocacy.nps", pd.DataFrame({"period": PERIODS})))
