"""Ingests that are killed, raced and fed bad rows, and the check that the store survived them.

Shared by tests/test_store_safety.py (bounded runs) and benchmarks/fuzz_ingest.py (long runs).
Ingests run in child processes of a fork server that has imported afterclick once (a child
starts in milliseconds); a child dies by a real SIGKILL, sent by a timer thread of its own while
its main thread is inside DuckDB (the GIL is released there), e.g. in the middle of a COMMIT.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import threading
from dataclasses import dataclass, field
from pathlib import Path

EVENTS_HEADER = "customer_id,ts,event,channel,campaign_id,content_id,session_id,duration_s,value"
#: Progress messages of an ingest, in order, by their start: a kill point is one of them.
STEPS = ("reading", "checking", "loading", "saving", "recording the ingest")

_CTX = None


def context():
    """A fork-server context whose server has afterclick's ingest imported already."""
    global _CTX
    if _CTX is None:
        _CTX = multiprocessing.get_context("forkserver")
        _CTX.set_forkserver_preload(["afterclick.ingest", "afterclick.store", "storefuzz"])
    return _CTX


# -- data ---------------------------------------------------------------------------------------
GOOD_EVENTS = ("click", "visit", "purchase", "signup", "share")


def events_rows(rng: random.Random, n: int, bad_share: float = 0.2) -> list[str]:
    """``n`` events lines: good ones, and with probability ``bad_share`` one of several faults
    (unreadable time, missing customer, negative duration, wrong column count, exact duplicate)."""
    rows: list[str] = []
    for i in range(n):
        cust = f"c{rng.randrange(50)}"
        ts = f"2026-0{rng.randrange(1, 10)}-{rng.randrange(1, 29):02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        ev = rng.choice(GOOD_EVENTS)
        line = f"{cust},{ts},{ev},email,camp{rng.randrange(3)},,s{i},{rng.randrange(1, 300)},"
        if rng.random() < bad_share:
            fault = rng.randrange(5)
            if fault == 0:
                line = f"{cust},not a time,{ev},,,,,,"
            elif fault == 1:
                line = f",{ts},{ev},,,,,,"
            elif fault == 2:
                line = f"{cust},{ts},{ev},,,,s{i},-5,"
            elif fault == 3:
                line = f"{cust},{ts}"
            elif rows:
                line = rng.choice(rows)
        rows.append(line)
    return rows


