"""Mappings that describe real exports: expressions, constants, lookups, filters, grouping of line
items, refunds, plausibility, naive times and clock changes. Each on a small file the test writes,
with the answer worked out by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ingest import quarantine, rows, run, snapshot, utc, write
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.ingest import IngestError, MappingError, ingest, load_mapping
from afterclick.store import Store

runner = CliRunner()


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "store.duckdb"


LINES = (
    "InvoiceNo,Quantity,InvoiceDate,UnitPrice,CustomerID\n"
    "1,2,2011-01-01 10:00:00,1.5,17850.0\n"     # 2  invoice 1: 2 x 1.5
    "1,3,2011-01-01 10:00:00,2,17850.0\n"       # 3             + 3 x 2     = 9
    "2,1,2011-01-01 11:00:00,3,17850.0\n"       # 4  invoice 2: lines disagree on the customer
    "2,1,2011-01-01 11:00:00,3,12345.0\n"       # 5
    "3,1,2011-01-01 12:00:00,3,\n"              # 6  a guest checkout: left out by the filter
    "C4,-1,2011-01-02 12:00:00,3,12345.0\n"     # 7  a cancellation: a refund of 3
    "5,x,2011-01-03 12:00:00,4,12345.0\n"       # 8  invoice 5: not a number
    "5,1,2011-01-03 12:00:00,4,12345.0\n"       # 9
    "6,2,2011-01-04 09:00:00,0.5,12345.0\n"     # 10 invoice 6: 1.0
)

LINES_MAPPING = """
[transactions]
file = "lines.csv"
group_by = "InvoiceNo"
where = "CustomerID IS NOT NULL"

[transactions.columns]
order_id = "InvoiceNo"
customer_id = "id_text(CustomerID)"
ts = "min(InvoiceDate)"
amount = "sum(Quantity * UnitPrice)"
"""


def test_line_items_group_into_orders_with_refunds_and_every_line_accounted(tmp_path, db):
    src = tmp_path / "src"
    write(src, "lines.csv", LINES)
    m = write(tmp_path, "m.toml", LINES_MAPPING)
    summary = run(db, src, m)
    f = summary.files[0]
    # 9 lines = 4 loaded (invoices 1, C4, 6) + 1 left out + 4 quarantined (invoices 2 and 5)
    assert (f.rows_read, f.loaded, f.filtered, f.quarantined, f.groups) == (9, 4, 1, 4, 3)
    assert rows(db, "SELECT order_id, customer_id, strftime(ts, '%Y-%m-%d %H:%M'), amount FROM transactions "
                    "ORDER BY ts") == [
        ("1", "17850", "2011-01-01 10:00", 9.0),
        ("C4", "12345", "2011-01-02 12:00", -3.0),   # kept as a refund, not set aside
        ("6", "12345", "2011-01-04 09:00", 1.0),
    ]
    assert [(w, r) for _, w, r, _ in quarantine(db)] == [
        ("line 4", "lines of one group disagree on customer_id"),
        ("line 5", "lines of one group disagree on customer_id"),
        ("line 8", "a line of its group: not a number in column Quantity"),
        ("line 9", "a line of its group: not a number in column Quantity"),
    ]
    # the file grown by one invoice: what was loaded is recognised, line by line
    write(src, "lines.csv", LINES + "7,1,2011-01-05 09:00:00,2,12345.0\n")
    again = run(db, src, m).files[0]
    assert (again.rows_read, again.loaded, again.already_stored, again.filtered, again.quarantined) == (10, 1, 4, 1, 4)
    assert len(quarantine(db)) == 4  # the bad lines are not quarantined twice


def test_cli_summary_names_the_filter_and_the_groups(tmp_path, db):
    src = tmp_path / "src"
    write(src, "lines.csv", LINES)
    m = write(tmp_path, "m.toml", LINES_MAPPING)
    result = runner.invoke(app, ["ingest", str(src), "--mapping", str(m), "--store", str(db)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert ("9 rows read = 4 loaded + 0 already stored + 1 left out by the mapping's filter + 4 quarantined "
            "(adds up).") in flat
    assert "4 line(s) loaded as 3 transactions row(s) (group_by)" in flat


def test_lookups_constants_negation_and_float_ids(tmp_path, db):
    """A review reaches its buyer through its order; a tweet's parent id is written as a float."""
    src = tmp_path / "src"
    write(src, "orders.csv", "order_id,customer_id,status\no1,c-a,delivered\no2,c-b,delivered\no3,c-a,late\n")
    write(src, "people.csv", "customer_id,person\nc-a,P1\nc-b,P2\n")
    write(src, "reviews.csv", "review_id,order_id,score,created\nr1,o1,5,2026-01-02\nr2,o2,2,2026-01-03\n"
                              "r3,o9,4,2026-01-04\nr4,o3,4,2026-01-05\n")
    write(src, "tweets.csv", "id,author,inbound,text,in_reply_to,created\n"
                             "1.0,u1,True,hi @brand,,2026-01-01T10:00:00Z\n"
                             "2.0,brand,False,hello!,1.0,2026-01-01T10:05:00Z\n"
                             "3.0,u2,maybe,?,1.0,2026-01-01T10:06:00Z\n")
    m = write(tmp_path, "m.toml", """
[responses]
file = "reviews.csv"
[responses.lookups.ord]
file = "orders.csv"
key = "order_id"
[responses.lookups.who]
file = "people.csv"
key = "customer_id"
match = "ord.customer_id"
[responses.constants]
survey = "csat"
[responses.columns]
response_id = "review_id"
customer_id = "who.person"
ts = "created"
touchpoint = "CASE WHEN ord.status = 'late' THEN 'delivered late' ELSE 'on time' END"

[messages]
file = "tweets.csv"
[messages.columns]
message_id = "id_text(id)"
author_id = "author"
ts = "created"
is_brand = "not inbound"
parent_id = "id_text(in_reply_to)"
""")
    summary = run(db, src, m)
    by_table = {f.table: f for f in summary.files}
    assert (by_table["responses"].loaded, by_table["responses"].quarantined) == (3, 1)
    assert rows(db, "SELECT response_id, customer_id, survey, score, touchpoint FROM responses ORDER BY 1") == [
        ("r1", "P1", "csat", 5.0, "on time"), ("r2", "P2", "csat", 2.0, "on time"),
        ("r4", "P1", "csat", 4.0, "delivered late")]
    assert [r for t, _, r, _ in quarantine(db) if t == "responses"] == [
        "missing customer_id (from who.person); no row of orders.csv has this order_id (lookup ord)"]
    assert rows(db, "SELECT message_id, author_id, is_brand, parent_id FROM messages ORDER BY 1") == [
        ("1", "u1", False, None), ("2", "brand", True, "1")]
    assert [r for t, _, r, _ in quarantine(db) if t == "messages"] == ["not true/false in column inbound"]


