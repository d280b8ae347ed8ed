"""A hand-made tiny brand whose KPI values were worked out by hand (see test_kpis_tiny.py).

Weeks start on Monday: W0 = 2025-01-06, W1 = 01-13, W2 = 01-20, W3 = 01-27, W4 = 02-03,
W9 = 03-10, W14 = 04-14, W15 = 04-21, W16 = 04-28. The last event (D's impression) falls in W16
and in April.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from afterclick.ingest import ingest
from afterclick.store import Store

# customer, ts, event, channel, campaign_id, session_id, duration_s, content_id
EVENTS = [
    ("A", "2025-01-06 09:00", "impression", "social", "c1", None, None, None),
    ("A", "2025-01-06 10:00", "click", "social", "c1", None, None, "p1"),
    ("A", "2025-01-06 10:05", "visit", None, None, "s1", 60.0, None),
    ("A", "2025-01-06 10:20", "visit", None, None, "s1", 120.0, None),
    ("A", "2025-01-06 10:25", "save", None, None, "s1", None, "g1"),
    ("A", "2025-01-08 12:00", "visit", None, None, None, 30.0, None),
    ("A", "2025-01-14 09:00", "visit", None, None, None, 300.0, None),
    ("A", "2025-02-01 10:00", "referral", None, None, None, None, None),
    ("A", "2025-04-21 09:00", "visit", None, None, None, 90.0, None),
    ("B", "2025-01-06 11:00", "impression", "social", "c2", None, None, None),
    ("B", "2025-01-07 08:00", "click", "social", "c2", None, None, "p1"),
    ("C", "2025-01-06 12:00", "impression", "email", "c2", None, None, None),
    ("C", "2025-01-13 10:00", "click", "email", "c2", None, None, None),
    ("C", "2025-01-13 10:10", "visit", None, None, None, 240.0, None),
    ("C", "2025-01-13 10:11", "like", None, None, None, None, "p1"),
    ("C", "2025-01-20 10:00", "visit", None, None, None, 100.0, None),
    ("C", "2025-01-20 10:45", "download", None, None, None, None, "g1"),
    ("D", "2025-01-10 10:00", "impression", "display", "c1", None, None, None),
    ("D", "2025-04-28 10:00", "impression", "display", "c1", None, None, None),
    ("E", "2025-02-03 10:00", "follow", "social", None, None, None, None),
    ("E", "2025-02-03 10:00", "visit", None, None, None, 50.0, None),
    ("F", "2025-04-14 09:00", "visit", None, None, None, 20.0, None),
    ("G", "2025-03-10 09:00", "visit", None, None, None, 10.0, None),
    ("G", "2025-03-11 09:00", "visit", None, None, None, 400.0, None),
]

TRANSACTIONS = [
    ("o1", "A", "2025-01-14 09:30", 50.0),
    ("o2", "A", "2025-04-21 09:30", 30.0),
    ("o3", "C", "2025-01-20 11:00", 20.0),
]

CAMPAIGNS = [
    ("c1", "Flash", "social", "awareness", 100.0),
    ("c2", "Guides", "email", "engagement", 50.0),
]


#: customers listed in the customers table: B organic (no campaign), C credited to c1; A and the
#: others are not listed, so their first campaign click decides.
CUSTOMERS = [("B", None), ("C", "c1")]


#: Survey answers (added for the advocacy family). Promoters (9-10) count as advocates on the
#: ladder, so only A, already an advocate from February on, gives 9 or 10.
# response_id, customer, ts, survey, score, comment, touchpoint
RESPONSES = [
    ("r1", "A", "2025-02-10 10:00", "nps", 10.0, "Thank you, the delivery was quick", "post_purchase"),
    ("r2", "B", "2025-02-11 10:00", "nps", 6.0, "Delivery was late", "post_purchase"),
    ("r3", "C", "2025-03-05 10:00", "nps", 8.0, None, "onboarding"),
    ("r4", "E", "2025-03-06 10:00", "nps", 3.0, "The site is confusing", "onboarding"),
    ("r5", "A", "2025-03-20 10:00", "nps", 9.0, None, "post_purchase"),
    ("r6", "B", "2025-02-12 10:00", "csat", 5.0, None, "support"),
    ("r7", "C", "2025-03-12 10:00", "csat", 2.0, "Still waiting for a reply", "support"),
    ("r8", "E", "2025-03-13 10:00", "csat", 4.0, None, "support"),
    ("r9", "C", "2025-03-14 10:00", "ces", 6.0, None, "checkout"),
    ("r10", "E", "2025-03-15 10:00", "ces", 3.0, None, "checkout"),
]

# message_id, author, ts, text, kind, content_id, parent_id, is_brand
MESSAGES = [
    ("m1", "A", "2025-01-08 12:05", "Thank you so much, this guide really helped me!", "comment", "g1", None, False),
    ("m2", "C", "2025-01-20 10:50", "Should I repot my fern now or wait until spring?", "comment", "g1", None, False),
    ("m3", "B", "2025-01-07 08:01", "lol", "comment", "p1", None, False),
    ("m4", "brand", "2025-01-21 09:00", "Yes, wait until spring.", "reply", "g1", "m2", True),
    ("m5", "E", "2025-02-03 10:05", "My grandmother gave me her peace lily when I moved into my first flat "
     "years ago, and it is still thriving.", "community_post", None, None, False),
    ("m6", "C", "2025-03-01 10:00", "My order is still not here, this is terrible.", "support", None, None, False),
]


def frames(with_transactions: bool = True, with_customers: bool = False) -> dict[str, pd.DataFrame]:
    ev = pd.DataFrame(EVENTS, columns=["customer_id", "ts", "event", "channel", "campaign_id",
                                       "session_id", "duration_s", "content_id"])
    ev["ts"] = pd.to_datetime(ev["ts"], utc=True)
    out = {"events": ev}
    if with_transactions:
        tx = pd.DataFrame(TRANSACTIONS, columns=["order_id", "customer_id", "ts", "amount"])
        tx["ts"] = pd.to_datetime(tx["ts"], utc=True)
        out["transactions"] = tx
        out["campaigns"] = pd.DataFrame(
            CAMPAIGNS, columns=["campaign_id", "name", "channel", "objective", "spend"]
        )
    if with_transactions:
        r = pd.DataFrame(RESPONSES, columns=["response_id", "customer_id", "ts", "survey", "score", "comment",
                                             "touchpoint"])
        r["ts"] = pd.to_datetime(r["ts"], utc=True)
        m = pd.DataFrame(MESSAGES, columns=["message_id", "author_id", "ts", "text", "kind", "content_id",
                                            "parent_id", "is_brand"])
        m["ts"] = pd.to_datetime(m["ts"], utc=True)
        out["responses"], out["messages"] = r, m
    if with_customers:
        out["customers"] = pd.DataFrame(CUSTOMERS, columns=["customer_id", "acquisition_campaign_id"])
    return out


def build_store(folder: Path, with_transactions: bool = True, with_customers: bool = False) -> Path:
    """Write the tiny brand as Parquet files and ingest them, like real data; returns the store."""
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name, df in frames(with_transactions, with_customers).items():
        df.to_parquet(src / f"{name}.parquet", index=False)
    path = folder / "tiny.duckdb"
    with Store(path) as store:
        summary = ingest(store, src)
    assert summary.adds_up and summary.quarantined == 0
    return path
