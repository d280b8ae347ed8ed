"""`afterclick watch`: files dropped into a folder while it runs are ingested once each, the alert
rules are evaluated after each ingest, and Ctrl-C (SIGINT) stops it cleanly."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
from test_monitor_wiring import MONTHS, _answers

from afterclick.monitor.watch import FolderWatch, table_of

RULES = ('[[rule]]\nkpi = "advocacy.nps"\nchecks = ["change_point"]\ndirection = "worse"\n'
         'severity = "critical"\nname = "NPS falling"\n')


def _nps_rows(months: range) -> pd.DataFrame:
    rows = []
    for k in months:
        month = pd.Timestamp("2024-01-01", tz="UTC") + pd.DateOffset(months=k)
        p, m, d = _answers(k)
        scores = [10] * p + [8] * m + [3] * d
        step = ((month + pd.DateOffset(months=1)) - month - pd.Timedelta(hours=2)) / (len(scores) - 1)
        rows += [{"response_id": f"R{k:02d}{i:04d}", "customer_id": f"C{(k * 7 + i) % 900:04d}",
                  "ts": (month + pd.Timedelta(hours=1) + i * step).isoformat(), "survey": "nps",
                  "score": s, "comment": "", "touchpoint": "post_purchase"} for i, s in enumerate(scores)]
    return pd.DataFrame(rows)


def _drop(folder: Path, name: str, frame: pd.DataFrame) -> None:
    """Write under a hidden name, then rename: the watch never sees a half-written file."""
    tmp = folder / f".{name}"
    frame.to_csv(tmp, index=False)
    os.replace(tmp, folder / name)


class _Reader:
    def __init__(self, stream):
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream):
        for line in stream:
            self.lines.put(line.rstrip("\n"))

    def until(self, text: str, limit: float = 120.0) -> list[str]:
        """Lines up to the first that holds ``text`` (a hang fails instead of blocking the suite)."""
        deadline = time.monotonic() + limit
        got = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            got.append(line)
            self.seen.append(line)
            if text in line:
                return got
        raise AssertionError(f"no line with {text!r}; saw:\n" + "\n".join(self.seen))


def test_table_of_a_file_name():
    assert table_of(Path("events.csv")) == "events"
    assert table_of(Path("Events-2026-11-02.csv")) == "events"
    assert table_of(Path("transactions_week45.parquet")) == "transactions"
    assert table_of(Path("eventsx.csv")) is None and table_of(Path("notes.txt")) is None


def test_a_file_is_ready_once_it_stops_changing(tmp_path):
    w = FolderWatch(tmp_path)
    f = tmp_path / "events-1.csv"
    f.write_text("a\n")
    assert w.ready() == ([], [])  # first look: may still be written
    assert w.ready()[0] == [f]
    w.done(f)
    assert w.ready()[0] == []  # once
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "events-2.csv.part").write_text("x")
    assert w.ready() == ([], [tmp_path / "notes.txt"])
    assert w.ready() == ([], [])  # said once


def test_watch_ingests_dropped_files_once_evaluates_rules_and_stops_on_ctrl_c(tmp_path):
    drop, store = tmp_path / "drop", tmp_path / "watched.duckdb"
    drop.mkdir()
    (tmp_path / "rules.toml").write_text(RULES, encoding="utf-8")
    first, second = _nps_rows(range(12)), _nps_rows(range(12, MONTHS))
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "afterclick", "watch", str(drop), "--store", str(store), "--rules",
         str(tmp_path / "rules.toml"), "--kpi", "advocacy.nps", "--interval", "0.2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        out = _Reader(proc.stdout)
        out.until("watching")
        _drop(drop, "responses-2024.csv", first)
        lines = out.until("no alert fired")
        assert any(f"responses-2024.csv → responses: {len(first):,} row(s) read, {len(first):,} loaded" in ln
                   for ln in lines)
        _drop(drop, "responses-2025.csv", second)
        (drop / "readme.txt").write_text("not data")
        lines = out.until("NPS falling")
        assert any("level shift since Sep 2025" in ln for ln in lines)
        assert any(f"{len(second):,} loaded" in ln for ln in lines)
        assert any("readme.txt feeds no table" in ln for ln in lines)
        # a copy under another name adds nothing: ingest recognises the file by its SHA-256
        (drop / "responses-copy.csv").write_bytes((drop / "responses-2024.csv").read_bytes())
        lines = out.until("responses-copy.csv")
        assert "0 loaded" in lines[-1] and "identical to the file ingested" in lines[-1]
        time.sleep(1.0)  # a few more looks at the folder: nothing is ingested twice
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        out.until("stopped watching", limit=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    tail = "\n".join(out.seen)
    assert proc.returncode == 0, tail
    assert "stopped watching" in tail and "3 file(s) ingested" in tail
    assert "Traceback" not in tail
    assert sum("→ responses" in ln for ln in tail.splitlines()) == 3
    from afterclick.store import Store

    with Store(store, read_only=True) as st:
        log = st.ingest_log()
        n = st.con.table("responses").count().execute()
    assert n == len(first) + len(second)
    assert sorted(Path(f).name for f in log["source_file"]) == ["responses-2024.csv", "responses-2025.csv"]


def test_watch_needs_a_folder(tmp_path):
    from typer.testing import CliRunner

    from afterclick.cli import app

    result = CliRunner().invoke(app, ["watch", str(tmp_path / "nope"), "--store", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 2 and "no such folder to watch" in result.stderr
