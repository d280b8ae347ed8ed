"""The experiment and B2B tables go in like every other: typed, checked, quarantined with reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ingest import quarantine, rows, run, write

from afterclick.schemas import TABLES


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "store.duckdb"


def reasons(db: Path, table: str) -> list[tuple[str, str]]:
    return [(where, reason) for t, where, reason, _ in quarantine(db) if t == table]


def test_every_new_table_is_canonical():
    for name in ("experiments", "assignments", "accounts", "lead_status", "deals", "deal_stages", "subscriptions"):
        assert name in TABLES
    assert "account_id" in TABLES["customers"].columns


def test_one_variant_per_person_and_experiment(tmp_path, db):
    src = tmp_path / "src"
    write(src, "experiments.csv", 'experiment_id,name,start,end,control_variant,planned_split\n'
                                  'e1,Subject line,2026-01-01,2026-02-01,A,"A:50, B:50"\n'
                                  'e2,Backwards,2026-02-01,2026-01-01,A,"A:50, B:50"\n'
                                  'e3,Bad split,2026-01-01,2026-02-01,A,"A=50 B=50"\n')
    write(src, "assignments.csv", "experiment_id,customer_id,variant,ts\ne1,c1,A,2026-01-02\ne1,c2,B,2026-01-02\n"
                                  "e1,c1,B,2026-01-03\ne2,c1,B,2026-01-03\n")
    summary = run(db, src)
    by = {f.table: f for f in summary.files}
    assert (by["assignments"].loaded, by["assignments"].quarantined) == (3, 1)
    assert reasons(db, "assignments") == [
        ("line 4", "a second assignment of this person in this experiment (one variant per person: the first "
                   "counts) (line 2)")]
    assert reasons(db, "experiments") == [
        ("line 3", "end before start"),
        ("line 4", 'planned_split is not written variant:share, … (e.g. "A:50, B:50"); control_variant is not '
                   "one of the variants in planned_split"),
    ]
    # a later file cannot move a person to the other arm either
    write(src, "assignments.csv", "experiment_id,customer_id,variant,ts\ne1,c2,A,2026-01-05\n")
    again = run(db, src)
    assert [f.quarantined for f in again.files if f.table == "assignments"] == [1]
    assert rows(db, "SELECT variant FROM assignments WHERE customer_id = 'c2'") == [("B",)]


def test_lead_statuses_deals_and_subscriptions_are_checked(tmp_path, db):
    src = tmp_path / "src"
    write(src, "lead_status.csv", "lead_id,customer_id,ts,status\nl1,p1,2026-01-02,Inquiry\nl1,p1,2026-01-05,MQL\n"
                                  "l1,p1,2026-01-09,customer\n")
    write(src, "deals.csv", "deal_id,account_id,created_at,amount,closed_at,outcome\n"
                            "d1,a1,2026-01-02,1000,2026-02-01,Won\nd2,a1,2026-01-02,-5,,\n"
                            "d3,a2,2026-03-02,10,2026-02-01,maybe\nd4,a2,2026-03-02,10,,\n")
    write(src, "subscriptions.csv", "account_id,customer_id,month,mrr\na1,,2026-01-01,100\n,,2026-01-01,50\n"
                                    "a2,,2026-01-01,-3\n,p9,2026-01-01,20\n")
    write(src, "accounts.csv", "account_id,name,industry,size_band,owner\na1,Acme,Manufacturing,51-200,kim\n")
    write(src, "customers.csv", "customer_id,account_id\np1,a1\n")
    run(db, src)
    assert rows(db, "SELECT status FROM lead_status ORDER BY ts") == [("inquiry",), ("mql",)]
    assert reasons(db, "lead_status") == [
        ("line 4", "status is not one of inquiry, mql, sal, sql, rejected, recycled (map the export's names "
                   "with a CASE expression in a mapping file)")]
    assert rows(db, "SELECT deal_id, outcome FROM deals ORDER BY 1") == [("d1", "won"), ("d4", None)]
    assert reasons(db, "deals") == [
        ("line 3", "negative amount"),
        ("line 4", "outcome is neither won nor lost (leave it empty while the deal is open); closed before it "
                   "was created"),
    ]
    assert rows(db, "SELECT coalesce(account_id, customer_id), mrr FROM subscriptions ORDER BY 1") == [
        ("a1", 100.0), ("p9", 20.0)]
    assert reasons(db, "subscriptions") == [
        ("line 3", "neither account_id nor customer_id: whose subscription is it?"), ("line 4", "negative mrr")]
    assert rows(db, "SELECT customer_id, account_id FROM customers") == [("p1", "a1")]


CRM = Path(__file__).resolve().parents[1] / "examples" / "crm"


def test_the_crm_example_loads_with_its_mapping(db):
    """A Salesforce Data Export: statuses from the lead field history, the first entry into each
    deal stage from the opportunity history, deleted records left out."""
    summary = run(db, CRM, CRM / "mapping.toml")
    by = {f.table: f for f in summary.files}
    assert {t: (f.rows_read, f.loaded, f.filtered, f.quarantined) for t, f in by.items()} == {
        "customers": (3, 3, 0, 0), "accounts": (3, 3, 0, 0), "lead_status": (11, 10, 1, 0),
        "deals": (3, 3, 0, 0), "deal_stages": (8, 8, 0, 0), "subscriptions": (3, 3, 0, 0)}
    assert rows(db, "SELECT status, strftime(ts, '%Y-%m-%d') FROM lead_status WHERE customer_id = 'bo@borealis.example' "
                    "ORDER BY ts") == [("inquiry", "2026-01-12"), ("mql", "2026-01-13"), ("rejected", "2026-02-20")]
    assert rows(db, "SELECT deal_id, outcome, strftime(closed_at, '%Y-%m-%d') FROM deals ORDER BY created_at") == [
        ("0065g00000Op1AAAAZ", "won", "2026-03-14"), ("0065g00000Op2AAAAZ", "lost", "2026-04-02"),
        ("0065g00000Op3AAAAZ", None, None)]
    # the repeated "Proposal/Price Quote" rows (an amount and a date change) are one stage entry
    assert rows(db, "SELECT stage, strftime(ts, '%Y-%m-%d') FROM deal_stages WHERE deal_id = '0065g00000Op1AAAAZ' "
                    "ORDER BY ts") == [("Prospecting", "2026-01-20"), ("Proposal/Price Quote", "2026-02-03"),
                                       ("Closed Won", "2026-03-14")]
    assert rows(db, "SELECT name, size_band FROM accounts ORDER BY 1") == [
        ("Acme Tooling", "50-249"), ("Borealis Labs", "1-49"), ("Cobalt Freight", "1000+")]
    assert rows(db, "SELECT count(*) FROM customers WHERE account_id IS NOT NULL") == [(3,)]
