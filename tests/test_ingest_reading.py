"""Reading real files: encodings, blank lines, multi-line values, bad lines, many files per table,
odd directory entries. Every test writes its own small files and checks the accounting, the
reasons and the line numbers (the physical line of the file a record starts on)."""

from __future__ import annotations

import gzip
import json
import os
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_ingest import one_line_error, rows, run, write
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.ingest import IngestError, MappingError, ingest
from afterclick.ingest.staging import MAX_ROW_CHARS
from afterclick.store import QUARANTINE, Store

runner = CliRunner()
MESSAGES = "message_id,author_id,ts,text\n"


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "store.duckdb"


def counts(summary) -> tuple[int, int, int]:
    return summary.rows_read, summary.loaded, summary.quarantined


def where(db: Path) -> list[tuple[str, str, str]]:
    """(file name, location, reason) of every quarantined row, in the order stored."""
    return [(Path(f).name, w, r) for f, w, r in
            rows(db, f"SELECT source_file, row_ref, reason FROM {QUARANTINE} ORDER BY rowid")]


# -- text as real exports write it --------------------------------------------------------------
def test_utf8_with_a_blank_line_inside_a_quoted_value(tmp_path, db):
    # Ó is C3 93 in UTF-8: a byte in 0x80-0x9F, which the old blank-line re-read refused as latin-1
    src = tmp_path / "src"
    write(src, "messages.csv", MESSAGES + 'm1,a1,2026-01-01,"Ótimo\n\nobrigado"\n')
    summary = run(db, src)
    assert counts(summary) == (1, 1, 0)
    assert rows(db, "SELECT text FROM messages") == [("Ótimo\n\nobrigado",)]


def test_any_utf8_blank_lines_and_a_bom(tmp_path, db):
    src = tmp_path / "src"
    write(src, "messages.csv", ("\ufeff" + MESSAGES
                                + "m1,a1,2026-01-01,Thanks — it’s great 😀\n"    # 2
                                + "\n"                                          # 3
                                + 'm2,a1,2026-01-01,"É\n\n‘quoted’ — on\nlines"\n'  # 4-7
                                + "\n"                                          # 8
                                + "m3,a1,nope,bad time\n"                       # 9
                                + "m4,a2,2026-01-02,É\n").encode("utf-8"))      # 10
    summary = run(db, src)
    assert counts(summary) == (4, 3, 1)
    assert where(db) == [("messages.csv", "line 9", "unparsable timestamp in ts")]
    assert rows(db, "SELECT text FROM messages ORDER BY message_id") == [
        ("Thanks — it’s great 😀",), ("É\n\n‘quoted’ — on\nlines",), ("É",)]


def test_line_numbers_are_physical_lines_after_multi_line_values(tmp_path, db):
    src = tmp_path / "src"
    write(src, "messages.csv", MESSAGES
          + 'm1,a1,2026-01-01,"one\ntwo\nthree"\n'   # 2-4
          + "m2,a1,2026-01-01,x,extra\n"             # 5: more fields
          + 'm3,a1,later,"a\nb"\n'                   # 6-7: bad time, starts on 6
          + "\n"                                     # 8
          + "m1,a1,2026-01-01,other\n")              # 9: same id, other values
    summary = run(db, src)
    assert counts(summary) == (4, 1, 3)
    assert where(db) == [
        ("messages.csv", "line 5", "more fields than the header"),
        ("messages.csv", "line 6", "unparsable timestamp in ts"),
        ("messages.csv", "line 9", "same message_id as an earlier row but other values (line 2)"),
    ]


def test_windows_line_endings_inside_and_outside_quoted_values(tmp_path, db):
    src = tmp_path / "src"
    write(src, "messages.csv", MESSAGES.replace("\n", "\r\n")
          + 'm1,a1,2026-01-01,"a\r\n\r\nb"\r\n\r\nm2,a1,bad,x\r\n')
    summary = run(db, src)
    assert counts(summary) == (2, 1, 1)
    assert where(db) == [("messages.csv", "line 6", "unparsable timestamp in ts")]
    assert rows(db, "SELECT text FROM messages") == [("a\r\n\r\nb",)]


