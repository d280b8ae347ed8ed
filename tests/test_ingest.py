"""Ingest, for real: small hand-written files in every format, through the Python API and the CLI.

Every test checks that the accounting adds up (rows read = loaded + already stored +
quarantined), and asserts exact counts, reasons and locations, so each can fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.ingest import IngestError, ingest
from afterclick.schemas import TABLE_NAMES
from afterclick.store import INGEST_LOG, QUARANTINE, Store

runner = CliRunner()

EVENTS_HEADER = "customer_id,ts,event,channel,campaign_id,content_id,session_id,duration_s,value\n"


# -- helpers (test_mapping.py uses them too) ----------------------------------------------------
def write(folder: Path, name: str, content: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


def assert_adds_up(summary) -> None:
    for f in summary.files:
        assert f.rows_read == f.loaded + f.already_stored + f.filtered + f.quarantined, f
        assert sum(f.reasons.values()) == f.quarantined, f
    assert summary.rows_read == summary.loaded + summary.already_stored + summary.filtered + summary.quarantined
    assert summary.adds_up


def run(db: Path, folder: Path, mapping=None, progress=None):
    with Store(db) as st:
        summary = ingest(st, folder, mapping, progress=progress)
    assert_adds_up(summary)
    return summary


def rows(db: Path, sql: str) -> list[tuple]:
    with Store(db) as st:
        return st.raw.execute(sql).fetchall()


def quarantine(db: Path) -> list[tuple[str, str, str, str]]:
    """(table, where, reason, raw) in the order stored."""
    return rows(db, f"SELECT table_name, row_ref, reason, raw FROM {QUARANTINE}")


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every canonical table plus the quarantine and the log, as sorted text rows."""
    out = {}
    with Store(db) as st:
        for name in (*TABLE_NAMES, QUARANTINE, INGEST_LOG):
            out[name] = st.raw.execute(f'SELECT COLUMNS(*)::VARCHAR FROM "{name}" ORDER BY ALL').fetchall()
    return out


def utc(db: Path, table: str = "events", col: str = "ts") -> list[str]:
    return [r[0] for r in rows(db, f"SELECT strftime({col}, '%Y-%m-%d %H:%M:%S') "
                                   f"FROM {table} ORDER BY rowid")]


def one_line_error(result) -> str:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def seeded(tmp_path) -> Path:
    """A store that already holds some rows (so 'unchanged' means something)."""
    path = tmp_path / "seeded.duckdb"
    src = tmp_path / "seed"
    write(src, "events.csv", EVENTS_HEADER + "s1,2026-01-01T00:00:00Z,visit,web,,,,,\n"
                                             "s2,2026-01-02T00:00:00Z,bogus_name,web,,,,,\n")
    write(src, "transactions.csv", "order_id,customer_id,ts,amount\no1,s1,2026-01-01,10\no2,s1,2026-01-02,ten\n")
    summary = run(path, src)
    assert (summary.loaded, summary.quarantined) == (3, 1)
    return path


# -- formats ------------------------------------------------------------------------------------
def test_csv_loads_with_canonical_names(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", EVENTS_HEADER
          + "007,2026-01-05T10:00:00Z,click,email,cmp1,ct1,s1,12.5,\n"
          + "008,2026-01-05T11:00:00Z,visit,,,,,,\n"
          + "007,2026-01-06T09:30:00Z,save,social,cmp1,ct2,s2,,3\n")
    summary = run(db, src)
    f = summary.files[0]
    assert (f.table, f.rows_read, f.loaded, f.already_stored, f.quarantined) == ("events", 3, 3, 0, 0)
    assert f.reasons == {} and f.unknown_events == {} and f.ignored_columns == []
    got = rows(db, "SELECT customer_id, event, channel, campaign_id, session_id, duration_s, value "
                   "FROM events ORDER BY rowid")
    assert got == [("007", "click", "email", "cmp1", "s1", 12.5, None),
                   ("008", "visit", None, None, None, None, None),
                   ("007", "save", "social", "cmp1", "s2", None, 3.0)]
    assert utc(db) == ["2026-01-05 10:00:00", "2026-01-05 11:00:00", "2026-01-06 09:30:00"]
    assert quarantine(db) == []
    log = rows(db, f"SELECT table_name, rows_read, loaded, already_stored, quarantined FROM {INGEST_LOG}")
    assert log == [("events", 3, 3, 0, 0)]


def test_tsv_loads(tmp_path, db):
    src = tmp_path / "src"
    write(src, "customers.tsv", "customer_id\tsegment\tregion\nc1\tsmb\tEU, west\nc2\tenterprise\tUS\n")
    summary = run(db, src)
    assert (summary.rows_read, summary.loaded) == (2, 2)
    assert rows(db, "SELECT customer_id, segment, region FROM customers ORDER BY 1") == [
        ("c1", "smb", "EU, west"), ("c2", "enterprise", "US")]


