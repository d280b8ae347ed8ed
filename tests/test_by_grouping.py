"""A KPI by any grouping of its units, through the measure its spec declares (no KPI code).

On the small demo, three KPIs of different kinds by the customers' segment: a count
(reach.clicks), a proportion (retention.repeat_visit_rate) and a ratio (reach.ctr). The groups
add back to the whole, each group's value is the KPI computed on that group's customers alone,
and the intervals agree with statsmodels and scipy on the per-customer values.
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest
from scipy import stats as st
from statsmodels.stats.proportion import proportion_confint

from afterclick.kpis import REGISTRY
from afterclick.kpis._common import in_period
from afterclick.kpis.base import Tables
from afterclick.results import MeasureKind, Status
from afterclick.workspace import Workspace

KINDS = {"reach.clicks": MeasureKind.COUNT, "retention.repeat_visit_rate": MeasureKind.PROPORTION,
         "reach.ctr": MeasureKind.RATIO}


@pytest.fixture(scope="module")
def raw(demo_ws):
    """The demo's events (customer, UTC day, event) and customers, read once as pandas."""
    ev = in_period(demo_ws.tables["events"], demo_ws.review_params())
    events = demo_ws.store.con.execute(ev.select("customer_id", "event", day=ev.ts.truncate("D")))
    events["customer_id"] = demo_ws.tables.customer_ids(events["customer_id"])  # keys -> ids
    return events, demo_ws.table("customers")[["customer_id", "segment"]]


@pytest.fixture(scope="module")
def by_segment(demo_ws):
    return {k: demo_ws.kpi_by(k, "customers.segment") for k in KINDS}


def test_the_three_kinds_are_declared():
    assert {k: REGISTRY[k].measure.kind for k in KINDS} == KINDS


def test_the_whole_is_the_kpi_and_the_groups_add_back_to_it(demo_ws, by_segment, raw):
    events, customers = raw
    for k, r in by_segment.items():
        assert r.status is Status.COMPUTED
        assert r.value == pytest.approx(demo_ws.kpi(k).value, rel=1e-12), k
        assert set(r.rows["segment"].dropna()) == set(customers["segment"]), k
        assert r.rows["segment"].isna().sum() <= 1, k  # the customers no segment names, if any
    assert by_segment["reach.ctr"].rows["segment"].isna().sum() == 1  # people seen, not on file
    # counts sum: every click counted once, in its customer's group
    clicks = by_segment["reach.clicks"].rows
    assert clicks["sum"].sum() == (events["event"] == "click").sum() == by_segment["reach.clicks"].value
    # proportions: numerators and denominators sum to the whole's (counted here from the events)
    visits = events[events["event"] == "visit"].groupby("customer_id")["day"].nunique()
    repeat = by_segment["retention.repeat_visit_rate"].rows
    assert (repeat["n"].sum(), repeat["sum"].sum()) == (len(visits), (visits >= 2).sum())
    # the ratio's sums add: clicks over impressions
    ctr = by_segment["reach.ctr"].rows
    assert ctr["num_sum"].sum() == (events["event"] == "click").sum()
    assert ctr["den_sum"].sum() == (events["event"] == "impression").sum()
    assert by_segment["reach.ctr"].value == pytest.approx(ctr["num_sum"].sum() / ctr["den_sum"].sum(), rel=1e-12)


def _subset_workspace(demo_ws, keep: ibis.Table) -> Workspace:
    """A workspace over the demo's tables cut to the customers of ``keep`` (one column,
    customer_id), on the whole's review period."""
    p = demo_ws.review_params()
    sub = Workspace(demo_ws.store, p)
    cut = {}
    for name in demo_ws.tables:
        tb = demo_ws.tables[name]
        cut[name] = tb.semi_join(keep, "customer_id") if "customer_id" in tb.columns else tb
    sub._tables = Tables(cut, ids=demo_ws.tables.ids)
    return sub


