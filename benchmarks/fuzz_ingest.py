"""Long run of the store's safety trials: ingests killed at random points (many during the commit),
concurrent writers with one killed, and random bad rows; the store checked after every trial.

    python benchmarks/fuzz_ingest.py                    # 200 kills during the commit, and the rest
    python benchmarks/fuzz_ingest.py --commit-kills 50 --minutes 2

The trials are those of tests/test_store_safety.py (the machinery is tests/storefuzz.py), run
longer. After each one the store is opened for writing and checked (storefuzz.check_store): it
opens; every logged file adds up (read = loaded + already stored + quarantined); each logged
ingest's rows are what it loaded; no row belongs to an ingest without a log row (nothing
half-committed). Results (with the machine described) go to benchmarks/results/fuzz_ingest.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
sys.path.insert(0, str(HERE))

import storefuzz as sf  # noqa: E402
from bench_kpis import machine  # noqa: E402

from afterclick.store import StoreError  # noqa: E402


def outcome(found: dict, ingests_before: int) -> str:
    if found["unfinished"]:
        return "rows removed on opening"
    return "committed" if found["ingests"] > ingests_before else "rolled back"


def seeded(folder: Path, seed: int) -> Path:
    from afterclick.ingest import ingest
    from afterclick.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "s.duckdb"
    with Store(store) as st:
        ingest(st, sf.write_events(folder / "seed", sf.events_rows(random.Random(seed), 200)))
    return store


def commit_kills(work: Path, n: int, rng: random.Random, rows: int, parallel: int,
                 checkpointing: bool = False) -> dict:
    """SIGKILL at a random moment after 'saving' (the rows' COMMIT, then the log's). With
    ``checkpointing``, every commit checkpoints the store (as a commit does once DuckDB's
    write-ahead log passes 16 MB), which makes the commits last and writes the database file.

    A store DuckDB then refuses to open (a damaged file) is counted, kept aside for a look, and
    replaced by a new one."""
    tag = "ckpt" if checkpointing else "commit"
    stores = [seeded(work / f"{tag}{i}", i) for i in range(parallel)]
    ingests = dict.fromkeys(stores, 1)
    outcomes: Counter = Counter()
    damaged: list[str] = []
    kills = trial = 0
    while kills < n:
        running = []
        for i, store in enumerate(stores):
            src = sf.write_events(work / "src" / f"{tag}{trial}_{i}",
                                  sf.events_rows(random.Random(f"{tag}{trial} {i}"), rows))
            result = work / "src" / f"{tag}{trial}_{i}.json"
            running.append((i, store, result, sf.start(
                store, src, result, kill_at="saving",
                delay=rng.uniform(0, 0.12 if checkpointing else 0.04),
                checkpoint_threshold="1KB" if checkpointing else None)))
        for i, store, result, p in running:
            done = sf.finish(p, result)
            kills += done.killed
            try:
                found = sf.check_store(store)
            except StoreError as exc:
                if "Corrupt database file" not in str(exc):
                    raise
                damaged.append(str(exc).split(": ", 1)[-1])
                outcomes["store damaged (DuckDB refuses to open it)"] += 1
                for suffix in ("", ".wal"):
                    old = Path(str(store) + suffix)
                    if old.exists():
                        old.rename(old.with_name(f"damaged{trial}_{old.name}"))
                stores[i] = seeded(store.parent.parent / f"{tag}{i}_{trial}", 1000 + trial)
                ingests[stores[i]] = 1
                continue
            outcomes[outcome(found, ingests[store]) + ("" if done.killed else " (not killed)")] += 1
            ingests[store] = found["ingests"]
        trial += 1
    return {"kills": kills, "rows_per_ingest": rows, "outcomes": dict(outcomes), "damaged": damaged}


def random_kills(work: Path, n: int, rng: random.Random) -> dict:
    """A kill at any progress step, after a random delay."""
    store = seeded(work / "random", 99)
    ingests, outcomes = 1, Counter()
    for trial in range(n):
        step = rng.choice(sf.STEPS)
        src = sf.write_events(work / "src" / f"r{trial}", sf.events_rows(random.Random(f"r{trial}"), rng.randrange(1, 400),
                                                                        rng.uniform(0, 0.6)))
        done = sf.run(store, src, work / "src" / f"r{trial}.json", kill_at=step, delay=rng.uniform(0, 0.05))
        found = sf.check_store(store)
        outcomes[f"{step}: {outcome(found, ingests)}"] += 1
        ingests = found["ingests"]
        assert done.killed or done.result.get("ok"), done
    return {"trials": n, "outcomes": dict(sorted(outcomes.items()))}


def concurrent(work: Path, n: int, rng: random.Random) -> dict:
    """Three writers at once into one store (new the first time), one of them killed at random."""
    store = work / "concurrent" / "s.duckdb"
    store.parent.mkdir(parents=True)
    outcomes: Counter = Counter()
    for trial in range(n):
        victim = rng.randrange(3)
        running = []
        for i in range(3):
            src = sf.write_events(work / "src" / f"w{trial}_{i}", sf.events_rows(random.Random(f"w{trial} {i}"), 300, 0.3))
            kw = {"kill_at": rng.choice(sf.STEPS), "delay": rng.uniform(0, 0.05)} if i == victim else {}
            result = work / "src" / f"w{trial}_{i}.json"
            running.append((i, result, sf.start(store, src, result, **kw)))
        for i, result, p in running:
            done = sf.finish(p, result)
            if i != victim:
                assert done.result.get("ok"), done  # the others waited their turn and went in
            outcomes["killed" if done.killed else "finished"] += 1
        sf.check_store(store)
    return {"trials": n, "writers": 3 * n, "outcomes": dict(outcomes)}


def bad_rows(work: Path, n: int, rng: random.Random) -> dict:
    from afterclick.ingest import IngestError, ingest
    from afterclick.store import Store

    store = work / "bad" / "s.duckdb"
    store.parent.mkdir(parents=True)
    totals: Counter = Counter()
    for trial in range(n):
        src = sf.write_events(work / "src" / f"b{trial}", sf.events_rows(random.Random(f"b{trial}"), rng.randrange(1, 500),
                                                                        rng.uniform(0, 0.8)))
        with Store(store) as st:
            try:
                s = ingest(st, src)
            except IngestError:
                totals["refused"] += 1
                continue
        assert s.adds_up
        totals.update(read=s.rows_read, loaded=s.loaded, already_stored=s.already_stored, quarantined=s.quarantined)
        sf.check_store(store)
    return {"ingests": n, "rows": dict(totals)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--commit-kills", type=int, default=300)
    ap.add_argument("--checkpoint-kills", type=int, default=300,
                    help="kills during commits that checkpoint the store")
    ap.add_argument("--random-kills", type=int, default=100)
    ap.add_argument("--concurrent", type=int, default=30)
    ap.add_argument("--bad-rows", type=int, default=100)
    ap.add_argument("--rows", type=int, default=300, help="rows per ingest in the commit kills")
    ap.add_argument("--parallel", type=int, default=2, help="stores killed at once")
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--out", type=Path, default=HERE / "results" / "fuzz_ingest.json")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    started = time.perf_counter()
    result: dict = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
                    "seed": args.seed, "broken_promises": []}
    with tempfile.TemporaryDirectory(prefix="fuzz-ingest-") as tmp:
        work = Path(tmp)
        for name, fn, fn_args in (("commit_kills", commit_kills, (args.commit_kills, rng, args.rows, args.parallel)),
                                  ("checkpointing_commit_kills", commit_kills,
                                   (args.checkpoint_kills, rng, args.rows, args.parallel, True)),
                                  ("random_kills", random_kills, (args.random_kills, rng)),
                                  ("concurrent_writers", concurrent, (args.concurrent, rng)),
                                  ("bad_rows", bad_rows, (args.bad_rows, rng))):
            t = time.perf_counter()
            try:
                result[name] = fn(work, *fn_args)
            except AssertionError:
                result["broken_promises"].append({"trial": name, "error": traceback.format_exc(limit=3)})
            if name in result:
                result[name]["seconds"] = round(time.perf_counter() - t, 1)
            print(name, json.dumps(result.get(name)), flush=True)
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    damaged = sum(len(result.get(k, {}).get("damaged", [])) for k in ("commit_kills", "checkpointing_commit_kills"))
    broken = bool(result["broken_promises"] or damaged)
    print(f"{'no promise broken' if not broken else 'BROKEN: see ' + str(args.out)}"
          f"{f' ({damaged} store(s) damaged by a kill inside a DuckDB checkpoint)' if damaged else ''}; "
          f"{result['seconds']} s; written to {args.out}")
    sys.exit(1 if broken else 0)


if __name__ == "__main__":
    main()
