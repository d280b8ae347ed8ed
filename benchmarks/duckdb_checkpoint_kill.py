"""DuckDB alone (no afterclick, no Ibis): a process killed during a commit that checkpoints the
database can leave a file DuckDB refuses to open. A reproduction to report upstream.

    python benchmarks/duckdb_checkpoint_kill.py --trials 1500

Each trial forks a child that opens one of two database files, sets ``checkpoint_threshold`` to
1KB (so that every commit checkpoints, as a commit does once the write-ahead log passes its
default 16 MB), inserts 300 rows into one table and 60 into another in one transaction, and is
sent SIGKILL by a timer of its own a random 0-100 ms after its COMMIT starts; then it would write
a third table in a second transaction. The parent opens the file again and deletes the rows of
the second table's missing ids (afterclick's recovery, in plain SQL). A file that no longer opens
("Corrupt database file: computed checksum … does not match") is counted and kept.
Results (with the machine described) go to benchmarks/results/duckdb_checkpoint_kill.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
COLS = ("customer_id VARCHAR, ts TIMESTAMP, event VARCHAR, channel VARCHAR, campaign_id VARCHAR, "
        "content_id VARCHAR, session_id VARCHAR, duration_s DOUBLE, value DOUBLE, _ingest_id VARCHAR")


def create(path: Path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(f"CREATE TABLE events ({COLS})")
        con.execute("CREATE TABLE q (ingest_id VARCHAR, t VARCHAR, f VARCHAR, r VARCHAR, reason VARCHAR, raw VARCHAR)")
        con.execute("CREATE TABLE log (ingest_id VARCHAR, n BIGINT)")


def child(path: Path, ingest_id: str, delay: float, threshold: str) -> None:
    con = duckdb.connect(str(path), config={"autoload_known_extensions": False,
                                            "autoinstall_known_extensions": False})
    if threshold:
        con.execute(f"SET checkpoint_threshold = '{threshold}'")
    con.execute("BEGIN")
    con.execute(f"INSERT INTO events SELECT 'c' || (range % 50), TIMESTAMP '2026-01-01' + INTERVAL (range) MINUTE, "
                f"'click', 'email', 'camp1', NULL, 's' || range, range % 300, NULL, '{ingest_id}' FROM range(300)")
    con.execute(f"INSERT INTO q SELECT '{ingest_id}', 'events', 'f.csv', 'line ' || range, 'bad', '{{}}' "
                "FROM range(60)")
    threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()
    con.execute("COMMIT")
    con.execute("BEGIN")
    con.execute(f"INSERT INTO log VALUES ('{ingest_id}', 300)")
    con.execute("COMMIT")
    con.close()
    time.sleep(5)  # the timer kills it here at the latest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=1500)
    ap.add_argument("--threshold", default="1KB", help="checkpoint_threshold ('' for DuckDB's default)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--work", type=Path, default=Path("duckdb-checkpoint-kill"))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "duckdb_checkpoint_kill.json")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_kpis import machine

    args.work.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    paths = [args.work / f"s{i}.duckdb" for i in range(2)]
    for p in paths:
        for suffix in ("", ".wal"):
            Path(str(p) + suffix).unlink(missing_ok=True)
        create(p)
    damaged = []
    started = time.perf_counter()
    for t in range(args.trials):
        path, delay = paths[t % 2], rng.uniform(0, 0.1)
        pid = os.fork()
        if pid == 0:
            try:
                child(path, f"i{t}", delay, args.threshold)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        try:
            with duckdb.connect(str(path)) as con:
                con.execute("BEGIN")
                con.execute("DELETE FROM events WHERE _ingest_id NOT IN (SELECT ingest_id FROM log)")
                con.execute("DELETE FROM q WHERE ingest_id NOT IN (SELECT ingest_id FROM log)")
                con.execute("COMMIT")
        except duckdb.Error as exc:
            damaged.append({"trial": t, "delay_s": round(delay, 4), "error": str(exc).splitlines()[0]})
            print("damaged:", damaged[-1], flush=True)
            for suffix in ("", ".wal"):
                old = Path(str(path) + suffix)
                if old.exists():
                    old.rename(Path(f"{path}.damaged{t}{suffix}"))
            create(path)
    result = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
              "duckdb": duckdb.__version__, "trials": args.trials, "checkpoint_threshold": args.threshold,
              "damaged": damaged, "seconds": round(time.perf_counter() - started, 1)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{len(damaged)} of {args.trials} kills left a file DuckDB refuses to open; written to {args.out}")


if __name__ == "__main__":
    main()
