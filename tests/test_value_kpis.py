"""Value KPIs: hand-computed on the tiny brand, and the CDNOW published fit through the whole
pipeline (Parquet -> ingest -> store -> Ibis RFM summary -> model in the finish step)."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
import pytest

import afterclick
from afterclick import clv
from afterclick.ingest import ingest
from afterclick.results import Status
from afterclick.store import Store
from refdata import shared_data
from tinyworld import build_store

CDNOW = shared_data("cdnow")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    w = afterclick.open(build_store(tmp_path_factory.mktemp("tiny")), read_only=True)
    yield w
    w.close()


@pytest.fixture(scope="module")
def tiny_customers(tmp_path_factory):
    w = afterclick.open(build_store(tmp_path_factory.mktemp("tinyc"), with_customers=True), read_only=True)
    yield w
    w.close()


# Tiny brand: A buys 50 (Jan 14) and 30 (Apr 21), C buys 20 (Jan 20); campaigns c1 (spend 100),
# c2 (spend 50). A's first click was on c1; B's and C's on c2.
def test_descriptive_value_by_hand(tiny):
    r = tiny.kpi("value.purchase_frequency")
    assert r.value == 1.5  # 3 orders / 2 buyers
    assert r.rows.set_index("orders").buyers.to_dict() == {"1": 1, "2": 1}
    r = tiny.kpi("value.average_order_value")
    assert r.value == pytest.approx(100 / 3)
    assert list(r.rows.average_order_value) == [35.0, 30.0]  # Jan: (50+20)/2, Apr: 30
    assert tiny.kpi("value.repeat_purchase_rate").value == 0.5  # A bought on 2 days, C on 1
    r = tiny.kpi("value.historical_revenue_per_customer")
    assert r.value == 50.0
    assert r.rows.to_dict("records") == [{"segment": "unknown", "buyers": 2, "revenue": 100.0,
                                          "revenue_per_buyer": 50.0}]


def test_model_kpis_say_when_buyers_are_too_few(tiny):
    for kpi_id in ("value.predicted_clv", "value.probability_alive", "value.engaged_non_buyer_value",
                   "value.holdout_check"):
        r = tiny.kpi(kpi_id)
        assert r.status is Status.COMPUTED and r.value is None, kpi_id
        assert any("too few to fit" in n for n in r.notes), kpi_id


def test_campaign_credit_first_sale_and_roi_by_hand(tiny, tiny_customers):
    rows = tiny.kpi("value.campaign_ltv_credit").rows.set_index("campaign_id")
    c1, c2 = rows.loc["c1"], rows.loc["c2"]
    assert (c1.acquired, c1.buyers, c1.first_sale, c1.revenue_to_date) == (1, 1, 50.0, 80.0)
    assert c1.roi_first_sale == pytest.approx(50 / 100 - 1) and c1.cac == 100.0
    assert (c2.acquired, c2.buyers, c2.first_sale, c2.revenue_to_date) == (2, 1, 20.0, 20.0)
    assert c2.roi_first_sale == pytest.approx(20 / 50 - 1) and c2.cac == 50.0
    # without a model there is no predicted lifetime value to credit
    assert rows.lifetime_value.isna().all()
    # customers listed: C acquired by c1, B organic, A by its click on c1
    rows = tiny_customers.kpi("value.campaign_ltv_credit").rows.set_index("campaign_id")
    assert list(rows.index) == ["c1"]
    c1 = rows.loc["c1"]
    assert (c1.acquired, c1.buyers, c1.first_sale, c1.revenue_to_date) == (2, 2, 70.0, 100.0)
    assert c1.payback_months == 0.0  # revenue to date (100) already covers the spend (100)


# -- CDNOW through the whole pipeline --------------------------------------------------------
@pytest.fixture(scope="module")
def cdnow(tmp_path_factory):
    """The CDNOW 1/10 sample as a store: its purchases as transactions, a visit per purchase as
    events, and a last event on 1997-09-30 so the observation ends where the papers' does."""
    raw = pd.read_csv(CDNOW / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "amount"], dtype={"customer_id": str})
    ts = pd.to_datetime(raw["date"].astype(str), format="%Y%m%d").dt.tz_localize("UTC")
    tx = pd.DataFrame({"order_id": [f"o{i}" for i in range(len(raw))], "customer_id": raw["customer_id"],
                       "ts": ts, "amount": raw["amount"].astype(float)})
    ev = pd.DataFrame({"customer_id": tx["customer_id"], "ts": tx["ts"], "event": "visit"})
    ev = pd.concat([ev, pd.DataFrame({"customer_id": ["observer"], "ts": [pd.Timestamp("1997-09-30 12:00", tz="UTC")],
                                      "event": ["impression"]})], ignore_index=True)
    folder = tmp_path_factory.mktemp("cdnow")
    (folder / "src").mkdir()
    tx.to_parquet(folder / "src" / "transactions.parquet", index=False)
    ev.to_parquet(folder / "src" / "events.parquet", index=False)
    with Store(folder / "cdnow.duckdb") as store:
        assert ingest(store, folder / "src").adds_up
    w = afterclick.open(folder / "cdnow.duckdb", read_only=True, end=datetime(1997, 10, 1))
    yield w, raw.assign(ts=ts.dt.tz_localize(None))
    w.close()