def test_each_group_is_the_kpi_on_its_customers_alone(demo_ws, by_segment):
    cu = demo_ws.tables["customers"]
    for k, r in by_segment.items():
        for seg in ("collector", "social_only", None):
            if seg is None:  # the customers no segment names: everyone else
                known = cu.select("customer_id")
                ev = demo_ws.tables["events"]
                keep = ev.select("customer_id").distinct().anti_join(known, "customer_id")
            else:
                keep = cu.filter(cu.segment == seg).select("customer_id")
            sub = _subset_workspace(demo_ws, keep)
            row = r.rows[r.rows["segment"].isna()] if seg is None else r.rows[r.rows["segment"] == seg]
            if seg is None and row.empty:  # everyone the KPI counts is on file
                assert sub.kpi(k).value in (0, None), k
                continue
            assert len(row) == 1
            expected, got = sub.kpi(k).value, row["value"].iloc[0]
            if expected is None:  # nobody in the group that the KPI counts (social_only never visits)
                assert row["n"].iloc[0] == 0 and pd.isna(got), (k, seg)
            else:
                assert got == pytest.approx(expected, rel=1e-12), (k, seg)


def test_intervals_agree_with_statsmodels_and_scipy(by_segment, raw):
    events, customers = raw
    repeat = by_segment["retention.repeat_visit_rate"].rows.iloc[0]
    low, high = proportion_confint(int(repeat["sum"]), int(repeat["n"]), alpha=0.05, method="wilson")
    assert (repeat["ci_low"], repeat["ci_high"]) == pytest.approx((low, high), rel=1e-9)
    # the ratio by the delta method, as the variance of each customer's linearised value
    # (num - R·den) / mean(den): the same estimator written another way, on the raw values
    seg = by_segment["reach.ctr"].rows.iloc[0]["segment"]
    who = set(customers.loc[customers["segment"] == seg, "customer_id"])
    e = events[events["customer_id"].isin(who) & events["event"].isin(("click", "impression"))]
    per = pd.crosstab(e["customer_id"], e["event"]).reindex(columns=["click", "impression"], fill_value=0)
    num, den = per["click"].to_numpy(float), per["impression"].to_numpy(float)
    ratio = num.sum() / den.sum()
    se = np.std((num - ratio * den) / den.mean(), ddof=1) / math.sqrt(len(num))
    row = by_segment["reach.ctr"].rows.iloc[0]
    assert row["value"] == pytest.approx(ratio, rel=1e-12)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(st.norm.interval(0.95, ratio, se), rel=1e-9)


def test_a_mean_kpi_has_the_t_interval_of_its_per_unit_values(demo_ws):
    r = demo_ws.kpi_by("value.purchase_frequency", "segment")
    tx = demo_ws.table("transactions")
    cu = demo_ws.table("customers")
    row = r.rows.iloc[0]
    who = set(cu.loc[cu["segment"] == row["segment"], "customer_id"])
    # orders per buyer: non-refund rows not refunded to 0 or below, as value.purchase_frequency
    buys = tx[tx["amount"] >= 0]
    refunds = tx[tx["amount"] < 0].groupby("refund_of")["amount"].sum()
    net = buys["amount"] + buys["order_id"].map(refunds).fillna(0)
    orders = buys[net > 0].groupby("customer_id").size()
    x = orders[orders.index.isin(who)].to_numpy(float)
    assert int(row["n"]) == len(x)
    ci = st.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st.sem(x))
    assert (row["value"], row["ci_low"], row["ci_high"]) == pytest.approx((x.mean(), *ci), rel=1e-9)


def test_a_caller_table_groups_and_a_unit_in_two_groups_is_refused(demo_ws):
    cu = demo_ws.table("customers")[["customer_id"]].head(40)
    cu["arm"] = np.where(np.arange(len(cu)) % 2, "variant", "control")
    r = demo_ws.kpi_by("reach.clicks", ibis.memtable(cu))
    assert list(r.rows["arm"]) == ["control", "variant", None]
    assert r.rows["sum"].sum() == r.value
    twice = pd.concat([cu, cu.assign(arm="other")])
    with pytest.raises(ValueError, match="in more than one arm"):
        demo_ws.kpi_by("reach.clicks", ibis.memtable(twice))
    with pytest.raises(ValueError, match="declares no measure"):
        demo_ws.kpi_by("ladder.movement", "segment")
    with pytest.raises(ValueError, match="holds both 'customer_id' and 'nothing'"):
        demo_ws.kpi_by("reach.clicks", "nothing")


