"""The B2B KPIs against values worked out by hand on a small hand-made B2B brand.

The tables go through the real ingest, as CSV files. The data's end (``as_of``) is 2026-04-01:
midnight after the latest deal date (D9 closed on 2026-03-31). Leads and their ages (days from
entry to the end), their first opportunity and first won deal (days from entry):

| lead | person | account | campaign | owner | entered    | age | opportunity | won |
|------|--------|---------|----------|-------|------------|-----|-------------|-----|
| L1   | p1     | A1      | webinar  | ann   | 2025-01-06 | 450 | D1 14       | 44  |
| L2   | p3     | A2 (p)  | webinar  | bob   | 2025-02-03 | 422 | D2 120      | -   |
| L3   | p4     | A3      | paid     | bob   | 2025-03-03 | 394 | D3 182      | 222 |
| L4   | p5     | A4      | paid     | ann   | 2025-04-07 | 359 | D4 30       | -   |
| L5   | p6     | -       | paid     | -     | 2025-05-05 | 331 | D5 30 (c)   | -   |
| L6   | p7     | A2 (p)  | webinar  | ann   | 2026-01-05 | 86  | -           | -   |
| L7   | p8     | -       | paid     | cy    | 2025-06-02 | 303 | -           | -   |

(p): the account comes from the person's ``customers.account_id``; (c): D5 names p6 as its
primary contact. Every lead becomes an MQL at entry except L1 (the next day) and L2 (12:00).
"""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import pandas as pd
import pytest

import afterclick
from afterclick.ingest import ingest
from afterclick.kpis import REGISTRY
from afterclick.results import Status
from afterclick.store import Store

LEAD_STATUS = [  # lead_id, customer_id, ts, status, reason, owner, account_id, campaign_id
    ("L1", "p1", "2025-01-06 00:00", "inquiry", None, "ann", "A1", "webinar"),
    ("L1", "p1", "2025-01-07 00:00", "mql", None, "ann", "A1", "webinar"),
    ("L1", "p1", "2025-01-07 06:00", "sal", None, "ann", "A1", "webinar"),
    ("L2", "p3", "2025-02-03 00:00", "inquiry", None, "bob", None, "webinar"),
    ("L2", "p3", "2025-02-03 12:00", "mql", None, "bob", None, "webinar"),
    ("L3", "p4", "2025-03-03 00:00", "mql", None, "bob", "A3", "paid"),
    ("L3", "p4", "2025-03-20 00:00", "rejected", "no budget", "bob", "A3", "paid"),
    ("L4", "p5", "2025-04-07 00:00", "mql", None, "ann", "A4", "paid"),
    ("L4", "p5", "2025-04-08 00:00", "rejected", "not a fit", "ann", "A4", "paid"),
    ("L5", "p6", "2025-05-05 00:00", "mql", None, None, None, "paid"),
    ("L6", "p7", "2026-01-05 00:00", "mql", None, "ann", None, "webinar"),
    ("L6", "p7", "2026-01-08 00:00", "sql", None, "ann", None, "webinar"),
    ("L7", "p8", "2025-06-02 00:00", "mql", None, "cy", None, "paid"),
    ("L7", "p8", "2025-06-03 00:00", "rejected", "no budget", "cy", None, "paid"),
]

DEALS = [  # deal_id, account_id, created_at, amount, closed_at, outcome, source_campaign_id, primary_contact_id
    ("D1", "A1", "2025-01-20", 10000.0, "2025-02-19", "won", "webinar", "p1"),
    ("D2", "A2", "2025-06-03", 5000.0, "2025-07-03", "lost", "webinar", None),
    ("D3", "A3", "2025-09-01", 8000.0, "2025-10-11", "won", "paid", None),
    ("D4", "A4", "2025-05-07", 4000.0, "2025-06-06", "lost", "paid", None),
    ("D5", "A6", "2025-06-04", 1000.0, "2025-07-04", "lost", None, "p6"),
    ("D9", "A5", "2026-02-01", 2000.0, "2026-03-31", "lost", None, None),
    ("D10", "A1", "2026-03-01", 3000.0, None, None, "webinar", None),
]