def test_expressions_are_checked_before_anything_is_read(tmp_path):
    m = write(tmp_path, "m.toml", """
[transactions]
file = "nowhere.csv"

[transactions.columns]
order_id = "read_csv('/etc/passwd')"
customer_id = "(SELECT 1)"
amount = "sum(x)"
ts = "a +"
""")
    with pytest.raises(MappingError) as info:
        load_mapping(m)
    lines = str(info.value).splitlines()
    assert lines[0].startswith(f"{m}: line 6: [transactions.columns] order_id \"read_csv('/etc/passwd')\" uses "
                               "read_csv(), which a mapping may not use")
    assert lines[1] == (f"{m}: line 7: [transactions.columns] customer_id '(SELECT 1)' uses SUBQUERY, which a "
                        "mapping expression may not use (columns, constants, arithmetic, comparisons, CASE, "
                        "casts and functions only)")
    assert lines[2].startswith(f"{m}: line 8: [transactions.columns] amount 'sum(x)' uses sum(), which sums up")
    assert lines[3].startswith(f"{m}: line 9: [transactions.columns] ts 'a +' cannot be read as an expression")
    assert len(lines) == 4


def test_lookup_must_be_declared_and_unique(tmp_path, db):
    m = write(tmp_path, "m.toml", """
[responses.columns]
customer_id = "ord.customer_id"
touchpoint = "upper(ord.status)"
""")
    with pytest.raises(MappingError, match="reads ord.status, but no lookup named 'ord' is declared"):
        load_mapping(m)
    src = tmp_path / "src"
    write(src, "orders.csv", "order_id,customer_id\no1,a\no1,b\n")
    write(src, "responses.csv", "response_id,order_id,ts,survey,score\nr1,o1,2026-01-01,csat,5\n")
    m2 = write(tmp_path, "m2.toml", """
[responses.lookups.ord]
file = "orders.csv"
key = "order_id"
[responses.columns]
customer_id = "ord.customer_id"
""")
    with Store(db) as st:
        before = snapshot(db)
        with pytest.raises(IngestError, match=r"2 rows have order_id 'o1'; a lookup's key must be unique"):
            ingest(st, src, m2)
    assert snapshot(db) == before


