"""Mapping files: a source's own file, column and event names (and time formats) onto canonical ones."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_ingest import assert_adds_up, one_line_error, quarantine, rows, run, snapshot, utc, write
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.ingest import IngestError, MappingError, ingest, load_mapping
from afterclick.store import Store

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "mapping"


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "store.duckdb"


def mapping(tmp_path: Path, text: str) -> Path:
    return write(tmp_path, "mapping.toml", text)


# -- the documented example ---------------------------------------------------------------------
def test_example_folder_ingests_as_documented(tmp_path, db):
    src = tmp_path / "example"
    shutil.copytree(EXAMPLE, src)
    summary = run(db, src, src / "mapping.toml")
    got = {f.table: (Path(f.path).name, f.rows_read, f.loaded, f.already_stored, f.quarantined)
           for f in summary.files}
    assert got == {
        "events": ("web_hits.csv", 10, 8, 0, 2),
        "transactions": ("shop_orders.jsonl", 4, 4, 0, 0),  # A-1003 (-15.00) is a refund
        "responses": ("survey.csv", 4, 3, 0, 1),
        "customers": ("customers.csv", 3, 3, 0, 0),
    }
    assert summary.ignored_files == []  # the mapping file itself is not "ignored"
    events = summary.files[0]
    assert events.unknown_events == {"scroll_90": 1}
    assert events.ignored_columns == ["referrer"]
    assert quarantine(db) == [
        ("events", "line 10", "unparsable timestamp in ts (column hit_time)",
         '{"visitor":"v004","hit_time":"31/02/2026 10:00","action":"page_view","utm_campaign":null,'
         '"page":"/","visit_id":"w4","seconds_on_page":"5","referrer":null}'),
        ("events", "line 11", "duplicate of an earlier row (line 4)",
         '{"visitor":"v001","hit_time":"05/01/2026 09:16","action":"page_view","utm_campaign":"spring_sale",'
         '"page":"/guides/espresso","visit_id":"w1","seconds_on_page":"184","referrer":"search"}'),
        ("responses", "line 5", "survey score out of range (nps: 0-10)",
         '{"id":"s4","respondent":"v004","answered_at":"2026-07-04T09:00:00+02:00","question_type":"nps",'
         '"rating":"11","verbatim":"typo in the form"}'),
    ]
    assert rows(db, "SELECT event, count(*) FROM events GROUP BY 1 ORDER BY 1") == [
        ("click", 1), ("impression", 1), ("save", 1), ("scroll_90", 1), ("subscribe", 1), ("visit", 3)]
    # Berlin local time -> UTC (winter +1, summer +2)
    assert utc(db)[:1] == ["2026-01-05 08:15:00"]
    assert rows(db, "SELECT strftime(ts, '%H:%M') FROM events "
                    "WHERE customer_id = 'v003' ORDER BY ts") == [("10:00",), ("10:01",)]
    assert rows(db, "SELECT content_id, session_id, duration_s FROM events WHERE event = 'save'") == [
        ("/products/grinder", "w1", 40.0)]
    assert rows(db, "SELECT order_id, customer_id, strftime(ts, '%Y-%m-%d %H:%M'), amount, "
                    "campaign_id FROM transactions ORDER BY 1") == [
        ("A-1001", "v001", "2026-01-05 08:45", 89.9, "spring_sale"),
        ("A-1002", "v002", "2026-01-12 18:00", 24.5, None),
        ("A-1003", "v001", "2026-02-02 02:40", -15.0, None),
        ("A-1004", "v003", "2026-07-01 10:10", 129.0, "summer_promo"),
    ]
    assert rows(db, "SELECT response_id, survey, score, comment FROM responses ORDER BY 1") == [
        ("s1", "nps", 9.0, "The espresso guide really helped me, thanks!"),
        ("s2", "nps", 6.0, "Delivery took too long"),
        ("s3", "csat", 5.0, None),
    ]
    assert utc(db, "responses") == ["2026-01-20 09:00:00", "2026-01-21 08:30:00", "2026-07-03 07:00:00"]


def test_example_through_the_cli(tmp_path, db):
    src = tmp_path / "example"
    shutil.copytree(EXAMPLE, src)
    args = ["ingest", str(src), "--mapping", str(src / "mapping.toml"), "--store", str(db)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "21 rows read = 18 loaded + 0 already stored + 3 quarantined (adds up)." in flat
    assert "scroll_90 (1)" in flat
    before = snapshot(db)
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "0 rows read = 0 loaded + 0 already stored + 0 quarantined (adds up)." in " ".join(again.output.split())
    assert snapshot(db) == before


# -- columns, events, files ---------------------------------------------------------------------
def test_columns_and_event_names(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "Visitor,When,What,Extra\nu1,2026-01-01T00:00:00Z,PageView,x\n"
                             "u2,2026-01-01T00:00:00Z,pageview,x\nu3,2026-01-01T00:00:00Z,Wish,x\n"
                             "u4,2026-01-01T00:00:00Z,CLICK,x\nu5,2026-01-01T00:00:00Z,teleport,x\n")
    m = mapping(tmp_path, '[events.columns]\ncustomer_id = "visitor"\nts = "When"\nevent = "What"\n'
                          '[events.event_names]\nPageView = "visit"\nwish = "save"\n')
    summary = run(db, src, m)
    f = summary.files[0]
    assert (f.rows_read, f.loaded) == (5, 5)
    assert f.ignored_columns == ["Extra"]
    assert f.unknown_events == {"teleport": 1}
    # exact source names first, then case-insensitively; canonical names are lower-cased
    assert rows(db, "SELECT customer_id, event FROM events ORDER BY 1") == [
        ("u1", "visit"), ("u2", "visit"), ("u3", "save"), ("u4", "click"), ("u5", "teleport")]


def test_reasons_name_the_source_column(tmp_path, db):
    src = tmp_path / "src"
    write(src, "transactions.csv", "ref,who,at,total\nA1,c1,2026-01-01,x\nA2,,2026-01-01,1\n")
    m = mapping(tmp_path, '[transactions.columns]\norder_id = "ref"\ncustomer_id = "who"\nts = "at"\n'
                          'amount = "total"\n')
    summary = run(db, src, m)
    assert summary.files[0].reasons == {"not a number in amount (column total)": 1,
                                        "missing customer_id (column who)": 1}


def test_missing_mapped_column_is_one_line_naming_the_source_column(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "visitor,time,action\nu1,2026-01-01,click\n")
    m = mapping(tmp_path, '[events.columns]\ncustomer_id = "visitor"\nts = "hit_time"\nevent = "action"\n')
    with Store(db) as st, pytest.raises(IngestError) as info:
        ingest(st, src, m)
    msg = str(info.value)
    assert "\n" not in msg and "events.csv" in msg
    assert "required column 'hit_time' (for ts) missing for table events (found: visitor, time, action)" in msg
    result = runner.invoke(app, ["ingest", str(src), "--mapping", str(m), "--store", str(db)])
    assert "'hit_time' (for ts)" in one_line_error(result)


def test_file_format_and_delimiter(tmp_path, db):
    src = tmp_path / "src"
    write(src, "crm_dump.txt", "customer_id|segment\nc1|smb\nc2|ent|x\n")
    write(src, "orders.dat", '{"order_id": "o1", "customer_id": "c1", "ts": "2026-01-01", "amount": 3}\n')
    m = mapping(tmp_path, '[customers]\nfile = "crm_dump.txt"\nformat = "csv"\ndelimiter = "|"\n'
                          '[transactions]\nfile = "orders.dat"\nformat = "jsonl"\n')
    summary = run(db, src, m)
    got = {f.table: (f.rows_read, f.loaded, f.quarantined) for f in summary.files}
    assert got == {"transactions": (1, 1, 0), "customers": (2, 1, 1)}
    assert rows(db, "SELECT customer_id, segment FROM customers") == [("c1", "smb")]


def test_mapped_file_that_does_not_exist(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\n")
    m = mapping(tmp_path, '[events]\nfile = "hits.csv"\n')
    with Store(db) as st, pytest.raises(IngestError, match="hits.csv: file named in the mapping for events"):
        ingest(st, src, m)


def test_parquet_with_a_mapping(tmp_path, db):
    src = tmp_path / "src"
    src.mkdir()
    pq.write_table(pa.table({
        "uid": pa.array([1, 2], pa.int32()),
        "epoch": pa.array([1767225600, 1767229200], pa.int64()),
        "kind": ["pv", "dl"],
    }), src / "hits.parquet")
    m = mapping(tmp_path, '[events]\nfile = "hits.parquet"\ntimestamp_format = "epoch_s"\n'
                          '[events.columns]\ncustomer_id = "uid"\nts = "epoch"\nevent = "kind"\n'
                          '[events.event_names]\npv = "visit"\ndl = "download"\n')
    summary = run(db, src, m)
    assert (summary.rows_read, summary.loaded) == (2, 2)
    assert rows(db, "SELECT customer_id, event FROM events ORDER BY 1") == [("1", "visit"), ("2", "download")]
    assert utc(db) == ["2026-01-01 00:00:00", "2026-01-01 01:00:00"]


# -- time -----------------------------------------------------------------------------------------
def test_timezone_for_naive_timestamps_only(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\n"
                             "c1,2026-01-15 12:00:00,click\n"           # winter: UTC+1
                             "c2,2026-07-15 12:00:00,click\n"           # summer: UTC+2
                             "c3,2026-07-15T12:00:00Z,click\n"          # an offset wins
                             "c4,2026-07-15T12:00:00-04:00,click\n"
                             "c5,2026-03-29 02:30:00,click\n")          # a skipped hour still parses
    write(src, "transactions.csv", "order_id,customer_id,ts,amount\no1,c1,2026-01-15 12:00:00,1\n")
    m = mapping(tmp_path, '[events]\ntimezone = "Europe/Berlin"\n')
    run(db, src, m)
    got = utc(db)
    assert got[:4] == ["2026-01-15 11:00:00", "2026-07-15 10:00:00", "2026-07-15 12:00:00", "2026-07-15 16:00:00"]
    assert got[4] in ("2026-03-29 00:30:00", "2026-03-29 01:30:00")
    assert utc(db, "transactions") == ["2026-01-15 12:00:00"]  # no timezone for this table: UTC
    with Store(db) as st:  # the session is back on UTC
        assert st.raw.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "UTC"


def test_timestamp_format_strptime(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,05/01/2026 09:15,click\nc2,2026-01-05 09:15,click\n"
                             "c3,13/13/2026 09:15,click\n")
    m = mapping(tmp_path, '[events]\ntimestamp_format = "%d/%m/%Y %H:%M"\n')
    summary = run(db, src, m)
    assert (summary.loaded, summary.quarantined) == (1, 2)
    assert summary.files[0].reasons == {"unparsable timestamp in ts": 2}
    assert utc(db) == ["2026-01-05 09:15:00"]


def test_timestamp_format_with_offset_and_timezone(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,05.01.2026 09:15 +0300,click\n")
    m = mapping(tmp_path, '[events]\ntimestamp_format = "%d.%m.%Y %H:%M %z"\ntimezone = "America/New_York"\n')
    run(db, src, m)
    assert utc(db) == ["2026-01-05 06:15:00"]  # the offset in the value wins over the timezone


def test_timestamp_format_and_timezone_together(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,05/01/2026 09:15,click\n")
    m = mapping(tmp_path, '[events]\ntimestamp_format = "%d/%m/%Y %H:%M"\ntimezone = "Asia/Tokyo"\n')
    run(db, src, m)
    assert utc(db) == ["2026-01-05 00:15:00"]


@pytest.mark.parametrize("fmt, values, expected", [
    ("epoch_s", ["1767225600", "1767225600.5", "oops", "1e300"],
     ["2026-01-01 00:00:00", "2026-01-01 00:00:00"]),
    ("epoch_ms", ["1767225600000", "1767225601999", "12x", ""],
     ["2026-01-01 00:00:00", "2026-01-01 00:00:01"]),
])
def test_epoch_formats(tmp_path, db, fmt, values, expected):
    src = tmp_path / "src"
    body = "".join(f"c{i},{v},click\n" for i, v in enumerate(values))
    write(src, "events.csv", "customer_id,ts,event\n" + body)
    m = mapping(tmp_path, f'[events]\ntimestamp_format = "{fmt}"\ntimezone = "Europe/Berlin"\n')
    summary = run(db, src, m)
    assert (summary.loaded, summary.quarantined) == (2, 2)
    assert summary.files[0].reasons == {"unparsable timestamp in ts": 1, "missing ts": 1} if values[-1] == "" \
        else summary.files[0].reasons == {"unparsable timestamp in ts": 2}
    assert utc(db) == expected  # an epoch is absolute: the timezone does not move it


def test_epoch_ms_from_jsonl_numbers(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.jsonl", '{"customer_id": "c1", "ts": 1767225600123, "event": "visit"}\n')
    m = mapping(tmp_path, '[events]\ntimestamp_format = "epoch_ms"\n')
    run(db, src, m)
    assert rows(db, "SELECT strftime(ts, '%Y-%m-%d %H:%M:%S.%g') FROM events") == [
        ("2026-01-01 00:00:00.123",)]


# -- mistakes in the mapping file -----------------------------------------------------------------
def test_every_problem_in_a_mapping_is_reported_at_once(tmp_path, db):
    m = mapping(tmp_path, """
