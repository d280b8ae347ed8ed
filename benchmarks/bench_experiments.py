"""Benchmark: analysing one experiment against the bare scans of the tables it reads.

    python benchmarks/bench_experiments.py                 # large demo (~10M events)
    python benchmarks/bench_experiments.py --size medium   # quicker

Steps: build the demo brand (cached in --work; ``bench_kpis.build``) and ingest it. Its
``banner-split`` experiment assigns everyone the brand reached, impressions included (about
1.16M customers on the large demo). If the chosen experiment has fewer than --assigned
customers, a ``bench-1m`` experiment is written beside it (in a copy of the store) that assigns
--assigned customers drawn from the events' people, and new ids when the demo
has fewer (those have no events). Then, in turns (--repeat times, the run with the median of each counts; a shared
machine's speed drifts between runs):

  * analysis — ``afterclick.analysis.experiments.analyse(store, experiment_id)``: every
    metric (the 14 of ``METRICS``: CTR, clicks, 7/30/90-day return, the return curve, active
    weeks, ladder step-up, deep interactions, repeat purchase, revenue, predicted CLV, NPS and
    CSAT), CUPED, caps, SRM, Holm and the verdict;
  * scan — DuckDB merely reading the columns the analysis reads (``SELECT bit_xor(hash(c))``
    per table), the floor no engine can beat. The columns are not written down by hand: one
    untimed analysis runs first with every query it executes watched, and each query's plan
    (``EXPLAIN``) names the stored columns it scans, as ``bench_kpis.columns_read`` does for
    the KPI benchmark;
  * join floor — the cheapest query that measures anything per assigned customer since the
    assignment: every event of the experiment's customers joined to the assignment and counted
    per customer (one aggregate). No per-customer metric can cost less on the same engine, so
    ``floor / scan`` says how far under the goal's 3x any exact analysis can go.

The goal is analysis ≤ 3 × scan. Results, with the machine and the 1-minute load average,
go to benchmarks/results/experiments.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_kpis import build, columns_read, machine, peak_rss_gb

HERE = Path(__file__).resolve().parent
GOAL_RATIO = 3.0
FLOOR_SQL = """SELECT count(*), sum(n) FROM (
  SELECT a.customer_id, count(*) FILTER (WHERE e.ts >= a.ts) AS n
  FROM assignments AS a JOIN events AS e ON a.customer_id = e.customer_id
  WHERE a.experiment_id = ? GROUP BY a.customer_id)"""


def columns_used(st, eid: str) -> dict[str, list[str]]:
    """The stored columns scanned by the plans of every query one analysis of ``eid`` runs
    (each executed or cached Ibis expression is explained before it runs)."""
    import ibis.expr.types as ir

    from afterclick.analysis.experiments import analyse

    seen: dict[str, set[str]] = {}

    def watch(fn):
        def run(self, *args, **kwargs):
            for table, names in columns_read(self._find_backend(), self).items():
                seen.setdefault(table, set()).update(names)
            return fn(self, *args, **kwargs)
        return run

    saved = ir.Expr.execute, ir.Table.cache
    ir.Expr.execute, ir.Table.cache = watch(saved[0]), watch(saved[1])
    try:
        analyse(st, eid)
    finally:
        ir.Expr.execute, ir.Table.cache = saved
    return {t: sorted(c) for t, c in sorted(seen.items()) if c}  # a bare count reads no column


def scan(con, reads: dict[str, list[str]]) -> float:
    t = time.perf_counter()
    for table, cols in reads.items():
        hashed = ", ".join(f'bit_xor(hash("{c}"))' for c in cols)
        con.execute(f'SELECT {hashed} FROM "{table}"').fetchall()
    return time.perf_counter() - t


def join_floor(con, eid: str) -> float:
    t = time.perf_counter()
    con.execute(FLOOR_SQL, [eid]).fetchall()
    return time.perf_counter() - t


def with_million(store: Path, experiment: str, n: int, seed: int) -> tuple[Path, str]:
    """The store itself when ``experiment`` has ``n`` assigned, else a copy with ``bench-1m``."""
    import duckdb
    import numpy as np
    import pandas as pd

    from afterclick.ingest import ingest

    con = duckdb.connect(str(store), read_only=True)
    have = con.execute("SELECT count(*) FROM assignments WHERE experiment_id = ?", [experiment]).fetchone()[0]
    people = con.execute("SELECT DISTINCT customer_id FROM events ORDER BY 1").df()["customer_id"]
    con.close()
    if have >= n:
        return store, experiment
    copy = store.with_name(store.stem + "-1m.duckdb")
    if not copy.exists():
        rng = np.random.default_rng(seed)
        ids = [*people.to_numpy()[rng.permutation(len(people))[:n]],
               *(f"bench-{k}" for k in range(max(0, n - len(people))))]  # people with no events
        frame = pd.DataFrame({"experiment_id": "bench-1m", "customer_id": ids,
                              "variant": np.where(rng.random(n) < 0.5, "A", "B"),
                              "ts": pd.Timestamp("2026-05-01", tz="UTC")
                              + pd.to_timedelta(rng.integers(0, 14 * 86400, n), unit="s")})
        src = copy.with_suffix(".src")
        src.mkdir(exist_ok=True)
        frame.to_parquet(src / "assignments.parquet", index=False)
        shutil.copy(store, copy)
        from afterclick.store import Store

        with Store(copy) as st:
            ingest(st, src)
    return copy, "bench-1m"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="large", choices=["small", "medium", "large"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--experiment", default="banner-split")
    ap.add_argument("--assigned", type=int, default=1_000_000,
                    help="customers the analysed experiment should have (a bench experiment is "
                         "added when the demo's has fewer)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "afterclick-bench")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "experiments.json")
    args = ap.parse_args()

    from afterclick.analysis.experiments import METRICS, analyse
    from afterclick.store import Store

    args.work.mkdir(parents=True, exist_ok=True)
    store, eid = with_million(build(args.size, args.seed, args.work), args.experiment,
                              args.assigned, args.seed)
    runs: list[dict] = []
    with Store(store, read_only=True) as st:
        n = st.raw.execute("SELECT count(*) FROM assignments WHERE experiment_id = ?", [eid]).fetchone()[0]
        events = st.raw.execute("SELECT count(*) FROM events").fetchone()[0]
        reads = columns_used(st, eid)  # an untimed analysis: it warms the file cache too
        print(f"columns read: {reads}", flush=True)
        for i in range(args.repeat):
            t = time.perf_counter()
            result = analyse(st, eid)
            a = time.perf_counter() - t
            s, f = scan(st.raw, reads), join_floor(st.raw, eid)
            runs.append({"analysis_s": round(a, 3), "scan_s": round(s, 3), "join_floor_s": round(f, 3),
                         "ratio": round(a / s, 2), "floor_ratio": round(f / s, 2),
                         "load_avg_1min": round(os.getloadavg()[0], 2)})
            print(f"run {i + 1}: analysis {a:.2f} s, scan {s:.2f} s, join floor {f:.2f} s, "
                  f"ratio {a / s:.2f} (floor {f / s:.2f}), load {os.getloadavg()[0]:.1f}", flush=True)
    analysis_s = statistics.median(r["analysis_s"] for r in runs)
    scan_s = statistics.median(r["scan_s"] for r in runs)
    floor_s = statistics.median(r["join_floor_s"] for r in runs)
    e = result.experiments[0]
    out = {
        "benchmark": "experiment analysis vs bare scans of the tables it reads",
        "command": f"python benchmarks/bench_experiments.py --size {args.size}",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "demo": {"size": args.size, "seed": args.seed, "events": int(events)},
        "experiment": eid, "assigned": int(n), "metrics": len(METRICS),
        "tested": sum(1 for r in e.results if r.comparison is not None and r.comparison.ok),
        "columns_scanned": reads,
        "runs": runs, "analysis_s": analysis_s, "scan_s": scan_s, "join_floor_s": floor_s,
        "ratio": round(analysis_s / scan_s, 2), "floor_ratio": round(floor_s / scan_s, 2),
        "analysis_vs_floor": round(analysis_s / floor_s, 2), "goal_ratio_max": GOAL_RATIO,
        "goal_met": analysis_s / scan_s <= GOAL_RATIO, "peak_rss_gb": round(peak_rss_gb(), 2),
        "verdict": e.verdict,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    print(f"analysis {analysis_s:.2f} s against scans {scan_s:.2f} s: ratio {out['ratio']} "
          f"(goal ≤ {GOAL_RATIO}; the join floor alone {out['floor_ratio']}); written to {args.out}")


if __name__ == "__main__":
    main()
