"""The ladder and reach over data longer than five years, worked out by hand.

Impression months are kept as bits of 60-month blocks (``kpis._common.exposure``); these events
put impressions on both sides of a block boundary (months 58 and 59 of the first block, month 0
of the second), so the windows that reach back across it, and a person seen in two blocks, are
checked. Month 0 is January 2020 (the first event), month 60 is January 2025.
"""

from __future__ import annotations

import pandas as pd
import pytest

import afterclick
from afterclick.ingest import ingest
from afterclick.store import Store

EVENTS = [  # customer, ts, event
    ("X", "2020-01-15 10:00", "impression"),  # month 0
    ("Z", "2020-01-20 10:00", "visit"),
    ("X", "2024-11-10 10:00", "impression"),  # month 58
    ("Y", "2024-12-20 10:00", "impression"),  # month 59
    ("X", "2025-01-05 10:00", "impression"),  # month 60: the second block
    ("Y", "2025-02-10 10:00", "visit"),  # month 61
    ("Z", "2025-03-05 10:00", "visit"),  # month 62, the last event
]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("long")
    ev = pd.DataFrame(EVENTS, columns=["customer_id", "ts", "event"])
    ev["ts"] = pd.to_datetime(ev["ts"], utc=True)
    ev["channel"] = "display"
    (folder / "src").mkdir()
    ev.to_parquet(folder / "src" / "events.parquet", index=False)
    with Store(folder / "long.duckdb") as store:
        assert ingest(store, folder / "src").adds_up
    w = afterclick.open(folder / "long.duckdb", read_only=True)
    yield w
    w.close()


def test_ladder_across_a_block_boundary(ws):
    df = ws.kpi("ladder.commitment_ladder").rows
    got = {}
    for rec in df.itertuples(index=False):
        got.setdefault(rec.period.strftime("%Y-%m"), {})[rec.stage] = rec.customers
    # a month's window is the month and the two before it; only months with events are drawn
    assert got == {
        "2020-01": {"aware": 1, "engaged": 1},  # X saw an impression; Z visited
        "2024-11": {"aware": 1},  # X
        "2024-12": {"aware": 2},  # X (month 58) and Y (59)
        "2025-01": {"aware": 2},  # X (60, and 58) and Y (59), read back across the boundary
        "2025-02": {"aware": 1, "engaged": 1},  # X (60); Y was seen (59) but visited: engaged
        "2025-03": {"aware": 1, "engaged": 2},  # X (60); Y (visit in 61) and Z
    }


def test_reach_counts_a_person_seen_in_two_blocks_once(ws):
    r = ws.kpi("reach.reach")
    assert r.value == 2
    assert r.rows.to_dict("records") == [{"channel": "display", "people": 2}]
