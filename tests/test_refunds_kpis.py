"""Refunds on the KPI side: revenue, order value, repeat rate, revenue per customer and the CLV
inputs are net of refunds, worked out by hand on a few orders loaded through the real ingest.

In ``transactions`` a negative amount is a refund or cancellation; ``refund_of`` (often empty)
names the order it takes back.
"""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

import afterclick
from afterclick import clv
from afterclick.cli import app
from afterclick.results import Status
from csvstores import csv_store
from refdata import require, shared_data

# A: o1 100 (10 Jan), o2 50 (10 Feb) of which r1 takes back 20 (refund_of o2)
# B: o3 80 (15 Jan), cancelled the same day by r2 (refund_of o3): no order left, not a buyer
# C: o4 60 (20 Jan), o5 40 (1 Mar); r3 -40 on 5 Mar names no order: it counts against C
# D: o6 200 (1 Feb)
# E: r4 -10 (20 Feb) names an order the store does not hold; E never bought
ORDERS = [
    ("o1", "A", "2025-01-10 10:00:00", 100.0, None),
    ("o2", "A", "2025-02-10 10:00:00", 50.0, None),
    ("r1", "A", "2025-02-12 10:00:00", -20.0, "o2"),
    ("o3", "B", "2025-01-15 10:00:00", 80.0, None),
    ("r2", "B", "2025-01-15 10:12:00", -80.0, "o3"),
    ("o4", "C", "2025-01-20 10:00:00", 60.0, None),
    ("o5", "C", "2025-03-01 10:00:00", 40.0, None),
    ("r3", "C", "2025-03-05 10:00:00", -40.0, None),
    ("o6", "D", "2025-02-01 10:00:00", 200.0, None),
    ("r4", "E", "2025-02-20 10:00:00", -10.0, "zz"),
]
COLUMNS = ["order_id", "customer_id", "ts", "amount", "refund_of"]
# net revenue 100 + 50 - 20 + 80 - 80 + 60 + 40 - 40 + 200 - 10 = 380; orders o1 o2 o4 o5 o6 = 5;
# buyers A C D = 3; refunds r1-r4 take back 150 of gross sales 530
NET, ORDER_COUNT, BUYERS = 380.0, 5, 3


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    path = csv_store(tmp_path_factory.mktemp("refunds"), transactions=pd.DataFrame(ORDERS, columns=COLUMNS))
    w = afterclick.open(path, read_only=True)
    yield w
    w.close()


def test_order_counts_and_buyers_leave_refunds_and_cancelled_orders_out(ws):
    r = ws.kpi("value.purchase_frequency")
    assert r.value == pytest.approx(ORDER_COUNT / BUYERS)
    # A 2 orders, C 2 (r3 names no order, so o5 still counts), D 1; B's only order was cancelled
    assert r.rows.set_index("orders").buyers.to_dict() == {"1": 1, "2": 2}


def test_average_order_value_is_net_revenue_per_order(ws):
    r = ws.kpi("value.average_order_value")
    assert r.value == pytest.approx(NET / ORDER_COUNT)  # 76.0
    months = r.rows.assign(month=r.rows.month.dt.strftime("%Y-%m")).set_index("month")
    # January: o1 o4 count (o3 cancelled), 100 + 80 - 80 + 60 = 160 net; one refund (r2) of 80
    assert months.loc["2025-01", ["orders", "refunds", "refunded", "revenue"]].tolist() == [2, 1, 80.0, 160.0]
    # February: o2 o6, 50 - 20 + 200 - 10 = 220 net, refunds r1 and r4
    assert months.loc["2025-02", ["orders", "refunds", "refunded", "revenue"]].tolist() == [2, 2, 30.0, 220.0]
    assert months.loc["2025-03", ["orders", "refunds", "refunded", "revenue"]].tolist() == [1, 1, 40.0, 0.0]


def test_repeat_rate_and_revenue_per_customer_are_net(ws):
    assert ws.kpi("value.repeat_purchase_rate").value == pytest.approx(2 / 3)  # A and C of A, C, D
    r = ws.kpi("value.historical_revenue_per_customer")
    assert r.value == pytest.approx(NET / BUYERS)
    assert r.rows.to_dict("records") == [{"segment": "unknown", "buyers": 3, "revenue": NET,
                                          "revenue_per_buyer": pytest.approx(NET / BUYERS)}]


def test_notes_say_how_much_was_refunded(ws):
    for kpi_id in ("value.average_order_value", "value.historical_revenue_per_customer",
                   "value.purchase_frequency", "value.repeat_purchase_rate", "value.predicted_clv"):
        r = ws.kpi(kpi_id)
        assert "Net of 4 refunds or cancellations taking back 150.00, 28.3% of gross sales of 530.00." in r.notes, kpi_id
    assert "refund" in ws.kpi("value.average_order_value").definition.lower()