def test_every_declared_measure_adds_up_to_its_kpi(demo_ws):
    for k in REGISTRY:
        if k.measure is not None:
            r = demo_ws.kpi_by(k.id, "segment")
            assert r.value == pytest.approx(demo_ws.kpi(k.id).value, rel=1e-12), k.id


# ------------------------------------------------------- more measures: the sums add back, per KPI

#: Ratios of sums per customer declared beyond the three kinds above (``@measure`` in kpis/).
RATIOS = ("advocacy.nps", "advocacy.csat", "advocacy.ces", "value.historical_revenue_per_customer",
          "trust.pages_per_session", "resonance.depth_ratio", "resonance.save_rate", "resonance.share_rate",
          "content.value")


def _raw_sums(demo_ws, kpi_id: str) -> tuple[float, float] | None:
    """Σ numerator and Σ denominator of ``kpi_id`` over everyone, counted here in pandas from the
    stored rows (None where the KPI's own building block, sessions, is the only reference)."""
    p = demo_ws.review_params()
    if kpi_id.startswith("advocacy."):
        r = demo_ws.store.con.execute(in_period(demo_ws.tables["responses"], p))
        s = r[(r["survey"] == kpi_id.split(".")[1]) & r["score"].notna()]["score"]
        num = {"advocacy.nps": 100 * ((s >= 9).sum() - (s < 7).sum()), "advocacy.csat": (s >= 4).sum(),
               "advocacy.ces": s.sum()}[kpi_id]
        return float(num), float(len(s))
    if kpi_id.startswith(("resonance.", "content.")):
        from afterclick.kpis.resonance import DEEP, ENGAGED, SHALLOW

        e = demo_ws.store.con.execute(in_period(demo_ws.tables["events"], p))
        e = e[e["content_id"].notna()]["event"]
        deep, shallow = float(e.isin(DEEP).sum()), float(e.isin(SHALLOW).sum())
        return {"resonance.depth_ratio": (deep, shallow), "content.value": (deep, deep + shallow),
                "resonance.save_rate": (float((e == "save").sum()), float(e.isin(ENGAGED).sum())),
                "resonance.share_rate": (float((e == "share").sum()), float(e.isin(ENGAGED).sum()))}[kpi_id]
    if kpi_id == "value.historical_revenue_per_customer":
        tx = demo_ws.store.con.execute(in_period(demo_ws.tables["transactions"], p))
        buys = tx[tx["amount"] >= 0]
        back = tx[tx["amount"] < 0].groupby("refund_of")["amount"].sum()
        net = buys["amount"] + buys["order_id"].map(back).fillna(0)
        kept = buys[~(buys["order_id"].isin(back.index) & (net <= 0))]
        return float(tx["amount"].sum()), float(kept["customer_id"].nunique())
    return None


@pytest.mark.parametrize("kpi_id", RATIOS)
def test_each_ratio_measure_adds_back_and_is_the_kpi_on_each_group(demo_ws, kpi_id):
    assert REGISTRY[kpi_id].measure.kind is MeasureKind.RATIO
    r = demo_ws.kpi_by(kpi_id, "customers.segment")
    assert r.status is Status.COMPUTED
    whole = demo_ws.kpi(kpi_id).value
    assert r.value == pytest.approx(whole, rel=1e-12)
    total = (r.rows["num_sum"].sum(), r.rows["den_sum"].sum())
    assert total[0] / total[1] == pytest.approx(whole, rel=1e-12)
    raw = _raw_sums(demo_ws, kpi_id)
    if raw is not None:
        assert total == pytest.approx(raw, rel=1e-12)
    cu = demo_ws.tables["customers"]
    for seg in ("collector", "new_to_plants"):
        row = r.rows[r.rows["segment"] == seg]
        sub = _subset_workspace(demo_ws, cu.filter(cu.segment == seg).select("customer_id"))
        assert row["value"].iloc[0] == pytest.approx(sub.kpi(kpi_id).value, rel=1e-12), seg