def test_bare_carriage_returns_in_an_unquoted_field_set_the_line_aside(tmp_path, db):
    # a tweet with two bare CRs: the old reader refused the whole file ("delimiter and quoting
    # could not be detected"), with or without a delimiter in the mapping
    src = tmp_path / "src"
    write(src, "messages.csv", MESSAGES
          + "m1,a1,2026-01-01,fine\n"
          + "m2,a1,2026-01-01,hello\r\rworld\n"          # 3
          + 'm3,a1,2026-01-01,"quoted\rcarriage return"\n'  # 4: inside quotes it is text
          + "m4,a1,2026-01-01,also fine\n")
    mapping = write(tmp_path, "mapping.toml", '[messages]\ndelimiter = ","\n')
    for m in (None, mapping):
        store = tmp_path / f"s{m is None}.duckdb"
        summary = run(store, src, m)
        assert counts(summary) == (4, 3, 1)
        assert where(store) == [("messages.csv", "line 3", "a carriage return (CR) inside an unquoted field")]
        assert rows(store, f"SELECT raw FROM {QUARANTINE}") == [("m2,a1,2026-01-01,hello\r\rworld",)]
        assert rows(store, "SELECT message_id, text FROM messages ORDER BY 1") == [
            ("m1", "fine"), ("m3", "quoted\rcarriage return"), ("m4", "also fine")]


def test_badly_quoted_line_and_a_quote_never_closed(tmp_path, db):
    src = tmp_path / "src"
    write(src, "messages.csv", MESSAGES
          + 'm1,a1,2026-01-01,"closed"then more\n'  # 2
          + "m2,a1,2026-01-01,ok\n"                 # 3
          + 'm3,a1,2026-01-01,"never closed\n'      # 4
          + "m4,a1,2026-01-01,swallowed\n")         # 5
    summary = run(db, src)
    assert counts(summary) == (3, 1, 2)
    assert where(db) == [("messages.csv", "line 2", "badly quoted field"),
                         ("messages.csv", "line 4", "a quoted value is not closed before the end of the file")]


@pytest.mark.parametrize("encoding, text, expected", [
    ("latin-1", "m1,a1,2026-01-01,café crème\n", "café crème"),
    ("cp1252", "m1,a1,2026-01-01,it’s — €5\n", "it’s — €5"),
    ("utf-16", "m1,a1,2026-01-01,Ótimo 😀\n", "Ótimo 😀"),
])
def test_a_declared_encoding(tmp_path, db, encoding, text, expected):
    src = tmp_path / "src"
    write(src, "messages.csv", (MESSAGES + "\n" + text).encode(encoding))
    mapping = write(tmp_path, "mapping.toml", f'[messages]\nencoding = "{encoding}"\n')
    summary = run(db, src, mapping)
    assert counts(summary) == (1, 1, 0)
    assert rows(db, "SELECT text FROM messages") == [(expected,)]


def test_bytes_the_declared_encoding_cannot_read_are_quarantined_by_line(tmp_path, db):
    src = tmp_path / "src"
    write(src, "messages.csv", MESSAGES.encode() + b"m1,a1,2026-01-01,caf\xe9\n"
                                                   b"m2,a1,2026-01-01,bad \x81 byte\n"  # undefined in cp1252
                                                   b"m3,a1,2026-01-01,\x93quoted\x94\n")
    mapping = write(tmp_path, "mapping.toml", '[messages]\nencoding = "cp1252"\n')
    summary = run(db, src, mapping)
    assert counts(summary) == (3, 2, 1)
    assert where(db) == [("messages.csv", "line 3", "bytes that are not cp1252")]
    assert rows(db, f"SELECT raw FROM {QUARANTINE}") == [("m2,a1,2026-01-01,bad ? byte",)]
    assert rows(db, "SELECT text FROM messages ORDER BY 1") == [("café",), ("“quoted”",)]


def test_an_unknown_encoding_is_one_line(tmp_path, db):
    src = tmp_path / "src"
    write(src, "messages.csv", MESSAGES + "m1,a1,2026-01-01,x\n")
    mapping = write(tmp_path, "mapping.toml", '[messages]\nencoding = "klingon"\n')
    # found with the mapping's other mistakes, before anything is read
    with Store(db) as st, pytest.raises(MappingError, match="encoding 'klingon' is not an encoding Python knows") as info:
        ingest(st, src, mapping)
    assert "\n" not in str(info.value)