def test_the_clv_inputs_net_each_refund_against_the_day_it_takes_back():
    tx = pd.DataFrame(ORDERS, columns=COLUMNS)
    s = clv.rfm_summary(tx, "2025-03-05", "D").set_index("customer_id")
    # A: 10 Jan (100) and 10 Feb (50 - 20); B: nothing left; C: r3 takes 1 Mar's 40 back to 0, so
    # only 20 Jan counts; D: one day; E: never bought
    assert sorted(s.index) == ["A", "C", "D"]
    assert s.loc["A", ["frequency", "recency", "monetary_value", "revenue"]].tolist() == [1.0, 31.0, 30.0, 130.0]
    assert s.loc["C", ["frequency", "recency", "monetary_value", "revenue"]].tolist() == [0.0, 0.0, 0.0, 60.0]
    assert s.loc["D", ["frequency", "T", "revenue"]].tolist() == [0.0, 32.0, 200.0]


def test_a_refund_naming_no_order_takes_from_the_latest_purchase_day_before_it():
    tx = pd.DataFrame({"customer_id": ["X", "X", "X", "X"],
                       "ts": ["2025-01-01", "2025-01-10", "2025-01-12", "2025-01-20"],
                       "amount": [30.0, 50.0, -20.0, 10.0]})
    s = clv.rfm_summary(tx, "2025-01-31", "D").iloc[0]
    # the refund on 12 Jan takes from 10 Jan (50 -> 30), not from 1 Jan or the later 20 Jan
    assert (s.frequency, s.monetary_value, s.revenue) == (2.0, (30.0 + 10.0) / 2, 70.0)


# -- a customer who bought and cancelled everything -------------------------------------------
def _brand(with_cancellation: bool, linked: bool = False) -> pd.DataFrame:
    """The CDNOW sample's purchases (1997-01 to 1998-06) and X, who bought 2.90 in May 1997 and
    168,469.60 on 9 March 1998, cancelled 12 minutes later (as a real Online Retail customer did)."""
    raw = pd.read_csv(require(shared_data("cdnow")) / "CDNOW_sample.txt", sep=r"\s+", header=None,
                      names=["master_id", "customer_id", "date", "cds", "amount"], dtype={"customer_id": str})
    tx = pd.DataFrame({"order_id": [f"o{i}" for i in range(len(raw))], "customer_id": raw["customer_id"],
                       "ts": pd.to_datetime(raw["date"].astype(str)).astype(str), "amount": raw["amount"],
                       "refund_of": None})
    x = [("x1", "X", "1997-05-18 09:00:00", 2.90, None), ("x2", "X", "1998-03-09 10:00:00", 168469.60, None)]
    if with_cancellation:
        x.append(("cx2", "X", "1998-03-09 10:12:00", -168469.60, "x2" if linked else None))
    return pd.concat([tx, pd.DataFrame(x, columns=COLUMNS)], ignore_index=True)


@pytest.mark.parametrize("linked", [False, True], ids=["refund_of empty", "refund_of x2"])
def test_bought_and_cancelled_is_predicted_next_to_nothing(tmp_path, linked):
    def x_value(folder, table):
        with afterclick.open(csv_store(folder, transactions=table), read_only=True) as w:
            r = w.kpi("value.predicted_clv")
        assert r.status is Status.COMPUTED and r.value is not None, r.notes
        return float(r.rows.set_index("customer_id").loc["X", "clv_12m"]), r

    before, _ = x_value(tmp_path / "kept", _brand(with_cancellation=False))
    after, r = x_value(tmp_path / "cancelled", _brand(with_cancellation=True, linked=linked))
    assert before > 50_000  # the cancelled order counted: about 72,700 predicted
    assert after < 20  # only the 2.90 order is left: a one-time buyer from May 1997 (about 6.40)
    row = r.rows.set_index("customer_id").loc["X"]
    assert (row.frequency, row.revenue) == (0.0, pytest.approx(2.90))


def test_clv_export_runs_on_transactions_alone(tmp_path):
    path = csv_store(tmp_path / "s", transactions=_brand(with_cancellation=True))
    out = tmp_path / "customers.csv"
    result = CliRunner().invoke(app, ["clv", "--store", str(path), "--out", str(out)])
    assert result.exit_code == 0, result.output
    df = pd.read_csv(out).set_index("customer_id")
    assert len(df) == 2358 and df.loc["X", "clv_12m"] < 20  # CDNOW's 2,357 buyers and X
