"""Scale curve of the KPI engine: every KPI at about 1M, 10M and 50M events, time and peak memory.

    python benchmarks/bench_kpis_scale.py                     # medium, large, large ×6
    python benchmarks/bench_kpis_scale.py --copies 2          # a quicker top point (~19M events)

The 1M and 10M points are the medium and large demo brands (benchmarks/bench_kpis.py builds and
caches them). The demo generator holds a brand in pandas before ingesting it, which at 50M events
would need more memory than this machine has, so the top point is the large brand's store
replicated: ``--copies`` copies of its people (every table about people: events, customers,
transactions, survey answers, messages, experiment assignments), each copy's people, sessions,
orders, answers and messages renamed apart (``~1``, ``~2``… appended), over the same dates,
campaigns, content and experiments. It is the large brand with six times the audience: the same
shape, so the time per event should stay flat if the engine scales linearly.

At each point the engine phase (every KPI, derived tables prepared first and timed apart) and the
scan phase of bench_kpis run once each, each in its own child process for its own peak memory.
Results, with the machine and the 1-minute load average at each point, go to
benchmarks/results/kpis-scale.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_kpis import HERE, build, machine, run_child

#: The tables about people that a copy repeats, and in each the columns renamed per copy (those
#: naming a person, session, order, answer or message). Campaigns, content and experiments are
#: shared by every copy, as are the dates.
PEOPLE_TABLES = {
    "events": ("customer_id", "session_id"),
    "customers": ("customer_id",),
    "transactions": ("order_id", "customer_id", "refund_of"),
    "responses": ("response_id", "customer_id"),
    "messages": ("message_id", "author_id", "parent_id"),
    "assignments": ("customer_id",),
}
#: Growth against the events, from one point to the next, allowed by "no worse than linear".
GOALS = {"time_per_event_growth_max": 1.0, "peak_rss_gb_max": 8.0}


def replicate(source: Path, copies: int) -> Path:
    """A copy of the store ``source`` holding ``copies`` copies of its people (see the module)."""
    import duckdb

    from afterclick.store.keys import KEYED_TABLES, assign_keys
    from afterclick.store.tables import CUSTOMER_KEY

    out = source.with_name(f"{source.stem}-x{copies}.duckdb")
    if out.exists():
        from afterclick.store import Store

        with Store(out):  # opened for writing once: one kept from an older version is brought up to date
            pass
        return out
    started = time.perf_counter()
    partial = out.with_suffix(".partial")
    shutil.copyfile(source, partial)
    with duckdb.connect(str(partial)) as con:
        for table, renamed in PEOPLE_TABLES.items():
            cols = [c for (c,) in con.execute(f"SELECT column_name FROM duckdb_columns() "
                                              f"WHERE table_name = '{table}' ORDER BY column_index").fetchall()]
            picked = ", ".join(f"\"{c}\" || '~' || r::VARCHAR AS \"{c}\"" if c in renamed
                               else "NULL" if c == CUSTOMER_KEY else f'"{c}"' for c in cols)
            con.execute(f'CREATE TEMP TABLE one AS SELECT * FROM "{table}"')
            con.execute(f'INSERT INTO "{table}" SELECT {picked} FROM one CROSS JOIN range(1, {copies}) AS c(r)')
            con.execute("DROP TABLE one")
            if table in KEYED_TABLES and CUSTOMER_KEY in cols:  # the copies are new people: new keys
                assign_keys(con, table)
        con.execute("CHECKPOINT")
    partial.rename(out)
    print(f"replicated {source.name} ×{copies} in {time.perf_counter() - started:.0f} s", flush=True)
    return out


def point(store: Path, label: str) -> dict:
    import duckdb

    with duckdb.connect(str(store), read_only=True) as con:
        events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    load = os.getloadavg()[0]
    print(f"{label}: {events:,} events, timing every KPI and the bare scans…", flush=True)
    engine, scan = run_child("engine", store, "all"), run_child("scan", store, "all")
    ids = [k for k, e in engine["kpis"].items() if e["status"] == "computed" and k in scan["kpis"]]
    engine_s = sum(engine["kpis"][k]["seconds"] for k in ids)
    scan_s = sum(scan["kpis"][k]["seconds"] for k in ids)
    return {
        "point": label, "events": events, "kpis": len(ids),
        "engine_s": round(engine_s, 2), "scan_s": round(scan_s, 2),
        "engine_vs_scan": round(engine_s / scan_s, 2),
        "derived_tables_s": {k: round(v, 2) for k, v in engine["derived_s"].items()},
        "engine_us_per_event": round(engine_s / events * 1e6, 3),
        "engine_peak_rss_gb": round(engine["peak_rss_gb"], 2),
        "scan_peak_rss_gb": round(scan["peak_rss_gb"], 2),
        "load_average_1min": {"before": round(load, 2), "after": round(os.getloadavg()[0], 2)},
        "slowest": sorted(((k, round(engine["kpis"][k]["seconds"], 2)) for k in ids), key=lambda x: -x[1])[:5],
    }


def growth(points: list[dict]) -> dict:
    """From each point to the next: how much more events, engine time and time per event."""
    steps = []
    for a, b in zip(points, points[1:]):
        steps.append({"from": a["point"], "to": b["point"], "events_x": round(b["events"] / a["events"], 2),
                      "engine_time_x": round(b["engine_s"] / a["engine_s"], 2),
                      "time_per_event_x": round(b["engine_us_per_event"] / a["engine_us_per_event"], 2)})
    return {
        "steps": steps,
        "goals": {
            "time grows no worse than linearly":
                all(s["time_per_event_x"] <= GOALS["time_per_event_growth_max"] for s in steps),
            "peak memory under 8 GB at the top point": points[-1]["engine_peak_rss_gb"] < GOALS["peak_rss_gb_max"],
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("TMPDIR", "/tmp")) / "afterclick-bench")
    ap.add_argument("--copies", type=int, default=6,
                    help="copies of the large brand's people in the top point (6: ~56M events)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "kpis-scale.json")
    args = ap.parse_args()
    if args.copies < 2:
        ap.error(f"--copies must be 2 or more (got {args.copies}): one copy is the large point itself")

    args.work.mkdir(parents=True, exist_ok=True)
    medium, large = build("medium", args.seed, args.work), build("large", args.seed, args.work)
    top = replicate(large, args.copies)
    points = [point(medium, "medium"), point(large, "large"), point(top, f"large x{args.copies}")]
    result = {"benchmark": "kpis-scale", "scope": "all", "seed": args.seed,
              "when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
              "points": points, **growth(points)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({"points": points, **growth(points)}, indent=2))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