CUSTOMERS = [("p1", "A1"), ("p2", "A1"), ("p3", "A2"), ("p4", "A3"), ("p5", "A4"), ("p6", None),
             ("p7", "A2"), ("p8", None)]
ACCOUNTS = [("A1", "Alder", "1-50"), ("A2", "Birch", "51-200"), ("A3", "Cedar", "51-200"), ("A4", "Dogwood", "201+")]

EVENTS = [  # customer_id, ts, event, duration_s, channel
    ("p1", "2025-05-01 10:00", "visit", 120.0, "direct"), ("p1", "2025-05-02 10:00", "click", None, None),
    ("p1", "2025-05-02 10:10", "visit", None, None),  # a session of 10 minutes with the click
    ("p2", "2025-05-03 10:00", "visit", 300.0, "branded_search"),
    ("p4", "2025-05-01 10:00", "visit", 60.0, "organic_search"),  # L3 engaged after its rejection
    ("p4", "2025-05-10 10:00", "download", None, None),  # a deep interaction: A3 trusting in May
    ("p5", "2025-04-07 12:00", "visit", 30.0, "organic_search"),  # before L4's rejection: not "afterwards"
    ("p5", "2025-05-01 10:00", "impression", None, None),  # an impression is not engagement
    ("p8", "2025-06-20 10:00", "click", None, None),  # L7 engaged after its rejection
    # p6 (no account) visits twice before becoming lead L5 on 5 May: an anonymous visitor made known
    ("p6", "2025-03-01 10:00", "visit", 10.0, "direct"), ("p6", "2025-03-15 10:00", "visit", 10.0, None),
]
TRANSACTIONS = [("o1", "p8", "2025-07-01 10:00", 50.0)]  # L7 bought anyway


def _months(first: str, last: str) -> list[str]:
    return [f"{m:%Y-%m-%d}" for m in pd.date_range(first, last, freq="MS")]


def subscriptions() -> list[tuple]:
    """account_id, customer_id, month, mrr: A1 since Nov 2024 (1,000, 1,500 in March 2026), A2
    March to December 2025 (500), A3 October 2025 to February 2026 (800), A4 since March 2025
    (2,000, 1,200 in March 2026), the person p6 since March 2025 (100)."""
    rows = [("A1", None, m, 1000.0) for m in _months("2024-11-01", "2026-02-01")] + [("A1", None, "2026-03-01", 1500.0)]
    rows += [("A2", None, m, 500.0) for m in _months("2025-03-01", "2025-12-01")]
    rows += [("A3", None, m, 800.0) for m in _months("2025-10-01", "2026-02-01")]
    rows += [("A4", None, m, 2000.0) for m in _months("2025-03-01", "2026-02-01")] + [("A4", None, "2026-03-01", 1200.0)]
    rows += [(None, "p6", m, 100.0) for m in _months("2025-03-01", "2026-03-01")]
    return rows


def frames() -> dict[str, pd.DataFrame]:
    return {
        "lead_status": pd.DataFrame(LEAD_STATUS, columns=["lead_id", "customer_id", "ts", "status", "reason", "owner",
                                                          "account_id", "campaign_id"]),
        "deals": pd.DataFrame(DEALS, columns=["deal_id", "account_id", "created_at", "amount", "closed_at", "outcome",
                                              "source_campaign_id", "primary_contact_id"]),
        "customers": pd.DataFrame(CUSTOMERS, columns=["customer_id", "account_id"]),
        "accounts": pd.DataFrame(ACCOUNTS, columns=["account_id", "name", "size_band"]),
        "events": pd.DataFrame(EVENTS, columns=["customer_id", "ts", "event", "duration_s", "channel"]),
        "transactions": pd.DataFrame(TRANSACTIONS, columns=["order_id", "customer_id", "ts", "amount"]),
        "subscriptions": pd.DataFrame(subscriptions(), columns=["account_id", "customer_id", "month", "mrr"]),
    }