def test_gzipped_csv_keeps_line_numbers(tmp_path, db):
    src = tmp_path / "src"
    write(src, "messages.csv.gz", gzip.compress((MESSAGES + "\nm1,a1,2026-01-01,x\nm2,a1,no,y\n").encode()))
    summary = run(db, src)
    assert counts(summary) == (2, 1, 1)
    assert where(db) == [("messages.csv.gz", "line 4", "unparsable timestamp in ts")]


# -- long lines (issue 14, item 5) --------------------------------------------------------------
def test_a_5_mb_field_in_the_first_row_loads(tmp_path, db):
    # the old reader refused the whole file ("CSV Error on Line: 1"): its sniffer met the long row
    src = tmp_path / "src"
    big = "x" * (5 << 20)
    write(src, "messages.csv", MESSAGES + f"m1,a1,2026-01-01,{big}\nm2,a1,2026-01-01,short\n")
    summary = run(db, src)
    assert counts(summary) == (2, 2, 0)
    assert rows(db, "SELECT message_id, length(text) FROM messages ORDER BY 1") == [("m1", 5 << 20), ("m2", 5)]


def test_a_row_over_the_limit_is_quarantined_as_too_long(tmp_path, db):
    src = tmp_path / "src"
    huge = "y" * (MAX_ROW_CHARS + 10)
    write(src, "messages.csv", MESSAGES + f"m1,a1,2026-01-01,{huge}\nm2,a1,2026-01-01,short\n")
    summary = run(db, src)
    assert counts(summary) == (2, 1, 1)
    assert where(db) == [("messages.csv", "line 2", f"line too long (over {MAX_ROW_CHARS >> 20} MB)")]
    assert rows(db, "SELECT message_id FROM messages") == [("m2",)]


# -- JSON lines (issue 14, items 6, 7, 9) -------------------------------------------------------
def test_jsonl_with_one_crlf_line(tmp_path, db):
    # the old reader: "The CSV Parser state machine reached an invalid state."
    src = tmp_path / "src"
    write(src, "events.jsonl", '{"customer_id": "c1", "ts": "2026-01-01", "event": "click"}\r\n'
                               '{"customer_id": "c2", "ts": "2026-01-01", "event": "visit"}\n'
                               '{"customer_id": "c3", "ts": "nope", "event": "visit"}\n')
    summary = run(db, src)
    assert counts(summary) == (3, 2, 1)
    assert where(db) == [("events.jsonl", "line 3", "unparsable timestamp in ts")]


def test_a_one_line_json_array_is_refused_in_one_line(tmp_path, db):
    src = tmp_path / "src"
    objects = [{"customer_id": f"c{i}", "ts": "2026-01-01", "event": "click"} for i in range(3)]
    write(src, "events.json", json.dumps(objects) + "\n")
    with Store(db) as st, pytest.raises(IngestError) as info:
        ingest(st, src)
    assert str(info.value).endswith("events.json: holds one JSON array, not JSON lines; write one JSON object per line")
    result = runner.invoke(app, ["ingest", str(src), "--store", str(db)])
    assert "holds one JSON array" in one_line_error(result)


def test_a_json_key_holding_a_quote_can_be_mapped(tmp_path, db):
    # the old json path: Binder Error: JSON path error near '"st"'
    src = tmp_path / "src"
    write(src, "events.jsonl", json.dumps({'cu"st': "c1", "ts/at": "2026-01-01", "ev t": "click"}) + "\n")
    # (a name holding a quote is written as a quoted identifier, the quote doubled)
    mapping = write(tmp_path, "mapping.toml",
                    "[events.columns]\ncustomer_id = '\"cu\"\"st\"'\nts = \"ts/at\"\nevent = \"ev t\"\n")
    summary = run(db, src, mapping)
    assert counts(summary) == (1, 1, 0)
    assert rows(db, "SELECT customer_id, event FROM events") == [("c1", "click")]


# -- many files for one table -------------------------------------------------------------------
HITS = "customer_id,ts,event\n"


