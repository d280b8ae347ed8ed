"""Goals: the file validator (every problem at once, with its line), attainment on hand-worked cases,
the calibration of its probabilities in simulation, and the CLI on the tiny brand through the real ingest."""

from __future__ import annotations

import json
import math
from datetime import date

import numpy as np
import pytest
from tinyworld import build_store
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.goals import FileProblems, judge, parse_goals, tensions
from afterclick.goals.attainment import Z95, Estimate, phi
from afterclick.goals.model import ConstantTarget, Goal, Horizon, PathTarget
from afterclick.results import Direction, Unit

runner = CliRunner()


def ci(value: float, se: float) -> tuple[float, float]:
    """The 95 % interval whose implied se is exactly ``se``."""
    return value - Z95 * se, value + Z95 * se


def goal(**kw) -> Goal:
    base = dict(id="g", kpi="advocacy.nps", direction=Direction.HIGHER, horizon=Horizon.SHORT, owner="o",
                objective="revenue growth", deadline=date(2027, 3, 31), target=ConstantTarget(45.0))
    return Goal(**{**base, **kw})


# -- the file -------------------------------------------------------------------------------------

BAD = """\
[[goal]]
id = "a"
kpi = "advocacy.npz"
direction = "higher"
horizon = "medium"
objective = "revenue growth"
deadline = 2027-03-31
target = 45

[[goal]]
id = "b"
kpi = "advocacy.csat"
direction = "lower"
horizon = "short"
owner = "CX"
objective = "lifetime value"
deadline = 2027-03-31
target = 45
thresholds = { minimum = 0.5, good = 0.4, excellent = 0.6 }
fed_by = ["a"]

[[goal]]
id = "c"
kpi = "retention.churn_rate"
direction = "lower"
horizon = "long"
owner = "Growth"
objective = "revenue growth"
deadline = "31/12/2027"
target = { path = [{ date = 2027-06-30, value = 0.2 }, { date = 2027-01-01, value = 0.3 }] }
colour = "blue"

[[goal]]
id = "b"
kpi = "advocacy.nps"
direction = "higher"
horizon = "long"
owner = "CX"
objective = "lifetime value"
deadline = 2027-12-31
target = 40
fed_by = ["b", "nope"]
"""


def test_a_bad_goals_file_lists_every_problem_with_its_line():
    with pytest.raises(FileProblems) as info:
        parse_goals(BAD, "goals.toml")
    got = [(i.line, i.where, i.message) for i in info.value.issues]
    text = "\n".join(f"{line} {where} {msg}" for line, where, msg in got)

    def has(line: int, *words: str) -> bool:
        return any(l == line and all(w in f"{where} {m}" for w in words) for l, where, m in got)

    assert has(3, "goal 'a'", "unknown KPI 'advocacy.npz'", "advocacy.nps"), text  # did you mean
    assert has(5, "horizon is 'medium'", "short, long"), text
    assert has(1, "owner is missing"), text
    assert has(13, "direction is 'lower'", "advocacy.csat", "higher is better"), text
    assert has(18, "target 45 is outside 0..1", "write 45 % as 0.45"), text
    assert has(19, "thresholds must be falling", "minimum 0.5, good 0.4, excellent 0.6"), text
    assert has(20, "fed_by is for long-term goals"), text
    assert has(29, "deadline '31/12/2027' is not a date"), text
    assert has(30, "path dates must be in order"), text
    assert has(31, "unknown key 'colour'"), text
    assert has(22, "goal 'c'", "a long-term goal lists the short-term goals"), text
    assert has(34, "id already used by the goal at line 10"), text
    assert has(42, "fed_by names 'nope', which is not a goal"), text
    assert len(got) >= 13


def test_a_toml_syntax_error_is_one_problem_with_its_line():
    with pytest.raises(FileProblems) as info:
        parse_goals('[[goal]]\nid = "a"\nkpi = advocacy.nps\n', "g.toml")
    (issue,) = info.value.issues
    assert issue.line == 3 and "not valid TOML" in issue.message