def test_a_lookup_cannot_read_outside_the_files_it_names(tmp_path, db):
    """A lookup's file is a file of the export, named in the mapping; nothing else is read."""
    src = tmp_path / "src"
    write(src, "responses.csv", "response_id,order_id,ts,survey,score\nr1,o1,2026-01-01,csat,5\n")
    m = write(tmp_path, "m.toml", """
[responses.lookups.ord]
file = "missing.csv"
key = "order_id"
[responses.columns]
customer_id = "ord.customer_id"
""")
    with Store(db) as st, pytest.raises(IngestError, match="missing.csv: file named in the mapping's lookup ord"):
        ingest(st, src, m)


def test_naive_times_are_utc_after_a_zoned_one(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\na,2026-03-01 09:00:00 Europe/Berlin,visit\n"
                             "b,2026-06-01 12:00:00,visit\nc,2026-06-01,visit\nd,2026-06-01 12:00:00+02,visit\n")
    run(db, src)
    assert utc(db) == ["2026-03-01 08:00:00", "2026-06-01 12:00:00", "2026-06-01 00:00:00", "2026-06-01 10:00:00"]


def test_implausible_dates_are_quarantined_unless_the_mapping_allows_them(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\na,1900-01-01,visit\nb,2026-06-01,visit\nc,2999-01-01,visit\n"
                             "d,0001-01-01,visit\ne,9999-12-31,visit\n")
    summary = run(db, src)
    assert (summary.loaded, summary.quarantined) == (1, 4)
    reasons = [r for _, _, r, _ in quarantine(db)]
    assert reasons[0] == "timestamp in ts before 1990-01-01 (implausible; set earliest in a mapping file to keep it)"
    assert reasons[1].startswith("timestamp in ts after ") and "set latest" in reasons[1]
    db2 = tmp_path / "two.duckdb"
    m = write(tmp_path, "m.toml", "[events]\nearliest = 1899-01-01\nlatest = 3000-01-01\n")
    summary = run(db2, src, m)
    assert (summary.loaded, summary.quarantined) == (3, 2)


def test_clock_changes_are_named(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\na,2011-10-30 01:30:00,visit\nb,2011-03-27 01:30:00,visit\n"
                             "c,2011-06-01 12:00:00,visit\n")
    m = write(tmp_path, "m.toml", '[events]\ntimezone = "Europe/London"\n')
    summary = run(db, src, m)
    note = summary.files[0].note
    assert "1 local time(s) fell in the hour the clocks went back in Europe/London" in note
    assert "1 local time(s) fell in the hour the clocks skipped in Europe/London" in note
    assert utc(db) == ["2011-10-30 01:30:00", "2011-03-27 01:30:00", "2011-06-01 11:00:00"]


def test_whitespace_only_comments_are_no_comments(tmp_path, db):
    src = tmp_path / "src"
    write(src, "responses.csv", 'response_id,customer_id,ts,survey,score,comment\n'
                                'r1,a,2026-01-01,csat,5," \t "\nr2,b,2026-01-01,csat,4,"\u00a0\n"\n'
                                'r3,c,2026-01-01,csat,4, fine \n')
    run(db, src)
    assert rows(db, "SELECT response_id, comment FROM responses ORDER BY 1") == [
        ("r1", None), ("r2", None), ("r3", "fine")]


def test_mapping_mistakes_found_before_reading_include_encodings_and_broken_names(tmp_path):
    m = write(tmp_path, "m.toml", """
[events]
encoding = "klingon-8"
[events.columns]
customer_id = "cu\\"st("
""")
    with pytest.raises(MappingError) as info:
        load_mapping(m)
    text = str(info.value)
    assert "encoding 'klingon-8' is not an encoding Python knows" in text
    assert "customer_id 'cu\"st(' cannot be read as an expression" in text


def test_lookup_file_in_latin1_and_json_keys_with_odd_characters(tmp_path, db):
    src = tmp_path / "src"
    write(src, "people.csv", "id,name\np1,Jos\xe9\n".encode("latin-1"))
    write(src, "messages.jsonl", '{"$id": "m1", "a/b": "p1", "ts": "2026-01-01T00:00:00Z", "text": "ol\u00e1"}\n')
    m = write(tmp_path, "m.toml", """
[messages]
[messages.lookups.who]
file = "people.csv"
key = "id"
match = '"a/b"'
encoding = "latin-1"
[messages.columns]
message_id = '"$id"'
author_id = "upper(who.name)"
""")
    summary = run(db, src, m)
    assert (summary.loaded, summary.quarantined) == (1, 0)
    assert rows(db, "SELECT message_id, author_id FROM messages") == [("m1", "JOS\u00c9")]