def write_events(folder: Path, rows: list[str], name: str = "events.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(EVENTS_HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def big_events(folder: Path, n: int, seed: int = 0) -> Path:
    """A larger events file (all good but a few), fast to write: for commits that take a while."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "events.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(EVENTS_HEADER + "\n")
        for i in range(n):
            fh.write(f"c{i % 5000},2026-0{1 + i % 9}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{rng.randrange(60):02d}Z,"
                     f"{GOOD_EVENTS[i % 5]},email,camp{i % 3},,s{i},{1 + i % 300},\n")
        fh.write("c1,not a time,click,,,,,,\n")
    return path


# -- a child ingest -----------------------------------------------------------------------------
def ingest_child(store: str, source: str, result: str, kill_at: str | None = None,
                 delay: float = 0.0, fsize_limit: int | None = None, lock_wait: float | None = None,
                 checkpoint_threshold: str | None = None) -> None:
    """Run one ingest (in a child process). ``kill_at``: SIGKILL this process ``delay`` seconds
    after the first progress message that starts so. ``fsize_limit``: a file-size limit in bytes
    (no write past it succeeds, in any file): the disk-full case. ``checkpoint_threshold``: e.g. "1KB" makes every
    commit checkpoint the store (a longer commit, writing the database file itself). Writes the summary or the error to ``result``."""
    from afterclick.ingest import ingest
    from afterclick.store import Store, StoreError

    if lock_wait is not None:
        os.environ["AFTERCLICK_LOCK_TIMEOUT"] = str(lock_wait)
    if fsize_limit is not None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize_limit, fsize_limit))
    armed = threading.Event()

    def progress(msg: str, step: int, total: int) -> None:
        if kill_at is None or armed.is_set() or not msg.startswith(kill_at):
            return
        armed.set()
        if delay <= 0:
            os.kill(os.getpid(), signal.SIGKILL)
        threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL)).start()

    out: dict = {}
    try:
        with Store(store) as st:
            if checkpoint_threshold:
                st.raw.execute(f"SET checkpoint_threshold = '{checkpoint_threshold}'")
            s = ingest(st, source, progress=progress)
        out = {"ok": True, "ingest_id": s.ingest_id, "rows_read": s.rows_read, "loaded": s.loaded,
               "already_stored": s.already_stored, "quarantined": s.quarantined, "adds_up": s.adds_up}
    except (StoreError, Exception) as exc:  # noqa: BLE001 (reported to the parent as text)
        out = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
    # written whole or not at all: a kill while writing must not leave half a result behind
    tmp = Path(result + ".part")
    tmp.write_text(json.dumps(out))
    os.replace(tmp, result)


def hold_store(store: str, ready, release) -> None:
    """Hold ``store`` open for writing until ``release`` is set (in a child process)."""
    from afterclick.store import Store

    with Store(store):
        ready.set()
        release.wait(60)


@dataclass
class Run:
    exitcode: int | None
    result: dict = field(default_factory=dict)

    @property
    def killed(self) -> bool:
        return self.exitcode == -signal.SIGKILL


def start(store: Path, source: Path, result: Path, **kw):
    p = context().Process(target=ingest_child, args=(str(store), str(source), str(result)), kwargs=kw)
    p.start()
    return p


def finish(p, result: Path) -> Run:
    p.join(120)
    if p.is_alive():
        p.kill()
        p.join()
    data = json.loads(result.read_text()) if result.exists() else {}
    return Run(p.exitcode, data)


def run(store: Path, source: Path, result: Path, **kw) -> Run:
    return finish(start(store, source, result, **kw), result)


# -- the invariant ------------------------------------------------------------------------------
def check_store(path: Path) -> dict:
    """Open ``path`` for writing (which removes unfinished ingests) and check what it promises.

    Returns counts: ``unfinished`` (ingests found without a log row on opening: rows of a killed
    ingest, now removed), ``ingests`` (in the log) and ``events`` (rows). Raises AssertionError
    when a promise is broken: every logged file adds up (read = loaded + already stored +
    quarantined); each logged ingest's stored rows are what it loaded and its quarantine rows at
    most what it quarantined; no row belongs to an ingest without a log row.
    """
    from afterclick.schemas import TABLE_NAMES
    from afterclick.store import INGEST_ID, INGEST_LOG, QUARANTINE, Store

    with Store(path) as st:
        unfinished = list(st.unfinished)
        con = st.raw
        log = con.execute(f"SELECT ingest_id, table_name, rows_read, loaded, already_stored, quarantined "
                          f"FROM {INGEST_LOG}").fetchall()
        for ingest_id, table, read, loaded, stored, quarantined in log:
            assert read == loaded + stored + quarantined, (ingest_id, table, read, loaded, stored, quarantined)
        logged = {r[0] for r in log}
        for name in TABLE_NAMES:
            by_ingest = dict(con.execute(f'SELECT {INGEST_ID}, count(*) FROM "{name}" GROUP BY 1').fetchall())
            orphans = {i for i in by_ingest if i is not None and i not in logged}
            assert not orphans, f"{name}: rows of ingests without a log row (half-committed): {orphans}"
            for ingest_id in logged:
                want = sum(r[3] for r in log if r[0] == ingest_id and r[1] == name)
                assert by_ingest.get(ingest_id, 0) == want, (name, ingest_id, by_ingest.get(ingest_id, 0), want)
        q = dict(con.execute(f"SELECT ingest_id, count(*) FROM {QUARANTINE} GROUP BY 1").fetchall())
        assert not set(q) - logged, f"quarantine rows of ingests without a log row: {set(q) - logged}"
        for ingest_id, n in q.items():
            assert n <= sum(r[5] for r in log if r[0] == ingest_id), (ingest_id, n)
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
        assert events == sum(r[3] for r in log if r[1] == "events")
    return {"unfinished": len(unfinished), "ingests": len(logged), "events": events}
