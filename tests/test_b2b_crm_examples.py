"""The CRM mapping examples load with no script: a HubSpot export (view exports with HubSpot's
column labels, and property histories) and a Salesforce Data Export, then the B2B KPIs read them."""

from __future__ import annotations

from pathlib import Path

import pytest

import afterclick
from afterclick.ingest import ingest
from afterclick.results import Status
from afterclick.store import Store

CRM = Path(__file__).resolve().parents[1] / "examples" / "crm"


@pytest.fixture(scope="module")
def hubspot(tmp_path_factory):
    path = tmp_path_factory.mktemp("hubspot") / "crm.duckdb"
    with Store(path) as store:
        summary = ingest(store, CRM / "hubspot", mapping=CRM / "hubspot" / "mapping.toml")
    assert summary.adds_up and summary.quarantined == 0
    w = afterclick.open(path, read_only=True)
    yield w, summary
    w.close()


def test_the_hubspot_export_loads_with_its_mapping(hubspot):
    ws, summary = hubspot
    by = {f.table: f for f in summary.files}
    # left out: lifecycle stages past the waterfall (opportunity, customer, subscriber), an amount change
    assert {t: (f.rows_read, f.loaded, f.filtered) for t, f in by.items()} == {
        "accounts": (3, 3, 0), "customers": (4, 4, 0), "lead_status": (15, 11, 4), "deals": (3, 3, 0),
        "deal_stages": (9, 8, 1), "subscriptions": (3, 3, 0)}
    ls = ws.table("lead_status").sort_values("ts")
    cy = ls[ls.customer_id == "cy@cobalt.example"]
    assert list(cy.status) == ["inquiry", "mql", "rejected", "sal"]  # bad timing, then back in progress
    assert cy.reason.iloc[2] == "bad timing" and set(cy.campaign_id) == {"newsletter-q1"}
    assert set(ls.account_id.dropna()) == {"9876543201", "9876543202", "9876543203"}
    deals = ws.table("deals").set_index("deal_id")
    assert deals.outcome.fillna("open").to_dict() == {"70001": "won", "70002": "lost", "70003": "open"}
    assert deals.closed_at.isna()["70003"]  # an open deal's close date is a forecast, not a close
    assert deals.primary_contact_id["70002"] == "cy@cobalt.example"  # the first associated contact
    people = ws.table("customers").set_index("customer_id")
    assert people.account_id["ana@acme.example"] == "9876543201"  # e-mail trimmed and lower-cased
    stages = ws.table("deal_stages")
    assert len(stages[(stages.deal_id == "70003") & (stages.stage == "contractsent")]) == 1
    sizes = ws.table("accounts").set_index("name").size_band.to_dict()
    assert sizes == {"Acme Tooling": "50-249", "Borealis Labs": "1-49", "Cobalt Freight": "1000+"}


def test_the_b2b_kpis_read_the_hubspot_export(hubspot):
    ws, _ = hubspot
    rejected = ws.kpi("b2b.rejected_leads")
    assert rejected.status is Status.COMPUTED
    assert sorted(rejected.rows.reason) == ["bad timing", "unqualified"]
    # 70001 and 70002 name their source; 70003 names none, but its contact came as a paid-social lead
    assert ws.kpi("b2b.pipeline_sourced").value == 24000 + 60000
    influenced = ws.kpi("b2b.pipeline_influenced")
    assert influenced.value == 24000 + 60000 + 8000
    first = influenced.rows[influenced.rows.model == "first_touch"].set_index("campaign_id").pipeline
    assert first.to_dict() == {"newsletter-q1": 60000.0, "paid-social": 8000.0, "webinar-series": 24000.0}


def test_the_salesforce_deals_name_their_primary_contact_by_email(tmp_path):
    with Store(tmp_path / "sf.duckdb") as store:
        assert ingest(store, CRM, mapping=CRM / "mapping.toml").adds_up
    with afterclick.open(tmp_path / "sf.duckdb", read_only=True) as ws:
        people = set(ws.table("customers").customer_id)
        assert set(ws.table("deals").primary_contact_id) <= people