def test_gzipped_csv_loads(tmp_path, db):
    import gzip

    src = tmp_path / "src"
    write(src, "campaigns.csv.gz", gzip.compress(b"campaign_id,name,spend\nk1,Spring,100\nk2,Fall,50.5\n"))
    summary = run(db, src)
    assert (summary.rows_read, summary.loaded) == (2, 2)
    assert rows(db, "SELECT campaign_id, spend FROM campaigns ORDER BY 1") == [("k1", 100.0), ("k2", 50.5)]


def test_parquet_loads_with_native_types(tmp_path, db):
    src = tmp_path / "src"
    src.mkdir()
    table = pa.table({
        "customer_id": pa.array([42, 43, 44], pa.int64()),  # ids become strings
        "ts": pa.array([1767225600_000_000, 1767229200_000_000, 1767232800_000_000],
                       pa.timestamp("us", tz="UTC")),
        "event": ["impression", "Click", "visit"],
        "duration_s": [1.5, float("nan"), None],  # NaN is a missing value, not a bad one
        "value": [None, 2.0, 3.0],
    })
    pq.write_table(table, src / "events.parquet")
    summary = run(db, src)
    assert (summary.rows_read, summary.loaded, summary.quarantined) == (3, 3, 0)
    got = rows(db, "SELECT customer_id, event, duration_s, value FROM events ORDER BY rowid")
    assert got == [("42", "impression", 1.5, None), ("43", "click", None, 2.0), ("44", "visit", None, 3.0)]
    assert utc(db) == ["2026-01-01 00:00:00", "2026-01-01 01:00:00", "2026-01-01 02:00:00"]


def test_parquet_naive_timestamps_are_utc_and_bad_rows_have_a_row_number(tmp_path, db):
    src = tmp_path / "src"
    src.mkdir()
    start = 1_767_225_600_000_000  # 2026-01-01 00:00 UTC in microseconds
    pq.write_table(pa.table({
        "order_id": ["o1", "o2", "o3", "o4"],
        "customer_id": ["c1", "c1", None, "c2"],
        "ts": pa.array([start, start + 3600_000_000, start + 7200_000_000, 0], pa.timestamp("us")),  # no zone: UTC
        "amount": [5.0, -2.0, float("inf"), 1.0],
    }), src / "transactions.parquet")
    summary = run(db, src)
    # a negative amount is a refund (kept); a row dated 1970 is before the plausible window
    assert (summary.rows_read, summary.loaded, summary.quarantined) == (4, 2, 2)
    assert utc(db, "transactions") == ["2026-01-01 00:00:00", "2026-01-01 01:00:00"]
    q = quarantine(db)
    assert [(t, where, reason) for t, where, reason, _ in q] == [
        ("transactions", "row 3", "missing customer_id; not a finite number in amount"),
        ("transactions", "row 4", "timestamp in ts before 1990-01-01 (implausible; set earliest in a mapping "
                                  "file to keep it)"),
    ]
    assert json.loads(q[1][3]) == {"order_id": "o4", "customer_id": "c2", "ts": "1970-01-01 00:00:00",
                                   "amount": 1.0}


def test_jsonl_loads_and_ids_are_strings(tmp_path, db):
    src = tmp_path / "src"
    write(src, "messages.jsonl",
          '{"message_id": 1, "author_id": "a1", "ts": "2026-02-01T08:00:00+01:00", "text": "This really helped me",'
          ' "kind": "Comment", "is_brand": false}\n'
          '\n'
          '{"message_id": "2", "author_id": 77, "ts": "2026-02-01 09:00:00", "text": "thanks", "is_brand": true,'
          ' "extra": {"nested": 1}}\n')
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (2, 2, 0)  # the blank line is not a row
    assert f.ignored_columns == ["extra"]
    assert rows(db, "SELECT message_id, author_id, text, kind, is_brand FROM messages ORDER BY 1") == [
        ("1", "a1", "This really helped me", "comment", False), ("2", "77", "thanks", None, True)]
    assert utc(db, "messages") == ["2026-02-01 07:00:00", "2026-02-01 09:00:00"]


def test_jsonl_invalid_line_is_quarantined_with_its_line_number(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.jsonl",
          '{"customer_id": "c1", "ts": "2026-01-01T00:00:00Z", "event": "click"}\n'
          '\n'
          '{"customer_id": "c2", "ts": "2026-01-01T00:00:00Z", "event": \n'
          '["not", "an", "object"]\n'
          '{"customer_id": "c3", "ts": "2026-01-01T00:00:00Z", "event": "visit"}\n')
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (4, 2, 2)
    assert f.reasons == {"not valid JSON": 1, "not a JSON object": 1}
    assert quarantine(db) == [
        ("events", "line 3", "not valid JSON", '{"customer_id": "c2", "ts": "2026-01-01T00:00:00Z", "event": '),
        ("events", "line 4", "not a JSON object", '["not", "an", "object"]'),
    ]


