"""Attribution models against ChannelAttribution's output and exact reference values
(../shared/data/attribution, see its README), plus tiny cases checked by hand."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from afterclick import attribution as A
from refdata import shared_data

DATA = shared_data("attribution")
CASES = {"tiny": "tiny_input.csv", "sim": "input_paths.csv"}
EXACT = 1e-9
#: ChannelAttribution's Markov model is a Monte-Carlo estimate (its default simulations): its
#: results in the reference files sit up to 2.3% from the exact values; 5% leaves room for that
#: noise and still catches a wrong chain (dropping self-loops or value weighting moves channels
#: by 10% and more).
MC_TOL = 0.05


def read(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / name)


def ref(case: str, kind: str) -> pd.DataFrame:
    return read(f"{case}_{kind}.csv").set_index("channel_name").sort_index()


@pytest.fixture(params=list(CASES))
def case(request):
    return request.param, read(CASES[request.param])


def close(a, b, tol=EXACT):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.allclose(a, b, rtol=tol, atol=tol), np.max(np.abs(a - b))


def test_exact_markov_matches_reference(case):
    name, paths = case
    r = ref(name, "exact_markov_and_shapley")
    m = A.markov(paths).set_index("channel").sort_index()
    assert list(m.index) == list(r.index)
    close(m.removal_effect, r.removal_effect_exact)
    close(m.conversions, r.markov_conversions_exact)
    close(m.removal_effect_value, r.removal_effect_value_exact)
    close(m.value, r.markov_value_exact)


def test_markov_within_channelattribution_monte_carlo_noise(case):
    name, paths = case
    ca = ref(name, "markov_result")
    m = A.markov(paths).set_index("channel").sort_index()
    assert np.all(np.abs(m.conversions / ca.total_conversions - 1) < MC_TOL)
    assert np.all(np.abs(m.value / ca.total_conversion_value - 1) < MC_TOL)


def test_simplified_shapley_matches_reference(case):
    name, paths = case
    r, s = ref(name, "exact_markov_and_shapley"), A.shapley(paths).set_index("channel").sort_index()
    close(s[["conversions", "value"]], r[["shapley_simplified_conversions", "shapley_simplified_value"]])


def test_heuristics_match_channelattribution(case):
    name, paths = case
    r = ref(name, "heuristic_result")
    h = A.heuristics(paths).set_index("channel").sort_index()
    for ours, theirs in [("first_touch", "first_touch"), ("last_touch", "last_touch"), ("linear", "linear_touch")]:
        close(h[f"{ours}_conversions"], r[f"{theirs}_conversions"])
        close(h[f"{ours}_value"], r[f"{theirs}_value"])


def test_every_model_shares_out_exactly_the_totals(case):
    _, paths = case
    long = A.attribute(paths)
    for model, g in long.groupby("model"):
        close(g.conversions.sum(), paths.total_conversions.sum(), 1e-9)
        close(g.value.sum(), paths.total_conversion_value.sum(), 1e-9)


# ------------------------------------------------------------------- hand-checked tiny cases

def test_position_based_by_hand():
    paths = pd.DataFrame({"path": ["a > b > c > d", "a > b", "c"], "total_conversions": [10, 4, 1],
                          "total_conversion_value": [100.0, 40.0, 5.0], "total_null": [0, 0, 3]})
    h = A.heuristic(paths, "position_based").set_index("channel")
    # 4 touches: 40% / 10% / 10% / 40%; 2 touches: 50/50; 1 touch: all
    assert h.conversions.to_dict() == pytest.approx({"a": 4 + 2, "b": 1 + 2, "c": 1 + 1, "d": 4})
    assert h.value.to_dict() == pytest.approx({"a": 60, "b": 30, "c": 15, "d": 40})


def test_markov_by_hand_two_channels():
    # a > b converts 1 of 4 journeys; b alone converts 1 of 2. Chain: start→a 4/6, start→b 2/6;
    # a→b 1; b→conv 2/6, b→null 4/6. P = 2/6. Removing a: P = 2/6 * 2/6 = 1/9, RE 2/3;
    # removing b: P = 0, RE 1. Credit 2 conversions as 2/3 : 1.
    paths = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [1, 1], "total_null": [3, 1]})
    m = A.markov(paths).set_index("channel")
    assert m.removal_effect.to_dict() == pytest.approx({"a": 2 / 3, "b": 1.0})
    assert m.conversions.to_dict() == pytest.approx({"a": 2 * 0.4, "b": 2 * 0.6})
    assert "value" not in m.columns


def test_markov_self_loop_kept():
    # a > a > b: a repeats; the self-loop must not change P (every path reaches b) but is kept
    paths = pd.DataFrame({"path": ["a > a > b", "b"], "total_conversions": [2, 1], "total_null": [0, 1]})
    m = A.markov(paths).set_index("channel")
    # start→a 1/2, start→b 1/2; a→a 1/2, a→b 1/2; b→conv 3/4. P = 3/4;
    # without a: 1/2 * 3/4 = 3/8 → RE 1/2; without b: 0 → RE 1
    assert m.removal_effect.to_dict() == pytest.approx({"a": 0.5, "b": 1.0})


def test_shapley_splits_among_distinct_channels():
    paths = pd.DataFrame({"path": ["a > b > a", "c"], "total_conversions": [3, 1], "total_null": [1, 1]})
    s = A.shapley(paths).set_index("channel")
    assert s.conversions.to_dict() == pytest.approx({"a": 1.5, "b": 1.5, "c": 1.0})


def test_aggregate_paths_from_touches():
    touches = pd.DataFrame({
        "journey_id": ["j1", "j1", "j2", "j2", "j3", "j4"],
        "position": [2, 1, 1, 2, 1, 1],
        "channel": ["social", "email", "email", "social", "search", "search"],
        "converted": [1, 1, 0, 0, 1, 0],
        "value": [30.0, 30.0, None, None, 12.5, None],
    })
    agg = A.aggregate_paths(touches)
    assert agg.to_dict("records") == [
        {"path": "email > social", "total_conversions": 1.0, "total_conversion_value": 30.0, "total_null": 1.0},
        {"path": "search", "total_conversions": 1.0, "total_conversion_value": 12.5, "total_null": 1.0},
    ]


# ------------------------------------------------------------------- input validation

@pytest.mark.parametrize(("frame", "message"), [
    (pd.DataFrame({"paths": ["a"], "total_conversions": [1]}), "required column(s) ['path'] missing"),
    (pd.DataFrame({"path": ["a"], "total_conversions": [-1]}), "must hold numbers >= 0"),
    (pd.DataFrame({"path": ["a"], "total_conversions": ["x"]}), "must hold numbers >= 0"),
    (pd.DataFrame({"path": [""], "total_conversions": [1]}), "empty path"),
    (pd.DataFrame({"path": ["a >  > b"], "total_conversions": [1]}), "empty channel"),
])
def test_bad_input_gives_one_clear_line(frame, message):
    with pytest.raises(ValueError) as err:
        A.markov(frame)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_no_conversions_is_an_error_not_nan():
    with pytest.raises(ValueError, match="no path converts"):
        A.markov(pd.DataFrame({"path": ["a > b"], "total_conversions": [0], "total_null": [5]}))


def test_unknown_model_named():
    with pytest.raises(ValueError, match="unknown attribution model"):
        A.attribute(read("tiny_input.csv"), models=("markov", "magic"))


# ------------------------------------------------------------------- the chart

def test_attribution_chart_draws_every_model_and_escapes_names():
    from afterclick.analysis.attribution import credit
    from afterclick.views.registry import plot
    from afterclick.results import Direction, Family, KPIResult, Status, Unit

    touches = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "c"], "position": [0, 1, 0, 0, 1],
        "key": ["<b>x</b>", "email", "email", "search", "email"],
        "converted": [1, 1, 0, 1, 1], "value": [10.0, 10.0, 0.0, 4.0, 4.0],
    })
    rows = credit(touches, label="channel", with_value=True)
    result = KPIResult(id="attribution.channels", name="n", family=Family.ATTRIBUTION, unit=Unit.FRACTION,
                       direction=Direction.HIGHER, definition="d", status=Status.COMPUTED, value=2 / 3, rows=rows)
    fig = plot(result)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [t.name for t in bars] == ["First touch", "Last touch", "Linear", "Position-based", "Markov", "Shapley"]
    assert "&lt;b&gt;x&lt;/b&gt;" in bars[0].x and "<b>x</b>" not in bars[0].x
    # groups ordered by Markov credit: email (in all three journeys) first
    assert bars[0].x[0] == "email"
    diamonds = [t for t in fig.data if t.type == "scatter"]
    assert len(diamonds) == 1 and diamonds[0].yaxis == "y2"
    assert sum(bars[4].y) == pytest.approx(1.0)


def test_long_paths_take_the_sorting_route_and_agree():
    # 40 touches over 5 channels do not fit one int64 key per row: the rows are sorted instead
    rng = np.random.default_rng(0)
    rows = []
    for j in range(60):
        length = 40 if j % 2 else 3
        chans = rng.choice(["a", "b", "c", "d", "e"], size=length) if j % 4 != 1 else ["a"] * length
        rows += [dict(journey_id=j, position=k, channel=c, converted=j % 3 == 0, value=5.0) for k, c in enumerate(chans)]
    touches = pd.DataFrame(rows).astype({"converted": int})
    agg = A.aggregate_paths(touches)
    assert agg.total_conversions.sum() + agg.total_null.sum() == 60
    assert agg.loc[agg.path == " > ".join(["a"] * 40), "total_null"].iloc[0] + \
        agg.loc[agg.path == " > ".join(["a"] * 40), "total_conversions"].iloc[0] == 15
    by_hand = touches.sort_values(["journey_id", "position"]).groupby("journey_id").channel.agg(" > ".join)
    assert sorted(agg.path) == sorted(by_hand.unique())


def test_separator_inside_a_name_is_refused_when_writing_strings():
    touches = pd.DataFrame({"journey_id": [1], "position": [0], "channel": ["a > b"], "converted": [1], "value": [1.0]})
    assert A.journey_paths(touches).channels.tolist() == ["a > b"]  # fine without strings
    with pytest.raises(ValueError, match="contains the path separator"):
        A.aggregate_paths(touches)


def test_relationship_journeys_carry_predicted_lifetime_value_when_the_store_has_it():
    """The plug for the customer-value models: a ``clv`` table with ``predicted_clv`` per customer
    becomes the value the relationship models share out."""
    import ibis

    from afterclick.kpis.attribution import LIFETIME_VALUE_COLUMN, LIFETIME_VALUE_TABLE, relationship_journeys
    from afterclick.kpis.base import Params, Tables

    t0 = pd.Timestamp("2025-01-01")
    ev = pd.DataFrame({
        "customer_id": ["a", "a", "b", "z"],
        "ts": [t0, t0 + pd.Timedelta(days=100), t0 + pd.Timedelta(days=1), t0 + pd.Timedelta(days=200)],
        "event": ["click", "visit", "click", "visit"],
        "channel": ["email", None, "social", None],
        "campaign_id": pd.Series([None] * 4, dtype="string"),
    })
    clv = pd.DataFrame({"customer_id": ["a"], LIFETIME_VALUE_COLUMN: [321.5]})
    con = ibis.duckdb.connect()
    tables = Tables({"events": con.create_table("events", ev), LIFETIME_VALUE_TABLE: con.create_table("clv", clv)})
    rows = con.execute(relationship_journeys(tables, Params(), "channel")).sort_values("customer_id")
    assert rows[["customer_id", "key", "converted", "value"]].to_dict("records") == [
        {"customer_id": "a", "key": "email", "converted": 1, "value": 321.5},  # stayed, CLV known
        {"customer_id": "b", "key": "social", "converted": 0, "value": 0.0},   # left, no CLV
    ]


def test_zero_value_is_zero_credit_not_an_error():
    paths = pd.DataFrame({"path": ["a > b", "b"], "total_conversions": [1, 1], "total_conversion_value": [0.0, 0.0],
                          "total_null": [3, 1]})
    m = A.markov(paths)
    assert m.value.tolist() == [0.0, 0.0] and m.conversions.sum() == pytest.approx(2)


# ------------------------------------------------------------------- the command line

def test_cli_attribution_writes_the_exact_markov_table(tmp_path):
    from typer.testing import CliRunner

    from afterclick.cli import app

    runner = CliRunner()
    out = tmp_path / "credit.csv"
    res = runner.invoke(app, ["attribution", str(DATA / "input_paths.csv"), "--model", "markov", "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out).set_index("channel").sort_index()
    r = ref("sim", "exact_markov_and_shapley")
    close(got.removal_effect, r.removal_effect_exact)
    close(got.value, r.markov_value_exact)
    everything = runner.invoke(app, ["attribution", str(DATA / "tiny_input.csv")])
    assert everything.exit_code == 0 and "shapley" in everything.output and "position" in everything.output
    assert "--model" in runner.invoke(app, ["attribution", "--help"]).output


def test_cli_attribution_bad_file_is_one_line(tmp_path):
    from typer.testing import CliRunner

    from afterclick.cli import app

    bad = tmp_path / "bad.csv"
    bad.write_text("channel_name,total_conversions\nemail,3\n")
    res = CliRunner().invoke(app, ["attribution", str(bad)])
    assert res.exit_code == 1
    assert "required column(s) ['path'] missing" in res.output
    assert CliRunner().invoke(app, ["attribution", str(tmp_path / "none.csv")]).exit_code == 1


# ------------------------------------------------------------------- campaign names

def _campaign_result(rows: pd.DataFrame, kpi_id: str = "attribution.campaigns"):
    from afterclick.results import Direction, Family, KPIResult, Status, Unit

    return KPIResult(id=kpi_id, name="n", family=Family.ATTRIBUTION, unit=Unit.FRACTION,
                     direction=Direction.HIGHER, definition="d", status=Status.COMPUTED, value=0.5, rows=rows)


def test_campaign_credit_carries_each_campaign_name_into_chart_and_sentence():
    from afterclick.analysis.attribution import credit
    from afterclick.kpis.attribution import NO_CAMPAIGN
    from afterclick.views.registry import plot
    from afterclick.report import narrative

    long = "Plant Care Academy (six-week e-mail course for new plant parents)"
    touches = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "d"], "position": [0, 1, 0, 0, 0],
        "key": ["c1", "c2", "c2", NO_CAMPAIGN, "c3"],
        "campaign_name": [long, "<i>Flash</i>", "<i>Flash</i>", None, None],
        "converted": [1, 1, 0, 1, 0], "value": [10.0, 10.0, 0.0, 4.0, 0.0],
    })
    rows = credit(touches, label="campaign_id", with_value=True)
    assert list(rows.columns[:3]) == ["model", "campaign_id", "name"]
    names = dict(zip(rows.campaign_id, rows.name))
    # a campaign the campaigns table does not name, and organic clicks, keep their id
    assert names == {"c1": long, "c2": "<i>Flash</i>", "c3": "c3", NO_CAMPAIGN: NO_CAMPAIGN}
    fig = plot(_campaign_result(rows))
    bars = [t for t in fig.data if t.type == "bar"]
    ticks = list(bars[0].x)
    assert "&lt;i&gt;Flash&lt;/i&gt;" in ticks and "c2" not in ticks
    # a long name is shortened at a word boundary on the axis, in full on hover
    short = next(t for t in ticks if t.startswith("Plant"))
    assert short.endswith("…") and len(short) <= 28 and long.startswith(short[:-1])
    assert long in [c[1] for c in bars[0].customdata]
    sentence = narrative.sentence(_campaign_result(rows))
    # organic clicks lead under Markov; the academy (first of two touches) gains over last click
    assert sentence.startswith("The Markov model credits (no campaign) with the most first purchases")
    assert f"; {long} gains most over last click" in sentence and "c1" not in sentence


def test_two_campaigns_with_one_name_keep_their_ids_apart():
    from afterclick.plots._common import display_names

    rows = pd.DataFrame({"campaign_id": ["c1", "c2", "c3"], "name": ["Spring", "Spring", None]})
    assert display_names(rows, "campaign_id") == {"c1": "Spring (c1)", "c2": "Spring (c2)", "c3": "c3"}
    assert display_names(rows.drop(columns="name"), "campaign_id") == {"c1": "c1", "c2": "c2", "c3": "c3"}