def by_day(src: Path) -> None:
    write(src / "by-day", "2026-01-01.csv", HITS + "c1,2026-01-01 10:00,click\nc2,2026-01-01 11:00,visit\n")
    write(src / "by-day", "2026-01-02.csv", HITS + "\nc3,2026-01-02 10:00,click\nc4,soon,click\n")
    write(src / "by-day", "2026-01-03.csv", HITS + "c1,2026-01-01 10:00,click\nc5,2026-01-03 09:00,visit\n")


@pytest.mark.parametrize("file", ["by-day/*.csv", "by-day", "by-day/"])
def test_one_table_from_a_pattern_or_a_folder(tmp_path, db, file):
    src = tmp_path / "src"
    by_day(src)
    write(src / "by-day", "README.txt", "not data\n")
    mapping = write(tmp_path, "mapping.toml", f'[events]\nfile = "{file}"\n')
    summary = run(db, src, mapping)
    assert len(summary.files) == 1 and summary.files[0].path == str(src / file)
    assert counts(summary) == (6, 4, 2)
    assert where(db) == [
        ("2026-01-02.csv", "line 4", "unparsable timestamp in ts"),
        ("2026-01-03.csv", "line 2", "duplicate of an earlier row (line 2 of 2026-01-01.csv)"),
    ]
    assert rows(db, "SELECT count(*) FROM events") == [(4,)]


def test_a_folder_named_after_the_table_needs_no_mapping(tmp_path, db):
    src = tmp_path / "src"
    write(src / "events", "a.csv", HITS + "c1,2026-01-01,click\n")
    write(src / "events", "b.csv.gz", gzip.compress((HITS + "c2,2026-01-02,visit\n").encode()))
    write(src, "customers.csv", "customer_id\nc1\n")
    summary = run(db, src)
    assert [(f.table, Path(f.path).name, f.rows_read) for f in summary.files] == [
        ("events", "events", 2), ("customers", "customers.csv", 1)]
    assert rows(db, "SELECT customer_id FROM events ORDER BY 1") == [("c1",), ("c2",)]


def test_a_folder_and_a_file_for_one_table_is_an_error(tmp_path, db):
    src = tmp_path / "src"
    write(src / "events", "a.csv", HITS + "c1,2026-01-01,click\n")
    write(src, "events.csv", HITS + "c2,2026-01-01,click\n")
    with Store(db) as st, pytest.raises(IngestError, match=r"several files for table events \(events/, events.csv\)"):
        ingest(st, src)


def test_files_ingested_before_are_skipped_one_by_one(tmp_path, db):
    src = tmp_path / "src"
    by_day(src)
    mapping = write(tmp_path, "mapping.toml", '[events]\nfile = "by-day/*.csv"\n')
    run(db, src, mapping)
    write(src / "by-day", "2026-01-04.csv", HITS + "c6,2026-01-04 08:00,click\n")
    summary = run(db, src, mapping)
    f = summary.files[0]
    assert counts(summary) == (1, 1, 0)
    assert f.note.startswith("3 of 4 files identical to files ingested before (first at ")
    assert f.note.endswith("UTC); skipped")
    again = run(db, src, mapping)
    assert counts(again) == (0, 0, 0) and again.files[0].note.endswith("skipped, nothing to add")
    assert rows(db, "SELECT count(*) FROM events") == [(5,)]
    assert rows(db, f"SELECT count(*) FROM {QUARANTINE}") == [(2,)]


def test_files_with_other_column_orders_are_read_by_name(tmp_path, db):
    src = tmp_path / "src"
    write(src / "parts", "1.csv", "customer_id,ts,event\nc1,2026-01-01,click\n")
    write(src / "parts", "2.csv", "event;customer_id;ts;channel\nvisit;c2;2026-01-02;web\n")
    mapping = write(tmp_path, "mapping.toml", '[events]\nfile = "parts/*.csv"\n')
    with Store(db) as st, pytest.raises(IngestError):  # one delimiter per table
        ingest(st, src, mapping)
    write(src / "parts", "2.csv", "event,customer_id,ts,channel\nvisit,c2,2026-01-02,web\n")
    summary = run(db, src, mapping)
    assert counts(summary) == (2, 2, 0)
    assert rows(db, "SELECT customer_id, event, channel FROM events ORDER BY 1") == [
        ("c1", "click", None), ("c2", "visit", "web")]