def test_a_valid_file_with_every_kind_of_target():
    goals = parse_goals("""
[[goal]]
id = "visits"
kpi = "reach.clicks"
direction = "higher"
horizon = "short"
owner = "Growth"
objective = "market share"
target = { path = [{ date = 2027-01-01, value = 0 }, { date = 2027-03-31, value = 900 }] }
cumulative = true
start = 2027-01-01

[[goal]]
id = "csat"
kpi = "advocacy.csat"
direction = "higher"
horizon = "long"
owner = "CX"
objective = "customer lifetime value"
deadline = 2027-12-31
target = { last_year = true, change = 0.02, change_is = "absolute" }
thresholds = { minimum = 0.6, good = 0.7, excellent = 0.8 }
fed_by = ["visits"]
""")
    visits, csat = goals.goals
    assert visits.deadline == date(2027, 3, 31) and visits.cumulative and visits.path().at(date(2027, 2, 15)) == pytest.approx(900 * 45 / 89)
    assert csat.target.from_last_year(0.7) == pytest.approx(0.72) and csat.fed_by == ("visits",)


# -- attainment, worked by hand ------------------------------------------------------------------

def test_constant_target_level_method_by_hand():
    # se = 2 exactly; (47 - 45) / 2 = 1 -> Phi(1) = 0.841344746
    a = judge(goal(), Estimate(47.0, ci(47.0, 2.0), date(2027, 1, 31)), Unit.SCORE)
    assert a.probability == pytest.approx(0.841344746, abs=1e-9)
    assert a.status == "on track"
    assert a.sentence.startswith("on track (84 % probability of reaching 45.0 by 31 Mar 2027)")
    lower = judge(goal(direction=Direction.LOWER, target=ConstantTarget(12.0)),
                  Estimate(10.0, ci(10.0, 2.0), date(2027, 1, 31)))
    assert lower.probability == pytest.approx(0.841344746, abs=1e-9)
    behind = judge(goal(), Estimate(42.0, ci(42.0, 2.0), date(2027, 1, 31)))  # z = -1.5
    assert behind.probability == pytest.approx(0.066807201, abs=1e-9) and behind.status == "off track"
    risky = judge(goal(), Estimate(44.0, ci(44.0, 2.0), date(2027, 1, 31)))  # z = -0.5 -> 0.3085
    assert risky.status == "at risk"


def test_path_target_is_judged_at_the_paths_value_today():
    path = PathTarget(((date(2027, 1, 1), 30.0), (date(2027, 3, 31), 45.0)))
    a = judge(goal(target=path), Estimate(40.0, ci(40.0, 2.0), date(2027, 2, 15)))
    now = 30 + 15 * 45 / 89  # 45 of the path's 89 days
    assert a.target_now == pytest.approx(now) and a.target == 45
    assert a.probability == pytest.approx(phi((40 - now) / 2))
    assert "the path's value on 15 Feb 2027, on the way to 45.0 by 31 Mar 2027" in a.sentence


def test_last_year_target_adds_last_years_uncertainty():
    from afterclick.goals.model import LastYearTarget

    g = goal(target=LastYearTarget(0.05, True))
    a = judge(g, Estimate(44.0, ci(44.0, 2.0), date(2027, 1, 31)), Unit.SCORE,
              last_year=Estimate(40.0, ci(40.0, 1.0), date(2026, 1, 31)))
    se = math.hypot(2.0, 1.05)  # 2.258871
    assert a.target == pytest.approx(42.0)
    assert a.probability == pytest.approx(phi(2.0 / se)) and a.probability == pytest.approx(0.81206, abs=1e-4)


def test_cumulative_goal_run_rate_and_pacing():
    g = goal(kpi="reach.clicks", target=ConstantTarget(900.0), cumulative=True, start=date(2027, 1, 1))
    a = judge(g, Estimate(330.0, ci(330.0, 15.0), date(2027, 1, 31)), Unit.COUNT)
    factor = 89 / 30
    assert a.projected == pytest.approx(330 * factor)  # 979
    assert a.probability == pytest.approx(phi((330 * factor - 900) / (15 * factor)))  # 0.962
    assert a.pacing == pytest.approx(330 / (900 * 30 / 89) - 1)  # 8.8 % ahead
    assert "pacing 9 % ahead of the path (330 against 303 planned by 31 Jan 2027)" in a.sentence
    slow = judge(g, Estimate(270.0, ci(270.0, 15.0), date(2027, 1, 31)), Unit.COUNT)
    assert "behind the path" in slow.sentence and slow.status == "off track"


def test_past_the_deadline_and_without_an_interval():
    after = date(2027, 4, 1)
    assert judge(goal(), Estimate(50.0, ci(50.0, 2.0), after)).status == "met"
    assert judge(goal(), Estimate(40.0, ci(40.0, 2.0), after)).status == "missed"
    assert judge(goal(), Estimate(45.5, ci(45.5, 2.0), after)).status == "too close to call"
    bare = judge(goal(), Estimate(46.0, None, date(2027, 1, 31)))
    assert bare.probability is None and bare.status == "on track" and "no interval" in bare.sentence


