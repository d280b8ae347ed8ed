"""The acquisition campaign of customers not listed in ``customers``: the campaign of their first
click, checked against pandas on clicks full of ties (several clicks at one instant, with and
without a campaign), where the first click is the one without a campaign, else the smallest id."""

from __future__ import annotations

import numpy as np
import pandas as pd

import afterclick
from afterclick.ingest import ingest
from afterclick.kpis.campaigns import acquisitions
from afterclick.store import Store

T0 = pd.Timestamp("2025-01-01 09:00", tz="UTC")


def clicks() -> pd.DataFrame:
    rng = np.random.default_rng(18)
    n = 3000
    ev = pd.DataFrame({
        "customer_id": [f"u{i:03d}" for i in rng.integers(0, 400, n)],
        # few distinct instants per person: many ties
        "ts": T0 + pd.to_timedelta(rng.integers(0, 6, n), unit="h"),
        "event": "click",
        "campaign_id": rng.choice(np.array(["cb", "ca", "cc", None], dtype=object), n),
    })
    # by hand: a tie of a tagged and an untagged first click is organic; two tagged ones, the smaller
    ev.loc[len(ev)] = ["x1", T0, "click", "cb"]
    ev.loc[len(ev)] = ["x1", T0, "click", None]
    ev.loc[len(ev)] = ["x2", T0, "click", "cb"]
    ev.loc[len(ev)] = ["x2", T0, "click", "ca"]
    ev.loc[len(ev)] = ["x3", T0 - pd.Timedelta(hours=1), "visit", None]  # active before any click
    ev.loc[len(ev)] = ["x3", T0, "click", "cc"]
    return ev.drop_duplicates(ignore_index=True)  # ingest sets exact repeats aside


def test_first_click_campaign_against_pandas(tmp_path):
    ev = clicks()
    (tmp_path / "src").mkdir()
    ev.to_parquet(tmp_path / "src" / "events.parquet", index=False)
    with Store(tmp_path / "s.duckdb") as store:
        assert ingest(store, tmp_path / "src").quarantined == 0
    with afterclick.open(tmp_path / "s.duckdb", read_only=True) as ws:
        got = ws.store.con.execute(acquisitions(ws.tables, ws.review_params()))
        got["customer_id"] = ws.tables.customer_ids(got["customer_id"])  # the engine's keys -> ids
    got = dict(zip(got["customer_id"], got["campaign_id"]))
    c = ev[ev["event"] == "click"].sort_values(["customer_id", "ts", "campaign_id"], na_position="first")
    first = c.groupby("customer_id").head(1)
    want = {k: v for k, v in zip(first["customer_id"], first["campaign_id"]) if pd.notna(v)}
    assert got == want
    assert "x1" not in got and got["x2"] == "ca" and got["x3"] == "cc"
    assert len(got) > 200  # most people's first click carries a campaign