def test_cdnow_published_fit_through_the_kpi_pipeline(cdnow):
    ws, _ = cdnow
    r = ws.kpi("value.predicted_clv")
    assert r.ok, r.reason
    assert len(r.rows) == 2357
    note = r.notes[0]
    # the notes name the fitted parameters: BG/NBD r=0.243, α=4.41, a=0.793, b=2.43 (3 significant digits)
    assert "BG/NBD (r=0.243, alpha=4.41, a=0.793, b=2.43; weeks)" in note
    assert "Gamma-Gamma (p=6.25, q=3.74, gamma=15.4)" in note


def test_predicted_clv_rows_equal_the_clv_package(cdnow):
    ws, raw = cdnow
    rows = ws.kpi("value.predicted_clv").rows.set_index("customer_id").sort_index()
    s = clv.rfm_summary(raw, "1997-09-30", "W").set_index("customer_id").sort_index()
    bg, gg = clv.BetaGeo().fit(s), clv.GammaGamma().fit(s)
    assert np.allclose(rows["frequency"], s["frequency"]) and np.allclose(rows["T"], s["T"])
    assert np.allclose(rows["p_alive"], bg.probability_alive(s.frequency, s.recency, s["T"]), rtol=1e-6)
    assert np.allclose(rows["clv_12m"], clv.expected_clv(bg, gg, s), rtol=1e-6)
    # the campaign-free store credits nothing, and says why instead of a bare dash
    credit = ws.kpi("value.campaign_ltv_credit")
    assert credit.status is Status.SKIPPED and credit.reason.startswith("no customer was acquired by a campaign")


def test_probability_alive_matrix(cdnow):
    ws, _ = cdnow
    r = ws.kpi("value.probability_alive")
    m = r.rows
    assert set(m.columns) >= {"frequency", "recency", "p_alive", "customers", "T"}
    assert m.customers.sum() == 2357
    # P(alive) rises with recency at fixed frequency, and falls with frequency at a fixed old recency
    f3 = m[m.frequency == 3].sort_values("recency").p_alive
    assert f3.is_monotonic_increasing
    early = m[m.recency == 5].sort_values("frequency").p_alive.iloc[1:]
    assert early.is_monotonic_decreasing
    assert 0 < r.value < 1


def test_holdout_check_on_cdnow(cdnow):
    """All 78 weeks: the last 26 are held out; the KPI equals the clv package run by hand."""
    ws, raw = cdnow
    r = ws.kpi("value.holdout_check", end=None)
    assert r.ok and "26-week holdout" in r.notes[0]
    end = raw.ts.max()
    h = clv.calibration_and_holdout(raw, end - pd.Timedelta(days=182), end, "W")
    bg = clv.BetaGeo().fit(h)
    pred = bg.expected_purchases(h.duration_holdout, h.frequency, h.recency, h["T"])
    assert r.value == pytest.approx(pred.sum() / h.frequency_holdout.sum(), rel=1e-6)
    assert 0.9 < r.value < 1.1  # CDNOW: 1,175 predicted repeat purchase days vs 1,156 that happened
    assert list(r.rows.frequency) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert r.rows.buyers.sum() == len(h)


# -- charts ------------------------------------------------------------------------------------
def test_value_charts_draw_the_results(cdnow, tiny):
    import plotly.graph_objects as go

    from afterclick.views.registry import PLOTS

    ws, _ = cdnow
    clv_r = ws.kpi("value.predicted_clv")
    fig = PLOTS["value.predicted_clv"](clv_r)
    assert sum(fig.data[0].y) == int((clv_r.rows.clv_12m > 0).sum())  # every buyer with value in a bin
    matrix = ws.kpi("value.probability_alive")
    heat = PLOTS["value.probability_alive"](matrix).data[0]
    assert len(heat.y) == matrix.rows.frequency.nunique() and max(max(r for r in row if r is not None)
                                                                   for row in heat.z) <= 1
    hold = PLOTS["value.holdout_check"](ws.kpi("value.holdout_check", end=None))
    assert [t.name for t in hold.data] == ["actual", "predicted"]
    # campaign credit without a model still draws the first sales and the spend
    credit = PLOTS["value.campaign_ltv_credit"](tiny.kpi("value.campaign_ltv_credit"))
    assert isinstance(credit, go.Figure)
    assert [t.name for t in credit.data] == ["first sale", "lifetime value", "spend"]
    assert sorted(credit.data[0].x) == [20.0, 50.0]


# -- the per-customer export -------------------------------------------------------------------
def test_cli_clv_exports_one_row_per_customer(cdnow, tmp_path):
    from typer.testing import CliRunner

    from afterclick.cli import app

    ws, _ = cdnow
    store = ws.store.location
    runner = CliRunner()
    for name in ("customers.csv", "customers.parquet"):
        out = tmp_path / name
        result = runner.invoke(app, ["clv", "--store", str(store), "--out", str(out), "--end", "1997-10-01"])
        assert result.exit_code == 0, result.output
        df = pd.read_csv(out, dtype={"customer_id": str}) if name.endswith("csv") else pd.read_parquet(out)
        assert len(df) == 2357 and df.customer_id.is_unique
        assert {"customer_id", "frequency", "recency", "T", "monetary_value", "p_alive", "purchases_12m",
                "clv_12m", "clv_lifetime"} <= set(df.columns)
        assert "wrote 2,357 customers" in result.output
    bad = runner.invoke(app, ["clv", "--store", str(store), "--out", str(tmp_path / "x.xlsx")])
    assert bad.exit_code != 0 and ".csv or .parquet" in bad.output
    help_ = runner.invoke(app, ["clv", "--help"])
    assert "one row per customer" in help_.output