def test_threshold_bands():
    g = goal(thresholds={"minimum": 20.0, "good": 35.0, "excellent": 50.0})
    a = judge(g, Estimate(40.0, ci(40.0, 5.0), date(2027, 1, 31)))
    assert a.band == "good"
    assert a.band_probabilities["excellent"] == pytest.approx(phi(-2.0))
    assert a.band_probabilities["minimum"] == pytest.approx(phi(4.0))


def test_short_term_wins_long_term_losses_is_called_out():
    short = judge(goal(id="mql", kpi="b2b.lead_to_opportunity", target=ConstantTarget(0.2)),
                  Estimate(0.3, ci(0.3, 0.01), date(2027, 1, 31)), Unit.FRACTION)
    long = judge(goal(id="sql", kpi="b2b.lead_to_relationship", horizon=Horizon.LONG, fed_by=("mql",),
                      target=ConstantTarget(0.5), deadline=date(2027, 12, 31)),
                 Estimate(0.3, ci(0.3, 0.05), date(2027, 1, 31)), Unit.FRACTION)
    (line,) = tensions([short, long])
    assert line.startswith("short-term wins, long-term losses: 'mql'") and "'sql'" in line
    fine = judge(goal(id="sql", horizon=Horizon.LONG, fed_by=("mql",), target=ConstantTarget(0.1)),
                 Estimate(0.3, ci(0.3, 0.05), date(2027, 1, 31)), Unit.FRACTION)
    assert tensions([short, fine]) == []


# -- calibration ----------------------------------------------------------------------------------

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def _simulate(rng, q: float, n: int, understate: float = 1.0, higher: bool = True) -> tuple[float, float]:
    """Goals set where the method says P = q; returns (mean stated P, share of goals truly reached)."""
    from scipy.stats import norm

    theta = rng.uniform(20, 60, n)
    se = rng.uniform(1, 5, n)
    est = theta + se * rng.standard_normal(n)
    sign = 1 if higher else -1
    target = est - sign * se / understate * norm.ppf(q)  # where the method, reading the interval, says P = q
    g = goal(direction=Direction.HIGHER if higher else Direction.LOWER)
    stated = np.array([judge(replace_target(g, t), Estimate(e, ci(e, s / understate), date(2027, 1, 31))).probability
                       for t, e, s in zip(target, est, se, strict=True)])
    reached = (theta >= target) if higher else (theta <= target)
    return float(stated.mean()), float(reached.mean())


def replace_target(g: Goal, t: float) -> Goal:
    from dataclasses import replace

    return replace(g, target=ConstantTarget(float(t)))


def test_goal_probabilities_are_calibrated_in_simulation():
    rng = np.random.default_rng(20261204)
    n = 4000
    for higher in (True, False):
        for q in QUANTILES:
            stated, reached = _simulate(rng, q, n, higher=higher)
            assert stated == pytest.approx(q, abs=1e-9)
            assert abs(reached - q) < 4 * math.sqrt(q * (1 - q) / n), (higher, q, reached)


def test_calibration_check_catches_intervals_read_too_narrow():
    # intervals half as wide as the truth (se understated x2): claims of 90 % come true about
    # Phi(1.2816 / 2) = 74 % of the time, which the calibration bound above would reject
    stated, reached = _simulate(np.random.default_rng(7), 0.9, 4000, understate=2.0)
    assert stated == pytest.approx(0.9, abs=1e-9)
    assert abs(reached - 0.739) < 0.03 and abs(reached - 0.9) > 4 * math.sqrt(0.09 / 4000)


def test_run_rate_probabilities_are_calibrated_in_simulation():
    rng = np.random.default_rng(11)
    n, total, elapsed = 4000, 90, 30
    from scipy.stats import norm

    for q in QUANTILES:
        rate = rng.uniform(5, 15, n)
        se = rng.uniform(5, 30, n)
        seen = rate * elapsed + se * rng.standard_normal(n)
        target = seen * total / elapsed - se * total / elapsed * norm.ppf(q)
        reached = rate * total >= target
        stated = [judge(goal(kpi="reach.clicks", target=ConstantTarget(float(t)), cumulative=True,
                             start=date(2027, 1, 1), deadline=date(2027, 4, 1)),
                        Estimate(float(v), ci(float(v), float(s)), date(2027, 1, 31)), Unit.COUNT).probability
                  for t, v, s in zip(target, seen, se, strict=True)]
        assert np.mean(stated) == pytest.approx(q, abs=1e-9)
        assert abs(reached.mean() - q) < 4 * math.sqrt(q * (1 - q) / n), (q, reached.mean())