def test_a_file_of_many_missing_a_required_column_is_named(tmp_path, db):
    src = tmp_path / "src"
    write(src / "parts", "1.csv", "customer_id,ts,event\nc1,2026-01-01,click\n")
    write(src / "parts", "2.csv", "customer_id,event\nc2,visit\n")
    mapping = write(tmp_path, "mapping.toml", '[events]\nfile = "parts/*.csv"\n')
    with Store(db) as st, pytest.raises(IngestError) as info:
        ingest(st, src, mapping)
    assert "2.csv: required column 'ts' missing for table events" in str(info.value)


def test_a_pattern_that_matches_nothing_is_one_line(tmp_path, db):
    src = tmp_path / "src"
    write(src, "x.txt", "x\n")
    mapping = write(tmp_path, "mapping.toml", '[events]\nfile = "by-day/*.csv"\n')
    with Store(db) as st, pytest.raises(IngestError, match="no file matches the pattern"):
        ingest(st, src, mapping)


def test_many_parquet_files_have_their_own_row_numbers(tmp_path, db):
    src = tmp_path / "src"
    (src / "transactions").mkdir(parents=True)
    for i, ids in enumerate((["o1", "o2"], ["o3", None, "o1"])):
        pq.write_table(pa.table({"order_id": ids, "customer_id": ["c"] * len(ids),
                                 "ts": ["2026-01-01"] * len(ids), "amount": [float(i + 1)] * len(ids)}),
                       src / "transactions" / f"part{i}.parquet")
    summary = run(db, src)
    assert counts(summary) == (5, 3, 2)
    assert where(db) == [("part1.parquet", "row 2", "missing order_id"),
                         ("part1.parquet", "row 3", ("same order_id as an earlier row but other values "
                                                    "(row 1 of part0.parquet)"))]


# -- odd entries in the folder (issue 14, item 8) -----------------------------------------------
@pytest.mark.parametrize("make, words", [
    (lambda p: os.symlink(p.parent / "gone.csv", p), "a link to nothing"),
    (lambda p: os.mkfifo(p), "a named pipe (FIFO)"),
    (lambda p: os.symlink(p, p), "a link loop"),
    (lambda p: (p.parent / "real").mkdir() or os.symlink(p.parent / "real", p), "is a folder"),
])
def test_an_entry_named_after_a_table_that_is_not_a_file_is_refused(tmp_path, db, make, words):
    src = tmp_path / "src"
    write(src, "customers.csv", "customer_id\nc1\n")
    make(src / "events.csv")
    done: list = []

    def go():  # a named pipe must never be opened (it would wait for a writer forever)
        result = runner.invoke(app, ["ingest", str(src), "--store", str(db)])
        done.append(result)

    worker = threading.Thread(target=go, daemon=True)
    worker.start()
    worker.join(120)
    assert done, "the ingest blocked"
    line = one_line_error(done[0])
    assert "events.csv" in line and words in line
    assert not db.exists() or rows(db, "SELECT count(*) FROM customers") == [(0,)]


def test_odd_entries_not_named_after_a_table_are_listed_as_ignored(tmp_path, db):
    src = tmp_path / "src"
    write(src, "customers.csv", "customer_id\nc1\n")
    os.symlink(src / "gone.csv", src / "notes.csv")
    summary = run(db, src)
    assert summary.ignored_files == ["notes.csv (a link to nothing (its target does not exist))"]


def test_two_tables_from_one_file_both_account_for_its_bad_line(tmp_path, db):
    src = tmp_path / "src"
    write(src, "export.csv", HITS + "c1,2026-01-01,click\nc2,2026-01-02,visit,extra\nc3,2026-01-03,visit\n")
    mapping = write(tmp_path, "mapping.toml", '[events]\nfile = "export.csv"\n[customers]\nfile = "export.csv"\n')
    summary = run(db, src, mapping)
    assert [(f.table, f.rows_read, f.loaded, f.quarantined) for f in summary.files] == [
        ("events", 3, 2, 1), ("customers", 3, 2, 1)]
    assert rows(db, f"SELECT table_name, row_ref, reason FROM {QUARANTINE} ORDER BY 1") == [
        ("customers", "line 3", "more fields than the header"), ("events", "line 3", "more fields than the header")]
