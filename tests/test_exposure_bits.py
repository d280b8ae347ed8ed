"""Reach and the ladder's "seen" counts read one row of bits per person (``kpis._exposure``):
months and channels. Checked against pandas' distinct counts on impressions spread over 70
channels (more than the 62 channel bits, so the channels past them are counted apart) and over
six years (two blocks of 60 months, people seen in both)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import afterclick
from afterclick.ingest import ingest
from afterclick.kpis._exposure import CHANNEL_BITS
from afterclick.store import Store

N_CHANNELS = 70


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    rng = np.random.default_rng(3)
    n = 6_000
    ev = pd.DataFrame({
        "customer_id": [f"P{i:04d}" for i in rng.integers(0, 900, n)],
        "ts": pd.Timestamp("2019-03-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 6 * 365, n), unit="D"),
        "event": "impression",
        # a few channels missing: counted as "(none)"
        "channel": [None if c == N_CHANNELS else f"ch{c:02d}" for c in rng.integers(0, N_CHANNELS + 1, n)],
    })
    visits = ev.sample(300, random_state=1).assign(event="visit")
    folder = tmp_path_factory.mktemp("bits")
    (folder / "src").mkdir()
    pd.concat([ev, visits]).to_parquet(folder / "src" / "events.parquet", index=False)
    with Store(folder / "bits.duckdb") as store:
        assert ingest(store, folder / "src").adds_up
    ws = afterclick.open(folder / "bits.duckdb", read_only=True)
    yield ws, ev
    ws.close()


def test_reach_per_channel_equals_pandas_distinct_counts(case):
    ws, ev = case
    assert ev.channel.fillna("(none)").nunique() > CHANNEL_BITS  # some channels past the bits
    r = ws.kpi("reach.reach")
    expected = ev.assign(channel=ev.channel.fillna("(none)")).groupby("channel").customer_id.nunique()
    got = r.rows.set_index("channel")["people"]
    assert got.to_dict() == expected.to_dict()
    assert r.value == ev.customer_id.nunique()


def test_ladder_aware_rung_equals_pandas(case):
    """People on the aware rung each month = seen in the month or the two before and not active
    in them, counted by hand with pandas."""
    ws, ev = case
    rows = ws.kpi("ladder.commitment_ladder").rows
    aware = rows[rows.stage == "aware"].set_index("period")["customers"]
    month = (ev.ts.dt.year * 12 + ev.ts.dt.month - 1).to_numpy()
    seen = pd.DataFrame({"c": ev.customer_id, "m": month}).drop_duplicates()
    assert seen.m.max() - seen.m.min() >= 60  # two blocks of months
    for period, customers in aware.items():
        m = period.year * 12 + period.month - 1
        window = set(seen[(seen.m <= m) & (seen.m > m - 3)].c)
        assert customers == len(window - _active(ws, m)), period


def _active(ws, m: int) -> set[str]:
    """Customers with a visit in month m or the two before (they stand on a higher rung)."""
    ev = ws.table("events")
    ev = ev[ev.event == "visit"]
    months = ev.ts.dt.year * 12 + ev.ts.dt.month - 1
    return set(ev[(months <= m) & (months > m - 3)].customer_id)