# -- on a store, through the CLI ------------------------------------------------------------------

@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("goals"))


GOALS = """\
[[goal]]
id = "nps-now"
kpi = "advocacy.nps"
direction = "higher"
horizon = "short"
owner = "CX \\u001b[31mteam"
objective = "customer lifetime value"
deadline = 2025-06-30
target = -40

[[goal]]
id = "csat-long"
kpi = "advocacy.csat"
direction = "higher"
horizon = "long"
owner = "CX"
objective = "customer lifetime value"
deadline = 2026-12-31
target = 0.95
fed_by = ["nps-now"]

[[goal]]
id = "repeat"
kpi = "value.repeat_purchase_rate"
direction = "higher"
horizon = "short"
owner = "Growth"
objective = "revenue growth"
deadline = 2025-06-30
target = { last_year = true, change = 0.05 }
"""


def test_goals_command_judges_each_goal_with_the_kpis_interval(store, tmp_path):
    import afterclick

    path = tmp_path / "goals.toml"
    path.write_text(GOALS, encoding="utf-8")
    result = runner.invoke(app, ["goals", "--store", str(store), "--goals", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    rec = json.loads(result.stdout)
    by = {g["goal"]: g for g in rec["goals"]}
    with afterclick.open(store, read_only=True) as ws:
        nps = ws.kpi("advocacy.nps")
    se = (nps.ci[1] - nps.ci[0]) / (2 * Z95)
    assert by["nps-now"]["value"] == nps.value and by["nps-now"]["ci"] == list(nps.ci)
    assert by["nps-now"]["probability"] == pytest.approx(phi((nps.value + 40) / se))
    assert by["nps-now"]["as_of"] == "2025-03-20"  # the last survey answer
    assert by["repeat"]["status"] == "cannot judge" and "same period last year" in by["repeat"]["sentence"]
    assert by["csat-long"]["status"] == "off track"
    assert by["nps-now"]["status"] == "on track"  # NPS 0 (interval -57.5 to 57.5) against -40: P = 0.91
    (tension,) = rec["tensions"]
    assert tension.startswith("short-term wins, long-term losses: 'nps-now'") and "'csat-long'" in tension
    assert any(b["benchmark"]["id"] == "surveymonkey-nps-mean" and b["like_for_like"] for b in rec["benchmarks"])
    assert any(b["benchmark"]["id"].startswith("acsi-") and not b["like_for_like"] for b in rec["benchmarks"])

    table = runner.invoke(app, ["goals", "--store", str(store), "--goals", str(path)])
    assert table.exit_code == 0, table.output
    assert "\x1b" not in table.output and "\\x1b[31m" in table.output  # the owner's escape is shown, not run
    assert "probability of" in table.output and "95 % interval" in table.output and "caveat acsi-" in table.output and "not like for like" in table.output


def test_goals_command_lists_every_problem_of_a_bad_file(store, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BAD, encoding="utf-8")
    result = runner.invoke(app, ["goals", "--store", str(store), "--goals", str(path)])
    assert result.exit_code == 1
    assert "problems; fix them all" in result.output
    for line in (3, 5, 13, 18, 19, 29, 30, 42):
        assert f"bad.toml:{line}:" in result.output


@pytest.mark.parametrize("name", ["ecommerce", "saas", "b2b", "media", "community"])
def test_init_writes_a_valid_goals_file_and_never_overwrites(name, tmp_path, store):
    out = tmp_path / "goals.toml"
    result = runner.invoke(app, ["init", "--template", name, "--out", str(out)])
    assert result.exit_code == 0, result.output
    goals = parse_goals(out.read_text(encoding="utf-8"))
    assert len(goals) >= 3 and any(g.horizon is Horizon.LONG and g.fed_by for g in goals)
    again = runner.invoke(app, ["init", "--template", name, "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output
    judged = runner.invoke(app, ["goals", "--store", str(store), "--goals", str(out), "--format", "json"])
    assert judged.exit_code == 0, judged.output
    assert len(json.loads(judged.stdout)["goals"]) == len(goals)


def test_a_share_target_from_last_year_is_capped_at_100_percent_and_nrr_may_pass_it():
    from afterclick.goals.model import LastYearTarget

    g = goal(kpi="advocacy.csat", target=LastYearTarget(0.02, False))
    a = judge(g, Estimate(0.9, ci(0.9, 0.05), date(2027, 1, 31)), Unit.FRACTION,
              last_year=Estimate(0.99, ci(0.99, 0.01), date(2026, 1, 31)))
    assert a.target == 1.0 and any("capped" in n for n in a.notes)
    assert any("+2 pts" in n for n in a.notes)
    ok = parse_goals("""
[[goal]]
id = "nrr"
kpi = "b2b.nrr"
direction = "higher"
horizon = "long"
owner = "CS"
objective = "revenue growth"
deadline = 2027-12-31
target = 1.05
fed_by = []
""")
    assert ok.goals[0].target.value == 1.05


def test_a_shipped_template_on_the_demo_brand_judges_the_kpis_of_the_period(demo_ws):
    """The e-commerce template on half a year of the demo: each goal's value is the KPI of that period,
    each last-year target the KPI of the same dates a year before, changed as the template says."""
    from datetime import UTC, datetime

    from afterclick.goals import goals_text
    from afterclick.kpis.base import Params
    from afterclick.workspace import Workspace

    goals = parse_goals(goals_text("ecommerce", date(2026, 12, 4)))
    start, end = datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    ws = Workspace(demo_ws.store, Params(start=start, end=end))  # the shared store stays open for others
    try:
        _check_demo(ws, goals)
    finally:
        ws.refresh()  # drop this workspace's temporary building blocks


def _check_demo(ws, goals) -> None:
    import pandas as pd

    from afterclick.goals import evaluate
    from afterclick.goals.model import LastYearTarget

    review = evaluate(ws, goals)
    assert len(review.attainments) == len(goals)
    judged = [a for a in review.attainments if a.status != "cannot judge"]
    assert len(judged) >= 3
    for a in judged:
        r = ws.kpi(a.goal.kpi)
        assert a.estimate.value == r.value and a.estimate.ci == r.ci
        if isinstance(a.goal.target, LastYearTarget):
            p = r.period
            before = ws.kpi(a.goal.kpi, start=(pd.Timestamp(p.start) - pd.DateOffset(years=1)).to_pydatetime(),
                            end=(pd.Timestamp(p.end) - pd.DateOffset(years=1)).to_pydatetime())
            expected = a.goal.target.from_last_year(before.value)
            assert a.target == pytest.approx(min(expected, 1.0) if r.unit is Unit.FRACTION else expected)
    # every short-term goal that is met or on track beside a long-term goal it feeds that is behind is named
    by = {a.goal.id: a for a in review.attainments}
    expected = {(s, lt.goal.id) for lt in review.attainments if lt.behind for s in lt.goal.fed_by if by[s].good}
    assert len(review.tensions) == len(expected)
    for s, lt in expected:
        assert any(f"'{s}'" in t and f"'{lt}'" in t for t in review.tensions)


def test_help_names_the_goal_commands():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0 and "init" in result.output and "goals" in result.output
    goals_help = runner.invoke(app, ["goals", "--help"])
    assert "--goals" in goals_help.output and "--format" in goals_help.output
    init_help = runner.invoke(app, ["init", "--help"])
    assert "--template" in init_help.output and "saas" in init_help.output


def test_problems_in_sub_tables_point_at_their_line():
    text = """\
# goals
[[goal]]
id = "nps"
kpi = "advocacy.nps"
direction = "higher"
horizon = "short"
owner = "CX"
objective = "customer lifetime value"
deadline = 2027-01-31
target = { path = [{ date = 2027-01-01, value = 30 }, { date = 2027-03-31, value = 45 }] }

[goal.thresholds]
minimum = 40
good = 30
"""
    with pytest.raises(FileProblems) as info:
        parse_goals(text, "g.toml")
    got = {(i.line, i.message.split(";")[0].split(" (")[0]) for i in info.value.issues}
    assert (12, "thresholds must be rising from minimum to good to excellent when higher is better") in got
    assert any(line == 9 and "differs from the path's last date 2027-03-31" in m
               for line, m in ((i.line, i.message) for i in info.value.issues))
    assert len(info.value.issues) == 2
    assert str(info.value).startswith("2 problems in g.toml\n  g.toml:")


def test_a_last_year_target_needs_a_review_period_shorter_than_a_year(demo_ws):
    from afterclick.goals import evaluate

    goals = parse_goals("""
[[goal]]
id = "repeat"
kpi = "value.repeat_purchase_rate"
direction = "higher"
horizon = "short"
owner = "Growth"
objective = "revenue growth"
deadline = 2027-03-31
target = { last_year = true, change = 0.05 }
""")
    (a,) = evaluate(demo_ws, goals).attainments  # the whole 18 months of the demo
    assert a.status == "cannot judge" and "more than a year" in a.sentence and "--start" in a.sentence