[events]
fiel = "hits.csv"
timezone = "Mars/Olympus"
timestamp_format = "%Q"
format = "xlsx"
delimiter = ";;"

[events.columns]
customer = "visitor"

[events.event_names]
page_view = "pageview"

[transactions.event_names]
buy = "click"

[orders]
file = "x.csv"
""")
    with pytest.raises(MappingError) as info:
        load_mapping(m)
    lines = str(info.value).splitlines()
    expected = [
        "[events] has unknown setting 'fiel'",
        "[events] format 'xlsx' is not one of csv, tsv, parquet, jsonl",
        "[events] delimiter must be one character",
        "[events] timestamp_format '%Q' is neither a strptime pattern",
        "[events] timezone 'Mars/Olympus' is not a known time zone",
        "[events.columns] 'customer' is not a column of events",
        "[events.event_names] 'page_view' maps to 'pageview', which is not a canonical event",
        "[transactions.event_names] only applies to events",
        "[orders] is not a canonical table",
    ]
    assert len(lines) == len(expected)
    for want in expected:
        assert sum(want in line for line in lines) == 1, (want, lines)
    assert all(line.startswith(str(m) + ": ") for line in lines)

    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01,click\n")
    result = runner.invoke(app, ["ingest", str(src), "--mapping", str(m), "--store", str(db)])
    assert result.exit_code == 1
    shown = [line for line in result.output.splitlines() if line.strip()]
    assert len(shown) == len(expected) and all(line.startswith("error: ") for line in shown)


@pytest.mark.parametrize("text, message", [
    ("[events\n", "not valid TOML"),
    ('events = "x"\n', "[events] must be a table of settings"),
    ('[events]\ncolumns = "visitor"\n', "columns must be a table"),
    ('[events.columns]\nts = 5\n', "[events.columns] ts must be a non-empty string"),
    ('[events]\ntimestamp_format = "dd/mm/yyyy"\n', "it has no %-field"),
])
def test_malformed_mapping(tmp_path, text, message):
    with pytest.raises(MappingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_mapping(mapping(tmp_path, text))


def test_missing_mapping_file_is_one_line(tmp_path, db):
    src = tmp_path / "src"
    write(src, "events.csv", "customer_id,ts,event\nc1,2026-01-01,click\n")
    result = runner.invoke(app, ["ingest", str(src), "--mapping", str(tmp_path / "nope.toml"), "--store", str(db)])
    assert "mapping file" in one_line_error(result) and "nope.toml" in result.output


def test_identity_mapping_and_sections_are_optional(tmp_path, db):
    assert load_mapping(None).for_table("events").source_column("ts") == "ts"
    m = load_mapping(mapping(tmp_path, '[customers]\n'))
    assert m.for_table("customers").columns == {} and m.for_table("events").file is None
    src = tmp_path / "src"
    write(src, "customers.csv", "customer_id\nc1\n")
    summary = run(db, src, tmp_path / "mapping.toml")
    assert_adds_up(summary)
    assert summary.loaded == 1