def build(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    """Write ``tables`` as CSV files and ingest them like real data; returns the store."""
    src = folder / "src"
    src.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(src / f"{name}.csv", index=False)
    path = folder / "b2b.duckdb"
    with Store(path) as store:
        summary = ingest(store, src)
    assert summary.adds_up and summary.quarantined == 0, summary
    return path


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    w = afterclick.open(build(tmp_path_factory.mktemp("b2b"), frames()), read_only=True)
    yield w
    w.close()


def close(a, b):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)


DAY = 86400.0
EXPECTED = {
    # 90 days old: all but L6; an opportunity within 90 days: L1 (14), L4 (30), L5 (30)
    "b2b.lead_to_opportunity": 3 / 6,
    # 365 days old: L1, L2, L3; won within 365 days: L1 (44), L3 (222)
    "b2b.lead_to_won": 2 / 3,
    # paying in the month 365 days on: L1 (A1 in Jan 2026); not L2 (A2 gone in Feb 2026) nor L3
    # (A3 stopped after Feb 2026, the day falls on 3 March)
    "b2b.lead_to_relationship": 1 / 3,
    # not ready at 90 days: L2, L3, L7; L2 (120) and L3 (182) reached an opportunity later
    "b2b.late_converters": 2 / 3,
    # MQL to first touch (days): L1 0.25 (sal), L2 119.5 (deal D2), L3 17 (rejected), L4 1
    # (rejected), L5 30 (deal D5 names p6), L6 3 (sql), L7 1 (rejected): median 3 days
    "b2b.follow_up_time": 3 * DAY,
    # all seven MQLs are 7 days old; L2, L3 and L5 waited longer
    "b2b.untouched_leads": 3 / 7,
    # MQLs 90 days old (all but L6): within 7 days L1, L4, L7 (L1 and L4 converted: 2/3); later
    # L2, L3, L5 (L5 converted: 1/3) -> (1/3) / (2/3)
    "b2b.conversion_by_follow_up": 0.5,
    # rejected a year before the end (1 April 2026): L3 (20 March 2025), who won D3 205 days later;
    # L4 (358 days) and L7 are too recent
    "b2b.rejected_leads": 1.0,
    # deals naming a campaign: D1 10,000 + D2 5,000 + D3 8,000 + D4 4,000 + D10 3,000
    "b2b.pipeline_sourced": 30000.0,
    "b2b.win_rate": 2 / 6,  # won D1, D3; lost D2, D4, D5, D9; D10 open
    "b2b.sales_cycle": (30 + 40) / 2,  # D1 30 days, D3 40 days
    # 7 opportunities × (10,000 + 8,000) / 2 × 1/3 ÷ 35 days
    "b2b.pipeline_velocity": 7 * 9000 / 3 / 35,
    # active contacts: A1 p1 and p2, A3 p4, A4 p5 (a visit; the impression does not count)
    "b2b.buying_committee": 4 / 3,
    # accounts with a visit: A1 (1, 2 and 3 May), A3, A4 (one day each)
    "b2b.account_return_visits": 1 / 3,
    # sessions: A1 120 + 600 (click to visit) + 300 = 1,020 s, A3 60 s, A4 30 s: median 60 s
    "b2b.account_engaged_time": 60.0,
    # March 2026 against March 2025: paying then A1 1,000, A2 500, A4 2,000, p6 100 (3,600; A3 is
    # new and left out); now A1 1,500, A2 0, A4 1,200, p6 100
    "b2b.nrr": 2800 / 3600,
    "b2b.grr": (1000 + 0 + 1200 + 100) / 3600,
    "b2b.logo_retention": 3 / 4,
    # leads a year old: L1 (D1 won 10,000 at 14 days), L2 (D2 lost), L3 (D3 won 8,000 at 182 days)
    "b2b.campaign_year": (10000 + 8000) / 3,
    # every deal but D9 (no source, nobody of A5 met a campaign): D5 names p6, lead L5 of "paid"
    "b2b.pipeline_influenced": 33000.0 - 2000.0,
    # first active ever: p1, p2, p4, p5, p6, p8 (p5's impression is not activity)
    "b2b.new_visitors": 6,
    # visits naming a channel: p1 direct, p2 branded, p4 and p5 organic, p6 direct (not p6's second)
    "b2b.direct_branded_share": 3 / 5,
    # anonymous at the first visit: p2 (never a lead) and p6 (a lead 65 days on); p1, p4, p5, p8
    # were leads before they first visited
    "b2b.anonymous_to_known": 1 / 2,
    # all seven leads are MQLs; accepted after the MQL: L1 (sal) and L6 (sql)
    "b2b.lead_funnel": 2 / 7,
    # May 2025 (the last complete month of the events): A1 and A4 engaged, A3 trusting (download)
    "b2b.account_ladder": 1 / 3,
}


