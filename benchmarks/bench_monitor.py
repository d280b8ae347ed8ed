"""Benchmark: the weekly series and judgements of every KPI with a series, against computing the
KPIs once, on the same demo store in the same run.

    python benchmarks/bench_monitor.py                  # large demo (~10M events, 78 weeks): long
    python benchmarks/bench_monitor.py --size small     # the small demo, a few minutes
    python benchmarks/bench_monitor.py --size medium --how rows   # only the series read from rows
    python benchmarks/bench_monitor.py --how recompute --kpi reach.ctr   # a sample of recomputed ones

Steps: build the demo store (cached in --work), compute every KPI once (the baseline: what a
report run does), then for every KPI with a series (:data:`SERIES_SOURCES`) build its weekly or
monthly series from the data (its per-period rows from one run, or its headline recomputed period
by period) and judge it. The figure is the ratio of the two times (machine-independent as far as
a ratio can be); per-KPI times, how each series was built, its periods and flags are kept. The
load average is noted beside each phase (the machine is shared). Results, with the machine
described, go to benchmarks/results/monitor.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_kpis import build, machine, peak_rss_gb


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def run(size: str, seed: int, work: Path, how: str, only: list[str] | None = None) -> dict:
    import afterclick
    from afterclick.monitor import judge
    from afterclick.monitor.kpi_series import SERIES_SOURCES, computed_series

    store = build(size, seed, work)
    rec: dict = {"size": size, "seed": seed, "grain": "week", "how": how, "only": only or "every KPI"}
    with afterclick.open(store, read_only=True) as ws:
        load = _load()
        t = time.perf_counter()
        results = ws.kpis()
        rec["kpis_once"] = {"seconds": round(time.perf_counter() - t, 2), "kpis": len(results),
                            "computed": sum(r.ok for r in results), "load_before": load}
        print(f"all {len(results)} KPIs once: {rec['kpis_once']['seconds']} s", flush=True)
        chosen = [k for k, s in SERIES_SOURCES.items() if (how == "all" or s.how == how) and (not only or k in only)]
        per_kpi, load, started = [], _load(), time.perf_counter()
        for k in chosen:
            t = time.perf_counter()
            try:
                series, built, _ = computed_series(ws, k)
                j = judge(series)
                row = {"kpi": k, "how": built, "grain": series.grain.value, "periods": len(series),
                       "method": j.method, "flags": len(j.flags)}
            except (ValueError, KeyError) as exc:
                row = {"kpi": k, "how": SERIES_SOURCES[k].how, "skipped": str(exc.args[0])[:120]}
            row["seconds"] = round(time.perf_counter() - t, 3)
            per_kpi.append(row)
            print(f"  {k}: {row['seconds']} s ({row.get('how')}, {row.get('periods', '-')} periods)", flush=True)
        total = time.perf_counter() - started
    judged = [r for r in per_kpi if "periods" in r]
    rec["series"] = {"seconds": round(total, 2), "kpis": len(chosen), "judged": len(judged),
                     "load_before": load, "per_kpi": per_kpi,
                     "rows_seconds": round(sum(r["seconds"] for r in judged if r["how"] == "rows"), 2),
                     "recompute_seconds": round(sum(r["seconds"] for r in judged if r["how"] == "recompute"), 2)}
    rec["ratio"] = round(total / rec["kpis_once"]["seconds"], 2)
    rec["peak_rss_gb"] = round(peak_rss_gb(), 2)
    return rec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", default="large", choices=("small", "medium", "large"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--how", default="all", choices=("all", "rows", "recompute"),
                    help="which series: all, only those read from the KPI's rows, or only recomputed ones")
    ap.add_argument("--kpi", action="append", help="only this KPI's series (repeatable): a sample on a large store")
    ap.add_argument("--work", type=Path, default=Path("/tmp/afterclick-bench"))
    ap.add_argument("--out", type=Path, default=HERE / "results" / "monitor.json")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rec = run(args.size, args.seed, args.work, args.how, args.kpi)
    rec |= {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
            "command": "python benchmarks/bench_monitor.py " + " ".join(sys.argv[1:])}
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    runs = old.get("runs", []) if isinstance(old, dict) else []
    key = ("size", "how", "only")
    runs = [r for r in runs if tuple(r.get(k) for k in key) != tuple(rec.get(k) for k in key)] + [rec]
    args.out.write_text(json.dumps({"runs": runs}, indent=2) + "\n", encoding="utf-8")
    print(f"series and judgements of {rec['series']['judged']} KPIs: {rec['series']['seconds']} s, "
          f"{rec['ratio']}x the {rec['kpis_once']['seconds']} s of computing the KPIs once; "
          f"written to {args.out}", flush=True)


if __name__ == "__main__":
    main()