def test_jsonl_where_no_line_is_an_object_quarantines_every_line(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.jsonl", "nope\n[1, 2]\n")
    summary = run(db, src)
    assert (summary.rows_read, summary.loaded, summary.quarantined) == (2, 0, 2)
    assert [r[1:3] for r in quarantine(db)] == [("line 1", "not valid JSON"), ("line 2", "not a JSON object")]


def test_jsonl_missing_required_key_everywhere_is_an_error(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.jsonl", '{"customer_id": "c1", "event": "click"}\n')
    with Store(db) as st, pytest.raises(IngestError) as info:
        ingest(st, src)
    msg = str(info.value)
    assert "\n" not in msg and "events.jsonl" in msg and "'ts'" in msg


def test_single_file_source(tmp_path, db):
    src = tmp_path / "src"
    path = write(src, "customers.csv", "customer_id,plan\nc1,pro\n")
    write(src, "events.csv", EVENTS_HEADER + "c1,2026-01-01,click,,,,,,\n")  # not named: not read
    summary = run(db, path)
    assert [f.table for f in summary.files] == ["customers"] and summary.loaded == 1
    assert rows(db, "SELECT count(*) FROM events") == [(0,)]


def test_ignored_files_and_columns_are_reported(tmp_path, db):
    src = tmp_path / "src"
    write(src, "customers.csv", "customer_id,plan,favourite_colour\nc1,pro,blue\n")
    write(src, "notes.txt", "hello\n")
    summary = run(db, src)
    assert summary.ignored_files == ["notes.txt"]
    assert summary.files[0].ignored_columns == ["favourite_colour"]
    result = runner.invoke(app, ["ingest", str(src), "--store", str(tmp_path / "cli.duckdb")])
    assert result.exit_code == 0, result.output
    assert "favourite_colour" in result.output and "notes.txt" in result.output


# -- bad input: one test per kind ---------------------------------------------------------------
def test_missing_required_column_is_one_line_and_leaves_the_store_unchanged(tmp_path, seeded):
    src = tmp_path / "bad"
    write(src, "events.csv", "customer_id,when,event\nc1,2026-01-01,click\n")
    before = snapshot(seeded)
    with Store(seeded) as st, pytest.raises(IngestError) as info:
        ingest(st, src)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(str(src / "events.csv") + ":")
    assert "required column 'ts' missing for table events" in msg and "found: customer_id, when, event" in msg
    assert snapshot(seeded) == before

    result = runner.invoke(app, ["ingest", str(src), "--store", str(seeded)])
    line = one_line_error(result)
    assert line.startswith("error: ") and "events.csv" in line and "'ts'" in line
    assert snapshot(seeded) == before


def test_two_missing_columns_are_named_together(tmp_path, db):
    src = tmp_path / "bad"
    write(src, "transactions.csv", "order_id,customer_id\no1,c1\n")
    with Store(db) as st, pytest.raises(IngestError, match=r"required columns 'ts', 'amount' missing"):
        ingest(st, src)


def test_unparsable_timestamp(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01T10:00:00Z,click\nc2,yesterday,click\n"
                             "c3,2026-02-30,click\nc4,infinity,click\n")
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (4, 1, 3)
    assert f.reasons == {"unparsable timestamp in ts": 3}
    q = quarantine(db)
    assert [(where, reason) for _, where, reason, _ in q] == [
        ("line 3", "unparsable timestamp in ts"), ("line 4", "unparsable timestamp in ts"),
        ("line 5", "unparsable timestamp in ts")]
    assert json.loads(q[0][3]) == {"customer_id": "c2", "ts": "yesterday", "event": "click"}
    # the command says which format is read and how to give another
    write(src, "events.csv", "customer_id,ts,event\nc5,31/01/2026 10:00,click\n")
    result = runner.invoke(app, ["ingest", str(src), "--store", str(db)])
    assert result.exit_code == 0, result.output
    assert "ISO 8601" in result.output and "timestamp_format" in result.output


def test_missing_required_value(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\n  ,2026-01-01,click\nc2,2026-01-01,\n")
    summary = run(db, src)
    assert summary.files[0].reasons == {"missing customer_id": 1, "missing event": 1}
    assert summary.loaded == 0


def test_negative_amount_is_a_refund_and_implausible_amounts_are_quarantined(tmp_path, db):
    src = tmp_path / "src"
    write(src, "transactions.csv", "order_id,customer_id,ts,amount,refund_of\no1,c1,2026-01-01,19.99,\n"
                                   "o2,c1,2026-01-02,-5,o1\no3,c2,2026-01-03,0,\no4,c2,2026-01-03,abc,\n"
                                   "o5,c2,2026-01-04,1e308,\no6,c2,2026-01-04,3,o1\n")
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (6, 3, 3)
    assert f.reasons == {
        "amount beyond 1,000,000,000 (implausible; set max_amount in a mapping file to keep it)": 1,
        "not a number in amount": 1,
        "refund_of is set but the amount is positive (a refund's amount is negative)": 1,
    }
    assert rows(db, "SELECT order_id, amount, refund_of FROM transactions ORDER BY 1") == [
        ("o1", 19.99, None), ("o2", -5.0, "o1"), ("o3", 0.0, None)]


def test_survey_score_out_of_range(tmp_path, db):
    src = tmp_path / "src"
    lines = ["response_id,customer_id,ts,survey,score"]
    good = [("nps", 0), ("nps", 10), ("NPS", 7), ("csat", 1), ("csat", 5), ("ces", 1), ("ces", 7),
            ("effort", 0), ("effort", 100)]
    bad = [("nps", 11), ("nps", -1), ("csat", 0), ("csat", 6), ("ces", 0), ("ces", 8), ("effort", 101)]
    for i, (survey, score) in enumerate(good + bad):
        lines.append(f"r{i},c{i},2026-03-01,{survey},{score}")
    write(src, "responses.csv", "\n".join(lines) + "\n")
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (16, 9, 7)
    assert f.reasons == {
        "survey score out of range (nps: 0-10)": 2,
        "survey score out of range (csat: 1-5)": 2,
        "survey score out of range (ces: 1-7)": 2,
        "survey score out of range (other surveys: 0-100)": 1,
    }
    assert [w for _, w, _, _ in quarantine(db)] == [f"line {n}" for n in range(11, 18)]
    assert rows(db, "SELECT DISTINCT survey FROM responses ORDER BY 1") == [("ces",), ("csat",), ("effort",), ("nps",)]


def test_duplicate_rows_in_a_file(tmp_path, db):
    src = tmp_path / "src"
    write(src, "transactions.csv", "order_id,customer_id,ts,amount\n"
                                   "o1,c1,2026-01-01,10\n"
                                   "o2,c1,2026-01-02,20\n"
                                   "o1,c1,2026-01-01,10\n"     # exact copy of line 2
                                   "o2,c1,2026-01-02,25\n"     # same id as line 3, other amount
                                   "o1,c1,2026-01-01T00:00:00Z,10.0\n")  # same values, other spelling
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (5, 2, 3)
    assert f.reasons == {"duplicate of an earlier row": 2,
                         "same order_id as an earlier row but other values": 1}
    assert [(w, r) for _, w, r, _ in quarantine(db)] == [
        ("line 4", "duplicate of an earlier row (line 2)"),
        ("line 5", "same order_id as an earlier row but other values (line 3)"),
        ("line 6", "duplicate of an earlier row (line 2)"),
    ]


def test_duplicate_events(tmp_path, db):
    src = tmp_path / "src"
    row = "c1,2026-01-01T10:00:00Z,click,email,k1,ct1,s1"
    write(src, "events.csv", EVENTS_HEADER + f"{row},5,\n{row},5,\n{row},6,\nc1,2026-01-01T10:00:00Z,click,,,,,,\n")
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (4, 2, 2)
    assert [(w, r) for _, w, r, _ in quarantine(db)] == [
        ("line 3", "duplicate of an earlier row (line 2)"),
        ("line 4", "same event as an earlier row but other duration_s or value (line 2)"),
    ]


def test_unknown_event_names_are_kept_and_reported(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01,click\nc1,2026-01-02,page_ping\n"
                             "c2,2026-01-02,Page_Ping\nc2,2026-01-03,wishlist_add\nc3,bad,mystery\n")
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (5, 4, 1)
    assert f.unknown_events == {"page_ping": 2, "wishlist_add": 1}  # the quarantined row is not counted
    assert summary.unknown_events == {"page_ping": 2, "wishlist_add": 1}
    assert rows(db, "SELECT event, count(*) FROM events GROUP BY 1 ORDER BY 1") == [
        ("click", 1), ("page_ping", 2), ("wishlist_add", 1)]
    details = json.loads(rows(db, f"SELECT details FROM {INGEST_LOG}")[0][0])
    assert details["unknown_events"] == {"page_ping": 2, "wishlist_add": 1}

    result = runner.invoke(app, ["ingest", str(src), "--store", str(tmp_path / "cli.duckdb")])
    assert result.exit_code == 0, result.output
    assert "page_ping (2)" in result.output and "wishlist_add (1)" in result.output


@pytest.mark.parametrize("name, content", [
    ("events.csv", b""),
    ("events.csv", EVENTS_HEADER.encode()),
    ("events.csv", b"customer_id,ts,event"),  # header without a line break
    ("events.csv", b"\n\n  \n"),
    ("events.jsonl", b""),
    ("events.jsonl", b"\n\n"),
    ("events.parquet", None),
])
def test_empty_file(tmp_path, db, name, content):
    src = tmp_path / "src"
    src.mkdir()
    if content is None:
        pq.write_table(pa.table({"customer_id": pa.array([], pa.string()), "ts": pa.array([], pa.string()),
                                 "event": pa.array([], pa.string())}), src / name)
    else:
        write(src, name, content)
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (0, 0, 0)
    assert f.note.startswith("empty file")
    result = runner.invoke(app, ["ingest", str(src), "--store", str(tmp_path / "cli.duckdb")])
    assert result.exit_code == 0, result.output
    assert f"{name}: empty file" in result.output
    assert "0 rows read = 0 loaded + 0 already stored + 0 quarantined" in result.output


def test_header_only_with_wrong_columns_is_still_an_error(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "who,when\n")
    with Store(db) as st, pytest.raises(IngestError, match="required columns 'customer_id', 'ts', 'event'"):
        ingest(st, src)


def test_bytes_that_are_not_utf8(tmp_path, db):
    src = tmp_path / "src"
    write(src, "messages.csv", b"message_id,author_id,ts,text\n"
                               b"m1,a1,2026-01-01,fine\n"
                               b"m2,a1,2026-01-01,caf\xe9 au lait\n"
                               b"m3,a2,2026-01-02,na\xc3\xafve is UTF-8\n")
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (3, 2, 1)
    assert f.reasons == {"bytes that are not UTF-8": 1}
    (table, where, reason, raw), = quarantine(db)
    assert (table, where, reason) == ("messages", "line 3", "bytes that are not UTF-8")
    assert raw.startswith("m2,a1,2026-01-01,caf")
    assert rows(db, "SELECT text FROM messages ORDER BY 1") == [("fine",), ("naïve is UTF-8",)]


def test_bytes_that_are_not_utf8_in_jsonl(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.jsonl", b'{"customer_id": "c1", "ts": "2026-01-01", "event": "click"}\n'
                               b'{"customer_id": "c\xff", "ts": "2026-01-01", "event": "click"}\n'
                               b'{"customer_id": "c3", "ts": "bad", "event": "click"}\n')
    summary = run(db, src)
    assert summary.files[0].reasons == {"bytes that are not UTF-8": 1, "unparsable timestamp in ts": 1}
    assert [(w, r) for _, w, r, _ in quarantine(db)] == [("line 2", "bytes that are not UTF-8"),
                                                        ("line 3", "unparsable timestamp in ts")]


def test_header_that_is_not_utf8_is_one_line(tmp_path, seeded):
    src = tmp_path / "src"
    write(src, "customers.csv", b"customer_id,r\xe9gion\nc1,EU\n")
    before = snapshot(seeded)
    result = runner.invoke(app, ["ingest", str(src), "--store", str(seeded)])
    line = one_line_error(result)
    assert "customers.csv" in line and "line 1" in line and "not UTF-8" in line
    assert snapshot(seeded) == before


def test_wrong_number_of_fields(tmp_path, db):
    src = tmp_path / "src"
    write(src, "customers.csv", "customer_id,segment\nc1,smb\nc2,smb,extra\nc3\nc4,ent\n")
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (4, 2, 2)
    assert quarantine(db) == [("customers", "line 3", "more fields than the header", "c2,smb,extra"),
                              ("customers", "line 4", "fewer fields than the header", "c3")]


def test_line_numbers_count_blank_lines_and_refused_lines(tmp_path, db):
    src = tmp_path / "src"
    write(src, "transactions.csv", "order_id,customer_id,ts,amount\n"
                                   "o1,c1,2026-01-01,1\n"       # 2
                                   "\n"                         # 3 (blank)
                                   "o2,c1,2026-01-01,1,9\n"     # 4 refused by the reader
                                   "\n"                         # 5 (blank)
                                   "o3,c1,2026-01-01,x\n"       # 6 bad
                                   "o4,c1,nope,1\n")            # 7 bad
    summary = run(db, src)
    assert (summary.rows_read, summary.loaded, summary.quarantined) == (4, 1, 3)
    assert [(w, r) for _, w, r, _ in quarantine(db)] == [
        ("line 4", "more fields than the header"), ("line 6", "not a number in amount"),
        ("line 7", "unparsable timestamp in ts")]


def test_windows_line_endings_and_blank_lines(tmp_path, db):
    src = tmp_path / "src"
    write(src, "customers.csv", "customer_id,plan\r\nc1,pro\r\n\r\nc2,free,x\r\n\r\nc3,\r\n")
    summary = run(db, src)
    assert (summary.rows_read, summary.loaded, summary.quarantined) == (3, 2, 1)
    assert [(w, r) for _, w, r, _ in quarantine(db)] == [("line 4", "more fields than the header")]
    assert rows(db, "SELECT customer_id, plan FROM customers ORDER BY 1") == [("c1", "pro"), ("c3", None)]


def test_mixed_line_endings_load(tmp_path, db):
    src = tmp_path / "src"
    write(src, "customers.csv", "customer_id,plan\r\nc1,pro\nc2,free\r\n")
    summary = run(db, src)
    assert (summary.rows_read, summary.loaded) == (2, 2)
    assert rows(db, "SELECT customer_id, plan FROM customers ORDER BY 1") == [("c1", "pro"), ("c2", "free")]


def test_is_brand_booleans(tmp_path, db):
    src = tmp_path / "src"
    values = ["true", "FALSE", "yes", "No", "1", "0", "t", "f", "", "maybe"]
    body = "".join(f"m{i},a,2026-01-01,hi,{v}\n" for i, v in enumerate(values))
    write(src, "messages.csv", "message_id,author_id,ts,text,is_brand\n" + body)
    summary = run(db, src)
    f = summary.files[0]
    assert (f.rows_read, f.loaded, f.quarantined) == (10, 9, 1)
    assert f.reasons == {"not true/false in is_brand": 1}
    got = dict(rows(db, "SELECT message_id, is_brand FROM messages"))
    assert got == {"m0": True, "m1": False, "m2": True, "m3": False, "m4": True, "m5": False,
                   "m6": True, "m7": False, "m8": None}


def test_timestamps_become_utc(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\n"
                             "c1,2026-03-01T10:00:00+02:00,click\n"
                             "c2,2026-03-01 10:00:00-0500,click\n"
                             "c3,2026-03-01T10:00:00Z,click\n"
                             "c4,2026-03-01 10:00:00,click\n"      # naive: UTC
                             "c5,2026-03-01,click\n"               # a date: midnight UTC
                             "c6,2026-07-01T10:00:00.250+05:30,click\n")
    run(db, src)
    assert utc(db) == ["2026-03-01 08:00:00", "2026-03-01 15:00:00", "2026-03-01 10:00:00",
                       "2026-03-01 10:00:00", "2026-03-01 00:00:00", "2026-07-01 04:30:00"]


def test_optional_timestamp_columns_are_checked_too(tmp_path, db):
    src = tmp_path / "src"
    write(src, "campaigns.csv", "campaign_id,start,end,spend\nk1,2026-01-01,2026-02-01,10\n"
                                "k2,2026-01-01,soon,5\nk3,,,\nk4,2026-01-01,,-3\n")
    summary = run(db, src)
    assert summary.files[0].reasons == {"unparsable timestamp in end": 1, "negative spend": 1}
    assert rows(db, "SELECT campaign_id FROM campaigns ORDER BY 1") == [("k1",), ("k3",)]


# -- re-ingesting -------------------------------------------------------------------------------
def test_reingesting_the_same_file_adds_nothing(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01,click\nc2,nope,click\n")
    first = run(db, src)
    assert (first.loaded, first.quarantined) == (1, 1)
    before = snapshot(db)
    again = run(db, src)
    f = again.files[0]
    assert (f.rows_read, f.loaded, f.already_stored, f.quarantined) == (0, 0, 0, 0)
    assert "identical to the file ingested at" in f.note
    assert snapshot(db) == before  # not even the quarantine or the log grew

    result = runner.invoke(app, ["ingest", str(src), "--store", str(db)])
    assert result.exit_code == 0, result.output
    assert "identical to the file ingested" in result.output
    assert snapshot(db) == before


def test_a_grown_file_ingested_again_keeps_its_bad_rows_in_quarantine_once(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01,click\nc2,nope,click\n")
    run(db, src)
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01,click\nc2,nope,click\nc3,2026-01-02,visit\n")
    again = run(db, src)
    f = again.files[0]
    # the bad row is still set aside (the summary adds up), but the quarantine holds it once
    assert (f.rows_read, f.loaded, f.already_stored, f.quarantined) == (3, 1, 1, 1)
    assert [(t, where, reason) for t, where, reason, _ in quarantine(db)] == [
        ("events", "line 3", "unparsable timestamp in ts")]


def test_reingesting_overlapping_rows_adds_only_the_new_ones(tmp_path, db):
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, "events.csv", EVENTS_HEADER + "c1,2026-01-01T10:00:00Z,click,email,,,,,\n"
                                           "c2,2026-01-01T11:00:00Z,visit,,,,,30,\n")
    write(a, "transactions.csv", "order_id,customer_id,ts,amount\no1,c1,2026-01-01,10\n")
    first = run(db, a)
    assert first.loaded == 3
    # same rows spelled differently (other offset, column order, number format), plus new ones
    write(b, "events.csv", "event,ts,customer_id,channel,duration_s\n"
                           "click,2026-01-01T12:00:00+02:00,c1,email,\n"
                           "visit,2026-01-01 11:00:00,c2,,30.0\n"
                           "visit,2026-01-02 11:00:00,c2,,\n")
    write(b, "transactions.csv", "order_id,customer_id,ts,amount\n"
                                 "o1,c1,2026-01-01T00:00:00Z,10.00\no2,c1,2026-01-05,7\n")
    second = run(db, b)
    got = {f.table: (f.rows_read, f.loaded, f.already_stored, f.quarantined) for f in second.files}
    assert got == {"events": (3, 1, 2, 0), "transactions": (2, 1, 1, 0)}
    assert rows(db, "SELECT count(*) FROM events") == [(3,)]
    assert rows(db, "SELECT count(*) FROM transactions") == [(2,)]
    assert quarantine(db) == []


def test_row_conflicting_with_a_stored_row_is_quarantined(tmp_path, seeded):
    src = tmp_path / "src"
    write(src, "transactions.csv", "order_id,customer_id,ts,amount\no1,s1,2026-01-01,99\no9,s1,2026-01-03,1\n")
    write(src, "events.csv", EVENTS_HEADER + "s1,2026-01-01T00:00:00Z,visit,web,,,,12,\n")
    summary = run(seeded, src)
    got = {f.table: (f.rows_read, f.loaded, f.already_stored, f.quarantined, f.reasons) for f in summary.files}
    assert got == {
        "events": (1, 0, 0, 1, {"conflicts with a stored row (same event, other duration_s or value)": 1}),
        "transactions": (2, 1, 0, 1, {"conflicts with a stored row (same order_id, other values)": 1}),
    }
    assert rows(seeded, "SELECT amount FROM transactions WHERE order_id = 'o1'") == [(10.0,)]
    new = [r for r in quarantine(seeded) if "conflicts" in r[2]]
    assert [(t, w) for t, w, _, _ in new] == [("events", "line 2"), ("transactions", "line 2")]


# -- failures leave the store as it was ---------------------------------------------------------
def test_second_file_broken_after_a_good_first_one(tmp_path, seeded):
    src = tmp_path / "src"
    write(src, "events.csv", EVENTS_HEADER + "n1,2026-02-01T00:00:00Z,click,,,,,,\n")  # good, read first
    write(src, "transactions.csv", "order_id,customer_id,amount\no5,n1,3\n")             # no ts
    before = snapshot(seeded)
    with Store(seeded) as st, pytest.raises(IngestError, match="transactions.csv.*'ts'"):
        ingest(st, src)
    assert snapshot(seeded) == before


def test_failure_while_loading_the_second_file_rolls_back_the_first(tmp_path, seeded, monkeypatch):
    """The events file is fully loaded inside the transaction before the second one fails."""
    import duckdb

    import afterclick.ingest.loader as loader

    src = tmp_path / "src"
    write(src, "events.csv", EVENTS_HEADER + "n1,2026-02-01T00:00:00Z,click,,,,,,\nn2,bad,click,,,,,,\n")
    write(src, "transactions.csv", "order_id,customer_id,ts,amount\no5,n1,2026-02-01,3\n")
    real_load = loader._load
    loaded = []

    def load(con, task, *args):
        if task.spec.name == "transactions":
            # what the store holds at this point, inside the transaction: the new events are in
            loaded.append(con.execute("SELECT count(*) FROM events").fetchone()[0])
            loaded.append(con.execute(f"SELECT count(*) FROM {QUARANTINE}").fetchone()[0])
            raise duckdb.IOException("IO Error: disk full\nmore detail")
        return real_load(con, task, *args)

    monkeypatch.setattr(loader, "_load", load)
    before = snapshot(seeded)
    with Store(seeded) as st, pytest.raises(IngestError) as info:
        ingest(st, src)
    assert str(info.value) == f"{src / 'transactions.csv'}: cannot be loaded (IO Error: disk full)"
    assert loaded == [len(before["events"]) + 1, len(before[QUARANTINE]) + 1]
    assert snapshot(seeded) == before


def test_ctrl_c_inside_duckdb_is_an_interrupt_and_rolls_back(tmp_path, seeded, monkeypatch):
    """On Ctrl-C DuckDB's client raises RuntimeError('Query interrupted'): the CLI says so in one line."""
    import afterclick.ingest.loader as loader

    src = tmp_path / "src"
    write(src, "events.csv", EVENTS_HEADER + "n1,2026-02-01T00:00:00Z,click,,,,,,\n")
    write(src, "transactions.csv", "order_id,customer_id,ts,amount\no5,n1,2026-02-01,3\n")
    real_load = loader._load

    def load(con, task, *args):
        if task.spec.name == "transactions":
            raise RuntimeError("Query interrupted")
        return real_load(con, task, *args)

    monkeypatch.setattr(loader, "_load", load)
    before = snapshot(seeded)
    with Store(seeded) as st, pytest.raises(KeyboardInterrupt):
        ingest(st, src)
    assert snapshot(seeded) == before
    result = runner.invoke(app, ["ingest", str(src), "--store", str(seeded)])
    assert result.exit_code == 130
    assert one_line_error(result) == "error: interrupted; the store is as it was before this command"
    assert snapshot(seeded) == before


@pytest.mark.parametrize("stop_at", ["reading transactions.csv", "checking events.csv",
                                     "loading transactions.csv", "saving", "recording the ingest"])
@pytest.mark.parametrize("exc", [KeyboardInterrupt, RuntimeError])
def test_interrupted_ingest_leaves_the_store_as_it_was(tmp_path, seeded, stop_at, exc):
    src = tmp_path / "src"
    write(src, "events.csv", EVENTS_HEADER + "n1,2026-02-01T00:00:00Z,click,,,,,,\nn2,bad,click,,,,,,\n")
    write(src, "transactions.csv", "order_id,customer_id,ts,amount\no5,n1,2026-02-01,3\no6,n1,2026-02-01,three\n")
    before = snapshot(seeded)
    seen = []

    def progress(msg, step, total):
        seen.append(msg)
        if msg == stop_at:
            raise exc("stop")

    with Store(seeded) as st:
        with pytest.raises(exc):
            ingest(st, src, progress=progress)
        # the connection is still usable, with no temporary leftovers
        assert st.raw.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0] == 0
        assert st.raw.execute("SELECT count(*) FROM duckdb_views() WHERE temporary AND NOT internal"
                              ).fetchone()[0] == 0
    assert stop_at in seen
    assert snapshot(seeded) == before
    # and the same files go in cleanly afterwards
    summary = run(seeded, src)
    assert (summary.loaded, summary.quarantined) == (2, 2)


def test_progress_is_reported_per_file(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01,click\n")
    write(src, "customers.csv", "customer_id\nc1\n")
    seen = []
    run(db, src, progress=lambda msg, step, total: seen.append((msg, step, total)))
    assert seen == [
        ("reading events.csv", 0, 2), ("reading customers.csv", 1, 2),
        ("checking events.csv", 0, 2), ("loading events.csv", 0, 2),
        ("checking customers.csv", 1, 2), ("loading customers.csv", 1, 2),
        ("saving", 2, 2), ("recording the ingest", 2, 2),
    ]


# -- finding files ------------------------------------------------------------------------------
def test_source_errors_are_one_line(tmp_path, db):
    cases = {}
    missing = tmp_path / "missing"
    cases["no such file or folder"] = missing
    two = tmp_path / "two"
    write(two, "events.csv", "customer_id,ts,event\n")
    write(two, "events.jsonl", "")
    cases["several files for table events"] = two
    odd = tmp_path / "odd"
    write(odd, "events.xlsx", b"PK")
    cases["unsupported format for table events"] = odd
    none = tmp_path / "none"
    write(none, "hits.csv", "a\n1\n")
    cases["no file named after a canonical table"] = none
    for expected, src in cases.items():
        with Store(db) as st, pytest.raises(IngestError) as info:
            ingest(st, src)
        assert expected in str(info.value) and "\n" not in str(info.value)
        result = runner.invoke(app, ["ingest", str(src), "--store", str(db)])
        assert expected in one_line_error(result)


def test_json_array_is_not_json_lines(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.json", '[\n  {"customer_id": "c1", "ts": "2026-01-01", "event": "click"}\n]\n')
    with Store(db) as st, pytest.raises(IngestError, match="events.json: holds one JSON array, not JSON lines"):
        ingest(st, src)
    write(src, "events.json", '{"customer_id": "c1", "ts": "2026-01-01", "event": "click"}\n')
    assert run(db, src).loaded == 1  # .json holding JSON lines is fine


def test_unreadable_parquet_is_one_line(tmp_path, seeded):
    src = tmp_path / "src"
    write(src, "events.parquet", b"this is not parquet at all")
    before = snapshot(seeded)
    result = runner.invoke(app, ["ingest", str(src), "--store", str(seeded)])
    line = one_line_error(result)
    assert "events.parquet" in line and "cannot be read as Parquet" in line
    assert snapshot(seeded) == before


# -- the CLI end to end -------------------------------------------------------------------------
def test_cli_summary_adds_up_and_quarantine_shows_reasons(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01,click\nc2,nope,click\nc1,2026-01-01,click\n")
    write(src, "responses.csv", "response_id,customer_id,ts,survey,score\nr1,c1,2026-01-01,nps,9\n"
                                "r2,c1,2026-01-01,nps,12\n")
    result = runner.invoke(app, ["ingest", str(src), "--store", str(db)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "5 rows read = 2 loaded + 0 already stored + 3 quarantined (adds up)." in " ".join(out.split())
    assert "unparsable timestamp in ts" in out and "duplicate of an earlier row" in out
    assert "survey score out of range (nps: 0-10)" in out

    shown = runner.invoke(app, ["quarantine", "--store", str(db)])
    assert shown.exit_code == 0, shown.output
    assert "3 quarantined row(s) in all." in shown.output
    assert "events.csv" in shown.output and "unparsable" in shown.output  # cells wrap: exact text below

    out_csv = tmp_path / "q.csv"
    exported = runner.invoke(app, ["quarantine", "--store", str(db), "--out", str(out_csv)])
    assert exported.exit_code == 0, exported.output
    import csv

    with out_csv.open(encoding="utf-8") as fh:
        got = [(r["table_name"], r["row_ref"], r["reason"]) for r in csv.DictReader(fh)]
    assert got == [("events", "line 3", "unparsable timestamp in ts"),
                   ("events", "line 4", "duplicate of an earlier row (line 2)"),
                   ("responses", "line 3", "survey score out of range (nps: 0-10)")]


def test_real_command_in_a_subprocess(tmp_path):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01,click\nc2,2026-01-01,teleport\n")
    exe = Path(sys.executable).with_name("afterclick")
    db = tmp_path / "sub.duckdb"
    done = subprocess.run([str(exe), "ingest", str(src), "--store", str(db)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2 rows read = 2 loaded + 0 already stored + 0 quarantined (adds up)." in " ".join(done.stdout.split())
    assert "teleport (1)" in done.stdout
    bad = tmp_path / "bad"
    write(bad, "events.csv", "customer_id,event\nc1,click\n")
    failed = subprocess.run([str(exe), "ingest", str(bad), "--store", str(db)],
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 1
    lines = [line for line in failed.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "events.csv" in lines[0] and "'ts'" in lines[0]