def test_every_b2b_kpi_is_checked():
    assert set(EXPECTED) == {k for k in REGISTRY.ids() if k.startswith("b2b.")}


@pytest.mark.parametrize("kpi_id", sorted(EXPECTED))
def test_headline_value(ws, kpi_id):
    r = ws.kpi(kpi_id)
    assert r.status is Status.COMPUTED, r.reason
    assert close(r.value, EXPECTED[kpi_id]), (kpi_id, r.value, EXPECTED[kpi_id])


def records(ws, kpi_id, *cols, **params):
    df = ws.kpi(kpi_id, **params).rows
    return [tuple(None if pd.isna(v) else v for v in rec) for rec in df[list(cols)].itertuples(index=False)]


def test_lead_outcomes_per_campaign_and_window(ws):
    # active: paying in the month the window ends (L1, L2, L4, L5 early on; p6 as a person)
    assert records(ws, "b2b.lead_to_opportunity", "campaign_id", "window", "leads", "opportunity", "won",
                   "active") == [
        ("paid", 30, 4, 2, 0, 2), ("paid", 90, 4, 2, 0, 2), ("paid", 180, 4, 2, 0, 2), ("paid", 365, 1, 1, 1, 0),
        ("webinar", 30, 3, 1, 0, 2), ("webinar", 90, 2, 1, 1, 2), ("webinar", 180, 2, 2, 1, 2),
        ("webinar", 365, 2, 2, 1, 1),
    ]


def test_late_converters_per_campaign(ws):
    assert records(ws, "b2b.late_converters", "campaign_id", "leads", "not_ready", "converted_later", "won_later",
                   "opportunities", "median_days_to_late_opportunity", "late_share") == [
        ("paid", 4, 2, 1, 1, 3, 182.0, 0.5), ("webinar", 2, 1, 1, 0, 2, 120.0, 1.0),
    ]


def test_follow_up_per_owner(ws):
    assert records(ws, "b2b.follow_up_time", "owner", "mqls", "followed_up", "median_s") == [
        ("(none)", 1, 1, 30 * DAY), ("ann", 3, 3, 1 * DAY), ("bob", 2, 2, 68.25 * DAY), ("cy", 1, 1, 1 * DAY),
    ]
    assert records(ws, "b2b.untouched_leads", "owner", "mqls", "untouched") == [
        ("(none)", 1, 1), ("ann", 3, 0), ("bob", 2, 2), ("cy", 1, 0),
    ]
    assert records(ws, "b2b.conversion_by_follow_up", "speed", "mqls", "opportunities") == [
        ("within 1 day", 3, 2), ("after 7 days", 3, 1),
    ]


def test_lead_funnel_per_campaign(ws):
    # opportunities since entry: L1-L5; won: L1, L3; rejected: L3, L4, L7; sql: L6
    assert records(ws, "b2b.lead_funnel", "campaign_id", "leads", "mqls", "accepted", "sql", "rejected",
                   "opportunity", "won") == [("paid", 4, 4, 0, 0, 3, 3, 1), ("webinar", 3, 3, 2, 1, 0, 2, 1)]


def test_rejected_leads_by_reason(ws):
    # L3 won D3, L7 bought order o1 (both engaged after the rejection); L4 did neither
    assert records(ws, "b2b.rejected_leads", "reason", "rejected", "engaged", "bought", "rejected_a_year_ago",
                   "bought_within_year") == [
        ("no budget", 2, 2, 2, 1, 1), ("not a fit", 1, 0, 0, 0, 0),
    ]
    # reviewed to the end of 2025, nobody was rejected a year before: no value, said in words
    short = ws.kpi("b2b.rejected_leads", end=pd.Timestamp("2026-01-01").to_pydatetime())
    assert short.value is None and "365 days" in short.notes[0]
    assert records(ws, "b2b.rejected_leads", "reason", "rejected", "bought",
                   end=pd.Timestamp("2026-01-01").to_pydatetime()) == [("no budget", 2, 2), ("not a fit", 1, 0)]


