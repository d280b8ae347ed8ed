"""The experiment metrics added beside the basic ones, each checked against an outside reference.

A planted store (seeded numpy, built through the real ingest) with a pre-period: 600 customers
assigned in March-April 2026, with visits, orders, deep events, referrals and NPS answers in
the 90 days before and after. Experiment ``lift``: B gets more visits, orders and saves after
assignment. Experiment ``skewed``: B holds the customers who were most active before assignment
(no effect after it), so the pre-period imbalance guardrail must fire.

References: CUPED by scipy's Welch test on y − θx with θ pooled in pandas; winsorising by
numpy's quantile; the log-rank test by statsmodels' ``survdiff``; the ladder step-up and deep
interactions per visit recomputed in pandas from the definitions in ``analysis.measures``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.survfunc import survdiff
from test_ingest import run, write

from afterclick.analysis.experiments import analyse
from afterclick.schemas import EventClass, events_of
from afterclick.store import Store

DAY = pd.Timedelta(days=1)
START = pd.Timestamp("2026-03-01", tz="UTC")
END = pd.Timestamp("2026-09-30", tz="UTC")
N = 600


def _frames(seed: int = 11) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    assign, events, orders, answers = [], [], [], []
    for i in range(N):
        c = f"c{i:03d}"
        ts = START + int(rng.integers(0, 60)) * DAY + pd.Timedelta(hours=8)
        lam = rng.gamma(2.0, 1.0)
        b = rng.random() < 0.5
        assign.append(("lift", c, "B" if b else "A", ts))
        assign.append(("skewed", c, "B" if lam > 2.0 else "A", ts))
        for when, boost in ((-1, 1.0), (1, 1.4 if b else 1.0)):
            for _ in range(rng.poisson(3 * lam * boost)):
                t = ts + when * pd.Timedelta(hours=float(rng.uniform(1, 89 * 24)))
                events.append((c, t, "visit"))
                if rng.random() < (0.3 if when > 0 and b else 0.15):
                    events.append((c, t + pd.Timedelta(minutes=2), "save"))
            for k in range(rng.poisson(0.6 * lam * boost)):
                t = ts + when * pd.Timedelta(hours=float(rng.uniform(1, 89 * 24)))
                amount = float(rng.gamma(2.0, 25.0)) * (20 if rng.random() < 0.01 else 1)
                orders.append((f"o{c}{when}{k}", c, t, round(amount, 2)))
        if rng.random() < 0.1:
            events.append((c, ts + 20 * DAY, "referral"))
        if rng.random() < 0.2:
            answers.append((f"n{c}", c, ts + 15 * DAY, "nps", float(rng.integers(0, 11))))
    events.append(("c000", END, "visit"))
    frames = {
        "assignments": pd.DataFrame(assign, columns=["experiment_id", "customer_id", "variant", "ts"]),
        "events": pd.DataFrame(events, columns=["customer_id", "ts", "event"]),
        "transactions": pd.DataFrame(orders, columns=["order_id", "customer_id", "ts", "amount"]),
        "responses": pd.DataFrame(answers, columns=["response_id", "customer_id", "ts", "survey", "score"]),
    }
    return {k: d[d["ts"] <= END].reset_index(drop=True) for k, d in frames.items()}


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict[str, pd.DataFrame]]:
    root = tmp_path_factory.mktemp("expm")
    frames = _frames()
    for name, df in frames.items():
        d = df.copy()
        d["ts"] = d["ts"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        write(root / "src", f"{name}.csv", d.to_csv(index=False))
    write(root / "src", "experiments.csv", "experiment_id,control_variant,planned_split,primary_metric\n"
          "lift,A,\"A:1,B:1\",revenue_90d\nskewed,A,,revenue_90d\n")
    run(root / "s.duckdb", root / "src")
    return root / "s.duckdb", frames


@pytest.fixture(scope="module")
def store(built):
    db, frames = built
    with Store(db, read_only=True) as st:
        fixed, seq = analyse(st), analyse(st, sequential=True)
    return fixed, seq, frames


def _rows(result, eid: str) -> dict[str, dict]:
    return {r["metric"]: r for r in result.to_rows() if r["experiment_id"] == eid}


def _per_customer(frames, eid: str) -> pd.DataFrame:
    """Per assigned customer: Δ-windowed measures by the definitions, in pandas."""
    a = frames["assignments"].query("experiment_id == @eid").set_index("customer_id")
    end = max(frames["events"]["ts"].max(), frames["transactions"]["ts"].max())
    a["age"] = (end - a["ts"]).dt.total_seconds() / 86400

    def windowed(table: str, lo: float, hi: float, cond=None) -> pd.DataFrame:
        t = frames[table].merge(a[["ts"]], left_on="customer_id", right_index=True, suffixes=("", "_a"))
        t["d"] = (t["ts"] - t["ts_a"]).dt.total_seconds() / 86400
        t = t[(t["d"] >= lo) & (t["d"] < hi)]
        return t if cond is None else t[cond(t)]

    def count(t: pd.DataFrame) -> pd.Series:
        return a.index.map(t.groupby("customer_id").size()).fillna(0).to_numpy()

    tx = "transactions"
    a["rev"] = a.index.map(windowed(tx, 0, 90).groupby("customer_id")["amount"].sum()).fillna(0.0)
    a["pre_rev"] = a.index.map(windowed(tx, -90, 0).groupby("customer_id")["amount"].sum()).fillna(0.0)
    ev = frames["events"]
    deep_events = events_of(EventClass.DEEP)  # saves and referrals here
    a["deep"] = count(windowed("events", 1e-9, 90.0000001, lambda t: t["event"].isin(deep_events)))
    a["visits"] = count(windowed("events", 1e-9, 90.0000001, lambda t: t["event"] == "visit"))
    active = ev[ev["event"] != "impression"]
    first = active.merge(a[["ts"]], left_on="customer_id", right_index=True, suffixes=("", "_a"))
    first["d"] = (first["ts"] - first["ts_a"]).dt.total_seconds() / 86400
    a["ret"] = first[first["d"] > 1 / 48].groupby("customer_id")["d"].min()

    def rung(lo: float, hi: float, orders_to_date: pd.Series) -> np.ndarray:
        w = windowed("events", lo, hi)
        adv = count(w[w["event"] == "referral"]) > 0
        adv |= count(windowed("responses", lo, hi, lambda t: t["score"] >= 9)) > 0
        buy = count(windowed(tx, lo, hi, lambda t: t["amount"] > 0)) > 0
        ev = frames["events"].merge(a[["ts"]], left_on="customer_id", right_index=True,
                                    suffixes=("", "_a"))
        utc_day = ev["ts"].dt.floor("D") - ev["ts_a"].dt.floor("D")
        ev = ev.assign(dd=utc_day / DAY)[lambda x: (x["dd"] >= lo) & (x["dd"] < hi)]
        days = a.index.map(ev.groupby("customer_id")["dd"].nunique()).fillna(0)
        loyal = ((orders_to_date >= 2) & buy) | (days.to_numpy() >= 10)
        deep = count(w[w["event"].isin(events_of(EventClass.DEEP))]) > 0
        engaged = count(w[w["event"] == "visit"]) > 0
        return np.select([adv, loyal, buy | deep, engaged], [4, 3, 2, 1], 0)

    before = count(windowed(tx, -1e9, 0, lambda t: t["amount"] > 0))
    upto = before + count(windowed(tx, 0, 90, lambda t: t["amount"] > 0))
    a["step_up"] = rung(0, 90, upto) > rung(-90, 0, before)
    return a


def test_cuped_on_winsorised_revenue_matches_scipy(store):
    fixed, _, frames = store
    a = _per_customer(frames, "lift")
    ok = a[a["age"] >= 90].copy()
    ok["rev"] = ok["rev"].clip(upper=np.quantile(ok["rev"], 0.99))
    ok["pre_rev"] = ok["pre_rev"].clip(upper=np.quantile(ok["pre_rev"], 0.99))
    theta = np.cov(ok["rev"], ok["pre_rev"])[0, 1] / ok["pre_rev"].var()
    adj = ok["rev"] - theta * ok["pre_rev"]
    ref = stats.ttest_ind(adj[ok["variant"] == "B"], adj[ok["variant"] == "A"], equal_var=False)
    r = _rows(fixed, "lift")["revenue_90d"]
    assert r["method"].startswith(f"CUPED (pooled θ = {theta:.4g})")
    assert "winsorised at the pooled 99th percentile" in r["method"]
    assert r["p_value"] == pytest.approx(ref.pvalue, rel=1e-6)
    gap = adj[ok["variant"] == "B"].mean() - adj[ok["variant"] == "A"].mean()
    assert r["absolute"] == pytest.approx(gap, rel=1e-9)
    assert r["mean_control"] == pytest.approx(ok.loc[ok["variant"] == "A", "rev"].mean(), rel=1e-9)


def test_log_rank_matches_statsmodels_survdiff(store):
    fixed, _, frames = store
    a = _per_customer(frames, "lift")
    follow = np.minimum(a["age"], 90)
    hit = a["ret"].notna() & (a["ret"] <= follow)
    days = np.floor(np.where(hit, a["ret"], follow))
    _stat, p = survdiff(days, hit.astype(int).to_numpy(), (a["variant"] == "B").astype(int).to_numpy())
    r = _rows(fixed, "lift")["return_curve"]
    assert r["p_value"] == pytest.approx(p, rel=1e-6)
    assert r["relative"] > 0 and r["p_adjusted"] < 0.05  # B comes back sooner


def test_ladder_step_up_and_deep_interactions_by_definition(store):
    fixed, _, frames = store
    a = _per_customer(frames, "lift")
    ok = a[a["age"] >= 90]
    rows = _rows(fixed, "lift")
    ladder = rows["ladder_step_up"]
    for arm, key in (("A", "mean_control"), ("B", "mean_variant")):
        g = ok[ok["variant"] == arm]
        assert ladder[key] == pytest.approx(g["step_up"].mean(), rel=1e-12)
        assert rows["deep_interactions"][key] == pytest.approx(g["deep"].sum() / g["visits"].sum())
    assert rows["deep_interactions"]["relative"] > 0 and rows["deep_interactions"]["p_adjusted"] < 0.05


def test_always_valid_intervals_are_wider_and_named(store):
    fixed, seq, _ = store
    assert seq.experiments[0].tuning == 2 * N / 2  # N* = the experiment's assigned customers
    for f, s in zip(fixed.to_rows(), seq.to_rows(), strict=True):
        if f["ci_low"] is None or f["metric"] == "return_curve":  # the log-rank reads once
            continue
        assert s["ci_high"] - s["ci_low"] > f["ci_high"] - f["ci_low"], f["metric"]
        assert "always-valid confidence sequence" in s["method"]


def test_pre_period_imbalance_is_on_the_verdict_line(store):
    fixed, _, _ = store
    by = {e.experiment_id: e for e in fixed.experiments}
    assert "pre-period imbalance" in by["skewed"].verdict
    assert "pre-period imbalance" not in by["lift"].verdict


def test_bit_packed_flags_and_days_match_pandas_counts(built):
    """The per-customer table keeps 22 windowed flags in one integer and the active UTC days in
    bit masks: decoded, they equal distinct weeks, days and windows counted in pandas."""
    from afterclick.analysis import measures as M

    db, frames = built
    with Store(db, read_only=True) as st:
        got = M.customers(st.tables(), "lift").execute().set_index("customer_id").sort_index()
    a = frames["assignments"].query("experiment_id == 'lift'").set_index("customer_id").sort_index()
    ev = frames["events"].merge(a[["ts"]], left_on="customer_id", right_index=True, suffixes=("", "_a"))
    ev["d"] = (ev["ts"] - ev["ts_a"]).dt.total_seconds()
    ev["dd"] = (ev["ts"].dt.floor("D") - ev["ts_a"].dt.floor("D")) / DAY
    week = 7 * 86400

    def per(rows: pd.DataFrame, how) -> np.ndarray:
        return a.index.map(how(rows.groupby("customer_id"))).fillna(0).astype(int).to_numpy()

    def distinct(rows: pd.DataFrame, col: str) -> np.ndarray:
        return per(rows, lambda g: g[col].nunique())

    def any_(rows: pd.DataFrame) -> np.ndarray:
        return (per(rows, lambda g: g.size()) > 0).astype(int)

    post = ev[(ev["d"] > 0) & (ev["d"] < 8 * week)].assign(w=lambda x: x["d"] // week)
    pre = ev[(ev["d"] < 0) & (-ev["d"] < 8 * week)].assign(w=lambda x: -x["d"] // week)
    np.testing.assert_array_equal(got["weeks"], distinct(post, "w"))
    np.testing.assert_array_equal(got["pre_weeks"], distinct(pre, "w"))
    np.testing.assert_array_equal(got["days_pre"], distinct(ev[(ev["dd"] >= -90) & (ev["dd"] < 0)], "dd"))
    np.testing.assert_array_equal(got["days_post"], distinct(ev[(ev["dd"] >= 0) & (ev["dd"] < 90)], "dd"))
    flags = got["flags"].to_numpy()

    def bit(name: str) -> np.ndarray:
        return (flags >> M.FLAGS[name]) & 1

    for k in range(M.ACTIVE_WEEKS):
        np.testing.assert_array_equal(bit(f"week{k}"), any_(post[post["w"] == k]))
        np.testing.assert_array_equal(bit(f"pre_week{k}"), any_(pre[pre["w"] == k]))
    for when, lo, hi in (("pre", -90 * 86400, 0), ("post", 0, 90 * 86400)):
        inside = ev[(ev["d"] >= lo) & (ev["d"] < hi)]
        deep = inside["event"].isin(events_of(EventClass.DEEP))
        for name, rows in (("eng", inside[inside["event"] == "visit"]), ("deep", inside[deep]),
                           ("adv", inside[inside["event"] == "referral"])):
            np.testing.assert_array_equal(bit(f"{name}_{when}"), any_(rows), err_msg=f"{name}_{when}")
    recent = ev[(ev["d"] >= -30 * 86400) & (ev["d"] < 0)]
    np.testing.assert_array_equal(bit("pre_active30"), any_(recent))
    assert got["days_pre"].max() >= 10 and got["weeks"].max() >= 5  # the masks are exercised
