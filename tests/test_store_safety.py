"""What the store promises (docs/store.md), tried for real: kills, races, a full disk, files that
are not stores, a read-only store, and random bad rows.

Ingests that are killed or raced run in child processes (tests/storefuzz.py); a kill is a real
SIGKILL. No timing is asserted: a kill lands where it lands, and every outcome must keep the
promises.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
import storefuzz as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from afterclick.cli import app
from afterclick.ingest import IngestError, ingest
from afterclick.store import (
    INGEST_ID,
    INGEST_LOG,
    QUARANTINE,
    Store,
    connect_duckdb,
)

runner = CliRunner()
EXE = Path(sys.executable).with_name("afterclick")


def seeded_store(folder: Path, n: int = 60, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "s.duckdb"
    src = sf.write_events(folder / f"seed{seed}", sf.events_rows(random.Random(seed), n))
    with Store(store) as s:
        ingest(s, src)
    return store


def contents(store: Path) -> dict[str, list[tuple]]:
    """Every canonical row, the quarantine and the log, as sorted text."""
    with Store(store, read_only=True) as s:
        out = {name: s.raw.execute(f'SELECT COLUMNS(*)::VARCHAR FROM "{name}" ORDER BY ALL').fetchall()
               for name in ("events", QUARANTINE, INGEST_LOG)}
    return out


def one_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


# -- 1. crash-safe ingest beyond one transaction ---------------------------------------------------
def test_rows_of_an_ingest_without_a_log_row_are_hidden_then_removed(tmp_path):
    """What a commit killed half-way leaves (issue 14, case 1: the events written, the log not)."""
    store = seeded_store(tmp_path)
    before = contents(store)
    with connect_duckdb(store) as con:  # the half-committed ingest, as DuckDB left it
        con.execute(f"INSERT INTO events (customer_id, ts, event, {INGEST_ID}) "
                    "SELECT 'ghost' || range, TIMESTAMP '2026-05-01', 'click', 'deadbeef0000' FROM range(500)")
        con.execute(f"INSERT INTO {QUARANTINE} VALUES ('deadbeef0000', 'events', 'x.csv', 'line 2', 'r', '')")
    with Store(store, read_only=True) as s:  # read-only: hidden, and the file untouched
        assert s.unfinished == ["deadbeef0000"]
        assert s.counts()["events"] == len(before["events"])
        assert s.tables()["events"].count().execute() == len(before["events"])
        assert INGEST_ID not in s.tables()["events"].columns
        assert len(s.quarantine()) == len(before[QUARANTINE])
    with Store(store) as s:  # writing: removed
        assert s.unfinished == ["deadbeef0000"]
    assert contents(store) == before
    assert sf.check_store(store)["unfinished"] == 0


def test_a_store_made_before_ingest_ids_is_brought_up_to_date(tmp_path):
    store = tmp_path / "old.duckdb"
    with Store(tmp_path / "template.duckdb") as s:  # the tables as they were: no ingest id column
        ddl = {n: s.raw.execute("SELECT sql FROM duckdb_tables() WHERE table_name = ?", [n]).fetchone()[0]
               for n in ("events", QUARANTINE, INGEST_LOG)}
    with duckdb.connect(str(store)) as con:
        for sql in ddl.values():
            con.execute(sql.replace(f", {INGEST_ID} VARCHAR", ""))
        assert INGEST_ID not in [c[0] for c in con.execute("DESCRIBE events").fetchall()]
        con.execute("INSERT INTO events (customer_id, ts, event) VALUES ('old', TIMESTAMP '2026-01-01', 'click')")
        con.execute(f"INSERT INTO {INGEST_LOG} (ingest_id, table_name, rows_read, loaded, already_stored, "
                    "quarantined) VALUES ('old', 'events', 1, 1, 0, 0)")
    with Store(store, read_only=True) as s:  # read as it is
        assert s.counts()["events"] == 1
    with Store(store) as s:
        summary = ingest(s, sf.write_events(tmp_path / "src", ["c1,2026-02-01T00:00:00Z,click,,,,,,"]))
        assert summary.loaded == 1
        rows = s.raw.execute(f"SELECT customer_id, {INGEST_ID} FROM events ORDER BY 1").fetchall()
    assert rows == [("c1", summary.ingest_id), ("old", None)]


def test_a_kill_between_the_two_commits_leaves_no_half_ingest(tmp_path):
    store = seeded_store(tmp_path)
    before = contents(store)
    src = sf.write_events(tmp_path / "new", sf.events_rows(random.Random(7), 80))
    done = sf.run(store, src, tmp_path / "r.json", kill_at="recording the ingest")
    assert done.killed  # (the previous code never got there: it had one commit)
    assert sf.check_store(store)["unfinished"] == 1  # its rows were there, with no log row: removed
    assert contents(store) == before
    again = sf.run(store, src, tmp_path / "r2.json")
    assert again.result["ok"] and again.result["loaded"] > 0
    sf.check_store(store)


def test_twenty_kills_during_the_commit_leave_no_half_committed_ingest(tmp_path):
    """SIGKILL at a random moment from the rows' COMMIT to the log's, twice at a time into two
    stores. (benchmarks/fuzz_ingest.py also kills commits that checkpoint the store: see
    docs/store.md for what that found.)"""
    rng = random.Random(14)
    stores = [seeded_store(tmp_path / f"s{i}", n=200, seed=i) for i in range(2)]
    ingests = {store: 1 for store in stores}
    outcomes = {"rolled back": 0, "rows removed on opening": 0, "committed": 0}
    kills = trials = 0
    while kills < 20 and trials < 40:
        trials += 1
        running = []
        for i, store in enumerate(stores):
            src = sf.write_events(tmp_path / f"src{kills}_{i}", sf.events_rows(random.Random(f"{kills} {i}"), 300))
            result = tmp_path / f"r{kills}_{i}.json"
            running.append((store, result, sf.start(store, src, result, kill_at="saving",
                                                    delay=rng.uniform(0, 0.04))))
        for store, result, p in running:
            done = sf.finish(p, result)
            found = sf.check_store(store)  # opens it for writing: unfinished ingests removed first
            kills += done.killed
            outcomes["rows removed on opening" if found["unfinished"] else
                     "committed" if found["ingests"] > ingests[store] else "rolled back"] += 1
            ingests[store] = found["ingests"]
    # (how the kills fell is seen with -s; each outcome kept every promise)
    print(f"{kills} kills during the commit: {outcomes}")
    assert kills >= 20, outcomes


# -- 2. one writer at a time ----------------------------------------------------------------------
def test_two_first_ingests_into_a_new_store_both_land(tmp_path):
    """Issue 14, case 2: the second run's cleanup deleted the store the first had just made."""
    store = tmp_path / "new.duckdb"
    srcs = [sf.write_events(tmp_path / f"src{i}", [f"c{i},2026-01-0{i + 1}T00:00:00Z,click,,,,,,",
                                                   f"d{i},2026-01-0{i + 1}T00:00:00Z,visit,,,,,,"])
            for i in range(2)]
    procs = [subprocess.Popen([str(EXE), "ingest", str(src.parent), "--store", str(store)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for src in srcs]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert store.exists() and not Path(str(store) + ".lock").exists()
    assert sf.check_store(store) == {"unfinished": 0, "ingests": 2, "events": 4}


def test_a_second_writer_waits_then_says_so_in_one_line(tmp_path):
    store = seeded_store(tmp_path)
    ctx = sf.context()
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=sf.hold_store, args=(str(store), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        src = sf.write_events(tmp_path / "src", ["c1,2026-01-01T00:00:00Z,click,,,,,,"])
        done = sf.run(store, src, tmp_path / "r.json", lock_wait=0.5)
        assert not done.result["ok"]
        assert "being written by another afterclick run" in done.result["error"]
        assert f"(process {holder.pid})" in done.result["error"]
        # a reader waits for the writer's connection too, and says so
        res = subprocess.run([str(EXE), "quarantine", "--store", str(store)], capture_output=True, text=True,
                             env={**os.environ, "AFTERCLICK_LOCK_TIMEOUT": "0.5"}, timeout=120)
        waiting, error = res.stderr.strip().splitlines()
        assert res.returncode == 1 and waiting.startswith("waiting for another program")
        assert "open for writing in another program" in error and "Traceback" not in res.stderr
    finally:
        release.set()
        holder.join(60)
    # once the first has finished, the second goes in
    assert sf.run(store, src, tmp_path / "r2.json").result["ok"]
    sf.check_store(store)


def test_a_failed_run_deletes_only_a_store_it_made(tmp_path):
    bad = tmp_path / "bad"
    sf.write_events(bad, ["c1,2026-01-01T00:00:00Z"]).write_text("customer_id,event\nc1,click\n")
    new = tmp_path / "new.duckdb"
    res = runner.invoke(app, ["ingest", str(bad), "--store", str(new)])
    assert res.exit_code == 1 and not new.exists() and not Path(str(new) + ".lock").exists()
    store = seeded_store(tmp_path / "kept")
    before = contents(store)
    res = runner.invoke(app, ["ingest", str(bad), "--store", str(store)])
    assert res.exit_code == 1 and contents(store) == before


# -- 3. a full disk -------------------------------------------------------------------------------
def test_a_full_disk_mid_ingest_is_one_line_and_the_store_stays_usable(tmp_path):
    """A file-size limit (RLIMIT_FSIZE) in the ingesting process: its writes past the limit fail
    as they do on a full disk."""
    store = seeded_store(tmp_path)
    before = contents(store)
    src = sf.big_events(tmp_path / "big", 8_000)
    done = sf.run(store, src, tmp_path / "r.json", fsize_limit=64 * 1024)
    assert done.exitcode == 0 and not done.result["ok"]
    error = done.result["error"]
    assert error.startswith("IngestError: no space left on the disk that holds") and "\n" not in error
    assert sf.check_store(store)["unfinished"] == 0
    assert contents(store) == before
    again = sf.run(store, src, tmp_path / "r2.json")  # space again: the same ingest goes in
    assert again.result["ok"] and again.result["loaded"] == 8_000
    res = runner.invoke(app, ["kpis", "--store", str(store), "--id", "reach.clicks"])
    assert res.exit_code == 0, res.output


@contextmanager
def small_disk(tmp_path: Path, size: str = "8m"):
    """A real small file system (tmpfs): needs root, skipped elsewhere."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a small tmpfs needs root")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_really_full_disk(tmp_path):
    with small_disk(tmp_path) as disk:
        store = disk / "s.duckdb"
        seed = sf.write_events(tmp_path / "seed", sf.events_rows(random.Random(1), 100))
        assert runner.invoke(app, ["ingest", str(seed.parent), "--store", str(store)]).exit_code == 0
        filler = disk / "filler"
        with filler.open("wb") as fh:  # the disk full but for 32 KB
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            fh.write(b"\0" * max(0, free - 32 * 1024))
        before = contents(store)
        res = subprocess.run([str(EXE), "ingest", str(sf.big_events(tmp_path / "big", 5_000).parent),
                              "--store", str(store)], capture_output=True, text=True, timeout=300)
        assert res.returncode == 1 and "no space left on the disk" in one_line(res.stderr)
        assert contents(store) == before
        # KPIs still work on the full disk (report opens the store the same way), the history
        # not kept, said in one line
        res = subprocess.run([str(EXE), "kpis", "--store", str(store), "--id", "reach.clicks"],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) <= 1
        filler.unlink()  # space again: the ingest goes in
        res = subprocess.run([str(EXE), "ingest", str(tmp_path / "big"), "--store", str(store)],
                             capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, res.stderr
        sf.check_store(store)


# -- 12. files that are not stores; nothing from the network --------------------------------------
def not_a_store(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.db"
    if kind == "sqlite":
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE t (x)")
    elif kind == "text":
        path.write_text("customer_id,ts\n")
    elif kind == "empty":
        path.write_bytes(b"")
    else:  # a DuckDB database that afterclick did not make
        with duckdb.connect(str(path)) as con:
            if kind == "duckdb-tables":
                con.execute("CREATE TABLE t (x INT)")
    return path


@pytest.mark.parametrize("kind", ["sqlite", "text", "empty", "duckdb-empty", "duckdb-tables"])
def test_a_file_that_is_not_a_store_is_refused_in_one_line(tmp_path, kind):
    path = not_a_store(tmp_path, kind)
    before = path.read_bytes()
    src = sf.write_events(tmp_path / "src", ["c1,2026-01-01T00:00:00Z,click,,,,,,"])
    for command in (["kpis"], ["kpis", "--no-snapshot"], ["report", "--out", str(tmp_path / "r.html")],
                    ["clv", "--out", str(tmp_path / "c.csv")], ["quarantine"], ["ingest", str(src)]):
        res = runner.invoke(app, [*command, "--store", str(path)])
        assert res.exit_code == 1, (command, res.output)
        assert "not an afterclick store" in one_line(res.output), (command, res.output)
    assert path.read_bytes() == before
    assert not Path(str(path) + ".wal").exists() and not Path(str(path) + ".lock").exists()


def test_no_connection_installs_or_loads_an_extension(tmp_path):
    store = seeded_store(tmp_path)
    sqlite_file = not_a_store(tmp_path, "sqlite")
    for read_only in (False, True):
        with Store(store, read_only=read_only) as s:
            settings_ = dict(s.raw.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('autoinstall_known_extensions', 'autoload_known_extensions')").fetchall())
            assert settings_ == {"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
            for query in (f"SELECT * FROM read_csv('https://example.invalid/{tmp_path.name}.csv')",
                          f"SELECT * FROM sqlite_scan('{sqlite_file}', 't')"):
                with pytest.raises(duckdb.Error, match="(?s)extension.*INSTALL"):
                    s.raw.execute(query)


# -- 13. a read-only store ------------------------------------------------------------------------
@contextmanager
def read_only(store: Path):
    """``store`` seen read-only: its folder and file without write permission, or (for root, whom
    permissions do not stop) a read-only bind mount of its folder."""
    folder = store.parent
    if os.geteuid() != 0:
        folder.chmod(0o555)
        store.chmod(0o444)
        try:
            yield store
        finally:
            folder.chmod(0o755)
            store.chmod(0o644)
        return
    view = folder.parent / (folder.name + "-ro")
    view.mkdir()
    if subprocess.run(["mount", "--bind", "-o", "ro", str(folder), str(view)], capture_output=True).returncode:
        pytest.skip("a read-only bind mount needs root")
    try:
        if os.access(view / store.name, os.W_OK):  # (older mount: read-only only after a remount)
            subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        yield view / store.name
    finally:
        subprocess.run(["umount", "-l", str(view)], check=False)


def test_a_read_only_store_is_read_and_says_the_history_is_not_kept(tmp_path):
    """Issue 14, case 13: report always wrote its snapshots, and failed on a read-only store."""
    store = seeded_store(tmp_path / "brand")
    before = contents(store)
    with read_only(store) as ro:
        out = tmp_path / "r.html"
        res = runner.invoke(app, ["report", "--store", str(ro), "--out", str(out)])
        assert res.exit_code == 0, res.output
        assert out.exists()
        notes = [ln for ln in res.output.splitlines() if "read-only" in ln]
        assert len(notes) == 1 and "history" in notes[0]
        res = runner.invoke(app, ["kpis", "--store", str(ro), "--id", "reach.clicks"])
        assert res.exit_code == 0, res.output
        assert len([ln for ln in res.output.splitlines() if "read-only" in ln]) == 1
        for command in (["kpis", "--no-snapshot", "--id", "reach.clicks"], ["quarantine"],
                        ["clv", "--out", str(tmp_path / "c.csv")]):
            res = runner.invoke(app, [*command, "--store", str(ro)])
            # (no transactions here for the CLV models: said so, after reading the store)
            assert res.exit_code == 0 or "cannot predict customer value" in res.output, (command, res.output)
            assert "read-only" not in res.output  # opened read-only from the start: nothing to say
        res = runner.invoke(app, ["ingest", str(tmp_path / "brand" / "seed0"), "--store", str(ro)])
        assert res.exit_code == 1 and "read-only" in one_line(res.output)
    assert contents(store) == before


# -- 5. the fuzz test ---------------------------------------------------------------------------
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 60), st.floats(0, 0.6)),
                        min_size=1, max_size=3),
       repeat=st.booleans())
def test_random_tables_with_random_bad_rows_add_up(tmp_path_factory, batches, repeat):
    folder = tmp_path_factory.mktemp("fuzz")
    store = folder / "s.duckdb"
    srcs = [sf.write_events(folder / f"b{i}", sf.events_rows(random.Random(seed), n, bad))
            for i, (seed, n, bad) in enumerate(batches)]
    if repeat:
        srcs.append(srcs[0])
    for src in srcs:
        with Store(store) as s:
            try:
                summary = ingest(s, src)
            except IngestError:
                continue
        assert summary.adds_up
        sf.check_store(store)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kill_at=st.sampled_from(sf.STEPS), delay=st.floats(0, 0.05), seed=st.integers(0, 10_000),
       bad=st.floats(0, 0.5))
def test_an_ingest_killed_at_a_random_point_keeps_the_promises(tmp_path_factory, kill_at, delay, seed, bad):
    folder = tmp_path_factory.mktemp("kill")
    store = seeded_store(folder, seed=seed)
    src = sf.write_events(folder / "src", sf.events_rows(random.Random(seed + 1), 200, bad))
    done = sf.run(store, src, folder / "r.json", kill_at=kill_at, delay=delay)
    found = sf.check_store(store)
    assert found["ingests"] == 2 if done.result.get("ok") else found["ingests"] in (1, 2)


def test_concurrent_writers_one_killed(tmp_path):
    store = seeded_store(tmp_path)
    running = []
    for i in range(3):
        src = sf.write_events(tmp_path / f"src{i}", sf.events_rows(random.Random(100 + i), 300, 0.3))
        kw = {"kill_at": "loading", "delay": 0.01} if i == 1 else {}
        result = tmp_path / f"r{i}.json"
        running.append((result, sf.start(store, src, result, **kw)))
    runs = [sf.finish(p, result) for result, p in running]
    assert runs[1].killed
    assert runs[0].result["ok"] and runs[2].result["ok"]
    assert sf.check_store(store)["ingests"] == 3  # the seed's and the two that finished