def test_pipeline_per_campaign(ws):
    assert records(ws, "b2b.pipeline_velocity", "campaign_id", "opportunities", "pipeline", "won", "lost", "open",
                   "win_rate", "average_deal", "cycle_days", "velocity") == [
        ("webinar", 3, 18000.0, 1, 1, 1, 0.5, 10000.0, 30.0, 3 * 10000 * 0.5 / 30),
        ("paid", 2, 12000.0, 1, 1, 0, 0.5, 8000.0, 40.0, 2 * 8000 * 0.5 / 40),
        ("(none)", 2, 3000.0, 0, 2, 0, 0.0, None, None, None),
    ]


def test_accounts(ws):
    assert records(ws, "b2b.buying_committee", "account_id", "name", "size_band", "contacts", "active_contacts",
                   "visit_days") == [
        ("A1", "Alder", "1-50", 2, 2, 3), ("A3", "Cedar", "51-200", 1, 1, 1), ("A4", "Dogwood", "201+", 1, 1, 1),
        ("A2", "Birch", "51-200", 2, 0, 0),
    ]
    assert records(ws, "b2b.account_engaged_time", "account_id", "engaged_s") == [
        ("A1", 1020.0), ("A3", 60.0), ("A4", 30.0), ("A2", 0.0)]


def test_retention_by_cohort_and_size_band(ws):
    assert records(ws, "b2b.nrr", "breakdown", "group", "customers", "mrr_before", "mrr_now", "nrr", "grr",
                   "logo_retention") == [
        ("all", "all", 4, 3600.0, 2800.0, 7 / 9, 23 / 36, 3 / 4),
        ("cohort", "2024", 1, 1000.0, 1500.0, 1.5, 1.0, 1.0),
        ("cohort", "2025", 3, 2600.0, 1300.0, 0.5, 0.5, 2 / 3),
        ("size band", "(person)", 1, 100.0, 100.0, 1.0, 1.0, 1.0),
        ("size band", "1-50", 1, 1000.0, 1500.0, 1.5, 1.0, 1.0),
        ("size band", "201+", 1, 2000.0, 1200.0, 0.6, 0.6, 1.0),
        ("size band", "51-200", 1, 500.0, 0.0, 0.0, 0.0, 0.0),
    ]
    months = records(ws, "b2b.nrr", "month", "month_before")
    assert set(months) == {(pd.Timestamp("2026-03-01", tz="UTC"), pd.Timestamp("2025-03-01", tz="UTC"))}


def test_pipeline_velocity_reproduces_the_textbook_case(tmp_path):
    """D1: 50 opportunities × 10,000 average deal × 20 % win rate ÷ 30 days = 3,333.33 a day."""
    deals = [(f"d{i}", f"a{i}", "2026-01-05", 10000.0, "2026-02-04" if i < 10 else "2026-01-20",
              "won" if i < 10 else "lost", "search", None) for i in range(50)]
    df = pd.DataFrame(deals, columns=["deal_id", "account_id", "created_at", "amount", "closed_at", "outcome",
                                      "source_campaign_id", "primary_contact_id"])
    with afterclick.open(build(tmp_path, {"deals": df}), read_only=True) as w:
        r = w.kpi("b2b.pipeline_velocity")
        assert round(r.value, 2) == 3333.33
        assert close(r.value, 50 * 10000 * 0.20 / 30)
        assert close(w.kpi("b2b.win_rate").value, 0.2)
        assert w.kpi("b2b.sales_cycle").value == 30.0
        # every won deal alike (10,000 over 30 days): the interval is the win rate's alone, on the log
        # scale: se = sqrt((1 - 0.2) / (0.2 × 50 closed))
        z, se = NormalDist().inv_cdf(0.975), math.sqrt(0.8 / (0.2 * 50))
        assert r.ci is not None
        assert math.isclose(r.ci[0], r.value * math.exp(-z * se), rel_tol=1e-9)
        assert math.isclose(r.ci[1], r.value * math.exp(z * se), rel_tol=1e-9)
        # without leads, the lead KPIs are skipped in words
        lead = w.kpi("b2b.lead_to_opportunity")
        assert lead.status is Status.SKIPPED and lead.reason == "no lead history in this store (needs table lead_status)"


