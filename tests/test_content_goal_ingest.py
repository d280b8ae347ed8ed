"""The optional ``goal`` column of the content table: lower-cased, unknown goals kept and reported
(like unknown event names), old stores get the column when opened writable."""

from __future__ import annotations

import json

import duckdb
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.ingest import ingest
from afterclick.store import INGEST_LOG, Store

CONTENT = ("content_id,kind,title,goal\n"
           "g1,guide,Rescue guide,Download\n"
           "g2,guide,Light guide, download \n"
           "p1,post,Meme,share\n"
           "w1,webinar,Live Q&A,webinar_join\n"
           "w2,webinar,Live Q&A 2,WEBINAR_JOIN\n"
           "a1,article,No goal,\n")


def write_source(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "content.csv").write_text(CONTENT, encoding="utf-8")
    return folder


def test_goals_are_lower_cased_and_unknown_ones_kept_and_reported(tmp_path):
    src = write_source(tmp_path / "src")
    with Store(tmp_path / "s.duckdb") as store:
        summary = ingest(store, src)
        assert summary.adds_up and (summary.loaded, summary.quarantined) == (6, 0)
        f = summary.files[0]
        assert f.unknown_goals == {"webinar_join": 2} and f.unknown_events == {}
        assert summary.unknown_goals == {"webinar_join": 2}
        got = store.raw.execute("SELECT content_id, goal FROM content ORDER BY 1").fetchall()
        details = json.loads(store.raw.execute(f"SELECT details FROM {INGEST_LOG}").fetchone()[0])
    assert got == [("a1", None), ("g1", "download"), ("g2", "download"), ("p1", "share"),
                   ("w1", "webinar_join"), ("w2", "webinar_join")]
    assert details["unknown_goals"] == {"webinar_join": 2}


def test_cli_reports_unknown_goals(tmp_path):
    src = write_source(tmp_path / "src")
    result = CliRunner().invoke(app, ["ingest", str(src), "--store", str(tmp_path / "cli.duckdb")])
    assert result.exit_code == 0, result.output
    assert "webinar_join (2)" in result.output and "goal" in result.output


def test_a_store_made_before_the_goal_column_gets_it(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute('CREATE TABLE "content" (content_id VARCHAR, kind VARCHAR, title VARCHAR, '
                'published_at TIMESTAMP, campaign_id VARCHAR, topic VARCHAR)')
    con.execute("INSERT INTO content VALUES ('old', 'post', 'Kept', NULL, NULL, NULL)")
    con.close()
    src = write_source(tmp_path / "src")
    with Store(path) as store:
        summary = ingest(store, src)
        assert summary.adds_up and summary.loaded == 6
        got = store.raw.execute("SELECT content_id, goal FROM content WHERE content_id IN ('old', 'g1') "
                                "ORDER BY 1").fetchall()
    assert got == [("g1", "download"), ("old", None)]
