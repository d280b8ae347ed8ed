"""Every KPI of a demo store on a Spark standalone cluster (a master and two workers on 127.0.0.1,
started from the scripts in the pyspark wheel), against the same KPIs on DuckDB in the same run.

    python benchmarks/bench_cluster.py                   # medium demo
    python benchmarks/bench_cluster.py --size small

Records, in benchmarks/results/cluster-<size>.json: how many KPIs computed on each side, how many
equal (values to 1e-9 relative, intervals, row counts), the ones that differ, both wall times, the
cluster's start-up and staging time, and the machine with its load average.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

from sparkcluster import cluster_state, standalone_cluster

CONF = {"spark.sql.shuffle.partitions": "2", "spark.sql.adaptive.enabled": "false",
        "spark.executor.memory": "1g", "spark.driver.memory": "2g"}


def build(size: str, seed: int, work: Path) -> Path:
    from afterclick.demo import write_demo
    from afterclick.ingest import ingest
    from afterclick.store import Store

    store = work / f"demo-{size}-{seed}.duckdb"
    if not store.exists():
        write_demo(work / f"demo-{size}-{seed}", size=size, seed=seed)
        with Store(store) as st:
            ingest(st, work / f"demo-{size}-{seed}")
    return store


def records(ws) -> tuple[dict, float]:
    started = time.perf_counter()
    out = {r.id: r for r in ws.kpis()}
    return out, time.perf_counter() - started


def same(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="medium", choices=["small", "medium"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path("/tmp/afterclick-bench"))
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    import afterclick
    from afterclick.backends import spark_workspace, stop_spark
    from afterclick.store import Store

    store = build(args.size, args.seed, args.work)
    with afterclick.open(store, read_only=True) as ws:
        duck, duck_s = records(ws)
    with standalone_cluster(args.work / "cluster") as (master, ui):
        started = time.perf_counter()
        sw = spark_workspace(Store(store, read_only=True), master, conf=CONF)
        staged_s = time.perf_counter() - started
        with sw:
            spark, spark_s = records(sw)
        stop_spark()
        apps = cluster_state(ui)["completedapps"]
    differ = {}
    for kpi_id, d in duck.items():
        s = spark[kpi_id]
        if d.status != s.status:
            differ[kpi_id] = f"{d.status.value} on DuckDB, {s.status.value} on Spark: {s.reason or d.reason}"
        elif d.ok and not (same(d.value, s.value) and all(same(x, y) for x, y in zip(d.ci or (), s.ci or ()))
                           and len(d.rows if d.rows is not None else ()) == len(s.rows if s.rows is not None else ())):
            differ[kpi_id] = f"value {d.value!r} on DuckDB, {s.value!r} on Spark"
    result = {
        "what": f"every KPI of the {args.size} demo (seed {args.seed}) on DuckDB and on a Spark standalone "
                "cluster of one master and two workers (1 core, 1 GB each) on 127.0.0.1",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "load_average_1m_at_end": os.getloadavg()[0]},
        "kpis": len(duck),
        "computed_duckdb": sum(r.ok for r in duck.values()),
        "computed_spark": sum(r.ok for r in spark.values()),
        "equal": len(duck) - len(differ),
        "differ": differ,
        "seconds": {"duckdb_kpis": round(duck_s, 1), "spark_session_and_staging": round(staged_s, 1),
                    "spark_kpis": round(spark_s, 1)},
        "spark_over_duckdb": round(spark_s / duck_s, 1),
        "applications": [{"name": a["name"], "cores": a["cores"], "seconds": a["duration"] / 1000} for a in apps],
    }
    out = HERE / "results" / f"cluster-{args.size}.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "differ"}, indent=2))
    print(f"{len(differ)} differ; written to {out}")


if __name__ == "__main__":
    main()