def test_nrr_and_grr_follow_saas_capital(tmp_path):
    """SaaS Capital: MRR this December from customers who were customers last December ÷ total MRR
    last December. Last December a 100, b 200, c 300 (600); this December a 150 (upsell), b gone,
    c 250 (downgrade), and d 500 is new (not in either ratio): NRR 400/600, GRR (100 + 0 + 250)/600,
    logo retention 2/3."""
    rows = [("a", "2024-12-01", 100.0), ("b", "2024-12-01", 200.0), ("c", "2024-12-01", 300.0),
            ("a", "2025-06-01", 100.0), ("a", "2025-12-01", 150.0), ("c", "2025-12-01", 250.0),
            ("d", "2025-12-01", 500.0)]
    df = pd.DataFrame(rows, columns=["account_id", "month", "mrr"])
    with afterclick.open(build(tmp_path, {"subscriptions": df}), read_only=True) as w:
        assert close(w.kpi("b2b.nrr").value, 400 / 600)
        assert close(w.kpi("b2b.grr").value, 350 / 600)
        assert close(w.kpi("b2b.logo_retention").value, 2 / 3)
        # a review ending in July reads June 2025 against June 2024, when nobody paid: said in words
        short = w.kpi("b2b.nrr", end=pd.Timestamp("2025-07-01").to_pydatetime())
        assert short.value is None and "12 months before" in short.notes[0]
        deals = w.kpi("b2b.win_rate")
        assert deals.status is Status.SKIPPED and deals.reason == "no deals in this store (needs table deals)"


# ------------------------------------------------------------------------------ a larger B2B world


def b2b_world(customers: pd.DataFrame, seed: int = 0) -> dict[str, pd.DataFrame]:
    """A seeded B2B world on top of a brand's people (for the Spark parity check): 120 accounts,
    600 of the people placed in them, 400 leads through the demand waterfall, 260 deals and two
    years of subscriptions; times to the microsecond, 2024-09 to 2026-10. Returns ``customers``
    with ``account_id`` filled and the five B2B tables."""
    import numpy as np

    rng = np.random.default_rng(seed)
    start, span_days = pd.Timestamp("2025-05-01", tz="UTC"), 520
    accounts = [f"ACC{i:03d}" for i in range(120)]
    bands = rng.choice(["1-50", "51-200", "201-1000", "1000+"], len(accounts))
    people = customers.customer_id.to_numpy()[rng.permutation(len(customers))[:650]]
    placed = dict(zip(people[:600], rng.choice(accounts, 600), strict=True))
    customers = customers.assign(account_id=customers.customer_id.map(placed).astype(object))

    def when(base, days):
        return base + pd.to_timedelta(np.round(days * 86400e6), unit="us")

    ls = []
    for i in range(400):
        person = people[rng.integers(0, len(people))]
        row = {"lead_id": f"LD{i:04d}", "customer_id": person, "owner": rng.choice(["ann", "bob", "cy", None]),
                   "campaign_id": rng.choice(["webinar", "paid-search", "events", None]),
                   "account_id": placed.get(person) if rng.random() < 0.5 else None, "reason": None}
        t = when(start, rng.uniform(0, span_days))
        ls.append(dict(row, ts=t, status="inquiry"))
        if rng.random() < 0.85:
            t = when(t, rng.exponential(2))
            ls.append(dict(row, ts=t, status="mql"))
            if rng.random() < 0.2:
                ls.append(dict(row, ts=when(t, rng.exponential(4)), status="rejected",
                               reason=rng.choice(["no budget", "not a fit", "timing", None])))
            elif rng.random() < 0.7:
                t = when(t, rng.exponential(5))
                ls.append(dict(row, ts=t, status="sal"))
                if rng.random() < 0.5:
                    ls.append(dict(row, ts=when(t, rng.exponential(10)), status="sql"))
    deals, stages = [], []
    for i in range(260):
        created = when(start, rng.uniform(0, span_days))
        outcome = rng.choice(["won", "lost", None], p=[0.3, 0.45, 0.25])
        closed = when(created, rng.uniform(3, 150)) if outcome else None
        deals.append({"deal_id": f"DL{i:04d}", "account_id": rng.choice(accounts), "created_at": created,
                          "stage": "closed" if outcome else "proposal", "amount": float(np.round(rng.lognormal(9, 1), 2)),
                          "closed_at": closed, "outcome": outcome, "lost_reason": "price" if outcome == "lost" else None,
                          "source_campaign_id": rng.choice(["webinar", "paid-search", "events", None]),
                          "primary_contact_id": people[rng.integers(0, len(people))] if rng.random() < 0.3 else None})
        stages.append({"deal_id": f"DL{i:04d}", "stage": "created", "ts": created})
    subs = []
    months = pd.date_range("2024-09-01", "2026-10-01", freq="MS", tz="UTC")
    holders = [(a, None) for a in accounts[:70]] + [(None, p) for p in people[600:630]]
    for account, person in holders:
        first, last = sorted(rng.integers(0, len(months), 2))
        mrr = float(np.round(rng.lognormal(6, 0.8), 2))
        for m in months[first:last + 1]:
            mrr = float(np.round(mrr * rng.choice([1.0, 1.0, 1.1, 0.9]), 2))
            subs.append({"account_id": account, "customer_id": person, "month": m, "mrr": mrr, "plan": "team"})
    return {
        "customers": customers,
        "accounts": pd.DataFrame({"account_id": accounts, "name": [a.title() for a in accounts], "industry": "software",
                                      "size_band": bands, "owner": rng.choice(["ann", "bob"], len(accounts))}),
        "lead_status": pd.DataFrame(ls), "deals": pd.DataFrame(deals), "deal_stages": pd.DataFrame(stages),
        "subscriptions": pd.DataFrame(subs),
    }


def test_the_larger_world_reads_well(tmp_path):
    """The seeded world the Spark parity check runs on gives every B2B KPI a value."""
    from afterclick.demo import generate

    base = generate(size="small", seed=1)
    tables = {"events": base["events"], **b2b_world(base["customers"], seed=1)}
    src = tmp_path / "src"
    src.mkdir()
    for name, df in tables.items():
        df.to_parquet(src / f"{name}.parquet", index=False)
    with Store(tmp_path / "s.duckdb") as store:
        summary = ingest(store, src)
        assert summary.adds_up and summary.quarantined == 0, store.quarantine()
    with afterclick.open(tmp_path / "s.duckdb", read_only=True) as w:
        for kpi_id in EXPECTED:
            r = w.kpi(kpi_id)
            assert r.status is Status.COMPUTED and r.value is not None and len(r.rows) > 0, (kpi_id, r.reason, r.notes)


def test_shares_carry_their_wilson_interval(ws):
    from afterclick.stats.proportions import Proportion

    counts = {"b2b.lead_to_opportunity": (3, 6), "b2b.lead_to_won": (2, 3), "b2b.lead_to_relationship": (1, 3),
              "b2b.late_converters": (2, 3), "b2b.untouched_leads": (3, 7), "b2b.rejected_leads": (1, 1),
              "b2b.win_rate": (2, 6), "b2b.logo_retention": (3, 4)}
    for kpi_id, (k, n) in counts.items():
        r = ws.kpi(kpi_id)
        assert r.ci == Proportion(k, n).wilson(0.95).bounds, kpi_id
        assert r.ci[0] < r.value <= r.ci[1], kpi_id
    # 3 of 6: the interval is wide, as six leads deserve
    lo, hi = ws.kpi("b2b.lead_to_opportunity").ci
    assert math.isclose(lo, 0.18761, abs_tol=1e-5) and math.isclose(hi, 0.81239, abs_tol=1e-5)
